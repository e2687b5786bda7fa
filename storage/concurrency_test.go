package storage_test

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/funding"
	"github.com/edufund/edufund/storage"
	"github.com/edufund/edufund/storage/storagetest"
)

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
// InTx with a plain read, no lock (the contract's NoLostUpdate takes the
// certificate's lock, as the services do). On PostgreSQL SERIALIZABLE the
// losers fail with 40001 and are retried; no increment may be lost.
func TestNoLostUpdate(t *testing.T) {
	for _, kind := range storagetest.Kinds() {
		if kind == storagetest.Postgres {
			continue // the portable kind, serializable, is the interesting one
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
			storagetest.Concurrently(workers, func(i int) {
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
			if kind == storagetest.PostgresPortable {
				if retries.Load() == 0 {
					t.Error("no transaction was retried: the test did not exercise serialization failures")
				}
				t.Logf("%d retries", retries.Load())
			}
		})
	}
}
