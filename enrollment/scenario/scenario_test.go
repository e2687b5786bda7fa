package scenario_test

import (
	"context"
	"testing"

	"github.com/edufund/edufund/enrollment/scenario"
	"github.com/edufund/edufund/storage"
)

// checked is a store whose invariants are checked after each scenario.
type checked struct{ *storage.DB }

func (c checked) CheckInvariants(ctx context.Context) error {
	return storage.CheckInvariants(ctx, c.DB)
}

// memory opens a fresh, migrated in-memory SQLite store.
func memory(ctx context.Context) (scenario.Store, error) {
	db, err := storage.Open(ctx, "sqlite::memory:")
	if err != nil {
		return nil, err
	}
	if err := db.Migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return checked{db}, nil
}

// TestScenarios runs every scenario file of the repository.
func TestScenarios(t *testing.T) {
	scenario.Run(t, "../../examples/scenarios/*.yaml", memory)
}
