package certificate

import "github.com/edufund/edufund/funding"

// Number is a certificate's personal number: exactly ten digits.
type Number string

// ParseNumber validates the ten-digit form.
func ParseNumber(s string) (Number, error) {
	if len(s) != 10 {
		return "", &funding.ValidationError{Field: "number", Rule: "must be exactly 10 digits", Value: s}
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return "", &funding.ValidationError{Field: "number", Rule: "must be exactly 10 digits", Value: s}
		}
	}
	return Number(s), nil
}

func (n Number) String() string { return string(n) }
