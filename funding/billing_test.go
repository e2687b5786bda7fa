package funding

import (
	"strconv"
	"testing"
	"time"

	"github.com/shopspring/decimal"
)

var share80 = decimal.New(8, -1)

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

// The 4-month example billed month by month as the monthly close bills
// it: each month's advance and final (the payment less the advance) add up
// to the payment, and the four months to the certificate's cost.
func TestPaymentsOfTheExample(t *testing.T) {
	price, err := PriceContract(exampleTerms())
	noErr(t, err)
	want := []struct {
		month          time.Month
		advance, final string
	}{
		{time.September, "791.23", "197.81"}, // 0.8 × 989.04 = 791.232
		{time.October, "808.78", "202.20"},   // 0.8 × 1010.98 = 808.784
		{time.November, "808.78", "202.20"},
		{time.December, "808.78", "202.20"},
	}
	var billed Money
	for _, w := range want {
		m := Month{2025, w.month}
		pay := price.MonthlyPayment(m)
		adv := Advance(pay, share80)
		eqMoney(t, m.String()+" advance", adv, MustMoney(w.advance))
		eqMoney(t, m.String()+" final", pay.Sub(adv), MustMoney(w.final))
		billed = billed.Add(pay)
	}
	eqMoney(t, "billed", billed, price.Cert)
	eqMoney(t, "January", price.MonthlyPayment(Month{2026, time.January}), Zero)
}

// The advance is rounded per contract, each being paid on its own.
func TestAdvanceRoundsEachPayment(t *testing.T) {
	for _, tc := range []struct{ payment, want string }{
		{"1010.98", "808.78"},
		{"1000.00", "800.00"},
		{"0.03", "0.02"}, // round2(0.024)
		{"0.00", "0.00"},
	} {
		eqMoney(t, tc.payment, Advance(MustMoney(tc.payment), share80), MustMoney(tc.want))
	}
}
