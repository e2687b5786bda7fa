package certificate

import (
	"errors"
	"strings"

	"github.com/edufund/edufund/funding"
)

// MaxPersonID is the longest person identifier, in characters.
const MaxPersonID = 100

// ParsePersonID returns the canonical form of a person identifier (a
// holder's or a guardian's), the form in which one person has one
// certificate per scheme. It applies funding.Text (invisible characters
// such as U+200B removed, NFC, trimmed, no control characters) and lower-
// cases the result (for the identifiers it accepts, whose letters are a–z,
// that is Unicode case folding); then the identifier must be one of
//
//   - a SNILS: 11 digits, written plain or in the usual groups
//     ("112-233-445 95", "112 233 445 95", "112-233-445-95"), whose check
//     number is right (numbers up to 001-001-998 predate the check number
//     and are not checked); its canonical form is the 11 digits;
//   - a region's own identifier: a letter or digit, then up to 99
//     letters, digits, '.', '_', ':' or '-', with the letters a–z
//     ("child-ivanov-misha").
//
// A SNILS with a wrong check number is refused, not taken as a region's
// identifier. Errors are *funding.ValidationError for the field person_id.
func ParsePersonID(s string) (string, error) { return parsePersonID("person_id", s) }

func parsePersonID(field, s string) (string, error) {
	s, err := funding.Text(field, s, MaxPersonID)
	if err != nil {
		return "", err
	}
	s = strings.ToLower(s)
	if digits, ok := snilsDigits(s); ok {
		if !snilsChecks(digits) {
			return "", &funding.ValidationError{Field: field, Rule: "is a SNILS with a wrong check number", Value: s}
		}
		return digits, nil
	}
	switch {
	case s == "":
		return "", &funding.ValidationError{Field: field, Rule: "is required"}
	case !regionID(s):
		return "", &funding.ValidationError{Field: field,
			Rule: "must be a SNILS (11 digits, such as 112-233-445 95) or an identifier of a-z, 0-9, '.', '_', ':' and '-' starting with a letter or digit", Value: s}
	}
	return s, nil
}

// snilsDigits returns the 11 digits of s when s is written as a SNILS:
// digits only, or with one '-' or ' ' after the third, sixth and ninth.
func snilsDigits(s string) (string, bool) {
	var d []byte
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			d = append(d, c)
		case (c == '-' || c == ' ') && (len(d) == 3 || len(d) == 6 || len(d) == 9) && s[i-1] >= '0' && s[i-1] <= '9':
		default:
			return "", false
		}
	}
	return string(d), len(d) == 11
}

// snilsChecks reports whether the last two of the 11 digits are the check
// number of the first nine: the sum of each digit times its weight (9 for
// the first down to 1 for the ninth), taken modulo 101, with 100 written
// as 00. Numbers up to 001-001-998 were issued before the check number
// and are not checked.
func snilsChecks(d string) bool {
	if d[:9] <= "001001998" {
		return true
	}
	sum := 0
	for i := 0; i < 9; i++ {
		sum += int(d[i]-'0') * (9 - i)
	}
	sum = sum % 101 % 100
	return int(d[9]-'0')*10+int(d[10]-'0') == sum
}

// regionID reports whether s is a region's own identifier:
// [a-z0-9][a-z0-9._:-]{0,99}.
func regionID(s string) bool {
	if len(s) == 0 || len(s) > MaxPersonID {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case i > 0 && (c == '.' || c == '_' || c == ':' || c == '-'):
		default:
			return false
		}
	}
	return true
}

// Canonicalize puts the holder's person identifier in its canonical form
// (ParsePersonID; an empty one stays empty, for eligibility to report it
// missing) and cleans the holder's texts with funding.Text: the full name
// (funding.MaxNameLen characters), the region and the municipality
// (funding.MaxCodeLen). A service calls it before it looks the person's
// certificates up; New calls it again. Every problem is reported, joined;
// each is a *funding.ValidationError naming its holder.* field. On error
// h is left as it was.
func (h *Holder) Canonicalize() error {
	c := *h
	var errs errList
	if c.PersonID != "" {
		c.PersonID = errs.keep(parsePersonID("holder.person_id", c.PersonID))
	}
	c.FullName = errs.keep(funding.Text("holder.full_name", c.FullName, funding.MaxNameLen))
	c.Region = errs.keep(funding.Text("holder.region", c.Region, funding.MaxCodeLen))
	c.Municipality = errs.keep(funding.Text("holder.municipality", c.Municipality, funding.MaxCodeLen))
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	*h = c
	return nil
}

// errList collects the problems of a validation that reports them all.
type errList []error

// keep records err, if any, and returns v.
func (l *errList) keep(v string, err error) string {
	if err != nil {
		*l = append(*l, err)
	}
	return v
}
