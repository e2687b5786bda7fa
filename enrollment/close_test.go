package enrollment_test

import (
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/funding"
)

var share = enrollment.Share(decimal.RequireFromString("0.8"))

func month(y int, m time.Month) funding.Month { return funding.Month{Year: y, Month: m} }

// examplePrice is rules.md's 4-month example: group 2025-09-01..2026-05-31,
// price 9000.00, start 2025-09-01, period end 2025-12-31.
func examplePrice() funding.Price {
	return funding.Price{
		Start: d(2025, time.September, 1), End: d(2025, time.December, 31), Days: 122, Months: 4,
		Total: money("4021.98"), Normative: money("4021.98"), Cert: money("4021.98"), CoPay: funding.Zero,
		First: money("989.04"), Other: money("1010.98"), CertFirst: money("989.04"), CertOther: money("1010.98"),
		CoPayFirst: funding.Zero, CoPayOther: funding.Zero,
	}
}

var (
	providerA = uuid.MustParse("01890000-0000-7000-8000-00000000000a")
	providerB = uuid.MustParse("01890000-0000-7000-8000-00000000000b")
)

func exampleContract(status enrollment.Status, activated funding.Date) enrollment.Contract {
	p := examplePrice()
	return enrollment.Contract{
		ID: uuid.MustParse("01890000-0000-7000-8000-000000000001"), CertificateID: uuid.MustParse("01890000-0000-7000-8000-000000000002"),
		HoldID: uuid.MustParse("01890000-0000-7000-8000-000000000003"), ProviderID: providerA, Municipality: "city",
		Period: funding.CalendarYear(2025), Status: status, Start: p.Start, End: p.End, Price: p, ActivatedOn: activated,
	}
}

type lineKey struct {
	m    funding.Month
	kind enrollment.InvoiceKind
}

func lines(cp enrollment.ContractPlan) map[lineKey]string {
	out := map[lineKey]string{}
	for _, l := range cp.Lines {
		out[lineKey{l.Month, l.Kind}] = l.Amount.String()
	}
	return out
}

func TestPlanContractExampleActivatedBeforeStart(t *testing.T) {
	c := exampleContract(enrollment.Active, d(2025, time.August, 20))
	const adv, fin = enrollment.AdvanceInvoice, enrollment.FinalInvoice
	sep, oct, nov, dec, jan := month(2025, time.September), month(2025, time.October), month(2025, time.November), month(2025, time.December), month(2026, time.January)
	tests := []struct {
		m      funding.Month
		charge string // "" = none
		lines  map[lineKey]string
		ends   bool
		closed funding.Date
	}{
		{sep, "989.04", map[lineKey]string{{sep, adv}: "791.23"}, false, funding.Date{}},
		{oct, "1010.98", map[lineKey]string{{oct, adv}: "808.78", {sep, fin}: "197.81"}, false, funding.Date{}},
		{nov, "1010.98", map[lineKey]string{{nov, adv}: "808.78", {oct, fin}: "202.20"}, false, funding.Date{}},
		// December is closed inside December: its final comes with its advance.
		{dec, "1010.98", map[lineKey]string{{dec, adv}: "808.78", {nov, fin}: "202.20", {dec, fin}: "202.20"}, true, funding.Date{}},
		{jan, "", map[lineKey]string{}, false, d(2025, time.December, 31)},
	}
	spent, invoiced := funding.Zero, funding.Zero
	for _, tt := range tests {
		t.Run(tt.m.String(), func(t *testing.T) {
			cp := enrollment.PlanContract(c, tt.m, share)
			require.Equal(t, c.ID, cp.ContractID)
			if tt.charge == "" {
				require.Nil(t, cp.Charge)
			} else {
				require.NotNil(t, cp.Charge)
				require.Equal(t, tt.charge, cp.Charge.Amount.String())
				require.Equal(t, tt.m, cp.Charge.Month)
				require.Equal(t, c.HoldID, cp.Charge.HoldID)
				spent = spent.Add(cp.Charge.Amount)
			}
			require.Equal(t, tt.lines, lines(cp))
			for _, l := range cp.Lines {
				require.Equal(t, "city", l.Municipality)
				require.Equal(t, providerA, l.ProviderID)
				invoiced = invoiced.Add(l.Amount)
			}
			require.Equal(t, tt.ends, cp.EndsThisMonth)
			if tt.closed.IsZero() {
				require.Nil(t, cp.Closing)
			} else {
				require.Equal(t, &enrollment.Closing{ContractID: c.ID, ClosedOn: tt.closed, Status: enrollment.Closed}, cp.Closing)
			}
			require.Nil(t, cp.Refusal)
			// Pure: the same contract and month plan the same thing again.
			require.Equal(t, cp, enrollment.PlanContract(c, tt.m, share))
		})
	}
	require.Equal(t, "4021.98", spent.String())
	require.Equal(t, "4021.98", invoiced.String())
}

