package funding

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

func exampleTerms() Terms {
	return Terms{
		GroupStart:     MustDate(2025, time.September, 1),
		GroupEnd:       MustDate(2026, time.May, 31),
		Start:          MustDate(2025, time.September, 1),
		Period:         CalendarYear(2025),
		ModulePrice:    MustMoney("9000.00"),
		NormativePrice: MustMoney("9000.00"),
		Balance:        MustMoney("30000.00"),
	}
}

func TestPriceContractRulesExample(t *testing.T) {
	p, err := PriceContract(exampleTerms())
	noErr(t, err)
	eq(t, "end", p.End.String(), "2025-12-31")
	eq(t, "days", p.Days, 122)
	eq(t, "months", p.Months, 4)
	eqMoney(t, "all", p.Total, MustMoney("4021.98"))
	eqMoney(t, "norm", p.Normative, MustMoney("4021.98"))
	eqMoney(t, "cert", p.Cert, MustMoney("4021.98"))
	eqMoney(t, "copay", p.CoPay, Zero)
	eqMoney(t, "other", p.Other, MustMoney("1010.98"))
	eqMoney(t, "first", p.First, MustMoney("989.04"))
	eqMoney(t, "cert other", p.CertOther, MustMoney("1010.98"))
	eqMoney(t, "cert first", p.CertFirst, MustMoney("989.04"))
	eqMoney(t, "copay first", p.CoPayFirst, Zero)
	eqMoney(t, "copay other", p.CoPayOther, Zero)

	eqMoney(t, "Aug", p.MonthlyPayment(Month{2025, time.August}), Zero)
	eqMoney(t, "Sep", p.MonthlyPayment(Month{2025, time.September}), MustMoney("989.04"))
	eqMoney(t, "Dec", p.MonthlyPayment(Month{2025, time.December}), MustMoney("1010.98"))
	eqMoney(t, "Jan", p.MonthlyPayment(Month{2026, time.January}), Zero)
}

func TestPriceContractOneMonth(t *testing.T) {
	p, err := PriceContract(Terms{
		GroupStart: MustDate(2025, time.November, 1), GroupEnd: MustDate(2025, time.November, 30),
		Start: MustDate(2025, time.November, 1), Period: CalendarYear(2025),
		ModulePrice: MustMoney("3000.00"), NormativePrice: MustMoney("3000.00"), Balance: MustMoney("30000.00"),
	})
	noErr(t, err)
	eq(t, "months", p.Months, 1)
	eqMoney(t, "all", p.Total, MustMoney("3000.00"))
	eqMoney(t, "first", p.First, MustMoney("3000.00"))
	eqMoney(t, "cert first", p.CertFirst, MustMoney("3000.00"))
	eqMoney(t, "other", p.Other, Zero)
	eqMoney(t, "cert other", p.CertOther, Zero)
}

func TestPriceContractCoPay(t *testing.T) {
	tests := []struct {
		name                                   string
		price, normative, balance              string
		all, cert, copay                       string
		certFirst, certOther, coFirst, coOther string
	}{
		// normative below the price: the holder pays the difference.
		{"normative caps", "9000.00", "6000.00", "30000.00", "4021.98", "2681.32", "1340.66", "659.35", "673.99", "329.69", "336.99"},
		// balance below everything: the certificate pays what is left.
		{"balance caps", "9000.00", "9000.00", "1000.00", "4021.98", "1000.00", "3021.98", "245.92", "251.36", "743.12", "759.62"},
		{"empty balance", "9000.00", "9000.00", "0.00", "4021.98", "0.00", "4021.98", "0.00", "0.00", "989.04", "1010.98"},
		{"free module", "0.00", "9000.00", "30000.00", "0.00", "0.00", "0.00", "0.00", "0.00", "0.00", "0.00"},
		// no normative cost: no normative cap, the balance alone caps (FAQ 003).
		{"no normative", "9000.00", "0.00", "30000.00", "4021.98", "4021.98", "0.00", "989.04", "1010.98", "0.00", "0.00"},
		{"no normative, balance short", "9000.00", "0.00", "1000.00", "4021.98", "1000.00", "3021.98", "245.92", "251.36", "743.12", "759.62"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			terms := exampleTerms()
			terms.ModulePrice, terms.NormativePrice, terms.Balance = MustMoney(tc.price), MustMoney(tc.normative), MustMoney(tc.balance)
			p, err := PriceContract(terms)
			noErr(t, err)
			eqMoney(t, "all", p.Total, MustMoney(tc.all))
			eqMoney(t, "cert", p.Cert, MustMoney(tc.cert))
			eqMoney(t, "copay", p.CoPay, MustMoney(tc.copay))
			eqMoney(t, "cert first", p.CertFirst, MustMoney(tc.certFirst))
			eqMoney(t, "cert other", p.CertOther, MustMoney(tc.certOther))
			eqMoney(t, "copay first", p.CoPayFirst, MustMoney(tc.coFirst))
			eqMoney(t, "copay other", p.CoPayOther, MustMoney(tc.coOther))
		})
	}
}

