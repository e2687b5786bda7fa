package pgfast_test

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edufund/edufund/enrollment/batch"
	"github.com/edufund/edufund/storage"
	"github.com/edufund/edufund/storage/internal/pgfast"
)

// planSettings are the settings the batch statements are planned and run
// under: generic plans of key lookups, without JIT compilation.
var planSettings = []struct{ name, want string }{
	{"plan_cache_mode", "force_generic_plan"},
	{"jit", "off"},
}

const showPlanSettings = `SELECT current_setting('plan_cache_mode'), current_setting('jit'), current_setting('enable_seqscan')`

// TestPlanSettings checks that a pipeline and a close page's transaction
// run under the settings their plans rely on, and that the settings do not
// outlive the transaction on the pooled connection.
func TestPlanSettings(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db, _ := openTestPG(ctx, t)
	fast := pgfast.New(db.Bun().DB, nil)

	check := func(t *testing.T, where string, got [3]string, seqscan string) {
		t.Helper()
		for i, s := range planSettings {
			if got[i] != s.want {
				t.Errorf("%s: %s = %q, want %q", where, s.name, got[i], s.want)
			}
		}
		if got[2] != seqscan {
			t.Errorf("%s: enable_seqscan = %q, want %q", where, got[2], seqscan)
		}
	}
	var session [3]string
	err := fast.WithConn(ctx, func(c *pgx.Conn) error {
		return c.QueryRow(ctx, showPlanSettings).Scan(&session[0], &session[1], &session[2])
	})
	if err != nil {
		t.Fatal(err)
	}
	if session[0] == "force_generic_plan" || session[1] == "off" {
		t.Skipf("the server's own settings are the batch's (%v): nothing to tell apart", session)
	}

	t.Run("pipeline", func(t *testing.T) {
		var got [3]string
		err := fast.QueryInPipeline(ctx, "edufund_test_plan_settings", showPlanSettings, func(r pgx.Rows) error {
			return r.Scan(&got[0], &got[1], &got[2])
		})
		if err != nil {
			t.Fatal(err)
		}
		check(t, "in the pipeline", got, "off")
	})
	t.Run("close page", func(t *testing.T) {
		var got [3]string
		err := db.InCloseTx(ctx, func(ctx context.Context, tx batch.CloseTx) error {
			return pgfast.CloseConn(tx).QueryRow(ctx, showPlanSettings).Scan(&got[0], &got[1], &got[2])
		})
		if err != nil {
			t.Fatal(err)
		}
		check(t, "in the close's transaction", got, "off")
	})
	// SET LOCAL and set_config(…, true) end with the transaction: the
	// connection (the pool's only one) is back to the session's settings.
	var after [3]string
	err = fast.WithConn(ctx, func(c *pgx.Conn) error {
		return c.QueryRow(ctx, showPlanSettings).Scan(&after[0], &after[1], &after[2])
	})
	if err != nil {
		t.Fatal(err)
	}
	if after != session {
		t.Errorf("after the batch transactions the connection has %v, want the session's %v", after, session)
	}
}

// TestCloseLockPlan checks the plan the close's lock statement runs under
// when invoice lines have been added since the last ANALYZE: each
// contract's charge record and invoice lines are probed by their primary
// keys, and no bitmap heap scan is rebuilt for every contract (with bitmap
// scans allowed, this generic plan probes the invoice lines by one).
func TestCloseLockPlan(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db := openSchema(ctx, t, "t_lockplan")
	// Lines the planner has no statistics for, as when a close has added
	// them (autovacuum's ANALYZE comes later, if it is on at all).
	_, err := db.Bun().ExecContext(ctx, `INSERT INTO invoice_lines (contract_id, month, kind, municipality, provider_id, amount)
		SELECT gen_random_uuid(), '2026-03', 'final', 'm', gen_random_uuid(), 1 FROM generate_series(1, 20000)`)
	require.NoError(t, err)

	var plan []string
	err = db.InCloseTx(ctx, func(ctx context.Context, tx batch.CloseTx) error {
		c := pgfast.CloseConn(tx).Conn()
		name, sql := pgfast.LockContractsStatement()
		if _, err := c.Prepare(ctx, name, sql); err != nil {
			return err
		}
		rows, err := c.Query(ctx, "EXPLAIN EXECUTE "+name+
			"('{active}', '00000000-0000-0000-0000-000000000000', 'ffffffff-ffff-ffff-ffff-ffffffffffff', 5000, '2026-03', '2026-02')")
		if err != nil {
			return err
		}
		plan, err = pgx.CollectRows(rows, pgx.RowTo[string])
		return err
	})
	require.NoError(t, err)
	text := strings.Join(plan, "\n")
	assert.NotContains(t, text, "Bitmap", "the lock statement's plan:\n%s", text)
	assert.Contains(t, text, "contract_charges_pkey", "the lock statement's plan:\n%s", text)
	assert.Contains(t, text, "invoice_lines_pkey", "the lock statement's plan:\n%s", text)
}

