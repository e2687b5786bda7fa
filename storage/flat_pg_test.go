package storage_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/edufund/edufund/storage"
	"github.com/edufund/edufund/storage/internal/schema"
	"github.com/edufund/edufund/storage/storagetest"
)

// TestApplicationReadsAreFlatPG is TestApplicationReadsAreFlat's account
// read on PostgreSQL: its condition is the partial index's (the generated
// column open), which the planner can use only when it names it.
func TestApplicationReadsAreFlatPG(t *testing.T) {
	db := storagetest.Open(t, storagetest.Postgres)
	var plan []string
	q := `EXPLAIN SELECT ` + schema.PGAccountSelect + ` FROM ` + schema.AccountFrom + ` WHERE a.certificate_id = '01939a4e-0000-7000-8000-000000000000'`
	if err := db.Bun().NewRaw(q).Scan(context.Background(), &plan); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(plan, "\n"); !strings.Contains(got, "holds_open_idx") {
		t.Errorf("the account read does not use holds_open_idx:\n%s", got)
	}
}

// TestUnpublishedEventsSkipTheFeedIndexesPG is
// TestUnpublishedEventsSkipTheFeedIndexes on PostgreSQL, where the seq's
// uniqueness is a partial index too.
func TestUnpublishedEventsSkipTheFeedIndexesPG(t *testing.T) {
	db := storagetest.Open(t, storagetest.Postgres)
	var defs []string
	if err := db.Bun().NewRaw("SELECT indexdef FROM pg_indexes WHERE tablename = 'events' ORDER BY indexname").Scan(context.Background(), &defs); err != nil {
		t.Fatal(err)
	}
	storage.CheckFeedIndexes(t, defs, "WHERE (seq IS NOT NULL)")
	if !slices.ContainsFunc(defs, func(d string) bool { return strings.Contains(d, "UNIQUE INDEX events_seq_key") }) {
		t.Errorf("seq is not unique: %q", defs)
	}
}

// TestCloseKeysPG: the close writes two invoice lines and a charge record a
// contract, each with one index entry, its key, which leads with the month:
// a close appends its month instead of writing beside every contract's
// earlier months. The lines' key, (month, provider_id, contract_id, kind),
// serves the export's pages and the close's probes alike (migration 00035).
func TestCloseKeysPG(t *testing.T) {
	db := storagetest.Open(t, storagetest.Postgres)
	var schemaName string
	if err := db.Bun().NewRaw("SELECT current_schema()").Scan(context.Background(), &schemaName); err != nil {
		t.Fatal(err)
	}
	for table, want := range map[string]string{
		"invoice_lines":    "UNIQUE INDEX invoice_lines_pkey ON %s.invoice_lines USING btree (month, provider_id, contract_id, kind)",
		"contract_charges": "UNIQUE INDEX contract_charges_pkey ON %s.contract_charges USING btree (month, contract_id)",
	} {
		var defs []string
		if err := db.Bun().NewRaw("SELECT indexdef FROM pg_indexes WHERE schemaname = current_schema() AND tablename = ?", table).Scan(context.Background(), &defs); err != nil {
			t.Fatal(err)
		}
		if w := "CREATE " + fmt.Sprintf(want, schemaName); len(defs) != 1 || defs[0] != w {
			t.Errorf("%s's indexes: %q, want its key alone: %q", table, defs, w)
		}
	}
}