func TestPriceContractMidMonthStartAndGroupEnd(t *testing.T) {
	// Start 15 Oct, group ends 20 Dec inside the period: end is the group's end.
	terms := exampleTerms()
	terms.GroupEnd = MustDate(2025, time.December, 20)
	terms.Start = MustDate(2025, time.October, 15)
	p, err := PriceContract(terms)
	noErr(t, err)
	// group 111 days; 15 Oct..20 Dec = 67 days, 3 months, first month 17 days
	eq(t, "days", p.Days, 67)
	eq(t, "months", p.Months, 3)
	eq(t, "end", p.End.String(), "2025-12-20")
	// all = ceil2(67/111 × 9000) = ceil2(5432.432…) = 5432.44
	eqMoney(t, "all", p.Total, MustMoney("5432.44"))
	// other = floor2(50/111 × 4500) = floor2(2027.027…) = 2027.02
	eqMoney(t, "other", p.Other, MustMoney("2027.02"))
	eqMoney(t, "first", p.First, MustMoney("1378.40"))
	// cert_other = floor2(50/67 × 5432.44/2) = floor2(2027.029…) = 2027.02
	eqMoney(t, "cert other", p.CertOther, MustMoney("2027.02"))
	eqMoney(t, "cert first", p.CertFirst, MustMoney("1378.40"))
}

func TestPriceBudgetFunded(t *testing.T) {
	p, err := PriceContract(exampleTerms())
	noErr(t, err)
	b := p.BudgetFunded()
	eqMoney(t, "total kept", b.Total, MustMoney("4021.98"))
	eqMoney(t, "first kept", b.First, MustMoney("989.04"))
	eqMoney(t, "cert", b.Cert, Zero)
	eqMoney(t, "copay", b.CoPay, Zero)
	eqMoney(t, "September charge", b.MonthlyPayment(Month{2025, time.September}), Zero)
	eqMoney(t, "October charge", b.MonthlyPayment(Month{2025, time.October}), Zero)
	eqMoney(t, "original untouched", p.CertFirst, MustMoney("989.04"))
}

func TestPriceContractValidation(t *testing.T) {
	tests := []struct {
		field  string
		mutate func(*Terms)
	}{
		{"group_start", func(t *Terms) { t.GroupStart = Date{} }},
		{"group_end", func(t *Terms) { t.GroupEnd = Date{} }},
		{"group_end", func(t *Terms) { t.GroupEnd = t.GroupStart.AddDays(-1) }},
		{"start", func(t *Terms) { t.Start = Date{} }},
		{"start", func(t *Terms) { t.Start = t.GroupStart.AddDays(-1) }},
		{"start", func(t *Terms) { t.Start = t.GroupEnd.AddDays(1) }},
		{"start", func(t *Terms) { t.Period = CalendarYear(2026) }},
		{"period", func(t *Terms) { t.Period = Period{} }},
		{"module_price", func(t *Terms) { t.ModulePrice = MustMoney("-0.01") }},
		{"normative_price", func(t *Terms) { t.NormativePrice = MustMoney("-1") }},
		{"balance", func(t *Terms) { t.Balance = MustMoney("-1") }},
		{"balance", func(t *Terms) { t.Balance = MaxMoney }},
	}
	for _, tc := range tests {
		terms := exampleTerms()
		tc.mutate(&terms)
		_, err := PriceContract(terms)
		isInvalid(t, err, tc.field)
	}
}

