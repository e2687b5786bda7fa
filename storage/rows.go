package storage

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/edufund/edufund/catalog"
	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/funding"
)

// Private row structs: the domain types carry no tags.

type certificateRow struct {
	bun.BaseModel `bun:"table:certificates"`

	ID                 uuid.UUID `bun:"id,pk"`
	Number             string    `bun:"number"`
	Scheme             string    `bun:"scheme"`
	PersonID           string    `bun:"person_id"`
	FullName           string    `bun:"full_name"`
	BirthDate          dbDate    `bun:"birth_date"`
	Sex                string    `bun:"sex"`
	Citizenship        string    `bun:"citizenship"`
	Education          string    `bun:"education"`
	Region             string    `bun:"region"`
	HolderMunicipality string    `bun:"holder_municipality"`
	Registration       string    `bun:"registration"`
	GuardianID         string    `bun:"guardian_id"`
	Municipality       string    `bun:"municipality"`
	Category           string    `bun:"category"`
	Kind               string    `bun:"kind"`
	Status             string    `bun:"status"`
	IssuedOn           dbDate    `bun:"issued_on"`
	ValidUntil         dbDate    `bun:"valid_until"`
	ProtectionMode     string    `bun:"protection_mode"`
	PassphraseHash     string    `bun:"passphrase_hash"`
	FailedAttempts     int       `bun:"failed_attempts"`
	LockedUntil        dbTime    `bun:"locked_until"`
	DocsDueFrom        dbDate    `bun:"documents_due_from"`
	DocsUploadedOn     dbDate    `bun:"documents_uploaded_on"`
	DocsValidReason    string    `bun:"documents_valid_reason"`
	UniqYear           int       `bun:"uniq_year"`
}

// uniqYear is the third part of the one-per-person rule: 0 for the
// children's scheme, the year of issue for the adult one.
func uniqYear(c certificate.Certificate) int {
	if c.Scheme == certificate.DigitalSkills && !c.IssuedOn.IsZero() {
		return c.IssuedOn.Year()
	}
	return 0
}

func toCertificateRow(c certificate.Certificate) *certificateRow {
	h := c.Holder
	return &certificateRow{
		ID:                 c.ID,
		Number:             string(c.Number),
		Scheme:             string(c.Scheme),
		PersonID:           h.PersonID,
		FullName:           h.FullName,
		BirthDate:          dbDate(h.BirthDate),
		Sex:                string(h.Sex),
		Citizenship:        h.Citizenship,
		Education:          string(h.Education),
		Region:             h.Region,
		HolderMunicipality: h.Municipality,
		Registration:       string(h.Registration),
		GuardianID:         c.GuardianID,
		Municipality:       c.Municipality,
		Category:           c.Category,
		Kind:               string(c.Kind),
		Status:             string(c.Status),
		IssuedOn:           dbDate(c.IssuedOn),
		ValidUntil:         dbDate(c.ValidUntil),
		ProtectionMode:     string(c.Protection.Mode),
		PassphraseHash:     c.Protection.PassphraseHash,
		FailedAttempts:     c.Protection.FailedAttempts,
		LockedUntil:        dbTime(c.Protection.LockedUntil),
		DocsDueFrom:        dbDate(c.Documents.DueFrom),
		DocsUploadedOn:     dbDate(c.Documents.UploadedOn),
		DocsValidReason:    c.Documents.ValidReason,
		UniqYear:           uniqYear(c),
	}
}

