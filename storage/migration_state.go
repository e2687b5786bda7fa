package storage

import (
	"context"
	"fmt"
	"slices"

	"github.com/uptrace/bun/migrate"
)

// MigrationState is how the migrations a database records as applied
// compare with the ones this build embeds: what a tool that opens a copy
// (a backup, a restored database) checks before it trusts the schema.
type MigrationState struct {
	// Applied are the migrations of this build the database has, oldest
	// first.
	Applied []string
	// Pending are the migrations of this build the database lacks: Migrate
	// applies them.
	Pending []string
	// Unknown are migrations the database has that this build does not
	// know: a newer edufund migrated it, and this build must not run on it.
	Unknown []string
}

// Newer reports whether a newer build migrated the database.
func (s MigrationState) Newer() bool { return len(s.Unknown) > 0 }

// Migrations reads the database's migration state without changing
// anything: unlike Migrate it creates no table and takes no lock, so it
// runs on a copy, and as a role that may only read.
func (db *DB) Migrations(ctx context.Context) (MigrationState, error) {
	ms := migrate.NewMigrations()
	if err := ms.Discover(db.migrationsFS); err != nil {
		return MigrationState{}, fmt.Errorf("storage: migrations: %w", err)
	}
	m := migrate.NewMigrator(db.bun, ms)
	applied, err := m.AppliedMigrations(ctx)
	if err != nil {
		return MigrationState{}, fmt.Errorf("storage: read the applied migrations (bun_migrations): is this an edufund database? %w", classifyOpen(err))
	}
	var st MigrationState
	known := map[string]bool{}
	for _, x := range ms.Sorted() {
		known[x.Name] = true
	}
	done := map[string]bool{}
	for _, x := range applied {
		done[x.Name] = true
		if !known[x.Name] {
			st.Unknown = append(st.Unknown, x.Name) // its comment is not stored
		}
	}
	for _, x := range ms.Sorted() {
		if done[x.Name] {
			st.Applied = append(st.Applied, x.String())
		} else {
			st.Pending = append(st.Pending, x.String())
		}
	}
	slices.Sort(st.Unknown)
	return st, nil
}

// InvariantNames names the checks of CheckInvariants, in the order it runs
// them, for a tool that says what it checked.
func InvariantNames() []string {
	out := make([]string, len(invariantChecks))
	for i, c := range invariantChecks {
		out[i] = c.name
	}
	return out
}
