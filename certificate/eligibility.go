package certificate

import (
	"fmt"

	"github.com/edufund/edufund/funding"
)

// Reason is one rule an applicant fails. Rule is a stable snake_case code
// for programs (and translations); Message is for people and names the
// parameter value the rule was checked against.
type Reason struct {
	Rule    string
	Message string
}

// Decision is the outcome of an eligibility check: Eligible, or every rule
// that failed (not just the first), in the order the rules are listed in the
// policy's documentation.
type Decision struct {
	Eligible bool
	Reasons  []Reason
}

// Failed reports whether rule is among the reasons.
func (d Decision) Failed(rule string) bool {
	for _, r := range d.Reasons {
		if r.Rule == rule {
			return true
		}
	}
	return false
}

func (d *Decision) fail(rule, msg string) {
	d.Reasons = append(d.Reasons, Reason{Rule: rule, Message: msg})
}

func (d *Decision) done() Decision {
	d.Eligible = len(d.Reasons) == 0
	return *d
}

// Stable rule codes of the eligibility decisions.
const (
	RulePersonIDMissing          = "person_id_missing"
	RuleBirthDateMissing         = "birth_date_missing"
	RuleAgeBelowMinimum          = "age_below_minimum"
	RuleAgeLimitReached          = "age_limit_reached"
	RuleMunicipalityNotIn        = "municipality_not_participating"
	RuleAlreadyIssued            = "certificate_already_issued"
	RuleCitizenship              = "citizenship_not_eligible"
	RuleSexMissing               = "sex_missing"
	RulePensionAgeReached        = "pension_age_reached"
	RuleEducation                = "education_not_eligible"
	RuleRegionNotIn              = "region_not_participating"
	RuleRegistration             = "registration_not_eligible"
	RuleAlreadyIssuedThisYear    = "certificate_already_issued_this_year"
	DefaultChildMinAge           = 5
	DefaultAdultMinAge           = 18
	DefaultCitizenship           = "RU"
	DefaultDocumentsDeadlineDays = 30
)

// Age is the number of whole years completed on date on by a person born
// on birth (0 before the first birthday). A birthday on 29 February is
// reached on 28 February in a common year.
func Age(birth, on funding.Date) int {
	years := on.Year() - birth.Year()
	if years > 0 && on.Before(birth.AddYears(years)) {
		years--
	}
	if years < 0 {
		return 0
	}
	return years
}

// ChildPolicy decides eligibility for the children's certificate
// (scheme supplementary). Rules, in the order Decide lists failures:
//
//  1. person_id_missing: the child has an identity (for rule 5).
//  2. birth_date_missing / age_below_minimum: aged at least the minimum of
//     the funding municipality (MinAgeByMunicipality, else MinAge, else 5).
//  3. age_limit_reached: under 18.
//  4. municipality_not_participating: resident of a participating
//     municipality, and funded by a participating one.
//  5. certificate_already_issued: no certificate of this scheme held by the
//     child yet, in any status but Cancelled (a cancelled certificate, e.g.
//     after a move, does not prevent issuing a new one).
type ChildPolicy struct {
	MinAge               int            // 0 means DefaultChildMinAge
	MinAgeByMunicipality map[string]int // overrides MinAge per municipality code
	// Municipalities is the set of participating municipality codes; a nil
	// or empty set means none participates.
	Municipalities map[string]bool
}

// MinAgeFor is the minimum age in the given municipality.
func (p ChildPolicy) MinAgeFor(municipality string) int {
	if a, ok := p.MinAgeByMunicipality[municipality]; ok && a > 0 {
		return a
	}
	if p.MinAge > 0 {
		return p.MinAge
	}
	return DefaultChildMinAge
}

