package enrollment_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/storage"
	"github.com/edufund/edufund/storage/storagetest"
)

var parent1 = enrollment.AsHolder("parent-1")

func waitFor(t *testing.T, r *storagetest.Region, k certificate.Certificate, g uuid.UUID) enrollment.WaitlistEntry {
	t.Helper()
	c, e, err := r.Service.SubmitOrWait(context.Background(), r.Key(), enrollment.SubmitRequest{CertificateID: k.ID, GroupID: g, By: parent1, Waitlist: true})
	require.NoError(t, err)
	require.NotNil(t, e, "applied instead of waiting: %v", c.ID)
	return *e
}

func entryOf(t *testing.T, r *storagetest.Region, k certificate.Certificate) enrollment.WaitlistEntry {
	t.Helper()
	es, err := r.Service.Waitlist(context.Background(), parent1, k.ID)
	require.NoError(t, err)
	require.Len(t, es, 1)
	return es[0]
}

func seatsUsed(t *testing.T, db *storage.DB, g uuid.UUID) int64 {
	t.Helper()
	var used int64
	require.NoError(t, db.InTx(context.Background(), func(ctx context.Context, tx enrollment.Tx) error {
		c, err := tx.Counter(ctx, enrollment.SeatsKey(g))
		used = c.Used
		return err
	}))
	return used
}

func TestWaitlist(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		r := storagetest.NewRegion(t, db, storagetest.RegionOptions{})
		provider := enrollment.AsProvider(r.Provider.ID)
		g := r.NewGroup(1)
		kids := r.Children(6)
		seat, err := r.Service.Submit(ctx, r.Key(), enrollment.SubmitRequest{CertificateID: kids[0].ID, GroupID: g.ID, By: parent1})
		require.NoError(t, err)

		// Without asking for it a full group refuses as before.
		_, e, err := r.Service.SubmitOrWait(ctx, r.Key(), enrollment.SubmitRequest{CertificateID: kids[1].ID, GroupID: g.ID, By: parent1})
		require.ErrorIs(t, err, enrollment.ErrGroupFull)
		require.Nil(t, e)
		for i, k := range kids[1:5] {
			e := waitFor(t, r, k, g.ID)
			require.Equal(t, enrollment.Waiting, e.Status)
			require.Equal(t, i+1, e.Position)
		}
		_, _, err = r.Service.SubmitOrWait(ctx, r.Key(), enrollment.SubmitRequest{CertificateID: kids[2].ID, GroupID: g.ID, By: parent1, Waitlist: true})
		require.ErrorIs(t, err, enrollment.ErrWaitlisted)
		_, err = r.Service.Waitlist(ctx, enrollment.AsHolder("stranger"), kids[2].ID)
		require.ErrorIs(t, err, enrollment.ErrNotFound)

		// A refusal frees the seat: the head's application is made in its
		// transaction, with its money reserved.
		_, err = r.Service.Refuse(ctx, r.Key(), enrollment.ContractRequest{ContractID: seat.ID, By: provider, Reason: "Нет справки"})
		require.NoError(t, err)
		b := entryOf(t, r, kids[1])
		require.Equal(t, enrollment.WaitOffered, b.Status)
		require.Equal(t, r.Service.WaitlistDeadline(r.Service.Today()), b.Deadline)
		bc, err := r.Service.Contract(ctx, parent1, b.ContractID)
		require.NoError(t, err)
		require.Equal(t, enrollment.Requested, bc.Status)
		require.True(t, r.Money(kids[1].ID).Reserved.IsPositive())
		require.Equal(t, 1, entryOf(t, r, kids[2]).Position)
		require.EqualValues(t, 1, seatsUsed(t, db, g.ID))
		_, err = r.Service.ConfirmWaitlist(ctx, r.Key(), enrollment.WaitlistRequest{ID: b.ID, By: parent1})
		require.NoError(t, err)
		require.Equal(t, enrollment.WaitConfirmed, entryOf(t, r, kids[1]).Status)

		// A head that can no longer enrol is skipped with the reason.
		_, err = r.Service.ChangeStatus(ctx, r.Key(), kids[2].ID, enrollment.SuspendCertificate, enrollment.AsMunicipality(storagetest.Municipality))
		require.NoError(t, err)
		_, err = r.Service.Withdraw(ctx, r.Key(), enrollment.ContractRequest{ContractID: b.ContractID, By: parent1})
		require.NoError(t, err)
		c := entryOf(t, r, kids[2])
		require.Equal(t, enrollment.WaitSkipped, c.Status)
		require.Equal(t, enrollment.CodeCertificateUnusable, c.Reason) // CanEnrol's code for a suspended certificate
		d := entryOf(t, r, kids[3])
		require.Equal(t, enrollment.WaitOffered, d.Status)
		require.Equal(t, 1, entryOf(t, r, kids[4]).Position)

		// The one behind leaves; the offer left unconfirmed lapses and
		// the seat is free again.
		_, err = r.Service.LeaveWaitlist(ctx, r.Key(), enrollment.WaitlistRequest{ID: entryOf(t, r, kids[4]).ID, By: parent1})
		require.NoError(t, err)
		require.Equal(t, enrollment.WaitLeft, entryOf(t, r, kids[4]).Status)
		n, err := r.Service.ExpireWaitlistOffers(ctx)
		require.NoError(t, err)
		require.Zero(t, n, "not yet")
		r.Clock.T = r.Clock.T.Add(8 * 24 * time.Hour)
		n, err = r.Service.ExpireWaitlistOffers(ctx)
		require.NoError(t, err)
		require.Equal(t, 1, n)
		d = entryOf(t, r, kids[3])
		require.Equal(t, enrollment.WaitLeft, d.Status)
		require.Equal(t, enrollment.ReasonOfferExpired, d.Reason)
		dc, err := r.Service.Contract(ctx, parent1, d.ContractID)
		require.NoError(t, err)
		require.Equal(t, enrollment.Withdrawn, dc.Status)
		require.Zero(t, r.Money(kids[3].ID).Reserved.Kopecks())
		require.EqualValues(t, 0, seatsUsed(t, db, g.ID))
		_, err = r.Service.ConfirmWaitlist(ctx, r.Key(), enrollment.WaitlistRequest{ID: d.ID, By: parent1})
		require.ErrorIs(t, err, enrollment.ErrForbiddenTransition)
	})
}

