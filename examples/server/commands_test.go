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
	"regexp"
	"slices"
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
	nextYear := strconv.Itoa(time.Now().In(demo.Zone).Year() + 1)
	for _, args := range [][]string{
		{"close", "-month", month},
		{"rollover", "-year", strconv.Itoa(time.Now().In(demo.Zone).Year() - 1)},
		{"cancel-overdue"},
		{"category", "-code", "city", "-nominal", "31000.00"},
		{"category", "-code", "weekly", "-hours-base", "6", "-hours-extra", "2"},
		{"budget", "-municipality", "novograd", "-year", year, "-limit", "4000000.00"},
		{"parameter", "-name", "advance_share", "-from", nextYear + "-01-01", "-value", "0.7", "-reason", "regional order 12-p"},
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
			if args[0] == "category" || args[0] == "budget" || args[0] == "parameter" {
				if state(t, db) == before {
					t.Error("the real run changed nothing")
				}
			}
		})
	}
}

// TestParameterCommands: parameter sets a version of a region's parameter
// as the system, with the service's checks, each refusal naming its flag;
// its dry run writes nothing, so a following parameters does not list it;
// parameters lists the versions in a table.
func TestParameterCommands(t *testing.T) {
	db := demoFile(t)
	ctx := context.Background()
	cmd := func(args ...string) (string, error) {
		var out bytes.Buffer
		err := run(ctx, append([]string{args[0], "-db", db}, args[1:]...), &out, io.Discard)
		return out.String(), err
	}
	list := func() string {
		t.Helper()
		out, err := cmd("parameters")
		if err != nil {
			t.Fatalf("parameters: %v", err)
		}
		return out
	}
	if out := list(); !strings.Contains(out, "no parameter versions") {
		t.Fatalf("parameters of the demo region:\n%s", out)
	}

	from := strconv.Itoa(time.Now().In(demo.Zone).Year()+1) + "-01-01"
	age := []string{"parameter", "-name", "children.min_age", "-scope", "novograd", "-from", from, "-value", "6", "-reason", "municipal decree 7"}
	before := state(t, db)
	out, err := cmd(append(age, "-dry-run")...)
	if want := "dry run, nothing written: would have set children.min_age for novograd from " + from + ": the region's own value → 6 (municipal decree 7)"; err != nil || strings.TrimSpace(out) != want {
		t.Fatalf("dry run: %v\n%s\nwant %s", err, out, want)
	}
	if state(t, db) != before {
		t.Fatal("the dry run wrote to the database")
	}
	if out := list(); strings.Contains(out, "children.min_age") {
		t.Fatalf("the dry run's version is listed:\n%s", out)
	}

	if out, err := cmd(age...); err != nil || strings.TrimSpace(out) != "set children.min_age for novograd from "+from+": the region's own value → 6 (municipal decree 7)" {
		t.Fatalf("parameter: %v\n%s", err, out)
	}
	age[8] = "7"
	if out, err := cmd(age...); err != nil || !strings.Contains(out, ": 6 → 7 (") {
		t.Fatalf("a second version: %v\n%s", err, out)
	}
	if out, err := cmd("parameter", "-name", "advance_share", "-from", from, "-value", "0.75", "-reason", "regional order 12-p"); err != nil {
		t.Fatalf("advance_share: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(list()), "\n")
	want := [][]string{
		{"VERSION", "NAME", "SCOPE", "FROM", "VALUE", "REASON"},
		{"1", "children.min_age", "novograd", from, "6", "municipal", "decree", "7"},
		{"2", "children.min_age", "novograd", from, "7", "municipal", "decree", "7"},
		{"3", "advance_share", "-", from, "0.75", "regional", "order", "12-p"},
	}
	if len(lines) != len(want) {
		t.Fatalf("parameters:\n%s", strings.Join(lines, "\n"))
	}
	for i, l := range lines {
		if got := strings.Fields(l); !slices.Equal(got, want[i]) {
			t.Errorf("parameters line %d: %q, want %q", i, got, want[i])
		}
	}

	// Refusals, each naming its flag; nothing is written.
	before = state(t, db)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-name", "children.min_age", "-from", "2020-01-01", "-value", "6", "-reason", "x"}, "-from: must be today"},
		{[]string{"-name", "children.min_age", "-from", "01.01.2030", "-value", "6", "-reason", "x"}, "-from: must be a date such as 2026-09-01"},
		{[]string{"-name", "children.min_age", "-value", "6", "-reason", "x"}, "-from: is required"},
		{[]string{"-name", "advance", "-from", from, "-value", "0.7", "-reason", "x"}, "-name: must be one of adult_coverage, "},
		{[]string{"-name", "advance_share", "-from", from, "-value", "1.5", "-reason", "x"}, "-value: must be a decimal share"},
		{[]string{"-name", "advance_share", "-scope", "novograd", "-from", from, "-value", "0.7", "-reason", "x"}, "-scope: must be empty"},
		{[]string{"-name", "advance_share", "-from", from, "-value", "0.7"}, "-reason: is required"},
	} {
		for _, dry := range []bool{false, true} {
			args := append([]string{"parameter"}, c.args...)
			if dry {
				args = append(args, "-dry-run")
			}
			out, err := cmd(args...)
			if err == nil || !strings.HasPrefix(err.Error(), c.want) {
				t.Errorf("%q: %v, want %q\n%s", args, err, c.want, out)
			}
		}
	}
	if state(t, db) != before {
		t.Fatal("a refused parameter wrote to the database")
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

// TestForecastAndWhatIf: forecast prints a line per municipality and the
// months still to be charged; what-if prints what a parameter's version or
// a category would do, its refusal included, each mistake naming its flag;
// neither writes anything.
func TestForecastAndWhatIf(t *testing.T) {
	db := demoFile(t)
	ctx := context.Background()
	cmd := func(args ...string) (string, error) {
		var out bytes.Buffer
		err := run(ctx, append([]string{args[0], "-db", db}, args[1:]...), &out, io.Discard)
		return out.String(), err
	}
	before := state(t, db)
	from := strconv.Itoa(time.Now().In(demo.Zone).Year()+1) + "-01-01"

	out, err := cmd("forecast")
	if err != nil {
		t.Fatalf("forecast: %v\n%s", err, out)
	}
	lines := strings.Split(out, "\n")
	for _, want := range [][]string{
		{"MUNICIPALITY", "LIMIT", "SPENT", "RESERVED", "CONTRACTS", "QUEUED", "QUEUE", "MONEY", "NEED", "HEADROOM"},
		{"zarechye", "1500000.00"},
	} {
		if !slices.ContainsFunc(lines, func(l string) bool {
			f := strings.Fields(l)
			return len(f) >= len(want) && slices.Equal(f[:len(want)], want)
		}) {
			t.Errorf("forecast has no line %q:\n%s", want, out)
		}
	}
	if !strings.Contains(out, "still to be charged from the live contracts' reserves, by month:") {
		t.Errorf("forecast has no months:\n%s", out)
	}

	for _, c := range []struct {
		args []string
		want []string
	}{
		{[]string{"-category", "city", "-nominal", "1.00"}, []string{"what-if, nothing written: category city: nominal 1.00",
			"would be refused (nominal_cut_exceeds_balance)", "refusals it would cause (1 of 1):", "balances moved: 0.00"}},
		{[]string{"-category", "city", "-nominal", "31000.00"}, []string{"balances that would move", "nominal for ", "30000.00 → 31000.00"}},
		{[]string{"-parameter", "advance_share", "-from", from, "-value", "0.5"}, []string{"advance_share = 0.5 from " + from, "advance invoices of " + from[:7]}},
		{[]string{"-parameter", "registry_quota", "-scope", "general", "-from", from, "-value", "0", "-reason", "приказ"}, []string{"registry_quota for general = 0", "note: "}},
		{[]string{"-parameter", "children.min_age", "-scope", "novograd", "-from", from, "-value", "17"}, []string{"refusals it would cause", "under the new minimum of 17"}},
	} {
		out, err := cmd(append([]string{"what-if"}, c.args...)...)
		if err != nil {
			t.Errorf("what-if %q: %v\n%s", c.args, err, out)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(out, w) {
				t.Errorf("what-if %q does not say %q:\n%s", c.args, w, out)
			}
		}
	}

	for _, c := range []struct {
		args []string
		want string
	}{
		{nil, "-parameter or -category: name either"},
		{[]string{"-parameter", "advance_share", "-category", "city"}, "-parameter or -category: name either"},
		{[]string{"-parameter", "advance_share", "-from", "2020-01-01", "-value", "0.5"}, "-from: must be today"},
		{[]string{"-parameter", "advance_share", "-from", "01.01.2030", "-value", "0.5"}, "-from: must be a date such as"},
		{[]string{"-parameter", "advance", "-from", from, "-value", "0.5"}, "-parameter: must be one of adult_coverage, "},
		{[]string{"-parameter", "registry_quota", "-scope", "general", "-from", from, "-value", "99"}, "-value: must be a whole number"},
		{[]string{"-parameter", "advance_share", "-from", from, "-value", "0.5", "-nominal", "1.00"}, "-nominal, -max-count, -max-sum: they go with -category"},
		{[]string{"-category", "city", "-nominal", "-1.00"}, "-nominal: must not be negative"},
		{[]string{"-category", "city", "-value", "1"}, "-scope, -from, -value, -reason: they go with -parameter"},
		{[]string{"-category", "brand-new"}, "-nominal: category \"brand-new\" does not exist yet"},
	} {
		out, err := cmd(append([]string{"what-if"}, c.args...)...)
		if err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("what-if %q: %v, want %q\n%s", c.args, err, c.want, out)
		}
	}
	if state(t, db) != before {
		t.Fatal("forecast or what-if wrote to the database")
	}
}

// TestDemoExports: every export line the demo prints names a distinct shell
// variable with something after its prefix (Russian names are spelt in
// Latin; they once all came out as PROVIDER_ and GROUP_2026).
func TestDemoExports(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"demo", "-db", "sqlite:" + filepath.Join(t.TempDir(), "e.db")}, &out, io.Discard); err != nil {
		t.Fatalf("demo: %v", err)
	}
	valid := regexp.MustCompile(`^(PROVIDER|GROUP|CERT|CONTRACT)_[A-Z0-9][A-Z0-9_]*$`)
	seen := map[string]bool{}
	for line := range strings.Lines(out.String()) {
		name, _, ok := strings.Cut(strings.TrimPrefix(line, "export "), "=")
		if !ok || !strings.HasPrefix(line, "export ") {
			continue
		}
		if !valid.MatchString(name) || seen[name] {
			t.Errorf("export %q: want a distinct name matching %s", name, valid)
		}
		seen[name] = true
	}
	if !seen["PROVIDER_ROBOTSENTR"] || !seen["GROUP_ROBOTOTEKHNIKA_NA_LEGO_2026"] {
		t.Errorf("the demo's exports miss Робоцентр or its group: %v", seen)
	}
}
