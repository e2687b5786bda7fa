package storage_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/edufund/edufund/catalog"
	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/enrollment/batch"
	"github.com/edufund/edufund/funding"
	"github.com/edufund/edufund/storage"
	"github.com/edufund/edufund/storage/storagetest"
)

// region is a small test region on one store: one municipality, a city
// category, a provider with a certified program, a module priced as in
// rules.md's worked example and a group of 15 seats.
type region struct {
	t        testing.TB
	db       *storage.DB
	svc      *enrollment.Service
	clock    *funding.FixedClock
	period   funding.Period
	provider catalog.Provider
	program  catalog.Program
	module   catalog.Module
	group    catalog.Group
	keys     int
}

const mun = "mun-1"

// autumn is the four-month period of rules.md's ledger example: with it the
// first submission on 1 September depletes nothing.
var autumn = funding.Period{Start: funding.MustDate(2025, time.September, 1), End: funding.MustDate(2025, time.December, 31)}

func periodOf(d funding.Date) funding.Period {
	if autumn.Contains(d) {
		return autumn
	}
	if d.After(autumn.End) && d.Before(funding.MustDate(2026, time.September, 1)) {
		return funding.Period{Start: funding.MustDate(2026, time.January, 1), End: funding.MustDate(2026, time.August, 31)}
	}
	return funding.CalendarYear(d.Year())
}

type regionOpts struct {
	capacity int
	budget   funding.Money // zero: no limit set
	nominal  funding.Money
}

func newRegion(t testing.TB, db *storage.DB, o regionOpts) *region {
	t.Helper()
	if o.capacity == 0 {
		o.capacity = 15
	}
	if o.nominal.IsZero() {
		o.nominal = funding.MustMoney("30000.00")
	}
	cfg := enrollment.DefaultConfig()
	cfg.PeriodOf = periodOf
	cfg.Children.Municipalities = map[string]bool{mun: true}
	cfg.Adults.Regions = map[string]bool{"reg-1": true}
	cfg.AdultQuota = func(int) int64 { return 5 }
	clock := &funding.FixedClock{T: time.Date(2025, time.September, 1, 9, 0, 0, 0, time.UTC)}
	r := &region{t: t, db: db, svc: enrollment.NewService(db, clock, cfg), clock: clock, period: autumn}
	ctx := context.Background()
	_, err := r.svc.SaveCategory(ctx, r.key(), certificate.Category{Code: "city", Nominal: o.nominal})
	require.NoError(t, err)
	if !o.budget.IsZero() {
		_, err = r.svc.SetBudget(ctx, r.key(), enrollment.BudgetRequest{Municipality: mun, Period: autumn, Limit: o.budget, By: enrollment.AsSystem("test")})
		require.NoError(t, err)
	}
	r.provider, err = r.svc.SaveProvider(ctx, r.key(), catalog.Provider{
		Name: "Robotics school", INN: "7707083893", Municipality: mun,
		Agreements: []catalog.Agreement{{Municipality: mun, Period: funding.Period{Start: autumn.Start, End: funding.MustDate(2026, time.August, 31)}}},
	})
	require.NoError(t, err)
	r.program, err = r.svc.SaveProgram(ctx, r.key(), catalog.Program{
		ProviderID: r.provider.ID, Name: "Robotics", Scheme: certificate.Supplementary,
		Direction: catalog.TechnicalRobotics, Registry: catalog.Certified, MinAge: 5, MaxAge: 17,
		Certified: true, EnrolmentOpen: true, Municipality: mun,
	})
	require.NoError(t, err)
	r.module, err = r.svc.SaveModule(ctx, r.key(), catalog.Module{
		ProgramID: r.program.ID, Name: "Year 1", Price: funding.MustMoney("9000.00"),
		NormativePrice: funding.MustMoney("9000.00"), Hours: 72, MaxChildren: 0,
	})
	require.NoError(t, err)
	r.group = r.newGroup(o.capacity)
	return r
}

func (r *region) newGroup(capacity int) catalog.Group {
	g, err := r.svc.SaveGroup(context.Background(), r.key(), catalog.Group{
		ModuleID: r.module.ID, Name: "G-" + uuid.NewString()[:8], Start: funding.MustDate(2025, time.September, 1),
		End: funding.MustDate(2026, time.May, 31), Capacity: capacity,
	})
	require.NoError(r.t, err)
	return g
}

func (r *region) key() string {
	r.keys++
	return fmt.Sprintf("k-%s-%d", uuid.NewString(), r.keys)
}

func (r *region) at(y int, m time.Month, d int) {
	r.clock.T = time.Date(y, m, d, 9, 0, 0, 0, time.UTC)
}

