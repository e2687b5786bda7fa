package schema

import (
	"database/sql"
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

// Certificate is a certificates row.
type Certificate struct {
	bun.BaseModel `bun:"table:certificates"`

	ID                 uuid.UUID `bun:"id,pk"`
	Number             string    `bun:"number"`
	Scheme             string    `bun:"scheme"`
	PersonID           string    `bun:"person_id"`
	FullName           string    `bun:"full_name"`
	BirthDate          Date      `bun:"birth_date"`
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
	IssuedOn           Date      `bun:"issued_on"`
	ValidUntil         Date      `bun:"valid_until"`
	ProtectionMode     string    `bun:"protection_mode"`
	PassphraseHash     string    `bun:"passphrase_hash"`
	FailedAttempts     int       `bun:"failed_attempts"`
	LockedUntil        Time      `bun:"locked_until"`
	DocsDueFrom        Date      `bun:"documents_due_from"`
	DocsUploadedOn     Date      `bun:"documents_uploaded_on"`
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

// FromCertificate is c as a row.
func FromCertificate(c certificate.Certificate) *Certificate {
	h := c.Holder
	return &Certificate{
		ID:                 c.ID,
		Number:             string(c.Number),
		Scheme:             string(c.Scheme),
		PersonID:           h.PersonID,
		FullName:           h.FullName,
		BirthDate:          Date(h.BirthDate),
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
		IssuedOn:           Date(c.IssuedOn),
		ValidUntil:         Date(c.ValidUntil),
		ProtectionMode:     string(c.Protection.Mode),
		PassphraseHash:     c.Protection.PassphraseHash,
		FailedAttempts:     c.Protection.FailedAttempts,
		LockedUntil:        Time(c.Protection.LockedUntil),
		DocsDueFrom:        Date(c.Documents.DueFrom),
		DocsUploadedOn:     Date(c.Documents.UploadedOn),
		DocsValidReason:    c.Documents.ValidReason,
		UniqYear:           uniqYear(c),
	}
}

// Domain is the certificate the row holds.
func (r *Certificate) Domain() certificate.Certificate {
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

// Category is a categories row.
type Category struct {
	bun.BaseModel `bun:"table:categories"`

	Code       string `bun:"code,pk"`
	Nominal    int64  `bun:"nominal"`
	MaxCount   int    `bun:"max_count"`
	MaxSum     int64  `bun:"max_sum"`
	HoursBase  int    `bun:"hours_base"`
	HoursExtra int    `bun:"hours_extra"`
}

// FromCategory is c as a row; an amount out of range is an error.
func FromCategory(c certificate.Category) (*Category, error) {
	var k Kopecks
	r := &Category{
		Code:       c.Code,
		Nominal:    k.Of("nominal", c.Nominal),
		MaxCount:   c.MaxCount,
		MaxSum:     k.Of("max_sum", c.MaxSum),
		HoursBase:  c.HoursBase,
		HoursExtra: c.HoursExtra,
	}
	return r, k.Err
}

// Domain is the category the row holds.
func (r *Category) Domain() certificate.Category {
	return certificate.Category{
		Code:       r.Code,
		Nominal:    money(r.Nominal),
		MaxCount:   r.MaxCount,
		MaxSum:     money(r.MaxSum),
		HoursBase:  r.HoursBase,
		HoursExtra: r.HoursExtra,
	}
}

// Account is an account as stored, with its reserve, which the statements
// reading it derive from its open holds (AccountSelect).
type Account struct {
	bun.BaseModel `bun:"table:accounts"`

	CertificateID uuid.UUID `bun:"certificate_id,pk"`
	PeriodStart   Date      `bun:"period_start,pk"`
	PeriodEnd     Date      `bun:"period_end,notnull"`
	Nominal       int64     `bun:"nominal"`
	Balance       int64     `bun:"balance"`
	Held          int64     `bun:"held"` // reserved + spent
	Depleted      int64     `bun:"depleted"`
	Expired       int64     `bun:"expired"`
	Fixed         bool      `bun:"fixed"`

	// Reserved is what the account's holds have open.
	Reserved int64 `bun:"reserved,scanonly"`
}

// Every read of accounts derives an account's reserve from its holds: a
// charge moves money from reserved to spent inside a hold and leaves the
// account's row alone (the monthly close writes no account); reserve,
// release and refund change held with the hold. Only open holds are summed,
// through the partial index holds_open_idx: a hold used up or given back
// holds no reserve, so the read costs the same however many contracts the
// certificate had before. Its condition is the very term of the index's,
// as each engine needs: on SQLite amount - charged - released > 0 (SQLite
// uses a partial index only for the very term, and not for a comparison
// of two expressions of columns); on PostgreSQL the stored generated
// column open, which holds that value: an index whose condition names
// charged would make every charge of the close a non-HOT update writing
// every index of holds, while open changes once in a hold's life.
//
// A read that locks the account must not derive the reserve in the same
// statement on PostgreSQL: at READ COMMITTED a statement that waits for a
// row lock reads the row's newest version but evaluates its subqueries in
// the snapshot it started with, so a reserve committed during the wait
// would be in held and not in the reserve. The locking reads lock first,
// then read in a statement that starts after the lock is held (tx.Account,
// pgfast's Prefetch). CAST: PostgreSQL's sum of bigints is a numeric.
const (
	holdsReserved  = `CAST(coalesce(sum(h.amount - h.charged - h.released), 0) AS bigint)`
	holdsOfAccount = `FROM holds h WHERE h.certificate_id = a.certificate_id AND h.period_start = a.period_start AND `

	// AccountFrom is the table AccountSelect reads, as a.
	AccountFrom = `accounts a`
)

// AccountSelect is the select list of an account read: the stored columns
// and the reserve of its open holds.
var AccountSelect = Accounts.List("a") + `, (SELECT ` + holdsReserved + ` ` + holdsOfAccount + `h.amount - h.charged - h.released > 0) AS reserved`

// PGAccountSelect is AccountSelect on PostgreSQL.
var PGAccountSelect = Accounts.List("a") + `, (SELECT ` + holdsReserved + ` ` + holdsOfAccount + `h.open) AS reserved`

// BatchContracts is the condition of a batch's read of its certificates'
// contracts ($1 or the first ? their ids, $2 or the second the batch's
// groups): the live ones an application is checked against, those on a
// module it applies to (one live contract a module) and those in a
// budget-funded registry (counted against the registry's quota), not the
// rest of a certificate's live contracts nor any of its past ones, so
// that a batch reads and decodes no more for a child holding many.
const BatchContracts = LiveContracts + ` AND (module_id IN (SELECT module_id FROM study_groups WHERE id %s) OR registry IN ` + BudgetFundedRegistries + `)`

// LiveContracts is the condition of the partial index contracts_live_key:
// a read that names it reads live contracts only, whatever the
// certificate's history.
const LiveContracts = `status IN ('requested', 'accepted', 'active')`

// BudgetFundedRegistries are catalog's budget-funded registries
// (Registry.BudgetFunded) as an SQL list.
const BudgetFundedRegistries = `('significant', 'pre_professional', 'general')`

// ErrBrokenLedger is an account whose open holds reserve more than it
// holds: a ledger no rule could have written.
var ErrBrokenLedger = errors.New("account's holds reserve more than it holds")

// Check refuses a read of an account its holds contradict, rather than
// split it into a negative spent. That held equals what all of its holds
// took is storage.CheckInvariants' to check: a read sums only the open
// holds.
func (r *Account) Check() error {
	if r.Reserved > r.Held || r.Reserved < 0 {
		return fmt.Errorf("storage: account %s@%s: held %d, its open holds reserve %d: %w",
			r.CertificateID, funding.Date(r.PeriodStart), r.Held, r.Reserved, ErrBrokenLedger)
	}
	return nil
}

// AccountRead is an account read up to its WHERE clause, on PostgreSQL
// (pg) or SQLite.
func AccountRead(pg bool) string {
	if pg {
		return `SELECT ` + PGAccountSelect + ` FROM ` + AccountFrom
	}
	return `SELECT ` + AccountSelect + ` FROM ` + AccountFrom
}

// AccountDest is Accounts.Dest(r) and the reserve, as AccountSelect lists
// them.
func AccountDest(r *Account) []any {
	return append(Accounts.Dest(r), &r.Reserved)
}

// FromAccount is a as a row: its reserve and spent stored as held.
func FromAccount(a enrollment.AccountState) (*Account, error) {
	var k Kopecks
	r := &Account{
		CertificateID: a.CertificateID,
		PeriodStart:   Date(a.Period.Start),
		PeriodEnd:     Date(a.Period.End),
		Nominal:       k.Of("nominal", a.Account.Nominal),
		Balance:       k.Of("balance", a.Account.Balance),
		Held:          k.Of("held", a.Account.Reserved.Add(a.Account.Spent)),
		Depleted:      k.Of("depleted", a.Account.Depleted),
		Expired:       k.Of("expired", a.Account.Expired),
		Fixed:         a.Fixed,
	}
	return r, k.Err
}

// Domain is the account the row holds, its reserve and spent split by
// the sums its read derived from its holds.
func (r *Account) Domain() enrollment.AccountState {
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

// Hold is a holds row: a hold with the account it belongs to.
type Hold struct {
	bun.BaseModel `bun:"table:holds"`

	ID            uuid.UUID `bun:"id,pk"`
	CertificateID uuid.UUID `bun:"certificate_id"`
	PeriodStart   Date      `bun:"period_start,notnull"`
	Amount        int64     `bun:"amount"`
	Charged       int64     `bun:"charged"`
	Released      int64     `bun:"released"`
	Refunded      int64     `bun:"refunded"`
}

// HoldUpdate is what an upsert of a hold changes: every column but its id
// and its account's.
var HoldUpdate = Holds.Set("certificate_id", "period_start")

// FromHold is h, of the account of certificateID for period p, as a row.
func FromHold(certificateID uuid.UUID, p funding.Period, h funding.Hold) (*Hold, error) {
	var k Kopecks
	r := &Hold{
		ID:            h.ID,
		CertificateID: certificateID,
		PeriodStart:   Date(p.Start),
		Amount:        k.Of("amount", h.Amount),
		Charged:       k.Of("charged", h.Charged),
		Released:      k.Of("released", h.Released),
		Refunded:      k.Of("refunded", h.Refunded),
	}
	return r, k.Err
}

// Domain is the hold the row holds.
func (r *Hold) Domain() funding.Hold {
	return funding.Hold{
		ID:       r.ID,
		Amount:   money(r.Amount),
		Charged:  money(r.Charged),
		Released: money(r.Released),
		Refunded: money(r.Refunded),
	}
}

// Posting is a postings row.
type Posting struct {
	bun.BaseModel `bun:"table:postings"`

	ID            uuid.UUID `bun:"id,pk"`
	CertificateID uuid.UUID `bun:"certificate_id"`
	PeriodStart   Date      `bun:"period_start,notnull"`
	PeriodEnd     Date      `bun:"period_end,notnull"`
	Kind          string    `bun:"kind"`
	Amount        int64     `bun:"amount"`
	HoldID        NullUUID  `bun:"hold_id"`
	ContractID    NullUUID  `bun:"contract_id"`
	Month         Month     `bun:"month"`
	At            Time      `bun:"at,notnull"`
	Actor         string    `bun:"actor"`
	Rule          string    `bun:"rule"`
	Params        string    `bun:"params"`
	Rules         int64     `bun:"rules,notnull"`
}

// FromPosting is p as a row.
func FromPosting(p enrollment.PostingRecord) (*Posting, error) {
	var k Kopecks
	params, err := ParamsJSON(p.Params)
	if err != nil {
		return nil, err
	}
	if p.At.IsZero() {
		return nil, fmt.Errorf("storage: posting %s has no time", p.ID)
	}
	r := &Posting{
		ID:            p.ID,
		CertificateID: p.CertificateID,
		PeriodStart:   Date(p.Period.Start),
		PeriodEnd:     Date(p.Period.End),
		Kind:          string(p.Posting.Kind),
		Amount:        k.Of("amount", p.Posting.Amount),
		HoldID:        NullUUID(p.Posting.HoldID),
		ContractID:    NullUUID(p.ContractID),
		Month:         Month(p.Month),
		At:            Time(p.At),
		Actor:         p.Actor,
		Rule:          p.Rule,
		Params:        params,
		Rules:         p.Rules,
	}
	return r, k.Err
}

// Domain is the posting the row holds.
func (r *Posting) Domain() (enrollment.PostingRecord, error) {
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
		Rules:      r.Rules,
	}, nil
}

// Counter is a counters row: a contended cap and its use.
type Counter struct {
	bun.BaseModel `bun:"table:counters"`

	Key  string `bun:"key,pk"`
	Used int64  `bun:"used"`
	Lim  int64  `bun:"lim"`
}

// Domain is the counter the row holds.
func (r *Counter) Domain() enrollment.Counter {
	return enrollment.Counter{Key: r.Key, Used: r.Used, Limit: r.Lim}
}

// Provider is a providers row; its agreements are rows of their own.
type Provider struct {
	bun.BaseModel `bun:"table:providers"`

	ID             uuid.UUID `bun:"id,pk"`
	Name           string    `bun:"name"`
	INN            string    `bun:"inn"`
	Municipality   string    `bun:"municipality"`
	EnrolmentLimit int       `bun:"enrolment_limit"`
	Address        string    `bun:"address"`
	Phone          string    `bun:"phone"`
	Email          string    `bun:"email"`
	Site           string    `bun:"site"`
	// The accounting details (migration 00022).
	KPP                  string `bun:"kpp"`
	BankName             string `bun:"bank_name"`
	BIC                  string `bun:"bic"`
	SettlementAccount    string `bun:"settlement_account"`
	CorrespondentAccount string `bun:"correspondent_account"`
}

// Agreement is an agreements row: a provider's agreement with a
// municipality for a period.
type Agreement struct {
	bun.BaseModel `bun:"table:agreements"`

	ProviderID   uuid.UUID `bun:"provider_id,pk"`
	Municipality string    `bun:"municipality,pk"`
	PeriodStart  Date      `bun:"period_start,pk"`
	PeriodEnd    Date      `bun:"period_end,notnull"`
}

// FromProvider is p as its row and the rows of its agreements.
func FromProvider(p catalog.Provider) (*Provider, []Agreement) {
	ags := make([]Agreement, 0, len(p.Agreements))
	for _, a := range p.Agreements {
		ags = append(ags, Agreement{
			ProviderID:   p.ID,
			Municipality: a.Municipality,
			PeriodStart:  Date(a.Period.Start),
			PeriodEnd:    Date(a.Period.End),
		})
	}
	return &Provider{
		ID:             p.ID,
		Name:           p.Name,
		INN:            p.INN,
		Municipality:   p.Municipality,
		EnrolmentLimit: p.EnrolmentLimit,
		Address:        p.Address,
		Phone:          p.Phone,
		Email:          p.Email,
		Site:           p.Site,

		KPP:                  p.KPP,
		BankName:             p.Bank.Name,
		BIC:                  p.Bank.BIC,
		SettlementAccount:    p.Bank.Account,
		CorrespondentAccount: p.Bank.CorrespondentAccount,
	}, ags
}

// Domain is the provider the row holds, with agreements ags.
func (r *Provider) Domain(ags []Agreement) catalog.Provider {
	p := catalog.Provider{
		ID:             r.ID,
		Name:           r.Name,
		INN:            r.INN,
		Municipality:   r.Municipality,
		EnrolmentLimit: r.EnrolmentLimit,
		Address:        r.Address,
		Phone:          r.Phone,
		Email:          r.Email,
		Site:           r.Site,
		KPP:            r.KPP,
		Bank:           catalog.BankDetails{Name: r.BankName, BIC: r.BIC, Account: r.SettlementAccount, CorrespondentAccount: r.CorrespondentAccount},
	}
	for _, a := range ags {
		p.Agreements = append(p.Agreements, catalog.Agreement{
			Municipality: a.Municipality,
			Period:       funding.Period{Start: funding.Date(a.PeriodStart), End: funding.Date(a.PeriodEnd)},
		})
	}
	return p
}

// Program is a programs row.
type Program struct {
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
	Annotation     string    `bun:"annotation"`
	Description    string    `bun:"description"`
	Goals          string    `bun:"goals"`
	Tags           Tags      `bun:"tags,notnull"`

	Certification       string `bun:"certification"`
	CertificationReason string `bun:"certification_reason"`
}

// FromProgram is p as a row: its certification status as CertificationOf
// says, and Certified as that status says.
func FromProgram(p catalog.Program) *Program {
	c := catalog.CertificationOf(p)
	r := fromProgram(p)
	r.Certification, r.CertificationReason, r.Certified = string(c), p.CertificationReason, c == catalog.ProgramCertified
	return r
}

// fromProgram is p's row but for its certification.
func fromProgram(p catalog.Program) *Program {
	return &Program{
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
		Annotation:     p.Annotation,
		Description:    p.Description,
		Goals:          p.Goals,
		Tags:           Tags(p.Tags),
	}
}

// Domain is the program the row holds.
func (r *Program) Domain() catalog.Program {
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
		Annotation:     r.Annotation,
		Description:    r.Description,
		Goals:          r.Goals,
		Tags:           []string(r.Tags),

		Certification:       catalog.StoredCertification(catalog.Certification(r.Certification)),
		CertificationReason: r.CertificationReason,
	}
}

// Module is a modules row.
type Module struct {
	bun.BaseModel `bun:"table:modules"`

	ID             uuid.UUID `bun:"id,pk"`
	ProgramID      uuid.UUID `bun:"program_id"`
	Name           string    `bun:"name"`
	Price          int64     `bun:"price"`
	NormativePrice int64     `bun:"normative_price"`
	Hours          int       `bun:"hours"`
	MinChildren    int       `bun:"min_children"`
	MaxChildren    int       `bun:"max_children"`
	WeeklyHours    int       `bun:"weekly_hours"`
}

// FromModule is m as a row; an amount out of range is an error.
func FromModule(m catalog.Module) (*Module, error) {
	var k Kopecks
	r := &Module{
		ID:             m.ID,
		ProgramID:      m.ProgramID,
		Name:           m.Name,
		Price:          k.Of("price", m.Price),
		NormativePrice: k.Of("normative_price", m.NormativePrice),
		Hours:          m.Hours,
		MinChildren:    m.MinChildren,
		MaxChildren:    m.MaxChildren,
		WeeklyHours:    m.WeeklyHours,
	}
	return r, k.Err
}

// Domain is the module the row holds.
func (r *Module) Domain() catalog.Module {
	return catalog.Module{
		ID:             r.ID,
		ProgramID:      r.ProgramID,
		Name:           r.Name,
		Price:          money(r.Price),
		NormativePrice: money(r.NormativePrice),
		Hours:          r.Hours,
		MinChildren:    r.MinChildren,
		MaxChildren:    r.MaxChildren,
		WeeklyHours:    r.WeeklyHours,
	}
}

// Group is a study_groups row.
type Group struct {
	bun.BaseModel `bun:"table:study_groups"`

	ID       uuid.UUID `bun:"id,pk"`
	ModuleID uuid.UUID `bun:"module_id"`
	Name     string    `bun:"name"`
	Start    Date      `bun:"start_on"`
	End      Date      `bun:"end_on"`
	Capacity int       `bun:"capacity"`
	Schedule string    `bun:"schedule"`
	Address  string    `bun:"address"`
	// Sessions are catalog.Sessions as JSON (sessions.go): a plain text
	// field, so that the fast paths read it as any text.
	Sessions string `bun:"sessions"`
}

// FromGroup is g as a row.
func FromGroup(g catalog.Group) *Group {
	return &Group{
		ID:       g.ID,
		ModuleID: g.ModuleID,
		Name:     g.Name,
		Start:    Date(g.Start),
		End:      Date(g.End),
		Capacity: g.Capacity,
		Schedule: g.Schedule,
		Address:  g.Address,
		Sessions: sessionsText(g.Sessions),
	}
}

// Domain is the group the row holds.
func (r *Group) Domain() catalog.Group {
	return catalog.Group{
		ID:       r.ID,
		ModuleID: r.ModuleID,
		Name:     r.Name,
		Start:    funding.Date(r.Start),
		End:      funding.Date(r.End),
		Capacity: r.Capacity,
		Schedule: r.Schedule,
		Address:  r.Address,
		Sessions: sessionsOf(r.Sessions),
	}
}

// Contract is a contracts row.
type Contract struct {
	bun.BaseModel `bun:"table:contracts"`

	ID              uuid.UUID `bun:"id,pk"`
	CertificateID   uuid.UUID `bun:"certificate_id"`
	GroupID         uuid.UUID `bun:"group_id"`
	ModuleID        uuid.UUID `bun:"module_id"`
	ProgramID       uuid.UUID `bun:"program_id"`
	ProviderID      uuid.UUID `bun:"provider_id"`
	Municipality    string    `bun:"municipality"`
	PeriodStart     Date      `bun:"period_start,notnull"`
	PeriodEnd       Date      `bun:"period_end,notnull"`
	Status          string    `bun:"status"`
	Start           Date      `bun:"start_on"`
	End             Date      `bun:"end_on"`
	PriceStart      Date      `bun:"price_start"`
	PriceEnd        Date      `bun:"price_end"`
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
	HoldID          NullUUID  `bun:"hold_id"`
	CreatedAt       Time      `bun:"created_at,notnull"`
	ClosedOn        Date      `bun:"closed_on"`
	ProlongedFrom   NullUUID  `bun:"prolonged_from"`
	Registry        string    `bun:"registry"`
	Direction       string    `bun:"direction"`
	OfferedOn       Date      `bun:"offered_on"`
	ActivatedOn     Date      `bun:"activated_on"`
	TerminatedOn    Date      `bun:"terminated_on"`
	Scheme          string    `bun:"scheme"`
	HoursBase       int       `bun:"hours_base"`
	HoursExtra      int       `bun:"hours_extra"`
	Reason          string    `bun:"reason,notnull"`
	ConsentVersion  string    `bun:"consent_version,notnull"`
	ConsentAt       Time      `bun:"consent_at"`
}

// FromContract is c as a row; a contract without a creation time, or an
// amount out of range, is an error.
func FromContract(c enrollment.Contract) (*Contract, error) {
	var k Kopecks
	p := c.Price
	if c.CreatedAt.IsZero() {
		return nil, fmt.Errorf("storage: contract %s has no creation time", c.ID)
	}
	r := &Contract{
		ID:              c.ID,
		CertificateID:   c.CertificateID,
		GroupID:         c.GroupID,
		ModuleID:        c.ModuleID,
		ProgramID:       c.ProgramID,
		ProviderID:      c.ProviderID,
		Municipality:    c.Municipality,
		PeriodStart:     Date(c.Period.Start),
		PeriodEnd:       Date(c.Period.End),
		Status:          string(c.Status),
		Start:           Date(c.Start),
		End:             Date(c.End),
		PriceStart:      Date(p.Start),
		PriceEnd:        Date(p.End),
		PriceDays:       p.Days,
		PriceMonths:     p.Months,
		PriceTotal:      k.Of("price.total", p.Total),
		PriceNormative:  k.Of("price.normative", p.Normative),
		PriceCert:       k.Of("price.cert", p.Cert),
		PriceCoPay:      k.Of("price.copay", p.CoPay),
		PriceFirst:      k.Of("price.first", p.First),
		PriceOther:      k.Of("price.other", p.Other),
		PriceCertFirst:  k.Of("price.cert_first", p.CertFirst),
		PriceCertOther:  k.Of("price.cert_other", p.CertOther),
		PriceCoPayFirst: k.Of("price.copay_first", p.CoPayFirst),
		PriceCoPayOther: k.Of("price.copay_other", p.CoPayOther),
		HoldID:          NullUUID(c.HoldID),
		CreatedAt:       Time(c.CreatedAt),
		ClosedOn:        Date(c.ClosedOn),
		ProlongedFrom:   NullUUID(c.ProlongedFrom),
		Reason:          c.Reason,
		Registry:        string(c.Registry),
		Direction:       string(c.Direction),
		OfferedOn:       Date(c.OfferedOn),
		ActivatedOn:     Date(c.ActivatedOn),
		TerminatedOn:    Date(c.TerminatedOn),
		Scheme:          string(c.Scheme),
		HoursBase:       c.Hours.Base,
		HoursExtra:      c.Hours.Extra,
		ConsentVersion:  c.Consent.Version,
		ConsentAt:       Time(c.Consent.At),
	}
	return r, k.Err
}

// Domain is the contract the row holds.
func (r *Contract) Domain() enrollment.Contract {
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
		Reason:        r.Reason,
		Registry:      catalog.Registry(r.Registry),
		Direction:     catalog.Direction(r.Direction),
		OfferedOn:     funding.Date(r.OfferedOn),
		ActivatedOn:   funding.Date(r.ActivatedOn),
		TerminatedOn:  funding.Date(r.TerminatedOn),
		Scheme:        certificate.Scheme(r.Scheme),
		Hours:         funding.HoursHold{Base: r.HoursBase, Extra: r.HoursExtra},
		Consent:       enrollment.Consent{Version: r.ConsentVersion, At: time.Time(r.ConsentAt)},
	}
}

// Charge is a contract_charges row: a contract's month that was charged.
type Charge struct {
	bun.BaseModel `bun:"table:contract_charges"`

	ContractID uuid.UUID `bun:"contract_id,pk"`
	Month      Month     `bun:"month,pk"`
	Amount     int64     `bun:"amount"`
}

// InvoiceLine is an invoice_lines row.
type InvoiceLine struct {
	bun.BaseModel `bun:"table:invoice_lines"`

	ContractID   uuid.UUID `bun:"contract_id,pk"`
	Month        Month     `bun:"month,pk"`
	Kind         string    `bun:"kind,pk"`
	Scheme       string    `bun:"scheme"`
	Municipality string    `bun:"municipality"`
	ProviderID   uuid.UUID `bun:"provider_id"`
	Amount       int64     `bun:"amount"`
}

// FromInvoiceLine is l as a row; an amount out of range is an error.
func FromInvoiceLine(l enrollment.InvoiceLine) (*InvoiceLine, error) {
	var k Kopecks
	r := &InvoiceLine{
		ContractID:   l.ContractID,
		Month:        Month(l.Month),
		Kind:         string(l.Kind),
		Scheme:       string(l.Scheme),
		Municipality: l.Municipality,
		ProviderID:   l.ProviderID,
		Amount:       k.Of("amount", l.Amount),
	}
	return r, k.Err
}

// Invoice is the key of the line's invoice.
func (r *InvoiceLine) Invoice() InvoiceKey {
	return InvoiceKey{Scheme: r.Scheme, Municipality: r.Municipality, Provider: r.ProviderID, Month: funding.Month(r.Month).String(), Kind: r.Kind}
}

// Invoice is an invoices row: the sum of its lines.
type Invoice struct {
	bun.BaseModel `bun:"table:invoices"`

	Scheme       string    `bun:"scheme,pk"`
	Municipality string    `bun:"municipality,pk"`
	ProviderID   uuid.UUID `bun:"provider_id,pk"`
	Month        Month     `bun:"month,pk"`
	Kind         string    `bun:"kind,pk"`
	Amount       int64     `bun:"amount"`
	Lines        int       `bun:"lines"`
}

// Domain is the invoice the row holds.
func (r *Invoice) Domain() enrollment.Invoice {
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

// IdempotencyKey is an idempotency row: a claimed key and its first result.
type IdempotencyKey struct {
	bun.BaseModel `bun:"table:idempotency"`

	Key         string `bun:"key,pk"`
	Operation   string `bun:"operation"`
	RequestHash string `bun:"request_hash"`
	Result      []byte `bun:"result"`
	CreatedAt   Time   `bun:"created_at,notnull"`
}

// Domain is the record the row holds.
func (r *IdempotencyKey) Domain() enrollment.IdempotencyRecord {
	return enrollment.IdempotencyRecord{Key: r.Key, Operation: r.Operation, RequestHash: r.RequestHash, Result: r.Result}
}

// QueueEntry is a queue row: a certificate waiting in a queue.
type QueueEntry struct {
	bun.BaseModel `bun:"table:queue"`

	Queue         string    `bun:"queue,pk"`
	CertificateID uuid.UUID `bun:"certificate_id,pk"`
	EnqueuedAt    Time      `bun:"enqueued_at,notnull"`
	Seq           int64     `bun:"seq"`
}

// Rating is a ratings row.
type Rating struct {
	bun.BaseModel `bun:"table:ratings"`

	ContractID   uuid.UUID `bun:"contract_id,pk"`
	Results      int       `bun:"results"`
	Staff        int       `bun:"staff"`
	Means        int       `bun:"means"`
	Satisfaction int       `bun:"satisfaction"`
	UpdatedAt    Time      `bun:"updated_at,notnull"`
}

// QueueSeq is a queues row: a queue's arrival counter, bumped by every
// enqueue (which makes enqueuers of one queue take turns).
type QueueSeq struct {
	bun.BaseModel `bun:"table:queues"`

	Name string `bun:"name,pk"`
	Seq  int64  `bun:"seq"`
}

// Guardianship is a guardianships row: a guardian linked to a child.
type Guardianship struct {
	bun.BaseModel `bun:"table:guardianships"`

	GuardianID string `bun:"guardian_id,pk"`
	ChildID    string `bun:"child_id,pk"`
	RecordedAt Time   `bun:"recorded_at,notnull"`
	Actor      string `bun:"actor"`
}

// Close is a closes row: a month whose monthly close finished.
type Close struct {
	bun.BaseModel `bun:"table:closes"`

	Month    Month `bun:"month,pk"`
	ClosedAt Time  `bun:"closed_at,notnull"`
}

// Revocation is a token_revocations row: kind 'token' or 'subject',
// instants in seconds since 1970 UTC.
type Revocation struct {
	bun.BaseModel `bun:"table:token_revocations"`

	Kind         string        `bun:"kind,pk"`
	Name         string        `bun:"name,pk"`
	IssuedBefore sql.NullInt64 `bun:"issued_before"`
	ExpiresAt    int64         `bun:"expires_at"`
	RevokedAt    int64         `bun:"revoked_at"`
	RevokedBy    string        `bun:"revoked_by"`
}

// Parameter is a parameters row: one version of a region's rule parameter.
type Parameter struct {
	bun.BaseModel `bun:"table:parameters"`

	Version   int64  `bun:"version,pk,autoincrement"`
	Name      string `bun:"name,notnull"`
	Scope     string `bun:"scope,notnull"`
	Effective Date   `bun:"effective,notnull"`
	Value     string `bun:"value,notnull"`
	Actor     string `bun:"actor,notnull"`
	Reason    string `bun:"reason,notnull"`
	At        Time   `bun:"at,notnull"`
}

// FromParameter is p as a row.
func FromParameter(p enrollment.Parameter) *Parameter {
	return &Parameter{Version: p.Version, Name: p.Name, Scope: p.Scope, Effective: Date(p.From), Value: p.Value,
		Actor: p.Actor, Reason: p.Reason, At: Time(p.At)}
}

// Domain is the version the row holds.
func (r *Parameter) Domain() enrollment.Parameter {
	return enrollment.Parameter{Version: r.Version, Name: r.Name, Scope: r.Scope, From: funding.Date(r.Effective), Value: r.Value,
		Actor: r.Actor, Reason: r.Reason, At: time.Time(r.At)}
}

// HoursAccount is an hours_accounts row: a certificate's weekly hours for
// a period and what its live contracts hold of them.
type HoursAccount struct {
	bun.BaseModel `bun:"table:hours_accounts"`

	CertificateID uuid.UUID `bun:"certificate_id,pk"`
	PeriodStart   Date      `bun:"period_start,pk"`
	PeriodEnd     Date      `bun:"period_end,notnull"`
	Base          int       `bun:"base"`
	Extra         int       `bun:"extra"`
	UsedBase      int       `bun:"used_base"`
	UsedExtra     int       `bun:"used_extra"`
}

// FromHoursAccount is a as the row of certificateID's account for period.
func FromHoursAccount(certificateID uuid.UUID, period funding.Period, a funding.HoursAccount) *HoursAccount {
	return &HoursAccount{CertificateID: certificateID, PeriodStart: Date(period.Start), PeriodEnd: Date(period.End),
		Base: a.Base, Extra: a.Extra, UsedBase: a.UsedBase, UsedExtra: a.UsedExtra}
}

// Domain is the hours account the row holds.
func (r *HoursAccount) Domain() funding.HoursAccount {
	return funding.HoursAccount{Base: r.Base, Extra: r.Extra, UsedBase: r.UsedBase, UsedExtra: r.UsedExtra}
}

// SearchTerm is a search_terms row: one term a program is found by, with
// the weight of the field it stands in (catalog.IndexTerms).
type SearchTerm struct {
	bun.BaseModel `bun:"table:search_terms"`

	Term      string    `bun:"term,pk"`
	ProgramID uuid.UUID `bun:"program_id,pk"`
	Weight    int       `bun:"weight"`
}

// SearchTrigram is a search_trigrams row: a trigram of a word of a
// program's title (catalog.TitleTrigrams).
type SearchTrigram struct {
	bun.BaseModel `bun:"table:search_trigrams"`

	Trigram   string    `bun:"trigram,pk"`
	ProgramID uuid.UUID `bun:"program_id,pk"`
}
