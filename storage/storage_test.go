package storage_test

import (
	"context"
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/edufund/edufund/catalog"
	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/funding"
	"github.com/edufund/edufund/storage"
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

func TestCertificates(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		c := child(t, "snils-1")
		run(t, db, func(tx enrollment.Tx) error { return tx.InsertCertificate(ctx, c) })

		run(t, db, func(tx enrollment.Tx) error {
			for name, get := range map[string]func() (certificate.Certificate, error){
				"Certificate":         func() (certificate.Certificate, error) { return tx.Certificate(ctx, c.ID) },
				"LockCertificate":     func() (certificate.Certificate, error) { return tx.LockCertificate(ctx, c.ID) },
				"CertificateByNumber": func() (certificate.Certificate, error) { return tx.CertificateByNumber(ctx, c.Number) },
			} {
				got, err := get()
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				if !reflect.DeepEqual(got, c) {
					t.Errorf("%s:\n got %+v\nwant %+v", name, got, c)
				}
			}
			list, err := tx.PersonCertificates(ctx, certificate.Supplementary, "snils-1")
			if err != nil || len(list) != 1 || list[0].ID != c.ID {
				t.Errorf("PersonCertificates = %v, %v", list, err)
			}
			if list, _ := tx.PersonCertificates(ctx, certificate.DigitalSkills, "snils-1"); len(list) != 0 {
				t.Errorf("PersonCertificates of the other scheme = %v", list)
			}
			return nil
		})

		// Update every mutable field; zero values come back as zero.
		c.Status = certificate.Suspended
		c.Category = "cat-b"
		c.Protection = certificate.Protection{Mode: certificate.ByName}
		c.Documents = certificate.Documents{}
		run(t, db, func(tx enrollment.Tx) error { return tx.UpdateCertificate(ctx, c) })
		run(t, db, func(tx enrollment.Tx) error {
			got, err := tx.Certificate(ctx, c.ID)
			if err != nil {
				return err
			}
			if !reflect.DeepEqual(got, c) {
				t.Errorf("after update:\n got %+v\nwant %+v", got, c)
			}
			return nil
		})

		run(t, db, func(tx enrollment.Tx) error {
			missing := child(t, "nobody")
			if _, err := tx.Certificate(ctx, missing.ID); !errors.Is(err, enrollment.ErrNotFound) {
				t.Errorf("Certificate(unknown) = %v", err)
			}
			if _, err := tx.LockCertificate(ctx, missing.ID); !errors.Is(err, enrollment.ErrNotFound) {
				t.Errorf("LockCertificate(unknown) = %v", err)
			}
			if _, err := tx.CertificateByNumber(ctx, missing.Number); !errors.Is(err, enrollment.ErrNotFound) {
				t.Errorf("CertificateByNumber(unknown) = %v", err)
			}
			if err := tx.UpdateCertificate(ctx, missing); !errors.Is(err, enrollment.ErrNotFound) {
				t.Errorf("UpdateCertificate(unknown) = %v", err)
			}
			return nil
		})
	})
}

func TestCertificateUniqueRules(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		first := child(t, "p-1")
		run(t, db, func(tx enrollment.Tx) error { return tx.InsertCertificate(ctx, first) })

		insert := func(c certificate.Certificate) error {
			return try(db, func(tx enrollment.Tx) error { return tx.InsertCertificate(ctx, c) })
		}
		if err := insert(child(t, "p-1")); !errors.Is(err, enrollment.ErrExists) {
			t.Errorf("second children's certificate of a person: %v, want ErrExists", err)
		}
		sameNumber := child(t, "p-2")
		sameNumber.Number = first.Number
		if err := insert(sameNumber); !errors.Is(err, enrollment.ErrExists) {
			t.Errorf("second certificate with a number: %v, want ErrExists", err)
		}
		sameID := child(t, "p-3")
		sameID.ID = first.ID
		if err := insert(sameID); !errors.Is(err, enrollment.ErrExists) {
			t.Errorf("second certificate with an id: %v, want ErrExists", err)
		}

		// Adults: one per person and year, independent of the children's scheme.
		if err := insert(adult(t, "p-1", funding.MustDate(2025, time.February, 1))); err != nil {
			t.Fatalf("adult certificate of a person with a children's one: %v", err)
		}
		if err := insert(adult(t, "p-1", funding.MustDate(2025, time.November, 1))); !errors.Is(err, enrollment.ErrExists) {
			t.Errorf("second adult certificate in a year: %v, want ErrExists", err)
		}
		if err := insert(adult(t, "p-1", funding.MustDate(2026, time.January, 10))); err != nil {
			t.Errorf("adult certificate of the next year: %v", err)
		}
		run(t, db, func(tx enrollment.Tx) error {
			list, err := tx.PersonCertificates(ctx, certificate.DigitalSkills, "p-1")
			if len(list) != 2 {
				t.Errorf("adult certificates = %d, want 2", len(list))
			}
			return err
		})
	})
}

