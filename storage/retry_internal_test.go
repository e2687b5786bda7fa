package storage

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"

	"github.com/edufund/edufund/enrollment"
)

func TestSQLiteBusyIsRetryable(t *testing.T) {
	// Two stores on one file: the second cannot begin while the first holds
	// the write lock, and reports BUSY once busy_timeout is short.
	path := t.TempDir() + "/busy.db"
	ctx := context.Background()
	a, err := Open(ctx, "sqlite:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := Open(ctx, "file:"+path+"?_pragma=busy_timeout(1)")
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if err := a.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	hold := make(chan struct{})
	held := make(chan struct{})
	go func() {
		_ = a.InTx(ctx, func(ctx context.Context, tx enrollment.Tx) error {
			if err := tx.EnsureCounter(ctx, "x", 1); err != nil {
				return err
			}
			close(held)
			<-hold
			return nil
		})
	}()
	<-held
	b.maxRetries = 2
	attempts := 0
	err = b.InTx(ctx, func(ctx context.Context, tx enrollment.Tx) error {
		attempts++
		return tx.EnsureCounter(ctx, "y", 1)
	})
	close(hold)
	if !errors.Is(err, enrollment.ErrContention) {
		t.Fatalf("InTx against a held write lock = %v, want ErrContention", err)
	}
	if se := (*sqlite.Error)(nil); !errors.As(err, &se) || se.Code()&0xff != 5 /* SQLITE_BUSY */ {
		t.Errorf("cause is not SQLITE_BUSY: %v", err)
	}
	t.Logf("attempts=%d err=%v", attempts, err)
	// Once the lock is released the same call succeeds.
	time.Sleep(10 * time.Millisecond)
	b.maxRetries = 10
	if err := b.InTx(ctx, func(ctx context.Context, tx enrollment.Tx) error { return tx.EnsureCounter(ctx, "y", 1) }); err != nil {
		t.Errorf("after release: %v", err)
	}
}

func TestContentionPastTheBound(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, "sqlite::memory:", WithMaxRetries(3))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	attempts := 0
	err = db.InTx(ctx, func(context.Context, enrollment.Tx) error {
		attempts++
		return fmt.Errorf("update: %w", &pgconn.PgError{Code: "40001"})
	})
	if !errors.Is(err, enrollment.ErrContention) {
		t.Fatalf("InTx = %v, want ErrContention", err)
	}
	var cause *pgconn.PgError
	if !errors.As(err, &cause) || cause.Code != "40001" {
		t.Errorf("the cause is lost: %v", err)
	}
	if attempts != 4 {
		t.Errorf("attempts = %d, want 4 (1 + 3 retries)", attempts)
	}

	// A retryable failure the closure swallowed still retries.
	attempts = 0
	err = db.InTx(ctx, func(ctx context.Context, etx enrollment.Tx) error {
		attempts++
		tx := etx.(*tx)
		if attempts == 1 {
			_ = tx.check(&pgconn.PgError{Code: "40001"})
			return enrollment.ErrNotFound
		}
		return nil
	})
	if err != nil || attempts != 2 {
		t.Errorf("swallowed serialization failure: err %v after %d attempts, want a successful retry", err, attempts)
	}
}

func TestUnavailable(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := Open(ctx, "postgres://postgres:secret@127.0.0.1:1/none?sslmode=disable&connect_timeout=2")
	if !errors.Is(err, enrollment.ErrUnavailable) {
		t.Fatalf("Open(closed port) = %v, want ErrUnavailable", err)
	}
	if strings.Contains(err.Error(), "secret") {
		t.Errorf("the error shows the password: %v", err)
	}
}

func TestSQLiteDSN(t *testing.T) {
	for in, want := range map[string]string{
		"sqlite:/var/lib/x.db":  "file:/var/lib/x.db?_txlock=immediate",
		"sqlite:///tmp/x.db":    "file:/tmp/x.db?_txlock=immediate",
		"file:x.db?mode=rwc":    "file:x.db?mode=rwc&_txlock=immediate",
		"data/edufund.db":       "file:data/edufund.db?_txlock=immediate",
		"sqlite:/tmp/T#01/x.db": "file:/tmp/T%2301/x.db?_txlock=immediate",
		"sqlite:/tmp/50%/x.db":  "file:/tmp/50%25/x.db?_txlock=immediate",
		"sqlite::memory:":       "?mode=memory&cache=shared&_txlock=immediate",
		"mysql://root@h/db":     "",
		"sqlite:":               "",
		"postgresx://nothing/x": "",
	} {
		got, err := sqliteDSN(in)
		if want == "" {
			if err == nil {
				t.Errorf("sqliteDSN(%q) = %q, want an error", in, got)
			}
			continue
		}
		if err != nil || !strings.Contains(got, want) {
			t.Errorf("sqliteDSN(%q) = %q, %v; want it to contain %q", in, got, err, want)
		}
		if strings.Contains(in, "memory") == strings.Contains(got, "journal_mode(WAL)") {
			t.Errorf("sqliteDSN(%q) = %q: WAL is for files only", in, got)
		}
	}
	a, _ := sqliteDSN("sqlite::memory:")
	b, _ := sqliteDSN("sqlite::memory:")
	if a == b {
		t.Error("two in-memory DSNs share a name")
	}
}

// TestSQLiteFile: the file a DSN names is the one Open opens, without the
// URI parameters; in-memory and PostgreSQL DSNs name none.
func TestSQLiteFile(t *testing.T) {
	for in, want := range map[string]string{
		"sqlite:/var/lib/x.db":          "/var/lib/x.db",
		"sqlite:///tmp/x.db":            "/tmp/x.db",
		"sqlite:edufund.db":             "edufund.db",
		"file:x.db?mode=rwc":            "x.db",
		"data/edufund.db":               "data/edufund.db",
		"sqlite:/tmp/T#01/x.db":         "/tmp/T#01/x.db",
		"sqlite::memory:":               "",
		":memory:":                      "",
		"postgres://u@h/edufund.db":     "",
		"postgresql://u@h/x?sslmode=no": "",
		"sqlite:":                       "",
		"mysql://root@h/db":             "",
	} {
		if got := SQLiteFile(in); got != want {
			t.Errorf("SQLiteFile(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSQLiteFileWithHashInPath(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "sub#01")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	db, err := Open(context.Background(), "sqlite:"+filepath.Join(dir, "x.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "x.db")); err != nil {
		t.Fatalf("the database is not where the path says: %v", err)
	}
}
