package storage

import (
	"context"
	"time"

	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/enrollment/batch"
	"github.com/edufund/edufund/storage/internal/pgfast"
)

// BatchStatementHook, when set (before any batch runs), is called after
// each batch statement that bypasses bun (and so bun's query hooks) with
// its text and duration; for benchmarks and tracing.
var BatchStatementHook func(query string, d time.Duration)

// pgBulk is PostgreSQL's bulk paths (storage/internal/pgfast).
type pgBulk struct {
	db   *DB
	fast *pgfast.Store
}

func newPGBulk(db *DB) pgBulk {
	return pgBulk{db: db, fast: pgfast.New(db.bun.DB, &BatchStatementHook)}
}

// pgBatchTx is batch.Tx and batch.ClaimLocker: one of the store's
// transactions with the fast paths' bulk statements, run in it.
type pgBatchTx struct {
	*tx
	*pgfast.Locked
}

var (
	_ batch.Tx          = pgBatchTx{}
	_ batch.ClaimLocker = pgBatchTx{}
)

// LockCounters bounds the counters as SQLite's does, then locks them.
func (t pgBatchTx) LockCounters(ctx context.Context, keys, read []string) ([]enrollment.Counter, error) {
	if all, err := counterKeys(keys, read); len(all) == 0 || err != nil {
		return nil, err
	}
	return t.Locked.LockCounters(ctx, keys, read)
}

func (b pgBulk) inBatchTx(ctx context.Context, fn func(ctx context.Context, tx batch.Tx) error) error {
	return b.db.InTx(ctx, func(ctx context.Context, t enrollment.Tx) error {
		cur := t.(*tx)
		return fn(ctx, pgBatchTx{cur, b.fast.Locked(cur.tx.Tx, cur.check)})
	})
}

func (b pgBulk) inCloseTx(ctx context.Context, fn func(ctx context.Context, tx batch.CloseTx) error) error {
	return b.db.withRetry(ctx, func() error { return b.fast.CloseTx(ctx, fn) })
}

func (b pgBulk) optimistic() optimistic { return b.fast }