func TestAccountsHoldsPostings(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		c := child(t, "p-acc")
		run(t, db, func(tx enrollment.Tx) error { return tx.InsertCertificate(ctx, c) })

		// An account stores held (reserved + spent); the split is read from
		// its holds, so an account is saved with them.
		acc := enrollment.AccountState{
			CertificateID: c.ID,
			Period:        schoolYear,
			Account: funding.Account{
				Nominal: funding.MustMoney("30000.00"), Balance: funding.MustMoney("17999.50"),
				Reserved: funding.MustMoney("12000.50"),
			},
		}
		ah := funding.Hold{ID: newID(t), Amount: funding.MustMoney("12000.50")}
		run(t, db, func(tx enrollment.Tx) error {
			if _, err := tx.Account(ctx, c.ID, schoolYear); !errors.Is(err, enrollment.ErrNotFound) {
				t.Errorf("Account before the grant = %v, want ErrNotFound", err)
			}
			if err := tx.SaveAccount(ctx, acc); err != nil {
				return err
			}
			return tx.SaveHold(ctx, c.ID, schoolYear, ah)
		})
		// 1,000.00 charged, 1,000.00 released and expired.
		acc.Account.Reserved = funding.MustMoney("10000.50")
		acc.Account.Spent = funding.MustMoney("1000.00")
		acc.Account.Expired = funding.MustMoney("1000.00")
		acc.Account.Depleted = funding.Zero
		acc.Fixed = true
		ah.Charged, ah.Released = funding.MustMoney("1000.00"), funding.MustMoney("1000.00")
		run(t, db, func(tx enrollment.Tx) error {
			if err := tx.SaveAccount(ctx, acc); err != nil {
				return err
			}
			return tx.SaveHold(ctx, c.ID, schoolYear, ah)
		})
		run(t, db, func(tx enrollment.Tx) error {
			got, err := tx.Account(ctx, c.ID, schoolYear)
			if err != nil {
				return err
			}
			if !sameAccount(got, acc) {
				t.Errorf("Account = %+v, want %+v", got, acc)
			}
			return nil
		})

		// An account whose held differs from its holds' is refused, not
		// read with a made-up split.
		if err := try(db, func(tx enrollment.Tx) error {
			if err := tx.SaveHold(ctx, c.ID, schoolYear, funding.Hold{ID: newID(t), Amount: funding.MustMoney("1.00")}); err != nil {
				return err
			}
			_, err := tx.Account(ctx, c.ID, schoolYear)
			return err
		}); err == nil || !strings.Contains(err.Error(), "differs from its holds") {
			t.Errorf("Account with a hold it does not hold = %v, want an error", err)
		}

		// The CHECKs refuse an unbalanced or negative account.
		bad := acc
		bad.Account.Balance = funding.MustMoney("1.00")
		if err := try(db, func(tx enrollment.Tx) error { return tx.SaveAccount(ctx, bad) }); err == nil {
			t.Error("SaveAccount of an unbalanced account succeeded")
		}
		if _, err := db.Bun().ExecContext(ctx,
			"UPDATE accounts SET balance = -1, held = held + balance + 1 WHERE certificate_id = ?", c.ID); err == nil {
			t.Error("a negative balance written directly was accepted")
		}

		h := funding.Hold{ID: newID(t), Amount: funding.MustMoney("12000.50")}
		run(t, db, func(tx enrollment.Tx) error { return tx.SaveHold(ctx, c.ID, schoolYear, h) })
		h.Charged = funding.MustMoney("2000.00")
		h.Released = funding.MustMoney("0.50")
		h.Refunded = funding.MustMoney("100.00")
		run(t, db, func(tx enrollment.Tx) error { return tx.SaveHold(ctx, c.ID, schoolYear, h) })
		run(t, db, func(tx enrollment.Tx) error {
			got, err := tx.Hold(ctx, h.ID)
			if err != nil {
				return err
			}
			if !got.Amount.Equal(h.Amount) || !got.Charged.Equal(h.Charged) || !got.Released.Equal(h.Released) ||
				!got.Refunded.Equal(h.Refunded) || got.ID != h.ID {
				t.Errorf("Hold = %+v, want %+v", got, h)
			}
			if _, err := tx.Hold(ctx, newID(t)); !errors.Is(err, enrollment.ErrNotFound) {
				t.Errorf("Hold(unknown) = %v", err)
			}
			return nil
		})
		over := h
		over.Charged = funding.MustMoney("12001.00")
		if err := try(db, func(tx enrollment.Tx) error { return tx.SaveHold(ctx, c.ID, schoolYear, over) }); err == nil {
			t.Error("a hold charged beyond its amount was accepted")
		}

		at := time.Date(2025, 9, 1, 9, 0, 0, 123456000, time.UTC)
		contractID := newID(t)
		ps := []enrollment.PostingRecord{
			{ID: newID(t), CertificateID: c.ID, Period: schoolYear, At: at, Actor: "system", Rule: "grant",
				Posting: funding.Posting{Kind: funding.Grant, Amount: funding.MustMoney("30000.00")},
				Params:  map[string]string{"category": "cat-a", "nominal": "30000.00"}},
			{ID: newID(t), CertificateID: c.ID, Period: schoolYear, At: at.Add(time.Second), Actor: "parent:1", Rule: "reserve",
				Posting:    funding.Posting{Kind: funding.Reserve, Amount: funding.MustMoney("12000.50"), HoldID: h.ID},
				ContractID: contractID},
			{ID: newID(t), CertificateID: c.ID, Period: schoolYear, At: at.Add(2 * time.Second), Actor: "close", Rule: "charge",
				Posting:    funding.Posting{Kind: funding.Charge, Amount: funding.MustMoney("1333.42"), HoldID: h.ID},
				ContractID: contractID, Month: funding.Month{Year: 2025, Month: time.September}},
		}
		run(t, db, func(tx enrollment.Tx) error {
			for _, p := range ps {
				if err := tx.AppendPosting(ctx, p); err != nil {
					return err
				}
			}
			return nil
		})
		if err := try(db, func(tx enrollment.Tx) error { return tx.AppendPosting(ctx, ps[0]) }); !errors.Is(err, enrollment.ErrExists) {
			t.Errorf("a posting appended twice: %v, want ErrExists", err)
		}
		run(t, db, func(tx enrollment.Tx) error {
			got, err := tx.Postings(ctx, c.ID, schoolYear)
			if err != nil {
				return err
			}
			if len(got) != len(ps) {
				t.Fatalf("Postings = %d, want %d", len(got), len(ps))
			}
			for i := range ps {
				g, w := got[i], ps[i]
				if g.ID != w.ID || g.CertificateID != w.CertificateID || g.Period != w.Period ||
					g.Posting.Kind != w.Posting.Kind || !g.Posting.Amount.Equal(w.Posting.Amount) ||
					g.Posting.HoldID != w.Posting.HoldID || g.ContractID != w.ContractID || g.Month != w.Month ||
					!g.At.Equal(w.At) || g.Actor != w.Actor || g.Rule != w.Rule || !reflect.DeepEqual(g.Params, w.Params) {
					t.Errorf("posting %d:\n got %+v\nwant %+v", i, g, w)
				}
			}
			return nil
		})
	})
}

