package storage

import (
	"context"

	"github.com/google/uuid"

	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/storage/internal/schema"
)

// RecordPaperApplication records the signed paper application a contract
// was activated on; ErrExists for a contract that has one.
func (t *tx) RecordPaperApplication(ctx context.Context, p enrollment.PaperApplication) error {
	return t.insertNew(ctx, schema.FromPaperApplication(p), "record paper application")
}

// PaperApplication reads a contract's paper application; ErrNotFound when
// it has none.
func (t *tx) PaperApplication(ctx context.Context, contractID uuid.UUID) (enrollment.PaperApplication, error) {
	r := new(schema.PaperApplication)
	if err := t.tx.NewSelect().Model(r).Where("contract_id = ?", contractID).Scan(ctx); err != nil {
		return enrollment.PaperApplication{}, t.read(err, "paper application", contractID)
	}
	return r.Domain(), nil
}
