package enrollment

import (
	"cmp"
	"errors"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/edufund/edufund/funding"
)

// The monthly close (rules.md, "Monthly close and invoices") as a pure plan.
//
// PlanContract is the primitive: what the close of month m does to one
// contract, a pure function of the contract and the month (and the advance
// share), so that the storage can stream contracts one by one and a re-run of
// the same month plans the same effects; the store's unique keys (a charge
// per contract and month, an invoice line per contract, month and kind) make
// the re-run a no-op. PlanClose is the same over a slice.
//
// Who charges which month. Each month k of a contract (from its start month
// to its end month) is moved from reserve to spent exactly once:
//
//   - by the close of k, when the contract was activated before k's 1st
//     (ActivatedOn < k.First(); a zero ActivatedOn counts as long ago). Its
//     advance is invoiced at that close;
//   - by the activation otherwise (ActivationCharges: every month from the
//     start month to the month of activation). Such months have no advance.
//
// Final invoices. The final of a month is 100% of the payment minus the
// advance. It is issued at the close after the month, except that December
// is closed inside December: the December close issues December's final
// together with its advance (final = payment − advance), so that the budget
// year ends with its invoices. Months charged at activation are invoiced in
// full in the final of the activation month, at the close after it; a
// December activation's, at a run of the December close after it (the
// close is re-run on the year's last working day for this), or, when it
// came after December's last run, at the January close: the one case a
// December final comes after December.
//
// Terminating contracts close with the end date = the last day of the
// previous month (never after their own End); the month of termination was
// already charged and stays billed (its final is issued at this close), the
// remaining reserve having returned at termination (RemainingAfter). Active
// contracts whose End is before m close on their End; those ending in m are
// marked (EndsThisMonth) to close at the next close. Requested and Accepted
// contracts whose start month is two or more months before m are refused
// (no back-dating).

// ErrBackDated is an application left unconfirmed past its start month's
// following month; the monthly close refuses it.
var ErrBackDated = errors.New("application back-dated")

// CodeBackDated is the stable code of ErrBackDated.
const CodeBackDated = "back_dated"

// Charge moves one month's certificate payment of a contract from reserve to spent.
type Charge struct {
	ContractID    uuid.UUID
	CertificateID uuid.UUID
	HoldID        uuid.UUID
	Month         funding.Month
	Amount        funding.Money
}

// Closing closes a contract on a date.
type Closing struct {
	ContractID uuid.UUID
	ClosedOn   funding.Date
	Status     Status // Closed
}

// Refusal refuses an application at the close.
type Refusal struct {
	ContractID uuid.UUID
	Status     Status // Refused
	Code       string
	Err        error // a *funding.RuleError matching ErrBackDated
}

// ContractPlan is what the close of Month does to one contract.
type ContractPlan struct {
	ContractID    uuid.UUID
	Month         funding.Month
	Charge        *Charge  // nil: nothing charged by this close
	Closing       *Closing // nil: stays open
	Refusal       *Refusal // nil: not refused
	EndsThisMonth bool     // an active contract whose End falls in Month
	Lines         []InvoiceLine
}

// Shares is the advance share of each month (parameter advance_share, 0.8
// by default): a month's advance and its final both use its own, so a new
// share changes the invoices from its month on and never splits a month.
type Shares func(funding.Month) decimal.Decimal

// Share is the same advance share for every month.
func Share(d decimal.Decimal) Shares { return func(funding.Month) decimal.Decimal { return d } }

// PlanContract plans the close of month m for contract c; share gives the
// region's advance share of each month. See the package comment above for
// the rules it applies.
func PlanContract(c Contract, m funding.Month, share Shares) ContractPlan {
	p := ContractPlan{ContractID: c.ID, Month: m}
	switch c.Status {
	case Requested, Accepted:
		if late := m.Index() - c.Start.MonthOf().Index(); late >= 2 {
			p.Refusal = &Refusal{
				ContractID: c.ID, Status: Refused, Code: CodeBackDated,
				Err: funding.Refuse(ErrBackDated, CodeBackDated,
					"the application starts on %s, %d months before %s, and was not accepted", c.Start, late, m),
			}
		}
		return p
	case Active, Terminating:
	default:
		return p
	}

	last := c.End.MonthOf() // the last month this contract is charged for
	if c.Status == Terminating {
		if prev := m.Prev(); prev.Before(last) {
			last = prev
		}
		closedOn := m.Prev().Last()
		if c.End.Before(closedOn) {
			closedOn = c.End
		}
		p.Closing = &Closing{ContractID: c.ID, ClosedOn: closedOn, Status: Closed}
	} else {
		switch em := c.End.MonthOf(); {
		case em.Before(m):
			p.Closing = &Closing{ContractID: c.ID, ClosedOn: c.End, Status: Closed}
		case em == m:
			p.EndsThisMonth = true
		}
	}

	line := func(k funding.Month, kind InvoiceKind, amount funding.Money) {
		if !amount.IsPositive() {
			return
		}
		for i := range p.Lines {
			if l := &p.Lines[i]; l.Month == k && l.Kind == kind {
				l.Amount = l.Amount.Add(amount)
				return
			}
		}
		if p.Lines == nil {
			p.Lines = make([]InvoiceLine, 0, 2) // an advance and a final, most months
		}
		p.Lines = append(p.Lines, InvoiceLine{
			ContractID: c.ID, Scheme: c.Scheme, Municipality: c.Municipality, ProviderID: c.ProviderID,
			Month: k, Kind: kind, Amount: amount,
		})
	}

	if c.Status == Active && chargedByClose(c, m) {
		if pay := c.Price.MonthlyPayment(m); pay.IsPositive() {
			p.Charge = &Charge{ContractID: c.ID, CertificateID: c.CertificateID, HoldID: c.HoldID, Month: m, Amount: pay}
			line(m, AdvanceInvoice, funding.Advance(pay, share(m)))
		}
	}
	for k := c.Start.MonthOf(); !k.After(last) && !k.After(m); k = k.Next() {
		pay := c.Price.MonthlyPayment(k)
		if !pay.IsPositive() {
			continue
		}
		if chargedByClose(c, k) {
			issue := k.Next()
			if k.Month == time.December {
				issue = k
			}
			if issue == m {
				line(k, FinalInvoice, pay.Sub(funding.Advance(pay, share(k))))
			}
			continue
		}
		inv := c.ActivatedOn.MonthOf() // charged at activation: invoiced in full with the activation month
		if k.After(inv) {
			inv = k
		}
		if activationFinalAt(inv, m) {
			line(inv, FinalInvoice, pay)
		}
	}
	return p
}