func sameAccount(a, b enrollment.AccountState) bool {
	x, y := a.Account, b.Account
	return a.CertificateID == b.CertificateID && a.Period == b.Period && a.Fixed == b.Fixed &&
		x.Nominal.Equal(y.Nominal) && x.Balance.Equal(y.Balance) && x.Reserved.Equal(y.Reserved) &&
		x.Spent.Equal(y.Spent) && x.Depleted.Equal(y.Depleted) && x.Expired.Equal(y.Expired)
}

func TestCounters(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		run(t, db, func(tx enrollment.Tx) error {
			if err := tx.EnsureCounter(ctx, "seats:g", 3); err != nil {
				return err
			}
			for i := 0; i < 3; i++ {
				if err := tx.Take(ctx, "seats:g", 1); err != nil {
					return err
				}
			}
			if err := tx.Take(ctx, "seats:g", 1); !errors.Is(err, enrollment.ErrCounterFull) {
				t.Errorf("Take past the cap = %v, want ErrCounterFull", err)
			}
			if err := tx.Take(ctx, "nope", 1); !errors.Is(err, enrollment.ErrNotFound) {
				t.Errorf("Take(unknown) = %v, want ErrNotFound", err)
			}
			if err := tx.Give(ctx, "nope", 1); !errors.Is(err, enrollment.ErrNotFound) {
				t.Errorf("Give(unknown) = %v, want ErrNotFound", err)
			}
			if _, err := tx.Counter(ctx, "nope"); !errors.Is(err, enrollment.ErrNotFound) {
				t.Errorf("Counter(unknown) = %v, want ErrNotFound", err)
			}
			// Raising the limit keeps the use.
			if err := tx.EnsureCounter(ctx, "seats:g", 5); err != nil {
				return err
			}
			if c, err := tx.Counter(ctx, "seats:g"); err != nil || c != (enrollment.Counter{Key: "seats:g", Used: 3, Limit: 5}) {
				t.Errorf("Counter = %+v, %v", c, err)
			}
			return nil
		})
		// Lowering the limit below the use is refused (and rolls back).
		if err := try(db, func(tx enrollment.Tx) error { return tx.EnsureCounter(ctx, "seats:g", 2) }); !errors.Is(err, enrollment.ErrCounterFull) {
			t.Errorf("EnsureCounter below the use = %v, want ErrCounterFull", err)
		}
		run(t, db, func(tx enrollment.Tx) error {
			if err := tx.Give(ctx, "seats:g", 2); err != nil {
				return err
			}
			if c, _ := tx.Counter(ctx, "seats:g"); c.Used != 1 {
				t.Errorf("used after Give(2) = %d, want 1", c.Used)
			}
			if err := tx.Give(ctx, "seats:g", 5); err != nil {
				return err
			}
			if c, _ := tx.Counter(ctx, "seats:g"); c.Used != 0 {
				t.Errorf("used after giving back too much = %d, want 0", c.Used)
			}
			return nil
		})
	})
}