// Decide checks h on date on for a certificate funded by municipality (""
// means the municipality of residence, h.Municipality); existing are the
// certificates already issued to the person (others are ignored). The
// minimum age is the funding municipality's; both the municipality of
// residence and the funding one must participate.
func (p ChildPolicy) Decide(h Holder, municipality string, on funding.Date, existing []Certificate) Decision {
	if municipality == "" {
		municipality = h.Municipality
	}
	var d Decision
	if h.PersonID == "" {
		d.fail(RulePersonIDMissing, "the child's person id is missing")
	}
	if h.BirthDate.IsZero() {
		d.fail(RuleBirthDateMissing, "the child's date of birth is missing")
	} else {
		age := Age(h.BirthDate, on)
		if minAge := p.MinAgeFor(municipality); age < minAge {
			d.fail(RuleAgeBelowMinimum, fmt.Sprintf("age %d is below the minimum %d for municipality %s on %s", age, minAge, municipality, on))
		}
		if age >= AdultAge {
			d.fail(RuleAgeLimitReached, fmt.Sprintf("age %d is not under %d on %s", age, AdultAge, on))
		}
	}
	if !p.Municipalities[h.Municipality] {
		d.fail(RuleMunicipalityNotIn, fmt.Sprintf("municipality of residence %q does not take part in the scheme", h.Municipality))
	}
	if municipality != h.Municipality && !p.Municipalities[municipality] {
		d.fail(RuleMunicipalityNotIn, fmt.Sprintf("funding municipality %q does not take part in the scheme", municipality))
	}
	if h.PersonID != "" {
		for i := range existing {
			c := &existing[i]
			if c.Scheme == Supplementary && c.Holder.PersonID == h.PersonID && c.Status != Cancelled {
				// The number is a credential (ByName protection): never in a reason.
				d.fail(RuleAlreadyIssued, fmt.Sprintf("the child already holds a certificate of this scheme (%s)", c.Status))
				break
			}
		}
	}
	return d.done()
}

// AdultPolicy decides eligibility for the adult personal digital
// certificate (scheme digital_skills). Rules, in the order Decide lists
// failures:
//
//  1. person_id_missing: the person has an identity (for rule 7).
//  2. citizenship_not_eligible: citizen of Citizenship (default RU).
//  3. birth_date_missing / age_below_minimum: aged MinAge or more (default
//     18; the 2019 pilot used 16).
//  4. sex_missing / pension_age_reached: the date is before the pension
//     date of PensionAges (PensionAges.Date; the day before it is the last
//     eligible day). A table with no age for the person (an invalid one)
//     fails this rule too, saying so.
//  5. education_not_eligible: secondary vocational or higher, completed or
//     being studied for.
//  6. region_not_participating / registration_not_eligible: permanent or
//     temporary registration in a participating region.
//  7. certificate_already_issued_this_year: no certificate of this scheme
//     issued to the person in the same calendar year, in any status (one per
//     person per year; last year's does not count).
//
// A certificate issued on an eligible decision is valid until 31 December
// of the year of issue (see New).
type AdultPolicy struct {
	MinAge      int    // 0 means DefaultAdultMinAge
	Citizenship string // "" means DefaultCitizenship
	// Regions is the set of participating region codes; a nil or empty set
	// means none participates.
	Regions map[string]bool
	// DocumentsDeadline is the number of days after the issue date by which
	// the holder must upload the provider's documents; 0 means
	// DefaultDocumentsDeadlineDays. See MustCancel.
	DocumentsDeadline int
	// PensionAges is the pension-age table (rule 4); nil or empty means
	// DefaultPensionAges. It should pass PensionAges.Validate.
	PensionAges PensionAges
}

// pensionAges is the table rule 4 uses.
func (p AdultPolicy) pensionAges() PensionAges {
	if len(p.PensionAges) == 0 {
		return defaultPensionAges
	}
	return p.PensionAges
}

