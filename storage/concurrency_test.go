package storage_test

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/funding"
	"github.com/edufund/edufund/storage"
	"github.com/edufund/edufund/storage/storagetest"
)

// together runs fn(i) for i in [0, n) in n goroutines released at once.
func together(n int, fn func(i int)) {
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			fn(i)
		}()
	}
	close(start)
	wg.Wait()
}

func TestCounterTakeRace(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		const workers, limit = 200, 15
		run(t, db, func(tx enrollment.Tx) error { return tx.EnsureCounter(ctx, "seats:g", limit) })
		var ok, full atomic.Int64
		var other sync.Map
		together(workers, func(i int) {
			err := try(db, func(tx enrollment.Tx) error { return tx.Take(ctx, "seats:g", 1) })
			switch {
			case err == nil:
				ok.Add(1)
			case errors.Is(err, enrollment.ErrCounterFull):
				full.Add(1)
			default:
				other.Store(i, err)
			}
		})
		other.Range(func(k, v any) bool { t.Errorf("worker %v: %v", k, v); return true })
		if ok.Load() != limit || full.Load() != workers-limit {
			t.Errorf("took %d, full %d; want %d and %d", ok.Load(), full.Load(), limit, workers-limit)
		}
		run(t, db, func(tx enrollment.Tx) error {
			c, err := tx.Counter(ctx, "seats:g")
			if c.Used != limit {
				t.Errorf("used = %d, want %d", c.Used, limit)
			}
			return err
		})
	})
}

func TestMoneyCounterRace(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		const workers = 200
		limit := funding.MustMoney("100000.00").Kopecks()
		run(t, db, func(tx enrollment.Tx) error { return tx.EnsureCounter(ctx, "budget:mo-1", limit) })
		var taken atomic.Int64
		var failed sync.Map
		together(workers, func(i int) {
			n := 1 + rand.Int64N(limit/50) // about 100 of them fit
			err := try(db, func(tx enrollment.Tx) error { return tx.Take(ctx, "budget:mo-1", n) })
			switch {
			case err == nil:
				taken.Add(n)
			case !errors.Is(err, enrollment.ErrCounterFull):
				failed.Store(i, err)
			}
		})
		failed.Range(func(k, v any) bool { t.Errorf("worker %v: %v", k, v); return true })
		run(t, db, func(tx enrollment.Tx) error {
			c, err := tx.Counter(ctx, "budget:mo-1")
			if c.Used != taken.Load() || c.Used > limit {
				t.Errorf("used = %d, taken %d, limit %d", c.Used, taken.Load(), limit)
			}
			return err
		})
	})
}

func TestClaimKeyRace(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		const workers = 30
		var claimed atomic.Int64
		var failed sync.Map
		together(workers, func(i int) {
			err := try(db, func(tx enrollment.Tx) error {
				rec, ok, err := tx.ClaimKey(ctx, "same-key", "submit", "h")
				if err != nil {
					return err
				}
				if ok {
					claimed.Add(1)
					return tx.SaveResult(ctx, "same-key", []byte("done"))
				}
				if string(rec.Result) != "done" {
					t.Errorf("a loser saw %+v: the winner's result should be committed", rec)
				}
				return nil
			})
			if err != nil {
				failed.Store(i, err)
			}
		})
		failed.Range(func(k, v any) bool { t.Errorf("worker %v: %v", k, v); return true })
		if claimed.Load() != 1 {
			t.Errorf("claimed %d times, want exactly once", claimed.Load())
		}
	})
}

// countingHandler counts the retry records InTx logs.
type countingHandler struct{ n *atomic.Int64 }

func (h countingHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h countingHandler) Handle(context.Context, slog.Record) error {
	h.n.Add(1)
	return nil
}
func (h countingHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h countingHandler) WithGroup(string) slog.Handler      { return h }

// TestNoLostUpdate runs concurrent read-modify-writes of one account through
// InTx. On PostgreSQL SERIALIZABLE the losers fail with 40001 and are
// retried; no increment may be lost.
func TestNoLostUpdate(t *testing.T) {
	kinds := append(storagetest.Kinds(), storagetest.PostgresSerializable)
	for _, kind := range kinds {
		if kind == storagetest.Postgres {
			continue // the serializable variant below is the interesting one
		}
		t.Run(kind, func(t *testing.T) {
			var retries atomic.Int64
			db := storagetest.Open(t, kind, storage.WithMaxRetries(100),
				storage.WithLogger(slog.New(countingHandler{&retries})))
			c := child(t, "p-lost-update")
			run(t, db, func(tx enrollment.Tx) error {
				if err := tx.InsertCertificate(ctx, c); err != nil {
					return err
				}
				return tx.SaveAccount(ctx, enrollment.AccountState{CertificateID: c.ID, Period: schoolYear})
			})
			const workers, each = 8, 10
			var failed sync.Map
			together(workers, func(i int) {
				for j := 0; j < each; j++ {
					err := db.InTx(ctx, func(ctx context.Context, tx enrollment.Tx) error {
						a, err := tx.Account(ctx, c.ID, schoolYear) // plain read: no lock
						if err != nil {
							return err
						}
						a.Account.Nominal = a.Account.Nominal.Add(funding.MustMoney("1.00"))
						a.Account.Balance = a.Account.Balance.Add(funding.MustMoney("1.00"))
						return tx.SaveAccount(ctx, a)
					})
					if err != nil {
						failed.Store(i, err)
						return
					}
				}
			})
			failed.Range(func(k, v any) bool { t.Errorf("worker %v: %v", k, v); return true })
			run(t, db, func(tx enrollment.Tx) error {
				a, err := tx.Account(ctx, c.ID, schoolYear)
				if want := funding.MustMoney("80.00"); !a.Account.Nominal.Equal(want) {
					t.Errorf("nominal = %s, want %s: an update was lost", a.Account.Nominal, want)
				}
				return err
			})
			if kind == storagetest.PostgresSerializable {
				if retries.Load() == 0 {
					t.Error("no transaction was retried: the test did not exercise serialization failures")
				}
				t.Logf("%d retries", retries.Load())
			}
		})
	}
}

func TestQueuePositionsRace(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		const workers = 25
		at := time.Date(2025, 1, 10, 9, 0, 0, 0, time.UTC) // one instant for all: a fixed clock
		positions := make([]int, workers)
		var failed sync.Map
		together(workers, func(i int) {
			err := db.InTx(ctx, func(ctx context.Context, tx enrollment.Tx) error {
				id := newID(t)
				if err := tx.Enqueue(ctx, enrollment.QueueEntry{Queue: "adult-quota", CertificateID: id, EnqueuedAt: at}); err != nil {
					return err
				}
				pos, err := tx.QueuePosition(ctx, "adult-quota", id)
				positions[i] = pos
				return err
			})
			if err != nil {
				failed.Store(i, err)
			}
		})
		failed.Range(func(k, v any) bool { t.Errorf("worker %v: %v", k, v); return true })
		seen := map[int]bool{}
		for _, p := range positions {
			if p < 1 || p > workers || seen[p] {
				t.Errorf("positions %v are not a permutation of 1..%d", positions, workers)
				break
			}
			seen[p] = true
		}
	})
}
