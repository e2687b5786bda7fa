package funding

import (
	"strconv"

	"github.com/shopspring/decimal"
)

// MonthlyPayment is the certificate's payment of contract price p for month
// m: the first-month amount in the start month, the other-month amount in
// every later month up to the end month, and zero outside the contract.
func (p Price) MonthlyPayment(m Month) Money {
	start, end := p.Start.MonthOf(), p.End.MonthOf()
	switch {
	case m.Before(start) || m.After(end):
		return Zero
	case m == start:
		return p.CertFirst
	}
	return p.CertOther
}

// Advance is the advance invoiced at the start of a month on payment:
// round2(share × payment), share being the region's advance parameter (0.8).
func Advance(payment Money, share decimal.Decimal) Money {
	return mulRound2(payment, share)
}

// Shortfall is what returns to the certificate's balance when a provider
// reports only deliveredPercent (0–100) of a month's payment delivered:
// payment − round2(payment × pct / 100). The delivered part is rounded to the
// nearest kopeck (rules.md is silent), so 50% of 0.01 pays 0.01 and refunds
// nothing; 100% refunds 0.00 and 0% the whole payment. A percent outside
// 0–100 or a negative payment is a *ValidationError.
func Shortfall(payment Money, deliveredPercent int) (Money, error) {
	delivered, err := Delivered(payment, deliveredPercent)
	if err != nil {
		return Money{}, err
	}
	return payment.Sub(delivered), nil
}

// Delivered is the part of payment earned at deliveredPercent:
// round2(payment × pct / 100).
func Delivered(payment Money, deliveredPercent int) (Money, error) {
	if deliveredPercent < 0 || deliveredPercent > 100 {
		return Money{}, &ValidationError{Field: "delivered_percent", Rule: "must be between 0 and 100", Value: strconv.Itoa(deliveredPercent)}
	}
	if payment.IsNegative() {
		return Money{}, &ValidationError{Field: "payment", Rule: "must not be negative", Value: payment.String()}
	}
	return mulRound2(payment, decimal.New(int64(deliveredPercent), -2)), nil
}