// Decide checks h on date on; existing are the certificates already issued
// to the person (others are ignored).
func (p AdultPolicy) Decide(h Holder, on funding.Date, existing []Certificate) Decision {
	var d Decision
	if h.PersonID == "" {
		d.fail(RulePersonIDMissing, "the person id is missing")
	}
	citizenship := p.Citizenship
	if citizenship == "" {
		citizenship = DefaultCitizenship
	}
	if h.Citizenship != citizenship {
		d.fail(RuleCitizenship, fmt.Sprintf("citizenship %q is not %s", h.Citizenship, citizenship))
	}
	minAge := p.MinAge
	if minAge <= 0 {
		minAge = DefaultAdultMinAge
	}
	sexKnown := h.Sex == Male || h.Sex == Female
	if h.BirthDate.IsZero() {
		d.fail(RuleBirthDateMissing, "the date of birth is missing")
	} else if age := Age(h.BirthDate, on); age < minAge {
		d.fail(RuleAgeBelowMinimum, fmt.Sprintf("age %d is below the minimum %d on %s", age, minAge, on))
	}
	if !sexKnown {
		d.fail(RuleSexMissing, fmt.Sprintf("sex %q is needed for the pension age", h.Sex))
	} else if !h.BirthDate.IsZero() {
		born := h.BirthDate.Year()
		if months, ok := p.pensionAges().Months(born, h.Sex); !ok {
			// An invalid table: refuse rather than issue unchecked.
			d.fail(RulePensionAgeReached, fmt.Sprintf("the policy's pension-age table has no age for %s born %d, so the pension age cannot be checked", h.Sex, born))
		} else if pa := h.BirthDate.AddMonths(months); !on.Before(pa) {
			d.fail(RulePensionAgeReached, fmt.Sprintf("the general pension age %s (%s, born %d) is reached on %s, on or before %s",
				formatMonths(months), h.Sex, born, pa, on))
		}
	}
	switch h.Education {
	case EducationVocational, EducationHigher, EducationStudyingVocational, EducationStudyingHigher:
	default:
		d.fail(RuleEducation, fmt.Sprintf("education %q is not secondary vocational or higher, completed or studying", h.Education))
	}
	if !p.Regions[h.Region] {
		d.fail(RuleRegionNotIn, fmt.Sprintf("region %q does not take part in the scheme", h.Region))
	}
	if h.Registration != Permanent && h.Registration != Temporary {
		d.fail(RuleRegistration, fmt.Sprintf("registration %q is not permanent or temporary", h.Registration))
	}
	if h.PersonID != "" {
		for i := range existing {
			c := &existing[i]
			if c.Scheme == DigitalSkills && c.Holder.PersonID == h.PersonID && c.IssuedOn.Year() == on.Year() {
				d.fail(RuleAlreadyIssuedThisYear, fmt.Sprintf("a certificate (%s) was already issued to the person in %d; one per year", c.Status, c.IssuedOn.Year()))
				break
			}
		}
	}
	return d.done()
}

// DocumentsDue is the last day the holder of c may upload the provider's
// documents: DocumentsDeadline days after the certificate took its place
// of the quota (Documents.DueFrom; the issue date when that is zero). A
// certificate the queue reached late has its full time from then.
func (p AdultPolicy) DocumentsDue(c Certificate) funding.Date {
	days := p.DocumentsDeadline
	if days <= 0 {
		days = DefaultDocumentsDeadlineDays
	}
	from := c.Documents.DueFrom
	if from.IsZero() {
		from = c.IssuedOn
	}
	return from.AddDays(days)
}

// MustCancel reports whether the adult certificate c must be cancelled on
// date on for missing documents: it is an adult certificate, not yet
// cancelled or expired, the deadline (DocumentsDue) has passed, the
// documents are not uploaded and no valid reason for the delay is
// recorded. The caller cancels it and returns the seat to the queue.
func (p AdultPolicy) MustCancel(c Certificate, on funding.Date, uploaded, validReason bool) bool {
	if c.Scheme != DigitalSkills || c.Status.Terminal() {
		return false
	}
	return MustCancelForDocuments(p.DocumentsDue(c), on, uploaded, validReason)
}

// MustCancelForDocuments is the rule under MustCancel: past the last day
// deadline, with the documents not uploaded and no valid reason recorded.
func MustCancelForDocuments(deadline, on funding.Date, uploaded, validReason bool) bool {
	return !uploaded && !validReason && on.After(deadline)
}

// DefaultChildPolicy is the children's policy with rules.md's defaults
// (minimum age 5). It has no participating municipalities: the region
// fills Municipalities.
func DefaultChildPolicy() ChildPolicy {
	return ChildPolicy{MinAge: DefaultChildMinAge, Municipalities: map[string]bool{}}
}

// DefaultAdultPolicy is the adult policy with rules.md's defaults (Russian
// citizens from 18 to the pension age of DefaultPensionAges, documents
// within 30 days). It has no participating regions: the operator fills
// Regions.
func DefaultAdultPolicy() AdultPolicy {
	return AdultPolicy{
		MinAge:            DefaultAdultMinAge,
		Citizenship:       DefaultCitizenship,
		Regions:           map[string]bool{},
		DocumentsDeadline: DefaultDocumentsDeadlineDays,
		PensionAges:       DefaultPensionAges(),
	}
}
