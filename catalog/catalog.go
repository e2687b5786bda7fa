// Package catalog describes what a certificate can buy: providers, their
// programs (with direction, registry and age range), the modules a program is
// priced by, and the groups that run them; and it decides whether a given
// certificate can enrol in a given group on a given date.
package catalog

import (
	"github.com/google/uuid"

	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/funding"
)

// Registry is the list a program is entered in; it decides who pays.
type Registry string

const (
	Certified       Registry = "certified"        // paid from the certificate's nominal
	Significant     Registry = "significant"      // socially significant, budget-funded
	PreProfessional Registry = "pre_professional" // pre-professional, budget-funded
	General         Registry = "general"          // general-developmental, budget-funded
	Paid            Registry = "paid"             // paid by the family
)

// Direction is one of the seven directions of supplementary education.
type Direction string

const (
	TechnicalRobotics Direction = "technical_robotics"
	TechnicalOther    Direction = "technical_other"
	NaturalScience    Direction = "natural_science"
	Sport             Direction = "sport"
	Arts              Direction = "arts"
	Tourism           Direction = "tourism_local_history"
	SocialPedagogical Direction = "social_pedagogical"
)

// Directions lists the seven directions in their customary order.
var Directions = []Direction{TechnicalRobotics, TechnicalOther, NaturalScience, Sport, Arts, Tourism, SocialPedagogical}

// Agreement is a provider's agreement with a municipality for a period; without
// one the provider cannot be paid from that municipality's certificates.
type Agreement struct {
	Municipality string
	Period       funding.Period
}

// Provider is an organisation that teaches.
type Provider struct {
	ID             uuid.UUID
	Name           string
	INN            string // 10 or 12 digit taxpayer number
	Municipality   string
	EnrolmentLimit int // total live contracts allowed; 0 means no limit
	Agreements     []Agreement

	// Contacts a family sees on a program's page; each optional.
	Address string // the provider's address, one line
	Phone   string // digits with + ( ) - and spaces: "+7 (383) 123-45-67"
	Email   string
	Site    string // an http or https URL

	// What a municipality's accounting pays the provider's invoices with
	// (the exports carry them); each optional. KPP is the tax registration
	// reason code of 9 characters.
	KPP  string
	Bank BankDetails
}

// BankDetails is the bank account a provider is paid to; the zero value is
// none given.
type BankDetails struct {
	Name                 string // the bank's name
	BIC                  string // 9 digits
	Account              string // the settlement account (расчётный счёт), 20 digits
	CorrespondentAccount string // the bank's correspondent account, 20 digits; "" when the bank has none
}

// Program is a provider's educational program.
type Program struct {
	ID             uuid.UUID
	ProviderID     uuid.UUID
	Name           string
	Scheme         certificate.Scheme
	Direction      Direction // children's scheme
	Registry       Registry  // children's scheme
	MinAge, MaxAge int       // age in whole years at the group's start, inclusive
	Certified      bool      // Certification == ProgramCertified
	EnrolmentOpen  bool
	Municipality   string
	EnrolmentLimit int // live contracts allowed on the program; 0 means no limit

	// Adult scheme.
	CompetencyArea string
	AcademicHours  int // 36–114

	// What a family reads on the program's page (each optional).
	Annotation  string   // a short summary, one line
	Description string   // the full text, lines separated by line feeds
	Goals       string   // goals and tasks, lines separated by line feeds
	Tags        []string // kinds of activity and interests, lower case, each once

	// Certification is the regional operator's review of the program; ""
	// for a draft or a certified one, which Certified tells apart (read it
	// with CertificationOf). CertificationReason is the reason of the last
	// denial, empty otherwise.
	Certification       Certification
	CertificationReason string
}

// Module is a priced part of a program.
type Module struct {
	ID             uuid.UUID
	ProgramID      uuid.UUID
	Name           string
	Price          funding.Money // the provider's price for the whole module
	NormativePrice funding.Money // the normative cost cap for the whole module
	Hours          int
	MinChildren    int
	MaxChildren    int
	// WeeklyHours is the load a week a child takes: what the module holds
	// of a certificate whose nominal is in hours (0: such certificates
	// cannot enrol).
	WeeklyHours int
}

// Group runs a module over dates for a number of children.
type Group struct {
	ID       uuid.UUID
	ModuleID uuid.UUID
	Name     string
	Start    funding.Date
	End      funding.Date
	Capacity int
	Schedule string
	// Address is where the group meets, when not at the provider's
	// address ("" otherwise).
	Address string
	// Sessions are the group's weekly meetings (schedule.go): the
	// structured schedule a child's week is built from; Schedule is the
	// free text shown beside it.
	Sessions []Session
}

// Months lists the calendar months the group runs in, from its start's
// to its end's; nil when a date is not set or the end is before the start.
func (g Group) Months() []funding.Month {
	if g.Start.IsZero() || g.End.IsZero() || g.End.Before(g.Start) {
		return nil
	}
	var out []funding.Month
	for m, last := g.Start.MonthOf(), g.End.MonthOf(); !m.After(last); m = m.Next() {
		out = append(out, m)
	}
	return out
}
