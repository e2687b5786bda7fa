package funding

import (
	"strconv"
	"time"

	"github.com/google/uuid"
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

// AdvanceInvoiceDate is when month m's advance is invoiced: its first day.
func AdvanceInvoiceDate(m Month) Date { return m.First() }

// FinalInvoiceDate is when month m's final invoice is issued: the first day of
// the next month, except that December is closed inside December (the
// budget year ends with it), on its last day, 31 December, the latest date
// still inside the year and the one on which the whole month is known.
func FinalInvoiceDate(m Month) Date {
	if m.Month == time.December {
		return m.Last()
	}
	return m.Next().First()
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

// InvoiceKind tells the advance from the final invoice of a month.
type InvoiceKind string

const (
	AdvanceInvoice InvoiceKind = "advance"
	FinalInvoice   InvoiceKind = "final"
)

// MonthlyCharge is one contract's certificate payment for a month, as the
// monthly close found it, with the delivery the provider reported (100 when
// nothing was reported).
type MonthlyCharge struct {
	Contract         uuid.UUID
	Payment          Money
	DeliveredPercent int
}

// InvoiceLine is one contract's part of an invoice.
type InvoiceLine struct {
	Contract  uuid.UUID
	Payment   Money // the month's certificate payment
	Delivered Money // the part earned (final invoices; the payment on advances)
	Advance   Money // round2(share × payment)
	Amount    Money // advance on the advance invoice; delivered − advance on the final
}

// Invoice is one (municipality, provider, month) invoice; the caller owns the
// keys and the rule of one advance and one final per key.
type Invoice struct {
	Kind   InvoiceKind
	Month  Month
	Issued Date
	Lines  []InvoiceLine
	Total  Money
}

// NewAdvanceInvoice builds month m's advance: round2(share × payment) per
// contract, rounded per line because each contract is paid on its own.
func NewAdvanceInvoice(m Month, charges []MonthlyCharge, share decimal.Decimal) (Invoice, error) {
	return newInvoice(AdvanceInvoice, m, charges, share)
}

// NewFinalInvoice builds month m's final invoice: for each contract the
// delivered part minus the advance already invoiced. A line, and the total,
// can be negative when delivery fell below the advance share: the provider
// then owes the difference back (the rules are silent; keeping the sign makes
// advance + final equal what was delivered, to the kopeck).
func NewFinalInvoice(m Month, charges []MonthlyCharge, share decimal.Decimal) (Invoice, error) {
	return newInvoice(FinalInvoice, m, charges, share)
}

func newInvoice(kind InvoiceKind, m Month, charges []MonthlyCharge, share decimal.Decimal) (Invoice, error) {
	if share.IsNegative() || share.GreaterThan(decOne) {
		return Invoice{}, &ValidationError{Field: "advance_share", Rule: "must be between 0 and 1", Value: share.String()}
	}
	inv := Invoice{Kind: kind, Month: m, Issued: AdvanceInvoiceDate(m), Lines: make([]InvoiceLine, 0, len(charges))}
	if kind == FinalInvoice {
		inv.Issued = FinalInvoiceDate(m)
	}
	for _, c := range charges {
		l := InvoiceLine{Contract: c.Contract, Payment: c.Payment, Delivered: c.Payment, Advance: Advance(c.Payment, share)}
		if kind == AdvanceInvoice {
			if c.Payment.IsNegative() {
				return Invoice{}, &ValidationError{Field: "payment", Rule: "must not be negative", Value: c.Payment.String()}
			}
			l.Amount = l.Advance
		} else {
			var err error
			if l.Delivered, err = Delivered(c.Payment, c.DeliveredPercent); err != nil {
				return Invoice{}, err
			}
			l.Amount = l.Delivered.Sub(l.Advance)
		}
		inv.Lines = append(inv.Lines, l)
		inv.Total = inv.Total.Add(l.Amount)
	}
	return inv, nil
}
