package storage

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/edufund/edufund/certificate"
)

// personIDRow is what migration 00010 reads of a certificate.
type personIDRow struct {
	ID         uuid.UUID `bun:"id"`
	Number     string    `bun:"number"`
	Scheme     string    `bun:"scheme"`
	Status     string    `bun:"status"`
	UniqYear   int       `bun:"uniq_year"`
	PersonID   string    `bun:"person_id"`
	GuardianID string    `bun:"guardian_id"`
}

// unique reports whether the row counts for certificates_person_key, the
// index that keeps one certificate per person (see migration 00001).
func (r personIDRow) unique() bool {
	return r.Status != string(certificate.Cancelled) || r.Scheme == string(certificate.DigitalSkills)
}

// personIDChange is a certificate whose identifiers migration 00010 rewrites.
type personIDChange struct {
	row              personIDRow
	person, guardian string
	// Why an operator must look at the certificate: its person is a
	// duplicate, or an identifier did not parse.
	duplicate, invalidPerson, invalidGuardian bool
}

func (c *personIDChange) needsOperator() bool {
	return c.duplicate || c.invalidPerson || c.invalidGuardian
}

// canonicalPersonIDs is the Go step of migration 00010: it rewrites every
// certificate's person_id and guardian_id to the canonical form of
// certificate.ParsePersonID, in the migration's transaction, before the
// migration's SQL adds the constraints that hold them there. SQLite's SQL
// has no NFC, case folding or SNILS check, so the rewrite is Go on both
// engines.
//
// Rows that become the same person under the unique index (the attack
// that got one child several certificates through "id ", "id<U+200B>"
// and "ID") keep their money and their certificates: the earliest issued
// keeps the canonical id, each later one gets "dup:<certificate id>:<the
// canonical id>", and an identifier that does not parse at all becomes
// "invalid:<certificate id>". Both forms are valid identifiers that
// nobody holds; each such row is logged at Warn for an operator to cancel
// the certificate or put the person's real identifier in.
func canonicalPersonIDs(ctx context.Context, db bun.IDB, log *slog.Logger) error {
	changes, err := personIDChanges(ctx, db)
	if err != nil {
		return err
	}
	if err := markDuplicates(ctx, db, changes); err != nil {
		return err
	}
	list := slices.SortedFunc(maps.Values(changes), func(a, b *personIDChange) int { return bytes.Compare(a.row.ID[:], b.row.ID[:]) })
	// The rows an operator must look at first: a duplicate gives up the
	// canonical id that the row keeping it takes next.
	for _, first := range []bool{true, false} {
		for _, c := range list {
			if c.needsOperator() != first {
				continue
			}
			if _, err := db.NewUpdate().Table("certificates").
				Set("person_id = ?", c.person).Set("guardian_id = ?", c.guardian).
				Where("id = ?", c.row.ID).Exec(ctx); err != nil {
				return fmt.Errorf("canonical person ids: certificate %s: %w", c.row.ID, err)
			}
			if first {
				log.WarnContext(ctx, "migration 00010: cancel this duplicate certificate, or put in the person's identifier",
					"certificate", c.row.ID, "number", c.row.Number, "person_id", c.row.PersonID, "now", c.person,
					"guardian_id", c.row.GuardianID, "guardian_now", c.guardian, "duplicate", c.duplicate)
			}
		}
	}
	if len(changes) > 0 {
		log.InfoContext(ctx, "migration 00010: person identifiers canonicalised", "certificates", len(changes))
	}
	return nil
}

// personIDChanges reads every certificate, a page at a time, and returns
// those whose identifiers are not canonical with their canonical forms.
func personIDChanges(ctx context.Context, db bun.IDB) (map[uuid.UUID]*personIDChange, error) {
	changes := map[uuid.UUID]*personIDChange{}
	var after uuid.UUID
	for {
		var page []personIDRow
		if err := selectPersonIDs(db).Where("id > ?", after).OrderExpr("id").Limit(1000).Scan(ctx, &page); err != nil {
			return nil, fmt.Errorf("canonical person ids: read: %w", err)
		}
		if len(page) == 0 {
			return changes, nil
		}
		for _, r := range page {
			c := &personIDChange{row: r}
			c.person, c.invalidPerson = canonicalID(r.PersonID, r.ID)
			if r.GuardianID != "" {
				c.guardian, c.invalidGuardian = canonicalID(r.GuardianID, r.ID)
			}
			if c.person != r.PersonID || c.guardian != r.GuardianID {
				changes[r.ID] = c
			}
		}
		after = page[len(page)-1].ID
	}
}

func selectPersonIDs(db bun.IDB) *bun.SelectQuery {
	return db.NewSelect().TableExpr("certificates").
		ColumnExpr("id, number, scheme, status, uniq_year, person_id, guardian_id")
}

// canonicalID is the canonical form of an identifier, or, when it has
// none, "invalid:<the certificate's id>".
func canonicalID(s string, cert uuid.UUID) (id string, invalid bool) {
	id, err := certificate.ParsePersonID(s)
	if err != nil {
		return "invalid:" + cert.String(), true
	}
	return id, false
}

// markDuplicates finds, for every canonical id a change gives, the rows of
// the unique index that share it, and leaves it to the earliest issued:
// the others get "dup:<certificate id>:<canonical id>" (cut to the longest
// identifier), rows already canonical included.
func markDuplicates(ctx context.Context, db bun.IDB, changes map[uuid.UUID]*personIDChange) error {
	type key struct {
		scheme, person string
		year           int
	}
	forms := map[key][]string{} // the canonical id and the raw ids that become it
	for _, c := range changes {
		if c.invalidPerson || !c.row.unique() || c.person == c.row.PersonID {
			continue
		}
		k := key{c.row.Scheme, c.person, c.row.UniqYear}
		if forms[k] == nil {
			forms[k] = []string{c.person}
		}
		forms[k] = append(forms[k], c.row.PersonID)
	}
	for k, ids := range forms {
		var rows []personIDRow
		err := selectPersonIDs(db).
			Where("scheme = ? AND uniq_year = ? AND person_id IN (?)", k.scheme, k.year, bun.In(ids)).
			Where("status <> ? OR scheme = ?", string(certificate.Cancelled), string(certificate.DigitalSkills)).
			OrderExpr("issued_on, id").Scan(ctx, &rows)
		if err != nil {
			return fmt.Errorf("canonical person ids: read %s: %w", k.person, err)
		}
		for _, r := range rows[min(1, len(rows)):] {
			c := changes[r.ID]
			if c == nil {
				c = &personIDChange{row: r, guardian: r.GuardianID}
				changes[r.ID] = c
			}
			dup := "dup:" + r.ID.String() + ":" + k.person
			c.person, c.duplicate = dup[:min(len(dup), certificate.MaxPersonID)], true
		}
	}
	return nil
}
