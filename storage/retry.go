package storage

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/uptrace/bun"
	"modernc.org/sqlite"

	"github.com/edufund/edufund/enrollment"
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
		if err != nil && cur != nil && cur.retry != nil && !isRetryable(err) {
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
			if last != nil || isRetryable(err) {
				return fmt.Errorf("storage: %w (after %d attempts): %w", ctxErr, n+1, err)
			}
			return err
		}
		if !isRetryable(err) {
			return err
		}
		last = err
		if n >= db.maxRetries {
			// A connection that keeps breaking (terminated backends, a
			// server shutting down) is the database out of reach, not
			// contention between transactions.
			if isUnreachable(err) || isConnLoss(err) {
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

// SQLite primary result codes (the driver reports extended codes; the low
// byte is the primary one).
const (
	sqliteBusy   = 5
	sqliteLocked = 6

	sqliteConstraintPrimaryKey = 1555
	sqliteConstraintUnique     = 2067
)

func sqlState(err error) string {
	var s interface{ SQLState() string }
	if errors.As(err, &s) {
		return s.SQLState()
	}
	return ""
}

func sqliteCode(err error) (int, bool) {
	var e *sqlite.Error
	if errors.As(err, &e) {
		return e.Code(), true
	}
	return 0, false
}

// isRetryable says whether a new attempt of the whole transaction may succeed.
func isRetryable(err error) bool {
	switch sqlState(err) {
	case "40001", "40P01":
		return true
	}
	if code, ok := sqliteCode(err); ok {
		switch code & 0xff {
		case sqliteBusy, sqliteLocked:
			return true
		}
	}
	return isConnLoss(err) || isUnreachable(err)
}

// isConnLoss is a connection that broke under a transaction.
func isConnLoss(err error) bool {
	if errors.Is(err, driver.ErrBadConn) || errors.Is(err, io.ErrUnexpectedEOF) {
		return true
	}
	if st := sqlState(err); strings.HasPrefix(st, "08") || st == "57P01" || st == "57P02" || st == "57P03" {
		return true // connection exception, admin/crash shutdown, cannot connect now
	}
	if pgconn.SafeToRetry(err) {
		return true
	}
	msg := err.Error()
	return strings.Contains(msg, "conn closed") || strings.Contains(msg, "connection reset by peer") ||
		strings.Contains(msg, "broken pipe")
}

// isUnreachable is a database that cannot be connected to at all.
func isUnreachable(err error) bool {
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) {
		return true
	}
	if errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.EHOSTUNREACH) || errors.Is(err, syscall.ENETUNREACH) {
		return true
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return true
	}
	var opErr *net.OpError
	return errors.As(err, &opErr) && opErr.Op == "dial"
}

// isUnique is a unique or primary key violation.
func isUnique(err error) bool {
	if sqlState(err) == "23505" {
		return true
	}
	if code, ok := sqliteCode(err); ok {
		return code == sqliteConstraintUnique || code == sqliteConstraintPrimaryKey
	}
	return false
}

// mapWrite turns a unique violation into enrollment.ErrExists, keeping the cause.
func mapWrite(err error, what string) error {
	if err == nil {
		return nil
	}
	if isUnique(err) {
		return fmt.Errorf("storage: %s: %w: %w", what, enrollment.ErrExists, err)
	}
	return fmt.Errorf("storage: %s: %w", what, err)
}