func TestQueue(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		t0 := time.Date(2025, 9, 1, 8, 0, 0, 0, time.UTC)
		ids := []uuid.UUID{newID(t), newID(t), newID(t), newID(t)}
		ids[2], ids[3] = ids[3], ids[2] // the later id arrives first
		// Enqueued out of order; the last two at the same instant.
		at := []time.Time{t0.Add(2 * time.Second), t0, t0.Add(3*time.Second + 500*time.Microsecond), t0.Add(3*time.Second + 500*time.Microsecond)}
		run(t, db, func(tx enrollment.Tx) error {
			for i := range ids {
				if err := tx.Enqueue(ctx, enrollment.QueueEntry{Queue: "cat-a", CertificateID: ids[i], EnqueuedAt: at[i]}); err != nil {
					return err
				}
			}
			return tx.Enqueue(ctx, enrollment.QueueEntry{Queue: "other", CertificateID: ids[0], EnqueuedAt: t0})
		})
		if err := try(db, func(tx enrollment.Tx) error {
			return tx.Enqueue(ctx, enrollment.QueueEntry{Queue: "cat-a", CertificateID: ids[0], EnqueuedAt: t0})
		}); !errors.Is(err, enrollment.ErrExists) {
			t.Errorf("enqueued twice: %v, want ErrExists", err)
		}
		order := []uuid.UUID{ids[1], ids[0], ids[2], ids[3]} // equal times: in the order of arrival
		run(t, db, func(tx enrollment.Tx) error {
			for i, id := range order {
				pos, err := tx.QueuePosition(ctx, "cat-a", id)
				if err != nil || pos != i+1 {
					t.Errorf("QueuePosition(%d) = %d, %v; want %d", i, pos, err, i+1)
				}
			}
			if _, err := tx.QueuePosition(ctx, "cat-a", newID(t)); !errors.Is(err, enrollment.ErrNotFound) {
				t.Errorf("QueuePosition(unknown) = %v", err)
			}
			if err := tx.RemoveFromQueue(ctx, "cat-a", ids[0]); err != nil {
				return err
			}
			if err := tx.RemoveFromQueue(ctx, "cat-a", ids[0]); !errors.Is(err, enrollment.ErrNotFound) {
				t.Errorf("RemoveFromQueue twice = %v", err)
			}
			for _, want := range []uuid.UUID{ids[1], ids[2], ids[3]} {
				e, err := tx.Dequeue(ctx, "cat-a")
				if err != nil {
					return err
				}
				if e.CertificateID != want || e.Queue != "cat-a" {
					t.Errorf("Dequeue = %+v, want %s", e, want)
				}
			}
			if e, err := tx.Dequeue(ctx, "other"); err != nil || !e.EnqueuedAt.Equal(t0) {
				t.Errorf("Dequeue(other) = %+v, %v", e, err)
			}
			if _, err := tx.Dequeue(ctx, "cat-a"); !errors.Is(err, enrollment.ErrNotFound) {
				t.Errorf("Dequeue(empty) = %v", err)
			}
			return nil
		})
	})
}

