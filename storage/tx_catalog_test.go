package storage_test

import (
	"context"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/storage"
	"github.com/edufund/edufund/storage/storagetest"
)

func TestCatalogReads(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		r := newRegion(t, db, regionOpts{})
		require.NoError(t, db.InTx(context.Background(), func(ctx context.Context, tx enrollment.Tx) error {
			p, err := tx.Provider(ctx, r.provider.ID)
			require.NoError(t, err)
			require.Equal(t, r.provider, p)
			prog, err := tx.Program(ctx, r.program.ID)
			require.NoError(t, err)
			require.Equal(t, r.program, prog)
			mod, err := tx.Module(ctx, r.module.ID)
			require.NoError(t, err)
			require.Equal(t, r.module, mod)
			_, err = tx.Provider(ctx, uuid.New())
			require.ErrorIs(t, err, enrollment.ErrNotFound)
			_, err = tx.Program(ctx, uuid.New())
			require.ErrorIs(t, err, enrollment.ErrNotFound)
			_, err = tx.Module(ctx, uuid.New())
			require.ErrorIs(t, err, enrollment.ErrNotFound)
			return nil
		}))
	})
}
