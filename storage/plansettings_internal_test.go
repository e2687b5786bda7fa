package storage

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/edufund/edufund/enrollment"
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
	dsn := os.Getenv("EDUFUND_TEST_POSTGRES")
	if dsn == "" {
		t.Skip("EDUFUND_TEST_POSTGRES is not set")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db, err := Open(ctx, dsn, WithMaxOpenConns(1))
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	defer db.Close()

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
	err = db.withPgx(ctx, func(c *pgx.Conn) error {
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
		st := &pgStmt{"edufund_test_plan_settings", showPlanSettings}
		err := db.withPgx(ctx, func(c *pgx.Conn) error {
			return runPipeline(ctx, c, []pgQuery{{stmt: st, scan: func(r pgx.Rows) error {
				return r.Scan(&got[0], &got[1], &got[2])
			}}})
		})
		if err != nil {
			t.Fatal(err)
		}
		check(t, "in the pipeline", got, "off")
	})
	t.Run("close page", func(t *testing.T) {
		var got [3]string
		err := db.InCloseTx(ctx, func(ctx context.Context, tx enrollment.CloseTx) error {
			return tx.(*pgCloseTx).tx.QueryRow(ctx, showPlanSettings).Scan(&got[0], &got[1], &got[2])
		})
		if err != nil {
			t.Fatal(err)
		}
		check(t, "in the close's transaction", got, session[2])
	})
	// SET LOCAL and set_config(…, true) end with the transaction: the
	// connection (the pool's only one) is back to the session's settings.
	var after [3]string
	err = db.withPgx(ctx, func(c *pgx.Conn) error {
		return c.QueryRow(ctx, showPlanSettings).Scan(&after[0], &after[1], &after[2])
	})
	if err != nil {
		t.Fatal(err)
	}
	if after != session {
		t.Errorf("after the batch transactions the connection has %v, want the session's %v", after, session)
	}
}