func TestCatalog(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		f := saveOffer(t, db, "Альфа", catalog.Certified)
		g := saveOffer(t, db, "Бета", catalog.Significant)
		cat := certificate.Category{Code: "cat-a", Nominal: funding.MustMoney("30000.00"), MaxCount: 100, MaxSum: funding.MustMoney("3000000.00")}
		run(t, db, func(tx enrollment.Tx) error {
			if err := tx.SaveCategory(ctx, cat); err != nil {
				return err
			}
			cat.Nominal = funding.MustMoney("31000.00")
			return tx.SaveCategory(ctx, cat)
		})
		run(t, db, func(tx enrollment.Tx) error {
			got, err := tx.Category(ctx, "cat-a")
			if err != nil {
				return err
			}
			if got.Code != cat.Code || !got.Nominal.Equal(cat.Nominal) || got.MaxCount != cat.MaxCount || !got.MaxSum.Equal(cat.MaxSum) {
				t.Errorf("Category = %+v, want %+v", got, cat)
			}
			if _, err := tx.Category(ctx, "nope"); !errors.Is(err, enrollment.ErrNotFound) {
				t.Errorf("Category(unknown) = %v", err)
			}

			o, err := tx.Offer(ctx, f.Group.ID)
			if err != nil {
				return err
			}
			if !reflect.DeepEqual(o.Provider, f.Provider) || !reflect.DeepEqual(o.Program, f.Program) ||
				!reflect.DeepEqual(o.Group, f.Group) || o.Module.ID != f.Module.ID || !o.Module.Price.Equal(f.Module.Price) ||
				!o.Module.NormativePrice.Equal(f.Module.NormativePrice) || o.Module.Hours != f.Module.Hours {
				t.Errorf("Offer:\n got %+v\nwant %+v", o, f)
			}
			if _, err := tx.Offer(ctx, newID(t)); !errors.Is(err, enrollment.ErrNotFound) {
				t.Errorf("Offer(unknown) = %v", err)
			}

			all, err := tx.Catalog(ctx, catalog.Filter{})
			if err != nil || len(all) != 2 {
				t.Errorf("Catalog{} = %d offers, %v", len(all), err)
			}
			only, err := tx.Catalog(ctx, catalog.Filter{Registry: catalog.Significant})
			if err != nil || len(only) != 1 || only[0].Group.ID != g.Group.ID {
				t.Errorf("Catalog{significant} = %+v, %v", only, err)
			}
			byText, err := tx.Catalog(ctx, catalog.Filter{Text: "альфа"})
			if err != nil || len(byText) != 1 || byText[0].Group.ID != f.Group.ID || len(byText[0].Provider.Agreements) != 2 {
				t.Errorf("Catalog{text} = %+v, %v", byText, err)
			}

			// Saving a provider again replaces its agreements.
			f.Provider.Agreements = f.Provider.Agreements[:1]
			f.Provider.Name = "Школа Альфа+"
			return tx.SaveProvider(ctx, f.Provider)
		})
		run(t, db, func(tx enrollment.Tx) error {
			o, err := tx.Offer(ctx, f.Group.ID)
			if err != nil {
				return err
			}
			if !reflect.DeepEqual(o.Provider, f.Provider) {
				t.Errorf("provider after resave = %+v, want %+v", o.Provider, f.Provider)
			}
			return nil
		})
	})
}

