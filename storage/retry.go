package storage

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/uptrace/bun"

	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/storage/internal/dberr"
)

// InTx runs fn in a transaction and commits it when fn returns nil. A
// failure that another attempt may not meet (serialization failure,
// deadlock, busy or locked SQLite, lost connection) rolls back and runs fn
// again, up to the retry bound, with jittered exponential backoff (2 ms
// doubling to 100 ms). Past the bound the error matches
// enrollment.ErrContention and wraps the last cause; a database out of
// reach, or a connection lost under the last attempt, matches
// enrollment.ErrUnavailable. Any other error of fn is
// returned as it is, after the rollback.
func (db *DB) InTx(ctx context.Context, fn func(ctx context.Context, tx enrollment.Tx) error) error {
	return db.withRetry(ctx, func() error {
		var cur *tx
		err := db.bun.RunInTx(ctx, db.txOpts, func(ctx context.Context, btx bun.Tx) error {
			cur = &tx{db: db, tx: btx}
			return fn(ctx, cur)
		})
		if err != nil && cur != nil && cur.retry != nil && !dberr.Retryable(err) {
			// fn swallowed or replaced a retryable failure of a statement;
			// on PostgreSQL the transaction was aborted by it anyway.
			err = fmt.Errorf("%w (after: %w)", err, cur.retry)
		}
		return err
	})
}

// withRetry runs attempt until it succeeds, fails for a reason a new attempt
// cannot cure, or the retry bound is reached; see InTx for the errors.
func (db *DB) withRetry(ctx context.Context, attempt func() error) error {
	var last error
	for n := 0; ; n++ {
		err := attempt()
		if err == nil {
			return nil
		}
		if ctxErr := ctx.Err(); ctxErr != nil {
			if last != nil || dberr.Retryable(err) {
				return fmt.Errorf("storage: %w (after %d attempts): %w", ctxErr, n+1, err)
			}
			return err
		}
		if !dberr.Retryable(err) {
			return err
		}
		last = err
		if n >= db.maxRetries {
			// A connection that keeps breaking (terminated backends, a
			// server shutting down) is the database out of reach, not
			// contention between transactions.
			if dberr.Unreachable(err) || dberr.ConnLoss(err) {
				return fmt.Errorf("storage: %w after %d attempts: %w", enrollment.ErrUnavailable, n+1, err)
			}
			return fmt.Errorf("storage: %w: %w after %d attempts: %w", enrollment.ErrContention, errRetriesExhausted, n+1, err)
		}
		d := db.backoff(n)
		db.log.DebugContext(ctx, "storage: retrying transaction", "attempt", n+1, "backoff", d, "err", err)
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("storage: %w (after %d attempts): %w", ctx.Err(), n+1, err)
		case <-t.C:
		}
	}
}

// backoff is full jitter over an exponential ceiling.
func (db *DB) backoff(attempt int) time.Duration {
	ceil := db.baseBackoff << min(attempt, 16)
	if ceil > db.maxBackoff || ceil <= 0 {
		ceil = db.maxBackoff
	}
	return ceil/2 + rand.N(ceil/2+1)
}
