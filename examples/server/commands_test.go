package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/examples/server/demo"
	"github.com/edufund/edufund/storage"
)

// demoFile loads the demo region into a SQLite file and returns its -db.
func demoFile(t *testing.T) string {
	t.Helper()
	db := "sqlite:" + filepath.Join(t.TempDir(), "edufund.db")
	if err := run(context.Background(), []string{"demo", "-db", db}, io.Discard, io.Discard); err != nil {
		t.Fatalf("demo: %v", err)
	}
	return db
}

// state digests every row of every table of the database but the
// migrator's own (every command migrates first): equal digests, nothing
// written.
func state(t *testing.T, dsn string) string {
	t.Helper()
	ctx := context.Background()
	db, err := storage.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var tables []string
	if err := db.Bun().NewRaw("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'bun_migration%' AND name <> 'sqlite_sequence' ORDER BY name").Scan(ctx, &tables); err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	for _, table := range tables {
		// Ordered by every column: a plan may list ties in any order.
		probe, err := db.Bun().QueryContext(ctx, "SELECT * FROM "+table+" LIMIT 0")
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := probe.Columns()
		probe.Close()
		order := make([]string, len(cols))
		for i := range cols {
			order[i] = strconv.Itoa(i + 1)
		}
		rows, err := db.Bun().QueryContext(ctx, "SELECT * FROM "+table+" ORDER BY "+strings.Join(order, ", "))
		if err != nil {
			t.Fatal(err)
		}
		vals := make([]sql.RawBytes, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		for rows.Next() {
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(h, "%s:%q\n", table, vals)
		}
		if err := rows.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

// TestRolloverBeforePeriodEnd: the rollover command refuses a period that has
// not ended (the service's rule, as over HTTP), and writes nothing; a dry
// run is refused alike.
func TestRolloverBeforePeriodEnd(t *testing.T) {
	db := demoFile(t)
	before := state(t, db)
	year := strconv.Itoa(time.Now().In(demo.Zone).Year())
	for _, args := range [][]string{{"rollover", "-db", db, "-year", year}, {"rollover", "-db", db, "-year", year, "-dry-run"}} {
		err := run(context.Background(), args, io.Discard, io.Discard)
		if !errors.Is(err, enrollment.ErrPeriodNotEnded) {
			t.Errorf("%v: %v, want %v", args, err, enrollment.ErrPeriodNotEnded)
		}
	}
	if after := state(t, db); after != before {
		t.Fatal("a refused rollover wrote to the database")
	}
}

// TestDryRun: every command that changes money or certificates takes
// -dry-run, prints what it would do, and writes nothing; the real run then
// reports the same figures.
func TestDryRun(t *testing.T) {
	db := demoFile(t)
	year := strconv.Itoa(time.Now().In(demo.Zone).Year())
	month := time.Now().In(demo.Zone).Format("2006-01")
	for _, args := range [][]string{
		{"close", "-month", month},
		{"rollover", "-year", strconv.Itoa(time.Now().In(demo.Zone).Year() - 1)},
		{"cancel-overdue"},
		{"category", "-code", "city", "-nominal", "31000.00"},
		{"budget", "-municipality", "novograd", "-year", year, "-limit", "4000000.00"},
	} {
		t.Run(args[0], func(t *testing.T) {
			before := state(t, db)
			var dry bytes.Buffer
			if err := run(context.Background(), append([]string{args[0], "-db", db, "-dry-run"}, args[1:]...), &dry, io.Discard); err != nil {
				t.Fatalf("dry run: %v\n%s", err, dry.String())
			}
			if !strings.Contains(dry.String(), "dry run, nothing written: would have") {
				t.Errorf("the dry run does not say so:\n%s", dry.String())
			}
			if after := state(t, db); after != before {
				t.Fatalf("the dry run wrote to the database:\n%s", dry.String())
			}
			var real bytes.Buffer
			if err := run(context.Background(), append([]string{args[0], "-db", db}, args[1:]...), &real, io.Discard); err != nil {
				t.Fatalf("run: %v\n%s", err, real.String())
			}
			if got, want := figures(dry.String()), figures(real.String()); got != want {
				t.Errorf("the dry run said\n%s\nthe run did\n%s", got, want)
			}
			if args[0] == "category" || args[0] == "budget" {
				if state(t, db) == before {
					t.Error("the real run changed nothing")
				}
			}
		})
	}
}

// figures is a report's last line without its wording of a dry run and
// its timing.
func figures(out string) string {
	lines := strings.Split(strings.TrimSpace(out), "\n")
	last := strings.TrimPrefix(lines[len(lines)-1], "dry run, nothing written: would have ")
	if i, j := strings.Index(last, " in "), strings.Index(last, ": "); i >= 0 && j > i {
		last = last[:i] + last[j:]
	}
	return last
}

// TestDemoOfAnotherVersion: a database whose demo region another version of
// edufund loaded (its requests hash differently) is refused with what to
// do, not only with the idempotency conflict it runs into.
func TestDemoOfAnotherVersion(t *testing.T) {
	dsn := demoFile(t)
	db, err := storage.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	_, err = db.Bun().ExecContext(context.Background(), "UPDATE idempotency SET request_hash = 'another version' WHERE key LIKE '%:demo:%'")
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	err = run(context.Background(), []string{"demo", "-db", dsn}, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "another version of edufund") {
		t.Fatalf("demo on a database of another version: %v", err)
	}
}
