package storage_test

import (
	"context"
	"errors"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/edufund/edufund/catalog"
	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/funding"
	"github.com/edufund/edufund/storage"
	"github.com/edufund/edufund/storage/internal/schema"
	"github.com/edufund/edufund/storage/storagetest"
)

func TestMigrateTwice(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		// storagetest.Open migrated from empty; a second run is a no-op.
		if err := db.Migrate(ctx); err != nil {
			t.Fatalf("second Migrate: %v", err)
		}
		var applied int
		if err := db.Bun().NewSelect().Table("bun_migrations").ColumnExpr("count(*)").Scan(ctx, &applied); err != nil {
			t.Fatal(err)
		}
		dir := map[string]string{"pg": "pg", "sqlite": "sqlite"}[db.Dialect()]
		files, err := filepath.Glob(filepath.Join("migrations", dir, "*.up.sql"))
		if err != nil || len(files) == 0 {
			t.Fatalf("no migrations found for %s: %v", dir, err)
		}
		if applied != len(files) {
			t.Errorf("bun_migrations has %d rows, want one per migration file: %d", applied, len(files))
		}
		var locks int
		if err := db.Bun().NewSelect().Table("bun_migration_locks").ColumnExpr("count(*)").Scan(ctx, &locks); err != nil {
			t.Fatal(err)
		}
		if locks != 0 {
			t.Errorf("a migration lock was left behind")
		}
		if want := map[string]string{storagetest.SQLiteMemory: "sqlite", storagetest.SQLiteFile: "sqlite", storagetest.Postgres: "pg"}; db.Dialect() == "" {
			t.Errorf("no dialect, want one of %v", want)
		}
	})
}

// TestContract runs the store contract (storagetest.Run) on every kind.
func TestContract(t *testing.T) {
	for _, kind := range storagetest.Kinds() {
		t.Run(kind, func(t *testing.T) {
			storagetest.Run(t, func(t *testing.T) enrollment.Store { return storagetest.Open(t, kind) })
		})
	}
}

// TestStoredChecks reads and writes past the Tx what the contract cannot
// see: the schema's CHECKs refuse a negative balance written directly, an
// account whose held differs from its holds is refused with that said, and
// a second rating replaces the first.
func TestStoredChecks(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		f := saveOffer(t, db, "C", catalog.Certified)
		c := child(t, "p-checks")
		k := contractFor(t, c, f, time.Date(2025, 9, 10, 12, 0, 0, 0, time.UTC))
		nominal := funding.MustMoney("30000.00")
		run(t, db, func(tx enrollment.Tx) error {
			if err := tx.InsertCertificate(ctx, c); err != nil {
				return err
			}
			if err := tx.InsertContract(ctx, k); err != nil {
				return err
			}
			for _, r := range []enrollment.Rating{{Results: 80, Staff: 90, Means: 70, Satisfaction: 100}, {Results: 60, Staff: 90, Means: 70, Satisfaction: 100}} {
				if err := tx.SaveRating(ctx, k.ID, r, k.CreatedAt); err != nil {
					return err
				}
			}
			return tx.SaveAccount(ctx, enrollment.AccountState{CertificateID: c.ID, Period: schoolYear, Account: funding.Account{Nominal: nominal, Balance: nominal}})
		})
		var results int
		if err := db.Bun().NewSelect().Table("ratings").Column("results").Where("contract_id = ?", k.ID).Scan(ctx, &results); err != nil || results != 60 {
			t.Errorf("rating results = %d, %v", results, err)
		}
		if _, err := db.Bun().ExecContext(ctx,
			"UPDATE accounts SET balance = -1, held = held + balance + 1 WHERE certificate_id = ?", c.ID); err == nil {
			t.Error("a negative balance written directly was accepted")
		}
		if err := try(db, func(tx enrollment.Tx) error {
			if err := tx.SaveHold(ctx, c.ID, schoolYear, funding.Hold{ID: uuid.Must(uuid.NewV7()), Amount: funding.MustMoney("1.00")}); err != nil {
				return err
			}
			_, err := tx.Account(ctx, c.ID, schoolYear)
			return err
		}); !errors.Is(err, schema.ErrBrokenLedger) {
			t.Errorf("Account with a hold it does not hold = %v, want an error", err)
		}
	})
}

