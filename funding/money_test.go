package funding

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/shopspring/decimal"
)

func TestParseMoney(t *testing.T) {
	ok := []struct{ in, out string }{
		{"0", "0.00"}, {"1", "1.00"}, {"4021.98", "4021.98"}, {"-1.5", "-1.50"}, {"007.10", "7.10"}, {"999999999999.99", "999999999999.99"},
	}
	for _, tc := range ok {
		m, err := ParseMoney(tc.in)
		noErr(t, err)
		eq(t, tc.in, m.String(), tc.out)
	}
	for _, s := range []string{"", "-", ".5", "5.", "1.234", "1e3", "NaN", "Inf", "-Inf", "+1", "1,000", " 1", "1 ", "0x10", "1000000000000", "1000000000000.00", "--1"} {
		_, err := ParseMoney(s)
		isInvalid(t, err, "amount")
	}
}

func TestRounding(t *testing.T) {
	d := decimal.RequireFromString("1010.985")
	eqMoney(t, "ceil", Ceil2(d), MustMoney("1010.99"))
	eqMoney(t, "floor", Floor2(d), MustMoney("1010.98"))
	eqMoney(t, "round", Round2(d), MustMoney("1010.99"))
	n := d.Neg()
	eqMoney(t, "ceil-", Ceil2(n), MustMoney("-1010.98"))
	eqMoney(t, "floor-", Floor2(n), MustMoney("-1010.99"))
	eqMoney(t, "round-", Round2(n), MustMoney("-1010.99"))
	eq(t, "kopecks", MustMoney("4021.98").Kopecks(), int64(402198))
	eqMoney(t, "Kopecks", Kopecks(402198), MustMoney("4021.98"))
	_, err := FromDecimal(decimal.RequireFromString("0.001"))
	isInvalid(t, err, "amount")
}

func TestMoneyFormat(t *testing.T) {
	m := MustMoney("989.04")
	eq(t, "width", fmt.Sprintf("[%8s|%-8v|%v|%q]", m, m, m, m), `[  989.04|989.04  |989.04|"989.04"]`)
	eq(t, "other verb", fmt.Sprintf("%d", m), "%!d(funding.Money=989.04)")
}

func FuzzParseMoney(f *testing.F) {
	for _, s := range []string{"0", "4021.98", "-0.01", "1e3", "NaN", "Inf", "", "1.234", "999999999999.99", "1000000000000", ".", "-", "00.00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseMoney(s)
		if err != nil {
			return
		}
		low := strings.ToLower(s)
		if s == "" || strings.ContainsAny(low, "enif+ ") {
			t.Fatalf("accepted %q", s)
		}
		if _, frac, ok := strings.Cut(s, "."); ok && len(frac) > 2 {
			t.Fatalf("accepted more than two decimals: %q", s)
		}
		if m.Abs().Cmp(MaxMoney) >= 0 {
			t.Fatalf("accepted %q past MaxMoney", s)
		}
		back, err := ParseMoney(m.String())
		if err != nil {
			t.Fatalf("%q formats as %q which does not reparse: %v", s, m.String(), err)
		}
		if !back.Equal(m) || back.String() != m.String() {
			t.Fatalf("%q round-trips as %q", s, back.String())
		}
		if !Kopecks(m.Kopecks()).Equal(m) {
			t.Fatalf("%q loses kopecks: %d", s, m.Kopecks())
		}
	})
}

// TestMoneySaturates: arithmetic past int64 kopecks saturates at
// ±math.MaxInt64 instead of wrapping, so every MaxMoney check refuses it.
func TestMoneySaturates(t *testing.T) {
	top := Kopecks(math.MaxInt64)
	for name, m := range map[string]Money{
		"add":         top.Add(Kopecks(1)),
		"sub":         Kopecks(-math.MaxInt64).Sub(Kopecks(2)).Neg(),
		"roubles":     Roubles(math.MaxInt64 / 10),
		"mul int":     MaxMoney.MulInt(1 << 40),
		"mul int neg": MaxMoney.MulInt(-(1 << 40)).Neg(),
		"min int64":   Kopecks(math.MinInt64).Neg(),
		"round2":      Round2(decimal.New(1, 30)),
		"mul share":   Advance(top, decimal.New(15, -1)),
	} {
		eq(t, name, m, top)
		if m.Abs().Cmp(MaxMoney) < 0 {
			t.Errorf("%s: %s passes the MaxMoney check", name, m)
		}
	}
	eq(t, "round2 negative", Round2(decimal.New(-1, 30)), top.Neg())
	eq(t, "string", Kopecks(-math.MaxInt64).String(), "-92233720368547758.07")
	eq(t, "negative kopecks", Kopecks(-5).String(), "-0.05")
	eq(t, "append", string(MustMoney("-12.30").Append([]byte("x="))), "x=-12.30")
}

// FuzzMulRound2 checks the integer path of Round2(m × f) against decimal
// arithmetic, saturation included.
func FuzzMulRound2(f *testing.F) {
	for _, c := range []struct {
		k, c int64
		e    int8
	}{{150000, 8, -1}, {1, 5, -1}, {-1, 5, -1}, {3, 35, -2}, {math.MaxInt64, 9, -1}, {-math.MaxInt64, 999999999999999999, -18}, {12345, -7, 0}, {1, 1, -19}} {
		f.Add(c.k, c.c, c.e)
	}
	f.Fuzz(func(t *testing.T, k, c int64, e int8) {
		m, share := Kopecks(k), decimal.New(c, int32(e))
		want := Round2(m.Mul(share))
		if got := mulRound2(m, share); got != want {
			t.Fatalf("%s × %s: %s, decimal arithmetic gives %s", m, share, got, want)
		}
	})
}

// FuzzMoneyArithmetic checks Add, Sub, Cmp and String against decimal
// arithmetic wherever the result fits.
func FuzzMoneyArithmetic(f *testing.F) {
	f.Add(int64(0), int64(0))
	f.Add(int64(-1), int64(199))
	f.Add(int64(math.MaxInt64), int64(1))
	f.Fuzz(func(t *testing.T, a, b int64) {
		x, y := Kopecks(a), Kopecks(b)
		dx, dy := x.Decimal(), y.Decimal()
		for name, c := range map[string]struct {
			got  Money
			want decimal.Decimal
		}{"add": {x.Add(y), dx.Add(dy)}, "sub": {x.Sub(y), dx.Sub(dy)}} {
			want, err := FromDecimal(c.want)
			if err != nil {
				if c.got.Abs().Cmp(MaxMoney) < 0 {
					t.Fatalf("%s %s, %s = %s, past MaxMoney in decimals", name, x, y, c.got)
				}
				continue
			}
			if c.got != want {
				t.Fatalf("%s %s, %s = %s, want %s", name, x, y, c.got, want)
			}
		}
		if x.Cmp(y) != dx.Cmp(dy) {
			t.Fatalf("cmp %s, %s", x, y)
		}
		if x.String() != dx.StringFixed(2) {
			t.Fatalf("string %s, want %s", x, dx.StringFixed(2))
		}
	})
}
