package enrollment_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/enrollment/batch"
	"github.com/edufund/edufund/funding"
	"github.com/edufund/edufund/storage"
	"github.com/edufund/edufund/storage/storagetest"
)

// TestOneYear runs the shared example of rules.md through the services on
// every engine: issue, activate, submit, confirm, accept, the monthly
// closes, terminate, the rollover; the cabinet figures at each step.
func TestOneYear(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		r := storagetest.NewRegion(t, db, storagetest.RegionOptions{Budget: money("1000000.00")})
		cert := r.Child(1)
		require.Equal(t, certificate.Active, cert.Status)
		require.Equal(t, certificate.Funded, cert.Kind)
		got := r.Money(cert.ID)
		require.Equal(t, "30000.00", got.Nominal.String())
		require.Equal(t, "30000.00", got.Balance.String())

		key := r.Key()
		c, err := r.Service.Submit(ctx, key, enrollment.SubmitRequest{CertificateID: cert.ID, GroupID: r.Group.ID, By: enrollment.AsHolder("parent-1")})
		require.NoError(t, err)
		require.Equal(t, enrollment.Requested, c.Status)
		require.Equal(t, "4021.98", c.Price.Cert.String())
		require.Equal(t, "989.04", c.Price.CertFirst.String())
		require.Equal(t, "1010.98", c.Price.CertOther.String())
		got = r.Money(cert.ID)
		require.Equal(t, "25978.02", got.Balance.String())
		require.Equal(t, "4021.98", got.Reserved.String())

		// The same key replays the first result and changes nothing.
		again, err := r.Service.Submit(ctx, key, enrollment.SubmitRequest{CertificateID: cert.ID, GroupID: r.Group.ID, By: enrollment.AsHolder("parent-1")})
		require.NoError(t, err)
		require.Equal(t, c.ID, again.ID)
		require.Equal(t, "25978.02", r.Money(cert.ID).Balance.String())
		// The same key with another request is a conflict.
		_, err = r.Service.Submit(ctx, key, enrollment.SubmitRequest{CertificateID: cert.ID, GroupID: r.Group.ID, CoPayAccepted: true, By: enrollment.AsHolder("parent-1")})
		require.ErrorIs(t, err, enrollment.ErrIdempotencyConflict)
		// A second live contract on the same module is refused.
		_, err = r.Service.Submit(ctx, r.Key(), enrollment.SubmitRequest{CertificateID: cert.ID, GroupID: r.Group.ID, By: enrollment.AsSystem("test")})
		require.ErrorIs(t, err, enrollment.ErrDuplicateModule)

		prov := enrollment.ContractRequest{ContractID: c.ID, By: enrollment.AsProvider(r.Provider.ID)}
		hold := enrollment.ContractRequest{ContractID: c.ID, By: enrollment.AsHolder("parent-1")}
		c, err = r.Service.Confirm(ctx, r.Key(), prov)
		require.NoError(t, err)
		require.Equal(t, enrollment.Accepted, c.Status)
		c, err = r.Service.Accept(ctx, r.Key(), hold)
		require.NoError(t, err)
		require.Equal(t, enrollment.Active, c.Status)
		got = r.Money(cert.ID)
		require.Equal(t, "989.04", got.Spent.String(), "September charged at activation")
		require.Equal(t, "3032.94", got.Reserved.String())
		require.Equal(t, "25978.02", got.Balance.String())

		closeMonth := func(y int, mo time.Month) enrollment.CloseReport {
			t.Helper()
			r.At(y, mo, 1)
			rep, err := r.Service.CloseMonth(ctx, funding.Month{Year: y, Month: mo}, nil)
			require.NoError(t, err)
			require.Empty(t, rep.Failed)
			return rep
		}
		rep := closeMonth(2025, time.October)
		require.Equal(t, 1, rep.Charged)
		got = r.Money(cert.ID)
		require.Equal(t, "2000.02", got.Spent.String())
		require.Equal(t, "2021.96", got.Reserved.String())
		// A second run of the same close charges nothing twice.
		rep = closeMonth(2025, time.October)
		require.Equal(t, 0, rep.Charged)
		require.Equal(t, "2000.02", r.Money(cert.ID).Spent.String())

		inv, err := db.Invoices(ctx, r.Provider.ID, funding.Month{Year: 2025, Month: time.October})
		require.NoError(t, err)
		require.Equal(t, map[enrollment.InvoiceKind]string{enrollment.AdvanceInvoice: "808.78"}, storagetest.InvoiceAmounts(inv))
		inv, err = db.Invoices(ctx, r.Provider.ID, funding.Month{Year: 2025, Month: time.September})
		require.NoError(t, err)
		require.Equal(t, map[enrollment.InvoiceKind]string{enrollment.FinalInvoice: "989.04"}, storagetest.InvoiceAmounts(inv))

		// December cannot be closed before November: November would never be charged.
		r.At(2025, time.December, 1)
		_, err = r.Service.CloseMonth(ctx, funding.Month{Year: 2025, Month: time.December}, nil)
		require.ErrorIs(t, err, enrollment.ErrMonthSkipped)
		_, err = batch.CloseMonth(ctx, r.Service, funding.Month{Year: 2025, Month: time.December}, batch.CloseOptions{})
		require.ErrorIs(t, err, enrollment.ErrMonthSkipped)
		require.Equal(t, "2000.02", r.Money(cert.ID).Spent.String())

		closeMonth(2025, time.November)
		require.Equal(t, "3011.00", r.Money(cert.ID).Spent.String())

		// Under-delivery of November: 10% short returns 101.10 to the balance.
		_, err = r.Service.ReportDelivery(ctx, r.Key(), enrollment.DeliveryReport{ContractRequest: prov, Month: funding.Month{Year: 2025, Month: time.November}, Percent: 90})
		require.NoError(t, err)
		got = r.Money(cert.ID)
		require.Equal(t, "2909.90", got.Spent.String())
		require.Equal(t, "26079.12", got.Balance.String())
		_, err = r.Service.ReportDelivery(ctx, r.Key(), enrollment.DeliveryReport{ContractRequest: prov, Month: funding.Month{Year: 2025, Month: time.November}, Percent: 50})
		require.ErrorIs(t, err, enrollment.ErrAlreadyReported)

		// Terminated in November: the December payment returns at once.
		r.At(2025, time.November, 20)
		c, err = r.Service.Terminate(ctx, r.Key(), hold)
		require.NoError(t, err)
		require.Equal(t, enrollment.Terminating, c.Status)
		got = r.Money(cert.ID)
		require.Equal(t, "0.00", got.Reserved.String())
		require.Equal(t, "27090.10", got.Balance.String())
		require.Equal(t, "2909.90", got.Spent.String())

		rep = closeMonth(2025, time.December)
		require.Equal(t, 1, rep.Closed)
		require.Equal(t, 0, rep.Charged)
		cs, err := r.Contracts(cert.ID)
		require.NoError(t, err)
		require.Equal(t, enrollment.Closed, cs[0].Status)
		require.Equal(t, "2025-11-30", cs[0].ClosedOn.String())

		// The seat came back: another child can take it.
		r.At(2025, time.December, 2)
		other := r.Child(2)
		_, err = r.Service.Submit(ctx, r.Key(), enrollment.SubmitRequest{CertificateID: other.ID, GroupID: r.Group.ID, By: enrollment.AsSystem("test")})
		require.NoError(t, err)

		// Rollover: the unused balance expires, the next period's nominal is granted.
		r.At(2026, time.January, 1)
		roll, err := r.Service.Rollover(ctx, storagetest.Autumn, nil)
		require.NoError(t, err)
		require.Empty(t, roll.Failed)
		require.GreaterOrEqual(t, roll.Granted, 1)
		got = r.Money(cert.ID)
		require.Equal(t, "30000.00", got.Nominal.String())
		require.Equal(t, "30000.00", got.Balance.String())
		// Re-running the rollover grants nothing twice.
		_, err = r.Service.Rollover(ctx, storagetest.Autumn, nil)
		require.NoError(t, err)
		require.Equal(t, "30000.00", r.Money(cert.ID).Nominal.String())

		storagetest.CheckInvariants(t, db)
	})
}
