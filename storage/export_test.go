package storage

import (
	"context"
	"io/fs"
	"testing/fstest"
)

// MigrateBefore applies the migrations whose names sort before name, for a
// test that puts rows in the schema a migration finds.
func (db *DB) MigrateBefore(ctx context.Context, name string) error {
	all := db.migrationsFS
	defer func() { db.migrationsFS = all }()
	entries, err := fs.ReadDir(all, ".")
	if err != nil {
		return err
	}
	some := fstest.MapFS{}
	for _, e := range entries {
		if e.Name() < name {
			b, err := fs.ReadFile(all, e.Name())
			if err != nil {
				return err
			}
			some[e.Name()] = &fstest.MapFile{Data: b}
		}
	}
	db.migrationsFS = some
	return db.Migrate(ctx)
}