// rules.md's ledger: submit reserves 4021.98 of 30000.00; activation in
// September spends 989.04; the 1 October close brings spent to 2000.02.
func TestLedgerExample(t *testing.T) {
	c := exampleContract(enrollment.Active, d(2025, time.September, 1))
	balance, reserve, spent := money("25978.02"), money("4021.98"), funding.Zero

	act := enrollment.ActivationCharges(c, c.ActivatedOn)
	require.Len(t, act, 1)
	require.Equal(t, month(2025, time.September), act[0].Month)
	for _, ch := range act {
		reserve, spent = reserve.Sub(ch.Amount), spent.Add(ch.Amount)
	}
	require.Equal(t, "989.04", spent.String())
	require.Equal(t, "3032.94", reserve.String())

	// The September close does not charge September again.
	require.Nil(t, enrollment.PlanContract(c, month(2025, time.September), share).Charge)

	cp := enrollment.PlanContract(c, month(2025, time.October), share)
	require.NotNil(t, cp.Charge)
	reserve, spent = reserve.Sub(cp.Charge.Amount), spent.Add(cp.Charge.Amount)
	require.Equal(t, "2000.02", spent.String())
	require.Equal(t, "2021.96", reserve.String())
	require.Equal(t, "30000.00", balance.Add(reserve).Add(spent).String())
	// September was not advanced: its final is the whole payment.
	require.Equal(t, map[lineKey]string{
		{month(2025, time.October), enrollment.AdvanceInvoice}: "808.78",
		{month(2025, time.September), enrollment.FinalInvoice}: "989.04",
	}, lines(cp))
	require.Equal(t, "2021.96", enrollment.RemainingAfter(c.Price, month(2025, time.October)).String())
}

func TestPlanContractLateActivation(t *testing.T) {
	c := exampleContract(enrollment.Active, d(2025, time.October, 15))
	act := enrollment.ActivationCharges(c, c.ActivatedOn)
	require.Len(t, act, 2)
	require.Equal(t, "2000.02", act[0].Amount.Add(act[1].Amount).String())

	require.Nil(t, enrollment.PlanContract(c, month(2025, time.October), share).Charge)
	cp := enrollment.PlanContract(c, month(2025, time.November), share)
	require.Equal(t, "1010.98", cp.Charge.Amount.String())
	// September and October, charged at activation, go in full into October's final.
	require.Equal(t, map[lineKey]string{
		{month(2025, time.November), enrollment.AdvanceInvoice}: "808.78",
		{month(2025, time.October), enrollment.FinalInvoice}:    "2000.02",
	}, lines(cp))
}

func TestPlanContractTerminating(t *testing.T) {
	c := exampleContract(enrollment.Terminating, d(2025, time.August, 20))
	c.TerminatedOn = d(2025, time.October, 20)
	cp := enrollment.PlanContract(c, month(2025, time.November), share)
	require.Nil(t, cp.Charge, "nothing after the month of termination is charged")
	require.Equal(t, &enrollment.Closing{ContractID: c.ID, ClosedOn: d(2025, time.October, 31), Status: enrollment.Closed}, cp.Closing)
	// The month of termination stays billed: October's final comes with the closing.
	require.Equal(t, map[lineKey]string{{month(2025, time.October), enrollment.FinalInvoice}: "202.20"}, lines(cp))
	require.False(t, cp.EndsThisMonth)
	// What termination in October returned at once.
	require.Equal(t, "2021.96", enrollment.RemainingAfter(c.Price, month(2025, time.October)).String())
	require.Equal(t, "2000.02", enrollment.ChargedThrough(c.Price, month(2025, time.October)).String())

	// Terminated in its last month, closed after its End: closes on End.
	c.TerminatedOn = d(2025, time.December, 5)
	cp = enrollment.PlanContract(c, month(2026, time.February), share)
	require.Equal(t, d(2025, time.December, 31), cp.Closing.ClosedOn)
}