func (r *certificateRow) domain() certificate.Certificate {
	return certificate.Certificate{
		ID:     r.ID,
		Number: certificate.Number(r.Number),
		Scheme: certificate.Scheme(r.Scheme),
		Holder: certificate.Holder{
			PersonID:     r.PersonID,
			FullName:     r.FullName,
			BirthDate:    funding.Date(r.BirthDate),
			Sex:          certificate.Sex(r.Sex),
			Citizenship:  r.Citizenship,
			Education:    certificate.Education(r.Education),
			Region:       r.Region,
			Municipality: r.HolderMunicipality,
			Registration: certificate.Registration(r.Registration),
		},
		GuardianID:   r.GuardianID,
		Municipality: r.Municipality,
		Category:     r.Category,
		Kind:         certificate.Kind(r.Kind),
		Status:       certificate.Status(r.Status),
		IssuedOn:     funding.Date(r.IssuedOn),
		ValidUntil:   funding.Date(r.ValidUntil),
		Protection: certificate.Protection{
			Mode:           certificate.ProtectionMode(r.ProtectionMode),
			PassphraseHash: r.PassphraseHash,
			FailedAttempts: r.FailedAttempts,
			LockedUntil:    time.Time(r.LockedUntil),
		},
		Documents: certificate.Documents{
			DueFrom:     funding.Date(r.DocsDueFrom),
			UploadedOn:  funding.Date(r.DocsUploadedOn),
			ValidReason: r.DocsValidReason,
		},
	}
}

type categoryRow struct {
	bun.BaseModel `bun:"table:categories"`

	Code     string `bun:"code,pk"`
	Nominal  int64  `bun:"nominal"`
	MaxCount int    `bun:"max_count"`
	MaxSum   int64  `bun:"max_sum"`
}

func toCategoryRow(c certificate.Category) (*categoryRow, error) {
	var k kopecks
	r := &categoryRow{
		Code:     c.Code,
		Nominal:  k.of("nominal", c.Nominal),
		MaxCount: c.MaxCount,
		MaxSum:   k.of("max_sum", c.MaxSum),
	}
	return r, k.err
}

func (r *categoryRow) domain() certificate.Category {
	return certificate.Category{
		Code:     r.Code,
		Nominal:  money(r.Nominal),
		MaxCount: r.MaxCount,
		MaxSum:   money(r.MaxSum),
	}
}

// accountRow is an account as stored, with the split of its held money
// that the statements reading it derive from its holds (accountSelect).
type accountRow struct {
	bun.BaseModel `bun:"table:accounts"`

	CertificateID uuid.UUID `bun:"certificate_id,pk"`
	PeriodStart   dbDate    `bun:"period_start,pk"`
	PeriodEnd     dbDate    `bun:"period_end"`
	Nominal       int64     `bun:"nominal"`
	Balance       int64     `bun:"balance"`
	Held          int64     `bun:"held"` // reserved + spent
	Depleted      int64     `bun:"depleted"`
	Expired       int64     `bun:"expired"`
	Fixed         bool      `bun:"fixed"`

	// Reserved is what the account's holds have open; HoldsHeld what they
	// took and have not given back, which equals Held unless the read
	// raced a commit (see settled).
	Reserved  int64 `bun:"reserved,scanonly"`
	HoldsHeld int64 `bun:"holds_held,scanonly"`
}

// Every read of accounts derives an account's reserve from its holds, and
// what its holds took and have not given back, to check held against it
// (settled). A charge moves money from reserved to spent inside a hold and
// leaves the account's row alone; reserve, release and refund change held
// with the hold. The reads are accountSelect + " FROM " + accountFrom
// (a is the account) on SQLite, and the pg forms on PostgreSQL, where one
// scan of the holds gives both sums. CAST: PostgreSQL's sum of bigints is a
// numeric.
const (
	accountStored = `a.certificate_id, a.period_start, a.period_end, a.nominal, a.balance, a.held, a.depleted, a.expired, a.fixed`

	holdsReserved  = `CAST(coalesce(sum(h.amount - h.charged - h.released), 0) AS bigint)`
	holdsHeld      = `CAST(coalesce(sum(h.amount - h.released - h.refunded), 0) AS bigint)`
	holdsOfAccount = `FROM holds h WHERE h.certificate_id = a.certificate_id AND h.period_start = a.period_start`

	accountSelect = accountStored + `, (SELECT ` + holdsReserved + ` ` + holdsOfAccount + `) AS reserved, (SELECT ` + holdsHeld + ` ` + holdsOfAccount + `) AS holds_held`
	accountFrom   = `accounts a`

	pgAccountSelect = accountStored + `, s.reserved, s.holds_held`
	pgAccountFrom   = `accounts a CROSS JOIN LATERAL (SELECT ` + holdsReserved + ` AS reserved, ` + holdsHeld + ` AS holds_held ` + holdsOfAccount + `) s`
)

