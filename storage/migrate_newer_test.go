package storage_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/edufund/edufund/storage"
	"github.com/edufund/edufund/storage/storagetest"
)

// TestMigrateRefusesNewer: a build does not run on a database a newer
// build migrated; Migrate says so and changes nothing.
func TestMigrateRefusesNewer(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		require.NoError(t, db.Migrate(ctx), "a database of this build migrates again as a no-op")
		_, err := db.Bun().ExecContext(ctx, "INSERT INTO bun_migrations (name, group_id, migrated_at) VALUES ('99999', 999, CURRENT_TIMESTAMP)")
		require.NoError(t, err)
		err = db.Migrate(ctx)
		require.ErrorIs(t, err, storage.ErrNewerSchema)
		require.ErrorContains(t, err, "99999")
	})
}
