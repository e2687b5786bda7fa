package api

import (
	"context"

	"github.com/google/uuid"

	"github.com/edufund/edufund/enrollment"
)

// Owners tells which provider a program or a module belongs to, so that a
// provider edits only its own catalog.
type Owners interface {
	// ProviderExists returns enrollment.ErrNotFound for an unknown provider.
	ProviderExists(ctx context.Context, providerID uuid.UUID) error
	// ProgramProvider returns the provider of a program; enrollment.ErrNotFound if none.
	ProgramProvider(ctx context.Context, programID uuid.UUID) (uuid.UUID, error)
	// ModuleProvider returns the provider of a module's program; enrollment.ErrNotFound if none.
	ModuleProvider(ctx context.Context, moduleID uuid.UUID) (uuid.UUID, error)
}

// StoreOwners reads the owners through the store's catalog reads.
func StoreOwners(store enrollment.Store) Owners { return storeOwners{store} }

type storeOwners struct{ store enrollment.Store }

func (o storeOwners) ProviderExists(ctx context.Context, id uuid.UUID) error {
	return o.store.InTx(ctx, func(ctx context.Context, tx enrollment.Tx) error {
		_, err := tx.Provider(ctx, id)
		return err
	})
}

func (o storeOwners) ProgramProvider(ctx context.Context, id uuid.UUID) (uuid.UUID, error) {
	var owner uuid.UUID
	err := o.store.InTx(ctx, func(ctx context.Context, tx enrollment.Tx) error {
		p, err := tx.Program(ctx, id)
		owner = p.ProviderID
		return err
	})
	return owner, err
}

func (o storeOwners) ModuleProvider(ctx context.Context, id uuid.UUID) (uuid.UUID, error) {
	var owner uuid.UUID
	err := o.store.InTx(ctx, func(ctx context.Context, tx enrollment.Tx) error {
		m, err := tx.Module(ctx, id)
		if err != nil {
			return err
		}
		p, err := tx.Program(ctx, m.ProgramID)
		owner = p.ProviderID
		return err
	})
	return owner, err
}