func TestContracts(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		f := saveOffer(t, db, "К", catalog.Certified)
		c := child(t, "p-contract")
		run(t, db, func(tx enrollment.Tx) error { return tx.InsertCertificate(ctx, c) })
		t0 := time.Date(2025, 9, 10, 12, 0, 0, 654321000, time.UTC)
		k1 := contractFor(t, c, f, t0)
		run(t, db, func(tx enrollment.Tx) error { return tx.InsertContract(ctx, k1) })
		run(t, db, func(tx enrollment.Tx) error {
			for name, get := range map[string]func(uuid.UUID) (enrollment.Contract, error){
				"Contract": func(id uuid.UUID) (enrollment.Contract, error) { return tx.Contract(ctx, id) },
				"Lock":     func(id uuid.UUID) (enrollment.Contract, error) { return tx.LockContract(ctx, id) },
			} {
				got, err := get(k1.ID)
				if err != nil {
					return err
				}
				if !sameContract(got, k1) {
					t.Errorf("%s:\n got %+v\nwant %+v", name, got, k1)
				}
				if _, err := get(newID(t)); !errors.Is(err, enrollment.ErrNotFound) {
					t.Errorf("%s(unknown) = %v", name, err)
				}
			}
			return nil
		})

		// A second live contract on the module is refused in every live status.
		for _, st := range []enrollment.Status{enrollment.Requested, enrollment.Accepted, enrollment.Active} {
			k1.Status = st
			run(t, db, func(tx enrollment.Tx) error { return tx.UpdateContract(ctx, k1) })
			k2 := contractFor(t, c, f, t0.Add(time.Hour))
			if err := try(db, func(tx enrollment.Tx) error { return tx.InsertContract(ctx, k2) }); !errors.Is(err, enrollment.ErrExists) {
				t.Errorf("second contract while the first is %s: %v, want ErrExists", st, err)
			}
		}
		// Closed, it does not block a new one.
		k1.Status = enrollment.Closed
		k1.ClosedOn = funding.MustDate(2026, time.May, 31)
		k1.TerminatedOn = funding.MustDate(2026, time.May, 20)
		run(t, db, func(tx enrollment.Tx) error { return tx.UpdateContract(ctx, k1) })
		k2 := contractFor(t, c, f, t0.Add(time.Hour))
		k2.ProlongedFrom = k1.ID
		run(t, db, func(tx enrollment.Tx) error { return tx.InsertContract(ctx, k2) })
		if err := try(db, func(tx enrollment.Tx) error { return tx.UpdateContract(ctx, contractFor(t, c, f, t0)) }); !errors.Is(err, enrollment.ErrNotFound) {
			t.Errorf("UpdateContract(unknown) = %v", err)
		}
		run(t, db, func(tx enrollment.Tx) error {
			list, err := tx.CertificateContracts(ctx, c.ID)
			if err != nil {
				return err
			}
			if len(list) != 2 || !sameContract(list[0], k2) || !sameContract(list[1], k1) {
				t.Errorf("CertificateContracts = %+v", list)
			}
			return nil
		})

		sep := funding.Month{Year: 2025, Month: time.September}
		run(t, db, func(tx enrollment.Tx) error {
			return tx.RecordCharge(ctx, k2.ID, sep, funding.MustMoney("1222.24"))
		})
		if err := try(db, func(tx enrollment.Tx) error { return tx.RecordCharge(ctx, k2.ID, sep, funding.MustMoney("1.00")) }); !errors.Is(err, enrollment.ErrExists) {
			t.Errorf("a month charged twice: %v, want ErrExists", err)
		}
		run(t, db, func(tx enrollment.Tx) error {
			return tx.RecordCharge(ctx, k2.ID, sep.Next(), funding.MustMoney("1222.22"))
		})

		line := enrollment.InvoiceLine{ContractID: k1.ID, Municipality: "mo-1", ProviderID: f.Provider.ID, Month: sep,
			Kind: enrollment.AdvanceInvoice, Amount: funding.MustMoney("1000.10")}
		line2 := line
		line2.ContractID = k2.ID
		line2.Amount = funding.MustMoney("200.05")
		final := line
		final.Kind = enrollment.FinalInvoice
		run(t, db, func(tx enrollment.Tx) error {
			for _, l := range []enrollment.InvoiceLine{line, line2, final} {
				if err := tx.AddInvoiceLine(ctx, l); err != nil {
					return err
				}
			}
			return nil
		})
		if err := try(db, func(tx enrollment.Tx) error { return tx.AddInvoiceLine(ctx, line2) }); !errors.Is(err, enrollment.ErrExists) {
			t.Errorf("an invoice line added twice: %v, want ErrExists", err)
		}
		invs, err := db.Invoices(ctx, f.Provider.ID, sep)
		if err != nil {
			t.Fatal(err)
		}
		if len(invs) != 2 || invs[0].Kind != enrollment.AdvanceInvoice || !invs[0].Amount.Equal(funding.MustMoney("1200.15")) ||
			invs[0].Lines != 2 || invs[1].Lines != 1 || invs[0].Month != sep || invs[0].Municipality != "mo-1" {
			t.Errorf("Invoices = %+v", invs)
		}
		if all, _ := db.Invoices(ctx, uuid.Nil, sep); len(all) != 2 {
			t.Errorf("Invoices(all) = %d", len(all))
		}
		if none, _ := db.Invoices(ctx, uuid.Nil, sep.Next()); len(none) != 0 {
			t.Errorf("Invoices(next month) = %d", len(none))
		}

		run(t, db, func(tx enrollment.Tx) error {
			if err := tx.SaveRating(ctx, k1.ID, enrollment.Rating{Results: 80, Staff: 90, Means: 70, Satisfaction: 100}, t0); err != nil {
				return err
			}
			return tx.SaveRating(ctx, k1.ID, enrollment.Rating{Results: 60, Staff: 90, Means: 70, Satisfaction: 100}, t0.Add(time.Hour))
		})
		var results int
		if err := db.Bun().NewSelect().Table("ratings").Column("results").Where("contract_id = ?", k1.ID).Scan(ctx, &results); err != nil || results != 60 {
			t.Errorf("rating results = %d, %v", results, err)
		}
	})
}

func sameContract(a, b enrollment.Contract) bool {
	a.CreatedAt, b.CreatedAt = a.CreatedAt.UTC(), b.CreatedAt.UTC()
	return reflect.DeepEqual(a, b) || (a.CreatedAt.Equal(b.CreatedAt) && a.Price.Total.Equal(b.Price.Total) &&
		reflect.DeepEqual(priceKopecks(a.Price), priceKopecks(b.Price)) && func() bool {
		a.Price, b.Price = funding.Price{}, funding.Price{}
		return reflect.DeepEqual(a, b)
	}())
}

func priceKopecks(p funding.Price) []any {
	return []any{p.Start, p.End, p.Days, p.Months, p.Total.Kopecks(), p.Normative.Kopecks(), p.Cert.Kopecks(),
		p.CoPay.Kopecks(), p.First.Kopecks(), p.Other.Kopecks(), p.CertFirst.Kopecks(), p.CertOther.Kopecks(),
		p.CoPayFirst.Kopecks(), p.CoPayOther.Kopecks()}
}

