package catalog

import (
	"fmt"
	"slices"

	"github.com/google/uuid"

	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/funding"
)

// Limits of the schemes that the constructors enforce.
const (
	MaxChildAge      = 18  // a children's program ends before adulthood
	MinAcademicHours = 36  // adult advanced-training course, shortest
	MaxAcademicHours = 114 // adult advanced-training course, longest
)

// Registries lists the known registries.
var Registries = []Registry{Certified, Significant, PreProfessional, General, Paid}

// Known reports whether r is one of Registries.
func (r Registry) Known() bool {
	for _, k := range Registries {
		if r == k {
			return true
		}
	}
	return false
}

// BudgetFunded reports whether services of r are paid by the municipal
// budget (Significant, PreProfessional, General): the registries open to an
// accounting certificate and counted by the registry quotas.
func (r Registry) BudgetFunded() bool {
	return r == Significant || r == PreProfessional || r == General
}

// Known reports whether d is one of the seven Directions.
func (d Direction) Known() bool {
	for _, k := range Directions {
		if d == k {
			return true
		}
	}
	return false
}

func invalid(field, rule string, value any) error {
	v := ""
	if value != nil {
		v = fmt.Sprint(value)
	}
	return &funding.ValidationError{Field: field, Rule: rule, Value: v}
}

// required cleans a text that must not be empty (funding.Text).
func required(field, s string, max int) (string, error) {
	s, err := funding.Text(field, s, max)
	if err == nil && s == "" {
		err = invalid(field, "must not be empty", nil)
	}
	return s, err
}

func newID(id uuid.UUID) (uuid.UUID, error) {
	if id != uuid.Nil {
		return id, nil
	}
	return uuid.NewV7()
}

// NewProvider validates p and gives it an id (UUIDv7) when it has none.
// Rules: name not blank; INN of 10 or 12 digits; EnrolmentLimit ≥ 0;
// every agreement names a municipality and has a period with start ≤ end.
// Texts are cleaned by funding.Text: the name at most funding.MaxNameLen
// characters, municipality codes at most funding.MaxCodeLen. The contacts
// are optional: the address at most MaxAddressLen characters, the phone
// digits with + ( ) - and spaces (5 to 15 digits), the e-mail address one
// @ before a domain with a dot, the site an http or https URL. The
// accounting details are optional too (providerAccounting): the KPP, and
// the bank details all or nothing but the correspondent account.
func NewProvider(p Provider) (Provider, error) {
	var err error
	if p.Name, err = required("name", p.Name, funding.MaxNameLen); err != nil {
		return Provider{}, err
	}
	if p.INN, err = funding.Text("inn", p.INN, funding.MaxCodeLen); err != nil {
		return Provider{}, err
	}
	if !validINN(p.INN) {
		return Provider{}, invalid("inn", "must be 10 or 12 digits", p.INN)
	}
	if p.Municipality, err = funding.Text("municipality", p.Municipality, funding.MaxCodeLen); err != nil {
		return Provider{}, err
	}
	if p.EnrolmentLimit < 0 {
		return Provider{}, invalid("enrolment_limit", "must not be negative", p.EnrolmentLimit)
	}
	if err := providerContacts(&p); err != nil {
		return Provider{}, err
	}
	if err := providerAccounting(&p); err != nil {
		return Provider{}, err
	}
	p.Agreements = slices.Clone(p.Agreements)
	for i, a := range p.Agreements {
		if p.Agreements[i].Municipality, err = required(fmt.Sprintf("agreements[%d].municipality", i), a.Municipality, funding.MaxCodeLen); err != nil {
			return Provider{}, err
		}
		if _, err := funding.NewPeriod(a.Period.Start, a.Period.End); err != nil {
			return Provider{}, invalid(fmt.Sprintf("agreements[%d].period", i), "must have start ≤ end, both set", a.Period)
		}
	}
	id, err := newID(p.ID)
	if err != nil {
		return Provider{}, err
	}
	p.ID = id
	return p, nil
}

