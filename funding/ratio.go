package funding

import (
	"math/bits"

	"github.com/shopspring/decimal"
)

// The rules divide by day and month counts, whose quotients rarely end. A
// rounded decimal division followed by Floor2 or Round2 can land on the wrong
// side of a kopeck when the true quotient is within the division precision of
// it, so the helpers below divide exactly: they keep the remainder and round
// by its sign and size.

var decOne = decimal.New(1, 0)

// quoRem divides m × num by den (den > 0) to whole units of 10^-places
// roubles, returning the truncated quotient and the sign of the remainder
// and whether it is at least half of den.
func quoRem(m Money, num, den int64, places int32) (q decimal.Decimal, rSign int, half bool) {
	dd := decimal.NewFromInt(den)
	q, r := m.Decimal().Mul(decimal.NewFromInt(num)).Shift(places).QuoRem(dd, 0)
	return q, r.Sign(), r.Abs().Mul(decimal.New(2, 0)).Cmp(dd) >= 0
}

// floor2Ratio is floor2(m × num / den), den > 0.
func floor2Ratio(m Money, num, den int64) Money {
	q, s, _ := quoRem(m, num, den, 2)
	if s < 0 {
		q = q.Sub(decOne)
	}
	return fromWhole(q)
}

// roundRoublesRatio is round(m × num / den) to whole roubles, halves away from zero.
func roundRoublesRatio(m Money, num, den int64) Money {
	q, s, half := quoRem(m, num, den, 0)
	if half {
		q = q.Add(decimal.NewFromInt(int64(s)))
	}
	return fromWhole(q.Shift(2))
}

// mulDiv returns floor(a × b / c) and whether the division left a remainder,
// for b ≤ c and c > 0: the quotient then never exceeds a, so the 128-bit
// product divides without overflow. Pricing runs on it because every ratio
// there is a share (≤ 1) of a non-negative kopeck amount.
func mulDiv(a, b, c uint64) (q uint64, inexact bool) {
	hi, lo := bits.Mul64(a, b)
	q, r := bits.Div64(hi, lo, c)
	return q, r != 0
}
