package storage

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"github.com/edufund/edufund/catalog"
	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/storage/internal/schema"
)

// Provider reads one provider with its agreements.
func (t *tx) Provider(ctx context.Context, id uuid.UUID) (catalog.Provider, error) {
	provs, err := t.providers(ctx, []uuid.UUID{id})
	if err != nil {
		return catalog.Provider{}, err
	}
	p, ok := provs[id]
	if !ok {
		return catalog.Provider{}, fmt.Errorf("storage: provider %s: %w", id, enrollment.ErrNotFound)
	}
	return p, nil
}

// Program reads one program.
func (t *tx) Program(ctx context.Context, id uuid.UUID) (catalog.Program, error) {
	p := new(schema.Program)
	if err := t.tx.NewSelect().Model(p).Where("id = ?", id).Scan(ctx); err != nil {
		return catalog.Program{}, t.read(err, "program", id)
	}
	return p.Domain(), nil
}

// Module reads one module.
func (t *tx) Module(ctx context.Context, id uuid.UUID) (catalog.Module, error) {
	m := new(schema.Module)
	if err := t.tx.NewSelect().Model(m).Where("id = ?", id).Scan(ctx); err != nil {
		return catalog.Module{}, t.read(err, "module", id)
	}
	return m.Domain(), nil
}
