package api

import (
	"time"

	"github.com/google/uuid"

	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/funding"
)

// The wire forms. Amounts are strings "1234.56", dates "YYYY-MM-DD", months
// "YYYY-MM", ids canonical UUIDs; zero dates are left out.

// ---- requests ----

type holderIn struct {
	PersonID     string `json:"person_id"`
	FullName     string `json:"full_name"`
	BirthDate    string `json:"birth_date"`
	Sex          string `json:"sex,omitempty"`
	Citizenship  string `json:"citizenship,omitempty"`
	Education    string `json:"education,omitempty"`
	Region       string `json:"region,omitempty"`
	Municipality string `json:"municipality"`
	Registration string `json:"registration,omitempty"`
}

func (h holderIn) parse(p *parser) certificate.Holder {
	return certificate.Holder{
		PersonID:     p.personID("holder.person_id", h.PersonID, true),
		FullName:     p.text("holder.full_name", h.FullName, 300, true),
		BirthDate:    p.date("holder.birth_date", h.BirthDate, true),
		Sex:          certificate.Sex(p.text("holder.sex", h.Sex, 20, false)),
		Citizenship:  p.text("holder.citizenship", h.Citizenship, 2, false),
		Education:    certificate.Education(p.text("holder.education", h.Education, 40, false)),
		Region:       p.text("holder.region", h.Region, 40, false),
		Municipality: p.text("holder.municipality", h.Municipality, 40, false),
		Registration: certificate.Registration(p.text("holder.registration", h.Registration, 20, false)),
	}
}

type issueIn struct {
	Holder       holderIn `json:"holder"`
	GuardianID   string   `json:"guardian_id,omitempty"`
	Municipality string   `json:"municipality,omitempty"`
	Category     string   `json:"category"`
	Funded       bool     `json:"funded"`
	Protection   string   `json:"protection,omitempty"`
	Passphrase   string   `json:"passphrase,omitempty"`
}

type submitIn struct {
	CertificateID string `json:"certificate_id,omitempty"`
	GroupID       string `json:"group_id"`
	Start         string `json:"start,omitempty"`
	CoPayAccepted bool   `json:"co_pay_accepted,omitempty"`
	// Protection fields for an application a provider creates in the holder's presence.
	Number     string `json:"number,omitempty"`
	FullName   string `json:"full_name,omitempty"`
	Passphrase string `json:"passphrase,omitempty"`
	// ConsentVersion is the version of the personal-data text agreed to.
	ConsentVersion string `json:"consent_version,omitempty"`
	// Waitlist asks for the group's waitlist when it is full (a holder's own application).
	Waitlist bool `json:"waitlist,omitempty"`
}

type protectionIn struct {
	Mode       string `json:"mode"`
	Passphrase string `json:"passphrase,omitempty"`
}

type deliveryIn struct {
	Month   string `json:"month"`
	Percent *int   `json:"percent"`
}

type ratingIn struct {
	Results      *int `json:"results"`
	Staff        *int `json:"staff"`
	Means        *int `json:"means"`
	Satisfaction *int `json:"satisfaction"`
}

type adultIn struct {
	Holder   holderIn `json:"holder"`
	Category string   `json:"category,omitempty"`
}

type documentsIn struct {
	Uploaded    bool   `json:"uploaded"`
	ValidReason string `json:"valid_reason,omitempty"`
}

type closeIn struct {
	Month string `json:"month"`
}

// ---- responses ----

func dateOut(d funding.Date) string { return d.String() }

type holderOut struct {
	PersonID     string `json:"person_id"`
	FullName     string `json:"full_name"`
	BirthDate    string `json:"birth_date"`
	Municipality string `json:"municipality,omitempty"`
}

type certificateOut struct {
	ID           uuid.UUID `json:"id"`
	Number       string    `json:"number"`
	Scheme       string    `json:"scheme"`
	Holder       holderOut `json:"holder"`
	GuardianID   string    `json:"guardian_id,omitempty"`
	Municipality string    `json:"municipality,omitempty"`
	Category     string    `json:"category,omitempty"`
	Kind         string    `json:"kind"`
	Status       string    `json:"status"`
	IssuedOn     string    `json:"issued_on"`
	ValidUntil   string    `json:"valid_until,omitempty"`
	Protection   string    `json:"protection"`
}