func TestPlanContractBackDated(t *testing.T) {
	for _, st := range []enrollment.Status{enrollment.Requested, enrollment.Accepted} {
		c := exampleContract(st, funding.Date{})
		for _, m := range []funding.Month{month(2025, time.August), month(2025, time.September), month(2025, time.October)} {
			cp := enrollment.PlanContract(c, m, share)
			require.Nil(t, cp.Refusal, "%s in %s", st, m)
			require.Nil(t, cp.Charge)
			require.Empty(t, cp.Lines)
		}
		cp := enrollment.PlanContract(c, month(2025, time.November), share)
		require.NotNil(t, cp.Refusal, st)
		require.Equal(t, enrollment.Refused, cp.Refusal.Status)
		require.Equal(t, "back_dated", cp.Refusal.Code)
		require.ErrorIs(t, cp.Refusal.Err, enrollment.ErrBackDated)
		var re *funding.RuleError
		require.True(t, errors.As(cp.Refusal.Err, &re))
		require.Equal(t, "back_dated", re.Code)
		require.Nil(t, cp.Charge)
		require.Empty(t, cp.Lines)
	}
}

func TestPlanContractIgnoresEndedContracts(t *testing.T) {
	for _, st := range []enrollment.Status{enrollment.Closed, enrollment.Refused, enrollment.Withdrawn} {
		cp := enrollment.PlanContract(exampleContract(st, d(2025, time.August, 20)), month(2025, time.November), share)
		require.Equal(t, enrollment.ContractPlan{ContractID: cp.ContractID, Month: month(2025, time.November)}, cp, st)
	}
}

// Whatever the day of activation, every month is charged exactly once (by
// the activation or by a close) and invoiced exactly once in full.
func TestEveryMonthChargedAndInvoicedOnce(t *testing.T) {
	for a := d(2025, time.August, 1); !a.After(d(2025, time.December, 31)); a = a.AddDays(1) {
		c := exampleContract(enrollment.Active, a)
		charged := map[funding.Month]int{}
		spent, invoiced := funding.Zero, funding.Zero
		for _, ch := range enrollment.ActivationCharges(c, a) {
			charged[ch.Month]++
			spent = spent.Add(ch.Amount)
		}
		// The store keeps one line per contract, month and kind: a line
		// planned again (December's, caught up in January) is not new.
		type lineKey struct {
			Month funding.Month
			Kind  enrollment.InvoiceKind
		}
		lines := map[lineKey]funding.Money{}
		for m := month(2025, time.August); !m.After(month(2026, time.March)); m = m.Next() {
			cp := enrollment.PlanContract(c, m, share)
			if cp.Charge != nil {
				charged[cp.Charge.Month]++
				spent = spent.Add(cp.Charge.Amount)
			}
			for _, l := range cp.Lines {
				k := lineKey{Month: l.Month, Kind: l.Kind}
				if prev, ok := lines[k]; ok {
					require.Equal(t, prev, l.Amount, "activated %s: %s planned again with another amount", a, k)
					continue
				}
				lines[k] = l.Amount
				invoiced = invoiced.Add(l.Amount)
			}
		}
		require.Equal(t, map[funding.Month]int{
			month(2025, time.September): 1, month(2025, time.October): 1,
			month(2025, time.November): 1, month(2025, time.December): 1,
		}, charged, "activated %s", a)
		require.Equal(t, "4021.98", spent.String(), "activated %s", a)
		require.Equal(t, "4021.98", invoiced.String(), "activated %s", a)
	}
}