// accountRereads bounds how often a read of accounts is repeated while
// one is not settled.
const accountRereads = 3

// settled reports whether the account's held equals its holds'. On
// PostgreSQL at READ COMMITTED a statement that waits for a row lock reads
// the row's newest version but evaluates its subqueries in the snapshot
// it started with: a reserve committed during the wait is in held and not
// in the holds read. Repeated under the lock, the statement sees both. An
// account that stays unsettled breaks the ledger's invariant.
func (r *accountRow) settled() error {
	if r.HoldsHeld != r.Held {
		return fmt.Errorf("storage: account %s@%s: held %d, its holds %d: %w",
			r.CertificateID, funding.Date(r.PeriodStart), r.Held, r.HoldsHeld, errUnsettled)
	}
	return nil
}

// errUnsettled is an account whose held differs from its holds'.
var errUnsettled = errors.New("account differs from its holds")

// unsettled is the first account of rs that is not settled.
func unsettled(rs []accountRow) error {
	for i := range rs {
		if err := rs[i].settled(); err != nil {
			return err
		}
	}
	return nil
}

// readSettled runs read, a read of accounts under their locks, again while
// one it returns is not settled, at most accountRereads times.
func readSettled(read func() ([]accountRow, error)) ([]accountRow, error) {
	var err error
	for range accountRereads {
		var rs []accountRow
		if rs, err = read(); err != nil {
			return nil, err
		}
		if err = unsettled(rs); err == nil {
			return rs, nil
		}
	}
	return nil, err
}

func toAccountRow(a enrollment.AccountState) (*accountRow, error) {
	var k kopecks
	r := &accountRow{
		CertificateID: a.CertificateID,
		PeriodStart:   dbDate(a.Period.Start),
		PeriodEnd:     dbDate(a.Period.End),
		Nominal:       k.of("nominal", a.Account.Nominal),
		Balance:       k.of("balance", a.Account.Balance),
		Held:          k.of("held", a.Account.Reserved.Add(a.Account.Spent)),
		Depleted:      k.of("depleted", a.Account.Depleted),
		Expired:       k.of("expired", a.Account.Expired),
		Fixed:         a.Fixed,
	}
	return r, k.err
}

func (r *accountRow) domain() enrollment.AccountState {
	return enrollment.AccountState{
		CertificateID: r.CertificateID,
		Period:        funding.Period{Start: funding.Date(r.PeriodStart), End: funding.Date(r.PeriodEnd)},
		Account: funding.Account{
			Nominal:  money(r.Nominal),
			Balance:  money(r.Balance),
			Reserved: money(r.Reserved),
			Spent:    money(r.Held - r.Reserved),
			Depleted: money(r.Depleted),
			Expired:  money(r.Expired),
		},
		Fixed: r.Fixed,
	}
}

type holdRow struct {
	bun.BaseModel `bun:"table:holds"`

	ID            uuid.UUID `bun:"id,pk"`
	CertificateID uuid.UUID `bun:"certificate_id"`
	PeriodStart   dbDate    `bun:"period_start"`
	Amount        int64     `bun:"amount"`
	Charged       int64     `bun:"charged"`
	Released      int64     `bun:"released"`
	Refunded      int64     `bun:"refunded"`
}