func certificateDTO(c certificate.Certificate) certificateOut {
	return certificateOut{
		ID: c.ID, Number: string(c.Number), Scheme: string(c.Scheme),
		Holder:     holderOut{PersonID: c.Holder.PersonID, FullName: c.Holder.FullName, BirthDate: dateOut(c.Holder.BirthDate), Municipality: c.Holder.Municipality},
		GuardianID: c.GuardianID, Municipality: c.Municipality, Category: c.Category,
		Kind: string(c.Kind), Status: string(c.Status), IssuedOn: dateOut(c.IssuedOn), ValidUntil: dateOut(c.ValidUntil),
		Protection: string(c.Protection.Mode),
	}
}

type issueOut struct {
	Certificate   certificateOut `json:"certificate"`
	Queued        bool           `json:"queued"`
	QueuePosition int            `json:"queue_position,omitempty"`
	// AwaitingReview: an adult application the federal operator reviews
	// before it takes a place of the quota.
	AwaitingReview bool `json:"awaiting_review,omitempty"`
}

func issueDTO(r enrollment.IssueResult) issueOut {
	return issueOut{Certificate: certificateDTO(r.Certificate), Queued: r.Queued, QueuePosition: r.Position, AwaitingReview: r.Review}
}

type priceOut struct {
	Start      string        `json:"start"`
	End        string        `json:"end"`
	Days       int           `json:"days"`
	Months     int           `json:"months"`
	Total      funding.Money `json:"total"`
	Normative  funding.Money `json:"normative"`
	Cert       funding.Money `json:"cert"`
	CoPay      funding.Money `json:"co_pay"`
	CertFirst  funding.Money `json:"cert_first"`
	CertOther  funding.Money `json:"cert_other"`
	CoPayFirst funding.Money `json:"co_pay_first"`
	CoPayOther funding.Money `json:"co_pay_other"`
}

type contractOut struct {
	ID            uuid.UUID `json:"id"`
	CertificateID uuid.UUID `json:"certificate_id"`
	GroupID       uuid.UUID `json:"group_id"`
	ModuleID      uuid.UUID `json:"module_id"`
	ProgramID     uuid.UUID `json:"program_id"`
	ProviderID    uuid.UUID `json:"provider_id"`
	Municipality  string    `json:"municipality"`
	Status        string    `json:"status"`
	Registry      string    `json:"registry,omitempty"`
	Direction     string    `json:"direction,omitempty"`
	Start         string    `json:"start"`
	End           string    `json:"end"`
	Price         priceOut  `json:"price"`
	CreatedAt     time.Time `json:"created_at"`
	OfferedOn     string    `json:"offered_on,omitempty"`
	ActivatedOn   string    `json:"activated_on,omitempty"`
	TerminatedOn  string    `json:"terminated_on,omitempty"`
	ClosedOn      string    `json:"closed_on,omitempty"`
	// Hours are the weekly hours the contract holds of a certificate in
	// hours; absent for one in money.
	Hours *hoursHoldOut `json:"hours,omitempty"`
	// Reason is why the provider refused; absent for any other contract.
	Reason string `json:"reason,omitempty"`
	// Consent to the processing of personal data given with the
	// application; absent if none was.
	Consent *consentOut `json:"consent,omitempty"`
}

type consentOut struct {
	Version string    `json:"version"`
	At      time.Time `json:"at"`
}

type hoursHoldOut struct {
	Base  int `json:"base"`
	Extra int `json:"extra"`
}

func contractDTO(c enrollment.Contract) contractOut {
	out := contractFields(c)
	if c.Hours.Hours() > 0 {
		out.Hours = &hoursHoldOut{Base: c.Hours.Base, Extra: c.Hours.Extra}
	}
	if c.Consent.Given() {
		out.Consent = &consentOut{Version: c.Consent.Version, At: c.Consent.At.UTC()}
	}
	return out
}