// child issues, funds and activates a child's certificate.
func (r *region) child(i int) certificate.Certificate {
	r.t.Helper()
	ctx := context.Background()
	res, err := r.svc.Issue(ctx, r.key(), enrollment.IssueRequest{
		Holder: certificate.Holder{
			PersonID: fmt.Sprintf("person-%d-%s", i, uuid.NewString()[:8]), FullName: fmt.Sprintf("Иванов Пётр %d", i),
			BirthDate: funding.MustDate(2015, time.March, 10), Sex: certificate.Male, Citizenship: "RU",
			Region: "reg-1", Municipality: mun, Registration: certificate.Permanent,
		},
		GuardianID: "parent-1", Category: "city", Funded: true,
		By: enrollment.AsSystem("test"),
	})
	require.NoError(r.t, err)
	require.False(r.t, res.Queued)
	c, err := r.svc.ChangeStatus(ctx, r.key(), res.Certificate.ID, enrollment.ActivateCertificate, enrollment.AsSystem("operator"))
	require.NoError(r.t, err)
	return c
}

func (r *region) money(id uuid.UUID) enrollment.CabinetMoney {
	r.t.Helper()
	cab, err := r.svc.Cabinet(context.Background(), enrollment.AsSystem("test"), id)
	require.NoError(r.t, err)
	require.NotNil(r.t, cab.Money, "cabinet shows money")
	return *cab.Money
}

func m(s string) funding.Money { return funding.MustMoney(s) }