// openSchema opens a migrated store of one connection in a schema of its
// own (named prefix and 8 hex digits), as storagetest's stores have,
// dropped when the test ends.
func openSchema(ctx context.Context, t *testing.T, prefix string) *storage.DB {
	t.Helper()
	admin, base := openTestPG(ctx, t)
	schema := prefix + "_" + uuid.NewString()[:8] // a UUID's first 8 characters are hex digits
	_, err := admin.Bun().ExecContext(ctx, "CREATE SCHEMA "+schema)
	require.NoError(t, err)
	t.Cleanup(func() { _, _ = admin.Bun().ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE") })
	u, err := url.Parse(base)
	require.NoError(t, err)
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	db, err := storage.Open(ctx, u.String(), storage.WithMaxOpenConns(1))
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	require.NoError(t, db.Migrate(ctx))
	return db
}

// openTestPG opens the server named by EDUFUND_TEST_POSTGRES with one
// connection, closed when the test ends, and returns it with its URL; the
// test is skipped when the variable is unset.
func openTestPG(ctx context.Context, t *testing.T) (*storage.DB, string) {
	t.Helper()
	dsn := os.Getenv("EDUFUND_TEST_POSTGRES")
	if dsn == "" {
		t.Skip("EDUFUND_TEST_POSTGRES is not set")
	}
	db, err := storage.Open(ctx, dsn, storage.WithMaxOpenConns(1))
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	return db, dsn
}

// TestPlansAreKeyed plans every statement a batch or a close page runs,
// under its transaction's settings, on tables without statistics as a
// region has them in its first minutes (a connection keeps the plans it
// makes then until an ANALYZE of the table replans them): the registers
// (certificates, accounts, the catalog, the counters) empty or already
// loaded, the tables a campaign fills (contracts, holds, keys) at 0 to
// 3,000 rows. Every table in each plan must be read through an index by a
// key of the statement (a parameter, or a column of the row it is joined
// to): no sequential scan, no walk of a whole index, no scan by constants
// alone (the live statuses), each of which makes every batch or page cost
// the size of the region once the tables grow. Found through the
// reference server: a connection that planned the batch's contracts read
// at a few hundred contracts read every live contract through
// contracts_status_idx, 1.4 ms a batch at 16,000; the close page updated
// a small region's holds by a sequential scan of them all.
func TestPlansAreKeyed(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Second)
	defer cancel()
	// The values of the columns the tables' checks constrain; every other
	// column without a default gets a short value of its type.
	set := map[string]map[string]string{
		"contracts": {"status": "'requested'", "period_end": "'2027-08-31'"},
		"accounts":  {"period_end": "'2027-08-31'"},
	}
	registers := []string{"certificates", "accounts", "study_groups", "modules", "programs", "counters"}
	campaign := []string{"contracts", "holds", "idempotency"}
	// fill adds rows from+1 to to of table.
	fill := func(ctx context.Context, tx pgx.Tx, table string, from, to int) error {
		rows, err := tx.Query(ctx, `SELECT column_name, data_type FROM information_schema.columns
			WHERE table_schema = current_schema() AND table_name = $1 AND is_nullable = 'NO' AND column_default IS NULL
			ORDER BY ordinal_position`, table)
		if err != nil {
			return err
		}
		type col struct{ Name, Type string }
		cols, err := pgx.CollectRows(rows, pgx.RowToStructByPos[col])
		if err != nil {
			return err
		}
		var names, values []string
		for _, c := range cols {
			v, ok := set[table][c.Name]
			if !ok {
				switch c.Type {
				case "uuid":
					v = "gen_random_uuid()"
				case "text", "character varying":
					v = "'f' || g"
				case "date":
					v = "'2026-09-01'"
				case "timestamp with time zone":
					v = "now()"
				case "boolean":
					v = "false"
				case "jsonb", "json":
					v = "'{}'"
				case "bytea":
					v = "''"
				default:
					v = "0"
				}
			}
			names = append(names, c.Name)
			values = append(values, v)
		}
		_, err = tx.Exec(ctx, fmt.Sprintf("INSERT INTO %s (%s) SELECT %s FROM generate_series(%d, %d) AS g",
			table, strings.Join(names, ", "), strings.Join(values, ", "), from+1, to))
		if err != nil {
			return fmt.Errorf("%s: %w", table, err)
		}
		return nil
	}
	unkeyed := regexp.MustCompile(`Seq Scan on (\w+)`)
	indexScan := regexp.MustCompile(`^\s*(->\s+)?(Index Scan|Index Only Scan|Bitmap Index Scan)( Backward)? (using|on) (\w+)`)
	// A key: a parameter of the batch or a column of another relation
	// (a join's or LATERAL's outer row), not constants alone.
	keyed := regexp.MustCompile(`Index Cond: .*(\$\d|\b[a-z_]+\.[a-z_]+\b)`)

	// The batches' statements under the pipeline's settings, the close's
	// under its page transaction's.
	statements, settings := map[string]string{}, map[string]string{}
	for name, sql := range pgfast.BatchStatements() {
		statements[name], settings[name] = sql, pgfast.PlanSettings()
	}
	for name, sql := range pgfast.CloseStatements() {
		statements[name], settings[name] = sql, pgfast.CloseSettings
	}
	for _, loaded := range []int{0, 2000} {
		db := openSchema(ctx, t, fmt.Sprintf("t_plans_%d", loaded))
		fast := pgfast.New(db.Bun().DB, nil)
		// Rows that refer to nothing: no foreign key is checked, no
		// trigger run, in these transactions.
		insert := func(tables []string, from, to int) error {
			return fast.WithConn(ctx, func(c *pgx.Conn) error {
				tx, err := c.Begin(ctx)
				if err != nil {
					return err
				}
				defer func() { _ = tx.Rollback(ctx) }()
				if _, err := tx.Exec(ctx, "SET LOCAL session_replication_role = replica"); err != nil {
					return err
				}
				for _, table := range tables {
					if err := fill(ctx, tx, table, from, to); err != nil {
						return err
					}
				}
				return tx.Commit(ctx)
			})
		}
		if err := insert(registers, 0, loaded); err != nil {
			if pe := (*pgconn.PgError)(nil); errors.As(err, &pe) && pe.Code == "42501" {
				t.Skipf("the test's rows refer to nothing, which takes a superuser (session_replication_role): %v", err)
			}
			require.NoError(t, err)
		}
		have := 0
		for _, n := range []int{0, 50, 200, 300, 400, 1000, 3000} {
			require.NoError(t, insert(campaign, have, n), "%d rows", n)
			have = n
			for name, sql := range statements {
				var plan []string
				err := fast.WithConn(ctx, func(c *pgx.Conn) error {
					tx, err := c.Begin(ctx)
					if err != nil {
						return err
					}
					defer func() { _ = tx.Rollback(ctx) }()
					if _, err := tx.Exec(ctx, settings[name]); err != nil {
						return err
					}
					stmt := fmt.Sprintf("edufund_test_%s_%d", name, n)
					sd, err := c.Prepare(ctx, stmt, sql)
					if err != nil {
						return err
					}
					call := stmt
					if len(sd.ParamOIDs) > 0 {
						call += "(" + strings.Repeat("NULL, ", len(sd.ParamOIDs)-1) + "NULL)"
					}
					rows, err := tx.Query(ctx, "EXPLAIN EXECUTE "+call)
					if err != nil {
						return err
					}
					plan, err = pgx.CollectRows(rows, pgx.RowTo[string])
					return err
				})
				require.NoError(t, err, "%s, registers of %d rows, %d contracts", name, loaded, n)
				text := strings.Join(plan, "\n")
				if m := unkeyed.FindStringSubmatch(text); m != nil {
					t.Errorf("%s, registers of %d rows, %d contracts: reads %s sequentially:\n%s", name, loaded, n, m[1], text)
				}
				for i, line := range plan {
					if m := indexScan.FindStringSubmatch(line); m != nil && (i+1 >= len(plan) || !keyed.MatchString(plan[i+1])) {
						t.Errorf("%s, registers of %d rows, %d contracts: reads %s by no key of the batch:\n%s", name, loaded, n, m[5], text)
					}
				}
			}
		}
	}
}
