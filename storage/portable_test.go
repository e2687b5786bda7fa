package storage_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/enrollment/batch"
	"github.com/edufund/edufund/storage"
	"github.com/edufund/edufund/storage/storagetest"
)

// TestPortableProfile: WithPortable on PostgreSQL runs every transaction
// (InTx, the batch's, the close's, a statement's own) serializable, on the plain statements
// (no optimistic batches, no fast claim-and-lock with its planner
// settings); without it PostgreSQL keeps its default isolation and fast
// paths; on SQLite the option changes nothing.
func TestPortableProfile(t *testing.T) {
	for _, tc := range []struct {
		name, kind string
		opts       []storage.Option
		portable   bool
		// isolation is every transaction's level, "" on SQLite; the
		// default PostgreSQL store's close runs on pgfast and is not
		// asked.
		isolation  string
		optimistic bool
		fast       bool // the batch.Tx is pgfast's batch.ClaimLocker
	}{
		{name: "postgres", kind: storagetest.Postgres, isolation: "read committed", optimistic: true, fast: true},
		{name: "postgres-portable", kind: storagetest.PostgresPortable, portable: true, isolation: "serializable"},
		{name: "sqlite-portable", kind: storagetest.SQLiteMemory, opts: []storage.Option{storage.WithPortable()}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			db := storagetest.Open(t, tc.kind, tc.opts...)
			require.Equal(t, tc.portable, db.Portable())
			require.Equal(t, tc.optimistic, db.OptimisticBatches())
			isolation := func(tx any) {
				t.Helper()
				if tc.isolation == "" {
					return
				}
				got, err := storage.Isolation(ctx, tx)
				require.NoError(t, err)
				require.Equal(t, tc.isolation, got)
			}
			if tc.isolation != "" {
				// A statement outside InTx: a list, a migration.
				var level string
				require.NoError(t, db.Bun().NewRaw("SHOW transaction_isolation").Scan(ctx, &level))
				require.Equal(t, tc.isolation, level, "outside InTx")
			}
			require.NoError(t, db.InTx(ctx, func(ctx context.Context, tx enrollment.Tx) error {
				isolation(tx)
				return nil
			}))
			require.NoError(t, db.InBatchTx(ctx, func(ctx context.Context, tx batch.Tx) error {
				_, fast := tx.(batch.ClaimLocker)
				require.Equal(t, tc.fast, fast, "fast claim-and-lock")
				isolation(tx)
				return nil
			}))
			if tc.fast {
				return
			}
			require.NoError(t, db.InCloseTx(ctx, func(ctx context.Context, tx batch.CloseTx) error {
				isolation(tx)
				return nil
			}))
		})
	}
}