// activationFinalAt reports whether the close of m issues the final of
// month inv for months charged at an activation in inv: the close of the
// next month, except that December is closed inside December, by a run of
// its own close after the activation; the January close catches up an
// activation after December's last run (the store keeps a line once).
func activationFinalAt(inv, m funding.Month) bool {
	if inv.Month == time.December && m == inv {
		return true
	}
	return m == inv.Next()
}

// chargedByClose reports whether month k of c is charged (and advanced) by
// the close of k rather than by the activation.
func chargedByClose(c Contract, k funding.Month) bool {
	return c.ActivatedOn.IsZero() || c.ActivatedOn.Before(k.First())
}

// ActivationCharges are the months the activation of c on date on charges:
// every month from the start month to the month of on (not past the end
// month) with a positive payment. The closes charge the rest; see PlanContract.
func ActivationCharges(c Contract, on funding.Date) []Charge {
	var out []Charge
	for k := c.Start.MonthOf(); !k.After(on.MonthOf()) && !k.After(c.End.MonthOf()); k = k.Next() {
		if pay := c.Price.MonthlyPayment(k); pay.IsPositive() {
			out = append(out, Charge{ContractID: c.ID, CertificateID: c.CertificateID, HoldID: c.HoldID, Month: k, Amount: pay})
		}
	}
	return out
}

// ChargedThrough is the sum of the certificate's monthly payments of p for
// every month up to and including m.
func ChargedThrough(p funding.Price, m funding.Month) funding.Money {
	sum := funding.Zero
	for k := p.Start.MonthOf(); !k.After(m) && !k.After(p.End.MonthOf()); k = k.Next() {
		sum = sum.Add(p.MonthlyPayment(k))
	}
	return sum
}

// RemainingAfter is the reserve of p left after month m is charged: what a
// termination in month m returns to the balance at once.
func RemainingAfter(p funding.Price, m funding.Month) funding.Money {
	return p.Cert.Sub(ChargedThrough(p, m))
}

// Plan is the monthly close of Month over many contracts.
type Plan struct {
	Month         funding.Month
	On            funding.Date // the day the close runs; recorded, not decided on
	Charges       []Charge
	Closings      []Closing
	Refusals      []Refusal
	EndsThisMonth []uuid.UUID // active contracts to close at the next close
	Lines         []InvoiceLine
	// Invoices sums Lines per (municipality, provider, month, kind): one
	// advance and one final invoice per municipality, provider and month.
	Invoices []Invoice
}

// Add folds one contract's plan into p.
func (p *Plan) Add(cp ContractPlan) {
	if cp.Charge != nil {
		p.Charges = append(p.Charges, *cp.Charge)
	}
	if cp.Closing != nil {
		p.Closings = append(p.Closings, *cp.Closing)
	}
	if cp.Refusal != nil {
		p.Refusals = append(p.Refusals, *cp.Refusal)
	}
	if cp.EndsThisMonth {
		p.EndsThisMonth = append(p.EndsThisMonth, cp.ContractID)
	}
	for _, l := range cp.Lines {
		p.Lines = append(p.Lines, l)
		i := slices.IndexFunc(p.Invoices, func(v Invoice) bool {
			return v.Scheme == l.Scheme && v.Municipality == l.Municipality && v.ProviderID == l.ProviderID && v.Month == l.Month && v.Kind == l.Kind
		})
		if i < 0 {
			p.Invoices = append(p.Invoices, Invoice{Scheme: l.Scheme, Municipality: l.Municipality, ProviderID: l.ProviderID, Month: l.Month, Kind: l.Kind, Amount: funding.Zero})
			i = len(p.Invoices) - 1
		}
		p.Invoices[i].Amount = p.Invoices[i].Amount.Add(l.Amount)
		p.Invoices[i].Lines++
	}
}

// PlanClose plans the close of month m, run on date on, over contracts:
// PlanContract for each, folded with Plan.Add, invoices sorted by scheme,
// municipality, provider, month and kind (advance first).
func PlanClose(m funding.Month, contracts []Contract, on funding.Date, share Shares) Plan {
	p := Plan{Month: m, On: on}
	for _, c := range contracts {
		p.Add(PlanContract(c, m, share))
	}
	slices.SortStableFunc(p.Invoices, func(a, b Invoice) int {
		return cmp.Or(
			cmp.Compare(a.Scheme, b.Scheme),
			cmp.Compare(a.Municipality, b.Municipality),
			slices.Compare(a.ProviderID[:], b.ProviderID[:]),
			cmp.Compare(a.Month.Index(), b.Month.Index()),
			cmp.Compare(a.Kind, b.Kind),
		)
	})
	return p
}
