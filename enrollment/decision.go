package enrollment

import (
	"context"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/funding"
)

// EligibilityDecision is the decision a certificate was issued on, kept
// with it in the transaction that issued it: what the scheme's rules were
// given, the parameter version in force, the rules checked and, for a
// refusal, why. Only decisions that issued a certificate are kept: a
// refused application writes nothing (the caller gets the reasons), and
// Service.Eligibility, a question, writes nothing either.
type EligibilityDecision struct {
	CertificateID uuid.UUID
	Scheme        certificate.Scheme
	DecidedOn     funding.Date
	At            time.Time
	Actor         string
	// Rules is the newest parameter version the decision was made with
	// (Service.RulesVersion; 0: the region's own parameters only).
	Rules int64
	// Inputs are the values the rules compared, by name: the person's
	// data (age, residence, citizenship, education, registration…) and
	// the policy's (minimum age, participating municipality or region,
	// pension date, certificates the person held).
	Inputs map[string]string
	// Checked are the rule codes the policy checked, in its order.
	Checked []string
	// Reasons are the rules failed: none for a certificate issued.
	Reasons []certificate.Reason
}

// Eligible reports whether no rule failed.
func (d EligibilityDecision) Eligible() bool { return len(d.Reasons) == 0 }

// The rule codes each policy checks, in the order Decide lists failures.
var (
	childChecks = []string{certificate.RulePersonIDMissing, certificate.RuleBirthDateMissing, certificate.RuleAgeBelowMinimum,
		certificate.RuleAgeLimitReached, certificate.RuleMunicipalityNotIn, certificate.RuleAlreadyIssued}
	adultChecks = []string{certificate.RulePersonIDMissing, certificate.RuleCitizenship, certificate.RuleBirthDateMissing,
		certificate.RuleAgeBelowMinimum, certificate.RuleSexMissing, certificate.RulePensionAgeReached, certificate.RuleEducation,
		certificate.RuleRegionNotIn, certificate.RuleRegistration, certificate.RuleAlreadyIssuedThisYear}
)

// childInputs are the values ChildPolicy.Decide compares for holder h
// funded by municipality mun on date on.
func childInputs(p certificate.ChildPolicy, h certificate.Holder, mun, category string, on funding.Date, existing []certificate.Certificate) map[string]string {
	held := 0
	for _, c := range existing {
		if c.Scheme == certificate.Supplementary && c.Status != certificate.Cancelled {
			held++
		}
	}
	in := map[string]string{
		"residence_municipality": h.Municipality,
		"funding_municipality":   mun,
		"residence_participates": strconv.FormatBool(p.Municipalities[h.Municipality]),
		"funding_participates":   strconv.FormatBool(p.Municipalities[mun]),
		"min_age":                strconv.Itoa(p.MinAgeFor(mun)),
		"age_limit":              strconv.Itoa(certificate.AdultAge),
		"certificates_held":      strconv.Itoa(held),
		"category":               category,
	}
	if !h.BirthDate.IsZero() {
		in["birth_date"], in["age"] = h.BirthDate.String(), strconv.Itoa(certificate.Age(h.BirthDate, on))
	}
	return in
}

// adultInputs are the values AdultPolicy.Decide compares for h on date on.
func adultInputs(p certificate.AdultPolicy, h certificate.Holder, category string, on funding.Date, existing []certificate.Certificate) map[string]string {
	minAge, citizenship := p.MinAge, p.Citizenship
	if minAge <= 0 {
		minAge = certificate.DefaultAdultMinAge
	}
	if citizenship == "" {
		citizenship = certificate.DefaultCitizenship
	}
	thisYear := 0
	for _, c := range existing {
		if c.Scheme == certificate.DigitalSkills && c.IssuedOn.Year() == on.Year() {
			thisYear++
		}
	}
	in := map[string]string{
		"citizenship":            h.Citizenship,
		"citizenship_required":   citizenship,
		"min_age":                strconv.Itoa(minAge),
		"sex":                    string(h.Sex),
		"education":              string(h.Education),
		"region":                 h.Region,
		"region_participates":    strconv.FormatBool(p.Regions[h.Region]),
		"registration":           string(h.Registration),
		"municipality":           h.Municipality,
		"category":               category,
		"certificates_this_year": strconv.Itoa(thisYear),
	}
	if !h.BirthDate.IsZero() {
		in["birth_date"], in["age"] = h.BirthDate.String(), strconv.Itoa(certificate.Age(h.BirthDate, on))
		ages := p.PensionAges
		if len(ages) == 0 {
			ages = certificate.DefaultPensionAges()
		}
		if d, ok := ages.Date(h.BirthDate, h.Sex); ok {
			in["pension_date"] = d.String()
		}
	}
	return in
}

// keepDecision stores the decision certificate c was issued on, in the
// issuing transaction.
func (s *Service) keepDecision(ctx context.Context, tx Tx, c certificate.Certificate, by Caller, on funding.Date, inputs map[string]string, checked []string, d certificate.Decision) error {
	return tx.SaveDecision(ctx, EligibilityDecision{
		CertificateID: c.ID, Scheme: c.Scheme, DecidedOn: on, At: s.clock.Now().UTC(), Actor: by.Actor(),
		Rules: s.RulesVersion(), Inputs: inputs, Checked: checked, Reasons: d.Reasons,
	})
}
