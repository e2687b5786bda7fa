package storage

import (
	"context"
	"io/fs"
	"slices"
	"testing/fstest"

	"github.com/edufund/edufund/catalog"
	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/enrollment"
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
	return db.insertAsOf(ctx, schema.Certificates, schema.FromCertificate(c))
}

// InsertContractAsOf is InsertCertificateAsOf for a contract.
func (db *DB) InsertContractAsOf(ctx context.Context, c enrollment.Contract) error {
	row, err := schema.FromContract(c)
	if err != nil {
		return err
	}
	return db.insertAsOf(ctx, schema.Contracts, row)
}

// InsertModuleAsOf is InsertCertificateAsOf for a module.
func (db *DB) InsertModuleAsOf(ctx context.Context, m catalog.Module) error {
	row, err := schema.FromModule(m)
	if err != nil {
		return err
	}
	return db.insertAsOf(ctx, schema.Modules, row)
}

// InsertOfferAsOf is InsertCertificateAsOf for an offer: its provider
// with its agreements, its program, module and group.
func (db *DB) InsertOfferAsOf(ctx context.Context, o enrollment.Offer) error {
	prov, ags := schema.FromProvider(o.Provider)
	if err := db.insertAsOf(ctx, schema.Providers, prov); err != nil {
		return err
	}
	for i := range ags {
		if err := db.insertAsOf(ctx, schema.Agreements, &ags[i]); err != nil {
			return err
		}
	}
	if err := db.insertAsOf(ctx, schema.Programs, schema.FromProgram(o.Program)); err != nil {
		return err
	}
	if err := db.InsertModuleAsOf(ctx, o.Module); err != nil {
		return err
	}
	return db.insertAsOf(ctx, schema.StudyGroups, schema.FromGroup(o.Group))
}

// insertAsOf inserts row, of table t, leaving out the columns the schema
// does not have yet.
func (db *DB) insertAsOf(ctx context.Context, t *schema.Table, row any) error {
	var cols []string
	q := "SELECT column_name FROM information_schema.columns WHERE table_name = ? AND table_schema = current_schema()"
	if db.dialect == SQLite {
		q = "SELECT name FROM pragma_table_info(?)"
	}
	if err := db.bun.NewRaw(q, t.Name).Scan(ctx, &cols); err != nil {
		return err
	}
	ins := db.bun.NewInsert().Model(row)
	for _, c := range t.Names() {
		if !slices.Contains(cols, c) {
			ins = ins.ExcludeColumn(c)
		}
	}
	_, err := ins.Exec(ctx)
	return err
}

// SearchSizeCap sets how far the navigator counts a word's postings, so
// that a test sees other words drive a search.
func (db *DB) SearchSizeCap(n int) { db.sizeCap = n }

// CheckFeedIndexes is checkFeedIndexes, for the PostgreSQL test.
var CheckFeedIndexes = checkFeedIndexes
