package funding

import (
	"cmp"
	"fmt"
	"math"
	"math/bits"
	"strconv"
	"strings"

	"github.com/shopspring/decimal"
)

// Money is an exact amount of roubles and kopecks. The zero value is 0.00.
//
// Money never holds a fraction of a kopeck: arithmetic that could produce one
// (multiplication by a ratio, division) goes through an explicit rounding
// function (Ceil2, Floor2, Round2), so every place a kopeck is gained or lost
// is visible in the code.
//
// It is a whole number of kopecks in an int64, the unit the database keeps,
// so that the arithmetic of a monthly close over a million contracts neither
// allocates nor leaves pointers for the collector to follow. Every amount
// that enters from outside is bounded by MaxMoney (10^14 kopecks), so sums
// of tens of thousands of them stay exact; arithmetic that would leave int64
// saturates at ±math.MaxInt64 instead of wrapping, a value every MaxMoney
// check refuses.
type Money struct {
	k int64
}

// MaxMoney bounds every amount: a trillion roubles is far past any
// municipality's annual budget and keeps kopecks well inside int64.
var MaxMoney = Money{1_000_000_000_000 * 100}

// Zero is 0.00.
var Zero = Money{}

// Kopecks returns the amount of n kopecks.
func Kopecks(n int64) Money { return Money{clamp(n)} }

// Roubles returns the amount of n whole roubles.
func Roubles(n int64) Money { return Money{mul(n, 100)} }

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
	var k int64
	for i := 0; i < len(intPart); i++ {
		k = k*10 + int64(intPart[i]-'0')
	}
	for i := range 2 {
		k *= 10
		if i < len(frac) {
			k += int64(frac[i] - '0')
		}
	}
	if k >= MaxMoney.k {
		return bad("must be less than " + MaxMoney.String())
	}
	if len(body) != len(s) {
		k = -k
	}
	return Money{k}, nil
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
	k := d.Shift(2)
	if !k.IsInteger() {
		return Money{}, &ValidationError{Field: "amount", Rule: "must not have fractions of a kopeck", Value: d.String()}
	}
	if k.Abs().Cmp(decimal.New(MaxMoney.k, 0)) >= 0 {
		return Money{}, &ValidationError{Field: "amount", Rule: "must be less than " + MaxMoney.String(), Value: d.String()}
	}
	return Money{k.IntPart()}, nil
}

// Ceil2 rounds d up to the kopeck.
func Ceil2(d decimal.Decimal) Money { return fromWhole(d.Shift(2).Ceil()) }

// Floor2 rounds d down to the kopeck.
func Floor2(d decimal.Decimal) Money { return fromWhole(d.Shift(2).Floor()) }

// Round2 rounds d to the nearest kopeck, halves away from zero.
func Round2(d decimal.Decimal) Money { return fromWhole(d.Shift(2).Round(0)) }

// fromWhole is a whole number of kopecks, saturated to int64.
func fromWhole(k decimal.Decimal) Money {
	b := k.BigInt()
	switch {
	case b.IsInt64():
		return Money{clamp(b.Int64())}
	case b.Sign() < 0:
		return Money{-math.MaxInt64}
	}
	return Money{math.MaxInt64}
}

// Decimal returns the exact value.
func (m Money) Decimal() decimal.Decimal { return decimal.New(m.k, -2) }

// Kopecks returns the amount in kopecks, the unit money is stored in.
func (m Money) Kopecks() int64 { return m.k }

// String formats the amount as "1234.56".
func (m Money) String() string { return string(m.Append(make([]byte, 0, 24))) }

// Append appends the "1234.56" form to b.
func (m Money) Append(b []byte) []byte {
	k := m.k
	if k < 0 {
		b = append(b, '-')
		k = -k // never MinInt64: amounts are clamped to ±MaxInt64
	}
	b = strconv.AppendInt(b, k/100, 10)
	c := k % 100
	return append(b, '.', byte('0'+c/10), byte('0'+c%10))
}