func toHoldRow(certificateID uuid.UUID, p funding.Period, h funding.Hold) (*holdRow, error) {
	var k kopecks
	r := &holdRow{
		ID:            h.ID,
		CertificateID: certificateID,
		PeriodStart:   dbDate(p.Start),
		Amount:        k.of("amount", h.Amount),
		Charged:       k.of("charged", h.Charged),
		Released:      k.of("released", h.Released),
		Refunded:      k.of("refunded", h.Refunded),
	}
	return r, k.err
}

func (r *holdRow) domain() funding.Hold {
	return funding.Hold{
		ID:       r.ID,
		Amount:   money(r.Amount),
		Charged:  money(r.Charged),
		Released: money(r.Released),
		Refunded: money(r.Refunded),
	}
}

type postingRow struct {
	bun.BaseModel `bun:"table:postings"`

	ID            uuid.UUID `bun:"id,pk"`
	CertificateID uuid.UUID `bun:"certificate_id"`
	PeriodStart   dbDate    `bun:"period_start"`
	PeriodEnd     dbDate    `bun:"period_end"`
	Kind          string    `bun:"kind"`
	Amount        int64     `bun:"amount"`
	HoldID        nullUUID  `bun:"hold_id"`
	ContractID    nullUUID  `bun:"contract_id"`
	Month         dbMonth   `bun:"month"`
	At            dbTime    `bun:"at"`
	Actor         string    `bun:"actor"`
	Rule          string    `bun:"rule"`
	Params        string    `bun:"params"`
}

func toPostingRow(p enrollment.PostingRecord) (*postingRow, error) {
	var k kopecks
	params := "{}"
	if len(p.Params) > 0 {
		b, err := json.Marshal(p.Params)
		if err != nil {
			return nil, fmt.Errorf("storage: posting params: %w", err)
		}
		params = string(b)
	}
	if p.At.IsZero() {
		return nil, fmt.Errorf("storage: posting %s has no time", p.ID)
	}
	r := &postingRow{
		ID:            p.ID,
		CertificateID: p.CertificateID,
		PeriodStart:   dbDate(p.Period.Start),
		PeriodEnd:     dbDate(p.Period.End),
		Kind:          string(p.Posting.Kind),
		Amount:        k.of("amount", p.Posting.Amount),
		HoldID:        nullUUID(p.Posting.HoldID),
		ContractID:    nullUUID(p.ContractID),
		Month:         dbMonth(p.Month),
		At:            dbTime(p.At),
		Actor:         p.Actor,
		Rule:          p.Rule,
		Params:        params,
	}
	return r, k.err
}

func (r *postingRow) domain() (enrollment.PostingRecord, error) {
	var params map[string]string
	if r.Params != "" && r.Params != "{}" {
		if err := json.Unmarshal([]byte(r.Params), &params); err != nil {
			return enrollment.PostingRecord{}, fmt.Errorf("storage: posting %s params: %w", r.ID, err)
		}
	}
	return enrollment.PostingRecord{
		ID:            r.ID,
		CertificateID: r.CertificateID,
		Period:        funding.Period{Start: funding.Date(r.PeriodStart), End: funding.Date(r.PeriodEnd)},
		Posting: funding.Posting{
			Kind:   funding.PostingKind(r.Kind),
			Amount: money(r.Amount),
			HoldID: uuid.UUID(r.HoldID),
		},
		ContractID: uuid.UUID(r.ContractID),
		Month:      funding.Month(r.Month),
		At:         time.Time(r.At),
		Actor:      r.Actor,
		Rule:       r.Rule,
		Params:     params,
	}, nil
}

type counterRow struct {
	bun.BaseModel `bun:"table:counters"`

	Key  string `bun:"key,pk"`
	Used int64  `bun:"used"`
	Lim  int64  `bun:"lim"`
}

