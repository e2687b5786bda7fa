package storage

import (
	"context"
	"database/sql"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/edufund/edufund/funding"
	"github.com/edufund/edufund/storage/internal/schema"
)

// openFile opens a store on a new SQLite file, the DSN's parameters query
// ("" for none), migrated if migrate; it is closed when t ends.
func openFile(t *testing.T, query string, migrate bool) *DB {
	t.Helper()
	ctx := context.Background()
	db, err := Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "store.db")+query)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if migrate {
		if err := db.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
	}
	return db
}

// TestLiteValuesAreBuns: SQLite's prepared batch statements bind every
// column of the rows a batch writes as the value bun writes into its text
// (same storage class, same bytes), for a row with every column set and a
// row of zero values, so that the rows read back alike whichever path
// wrote them.
func TestLiteValuesAreBuns(t *testing.T) {
	ctx := context.Background()
	db := openFile(t, "", false)
	at := time.Date(2026, 3, 1, 10, 4, 5, 123456789, time.FixedZone("MSK", 3*3600))
	fills := map[reflect.Type]any{
		reflect.TypeFor[uuid.UUID]():       uuid.Must(uuid.NewV7()),
		reflect.TypeFor[schema.NullUUID](): schema.NullUUID(uuid.Must(uuid.NewV7())),
		reflect.TypeFor[string]():          "it's «ok»",
		reflect.TypeFor[int64]():           int64(-4200),
		reflect.TypeFor[int]():             7,
		reflect.TypeFor[bool]():            true,
		reflect.TypeFor[schema.Date]():     schema.Date(funding.DateOf(at)),
		reflect.TypeFor[schema.Time]():     schema.Time(at),
		reflect.TypeFor[schema.Month]():    schema.Month(funding.DateOf(at).MonthOf()),
		reflect.TypeFor[[]byte]():          []byte(`{"a":1}`),
		reflect.TypeFor[sql.NullInt64]():   sql.NullInt64{Int64: 5, Valid: true},
		reflect.TypeFor[schema.Tags]():     schema.Tags{"a", "b"},
	}
	for _, tb := range []*schema.Table{schema.Contracts, schema.Holds, schema.Postings, schema.Events, schema.Accounts, schema.Counters, schema.Idempotency} {
		bt := db.bun.Table(tb.Type)
		for _, fill := range []bool{true, false} {
			row := reflect.New(tb.Type)
			for _, c := range tb.Columns {
				v, ok := fills[c.GoType]
				if !ok {
					t.Fatalf("%s.%s: no sample value of %s", tb.Name, c.Name, c.GoType)
				}
				if fill {
					row.Elem().Field(c.Index).Set(reflect.ValueOf(v))
				}
			}
			rows := reflect.Append(reflect.MakeSlice(reflect.SliceOf(row.Type()), 0, 1), row)
			args, err := liteArgs(tb, rows.Interface(), nil)
			if err != nil {
				t.Fatal(err)
			}
			for i, c := range tb.Columns {
				lit := bt.LookupField(c.Name).AppendValue(db.bun.QueryGen(), nil, row.Elem())
				var want, got string
				if err := db.bun.DB.QueryRowContext(ctx, "SELECT quote("+string(lit)+"), quote(?)", args[i]).Scan(&want, &got); err != nil {
					t.Fatalf("%s.%s: %v", tb.Name, c.Name, err)
				}
				if got != want {
					t.Errorf("%s.%s (set %v): bound %s, bun writes %s", tb.Name, c.Name, fill, got, want)
				}
			}
		}
	}
}

// TestSQLitePragmas: a file store's connection runs with the settings the
// store relies on: WAL, a commit on disk before it is acknowledged, and a
// page cache of 64 MiB (SQLite's 2 MiB sent the server's reads to the
// operating system).
func TestSQLitePragmas(t *testing.T) {
	ctx := context.Background()
	db := openFile(t, "", false)
	for pragma, want := range map[string]string{"journal_mode": "wal", "synchronous": "2", "cache_size": "-65536", "foreign_keys": "1"} {
		var got string
		if err := db.bun.DB.QueryRowContext(ctx, "PRAGMA "+pragma).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("PRAGMA %s = %s, want %s", pragma, got, want)
		}
	}
}

// TestSQLiteCacheOfTheDSN: a DSN that sets its own page cache keeps it.
func TestSQLiteCacheOfTheDSN(t *testing.T) {
	ctx := context.Background()
	db := openFile(t, "?_pragma=cache_size(-2000)", false)
	var got string
	if err := db.bun.DB.QueryRowContext(ctx, "PRAGMA cache_size").Scan(&got); err != nil {
		t.Fatal(err)
	}
	if got != "-2000" {
		t.Errorf("PRAGMA cache_size = %s, want the DSN's -2000", got)
	}
}