// TestDecemberActivationInvoicedInDecember: rules.md closes December inside
// December. A contract activated on 10 December is charged for December at
// its activation; the close of December run after it issues that month's
// final in full, inside the budget year; the January close plans the same
// line again only as a catch-up, which the store keeps once.
func TestDecemberActivationInvoicedInDecember(t *testing.T) {
	c := exampleContract(enrollment.Active, d(2025, time.December, 10))
	c.Start = d(2025, time.December, 10)
	c.Price.Start = c.Start
	dec, jan := month(2025, time.December), month(2026, time.January)
	charges := enrollment.ActivationCharges(c, c.ActivatedOn)
	require.Len(t, charges, 1)
	require.Equal(t, dec, charges[0].Month)

	cp := enrollment.PlanContract(c, dec, share)
	require.Nil(t, cp.Charge, "December was charged at the activation")
	require.Equal(t, []enrollment.InvoiceLine{{ContractID: c.ID, Municipality: c.Municipality, ProviderID: c.ProviderID,
		Month: dec, Kind: enrollment.FinalInvoice, Amount: charges[0].Amount}}, cp.Lines)
	require.Equal(t, cp.Lines, enrollment.PlanContract(c, jan, share).Lines, "the January catch-up is the same line")

	// Any other month's activation is finalised by the next month's close only.
	nov := exampleContract(enrollment.Active, d(2025, time.November, 10))
	require.Empty(t, enrollment.PlanContract(nov, month(2025, time.November), share).Lines)
	require.Equal(t, map[lineKey]string{{month(2025, time.November), enrollment.FinalInvoice}: "3011.00",
		{dec, enrollment.AdvanceInvoice}: "808.78", {dec, enrollment.FinalInvoice}: "202.20"},
		lines(enrollment.PlanContract(nov, dec, share)))
}

func TestPlanCloseInvoices(t *testing.T) {
	a1 := exampleContract(enrollment.Active, d(2025, time.August, 20))
	a2 := a1
	a2.ID = uuid.MustParse("01890000-0000-7000-8000-000000000011")
	b := a1
	b.ID, b.ProviderID = uuid.MustParse("01890000-0000-7000-8000-000000000021"), providerB
	req := exampleContract(enrollment.Requested, funding.Date{})
	req.ID = uuid.MustParse("01890000-0000-7000-8000-000000000031")
	term := a1
	term.ID, term.Status, term.TerminatedOn = uuid.MustParse("01890000-0000-7000-8000-000000000041"), enrollment.Terminating, d(2025, time.October, 3)

	oct, nov := month(2025, time.October), month(2025, time.November)
	on := d(2025, time.November, 1)
	p := enrollment.PlanClose(nov, []enrollment.Contract{b, a1, req, a2, term}, on, share)
	require.Equal(t, nov, p.Month)
	require.Equal(t, on, p.On)
	require.Len(t, p.Charges, 3)
	require.Equal(t, []enrollment.Closing{{ContractID: term.ID, ClosedOn: d(2025, time.October, 31), Status: enrollment.Closed}}, p.Closings)
	require.Len(t, p.Refusals, 1)
	require.Equal(t, req.ID, p.Refusals[0].ContractID)
	require.Len(t, p.Lines, 3+4) // 3 advances, 4 finals (the terminating one included)

	type inv struct {
		mun    string
		prov   uuid.UUID
		m      funding.Month
		kind   enrollment.InvoiceKind
		amount string
		lines  int
	}
	var got []inv
	for _, i := range p.Invoices {
		got = append(got, inv{i.Municipality, i.ProviderID, i.Month, i.Kind, i.Amount.String(), i.Lines})
	}
	require.Equal(t, []inv{
		{"city", providerA, oct, enrollment.FinalInvoice, "606.60", 3},
		{"city", providerA, nov, enrollment.AdvanceInvoice, "1617.56", 2},
		{"city", providerB, oct, enrollment.FinalInvoice, "202.20", 1},
		{"city", providerB, nov, enrollment.AdvanceInvoice, "808.78", 1},
	}, got)
}

// TestPlanKeepsSchemesApart: the lines of an adult course and of a child's
// contract with the same provider, municipality and month are two
// invoices, paid by two payers.
func TestPlanKeepsSchemesApart(t *testing.T) {
	child := exampleContract(enrollment.Active, d(2025, time.August, 20))
	adult := child
	adult.ID, adult.Scheme = uuid.MustParse("01890000-0000-7000-8000-000000000051"), certificate.DigitalSkills
	child.Scheme = certificate.Supplementary
	p := enrollment.PlanClose(month(2025, time.October), []enrollment.Contract{child, adult}, d(2025, time.October, 1), share)
	// September's final and October's advance, once per scheme.
	require.Len(t, p.Invoices, 4)
	for i, scheme := range []certificate.Scheme{certificate.DigitalSkills, certificate.DigitalSkills, certificate.Supplementary, certificate.Supplementary} {
		require.Equal(t, scheme, p.Invoices[i].Scheme)
		require.Equal(t, 1, p.Invoices[i].Lines)
	}
	require.Equal(t, p.Invoices[0].Amount, p.Invoices[2].Amount)
	require.Equal(t, p.Invoices[1].Amount, p.Invoices[3].Amount)
}