// TestOneYear runs the shared example of rules.md through the services on
// every engine: issue, activate, submit, confirm, accept, the monthly
// closes, terminate, the rollover; the cabinet figures at each step.
func TestOneYear(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		r := newRegion(t, db, regionOpts{budget: m("1000000.00")})
		cert := r.child(1)
		require.Equal(t, certificate.Active, cert.Status)
		require.Equal(t, certificate.Funded, cert.Kind)
		got := r.money(cert.ID)
		require.Equal(t, "30000.00", got.Nominal.String())
		require.Equal(t, "30000.00", got.Balance.String())

		key := r.key()
		c, err := r.svc.Submit(ctx, key, enrollment.SubmitRequest{CertificateID: cert.ID, GroupID: r.group.ID, By: enrollment.AsHolder("parent-1")})
		require.NoError(t, err)
		require.Equal(t, enrollment.Requested, c.Status)
		require.Equal(t, "4021.98", c.Price.Cert.String())
		require.Equal(t, "989.04", c.Price.CertFirst.String())
		require.Equal(t, "1010.98", c.Price.CertOther.String())
		got = r.money(cert.ID)
		require.Equal(t, "25978.02", got.Balance.String())
		require.Equal(t, "4021.98", got.Reserved.String())

		// The same key replays the first result and changes nothing.
		again, err := r.svc.Submit(ctx, key, enrollment.SubmitRequest{CertificateID: cert.ID, GroupID: r.group.ID, By: enrollment.AsHolder("parent-1")})
		require.NoError(t, err)
		require.Equal(t, c.ID, again.ID)
		require.Equal(t, "25978.02", r.money(cert.ID).Balance.String())
		// The same key with another request is a conflict.
		_, err = r.svc.Submit(ctx, key, enrollment.SubmitRequest{CertificateID: cert.ID, GroupID: r.group.ID, By: enrollment.AsSystem("someone else")})
		require.ErrorIs(t, err, enrollment.ErrIdempotencyConflict)
		// A second live contract on the same module is refused.
		_, err = r.svc.Submit(ctx, r.key(), enrollment.SubmitRequest{CertificateID: cert.ID, GroupID: r.group.ID, By: enrollment.AsSystem("test")})
		require.ErrorIs(t, err, enrollment.ErrDuplicateModule)

		prov := enrollment.ContractRequest{ContractID: c.ID, By: enrollment.AsProvider(r.provider.ID)}
		hold := enrollment.ContractRequest{ContractID: c.ID, By: enrollment.AsHolder("parent-1")}
		c, err = r.svc.Confirm(ctx, r.key(), prov)
		require.NoError(t, err)
		require.Equal(t, enrollment.Accepted, c.Status)
		c, err = r.svc.Accept(ctx, r.key(), hold)
		require.NoError(t, err)
		require.Equal(t, enrollment.Active, c.Status)
		got = r.money(cert.ID)
		require.Equal(t, "989.04", got.Spent.String(), "September charged at activation")
		require.Equal(t, "3032.94", got.Reserved.String())
		require.Equal(t, "25978.02", got.Balance.String())

		closeMonth := func(y int, mo time.Month) enrollment.CloseReport {
			t.Helper()
			r.at(y, mo, 1)
			rep, err := r.svc.CloseMonth(ctx, db, funding.Month{Year: y, Month: mo}, nil)
			require.NoError(t, err)
			require.Empty(t, rep.Failed)
			return rep
		}
		rep := closeMonth(2025, time.October)
		require.Equal(t, 1, rep.Charged)
		got = r.money(cert.ID)
		require.Equal(t, "2000.02", got.Spent.String())
		require.Equal(t, "2021.96", got.Reserved.String())
		// A second run of the same close charges nothing twice.
		rep = closeMonth(2025, time.October)
		require.Equal(t, 0, rep.Charged)
		require.Equal(t, "2000.02", r.money(cert.ID).Spent.String())

		inv, err := db.Invoices(ctx, r.provider.ID, funding.Month{Year: 2025, Month: time.October})
		require.NoError(t, err)
		require.Equal(t, map[enrollment.InvoiceKind]string{enrollment.AdvanceInvoice: "808.78"}, invoiceAmounts(inv))
		inv, err = db.Invoices(ctx, r.provider.ID, funding.Month{Year: 2025, Month: time.September})
		require.NoError(t, err)
		require.Equal(t, map[enrollment.InvoiceKind]string{enrollment.FinalInvoice: "989.04"}, invoiceAmounts(inv))

		// December cannot be closed before November: November would never be charged.
		r.at(2025, time.December, 1)
		_, err = r.svc.CloseMonth(ctx, db, funding.Month{Year: 2025, Month: time.December}, nil)
		require.ErrorIs(t, err, enrollment.ErrMonthSkipped)
		_, err = batch.CloseMonth(ctx, r.svc, db, funding.Month{Year: 2025, Month: time.December}, batch.CloseOptions{})
		require.ErrorIs(t, err, enrollment.ErrMonthSkipped)
		require.Equal(t, "2000.02", r.money(cert.ID).Spent.String())

		closeMonth(2025, time.November)
		require.Equal(t, "3011.00", r.money(cert.ID).Spent.String())

		// Under-delivery of November: 10% short returns 101.10 to the balance.
		_, err = r.svc.ReportDelivery(ctx, r.key(), enrollment.DeliveryReport{ContractRequest: prov, Month: funding.Month{Year: 2025, Month: time.November}, Percent: 90})
		require.NoError(t, err)
		got = r.money(cert.ID)
		require.Equal(t, "2909.90", got.Spent.String())
		require.Equal(t, "26079.12", got.Balance.String())
		_, err = r.svc.ReportDelivery(ctx, r.key(), enrollment.DeliveryReport{ContractRequest: prov, Month: funding.Month{Year: 2025, Month: time.November}, Percent: 50})
		require.ErrorIs(t, err, enrollment.ErrAlreadyReported)

		// Terminated in November: the December payment returns at once.
		r.at(2025, time.November, 20)
		c, err = r.svc.Terminate(ctx, r.key(), hold)
		require.NoError(t, err)
		require.Equal(t, enrollment.Terminating, c.Status)
		got = r.money(cert.ID)
		require.Equal(t, "0.00", got.Reserved.String())
		require.Equal(t, "27090.10", got.Balance.String())
		require.Equal(t, "2909.90", got.Spent.String())

		rep = closeMonth(2025, time.December)
		require.Equal(t, 1, rep.Closed)
		require.Equal(t, 0, rep.Charged)
		cs, err := r.contracts(cert.ID)
		require.NoError(t, err)
		require.Equal(t, enrollment.Closed, cs[0].Status)
		require.Equal(t, "2025-11-30", cs[0].ClosedOn.String())

		// The seat came back: another child can take it.
		r.at(2025, time.December, 2)
		other := r.child(2)
		_, err = r.svc.Submit(ctx, r.key(), enrollment.SubmitRequest{CertificateID: other.ID, GroupID: r.group.ID, By: enrollment.AsSystem("test")})
		require.NoError(t, err)

		// Rollover: the unused balance expires, the next period's nominal is granted.
		r.at(2026, time.January, 1)
		roll, err := r.svc.Rollover(ctx, db, autumn, nil)
		require.NoError(t, err)
		require.Empty(t, roll.Failed)
		require.GreaterOrEqual(t, roll.Granted, 1)
		got = r.money(cert.ID)
		require.Equal(t, "30000.00", got.Nominal.String())
		require.Equal(t, "30000.00", got.Balance.String())
		// Re-running the rollover grants nothing twice.
		_, err = r.svc.Rollover(ctx, db, autumn, nil)
		require.NoError(t, err)
		require.Equal(t, "30000.00", r.money(cert.ID).Nominal.String())

		checkInvariants(t, db)
	})
}

func (r *region) contracts(certID uuid.UUID) ([]enrollment.Contract, error) {
	cab, err := r.svc.Cabinet(context.Background(), enrollment.AsSystem("test"), certID)
	return cab.Contracts, err
}

func invoiceAmounts(inv []enrollment.Invoice) map[enrollment.InvoiceKind]string {
	out := map[enrollment.InvoiceKind]string{}
	for _, i := range inv {
		out[i.Kind] = i.Amount.String()
	}
	return out
}