func validINN(s string) bool {
	if len(s) != 10 && len(s) != 12 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// NewProgram validates p and gives it an id (UUIDv7) when it has none.
//
// Common rules: name not blank; scheme known; EnrolmentLimit ≥ 0.
// Children's scheme: direction one of the seven; registry known;
// 0 ≤ MinAge ≤ MaxAge ≤ 18. Adult scheme: competency area one of
// CompetencyAreas (by code or name, stored by its Russian name);
// 36 ≤ AcademicHours ≤ 114; ages optional (0 ≤ MinAge, and MaxAge 0 meaning
// no upper bound, otherwise MinAge ≤ MaxAge); direction and registry empty
// or known. Texts are cleaned by funding.Text: the name and the competency
// area at most funding.MaxNameLen characters, the municipality at most
// funding.MaxCodeLen.
//
// The page's texts are optional: the annotation one line of at most
// MaxAnnotationLen characters, the description and the goals several
// lines (funding.MultilineText) of at most MaxDescriptionLen and
// MaxGoalsLen; at most MaxTags tags, each a line of at most MaxTagLen
// characters, not blank, put in lower case, none twice (the field of a
// bad one is "tags[i]").
func NewProgram(p Program) (Program, error) {
	var err error
	if p.Name, err = required("name", p.Name, funding.MaxNameLen); err != nil {
		return Program{}, err
	}
	if p.Municipality, err = funding.Text("municipality", p.Municipality, funding.MaxCodeLen); err != nil {
		return Program{}, err
	}
	if p.CompetencyArea, err = funding.Text("competency_area", p.CompetencyArea, funding.MaxNameLen); err != nil {
		return Program{}, err
	}
	if p.EnrolmentLimit < 0 {
		return Program{}, invalid("enrolment_limit", "must not be negative", p.EnrolmentLimit)
	}
	if p.MinAge < 0 {
		return Program{}, invalid("min_age", "must not be negative", p.MinAge)
	}
	if err := programContent(&p); err != nil {
		return Program{}, err
	}
	if p.Certification != "" && !p.Certification.Known() {
		return Program{}, invalid("certification", "must be empty or a certification status", p.Certification)
	}
	switch p.Scheme {
	case certificate.Supplementary:
		if !p.Direction.Known() {
			return Program{}, invalid("direction", "must be one of the seven directions", p.Direction)
		}
		if !p.Registry.Known() {
			return Program{}, invalid("registry", "must be a known registry", p.Registry)
		}
		if p.MaxAge < p.MinAge {
			return Program{}, invalid("max_age", "must not be below min_age", p.MaxAge)
		}
		if p.MaxAge > MaxChildAge {
			return Program{}, invalid("max_age", fmt.Sprintf("must not exceed %d", MaxChildAge), p.MaxAge)
		}
	case certificate.DigitalSkills:
		if p.CompetencyArea == "" {
			return Program{}, invalid("competency_area", "must not be empty", nil)
		}
		area, ok := LookupCompetencyArea(p.CompetencyArea)
		if !ok {
			return Program{}, invalid("competency_area", "must be one of the 22 competency areas (GET /v1/catalog/competency-areas)", p.CompetencyArea)
		}
		// Stored by its Russian name, as registries, exports and pages show
		// it, whichever of its names or its code the caller used.
		p.CompetencyArea = area.Name
		if p.Direction != "" && !p.Direction.Known() {
			return Program{}, invalid("direction", "must be empty or one of the seven directions", p.Direction)
		}
		if p.Registry != "" && !p.Registry.Known() {
			return Program{}, invalid("registry", "must be empty or a known registry", p.Registry)
		}
		if p.AcademicHours < MinAcademicHours || p.AcademicHours > MaxAcademicHours {
			return Program{}, invalid("academic_hours", fmt.Sprintf("must be between %d and %d", MinAcademicHours, MaxAcademicHours), p.AcademicHours)
		}
		if p.MaxAge < 0 || (p.MaxAge != 0 && p.MaxAge < p.MinAge) {
			return Program{}, invalid("max_age", "must be 0 (no bound) or not below min_age", p.MaxAge)
		}
	default:
		return Program{}, invalid("scheme", "must be supplementary or digital_skills", p.Scheme)
	}
	id, err := newID(p.ID)
	if err != nil {
		return Program{}, err
	}
	p.ID = id
	return p, nil
}

// AcceptsAge reports whether a learner aged age (whole years at the group's
// start) fits the program: MinAge ≤ age ≤ MaxAge, where an adult program's
// MaxAge 0 means no upper bound.
func (p Program) AcceptsAge(age int) bool {
	if age < p.MinAge {
		return false
	}
	if p.Scheme == certificate.DigitalSkills && p.MaxAge == 0 {
		return true
	}
	return age <= p.MaxAge
}

// NewModule validates m and gives it an id (UUIDv7) when it has none.
// Rules: name not blank; Price ≥ 0; NormativePrice ≥ 0; Hours > 0;
// WeeklyHours from 0 to certificate.MaxWeeklyHours;
// MinChildren ≥ 0; MaxChildren ≥ 0 where 0 means "not set", otherwise
// MinChildren ≤ MaxChildren. The name is cleaned by funding.Text, at most
// funding.MaxNameLen characters.
func NewModule(m Module) (Module, error) {
	var err error
	if m.Name, err = required("name", m.Name, funding.MaxNameLen); err != nil {
		return Module{}, err
	}
	if m.Price.IsNegative() {
		return Module{}, invalid("price", "must not be negative", m.Price)
	}
	if m.NormativePrice.IsNegative() {
		return Module{}, invalid("normative_price", "must not be negative", m.NormativePrice)
	}
	if m.Hours <= 0 {
		return Module{}, invalid("hours", "must be positive", m.Hours)
	}
	if m.WeeklyHours < 0 || m.WeeklyHours > certificate.MaxWeeklyHours {
		return Module{}, invalid("weekly_hours", fmt.Sprintf("must be from 0 to %d", certificate.MaxWeeklyHours), m.WeeklyHours)
	}
	if m.MinChildren < 0 {
		return Module{}, invalid("min_children", "must not be negative", m.MinChildren)
	}
	if m.MaxChildren < 0 {
		return Module{}, invalid("max_children", "must not be negative", m.MaxChildren)
	}
	if m.MaxChildren != 0 && m.MaxChildren < m.MinChildren {
		return Module{}, invalid("max_children", "must not be below min_children", m.MaxChildren)
	}
	id, err := newID(m.ID)
	if err != nil {
		return Module{}, err
	}
	m.ID = id
	return m, nil
}

// NewGroup validates g and gives it an id (UUIDv7) when it has none. When
// its module m is given, g.ModuleID is set to m.ID when nil and must equal it
// otherwise, and the capacity is checked against m.MaxChildren; when m is nil
// (the caller does not have it at hand) g.ModuleID must be set.
// Rules: Start and End set with Start ≤ End; Capacity > 0 and, when
// m.MaxChildren is set, Capacity ≤ m.MaxChildren. The name, the schedule
// and the address (optional: "" is the provider's) are cleaned by
// funding.Text, at most funding.MaxNameLen characters each.
func NewGroup(g Group, m *Module) (Group, error) {
	switch {
	case m == nil && g.ModuleID == uuid.Nil:
		return Group{}, invalid("module_id", "must be set", nil)
	case m == nil:
	case g.ModuleID == uuid.Nil:
		g.ModuleID = m.ID
	case g.ModuleID != m.ID:
		return Group{}, invalid("module_id", "must be the module's id", g.ModuleID)
	}
	var err error
	if g.Name, err = funding.Text("name", g.Name, funding.MaxNameLen); err != nil {
		return Group{}, err
	}
	if g.Schedule, err = funding.Text("schedule", g.Schedule, funding.MaxNameLen); err != nil {
		return Group{}, err
	}
	if g.Address, err = funding.Text("address", g.Address, MaxAddressLen); err != nil {
		return Group{}, err
	}
	if g.Sessions, err = NewSessions(g.Sessions); err != nil {
		return Group{}, err
	}
	if g.Start.IsZero() {
		return Group{}, invalid("start", "must be set", nil)
	}
	if g.End.IsZero() {
		return Group{}, invalid("end", "must be set", nil)
	}
	if g.End.Before(g.Start) {
		return Group{}, invalid("end", "must not be before start", g.End)
	}
	if g.Capacity <= 0 {
		return Group{}, invalid("capacity", "must be positive", g.Capacity)
	}
	if m != nil && m.MaxChildren > 0 && g.Capacity > m.MaxChildren {
		return Group{}, invalid("capacity", fmt.Sprintf("must not exceed the module's max_children %d", m.MaxChildren), g.Capacity)
	}
	id, err := newID(g.ID)
	if err != nil {
		return Group{}, err
	}
	g.ID = id
	return g, nil
}