// TestPriceContractProperties checks, over many random contracts, that each
// schedule sums exactly to its total and that no part is negative or above
// the rule's caps.
func TestPriceContractProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(20250901, 1))
	base := MustDate(2020, time.January, 1)
	for i := 0; i < 20000; i++ {
		gs := base.AddDays(rng.IntN(3000))
		ge := gs.AddDays(rng.IntN(800))
		start := gs.AddDays(rng.IntN(Days(gs, ge)))
		var period Period
		if rng.IntN(2) == 0 {
			period = CalendarYear(start.Year())
		} else {
			y := start.Year()
			if start.Month() < time.September {
				y--
			}
			period = SchoolYear(y)
		}
		terms := Terms{
			GroupStart: gs, GroupEnd: ge, Start: start, Period: period,
			ModulePrice:    randMoney(rng),
			NormativePrice: randMoney(rng),
			Balance:        randMoney(rng),
		}
		p, err := PriceContract(terms)
		if err != nil {
			t.Fatalf("%+v: %v", terms, err)
		}
		n := int64(p.Months - 1)
		check := func(name string, first, other, total Money) {
			if n == 0 && !other.IsZero() {
				t.Fatalf("%s: one month but other = %s", name, other)
			}
			if !first.Add(other.MulInt(n)).Equal(total) {
				t.Fatalf("%s: %s + %s×%d != %s (%+v)", name, first, other, n, total, terms)
			}
			if first.IsNegative() || other.IsNegative() {
				t.Fatalf("%s: negative part %s / %s (%+v)", name, first, other, terms)
			}
		}
		check("total", p.First, p.Other, p.Total)
		check("cert", p.CertFirst, p.CertOther, p.Cert)
		check("copay", p.CoPayFirst, p.CoPayOther, p.CoPay)
		if !p.Cert.Add(p.CoPay).Equal(p.Total) {
			t.Fatalf("cert + copay != all: %+v", p)
		}
		capped := !terms.NormativePrice.IsZero() // no normative cost: no normative cap
		if p.Cert.Cmp(terms.Balance) > 0 || capped && p.Cert.Cmp(p.Normative) > 0 || p.Cert.Cmp(p.Total) > 0 {
			t.Fatalf("cert above a cap: %+v", p)
		}
		if p.Total.Cmp(terms.ModulePrice) > 0 || p.End.After(ge) || p.End.After(period.End) {
			t.Fatalf("contract past its group or period: %+v", p)
		}
		if p.Days != Days(p.Start, p.End) || p.Months != Months(p.Start, p.End) {
			t.Fatalf("days/months: %+v", p)
		}
	}
}

func randMoney(rng *rand.Rand) Money {
	switch rng.IntN(10) {
	case 0:
		return Zero
	case 1:
		return Kopecks(rng.Int64N(100))
	case 2:
		return Kopecks(rng.Int64N(MaxMoney.Kopecks()))
	}
	return Kopecks(rng.Int64N(10_000_000))
}

func BenchmarkPriceContract(b *testing.B) {
	terms := exampleTerms()
	for b.Loop() {
		if _, err := PriceContract(terms); err != nil {
			b.Fatal(err)
		}
	}
}

func ExamplePriceContract() {
	p, err := PriceContract(Terms{
		GroupStart:     MustDate(2025, time.September, 1),
		GroupEnd:       MustDate(2026, time.May, 31),
		Start:          MustDate(2025, time.September, 1),
		Period:         CalendarYear(2025),
		ModulePrice:    MustMoney("9000.00"),
		NormativePrice: MustMoney("9000.00"),
		Balance:        MustMoney("30000.00"),
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(p.Start, "..", p.End, p.Days, "days,", p.Months, "months")
	fmt.Println("all", p.Total, "cert", p.Cert, "co-pay", p.CoPay)
	fmt.Println("first", p.First, "other", p.Other)
	for m := p.Start.MonthOf(); !m.After(p.End.MonthOf()); m = m.Next() {
		fmt.Println(m, p.MonthlyPayment(m))
	}
	// Output:
	// 2025-09-01 .. 2025-12-31 122 days, 4 months
	// all 4021.98 cert 4021.98 co-pay 0.00
	// first 989.04 other 1010.98
	// 2025-09 989.04
	// 2025-10 1010.98
	// 2025-11 1010.98
	// 2025-12 1010.98
}
