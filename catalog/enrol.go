package catalog

import (
	"errors"

	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/funding"
)

// Refusals of CanEnrol. Each is returned wrapped in a *funding.RuleError whose
// Code is the stable code given next to it.
var (
	ErrCertificateNotUsable = errors.New("certificate not usable") // certificate_not_usable
	ErrSchemeMismatch       = errors.New("scheme mismatch")        // scheme_mismatch
	ErrAgeOutOfRange        = errors.New("age out of range")       // age_out_of_range
	ErrRegistryNotAllowed   = errors.New("registry not allowed")   // registry_not_allowed
	ErrNotCertified         = errors.New("program not certified")  // not_certified
	ErrEnrolmentClosed      = errors.New("enrolment closed")       // enrolment_closed
	ErrGroupFinished        = errors.New("group finished")         // group_finished
	ErrNoAgreement          = errors.New("no agreement")           // no_agreement
)

// Stable codes of the refusals.
const (
	CodeCertificateNotUsable = "certificate_not_usable"
	CodeSchemeMismatch       = "scheme_mismatch"
	CodeAgeOutOfRange        = "age_out_of_range"
	CodeRegistryNotAllowed   = "registry_not_allowed"
	CodeNotCertified         = "not_certified"
	CodeEnrolmentClosed      = "enrolment_closed"
	CodeGroupFinished        = "group_finished"
	CodeNoAgreement          = "no_agreement"
)

// AgeOn is the age in whole years of a person born on birth, on date on.
// A person born on 29 February turns a year older on 1 March in a common year.
func AgeOn(birth, on funding.Date) int {
	age := on.Year() - birth.Year()
	if on.Month() < birth.Month() || (on.Month() == birth.Month() && on.Day() < birth.Day()) {
		age--
	}
	return age
}

// HasAgreement reports whether p has an agreement with municipality whose
// period covers on.
func (p Provider) HasAgreement(municipality string, on funding.Date) bool {
	for _, a := range p.Agreements {
		if a.Municipality == municipality && a.Period.Contains(on) {
			return true
		}
	}
	return false
}

// CanEnrol decides whether certificate c can enrol in group g of program prog
// run by provider prov on date on. It returns nil or the first failing rule,
// checked in this order:
//
//  1. the certificate is usable: not Cancelled, Expired or Suspended, and on
//     is not after its ValidUntil (an Issued, not yet activated, certificate
//     is usable here: an application may be submitted on it);
//  2. the program's scheme is the certificate's scheme;
//  3. the holder's age in whole years at the group's start is within the
//     program's range;
//  4. children's scheme: an accounting certificate only in a budget-funded
//     registry (Significant, PreProfessional, General); a funded one in any;
//  5. a program in the Certified registry is certified;
//  6. enrolment on the program is open;
//  7. the group has not finished (on ≤ g.End);
//  8. children's scheme: the provider has an agreement with the
//     certificate's municipality for a period covering on. (The adult
//     scheme is paid by the federal operator and needs no agreement.)
func CanEnrol(c certificate.Certificate, prov Provider, prog Program, g Group, on funding.Date) error {
	switch {
	case c.Status == certificate.Cancelled || c.Status == certificate.Expired || c.Status == certificate.Suspended:
		return funding.Refuse(ErrCertificateNotUsable, CodeCertificateNotUsable,
			"certificate %s is %s", c.Number, c.Status)
	case !c.ValidUntil.IsZero() && on.After(c.ValidUntil):
		return funding.Refuse(ErrCertificateNotUsable, CodeCertificateNotUsable,
			"certificate %s is valid until %s, not on %s", c.Number, c.ValidUntil, on)
	}
	if prog.Scheme != c.Scheme {
		return funding.Refuse(ErrSchemeMismatch, CodeSchemeMismatch,
			"program scheme %s, certificate scheme %s", prog.Scheme, c.Scheme)
	}
	age := AgeOn(c.Holder.BirthDate, g.Start)
	if !prog.AcceptsAge(age) {
		if age < prog.MinAge {
			return funding.Refuse(ErrAgeOutOfRange, CodeAgeOutOfRange,
				"age %d at %s is below the program's minimum %d", age, g.Start, prog.MinAge)
		}
		return funding.Refuse(ErrAgeOutOfRange, CodeAgeOutOfRange,
			"age %d at %s is above the program's maximum %d", age, g.Start, prog.MaxAge)
	}
	if c.Scheme == certificate.Supplementary {
		switch {
		case c.Kind == certificate.Funded:
		case c.Kind == certificate.Accounting && prog.Registry.BudgetFunded():
		default:
			return funding.Refuse(ErrRegistryNotAllowed, CodeRegistryNotAllowed,
				"certificate of kind %s cannot enrol in the %s registry", c.Kind, prog.Registry)
		}
		if prog.Registry == Certified && !prog.Certified {
			return funding.Refuse(ErrNotCertified, CodeNotCertified,
				"program %q is in the certified registry but not certified", prog.Name)
		}
	}
	if !prog.EnrolmentOpen {
		return funding.Refuse(ErrEnrolmentClosed, CodeEnrolmentClosed,
			"enrolment on program %q is closed", prog.Name)
	}
	if on.After(g.End) {
		return funding.Refuse(ErrGroupFinished, CodeGroupFinished,
			"group %q ended on %s, before %s", g.Name, g.End, on)
	}
	if c.Scheme == certificate.Supplementary && !prov.HasAgreement(c.Municipality, on) {
		return funding.Refuse(ErrNoAgreement, CodeNoAgreement,
			"provider %q has no agreement with municipality %q covering %s", prov.Name, c.Municipality, on)
	}
	return nil
}
