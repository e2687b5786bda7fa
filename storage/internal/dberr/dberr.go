// Package dberr reads the errors of both engines (PostgreSQL's SQLSTATE
// codes, SQLite's result codes, broken connections) in the store's terms:
// retry the transaction, the database is out of reach, a unique rule
// refused the row.
package dberr

import (
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"

	"github.com/edufund/edufund/enrollment"
)

// SQLite primary result codes (the driver reports extended codes; the low
// byte is the primary one).
const (
	sqliteBusy   = 5
	sqliteLocked = 6

	sqliteConstraintPrimaryKey = 1555
	sqliteConstraintUnique     = 2067
)

// SQLState is PostgreSQL's SQLSTATE of err, "" when it has none.
func SQLState(err error) string {
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

// Retryable says whether a new attempt of the whole transaction may succeed.
func Retryable(err error) bool {
	switch SQLState(err) {
	case "40001", "40P01":
		return true
	}
	if code, ok := sqliteCode(err); ok {
		switch code & 0xff {
		case sqliteBusy, sqliteLocked:
			return true
		}
	}
	return ConnLoss(err) || Unreachable(err)
}

// ConnLoss is a connection that broke under a transaction.
func ConnLoss(err error) bool {
	if errors.Is(err, driver.ErrBadConn) || errors.Is(err, io.ErrUnexpectedEOF) {
		return true
	}
	if st := SQLState(err); strings.HasPrefix(st, "08") || st == "57P01" || st == "57P02" || st == "57P03" {
		return true // connection exception, admin/crash shutdown, cannot connect now
	}
	if pgconn.SafeToRetry(err) {
		return true
	}
	msg := err.Error()
	return strings.Contains(msg, "conn closed") || strings.Contains(msg, "connection reset by peer") ||
		strings.Contains(msg, "broken pipe")
}

// Unreachable is a database that cannot be connected to at all.
func Unreachable(err error) bool {
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

// Unique is a unique or primary key violation.
func Unique(err error) bool {
	if SQLState(err) == "23505" {
		return true
	}
	if code, ok := sqliteCode(err); ok {
		return code == sqliteConstraintUnique || code == sqliteConstraintPrimaryKey
	}
	return false
}

// Write names a statement's failure: a unique violation matches
// enrollment.ErrExists, keeping the cause.
func Write(err error, what string) error {
	if err == nil {
		return nil
	}
	if Unique(err) {
		return fmt.Errorf("storage: %s: %w: %w", what, enrollment.ErrExists, err)
	}
	return fmt.Errorf("storage: %s: %w", what, err)
}

// Read names a query's failure: no rows matches enrollment.ErrNotFound.
func Read(err error, what string, key any) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("storage: %s %v: %w", what, key, enrollment.ErrNotFound)
	}
	return fmt.Errorf("storage: %s %v: %w", what, key, err)
}
