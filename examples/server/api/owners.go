package api

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/edufund/edufund/enrollment"
)

// Owners tells which provider a program or a module belongs to, so that a
// provider edits only its own catalog. enrollment.Tx has no such reads (it
// reads whole offers, which exist only once a group does), so the server
// supplies them.
type Owners interface {
	// ProviderExists returns enrollment.ErrNotFound for an unknown provider.
	ProviderExists(ctx context.Context, providerID uuid.UUID) error
	// ProgramProvider returns the provider of a program; enrollment.ErrNotFound if none.
	ProgramProvider(ctx context.Context, programID uuid.UUID) (uuid.UUID, error)
	// ModuleProvider returns the provider of a module's program; enrollment.ErrNotFound if none.
	ModuleProvider(ctx context.Context, moduleID uuid.UUID) (uuid.UUID, error)
}

// BunOwners reads the owners from the tables of edufund's storage package.
func BunOwners(db *bun.DB) Owners { return bunOwners{db} }

type bunOwners struct{ db *bun.DB }

func (o bunOwners) ProviderExists(ctx context.Context, id uuid.UUID) error {
	var out uuid.UUID
	err := o.db.NewSelect().Table("providers").Column("id").Where("id = ?", id).Limit(1).Scan(ctx, &out)
	return ownerErr(err, "provider", id)
}

func (o bunOwners) ProgramProvider(ctx context.Context, id uuid.UUID) (uuid.UUID, error) {
	var out uuid.UUID
	err := o.db.NewSelect().Table("programs").Column("provider_id").Where("id = ?", id).Limit(1).Scan(ctx, &out)
	return out, ownerErr(err, "program", id)
}

func (o bunOwners) ModuleProvider(ctx context.Context, id uuid.UUID) (uuid.UUID, error) {
	var out uuid.UUID
	err := o.db.NewSelect().TableExpr("modules AS m").ColumnExpr("p.provider_id").
		Join("JOIN programs AS p ON p.id = m.program_id").Where("m.id = ?", id).Limit(1).Scan(ctx, &out)
	return out, ownerErr(err, "module", id)
}

func ownerErr(err error, what string, id uuid.UUID) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("%s %s: %w", what, id, enrollment.ErrNotFound)
	}
	return fmt.Errorf("owner of %s %s: %w", what, id, err)
}
