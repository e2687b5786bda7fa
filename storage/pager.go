package storage

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/funding"
	"github.com/edufund/edufund/storage/internal/schema"
)

// ContractIDs returns up to limit ids of contracts in the given statuses,
// in id order, strictly after `after` (keyset pagination; pass uuid.Nil to
// start). It runs outside any transaction.
func (db *DB) ContractIDs(ctx context.Context, statuses []enrollment.Status, after uuid.UUID, limit int) ([]uuid.UUID, error) {
	if len(statuses) == 0 || limit <= 0 {
		return nil, nil
	}
	ss := make([]string, len(statuses))
	for i, s := range statuses {
		ss[i] = string(s)
	}
	var ids []uuid.UUID
	err := db.withRetry(ctx, func() error {
		ids = nil
		return db.bun.NewSelect().Table("contracts").Column("id").
			Where("status IN (?)", bun.In(ss)).Where("id > ?", after).
			OrderExpr("id").Limit(int64(limit)).Scan(ctx, &ids)
	})
	if err != nil {
		return nil, db.pagerErr(err, "contract ids")
	}
	return ids, nil
}

// ContractPage returns the last id of the page ContractIDs would return and
// its size, in one row: the page's ids stay on the server. It runs outside
// any transaction.
func (db *DB) ContractPage(ctx context.Context, statuses []enrollment.Status, after uuid.UUID, limit int) (uuid.UUID, int, error) {
	if len(statuses) == 0 || limit <= 0 {
		return uuid.Nil, 0, nil
	}
	ss := make([]string, len(statuses))
	for i, s := range statuses {
		ss[i] = string(s)
	}
	// PostgreSQL has no max(uuid): the page's ids are numbered in id order
	// (no sort, they come in that order) and the last one is kept.
	var rows []struct {
		Last uuid.UUID `bun:"last"`
		N    int       `bun:"n"`
	}
	err := db.withRetry(ctx, func() error {
		rows = rows[:0]
		return db.bun.NewRaw(`SELECT id AS last, n FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM (
			SELECT id FROM contracts WHERE status IN (?) AND id > ? ORDER BY id LIMIT ?) p) q
			ORDER BY n DESC LIMIT 1`, bun.In(ss), after, limit).Scan(ctx, &rows)
	})
	if err != nil {
		return uuid.Nil, 0, db.pagerErr(err, "contract page")
	}
	if len(rows) == 0 {
		return uuid.Nil, 0, nil
	}
	return rows[0].Last, rows[0].N, nil
}

// CertificateIDs returns up to limit ids of funded certificates that are
// still usable (status neither cancelled nor expired), in id order, strictly
// after `after`.
func (db *DB) CertificateIDs(ctx context.Context, after uuid.UUID, limit int) ([]uuid.UUID, error) {
	if limit <= 0 {
		return nil, nil
	}
	var ids []uuid.UUID
	err := db.withRetry(ctx, func() error {
		ids = nil
		return db.bun.NewSelect().Table("certificates").Column("id").
			Where("kind = 'funded'").Where("status NOT IN ('cancelled', 'expired')").
			Where("id > ?", after).OrderExpr("id").Limit(int64(limit)).Scan(ctx, &ids)
	})
	if err != nil {
		return nil, db.pagerErr(err, "certificate ids")
	}
	return ids, nil
}

// Invoices lists the invoices of a month, of one provider or of all when
// providerID is uuid.Nil, ordered by municipality, provider and kind.
func (db *DB) Invoices(ctx context.Context, providerID uuid.UUID, m funding.Month) ([]enrollment.Invoice, error) {
	var rows []schema.Invoice
	err := db.withRetry(ctx, func() error {
		rows = nil
		q := db.bun.NewSelect().Model(&rows).Where("month = ?", schema.Month(m))
		if providerID != uuid.Nil {
			q = q.Where("provider_id = ?", providerID)
		}
		return q.OrderExpr("municipality, provider_id, kind").Scan(ctx)
	})
	if err != nil {
		return nil, db.pagerErr(err, "invoices")
	}
	out := make([]enrollment.Invoice, len(rows))
	for i := range rows {
		out[i] = rows[i].Domain()
	}
	return out, nil
}

// pagerErr names the read that failed; withRetry already typed a database
// out of reach as enrollment.ErrUnavailable.
func (db *DB) pagerErr(err error, what string) error {
	return fmt.Errorf("storage: %s: %w", what, err)
}
