package storage

import (
	"context"
	"strings"

	"github.com/google/uuid"

	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/storage/internal/schema"
)

// InvoiceLines reads a month's invoice lines f matches by provider,
// contract and kind, a page at a time through the index of (month,
// provider_id, contract_id, kind): the table's key on PostgreSQL (migration
// 00035), invoice_lines_month_idx on SQLite (00022); each with its
// certificate's number. The keyset is
// the row (provider_id, contract_id, kind), compared as a row on both
// engines.
func (db *DB) InvoiceLines(ctx context.Context, f enrollment.InvoiceLineFilter) ([]enrollment.InvoiceLineRecord, error) {
	if f.Limit <= 0 {
		return nil, nil
	}
	var (
		where strings.Builder
		args  []any
	)
	where.WriteString("l.month = ?")
	args = append(args, schema.Month(f.Month))
	if f.Provider != uuid.Nil {
		where.WriteString(" AND l.provider_id = ?")
		args = append(args, f.Provider)
	}
	if f.Municipality != "" {
		where.WriteString(" AND l.municipality = ?")
		args = append(args, f.Municipality)
	}
	if f.Scheme != "" {
		where.WriteString(" AND l.scheme = ?")
		args = append(args, string(f.Scheme))
	}
	if !f.After.IsZero() {
		where.WriteString(" AND (l.provider_id, l.contract_id, l.kind) > (?, ?, ?)")
		args = append(args, f.After.Provider, f.After.Contract, string(f.After.Kind))
	}
	args = append(args, f.Limit)
	// A line's contract was written with it, under the same lock; the
	// outer joins keep a line whose contract or certificate is somehow
	// gone rather than lose its money from the export (no number shown).
	query := `SELECT ` + schema.InvoiceLines.List("l") + `, COALESCE(c.number, '') AS number
		FROM invoice_lines l
		LEFT JOIN contracts k ON k.id = l.contract_id
		LEFT JOIN certificates c ON c.id = k.certificate_id
		WHERE ` + where.String() + `
		ORDER BY l.provider_id, l.contract_id, l.kind
		LIMIT ?`
	var rows []schema.InvoiceLineRecord
	err := db.withRetry(ctx, func() error {
		rows = rows[:0]
		return db.bun.NewRaw(query, args...).Scan(ctx, &rows)
	})
	if err != nil {
		return nil, db.pagerErr(err, "invoice lines")
	}
	out := make([]enrollment.InvoiceLineRecord, len(rows))
	for i := range rows {
		out[i] = rows[i].Domain()
	}
	return out, nil
}

// Completions reads the completions of adult courses f matches by day,
// then contract, a page at a time through completions_on_idx or, for a
// provider's, completions_provider_idx (migration 00022), each with its
// contract, certificate, program and provider.
func (db *DB) Completions(ctx context.Context, f enrollment.CompletionFilter) ([]enrollment.CompletionRecord, error) {
	if f.Limit <= 0 {
		return nil, nil
	}
	var (
		where strings.Builder
		args  []any
	)
	where.WriteString("TRUE")
	if f.Provider != uuid.Nil {
		where.WriteString(" AND d.provider_id = ?")
		args = append(args, f.Provider)
	}
	if !f.From.IsZero() {
		where.WriteString(" AND d.completed_on >= ?")
		args = append(args, schema.Date(f.From))
	}
	if !f.To.IsZero() {
		where.WriteString(" AND d.completed_on <= ?")
		args = append(args, schema.Date(f.To))
	}
	if !f.After.IsZero() {
		where.WriteString(" AND (d.completed_on, d.contract_id) > (?, ?)")
		args = append(args, schema.Date(f.After.On), f.After.Contract)
	}
	args = append(args, f.Limit)
	query := `SELECT ` + schema.Completions.List("d") + `,
			k.certificate_id, k.program_id, k.start_on, k.end_on,
			c.number, c.person_id, c.full_name, c.birth_date, c.sex, c.citizenship,
			p.name AS program_name, p.academic_hours, v.name AS provider_name, v.inn AS provider_inn
		FROM completions d
		JOIN contracts k ON k.id = d.contract_id
		JOIN certificates c ON c.id = k.certificate_id
		JOIN programs p ON p.id = k.program_id
		JOIN providers v ON v.id = d.provider_id
		WHERE ` + where.String() + `
		ORDER BY d.completed_on, d.contract_id
		LIMIT ?`
	var rows []schema.CompletionRecord
	err := db.withRetry(ctx, func() error {
		rows = rows[:0]
		return db.bun.NewRaw(query, args...).Scan(ctx, &rows)
	})
	if err != nil {
		return nil, db.pagerErr(err, "completions")
	}
	out := make([]enrollment.CompletionRecord, len(rows))
	for i := range rows {
		out[i] = rows[i].Domain()
	}
	return out, nil
}