// TestDomainShapes fails when a domain type gains or loses a field, so that
// the row structs, the mappers and a migration follow it.
func TestDomainShapes(t *testing.T) {
	for _, tc := range []struct {
		v      any
		fields int
	}{
		{certificate.Certificate{}, 13},
		{certificate.Holder{}, 9},
		{certificate.Protection{}, 4},
		{certificate.Documents{}, 3},
		{certificate.Category{}, 6},
		{enrollment.Contract{}, 25},
		{enrollment.Consent{}, 2},
		{funding.Price{}, 14},
		{funding.Account{}, 6},
		{funding.Hold{}, 5},
		{funding.Posting{}, 3},
		{enrollment.PostingRecord{}, 11},
		{enrollment.Parameter{}, 8},
		{enrollment.Rating{}, 4},
		{catalog.Provider{}, 12},
		{catalog.BankDetails{}, 4},
		{catalog.Agreement{}, 2},
		{catalog.Program{}, 20},
		{catalog.Module{}, 9},
		{catalog.Group{}, 9},
		{catalog.Session{}, 4},
		{enrollment.QueueEntry{}, 3},
		{enrollment.InvoiceLine{}, 7},
		{enrollment.IdempotencyRecord{}, 4},
		{enrollment.EligibilityDecision{}, 9},
		{enrollment.InvoiceTransition{}, 7},
		{enrollment.InvoiceKey{}, 5},
		{enrollment.Completion{}, 4},
		{enrollment.CompletionDocument{}, 2},
	} {
		typ := reflect.TypeOf(tc.v)
		n := 0
		for i := 0; i < typ.NumField(); i++ {
			if typ.Field(i).IsExported() {
				n++
			}
		}
		if n != tc.fields {
			t.Errorf("%s has %d fields, storage maps %d: update storage/rows.go and add a migration", typ, n, tc.fields)
		}
	}
}

// TestAccountAfterLockWait reads an account whose lock another transaction
// holds while it reserves from it. On PostgreSQL at READ COMMITTED the
// reader's statement, once the lock is granted, sees the account's new
// held but evaluates the holds in its older snapshot; the store reads the
// account again rather than return a split that does not add up (at
// serializable the transaction is retried instead).
func TestAccountAfterLockWait(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		c := child(t, "p-wait")
		nominal, x := funding.MustMoney("30000.00"), funding.MustMoney("12000.50")
		acc := enrollment.AccountState{CertificateID: c.ID, Period: schoolYear, Account: funding.Account{Nominal: nominal, Balance: nominal}}
		run(t, db, func(tx enrollment.Tx) error {
			if err := tx.InsertCertificate(ctx, c); err != nil {
				return err
			}
			return tx.SaveAccount(ctx, acc)
		})

		locked, commit := make(chan struct{}), make(chan struct{})
		reserved := make(chan error, 1)
		holdID := uuid.Must(uuid.NewV7())
		go func() {
			reserved <- db.InTx(ctx, func(ctx context.Context, tx enrollment.Tx) error {
				a, err := tx.Account(ctx, c.ID, schoolYear)
				if err != nil {
					return err
				}
				a.Account.Balance, a.Account.Reserved = a.Account.Balance.Sub(x), a.Account.Reserved.Add(x)
				if err := tx.SaveAccount(ctx, a); err != nil {
					return err
				}
				if err := tx.SaveHold(ctx, c.ID, schoolYear, funding.Hold{ID: holdID, Amount: x}); err != nil {
					return err
				}
				select {
				case <-locked:
				default:
					close(locked)
				}
				<-commit
				return nil
			})
		}()
		<-locked
		read := make(chan enrollment.AccountState, 1)
		readErr := make(chan error, 1)
		go func() {
			var got enrollment.AccountState
			readErr <- db.InTx(ctx, func(ctx context.Context, tx enrollment.Tx) error {
				var err error
				got, err = tx.Account(ctx, c.ID, schoolYear)
				return err
			})
			read <- got
		}()
		if db.Dialect() == storage.Postgres {
			// Wait until the reader waits for the lock.
			deadline := time.Now().Add(5 * time.Second)
			for {
				var waiting int
				require.NoError(t, db.Bun().NewRaw(`SELECT count(*) FROM pg_locks WHERE NOT granted`).Scan(ctx, &waiting))
				if waiting > 0 {
					break
				}
				require.True(t, time.Now().Before(deadline), "the reader never waited for the account's lock")
				time.Sleep(10 * time.Millisecond)
			}
		} else {
			time.Sleep(50 * time.Millisecond)
		}
		close(commit)
		require.NoError(t, <-reserved)
		require.NoError(t, <-readErr)
		got := <-read
		require.True(t, got.Account.Reserved.Equal(x) && got.Account.Spent.IsZero() && got.Account.Balance.Equal(nominal.Sub(x)),
			"account read after the lock wait: %+v", got.Account)
	})
}