type providerRow struct {
	bun.BaseModel `bun:"table:providers"`

	ID             uuid.UUID `bun:"id,pk"`
	Name           string    `bun:"name"`
	INN            string    `bun:"inn"`
	Municipality   string    `bun:"municipality"`
	EnrolmentLimit int       `bun:"enrolment_limit"`
}

type agreementRow struct {
	bun.BaseModel `bun:"table:agreements"`

	ProviderID   uuid.UUID `bun:"provider_id,pk"`
	Municipality string    `bun:"municipality,pk"`
	PeriodStart  dbDate    `bun:"period_start,pk"`
	PeriodEnd    dbDate    `bun:"period_end"`
}

func toProviderRows(p catalog.Provider) (*providerRow, []agreementRow) {
	ags := make([]agreementRow, 0, len(p.Agreements))
	for _, a := range p.Agreements {
		ags = append(ags, agreementRow{
			ProviderID:   p.ID,
			Municipality: a.Municipality,
			PeriodStart:  dbDate(a.Period.Start),
			PeriodEnd:    dbDate(a.Period.End),
		})
	}
	return &providerRow{
		ID:             p.ID,
		Name:           p.Name,
		INN:            p.INN,
		Municipality:   p.Municipality,
		EnrolmentLimit: p.EnrolmentLimit,
	}, ags
}

func (r *providerRow) domain(ags []agreementRow) catalog.Provider {
	p := catalog.Provider{
		ID:             r.ID,
		Name:           r.Name,
		INN:            r.INN,
		Municipality:   r.Municipality,
		EnrolmentLimit: r.EnrolmentLimit,
	}
	for _, a := range ags {
		p.Agreements = append(p.Agreements, catalog.Agreement{
			Municipality: a.Municipality,
			Period:       funding.Period{Start: funding.Date(a.PeriodStart), End: funding.Date(a.PeriodEnd)},
		})
	}
	return p
}

type programRow struct {
	bun.BaseModel `bun:"table:programs"`

	ID             uuid.UUID `bun:"id,pk"`
	ProviderID     uuid.UUID `bun:"provider_id"`
	Name           string    `bun:"name"`
	Scheme         string    `bun:"scheme"`
	Direction      string    `bun:"direction"`
	Registry       string    `bun:"registry"`
	MinAge         int       `bun:"min_age"`
	MaxAge         int       `bun:"max_age"`
	Certified      bool      `bun:"certified"`
	EnrolmentOpen  bool      `bun:"enrolment_open"`
	Municipality   string    `bun:"municipality"`
	EnrolmentLimit int       `bun:"enrolment_limit"`
	CompetencyArea string    `bun:"competency_area"`
	AcademicHours  int       `bun:"academic_hours"`
}

func toProgramRow(p catalog.Program) *programRow {
	return &programRow{
		ID:             p.ID,
		ProviderID:     p.ProviderID,
		Name:           p.Name,
		Scheme:         string(p.Scheme),
		Direction:      string(p.Direction),
		Registry:       string(p.Registry),
		MinAge:         p.MinAge,
		MaxAge:         p.MaxAge,
		Certified:      p.Certified,
		EnrolmentOpen:  p.EnrolmentOpen,
		Municipality:   p.Municipality,
		EnrolmentLimit: p.EnrolmentLimit,
		CompetencyArea: p.CompetencyArea,
		AcademicHours:  p.AcademicHours,
	}
}

func (r *programRow) domain() catalog.Program {
	return catalog.Program{
		ID:             r.ID,
		ProviderID:     r.ProviderID,
		Name:           r.Name,
		Scheme:         certificate.Scheme(r.Scheme),
		Direction:      catalog.Direction(r.Direction),
		Registry:       catalog.Registry(r.Registry),
		MinAge:         r.MinAge,
		MaxAge:         r.MaxAge,
		Certified:      r.Certified,
		EnrolmentOpen:  r.EnrolmentOpen,
		Municipality:   r.Municipality,
		EnrolmentLimit: r.EnrolmentLimit,
		CompetencyArea: r.CompetencyArea,
		AcademicHours:  r.AcademicHours,
	}
}

