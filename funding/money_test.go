package funding

import (
	"fmt"
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
