package funding

import (
	"strconv"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
)

var share80 = decimal.New(8, -1)

func TestInvoiceDates(t *testing.T) {
	eq(t, "advance Sep", AdvanceInvoiceDate(Month{2025, time.September}).String(), "2025-09-01")
	eq(t, "final Sep", FinalInvoiceDate(Month{2025, time.September}).String(), "2025-10-01")
	eq(t, "final Nov", FinalInvoiceDate(Month{2025, time.November}).String(), "2025-12-01")
	eq(t, "final Dec", FinalInvoiceDate(Month{2025, time.December}).String(), "2025-12-31")
}

func TestShortfall(t *testing.T) {
	tests := []struct {
		payment string
		pct     int
		want    string
	}{
		{"1010.98", 100, "0.00"},
		{"1010.98", 90, "101.10"}, // delivered round2(909.882) = 909.88
		{"1010.98", 0, "1010.98"},
		{"989.04", 55, "445.07"}, // delivered round2(543.972) = 543.97
		{"0.01", 50, "0.00"},     // delivered round2(0.005) = 0.01
		{"0.00", 30, "0.00"},
	}
	for _, tc := range tests {
		got, err := Shortfall(MustMoney(tc.payment), tc.pct)
		noErr(t, err)
		eqMoney(t, tc.payment+" at "+strconv.Itoa(tc.pct)+"%", got, MustMoney(tc.want))
		d, err := Delivered(MustMoney(tc.payment), tc.pct)
		noErr(t, err)
		eqMoney(t, "delivered + shortfall", d.Add(got), MustMoney(tc.payment))
	}
	_, err := Shortfall(MustMoney("1"), 101)
	isInvalid(t, err, "delivered_percent")
	_, err = Shortfall(MustMoney("1"), -5)
	isInvalid(t, err, "delivered_percent")
	_, err = Delivered(MustMoney("1"), 101)
	isInvalid(t, err, "delivered_percent")
	_, err = Delivered(MustMoney("1"), -1)
	isInvalid(t, err, "delivered_percent")
	_, err = Delivered(MustMoney("-1"), 50)
	isInvalid(t, err, "payment")
}

// The 4-month example billed month by month: each month's advance and final
// add up to the payment, and the four months to the certificate's cost.
func TestInvoicesOfTheExample(t *testing.T) {
	price, err := PriceContract(exampleTerms())
	noErr(t, err)
	contract := uuid.MustParse("0190f5c2-0000-7000-8000-0000000000c1")
	want := []struct {
		month                  time.Month
		advance, final, issued string
	}{
		{time.September, "791.23", "197.81", "2025-10-01"}, // 0.8 × 989.04 = 791.232
		{time.October, "808.78", "202.20", "2025-11-01"},   // 0.8 × 1010.98 = 808.784
		{time.November, "808.78", "202.20", "2025-12-01"},
		{time.December, "808.78", "202.20", "2025-12-31"},
	}
	var billed Money
	for _, w := range want {
		m := Month{2025, w.month}
		charges := []MonthlyCharge{{Contract: contract, Payment: price.MonthlyPayment(m), DeliveredPercent: 100}}
		adv, err := NewAdvanceInvoice(m, charges, share80)
		noErr(t, err)
		fin, err := NewFinalInvoice(m, charges, share80)
		noErr(t, err)
		eq(t, m.String()+" kinds", string(adv.Kind)+"/"+string(fin.Kind), "advance/final")
		eq(t, m.String()+" advance issued", adv.Issued, m.First())
		eq(t, m.String()+" final issued", fin.Issued.String(), w.issued)
		eqMoney(t, m.String()+" advance", adv.Total, MustMoney(w.advance))
		eqMoney(t, m.String()+" final", fin.Total, MustMoney(w.final))
		eq(t, m.String()+" line contract", fin.Lines[0].Contract, contract)
		billed = billed.Add(adv.Total).Add(fin.Total)
	}
	eqMoney(t, "billed", billed, price.Cert)
}

func TestFinalInvoiceWithShortfallAndSeveralLines(t *testing.T) {
	m := Month{2025, time.October}
	charges := []MonthlyCharge{
		{Contract: uuid.New(), Payment: MustMoney("1010.98"), DeliveredPercent: 90},
		{Contract: uuid.New(), Payment: MustMoney("1000.00"), DeliveredPercent: 50},
		{Contract: uuid.New(), Payment: MustMoney("0.03"), DeliveredPercent: 100},
	}
	adv, err := NewAdvanceInvoice(m, charges, share80)
	noErr(t, err)
	// 808.78 + 800.00 + round2(0.024) = 0.02
	eqMoney(t, "advance", adv.Total, MustMoney("1608.80"))
	fin, err := NewFinalInvoice(m, charges, share80)
	noErr(t, err)
	eqMoney(t, "line 1", fin.Lines[0].Amount, MustMoney("101.10"))  // 909.88 − 808.78
	eqMoney(t, "line 2", fin.Lines[1].Amount, MustMoney("-300.00")) // 500.00 − 800.00: owed back
	eqMoney(t, "line 3", fin.Lines[2].Amount, MustMoney("0.01"))
	eqMoney(t, "final", fin.Total, MustMoney("-198.89"))
	_, err = NewFinalInvoice(m, []MonthlyCharge{{Payment: MustMoney("1"), DeliveredPercent: 120}}, share80)
	isInvalid(t, err, "delivered_percent")
	_, err = NewAdvanceInvoice(m, charges, decimal.New(11, -1))
	isInvalid(t, err, "advance_share")
	_, err = NewAdvanceInvoice(m, []MonthlyCharge{{Payment: MustMoney("-1")}}, share80)
	isInvalid(t, err, "payment")
}
