package storage

import (
	"context"
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
	db := openFile(t, "", true)
	lite := &tx{db: db}
	for _, c := range []struct {
		name, query, want string
	}{
		{"account", accountByKeySQL, "USING INDEX holds_open_idx"},
		{"batch accounts", schema.AccountRead(false) + ` WHERE a.certificate_id IN ('a', 'b')`, "USING INDEX holds_open_idx"},
		{"live contracts", "SELECT id FROM " + lite.liveContractsFrom() + " WHERE certificate_id = ? AND " + schema.LiveContracts, "USING INDEX contracts_live_key"},
		// The feed's subject indexes hold published events only (migration
		// 00034), which its condition seq > cursor implies.
		{"feed by certificate", feedSQL("certificate_id"), "USING INDEX events_certificate_idx"},
		{"feed by contract", feedSQL("contract_id"), "USING INDEX events_contract_idx"},
		{"feed by provider", feedSQL("provider_id"), "USING INDEX events_provider_idx"},
		{"feed by municipality", feedSQL("municipality"), "USING INDEX events_municipality_idx"},
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
		if !strings.Contains(got, c.want) || strings.Contains(got, "SCAN h") || strings.Contains(got, "TEMP B-TREE") {
			t.Errorf("%s: plan %q, want %q", c.name, got, c.want)
		}
	}
}

// TestUnpublishedEventsSkipTheFeedIndexes: an application appends its event
// with the key and events_unpublished_idx only; the feed's indexes take it
// when the relay numbers it (migration 00034).
func TestUnpublishedEventsSkipTheFeedIndexes(t *testing.T) {
	ctx := context.Background()
	db := openFile(t, "", true)
	var defs []string
	if err := db.bun.NewRaw("SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'events' AND sql IS NOT NULL ORDER BY name").Scan(ctx, &defs); err != nil {
		t.Fatal(err)
	}
	checkFeedIndexes(t, defs, "WHERE seq IS NOT NULL")
}

// checkFeedIndexes checks that every index of events but the unpublished
// one holds published events only (SQLite's UNIQUE of seq, a column
// constraint, is not in defs).
func checkFeedIndexes(t *testing.T, defs []string, partial string) {
	t.Helper()
	seen := 0
	for _, d := range defs {
		switch {
		case strings.Contains(d, "events_unpublished_idx"), strings.Contains(d, "events_pkey"):
		case !strings.Contains(d, partial):
			t.Errorf("an index of events holds unpublished events: %s", d)
		default:
			seen++
		}
	}
	if seen < 4 {
		t.Errorf("%d of the feed's 4 subject indexes found: %q", seen, defs)
	}
}

// feedSQL is the shape of the feed's read (DB.Events) by one subject.
func feedSQL(subject string) string {
	return "SELECT id FROM events WHERE seq > 0 AND " + subject + " = ? ORDER BY seq LIMIT 50"
}
