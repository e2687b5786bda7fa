package funding

import "github.com/shopspring/decimal"

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
	return Round2(payment.Mul(share))
}
