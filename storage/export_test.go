package storage

import (
	"context"
	"io/fs"
	"reflect"
	"testing/fstest"

	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/storage/internal/schema"
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

// InsertCertificateAsOf inserts c into a schema migrated only so far: the
// columns later migrations add are left out, so that a migration's test
// can put rows in the schema the migration finds.
func (db *DB) InsertCertificateAsOf(ctx context.Context, c certificate.Certificate) error {
	var cols []string
	q := "SELECT column_name FROM information_schema.columns WHERE table_name = 'certificates' AND table_schema = current_schema()"
	if db.dialect == "sqlite" {
		q = "SELECT name FROM pragma_table_info('certificates')"
	}
	if err := db.bun.NewRaw(q).Scan(ctx, &cols); err != nil {
		return err
	}
	have := map[string]bool{}
	for _, c := range cols {
		have[c] = true
	}
	ins := db.bun.NewInsert().Model(schema.FromCertificate(c))
	for _, f := range db.bun.Table(reflect.TypeFor[schema.Certificate]()).Fields {
		if !have[f.Name] {
			ins = ins.ExcludeColumn(f.Name)
		}
	}
	_, err := ins.Exec(ctx)
	return err
}
