package enrollment_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/edufund/edufund/catalog"
	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/funding"
	"github.com/edufund/edufund/storage"
	"github.com/edufund/edufund/storage/storagetest"
)

// TestProlongationBySilence: a contract that ended naturally is prolonged by
// its provider into the next group; the holder's seven days of silence
// accept it, and it is charged like any activation.
func TestProlongationBySilence(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		r := storagetest.NewRegion(t, db, storagetest.RegionOptions{})
		short, err := r.Service.SaveGroup(ctx, r.Key(), catalog.Group{ModuleID: r.Module.ID, Name: "autumn block",
			Start: funding.MustDate(2025, time.September, 1), End: funding.MustDate(2025, time.October, 31), Capacity: 5}, enrollment.AsSystem("test"))
		require.NoError(t, err)
		next, err := r.Service.SaveGroup(ctx, r.Key(), catalog.Group{ModuleID: r.Module.ID, Name: "winter block",
			Start: funding.MustDate(2025, time.November, 1), End: funding.MustDate(2025, time.December, 31), Capacity: 5}, enrollment.AsSystem("test"))
		require.NoError(t, err)
		cert := r.Child(1)
		c, err := r.Service.Submit(ctx, r.Key(), enrollment.SubmitRequest{CertificateID: cert.ID, GroupID: short.ID, By: enrollment.AsSystem("test")})
		require.NoError(t, err)
		prov := enrollment.ContractRequest{ContractID: c.ID, By: enrollment.AsProvider(r.Provider.ID)}
		_, err = r.Service.Confirm(ctx, r.Key(), prov)
		require.NoError(t, err)
		_, err = r.Service.Accept(ctx, r.Key(), enrollment.ContractRequest{ContractID: c.ID, By: enrollment.AsSystem("holder")})
		require.NoError(t, err)
		r.At(2025, time.October, 1)
		_, err = r.Service.CloseMonth(ctx, funding.Month{Year: 2025, Month: time.October}, nil)
		require.NoError(t, err)
		r.At(2025, time.November, 1)
		rep, err := r.Service.CloseMonth(ctx, funding.Month{Year: 2025, Month: time.November}, nil)
		require.NoError(t, err)
		require.Empty(t, rep.Failed)
		require.Equal(t, 1, rep.Closed)

		// A provider cannot prolong someone else's contract.
		_, err = r.Service.Prolong(ctx, r.Key(), enrollment.ProlongRequest{ContractRequest: enrollment.ContractRequest{ContractID: c.ID, By: enrollment.AsProvider(cert.ID)}, GroupID: next.ID})
		require.ErrorIs(t, err, enrollment.ErrForbidden)
		p, err := r.Service.Prolong(ctx, r.Key(), enrollment.ProlongRequest{ContractRequest: prov, GroupID: next.ID})
		require.NoError(t, err)
		require.Equal(t, enrollment.Accepted, p.Status)
		require.Equal(t, c.ID, p.ProlongedFrom)

		r.At(2025, time.November, 7)
		n, err := r.Service.AcceptBySilence(ctx)
		require.NoError(t, err)
		require.Zero(t, n, "six days of silence accept nothing")
		r.At(2025, time.November, 8)
		n, err = r.Service.AcceptBySilence(ctx)
		require.NoError(t, err)
		require.Equal(t, 1, n)
		n, err = r.Service.AcceptBySilence(ctx)
		require.NoError(t, err)
		require.Zero(t, n, "a second sweep accepts nothing again")
		require.Equal(t, []enrollment.EventType{enrollment.ContractRequested, enrollment.ContractProlongationOffered, enrollment.ContractAcceptedBySilence},
			types(published(t, r, enrollment.EventFilter{ContractID: p.ID})))
		require.Equal(t, []enrollment.EventType{enrollment.ContractRequested, enrollment.ContractOffered, enrollment.ContractActivated, enrollment.ContractClosed},
			types(published(t, r, enrollment.EventFilter{ContractID: c.ID})))
		got := r.Money(cert.ID)
		require.Equal(t, p.Price.CertFirst.Add(c.Price.Cert).String(), got.Spent.String())
		storagetest.CheckInvariants(t, db)
	})
}

