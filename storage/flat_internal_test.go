package storage

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/edufund/edufund/storage/internal/schema"
)

// TestApplicationReadsAreFlat: the reads every application makes of its
// certificate's past go through the partial indexes of open holds and
// live contracts, so that an application costs the same however many
// contracts the certificate had (issue 31; BenchmarkHistory measures it).
// SQLite plans without statistics, so its choice is checked: with an
// index of all of an account's holds beside the partial one, it took the
// larger, and it uses a partial index only for the very term.
func TestApplicationReadsAreFlat(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "flat.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	lite := &tx{db: db}
	for _, c := range []struct {
		name, query, want string
	}{
		{"account", accountByKeySQL, "USING INDEX holds_open_idx"},
		{"batch accounts", schema.AccountRead(false) + ` WHERE a.certificate_id IN ('a', 'b')`, "USING INDEX holds_open_idx"},
		{"live contracts", "SELECT id FROM " + lite.liveContractsFrom() + " WHERE certificate_id = ? AND " + schema.LiveContracts, "USING INDEX contracts_live_key"},
	} {
		rows, err := db.bun.QueryContext(ctx, "EXPLAIN QUERY PLAN "+strings.ReplaceAll(c.query, "?", "'x'"))
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		got := strings.Join(plan, "; ")
		if !strings.Contains(got, c.want) || strings.Contains(got, "SCAN h") {
			t.Errorf("%s: plan %q, want %q", c.name, got, c.want)
		}
	}
}