func TestPager(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		f := saveOffer(t, db, "P", catalog.Certified)
		var live, closed []uuid.UUID
		var funded []uuid.UUID
		run(t, db, func(tx enrollment.Tx) error {
			for i := 0; i < 7; i++ {
				c := child(t, "pager-"+string(rune('a'+i)))
				switch i {
				case 5:
					c.Kind = certificate.Accounting
				case 6:
					c.Status = certificate.Cancelled
				default:
					funded = append(funded, c.ID)
				}
				if err := tx.InsertCertificate(ctx, c); err != nil {
					return err
				}
				k := contractFor(t, c, f, time.Now())
				if i%2 == 0 {
					k.Status = enrollment.Active
					live = append(live, k.ID)
				} else {
					k.Status = enrollment.Closed
					closed = append(closed, k.ID)
				}
				if err := tx.InsertContract(ctx, k); err != nil {
					return err
				}
			}
			return nil
		})
		var got []uuid.UUID
		after := uuid.Nil
		for {
			page, err := db.ContractIDs(ctx, []enrollment.Status{enrollment.Active, enrollment.Accepted}, after, 2)
			if err != nil {
				t.Fatal(err)
			}
			if len(page) == 0 {
				break
			}
			got = append(got, page...)
			after = page[len(page)-1]
		}
		if !reflect.DeepEqual(got, live) {
			t.Errorf("ContractIDs = %v, want %v", got, live)
		}
		if ids, _ := db.ContractIDs(ctx, []enrollment.Status{enrollment.Closed}, uuid.Nil, 100); !reflect.DeepEqual(ids, closed) {
			t.Errorf("ContractIDs(closed) = %v, want %v", ids, closed)
		}
		ids, err := db.CertificateIDs(ctx, uuid.Nil, 3)
		if err != nil || !reflect.DeepEqual(ids, funded[:3]) {
			t.Errorf("CertificateIDs page 1 = %v, %v; want %v", ids, err, funded[:3])
		}
		ids, _ = db.CertificateIDs(ctx, ids[len(ids)-1], 3)
		if !reflect.DeepEqual(ids, funded[3:]) {
			t.Errorf("CertificateIDs page 2 = %v, want %v", ids, funded[3:])
		}
	})
}

func TestIdempotency(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		run(t, db, func(tx enrollment.Tx) error {
			rec, claimed, err := tx.ClaimKey(ctx, "k1", "submit", "h1")
			if err != nil || !claimed || rec.Result != nil || rec.RequestHash != "h1" {
				t.Errorf("first ClaimKey = %+v, %v, %v", rec, claimed, err)
			}
			return tx.SaveResult(ctx, "k1", []byte(`{"id":1}`))
		})
		run(t, db, func(tx enrollment.Tx) error {
			rec, claimed, err := tx.ClaimKey(ctx, "k1", "submit", "h2")
			if err != nil || claimed || string(rec.Result) != `{"id":1}` || rec.RequestHash != "h1" || rec.Operation != "submit" {
				t.Errorf("second ClaimKey = %+v, %v, %v", rec, claimed, err)
			}
			if err := tx.SaveResult(ctx, "nope", nil); !errors.Is(err, enrollment.ErrNotFound) {
				t.Errorf("SaveResult(unknown) = %v", err)
			}
			return nil
		})
	})
}

func TestRollback(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		run(t, db, func(tx enrollment.Tx) error { return tx.EnsureCounter(ctx, "c", 10) })
		boom := errors.New("boom")
		c := child(t, "p-rollback")
		err := try(db, func(tx enrollment.Tx) error {
			if err := tx.InsertCertificate(ctx, c); err != nil {
				return err
			}
			if _, _, err := tx.ClaimKey(ctx, "k", "op", "h"); err != nil {
				return err
			}
			if err := tx.Take(ctx, "c", 4); err != nil {
				return err
			}
			return boom
		})
		if err != boom {
			t.Fatalf("InTx = %v, want the closure's own error unchanged", err)
		}
		run(t, db, func(tx enrollment.Tx) error {
			if _, err := tx.Certificate(ctx, c.ID); !errors.Is(err, enrollment.ErrNotFound) {
				t.Errorf("certificate survived the rollback: %v", err)
			}
			if cnt, _ := tx.Counter(ctx, "c"); cnt.Used != 0 {
				t.Errorf("counter used = %d after rollback", cnt.Used)
			}
			if _, claimed, _ := tx.ClaimKey(ctx, "k", "op", "h"); !claimed {
				t.Error("idempotency key survived the rollback")
			}
			return nil
		})
		// A domain error keeps its identity through InTx.
		if err := try(db, func(tx enrollment.Tx) error {
			_, err := tx.Certificate(ctx, newID(t))
			return err
		}); !errors.Is(err, enrollment.ErrNotFound) {
			t.Errorf("InTx(not found) = %v", err)
		}
		// A cancelled context stops InTx.
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if err := db.InTx(cctx, func(context.Context, enrollment.Tx) error { return nil }); !errors.Is(err, context.Canceled) {
			t.Errorf("InTx(cancelled) = %v", err)
		}
	})
}