// TestCancelEndsContracts: cancelling a certificate withdraws its
// applications and terminates its active contracts, returning their reserves
// and seats.
func TestCancelEndsContracts(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		r := storagetest.NewRegion(t, db, storagetest.RegionOptions{Capacity: 2})
		cert := r.Child(1)
		active, err := r.Service.Submit(ctx, r.Key(), enrollment.SubmitRequest{CertificateID: cert.ID, GroupID: r.Group.ID, By: enrollment.AsSystem("test")})
		require.NoError(t, err)
		_, err = r.Service.Confirm(ctx, r.Key(), enrollment.ContractRequest{ContractID: active.ID, By: enrollment.AsProvider(r.Provider.ID)})
		require.NoError(t, err)
		_, err = r.Service.Accept(ctx, r.Key(), enrollment.ContractRequest{ContractID: active.ID, By: enrollment.AsSystem("holder")})
		require.NoError(t, err)
		other := r.NewGroup(2)
		mod2, err := r.Service.SaveModule(ctx, r.Key(), catalog.Module{ProgramID: r.Program.ID, Name: "Year 2", Price: money("3000.00"), NormativePrice: money("3000.00"), Hours: 36}, enrollment.AsSystem("test"))
		require.NoError(t, err)
		g2, err := r.Service.SaveGroup(ctx, r.Key(), catalog.Group{ModuleID: mod2.ID, Name: "Y2", Start: other.Start, End: other.End, Capacity: 2}, enrollment.AsSystem("test"))
		require.NoError(t, err)
		_, err = r.Service.Submit(ctx, r.Key(), enrollment.SubmitRequest{CertificateID: cert.ID, GroupID: g2.ID, By: enrollment.AsSystem("test")})
		require.NoError(t, err)

		_, err = r.Service.ChangeStatus(ctx, r.Key(), cert.ID, enrollment.CancelCertificate, enrollment.AsSystem("operator"))
		require.NoError(t, err)
		cs, err := r.Contracts(cert.ID)
		require.NoError(t, err)
		statuses := map[enrollment.Status]int{}
		for _, c := range cs {
			statuses[c.Status]++
		}
		require.Equal(t, map[enrollment.Status]int{enrollment.Terminating: 1, enrollment.Withdrawn: 1}, statuses)
		require.Equal(t, "989.04", r.Money(cert.ID).Spent.String())
		require.Equal(t, "0.00", r.Money(cert.ID).Reserved.String())
		storagetest.CheckInvariants(t, db)
	})
}

// TestReissueAfterCancellation: a child whose certificate was cancelled (the
// family moved, say) can be issued a new one; an adult cannot take a second
// quota place in the same year by cancelling.
func TestReissueAfterCancellation(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		r := storagetest.NewRegion(t, db, storagetest.RegionOptions{})
		cert := r.Child(1)
		_, err := r.Service.Issue(ctx, r.Key(), enrollment.IssueRequest{Holder: cert.Holder, Category: "city", By: enrollment.AsSystem("test")})
		require.Error(t, err, "a second live certificate for the same child")
		_, err = r.Service.ChangeStatus(ctx, r.Key(), cert.ID, enrollment.CancelCertificate, enrollment.AsSystem("operator"))
		require.NoError(t, err)
		again, err := r.Service.Issue(ctx, r.Key(), enrollment.IssueRequest{Holder: cert.Holder, Category: "city", By: enrollment.AsSystem("test")})
		require.NoError(t, err)
		require.NotEqual(t, cert.ID, again.Certificate.ID)

		h := adultHolder(1)
		res, err := r.Service.ApplyAdult(ctx, r.Key(), enrollment.AdultApplication{Holder: h, By: enrollment.AsSystem("test")})
		require.NoError(t, err)
		_, err = r.Service.ChangeStatus(ctx, r.Key(), res.Certificate.ID, enrollment.CancelCertificate, enrollment.AsSystem("operator"))
		require.NoError(t, err)
		_, err = r.Service.ApplyAdult(ctx, r.Key(), enrollment.AdultApplication{Holder: h, By: enrollment.AsSystem("test")})
		require.Error(t, err, "a second adult certificate in the same year")
	})
}