func contractFields(c enrollment.Contract) contractOut {
	p := c.Price
	return contractOut{
		ID: c.ID, CertificateID: c.CertificateID, GroupID: c.GroupID, ModuleID: c.ModuleID, ProgramID: c.ProgramID,
		ProviderID: c.ProviderID, Municipality: c.Municipality, Status: string(c.Status),
		Registry: string(c.Registry), Direction: string(c.Direction), Start: dateOut(c.Start), End: dateOut(c.End),
		Price: priceOut{
			Start: dateOut(p.Start), End: dateOut(p.End), Days: p.Days, Months: p.Months,
			Total: p.Total, Normative: p.Normative, Cert: p.Cert, CoPay: p.CoPay,
			CertFirst: p.CertFirst, CertOther: p.CertOther, CoPayFirst: p.CoPayFirst, CoPayOther: p.CoPayOther,
		},
		CreatedAt: c.CreatedAt.UTC(), OfferedOn: dateOut(c.OfferedOn), ActivatedOn: dateOut(c.ActivatedOn),
		TerminatedOn: dateOut(c.TerminatedOn), ClosedOn: dateOut(c.ClosedOn), Reason: c.Reason,
	}
}

type periodOut struct {
	Start string `json:"start"`
	End   string `json:"end"`
}

type moneyOut struct {
	Nominal  funding.Money `json:"nominal"`
	Usable   funding.Money `json:"usable"`
	Balance  funding.Money `json:"balance"`
	Reserved funding.Money `json:"reserved"`
	Spent    funding.Money `json:"spent"`
	Depleted funding.Money `json:"depleted"`
	Expired  funding.Money `json:"expired"`
}

type registryOut struct {
	Registry string `json:"registry"`
	Used     int    `json:"used"`
	Allowed  int    `json:"allowed"`
}

type cabinetOut struct {
	Certificate   certificateOut `json:"certificate"`
	Period        periodOut      `json:"period"`
	Money         *moneyOut      `json:"money"`
	BudgetNotice  string         `json:"budget_notice,omitempty"`
	Registries    []registryOut  `json:"registries"`
	Contracts     []contractOut  `json:"contracts"`
	QueuePosition int            `json:"queue_position,omitempty"`
	// Notifications are derived from the cabinet and the period's ledger;
	// see notifications.go.
	Notifications []notificationOut `json:"notifications"`
	// Hours are the weekly hours of a certificate in hours; absent for
	// one in money.
	Hours *hoursOut `json:"hours,omitempty"`
	// Decision is the eligibility decision the certificate was issued
	// on; absent for one issued before decisions were kept.
	Decision *decisionOut `json:"decision,omitempty"`
}

type hoursOut struct {
	Base      int `json:"base"`
	Extra     int `json:"extra"`
	UsedBase  int `json:"used_base"`
	UsedExtra int `json:"used_extra"`
	FreeBase  int `json:"free_base"`
	FreeExtra int `json:"free_extra"`
}

func cabinetDTO(c enrollment.Cabinet) cabinetOut {
	out := cabinetOut{
		Certificate:  certificateDTO(c.Certificate),
		Period:       periodOut{Start: dateOut(c.Period.Start), End: dateOut(c.Period.End)},
		BudgetNotice: c.BudgetNotice, QueuePosition: c.Position,
		Registries: []registryOut{}, Contracts: []contractOut{}, Decision: decisionDTO(c.Decision),
	}
	if m := c.Money; m != nil {
		out.Money = &moneyOut{Nominal: m.Nominal, Usable: m.Usable, Balance: m.Balance, Reserved: m.Reserved, Spent: m.Spent, Depleted: m.Depleted, Expired: m.Expired}
	}
	for _, r := range c.Registries {
		out.Registries = append(out.Registries, registryOut{Registry: string(r.Registry), Used: r.Used, Allowed: r.Allowed})
	}
	if h := c.Hours; h != nil {
		out.Hours = &hoursOut{Base: h.Base, Extra: h.Extra, UsedBase: h.UsedBase, UsedExtra: h.UsedExtra, FreeBase: h.FreeBase, FreeExtra: h.FreeExtra}
	}
	for _, k := range c.Contracts {
		out.Contracts = append(out.Contracts, contractDTO(k))
	}
	return out
}

