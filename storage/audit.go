package storage

import (
	"context"

	"github.com/google/uuid"

	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/funding"
	"github.com/edufund/edufund/storage/internal/schema"
)

// Ledger lists the postings f matches, newest (highest id) first, a page
// at a time. No index of its own: an index on postings would slow every
// enrolment and every close that appends to it. A certificate's postings
// come through postings_account_idx; a contract's through its
// certificate's (the contract's postings are among them); a provider's
// through contracts_provider_idx and then each contract's certificate's;
// a municipality's through certificates_municipality_idx; the region's
// (the auditor's, an operator's) backwards along the primary key. The time
// bounds filter what those reach.
func (db *DB) Ledger(ctx context.Context, f enrollment.LedgerFilter) ([]enrollment.PostingRecord, error) {
	if f.Limit <= 0 {
		return nil, nil
	}
	var rows []schema.Posting
	err := db.withRetry(ctx, func() error {
		rows = nil
		q := db.bun.NewSelect().Model(&rows).ModelTableExpr("postings AS p").ColumnExpr("p.*")
		if f.Certificate != uuid.Nil {
			q = q.Where("p.certificate_id = ?", f.Certificate)
		}
		if f.Contract != uuid.Nil {
			q = q.Where("p.contract_id = ?", f.Contract).
				Where("p.certificate_id = (SELECT k.certificate_id FROM contracts k WHERE k.id = ?)", f.Contract)
		}
		if f.Scheme != "" || f.Municipality != "" {
			q = q.Join("JOIN certificates c ON c.id = p.certificate_id")
			if f.Scheme != "" {
				q = q.Where("c.scheme = ?", string(f.Scheme))
			}
			if f.Municipality != "" {
				q = q.Where("c.municipality = ?", f.Municipality)
			}
		}
		if f.Provider != uuid.Nil {
			q = q.Join("JOIN contracts pk ON pk.id = p.contract_id AND pk.certificate_id = p.certificate_id").
				Where("pk.provider_id = ?", f.Provider)
		}
		if !f.From.IsZero() {
			q = q.Where("p.at >= ?", schema.Time(f.From))
		}
		if !f.To.IsZero() {
			q = q.Where("p.at < ?", schema.Time(f.To))
		}
		if f.After != uuid.Nil {
			q = q.Where("p.id < ?", f.After)
		}
		return q.OrderExpr("p.id DESC").Limit(int64(f.Limit)).Scan(ctx)
	})
	if err != nil {
		return nil, db.pagerErr(err, "ledger")
	}
	out := make([]enrollment.PostingRecord, len(rows))
	for i := range rows {
		if out[i], err = rows[i].Domain(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// InvoiceMoves lists the moves of a month's invoices (of a provider, or
// all when providerID is uuid.Nil), oldest first, through
// invoice_transitions_invoice_idx.
func (db *DB) InvoiceMoves(ctx context.Context, providerID uuid.UUID, m funding.Month) ([]enrollment.InvoiceTransition, error) {
	var rows []schema.InvoiceTransition
	err := db.withRetry(ctx, func() error {
		rows = nil
		q := db.bun.NewSelect().Model(&rows).Where("month = ?", schema.Month(m))
		if providerID != uuid.Nil {
			q = q.Where("provider_id = ?", providerID)
		}
		return q.OrderExpr("id").Scan(ctx)
	})
	if err != nil {
		return nil, db.pagerErr(err, "invoice moves")
	}
	out := make([]enrollment.InvoiceTransition, len(rows))
	for i := range rows {
		out[i] = rows[i].Domain()
	}
	return out, nil
}
