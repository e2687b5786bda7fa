package certificate

import (
	"errors"
	"fmt"

	"github.com/google/uuid"

	"github.com/edufund/edufund/funding"
)

// AdultAge is the age of majority: a child's certificate is valid until the
// day before the 18th birthday.
const AdultAge = 18

// NewParams are the inputs of New. Eligibility is decided separately (by
// ChildPolicy.Decide or AdultPolicy.Decide); New checks the form of the data
// and computes what follows from it.
type NewParams struct {
	Number       Number
	Scheme       Scheme
	Holder       Holder
	GuardianID   string // a child's parent; must be empty for adults
	Municipality string // the funding municipality; defaults to Holder.Municipality
	Category     string // required for a funded children's certificate
	// Kind defaults to Accounting for a children's certificate; an adult
	// certificate is always Funded (the federal operator pays the course).
	Kind     Kind
	IssuedOn funding.Date
	// Protection defaults to Forbidden (only the holder applies). ByPassphrase
	// needs PassphraseHash (see HashPassphrase).
	Protection     ProtectionMode
	PassphraseHash string
}

// New validates p and returns an Issued certificate with a fresh UUIDv7 and
// its ValidUntil: the day before the 18th birthday for a child (a birthday on
// 29 February falls on 28 February in a common year), 31 December of the
// year of issue for an adult. The holder is canonicalised
// (Holder.Canonicalize), a child's guardian identifier too (ParsePersonID),
// and the municipality and category are cleaned by funding.Text, at most
// funding.MaxCodeLen characters each. All problems are reported at once,
// joined; each is a *funding.ValidationError naming its field and matching
// funding.ErrInvalid.
func New(p NewParams) (Certificate, error) {
	var errs errList
	bad := func(field, rule, value string) {
		errs = append(errs, &funding.ValidationError{Field: field, Rule: rule, Value: value})
	}

	if _, err := ParseNumber(string(p.Number)); err != nil {
		errs = append(errs, err)
	}
	if p.IssuedOn.IsZero() {
		bad("issued_on", "is required", "")
	}
	h := p.Holder
	if err := h.Canonicalize(); err != nil {
		errs = append(errs, err)
	}
	if h.PersonID == "" {
		bad("holder.person_id", "is required", "")
	}
	if NormalizeName(h.FullName) == "" {
		bad("holder.full_name", "is required", h.FullName)
	}
	if h.BirthDate.IsZero() {
		bad("holder.birth_date", "is required", "")
	} else if !p.IssuedOn.IsZero() && h.BirthDate.After(p.IssuedOn) {
		bad("holder.birth_date", "must not be after the issue date "+p.IssuedOn.String(), h.BirthDate.String())
	}
	if h.Sex != "" && h.Sex != Male && h.Sex != Female {
		bad("holder.sex", "must be male or female", string(h.Sex))
	}
	if h.Citizenship != "" && !isCountryCode(h.Citizenship) {
		bad("holder.citizenship", "must be an ISO 3166-1 alpha-2 code such as RU", h.Citizenship)
	}
	if h.Registration != "" && h.Registration != Permanent && h.Registration != Temporary {
		bad("holder.registration", "must be permanent or temporary", string(h.Registration))
	}
	if !validEducation(h.Education) {
		bad("holder.education", "is not a known level", string(h.Education))
	}

	c := Certificate{
		Number:       p.Number,
		Scheme:       p.Scheme,
		Holder:       h,
		GuardianID:   p.GuardianID,
		Municipality: errs.keep(funding.Text("municipality", p.Municipality, funding.MaxCodeLen)),
		Category:     errs.keep(funding.Text("category", p.Category, funding.MaxCodeLen)),
		Kind:         p.Kind,
		Status:       Issued,
		IssuedOn:     p.IssuedOn,
		Protection:   Protection{Mode: p.Protection, PassphraseHash: p.PassphraseHash},
	}
	if c.Municipality == "" {
		c.Municipality = h.Municipality
	}

	switch p.Scheme {
	case Supplementary:
		if c.GuardianID != "" {
			c.GuardianID = errs.keep(parsePersonID("guardian_id", c.GuardianID))
		}
		if c.Kind == "" {
			c.Kind = Accounting
		}
		if c.Kind != Accounting && c.Kind != Funded {
			bad("kind", "must be accounting or funded", string(p.Kind))
		}
		if c.Kind == Funded && c.Category == "" {
			bad("category", "is required for a funded certificate", "")
		}
		if c.Municipality == "" {
			bad("municipality", "is required for a children's certificate", "")
		}
		if !h.BirthDate.IsZero() {
			c.ValidUntil = h.BirthDate.AddYears(AdultAge).AddDays(-1)
			if !p.IssuedOn.IsZero() && c.ValidUntil.Before(p.IssuedOn) {
				bad("holder.birth_date", fmt.Sprintf("the child must be under %d on the issue date %s", AdultAge, p.IssuedOn), h.BirthDate.String())
			}
		}
	case DigitalSkills:
		if c.Kind == "" {
			c.Kind = Funded
		}
		if c.Kind != Funded {
			bad("kind", "must be funded for an adult certificate", string(p.Kind))
		}
		if p.GuardianID != "" {
			bad("guardian_id", "must be empty for an adult certificate", p.GuardianID)
		}
		if h.Sex == "" {
			bad("holder.sex", "is required for an adult certificate (pension age)", "")
		}
		if !p.IssuedOn.IsZero() {
			c.ValidUntil = funding.MustDate(p.IssuedOn.Year(), 12, 31)
		}
	default:
		bad("scheme", "must be supplementary or digital_skills", string(p.Scheme))
	}

	switch c.Protection.Mode {
	case "":
		c.Protection.Mode = Forbidden
	case Forbidden, ByName:
	case ByPassphrase:
		if _, err := parseHash(p.PassphraseHash); err != nil {
			bad("protection.passphrase_hash", "is required for by_passphrase and must come from HashPassphrase", "")
		}
	default:
		bad("protection.mode", "must be forbidden, by_name or by_passphrase", string(p.Protection))
	}
	if c.Protection.Mode != ByPassphrase && p.PassphraseHash != "" {
		bad("protection.passphrase_hash", "is only used with by_passphrase", "")
	}

	if len(errs) > 0 {
		return Certificate{}, errors.Join(errs...)
	}
	id, err := uuid.NewV7()
	if err != nil {
		return Certificate{}, fmt.Errorf("certificate: new id: %w", err)
	}
	c.ID = id
	return c, nil
}

func isCountryCode(s string) bool {
	return len(s) == 2 && s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' && s[1] <= 'Z'
}

func validEducation(e Education) bool {
	switch e {
	case "", EducationGeneral, EducationVocational, EducationHigher, EducationStudyingVocational, EducationStudyingHigher:
		return true
	}
	return false
}