type groupOut struct {
	ID       uuid.UUID `json:"id"`
	Name     string    `json:"name"`
	Start    string    `json:"start"`
	End      string    `json:"end"`
	Capacity int       `json:"capacity"`
	Schedule string    `json:"schedule,omitempty"`
}

type moduleOut struct {
	ID             uuid.UUID     `json:"id"`
	Name           string        `json:"name"`
	Price          funding.Money `json:"price"`
	NormativePrice funding.Money `json:"normative_price"`
	Hours          int           `json:"hours"`
	WeeklyHours    int           `json:"weekly_hours"`
}

type programOut struct {
	ID             uuid.UUID `json:"id"`
	Name           string    `json:"name"`
	Scheme         string    `json:"scheme"`
	Direction      string    `json:"direction,omitempty"`
	Registry       string    `json:"registry,omitempty"`
	MinAge         int       `json:"min_age"`
	MaxAge         int       `json:"max_age"`
	Municipality   string    `json:"municipality,omitempty"`
	EnrolmentOpen  bool      `json:"enrolment_open"`
	CompetencyArea string    `json:"competency_area,omitempty"`
	AcademicHours  int       `json:"academic_hours,omitempty"`
}

type providerOut struct {
	ID           uuid.UUID `json:"id"`
	Name         string    `json:"name"`
	Municipality string    `json:"municipality,omitempty"`
}

type offerOut struct {
	Group    groupOut    `json:"group"`
	Module   moduleOut   `json:"module"`
	Program  programOut  `json:"program"`
	Provider providerOut `json:"provider"`
}

func offerDTO(o enrollment.Offer) offerOut {
	g, m, p, v := o.Group, o.Module, o.Program, o.Provider
	return offerOut{
		Group:  groupOut{ID: g.ID, Name: g.Name, Start: dateOut(g.Start), End: dateOut(g.End), Capacity: g.Capacity, Schedule: g.Schedule},
		Module: moduleOut{ID: m.ID, Name: m.Name, Price: m.Price, NormativePrice: m.NormativePrice, Hours: m.Hours, WeeklyHours: m.WeeklyHours},
		Program: programOut{ID: p.ID, Name: p.Name, Scheme: string(p.Scheme), Direction: string(p.Direction), Registry: string(p.Registry),
			MinAge: p.MinAge, MaxAge: p.MaxAge, Municipality: p.Municipality, EnrolmentOpen: p.EnrolmentOpen,
			CompetencyArea: p.CompetencyArea, AcademicHours: p.AcademicHours},
		Provider: providerOut{ID: v.ID, Name: v.Name, Municipality: v.Municipality},
	}
}

type invoiceOut struct {
	Scheme       string        `json:"scheme"`
	Municipality string        `json:"municipality"`
	ProviderID   uuid.UUID     `json:"provider_id"`
	Month        string        `json:"month"`
	Kind         string        `json:"kind"`
	Amount       funding.Money `json:"amount"`
	Lines        int           `json:"lines"`
	// Status is draft, issued, accepted or paid; Accepted and Paid say
	// who moved it there, when, and the total they saw (see audit.go).
	Status   string          `json:"status"`
	Accepted *invoiceMoveOut `json:"accepted,omitempty"`
	Paid     *invoiceMoveOut `json:"paid,omitempty"`
}

func invoiceDTO(i enrollment.Invoice) invoiceOut {
	return invoiceOut{Scheme: string(i.Scheme), Municipality: i.Municipality, ProviderID: i.ProviderID, Month: i.Month.String(), Kind: string(i.Kind), Amount: i.Amount, Lines: i.Lines,
		Status: string(i.Status), Accepted: invoiceMoveDTO(i.Accepted), Paid: invoiceMoveDTO(i.Paid)}
}

type listOut[T any] struct {
	Items []T `json:"items"`
}

type queueOut struct {
	CertificateID uuid.UUID `json:"certificate_id"`
	Position      int       `json:"position"`
}