// MarshalText implements encoding.TextMarshaler with the "1234.56" form.
func (m Money) MarshalText() ([]byte, error) { return m.Append(nil), nil }

// UnmarshalText implements encoding.TextUnmarshaler with the rules of ParseMoney.
func (m *Money) UnmarshalText(b []byte) error {
	v, err := ParseMoney(string(b))
	if err != nil {
		return err
	}
	*m = v
	return nil
}

func (m Money) Add(o Money) Money     { return Money{add(m.k, o.k)} }
func (m Money) Sub(o Money) Money     { return Money{add(m.k, -o.k)} }
func (m Money) Neg() Money            { return Money{-m.k} }
func (m Money) Abs() Money            { return Money{max(m.k, -m.k)} }
func (m Money) Cmp(o Money) int       { return cmp.Compare(m.k, o.k) }
func (m Money) Equal(o Money) bool    { return m.k == o.k }
func (m Money) LessThan(o Money) bool { return m.k < o.k }
func (m Money) IsZero() bool          { return m.k == 0 }
func (m Money) IsNegative() bool      { return m.k < 0 }
func (m Money) IsPositive() bool      { return m.k > 0 }

// MulInt multiplies by a whole number; the result stays exact.
func (m Money) MulInt(n int64) Money { return Money{mul(m.k, n)} }

// Mul multiplies by an arbitrary factor; the caller rounds the result
// with Ceil2, Floor2 or Round2.
func (m Money) Mul(f decimal.Decimal) decimal.Decimal { return m.Decimal().Mul(f) }

// mulRound2 is Round2(m.Mul(f)) without big numbers when f has at most 18
// significant digits and no more than 18 decimals (a share such as 0.8 or
// 0.35): the product of the two coefficients is exact in 128 bits and one
// division by a power of ten rounds it.
func mulRound2(m Money, f decimal.Decimal) Money {
	e := f.Exponent()
	if e > 0 || e < -18 || f.NumDigits() > 18 {
		return Round2(m.Mul(f))
	}
	c := f.CoefficientInt64()
	neg := (m.k < 0) != (c < 0)
	hi, lo := bits.Mul64(uabs(m.k), uabs(c))
	div := pow10[-e]
	if hi >= div {
		return Round2(m.Mul(f)) // past int64 anyway; let Round2 saturate
	}
	q, r := bits.Div64(hi, lo, div)
	if r >= div-r { // r ≥ div/2: halves away from zero
		q++
	}
	if q > math.MaxInt64 {
		q = math.MaxInt64
	}
	if neg {
		return Money{-int64(q)}
	}
	return Money{int64(q)}
}

var pow10 = func() (p [19]uint64) {
	p[0] = 1
	for i := 1; i < len(p); i++ {
		p[i] = p[i-1] * 10
	}
	return p
}()

func uabs(n int64) uint64 {
	if n < 0 {
		return uint64(-n)
	}
	return uint64(n)
}

// clamp keeps n off math.MinInt64, so that every amount can be negated.
func clamp(n int64) int64 { return max(n, -math.MaxInt64) }

// add is a + b saturated to ±math.MaxInt64.
func add(a, b int64) int64 {
	s := a + b
	if (a > 0 && b > 0 && s < 0) || (a < 0 && b < 0 && s >= 0) {
		if a > 0 {
			return math.MaxInt64
		}
		return -math.MaxInt64
	}
	return clamp(s)
}

// mul is a × b saturated to ±math.MaxInt64.
func mul(a, b int64) int64 {
	hi, lo := bits.Mul64(uabs(a), uabs(b))
	p := int64(math.MaxInt64)
	if hi == 0 && lo <= math.MaxInt64 {
		p = int64(lo)
	}
	if (a < 0) != (b < 0) {
		return -p
	}
	return p
}

// MinMoney returns the smallest of its arguments.
func MinMoney(first Money, rest ...Money) Money {
	for _, r := range rest {
		if r.LessThan(first) {
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