type moduleRow struct {
	bun.BaseModel `bun:"table:modules"`

	ID             uuid.UUID `bun:"id,pk"`
	ProgramID      uuid.UUID `bun:"program_id"`
	Name           string    `bun:"name"`
	Price          int64     `bun:"price"`
	NormativePrice int64     `bun:"normative_price"`
	Hours          int       `bun:"hours"`
	MinChildren    int       `bun:"min_children"`
	MaxChildren    int       `bun:"max_children"`
}

func toModuleRow(m catalog.Module) (*moduleRow, error) {
	var k kopecks
	r := &moduleRow{
		ID:             m.ID,
		ProgramID:      m.ProgramID,
		Name:           m.Name,
		Price:          k.of("price", m.Price),
		NormativePrice: k.of("normative_price", m.NormativePrice),
		Hours:          m.Hours,
		MinChildren:    m.MinChildren,
		MaxChildren:    m.MaxChildren,
	}
	return r, k.err
}

func (r *moduleRow) domain() catalog.Module {
	return catalog.Module{
		ID:             r.ID,
		ProgramID:      r.ProgramID,
		Name:           r.Name,
		Price:          money(r.Price),
		NormativePrice: money(r.NormativePrice),
		Hours:          r.Hours,
		MinChildren:    r.MinChildren,
		MaxChildren:    r.MaxChildren,
	}
}

type groupRow struct {
	bun.BaseModel `bun:"table:study_groups"`

	ID       uuid.UUID `bun:"id,pk"`
	ModuleID uuid.UUID `bun:"module_id"`
	Name     string    `bun:"name"`
	Start    dbDate    `bun:"start_on"`
	End      dbDate    `bun:"end_on"`
	Capacity int       `bun:"capacity"`
	Schedule string    `bun:"schedule"`
}

func toGroupRow(g catalog.Group) *groupRow {
	return &groupRow{
		ID:       g.ID,
		ModuleID: g.ModuleID,
		Name:     g.Name,
		Start:    dbDate(g.Start),
		End:      dbDate(g.End),
		Capacity: g.Capacity,
		Schedule: g.Schedule,
	}
}

func (r *groupRow) domain() catalog.Group {
	return catalog.Group{
		ID:       r.ID,
		ModuleID: r.ModuleID,
		Name:     r.Name,
		Start:    funding.Date(r.Start),
		End:      funding.Date(r.End),
		Capacity: r.Capacity,
		Schedule: r.Schedule,
	}
}

type contractRow struct {
	bun.BaseModel `bun:"table:contracts"`

	ID              uuid.UUID `bun:"id,pk"`
	CertificateID   uuid.UUID `bun:"certificate_id"`
	GroupID         uuid.UUID `bun:"group_id"`
	ModuleID        uuid.UUID `bun:"module_id"`
	ProgramID       uuid.UUID `bun:"program_id"`
	ProviderID      uuid.UUID `bun:"provider_id"`
	Municipality    string    `bun:"municipality"`
	PeriodStart     dbDate    `bun:"period_start"`
	PeriodEnd       dbDate    `bun:"period_end"`
	Status          string    `bun:"status"`
	Start           dbDate    `bun:"start_on"`
	End             dbDate    `bun:"end_on"`
	PriceStart      dbDate    `bun:"price_start"`
	PriceEnd        dbDate    `bun:"price_end"`
	PriceDays       int       `bun:"price_days"`
	PriceMonths     int       `bun:"price_months"`
	PriceTotal      int64     `bun:"price_total"`
	PriceNormative  int64     `bun:"price_normative"`
	PriceCert       int64     `bun:"price_cert"`
	PriceCoPay      int64     `bun:"price_copay"`
	PriceFirst      int64     `bun:"price_first"`
	PriceOther      int64     `bun:"price_other"`
	PriceCertFirst  int64     `bun:"price_cert_first"`
	PriceCertOther  int64     `bun:"price_cert_other"`
	PriceCoPayFirst int64     `bun:"price_copay_first"`
	PriceCoPayOther int64     `bun:"price_copay_other"`
	HoldID          nullUUID  `bun:"hold_id"`
	CreatedAt       dbTime    `bun:"created_at"`
	ClosedOn        dbDate    `bun:"closed_on"`
	ProlongedFrom   nullUUID  `bun:"prolonged_from"`
	Registry        string    `bun:"registry"`
	Direction       string    `bun:"direction"`
	OfferedOn       dbDate    `bun:"offered_on"`
	ActivatedOn     dbDate    `bun:"activated_on"`
	TerminatedOn    dbDate    `bun:"terminated_on"`
	Scheme          string    `bun:"scheme"`
}

