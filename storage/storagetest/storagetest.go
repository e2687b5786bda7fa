// Package storagetest is the test kit of edufund's stores.
//
// Run is the contract every enrollment.Store must keep: it runs against any
// store given an opener, as testing/fstest and testing/slogtest do for
// theirs. The fixtures (Child, SaveOffer, ContractFor, InTx…) write rows
// straight through a Tx; a Region sets up a small region through the
// services for scenarios of the use cases.
//
// Open and Each give migrated, isolated stores of this module's adapter
// (package storage): an in-memory SQLite database, a SQLite file in a
// temporary directory, and a fresh schema on the PostgreSQL server named by
// EDUFUND_TEST_POSTGRES (for example
// postgres://postgres@127.0.0.1:5432/edufund_test?sslmode=disable), opened
// as it is by default and in the portable profile (storage.WithPortable).
//
// When EDUFUND_TEST_POSTGRES is set and the server cannot be reached, the
// test fails; it never silently skips PostgreSQL.
package storagetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/edufund/edufund/storage"
)

// Kinds of store Open knows.
const (
	SQLiteMemory = "sqlite-memory"
	SQLiteFile   = "sqlite-file"
	Postgres     = "postgres"
	// PostgresPortable is Postgres opened with storage.WithPortable: the
	// plain statements a distributed engine runs, every transaction
	// SERIALIZABLE, so that it also exercises the retry of serialization
	// failures.
	PostgresPortable = "postgres-portable"
)

// EnvPostgres names the variable holding the PostgreSQL test server's URL.
const EnvPostgres = "EDUFUND_TEST_POSTGRES"

// Kinds lists the kinds Each runs: both SQLite kinds, and Postgres by
// default and in the portable profile when EDUFUND_TEST_POSTGRES is set.
func Kinds() []string {
	ks := []string{SQLiteMemory, SQLiteFile}
	if os.Getenv(EnvPostgres) != "" {
		ks = append(ks, Postgres, PostgresPortable)
	}
	return ks
}

// Options are the options a kind's store is opened with, before a test's
// own: a test that opens a kind's DSN itself passes them to storage.Open.
func Options(kind string) []storage.Option {
	if kind == PostgresPortable {
		return []storage.Option{storage.WithPortable()}
	}
	return nil
}

// Each runs fn as a subtest against a fresh, migrated store of every kind
// in Kinds.
func Each(t *testing.T, fn func(t *testing.T, db *storage.DB)) {
	t.Helper()
	for _, k := range Kinds() {
		t.Run(k, func(t *testing.T) {
			fn(t, Open(t, k))
		})
	}
}

// Open returns a fresh, migrated store of the given kind, closed (and on
// PostgreSQL its schema dropped) when the test ends. A PostgreSQL kind is
// skipped when EDUFUND_TEST_POSTGRES is unset and fails the test when the
// server cannot be reached.
func Open(t testing.TB, kind string, opts ...storage.Option) *storage.DB {
	t.Helper()
	return OpenDSN(t, kind, DSN(t, kind), opts...)
}

// DSN returns the DSN of a fresh store of the given kind, for a test that
// opens it more than once (a restart): a SQLite file in a temporary
// directory, or a PostgreSQL schema of its own, dropped when the test ends.
// An in-memory SQLite store does not outlive its DB. A test that opens the
// DSN with storage.Open itself passes the kind's Options. A PostgreSQL kind
// is skipped or fails as in Open.
func DSN(t testing.TB, kind string) string {
	t.Helper()
	switch kind {
	case SQLiteMemory:
		return "sqlite::memory:"
	case SQLiteFile:
		return "sqlite:" + filepath.Join(t.TempDir(), "edufund.db")
	case Postgres, PostgresPortable:
		return postgresSchema(t)
	}
	t.Fatalf("storagetest: unknown kind %q", kind)
	return ""
}

// OpenDSN opens and migrates the store of the given kind at dsn (from DSN),
// closed when the test ends.
func OpenDSN(t testing.TB, kind, dsn string, opts ...storage.Option) *storage.DB {
	t.Helper()
	db := openDSN(t, kind, dsn, opts...)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := db.Migrate(ctx); err != nil {
		t.Fatalf("storagetest: migrate %s: %v", kind, err)
	}
	return db
}

// OpenEmpty is Open without the migrations, for a test of a migration.
func OpenEmpty(t testing.TB, kind string, opts ...storage.Option) *storage.DB {
	t.Helper()
	return openDSN(t, kind, DSN(t, kind), opts...)
}

func openDSN(t testing.TB, kind, dsn string, opts ...storage.Option) *storage.DB {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db, err := storage.Open(ctx, dsn, append(Options(kind), opts...)...)
	if err != nil {
		t.Fatalf("storagetest: open %s: %v", kind, err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// postgresSchema creates a schema of its own on the test server and returns
// a DSN whose search_path points at it; the schema is dropped at cleanup
// (registered before the store's Close, so it runs after it).
func postgresSchema(t testing.TB) string {
	t.Helper()
	base := os.Getenv(EnvPostgres)
	if base == "" {
		t.Skipf("storagetest: %s is not set", EnvPostgres)
	}
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("storagetest: %s: %v", EnvPostgres, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	admin, err := storage.Open(ctx, base, storage.WithMaxOpenConns(1))
	if err != nil {
		t.Fatalf("storagetest: %s=%s: PostgreSQL is unreachable: %v", EnvPostgres, base, err)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "t_" + hex.EncodeToString(b[:])
	if _, err := admin.Bun().ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		_ = admin.Close()
		t.Fatalf("storagetest: create schema: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := admin.Bun().ExecContext(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("storagetest: drop schema %s: %v", schema, err)
		}
		_ = admin.Close()
	})
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// CheckInvariants fails the test unless every invariant of the design holds
// over the whole of db (storage.CheckInvariants).
func CheckInvariants(t testing.TB, db *storage.DB) {
	t.Helper()
	require.NoError(t, storage.CheckInvariants(context.Background(), db))
}

// RowCounts is the number of rows of every table the services write.
func RowCounts(t testing.TB, db *storage.DB) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, table := range []string{"certificates", "accounts", "holds", "postings", "counters", "contracts",
		"contract_charges", "invoice_lines", "invoices", "idempotency", "queue", "ratings"} {
		var n int
		require.NoError(t, db.Bun().NewRaw("SELECT COUNT(*) FROM "+table).Scan(context.Background(), &n), table)
		out[table] = n
	}
	return out
}
