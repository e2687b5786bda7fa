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

// ProgramModules lists a program's modules by id.
func (t *tx) ProgramModules(ctx context.Context, programID uuid.UUID) ([]catalog.Module, error) {
	var rows []schema.Module
	if err := t.tx.NewSelect().Model(&rows).Where("program_id = ?", programID).OrderExpr("id").Scan(ctx); err != nil {
		return nil, t.read(err, "program modules", programID)
	}
	out := make([]catalog.Module, len(rows))
	for i := range rows {
		out[i] = rows[i].Domain()
	}
	return out, nil
}

// ProgramGroups lists the groups of a program's modules by start date, then id.
func (t *tx) ProgramGroups(ctx context.Context, programID uuid.UUID) ([]catalog.Group, error) {
	var rows []schema.Group
	if err := t.tx.NewSelect().Model(&rows).
		Where("module_id IN (SELECT id FROM modules WHERE program_id = ?)", programID).
		OrderExpr("start_on, id").Scan(ctx); err != nil {
		return nil, t.read(err, "program groups", programID)
	}
	out := make([]catalog.Group, len(rows))
	for i := range rows {
		out[i] = rows[i].Domain()
	}
	return out, nil
}