func toContractRow(c enrollment.Contract) (*contractRow, error) {
	var k kopecks
	p := c.Price
	if c.CreatedAt.IsZero() {
		return nil, fmt.Errorf("storage: contract %s has no creation time", c.ID)
	}
	r := &contractRow{
		ID:              c.ID,
		CertificateID:   c.CertificateID,
		GroupID:         c.GroupID,
		ModuleID:        c.ModuleID,
		ProgramID:       c.ProgramID,
		ProviderID:      c.ProviderID,
		Municipality:    c.Municipality,
		PeriodStart:     dbDate(c.Period.Start),
		PeriodEnd:       dbDate(c.Period.End),
		Status:          string(c.Status),
		Start:           dbDate(c.Start),
		End:             dbDate(c.End),
		PriceStart:      dbDate(p.Start),
		PriceEnd:        dbDate(p.End),
		PriceDays:       p.Days,
		PriceMonths:     p.Months,
		PriceTotal:      k.of("price.total", p.Total),
		PriceNormative:  k.of("price.normative", p.Normative),
		PriceCert:       k.of("price.cert", p.Cert),
		PriceCoPay:      k.of("price.copay", p.CoPay),
		PriceFirst:      k.of("price.first", p.First),
		PriceOther:      k.of("price.other", p.Other),
		PriceCertFirst:  k.of("price.cert_first", p.CertFirst),
		PriceCertOther:  k.of("price.cert_other", p.CertOther),
		PriceCoPayFirst: k.of("price.copay_first", p.CoPayFirst),
		PriceCoPayOther: k.of("price.copay_other", p.CoPayOther),
		HoldID:          nullUUID(c.HoldID),
		CreatedAt:       dbTime(c.CreatedAt),
		ClosedOn:        dbDate(c.ClosedOn),
		ProlongedFrom:   nullUUID(c.ProlongedFrom),
		Registry:        string(c.Registry),
		Direction:       string(c.Direction),
		OfferedOn:       dbDate(c.OfferedOn),
		ActivatedOn:     dbDate(c.ActivatedOn),
		TerminatedOn:    dbDate(c.TerminatedOn),
		Scheme:          string(c.Scheme),
	}
	return r, k.err
}

