package storage

import (
	"context"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/storage/internal/schema"
)

// SaveDecision keeps the eligibility decision a certificate was issued on.
func (t *tx) SaveDecision(ctx context.Context, d enrollment.EligibilityDecision) error {
	row, err := schema.FromDecision(d)
	if err != nil {
		return err
	}
	return t.insertNew(ctx, row, "save eligibility decision")
}

// Decision reads the decision a certificate was issued on.
func (t *tx) Decision(ctx context.Context, certificateID uuid.UUID) (enrollment.EligibilityDecision, error) {
	row := new(schema.Decision)
	if err := t.tx.NewSelect().Model(row).Where("certificate_id = ?", certificateID).Scan(ctx); err != nil {
		return enrollment.EligibilityDecision{}, t.read(err, "eligibility decision", certificateID)
	}
	return row.Domain()
}

// invoiceIs narrows q to the invoice k names.
func invoiceIs(q *bun.SelectQuery, k enrollment.InvoiceKey) *bun.SelectQuery {
	return q.Where("scheme = ?", string(k.Scheme)).Where("municipality = ?", k.Municipality).
		Where("provider_id = ?", k.ProviderID).Where("month = ?", schema.Month(k.Month)).Where("kind = ?", string(k.Kind))
}

// LockInvoice reads an invoice and locks its row until the transaction
// ends, so that two moves of one invoice are one after the other. A
// close adding to the invoice waits for the lock, and the move sees
// the total it accepts or pays.
func (t *tx) LockInvoice(ctx context.Context, k enrollment.InvoiceKey) (enrollment.Invoice, error) {
	row := new(schema.Invoice)
	if err := t.forUpdate(invoiceIs(t.tx.NewSelect().Model(row), k)).Scan(ctx); err != nil {
		return enrollment.Invoice{}, t.read(err, "invoice", k)
	}
	return row.Domain(), nil
}

// InvoiceTransitions lists an invoice's moves, oldest (lowest UUIDv7) first.
func (t *tx) InvoiceTransitions(ctx context.Context, k enrollment.InvoiceKey) ([]enrollment.InvoiceTransition, error) {
	var rows []schema.InvoiceTransition
	if err := invoiceIs(t.tx.NewSelect().Model(&rows), k).OrderExpr("id").Scan(ctx); err != nil {
		return nil, t.read(err, "invoice moves", k)
	}
	out := make([]enrollment.InvoiceTransition, len(rows))
	for i := range rows {
		out[i] = rows[i].Domain()
	}
	return out, nil
}

// AddInvoiceTransition appends a move of an invoice.
func (t *tx) AddInvoiceTransition(ctx context.Context, m enrollment.InvoiceTransition) error {
	row, err := schema.FromInvoiceTransition(m)
	if err != nil {
		return err
	}
	return t.insertNew(ctx, row, "add invoice move")
}
