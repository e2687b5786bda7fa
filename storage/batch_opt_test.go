package storage_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/edufund/edufund/catalog"
	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/enrollment/batch"
	"github.com/edufund/edufund/funding"
	"github.com/edufund/edufund/storage"
	"github.com/edufund/edufund/storage/storagetest"
)

// interfering is a store whose next optimistic write is preceded by a
// change another transaction commits: what happens when a row an
// optimistic batch read changes before its write.
type interfering struct {
	*storage.DB
	before func()
	stale  atomic.Int32
	wrote  atomic.Int32
}

func (s *interfering) ApplyOptimistic(ctx context.Context, w batch.Write) error {
	if f := s.before; f != nil {
		s.before = nil
		f()
	}
	err := s.DB.ApplyOptimistic(ctx, w)
	switch {
	case errors.Is(err, batch.ErrStale):
		s.stale.Add(1)
	case err == nil:
		s.wrote.Add(1)
	}
	return err
}

// TestOptimisticBatchStale changes, between an optimistic batch's read and
// its write, each kind of row the batch depends on. The write must then
// change nothing, and the batch, run again under locks, must give the
// answer a submission after that change gives. On SQLite there is no
// optimistic path, and the answers must be the same.
func TestOptimisticBatchStale(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		// interfere runs between the read and the write; it returns
		// what the batch must answer.
		interfere func(r *region, req enrollment.SubmitRequest, key string) func(t *testing.T, c enrollment.Contract, err error)
		stale     bool
		// setup runs before the batch; budget and capacity, when set,
		// replace the region's (a budget for exactly one contract of
		// 4021.98, 15 seats).
		setup    func(r *region, req enrollment.SubmitRequest)
		budget   funding.Money
		capacity int
	}{
		{name: "nothing changed", interfere: func(r *region, req enrollment.SubmitRequest, key string) func(*testing.T, enrollment.Contract, error) {
			return func(t *testing.T, c enrollment.Contract, err error) {
				require.NoError(t, err)
				require.Equal(t, req.CertificateID, c.CertificateID)
			}
		}, stale: false},
		{name: "certificate suspended", interfere: func(r *region, req enrollment.SubmitRequest, key string) func(*testing.T, enrollment.Contract, error) {
			_, err := r.svc.ChangeStatus(ctx, r.key(), req.CertificateID, enrollment.SuspendCertificate, enrollment.AsSystem("operator"))
			require.NoError(t, err)
			return func(t *testing.T, _ enrollment.Contract, err error) {
				require.ErrorIs(t, err, catalog.ErrCertificateNotUsable)
			}
		}, stale: true},
		{name: "same module enrolled meanwhile", interfere: func(r *region, req enrollment.SubmitRequest, key string) func(*testing.T, enrollment.Contract, error) {
			_, err := r.svc.Submit(ctx, r.key(), req)
			require.NoError(t, err)
			return func(t *testing.T, _ enrollment.Contract, err error) {
				require.ErrorIs(t, err, enrollment.ErrDuplicateModule)
			}
		}, stale: true},
		// A new version of the account, its values unchanged: only the
		// account's version check can see it.
		{name: "account rewritten meanwhile", interfere: func(r *region, req enrollment.SubmitRequest, key string) func(*testing.T, enrollment.Contract, error) {
			_, err := r.db.Bun().NewRaw(`UPDATE accounts SET fixed = fixed WHERE certificate_id = ?`, req.CertificateID).Exec(ctx)
			require.NoError(t, err)
			return func(t *testing.T, c enrollment.Contract, err error) {
				require.NoError(t, err)
				require.Equal(t, req.CertificateID, c.CertificateID)
			}
		}, stale: true},
		{name: "budget taken meanwhile", interfere: func(r *region, req enrollment.SubmitRequest, key string) func(*testing.T, enrollment.Contract, error) {
			other := req
			other.CertificateID = r.child(99).ID
			_, err := r.svc.Submit(ctx, r.key(), other)
			require.NoError(t, err)
			return func(t *testing.T, _ enrollment.Contract, err error) {
				require.ErrorIs(t, err, enrollment.ErrBudgetLimit)
			}
		}, stale: true},
		{name: "same key committed meanwhile", interfere: func(r *region, req enrollment.SubmitRequest, key string) func(*testing.T, enrollment.Contract, error) {
			first, err := r.svc.Submit(ctx, key, req)
			require.NoError(t, err)
			return func(t *testing.T, c enrollment.Contract, err error) {
				require.NoError(t, err)
				require.Equal(t, first.ID, c.ID, "the batch replays the committed result")
			}
		}, stale: true},
		// A refusal after the count checks holds while those counts leave
		// room for it: other batches may take seats meanwhile.
		{name: "refused as a duplicate, a seat taken meanwhile", budget: m("100000.00"),
			setup: func(r *region, req enrollment.SubmitRequest) {
				_, err := r.svc.Submit(ctx, r.key(), req)
				require.NoError(t, err)
			},
			interfere: func(r *region, req enrollment.SubmitRequest, key string) func(*testing.T, enrollment.Contract, error) {
				other := req
				other.CertificateID = r.child(2).ID
				_, err := r.svc.Submit(ctx, r.key(), other)
				require.NoError(t, err)
				return func(t *testing.T, _ enrollment.Contract, err error) {
					require.ErrorIs(t, err, enrollment.ErrDuplicateModule)
				}
			}},
		// ... and not once the group is full: Submit would then refuse it
		// for the full group, the earlier check.
		{name: "refused as a duplicate, the group filled meanwhile", budget: m("100000.00"), capacity: 2, stale: true,
			setup: func(r *region, req enrollment.SubmitRequest) {
				_, err := r.svc.Submit(ctx, r.key(), req)
				require.NoError(t, err)
			},
			interfere: func(r *region, req enrollment.SubmitRequest, key string) func(*testing.T, enrollment.Contract, error) {
				other := req
				other.CertificateID = r.child(2).ID
				_, err := r.svc.Submit(ctx, r.key(), other)
				require.NoError(t, err)
				return func(t *testing.T, _ enrollment.Contract, err error) {
					require.ErrorIs(t, err, enrollment.ErrGroupFull)
				}
			}},
	} {
		// A database of its own per case: the budget is the municipality's.
		t.Run(tc.name, func(t *testing.T) {
			storagetest.Each(t, func(t *testing.T, db *storage.DB) {
				optimistic := db.OptimisticBatches()
				// A budget for exactly one contract of 4021.98 (rules.md's
				// example on 1 September).
				budget := tc.budget
				if budget.IsZero() {
					budget = m("4021.98")
				}
				r := newRegion(t, db, regionOpts{budget: budget, capacity: tc.capacity})
				cert := r.child(1)
				store := &interfering{DB: db}
				svc := enrollment.NewService(store, r.clock, r.svc.Config())
				req := enrollment.SubmitRequest{CertificateID: cert.ID, GroupID: r.group.ID, By: enrollment.AsSystem("holder")}
				if tc.setup != nil {
					tc.setup(r, req)
				}
				key := r.key()
				var check func(*testing.T, enrollment.Contract, error)
				store.before = func() { check = tc.interfere(r, req, key) }
				if !optimistic {
					// No optimistic write to come before: interfere first.
					store.before = nil
					check = tc.interfere(r, req, key)
				}
				res := batch.Submit(ctx, svc, []batch.Item{{Key: key, Request: req}})
				require.Len(t, res, 1)
				require.False(t, res[0].Alone, "the batch ran the application itself")
				check(t, res[0].Contract, res[0].Err)
				if optimistic {
					if tc.stale {
						require.EqualValues(t, 1, store.stale.Load(), "the optimistic write saw the change")
						require.Zero(t, store.wrote.Load())
					} else {
						require.Zero(t, store.stale.Load())
						require.EqualValues(t, 1, store.wrote.Load(), "the optimistic write committed")
					}
				}
				var live int
				require.NoError(t, db.Bun().NewRaw(`SELECT COUNT(*) FROM contracts WHERE certificate_id = ? AND status = 'requested'`, cert.ID).Scan(ctx, &live))
				require.LessOrEqual(t, live, 1)
				checkInvariants(t, db)
			})
		})
	}
}
