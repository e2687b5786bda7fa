package storage

import (
	"context"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/edufund/edufund/catalog"
	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/funding"
	"github.com/edufund/edufund/storage/internal/schema"
)

// Counters lists the counters whose key starts with f.Prefix, in key
// order, strictly after f.After, through the counters' primary key: the
// officials' lists of budgets and direction limits.
func (db *DB) Counters(ctx context.Context, f enrollment.CounterFilter) ([]enrollment.Counter, error) {
	if f.Limit <= 0 {
		return nil, nil
	}
	var rows []schema.Counter
	err := db.withRetry(ctx, func() error {
		rows = nil
		// The lower bound lets the primary key seek to the prefix; substr
		// (characters in both engines) keeps to it without LIKE's
		// wildcards, which a municipality's code may hold.
		return db.bun.NewSelect().Model(&rows).
			Where("key >= ?", f.Prefix).Where("key > ?", f.After).
			Where("substr(key, 1, ?) = ?", utf8.RuneCountInString(f.Prefix), f.Prefix).
			OrderExpr("key").Limit(int64(f.Limit)).Scan(ctx)
	})
	if err != nil {
		return nil, db.pagerErr(err, "counters")
	}
	out := make([]enrollment.Counter, len(rows))
	for i := range rows {
		out[i] = rows[i].Domain()
	}
	return out, nil
}

// Providers lists the providers f matches, newest (highest id) first,
// strictly before f.After when it is set, each with its agreements.
func (db *DB) Providers(ctx context.Context, f enrollment.ProviderFilter) ([]catalog.Provider, error) {
	if f.Limit <= 0 {
		return nil, nil
	}
	var (
		prows []schema.Provider
		arows []schema.Agreement
	)
	err := db.withRetry(ctx, func() error {
		prows, arows = nil, nil
		q := db.bun.NewSelect().Model(&prows)
		if f.Municipality != "" {
			q = q.Where("municipality = ?", f.Municipality)
		}
		if f.After != uuid.Nil {
			q = q.Where("id < ?", f.After)
		}
		if err := q.OrderExpr("id DESC").Limit(int64(f.Limit)).Scan(ctx); err != nil || len(prows) == 0 {
			return err
		}
		ids := make([]uuid.UUID, len(prows))
		for i := range prows {
			ids[i] = prows[i].ID
		}
		return db.bun.NewSelect().Model(&arows).Where("provider_id IN (?)", bun.In(ids)).
			OrderExpr("provider_id, period_start, municipality").Scan(ctx)
	})
	if err != nil {
		return nil, db.pagerErr(err, "providers")
	}
	byProv := make(map[uuid.UUID][]schema.Agreement)
	for _, a := range arows {
		byProv[a.ProviderID] = append(byProv[a.ProviderID], a)
	}
	out := make([]catalog.Provider, len(prows))
	for i := range prows {
		out[i] = prows[i].Domain(byProv[prows[i].ID])
	}
	return out, nil
}

// Programs lists a provider's programs, newest first, strictly before
// f.After when it is set, through programs_provider_idx.
func (db *DB) Programs(ctx context.Context, f enrollment.ProgramFilter) ([]catalog.Program, error) {
	if f.Limit <= 0 {
		return nil, nil
	}
	var rows []schema.Program
	err := db.withRetry(ctx, func() error {
		rows = nil
		q := db.bun.NewSelect().Model(&rows).Where("provider_id = ?", f.Provider)
		if f.After != uuid.Nil {
			q = q.Where("id < ?", f.After)
		}
		return q.OrderExpr("id DESC").Limit(int64(f.Limit)).Scan(ctx)
	})
	if err != nil {
		return nil, db.pagerErr(err, "programs")
	}
	out := make([]catalog.Program, len(rows))
	for i := range rows {
		out[i] = rows[i].Domain()
	}
	return out, nil
}

// InvoiceTotals sums a municipality's invoices of a scheme by month and
// kind, for the months f.From to f.To, in month then kind order; the sums
// are over its providers (ProviderID is uuid.Nil). The invoices' primary
// key leads with the scheme and the municipality.
func (db *DB) InvoiceTotals(ctx context.Context, f enrollment.InvoiceTotalsFilter) ([]enrollment.Invoice, error) {
	var rows []struct {
		Month  schema.Month `bun:"month"`
		Kind   string       `bun:"kind"`
		Amount int64        `bun:"amount"`
		Lines  int          `bun:"lines"`
	}
	err := db.withRetry(ctx, func() error {
		rows = nil
		return db.bun.NewRaw(`SELECT month, kind, SUM(amount) AS amount, SUM(lines) AS lines FROM invoices
			WHERE scheme = ? AND municipality = ? AND month >= ? AND month <= ?
			GROUP BY month, kind ORDER BY month, kind`,
			string(f.Scheme), f.Municipality, schema.Month(f.From), schema.Month(f.To)).Scan(ctx, &rows)
	})
	if err != nil {
		return nil, db.pagerErr(err, "invoice totals")
	}
	out := make([]enrollment.Invoice, len(rows))
	for i, r := range rows {
		out[i] = enrollment.Invoice{Scheme: f.Scheme, Municipality: f.Municipality, Month: funding.Month(r.Month),
			Kind: enrollment.InvoiceKind(r.Kind), Amount: funding.Kopecks(r.Amount), Lines: r.Lines}
	}
	return out, nil
}
