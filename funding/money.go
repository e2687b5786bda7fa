package funding

import (
	"fmt"
	"strings"

	"github.com/shopspring/decimal"
)

// Money is an exact amount of roubles and kopecks. The zero value is 0.00.
//
// Money never holds a fraction of a kopeck: arithmetic that could produce one
// (multiplication by a ratio, division) goes through an explicit rounding
// function (Ceil2, Floor2, Round2), so every place a kopeck is gained or lost
// is visible in the code.
type Money struct {
	d decimal.Decimal
}

// MaxMoney bounds every amount: a trillion roubles is far past any
// municipality's annual budget and keeps kopecks well inside int64.
var MaxMoney = Money{decimal.New(1_000_000_000_000, 0)}

var hundred = decimal.New(100, 0)

// Zero is 0.00.
var Zero = Money{}

// Kopecks returns the amount of n kopecks.
func Kopecks(n int64) Money { return Money{decimal.New(n, -2)} }

// Roubles returns the amount of n whole roubles.
func Roubles(n int64) Money { return Money{decimal.New(n, 0)} }

// ParseMoney reads the "1234.56" text form: an optional minus sign, digits,
// and at most two decimals. It refuses exponents, NaN and Inf, grouping
// characters, empty input and amounts of MaxMoney or more in absolute value.
func ParseMoney(s string) (Money, error) {
	bad := func(rule string) (Money, error) {
		return Money{}, &ValidationError{Field: "amount", Rule: rule, Value: s}
	}
	if s == "" {
		return bad("must not be empty")
	}
	body := strings.TrimPrefix(s, "-")
	intPart, frac, hasDot := strings.Cut(body, ".")
	if intPart == "" {
		return bad("must have digits before the decimal point")
	}
	if hasDot && frac == "" {
		return bad("must have digits after the decimal point")
	}
	if len(frac) > 2 {
		return bad("must have at most two decimals (kopecks)")
	}
	for _, part := range []string{intPart, frac} {
		for i := 0; i < len(part); i++ {
			if part[i] < '0' || part[i] > '9' {
				return bad("must be digits with an optional sign and decimal point")
			}
		}
	}
	if len(intPart) > 13 {
		return bad("must be less than " + MaxMoney.String())
	}
	d, err := decimal.NewFromString(s)
	if err != nil {
		return bad("must be a decimal number")
	}
	m := Money{d}
	if m.Abs().Cmp(MaxMoney) >= 0 {
		return bad("must be less than " + MaxMoney.String())
	}
	return m, nil
}

// MustMoney is ParseMoney for literals in tests and examples; it panics on bad input.
func MustMoney(s string) Money {
	m, err := ParseMoney(s)
	if err != nil {
		panic(err)
	}
	return m
}

// FromDecimal converts d to Money, refusing fractions of a kopeck and values
// outside the sane range.
func FromDecimal(d decimal.Decimal) (Money, error) {
	if !d.Shift(2).IsInteger() {
		return Money{}, &ValidationError{Field: "amount", Rule: "must not have fractions of a kopeck", Value: d.String()}
	}
	m := Money{d}
	if m.Abs().Cmp(MaxMoney) >= 0 {
		return Money{}, &ValidationError{Field: "amount", Rule: "must be less than " + MaxMoney.String(), Value: d.String()}
	}
	return m, nil
}

// Ceil2 rounds d up to the kopeck.
func Ceil2(d decimal.Decimal) Money { return Money{d.Shift(2).Ceil().Shift(-2)} }

// Floor2 rounds d down to the kopeck.
func Floor2(d decimal.Decimal) Money { return Money{d.Shift(2).Floor().Shift(-2)} }

// Round2 rounds d to the nearest kopeck, halves away from zero.
func Round2(d decimal.Decimal) Money { return Money{d.Round(2)} }

// Decimal returns the exact value.
func (m Money) Decimal() decimal.Decimal { return m.d }

// Kopecks returns the amount in kopecks, the unit money is stored in.
func (m Money) Kopecks() int64 { return m.d.Shift(2).IntPart() }

// String formats the amount as "1234.56".
func (m Money) String() string { return m.d.StringFixed(2) }

// MarshalText implements encoding.TextMarshaler with the "1234.56" form.
func (m Money) MarshalText() ([]byte, error) { return []byte(m.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler with the rules of ParseMoney.
func (m *Money) UnmarshalText(b []byte) error {
	v, err := ParseMoney(string(b))
	if err != nil {
		return err
	}
	*m = v
	return nil
}

func (m Money) Add(o Money) Money     { return Money{m.d.Add(o.d)} }
func (m Money) Sub(o Money) Money     { return Money{m.d.Sub(o.d)} }
func (m Money) Neg() Money            { return Money{m.d.Neg()} }
func (m Money) Abs() Money            { return Money{m.d.Abs()} }
func (m Money) Cmp(o Money) int       { return m.d.Cmp(o.d) }
func (m Money) Equal(o Money) bool    { return m.d.Equal(o.d) }
func (m Money) LessThan(o Money) bool { return m.d.LessThan(o.d) }
func (m Money) IsZero() bool          { return m.d.IsZero() }
func (m Money) IsNegative() bool      { return m.d.IsNegative() }
func (m Money) IsPositive() bool      { return m.d.IsPositive() }

// MulInt multiplies by a whole number; the result stays exact.
func (m Money) MulInt(n int64) Money { return Money{m.d.Mul(decimal.New(n, 0))} }

// Mul multiplies by an arbitrary factor; the caller rounds the result
// with Ceil2, Floor2 or Round2.
func (m Money) Mul(f decimal.Decimal) decimal.Decimal { return m.d.Mul(f) }

// MinMoney returns the smallest of its arguments.
func MinMoney(first Money, rest ...Money) Money {
	for _, r := range rest {
		if r.LessThan(first) {
			first = r
		}
	}
	return first
}

// MaxOf returns the largest of its arguments.
func MaxOf(first Money, rest ...Money) Money {
	for _, r := range rest {
		if first.LessThan(r) {
			first = r
		}
	}
	return first
}

// Format implements fmt.Formatter so that %v and %s print "1234.56".
func (m Money) Format(f fmt.State, verb rune) {
	// Rebuild the directive so width and flags apply: "%10s" pads an amount
	// in a report as it would a string.
	switch verb {
	case 'v', 's':
		fmt.Fprintf(f, fmt.FormatString(f, 's'), m.String())
	case 'q':
		fmt.Fprintf(f, fmt.FormatString(f, 'q'), m.String())
	default:
		fmt.Fprintf(f, "%%!%c(funding.Money=%s)", verb, m.String())
	}
}
