package pgfast_test

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
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
		check(t, "in the close's transaction", got, session[2])
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
	// A schema of its own, as storagetest's stores have.
	admin, base := openTestPG(ctx, t)
	schema := "t_lockplan_" + uuid.NewString()[:8] // a UUID's first 8 characters are hex digits
	_, err := admin.Bun().ExecContext(ctx, "CREATE SCHEMA "+schema)
	require.NoError(t, err)
	defer func() { _, _ = admin.Bun().ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE") }()
	u, err := url.Parse(base)
	require.NoError(t, err)
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	db, err := storage.Open(ctx, u.String(), storage.WithMaxOpenConns(1))
	require.NoError(t, err)
	defer db.Close()
	require.NoError(t, db.Migrate(ctx))
	// Lines the planner has no statistics for, as when a close has added
	// them (autovacuum's ANALYZE comes later, if it is on at all).
	_, err = db.Bun().ExecContext(ctx, `INSERT INTO invoice_lines (contract_id, month, kind, municipality, provider_id, amount)
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

// TestBatchContractsPlanIsByCertificate checks the plan a batch reads its
// certificates' contracts with when a connection first runs it in a
// region's first hours, while its contracts table is small and not
// analyzed yet: the plan is cached for the connection's life, and it must
// find the contracts by certificate. A plan that reads every live contract
// through contracts_status_idx and filters them by certificate looks as
// cheap while the table is small, and then costs each batch the whole
// region: found through the reference server, where a connection that
// planned it at a few hundred contracts spent 1.4 ms a batch on it at
// 16,000 (pg_stat_statements, auto_explain).
func TestBatchContractsPlanIsByCertificate(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	admin, base := openTestPG(ctx, t)
	schema := "t_contractsplan_" + uuid.NewString()[:8]
	_, err := admin.Bun().ExecContext(ctx, "CREATE SCHEMA "+schema)
	require.NoError(t, err)
	defer func() { _, _ = admin.Bun().ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE") }()
	u, err := url.Parse(base)
	require.NoError(t, err)
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	db, err := storage.Open(ctx, u.String(), storage.WithMaxOpenConns(1))
	require.NoError(t, err)
	defer db.Close()
	require.NoError(t, db.Migrate(ctx))

	fast := pgfast.New(db.Bun().DB, nil)
	have := 0
	for _, n := range []int{0, 30, 100, 200, 300, 400, 600, 1000, 3000, 6000} {
		var plan []string
		err = fast.WithConn(ctx, func(c *pgx.Conn) error {
			tx, err := c.Begin(ctx)
			if err != nil {
				return err
			}
			defer func() { _ = tx.Rollback(ctx) }()
			// Contracts of their own certificates, live, without the rows
			// they refer to (no foreign key is checked in this session).
			if _, err := tx.Exec(ctx, "SET LOCAL session_replication_role = replica"); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `INSERT INTO contracts (id, certificate_id, group_id, module_id, program_id, provider_id, municipality,
				period_start, period_end, status, price_days, price_months, price_total, price_normative, price_cert, price_copay,
				price_first, price_other, price_cert_first, price_cert_other, price_copay_first, price_copay_other, created_at, registry, direction)
				SELECT gen_random_uuid(), gen_random_uuid(), gen_random_uuid(), gen_random_uuid(), gen_random_uuid(), gen_random_uuid(), 'mo',
					'2026-09-01', '2027-08-31', 'requested', 273, 9, 9000, 9000, 9000, 0, 1000, 1000, 1000, 1000, 0, 0, now(), 'certified', 'tech'
				FROM generate_series(1, $1::int)`, n-have); err != nil {
				return err
			}
			if err := tx.Commit(ctx); err != nil {
				return err
			}
			have = n
			tx, err = c.Begin(ctx)
			if err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, pgfast.PlanSettings()); err != nil {
				return err
			}
			name := fmt.Sprintf("edufund_test_contracts_%d", n)
			if _, err := c.Prepare(ctx, name, pgfast.ContractsStatement()); err != nil {
				return err
			}
			rows, err := tx.Query(ctx, "EXPLAIN EXECUTE "+name+"('{"+uuid.NewString()+"}', '{"+uuid.NewString()+"}')")
			if err != nil {
				return err
			}
			plan, err = pgx.CollectRows(rows, pgx.RowTo[string])
			return err
		})
		require.NoError(t, err)
		text := strings.Join(plan, "\n")
		// Found by certificate: the index's condition is the certificate.
		assert.Regexp(t, `(Index Scan using|Bitmap Index Scan on) (contracts_live_key|contracts_certificate_idx).*\n\s+Index Cond: \(certificate_id = `, text, "%d contracts, the contracts read's plan:\n%s", n, text)
		assert.NotContains(t, text, "contracts_status_idx", "%d contracts, the contracts read's plan:\n%s", n, text)
	}
}
