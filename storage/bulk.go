package storage

import (
	"context"
	"errors"

	"github.com/google/uuid"

	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/enrollment/batch"
)

// The bulk paths: a batch of submissions in one transaction (batch.Store,
// and batch.OptimisticStore) and a page of the monthly close in one
// transaction (batch.CloseStore). They differ between the dialects beyond
// the text of their statements, so Open picks one implementation: the
// plain bun statements (sqliteBulk: batch.go, close.go), SQLite's and
// PostgreSQL's in the portable profile (WithPortable), or PostgreSQL's
// pipelines and binary statements (pgBulk: bulk_pg.go over
// storage/internal/pgfast).
type bulk interface {
	inBatchTx(ctx context.Context, fn func(ctx context.Context, tx batch.Tx) error) error
	inCloseTx(ctx context.Context, fn func(ctx context.Context, tx batch.CloseTx) error) error
	// optimistic is the optimistic batch, nil where writers are
	// serialised anyway (SQLite).
	optimistic() optimistic
}

// optimistic is the part of batch.OptimisticStore beyond batch.Store.
type optimistic interface {
	ReadBatch(ctx context.Context, keys []string, certIDs, groupIDs []uuid.UUID, counterKeys []string) ([]enrollment.IdempotencyRecord, batch.Rows, error)
	ReadCounters(ctx context.Context, keys []string) ([]enrollment.Counter, error)
	ApplyOptimistic(ctx context.Context, w batch.Write) error
}

var (
	_ batch.OptimisticStore = (*DB)(nil)
	_ batch.CloseStore      = (*DB)(nil)
)

// InBatchTx runs fn in one transaction with InTx's retries.
func (db *DB) InBatchTx(ctx context.Context, fn func(ctx context.Context, tx batch.Tx) error) error {
	return db.bulk.inBatchTx(ctx, fn)
}

// InCloseTx runs fn in one transaction, retried like InTx. On PostgreSQL
// the transaction runs on the pgx connection itself (pgfast.Store.CloseTx).
func (db *DB) InCloseTx(ctx context.Context, fn func(ctx context.Context, tx batch.CloseTx) error) error {
	return db.bulk.inCloseTx(ctx, fn)
}

// OptimisticBatches is batch.OptimisticStore: PostgreSQL only, not in the
// portable profile (its versions are PostgreSQL's ctid and xmin); SQLite
// has one writer in process, so there is nothing to gain.
func (db *DB) OptimisticBatches() bool { return db.bulk.optimistic() != nil }

// errNotOptimistic is an optimistic batch asked of a store without them.
var errNotOptimistic = errors.New("storage: optimistic batches need PostgreSQL without WithPortable")

// ReadBatch is batch.OptimisticStore.
func (db *DB) ReadBatch(ctx context.Context, keys []string, certIDs, groupIDs []uuid.UUID, counterKeys []string) ([]enrollment.IdempotencyRecord, batch.Rows, error) {
	o := db.bulk.optimistic()
	if o == nil {
		return nil, batch.Rows{}, errNotOptimistic
	}
	return o.ReadBatch(ctx, keys, certIDs, groupIDs, counterKeys)
}

// ReadCounters is batch.OptimisticStore.
func (db *DB) ReadCounters(ctx context.Context, keys []string) ([]enrollment.Counter, error) {
	o := db.bulk.optimistic()
	if o == nil {
		return nil, errNotOptimistic
	}
	return o.ReadCounters(ctx, keys)
}

// ApplyOptimistic is batch.OptimisticStore.
func (db *DB) ApplyOptimistic(ctx context.Context, w batch.Write) error {
	o := db.bulk.optimistic()
	if o == nil {
		return errNotOptimistic
	}
	return o.ApplyOptimistic(ctx, w)
}

// sqliteBulk is the bulk paths in plain bun statements: SQLite's, and
// PostgreSQL's in the portable profile.
type sqliteBulk struct{ db *DB }

func (sqliteBulk) optimistic() optimistic { return nil }