// TestRefusalsKeepTheTransaction checks that every ErrExists or
// ErrCounterFull leaves the transaction usable (on PostgreSQL a failed
// statement would abort it): services handle these and go on.
func TestRefusalsKeepTheTransaction(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		f := saveOffer(t, db, "R", catalog.Certified)
		c := child(t, "p-refusals")
		other := child(t, "p-refusals-2")
		t0 := time.Date(2025, 9, 10, 12, 0, 0, 0, time.UTC)
		k1 := contractFor(t, c, f, t0)
		sep := funding.Month{Year: 2025, Month: time.September}
		line := enrollment.InvoiceLine{ContractID: k1.ID, Municipality: "mo-1", ProviderID: f.Provider.ID, Month: sep,
			Kind: enrollment.FinalInvoice, Amount: funding.MustMoney("10.00")}
		p := enrollment.PostingRecord{ID: newID(t), CertificateID: c.ID, Period: schoolYear, At: t0, Actor: "a", Rule: "r",
			Posting: funding.Posting{Kind: funding.Grant, Amount: funding.MustMoney("1.00")}}
		exists := func(what string, err error) {
			t.Helper()
			if !errors.Is(err, enrollment.ErrExists) {
				t.Errorf("%s: %v, want ErrExists", what, err)
			}
		}
		run(t, db, func(tx enrollment.Tx) error {
			if err := tx.InsertCertificate(ctx, c); err != nil {
				return err
			}
			exists("certificate", tx.InsertCertificate(ctx, c))
			if err := tx.InsertCertificate(ctx, other); err != nil {
				return err
			}
			taken := other
			taken.Number = c.Number
			exists("certificate number by update", tx.UpdateCertificate(ctx, taken))
			if err := tx.InsertContract(ctx, k1); err != nil {
				return err
			}
			exists("live contract", tx.InsertContract(ctx, contractFor(t, c, f, t0)))
			k2 := contractFor(t, c, f, t0)
			k2.Status = enrollment.Closed
			if err := tx.InsertContract(ctx, k2); err != nil {
				return err
			}
			k2.Status = enrollment.Active
			exists("live contract by update", tx.UpdateContract(ctx, k2))
			if err := tx.RecordCharge(ctx, k1.ID, sep, funding.MustMoney("1.00")); err != nil {
				return err
			}
			exists("charge", tx.RecordCharge(ctx, k1.ID, sep, funding.MustMoney("1.00")))
			if err := tx.AddInvoiceLine(ctx, line); err != nil {
				return err
			}
			exists("invoice line", tx.AddInvoiceLine(ctx, line))
			if err := tx.AppendPosting(ctx, p); err != nil {
				return err
			}
			exists("posting", tx.AppendPosting(ctx, p))
			q := enrollment.QueueEntry{Queue: "q", CertificateID: c.ID, EnqueuedAt: t0}
			if err := tx.Enqueue(ctx, q); err != nil {
				return err
			}
			exists("queue entry", tx.Enqueue(ctx, q))
			if err := tx.EnsureCounter(ctx, "n", 1); err != nil {
				return err
			}
			if err := tx.Take(ctx, "n", 1); err != nil {
				return err
			}
			if err := tx.Take(ctx, "n", 1); !errors.Is(err, enrollment.ErrCounterFull) {
				t.Errorf("Take: %v", err)
			}
			if err := tx.EnsureCounter(ctx, "n", 0); !errors.Is(err, enrollment.ErrCounterFull) {
				t.Errorf("EnsureCounter below use: %v", err)
			}
			// Still usable.
			_, err := tx.Certificate(ctx, c.ID)
			return err
		})
		invs, err := db.Invoices(ctx, f.Provider.ID, sep)
		if err != nil || len(invs) != 1 || invs[0].Lines != 1 || !invs[0].Amount.Equal(line.Amount) {
			t.Errorf("Invoices after a repeated line = %+v, %v", invs, err)
		}
		run(t, db, func(tx enrollment.Tx) error {
			got, err := tx.Certificate(ctx, other.ID)
			if err == nil && got.Number != other.Number {
				t.Errorf("a refused update changed the number")
			}
			return err
		})
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
		{certificate.Category{}, 4},
		{enrollment.Contract{}, 22},
		{funding.Price{}, 14},
		{funding.Account{}, 6},
		{funding.Hold{}, 5},
		{funding.Posting{}, 3},
		{enrollment.PostingRecord{}, 10},
		{enrollment.Rating{}, 4},
		{catalog.Provider{}, 6},
		{catalog.Agreement{}, 2},
		{catalog.Program{}, 14},
		{catalog.Module{}, 8},
		{catalog.Group{}, 7},
		{enrollment.QueueEntry{}, 3},
		{enrollment.InvoiceLine{}, 7},
		{enrollment.IdempotencyRecord{}, 4},
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
		holdID := newID(t)
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