func (r *contractRow) domain() enrollment.Contract {
	return enrollment.Contract{
		ID:            r.ID,
		CertificateID: r.CertificateID,
		GroupID:       r.GroupID,
		ModuleID:      r.ModuleID,
		ProgramID:     r.ProgramID,
		ProviderID:    r.ProviderID,
		Municipality:  r.Municipality,
		Period:        funding.Period{Start: funding.Date(r.PeriodStart), End: funding.Date(r.PeriodEnd)},
		Status:        enrollment.Status(r.Status),
		Start:         funding.Date(r.Start),
		End:           funding.Date(r.End),
		Price: funding.Price{
			Start:      funding.Date(r.PriceStart),
			End:        funding.Date(r.PriceEnd),
			Days:       r.PriceDays,
			Months:     r.PriceMonths,
			Total:      money(r.PriceTotal),
			Normative:  money(r.PriceNormative),
			Cert:       money(r.PriceCert),
			CoPay:      money(r.PriceCoPay),
			First:      money(r.PriceFirst),
			Other:      money(r.PriceOther),
			CertFirst:  money(r.PriceCertFirst),
			CertOther:  money(r.PriceCertOther),
			CoPayFirst: money(r.PriceCoPayFirst),
			CoPayOther: money(r.PriceCoPayOther),
		},
		HoldID:        uuid.UUID(r.HoldID),
		CreatedAt:     time.Time(r.CreatedAt),
		ClosedOn:      funding.Date(r.ClosedOn),
		ProlongedFrom: uuid.UUID(r.ProlongedFrom),
		Registry:      catalog.Registry(r.Registry),
		Direction:     catalog.Direction(r.Direction),
		OfferedOn:     funding.Date(r.OfferedOn),
		ActivatedOn:   funding.Date(r.ActivatedOn),
		TerminatedOn:  funding.Date(r.TerminatedOn),
		Scheme:        certificate.Scheme(r.Scheme),
	}
}

type chargeRow struct {
	bun.BaseModel `bun:"table:contract_charges"`

	ContractID uuid.UUID `bun:"contract_id,pk"`
	Month      dbMonth   `bun:"month,pk"`
	Amount     int64     `bun:"amount"`
}

type invoiceLineRow struct {
	bun.BaseModel `bun:"table:invoice_lines"`

	ContractID   uuid.UUID `bun:"contract_id,pk"`
	Month        dbMonth   `bun:"month,pk"`
	Kind         string    `bun:"kind,pk"`
	Scheme       string    `bun:"scheme"`
	Municipality string    `bun:"municipality"`
	ProviderID   uuid.UUID `bun:"provider_id"`
	Amount       int64     `bun:"amount"`
}

type invoiceRow struct {
	bun.BaseModel `bun:"table:invoices"`

	Scheme       string    `bun:"scheme,pk"`
	Municipality string    `bun:"municipality,pk"`
	ProviderID   uuid.UUID `bun:"provider_id,pk"`
	Month        dbMonth   `bun:"month,pk"`
	Kind         string    `bun:"kind,pk"`
	Amount       int64     `bun:"amount"`
	Lines        int       `bun:"lines"`
}

func (r *invoiceRow) domain() enrollment.Invoice {
	return enrollment.Invoice{
		Scheme:       certificate.Scheme(r.Scheme),
		Municipality: r.Municipality,
		ProviderID:   r.ProviderID,
		Month:        funding.Month(r.Month),
		Kind:         enrollment.InvoiceKind(r.Kind),
		Amount:       money(r.Amount),
		Lines:        r.Lines,
	}
}

type idempotencyRow struct {
	bun.BaseModel `bun:"table:idempotency"`

	Key         string `bun:"key,pk"`
	Operation   string `bun:"operation"`
	RequestHash string `bun:"request_hash"`
	Result      []byte `bun:"result"`
	CreatedAt   dbTime `bun:"created_at"`
}

type queueRow struct {
	bun.BaseModel `bun:"table:queue"`

	Queue         string    `bun:"queue,pk"`
	CertificateID uuid.UUID `bun:"certificate_id,pk"`
	EnqueuedAt    dbTime    `bun:"enqueued_at"`
	Seq           int64     `bun:"seq"`
}

type ratingRow struct {
	bun.BaseModel `bun:"table:ratings"`

	ContractID   uuid.UUID `bun:"contract_id,pk"`
	Results      int       `bun:"results"`
	Staff        int       `bun:"staff"`
	Means        int       `bun:"means"`
	Satisfaction int       `bun:"satisfaction"`
	UpdatedAt    dbTime    `bun:"updated_at"`
}