// TestWaitlistRace frees seats concurrently in front of 50 waiting: every
// freed seat goes to exactly one of them, in the order they joined.
func TestWaitlistRace(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		const seats, waiting, freed = 50, 50, 30
		r := storagetest.NewRegion(t, db, storagetest.RegionOptions{})
		g := r.NewGroup(seats)
		held := make([]enrollment.Contract, seats)
		for i := range held {
			c, err := r.Service.Submit(ctx, r.Key(), enrollment.SubmitRequest{CertificateID: r.Child(i).ID, GroupID: g.ID, By: parent1})
			require.NoError(t, err)
			held[i] = c
		}
		line := make([]certificate.Certificate, waiting)
		for i := range line {
			line[i] = r.Child(100 + i)
			require.Equal(t, i+1, waitFor(t, r, line[i], g.ID).Position)
		}
		var wg sync.WaitGroup
		errs := make([]error, freed)
		for i := range freed {
			wg.Go(func() {
				// At serializable a withdrawal can lose every retry to its
				// neighbours on the one seat counter; the caller is told to
				// try again (503 at the edge) and sends it again, as here.
				key := r.Key()
				for range 20 {
					_, errs[i] = r.Service.Withdraw(ctx, key, enrollment.ContractRequest{ContractID: held[i].ID, By: parent1})
					if !errors.Is(errs[i], enrollment.ErrContention) {
						return
					}
				}
			})
		}
		wg.Wait()
		for _, err := range errs {
			require.NoError(t, err)
		}
		require.EqualValues(t, seats, seatsUsed(t, db, g.ID))
		contracts := map[uuid.UUID]bool{}
		for i, k := range line {
			e := entryOf(t, r, k)
			if i < freed {
				require.Equal(t, enrollment.WaitOffered, e.Status, "entry %d", i)
				require.False(t, contracts[e.ContractID])
				contracts[e.ContractID] = true
				cs, err := r.Contracts(k.ID)
				require.NoError(t, err)
				require.Len(t, cs, 1)
				require.Equal(t, enrollment.Requested, cs[0].Status)
				continue
			}
			require.Equal(t, enrollment.Waiting, e.Status, "entry %d", i)
			require.Equal(t, i-freed+1, e.Position)
		}
	})
}
