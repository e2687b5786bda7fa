package storagetest

import (
	"context"
	"errors"
	"math/rand/v2"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/edufund/edufund/catalog"
	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/funding"
)

// Run runs the contract of enrollment.Store and enrollment.Tx as subtests
// of t, each against a fresh, empty store from open: round trips of every
// row type, the unique rules, the CHECKs, the counters' semantics and caps,
// rollback, concurrent writers (no lost update; a closure InTx runs again
// leaves one effect). The store's Pager: its pages
// and invoices are checked as well; otherwise those checks are skipped.
//
// A store passes when every subtest does; a test of an adapter calls Run
// once per configuration it supports, as storage's own test does for every
// kind of Kinds:
//
//	storagetest.Run(t, func(t *testing.T) enrollment.Store { return open(t) })
func Run(t *testing.T, open func(t *testing.T) enrollment.Store) {
	for _, c := range contract {
		t.Run(c.name, func(t *testing.T) { c.test(t, open(t)) })
	}
}

// contract is Run's subtests, by name.
var contract = []struct {
	name string
	test func(t *testing.T, s enrollment.Store)
}{
	{"Certificates", testCertificates},
	{"CertificateUniqueRules", testCertificateUniqueRules},
	{"Guardians", testGuardians},
	{"AccountsHoldsPostings", testAccountsHoldsPostings},
	{"Counters", testCounters},
	{"Queue", testQueue},
	{"Catalog", testCatalog},
	{"CatalogReads", testCatalogReads},
	{"ProgramParts", testProgramParts},
	{"Contracts", testContracts},
	{"Pager", testPager},
	{"Lists", testLists},
	{"AdminLists", testAdminLists},
	{"Exports", testExports},
	{"Idempotency", testIdempotency},
	{"CloseLog", testCloseLog},
	{"Parameters", testParameters},
	{"HoursAccounts", testHoursAccounts},
	{"Rollback", testRollback},
	{"RefusalsKeepTheTransaction", testRefusalsKeepTheTransaction},
	{"CounterTakeRace", testCounterTakeRace},
	{"MoneyCounterRace", testMoneyCounterRace},
	{"ClaimKeyRace", testClaimKeyRace},
	{"QueuePositionsRace", testQueuePositionsRace},
	{"NoLostUpdate", testNoLostUpdate},
	{"AppendOnly", testAppendOnly},
	{"Ledger", testLedger},
	{"Decisions", testDecisions},
	{"InvoiceMoves", testInvoiceMoves},
	{"PaperAndSessions", testPaperAndSessions},
	{"Authorisations", testAuthorisations},
}

// testCertificates: a certificate reads back as it was inserted and
// updated, by id, under a lock and by number; an unknown one is ErrNotFound.
func testCertificates(t *testing.T, s enrollment.Store) {
	ctx := context.Background()
	c := Child(t, "snils-1")
	InTx(t, s, func(tx enrollment.Tx) error { return tx.InsertCertificate(ctx, c) })

	InTx(t, s, func(tx enrollment.Tx) error {
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
	InTx(t, s, func(tx enrollment.Tx) error { return tx.UpdateCertificate(ctx, c) })
	InTx(t, s, func(tx enrollment.Tx) error {
		got, err := tx.Certificate(ctx, c.ID)
		if err != nil {
			return err
		}
		if !reflect.DeepEqual(got, c) {
			t.Errorf("after update:\n got %+v\nwant %+v", got, c)
		}
		return nil
	})

	InTx(t, s, func(tx enrollment.Tx) error {
		missing := Child(t, "nobody")
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
}

// testCertificateUniqueRules: one children's certificate per person, one
// adult certificate per person and year; ids and numbers are unique.
func testCertificateUniqueRules(t *testing.T, s enrollment.Store) {
	ctx := context.Background()
	first := Child(t, "p-1")
	InTx(t, s, func(tx enrollment.Tx) error { return tx.InsertCertificate(ctx, first) })

	insert := func(c certificate.Certificate) error {
		return TryTx(s, func(tx enrollment.Tx) error { return tx.InsertCertificate(ctx, c) })
	}
	if err := insert(Child(t, "p-1")); !errors.Is(err, enrollment.ErrExists) {
		t.Errorf("second children's certificate of a person: %v, want ErrExists", err)
	}
	sameNumber := Child(t, "p-2")
	sameNumber.Number = first.Number
	if err := insert(sameNumber); !errors.Is(err, enrollment.ErrExists) {
		t.Errorf("second certificate with a number: %v, want ErrExists", err)
	}
	sameID := Child(t, "p-3")
	sameID.ID = first.ID
	if err := insert(sameID); !errors.Is(err, enrollment.ErrExists) {
		t.Errorf("second certificate with an id: %v, want ErrExists", err)
	}

	// Adults: one per person and year, independent of the children's scheme.
	if err := insert(Adult(t, "p-1", funding.MustDate(2025, time.February, 1))); err != nil {
		t.Fatalf("adult certificate of a person with a children's one: %v", err)
	}
	if err := insert(Adult(t, "p-1", funding.MustDate(2025, time.November, 1))); !errors.Is(err, enrollment.ErrExists) {
		t.Errorf("second adult certificate in a year: %v, want ErrExists", err)
	}
	if err := insert(Adult(t, "p-1", funding.MustDate(2026, time.January, 10))); err != nil {
		t.Errorf("adult certificate of the next year: %v", err)
	}
	InTx(t, s, func(tx enrollment.Tx) error {
		list, err := tx.PersonCertificates(ctx, certificate.DigitalSkills, "p-1")
		if len(list) != 2 {
			t.Errorf("adult certificates = %d, want 2", len(list))
		}
		return err
	})
}

// testGuardians: a guardian link is there once recorded, in its direction
// only; recording it again keeps it; no one is their own guardian.
func testGuardians(t *testing.T, s enrollment.Store) {
	ctx := context.Background()
	at := time.Date(2025, 9, 1, 9, 0, 0, 0, time.UTC)
	link := enrollment.GuardianLink{GuardianID: "parent-1", ChildID: "child-1", RecordedAt: at, Actor: "municipality:mo-1"}
	InTx(t, s, func(tx enrollment.Tx) error {
		if ok, err := tx.IsGuardian(ctx, link.GuardianID, link.ChildID); err != nil || ok {
			t.Errorf("IsGuardian before the link = %v, %v; want false", ok, err)
		}
		return tx.LinkGuardian(ctx, link)
	})
	again := link
	again.RecordedAt, again.Actor = at.Add(time.Hour), "regional:operator"
	InTx(t, s, func(tx enrollment.Tx) error { return tx.LinkGuardian(ctx, again) })
	if err := TryTx(s, func(tx enrollment.Tx) error {
		return tx.LinkGuardian(ctx, enrollment.GuardianLink{GuardianID: "child-1", ChildID: "child-1", RecordedAt: at, Actor: "test"})
	}); err == nil {
		t.Error("a person linked as their own guardian")
	}
	InTx(t, s, func(tx enrollment.Tx) error {
		for _, tc := range []struct {
			guardian, child string
			want            bool
		}{
			{"parent-1", "child-1", true},
			{"child-1", "parent-1", false},
			{"parent-1", "child-2", false},
			{"parent-2", "child-1", false},
			{"child-1", "child-1", false},
		} {
			if ok, err := tx.IsGuardian(ctx, tc.guardian, tc.child); err != nil || ok != tc.want {
				t.Errorf("IsGuardian(%s, %s) = %v, %v; want %v", tc.guardian, tc.child, ok, err, tc.want)
			}
		}
		return nil
	})
}

// testAccountsHoldsPostings: accounts, holds and postings read back to the
// kopeck and the microsecond; the CHECKs refuse what does not add up; a
// posting is appended once.
func testAccountsHoldsPostings(t *testing.T, s enrollment.Store) {
	ctx := context.Background()
	c := Child(t, "p-acc")
	InTx(t, s, func(tx enrollment.Tx) error { return tx.InsertCertificate(ctx, c) })

	// An account stores held (reserved + spent); the split is read from
	// its holds, so an account is saved with them.
	acc := enrollment.AccountState{
		CertificateID: c.ID,
		Period:        SchoolYear,
		Account: funding.Account{
			Nominal: funding.MustMoney("30000.00"), Balance: funding.MustMoney("17999.50"),
			Reserved: funding.MustMoney("12000.50"),
		},
	}
	ah := funding.Hold{ID: newID(t), Amount: funding.MustMoney("12000.50")}
	InTx(t, s, func(tx enrollment.Tx) error {
		if _, err := tx.Account(ctx, c.ID, SchoolYear); !errors.Is(err, enrollment.ErrNotFound) {
			t.Errorf("Account before the grant = %v, want ErrNotFound", err)
		}
		if err := tx.SaveAccount(ctx, acc); err != nil {
			return err
		}
		return tx.SaveHold(ctx, c.ID, SchoolYear, ah)
	})
	// 1,000.00 charged, 1,000.00 released and expired.
	acc.Account.Reserved = funding.MustMoney("10000.50")
	acc.Account.Spent = funding.MustMoney("1000.00")
	acc.Account.Expired = funding.MustMoney("1000.00")
	acc.Account.Depleted = funding.Zero
	acc.Fixed = true
	ah.Charged, ah.Released = funding.MustMoney("1000.00"), funding.MustMoney("1000.00")
	InTx(t, s, func(tx enrollment.Tx) error {
		if err := tx.SaveAccount(ctx, acc); err != nil {
			return err
		}
		return tx.SaveHold(ctx, c.ID, SchoolYear, ah)
	})
	InTx(t, s, func(tx enrollment.Tx) error {
		got, err := tx.Account(ctx, c.ID, SchoolYear)
		if err != nil {
			return err
		}
		if !sameAccount(got, acc) {
			t.Errorf("Account = %+v, want %+v", got, acc)
		}
		return nil
	})

	// An account whose open holds reserve more than it holds is refused,
	// not read with a negative spent. (That held equals what all its holds
	// took is CheckInvariants'; a read sums the open holds only, so that
	// its cost does not grow with the certificate's history.)
	if err := TryTx(s, func(tx enrollment.Tx) error {
		if err := tx.SaveHold(ctx, c.ID, SchoolYear, funding.Hold{ID: newID(t), Amount: funding.MustMoney("1000.01")}); err != nil {
			return err
		}
		_, err := tx.Account(ctx, c.ID, SchoolYear)
		return err
	}); err == nil || errors.Is(err, enrollment.ErrNotFound) {
		t.Errorf("Account with a hold it does not hold = %v, want an error", err)
	}

	// The CHECKs refuse an unbalanced account.
	bad := acc
	bad.Account.Balance = funding.MustMoney("1.00")
	if err := TryTx(s, func(tx enrollment.Tx) error { return tx.SaveAccount(ctx, bad) }); err == nil {
		t.Error("SaveAccount of an unbalanced account succeeded")
	}

	h := funding.Hold{ID: newID(t), Amount: funding.MustMoney("12000.50")}
	InTx(t, s, func(tx enrollment.Tx) error { return tx.SaveHold(ctx, c.ID, SchoolYear, h) })
	h.Charged = funding.MustMoney("2000.00")
	h.Released = funding.MustMoney("0.50")
	h.Refunded = funding.MustMoney("100.00")
	InTx(t, s, func(tx enrollment.Tx) error { return tx.SaveHold(ctx, c.ID, SchoolYear, h) })
	InTx(t, s, func(tx enrollment.Tx) error {
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
	if err := TryTx(s, func(tx enrollment.Tx) error { return tx.SaveHold(ctx, c.ID, SchoolYear, over) }); err == nil {
		t.Error("a hold charged beyond its amount was accepted")
	}

	at := time.Date(2025, 9, 1, 9, 0, 0, 123456000, time.UTC)
	contractID := newID(t)
	ps := []enrollment.PostingRecord{
		{ID: newID(t), CertificateID: c.ID, Period: SchoolYear, At: at, Actor: "system", Rule: "grant",
			Posting: funding.Posting{Kind: funding.Grant, Amount: funding.MustMoney("30000.00")},
			Params:  map[string]string{"category": "cat-a", "nominal": "30000.00"}, Rules: 7},
		{ID: newID(t), CertificateID: c.ID, Period: SchoolYear, At: at.Add(time.Second), Actor: "parent:1", Rule: "reserve",
			Posting:    funding.Posting{Kind: funding.Reserve, Amount: funding.MustMoney("12000.50"), HoldID: h.ID},
			ContractID: contractID},
		{ID: newID(t), CertificateID: c.ID, Period: SchoolYear, At: at.Add(2 * time.Second), Actor: "close", Rule: "charge",
			Posting:    funding.Posting{Kind: funding.Charge, Amount: funding.MustMoney("1333.42"), HoldID: h.ID},
			ContractID: contractID, Month: funding.Month{Year: 2025, Month: time.September}},
	}
	InTx(t, s, func(tx enrollment.Tx) error {
		for _, p := range ps {
			if err := tx.AppendPosting(ctx, p); err != nil {
				return err
			}
		}
		return nil
	})
	if err := TryTx(s, func(tx enrollment.Tx) error { return tx.AppendPosting(ctx, ps[0]) }); !errors.Is(err, enrollment.ErrExists) {
		t.Errorf("a posting appended twice: %v, want ErrExists", err)
	}
	InTx(t, s, func(tx enrollment.Tx) error {
		got, err := tx.Postings(ctx, c.ID, SchoolYear)
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
				!g.At.Equal(w.At) || g.Actor != w.Actor || g.Rule != w.Rule || !reflect.DeepEqual(g.Params, w.Params) || g.Rules != w.Rules {
				t.Errorf("posting %d:\n got %+v\nwant %+v", i, g, w)
			}
		}
		return nil
	})
}

func sameAccount(a, b enrollment.AccountState) bool {
	x, y := a.Account, b.Account
	return a.CertificateID == b.CertificateID && a.Period == b.Period && a.Fixed == b.Fixed &&
		x.Nominal.Equal(y.Nominal) && x.Balance.Equal(y.Balance) && x.Reserved.Equal(y.Reserved) &&
		x.Spent.Equal(y.Spent) && x.Depleted.Equal(y.Depleted) && x.Expired.Equal(y.Expired)
}

// testCounters: Take stops at the cap, Give never goes below zero,
// EnsureCounter raises a limit and refuses to lower it below the use.
func testCounters(t *testing.T, s enrollment.Store) {
	ctx := context.Background()
	InTx(t, s, func(tx enrollment.Tx) error {
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
	if err := TryTx(s, func(tx enrollment.Tx) error { return tx.EnsureCounter(ctx, "seats:g", 2) }); !errors.Is(err, enrollment.ErrCounterFull) {
		t.Errorf("EnsureCounter below the use = %v, want ErrCounterFull", err)
	}
	InTx(t, s, func(tx enrollment.Tx) error {
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
}

// testQueue: first come, first served in the order of arrival, whatever
// the entries' times say; a certificate waits once per queue.
func testQueue(t *testing.T, s enrollment.Store) {
	ctx := context.Background()
	t0 := time.Date(2025, 9, 1, 8, 0, 0, 0, time.UTC)
	ids := []uuid.UUID{newID(t), newID(t), newID(t), newID(t)}
	ids[2], ids[3] = ids[3], ids[2] // the later id arrives first
	// Times out of order (another server's clock, a clock stepped back);
	// the last two at the same instant.
	at := []time.Time{t0.Add(2 * time.Second), t0, t0.Add(3*time.Second + 500*time.Microsecond), t0.Add(3*time.Second + 500*time.Microsecond)}
	InTx(t, s, func(tx enrollment.Tx) error {
		for i := range ids {
			if err := tx.Enqueue(ctx, enrollment.QueueEntry{Queue: "cat-a", CertificateID: ids[i], EnqueuedAt: at[i]}); err != nil {
				return err
			}
		}
		return tx.Enqueue(ctx, enrollment.QueueEntry{Queue: "other", CertificateID: ids[0], EnqueuedAt: t0})
	})
	if err := TryTx(s, func(tx enrollment.Tx) error {
		return tx.Enqueue(ctx, enrollment.QueueEntry{Queue: "cat-a", CertificateID: ids[0], EnqueuedAt: t0})
	}); !errors.Is(err, enrollment.ErrExists) {
		t.Errorf("enqueued twice: %v, want ErrExists", err)
	}
	for q, want := range map[string]int{"cat-a": 4, "other": 1, "cat": 0} {
		if n, err := s.QueueLength(ctx, q); err != nil || n != want {
			t.Errorf("QueueLength(%s) = %d, %v; want %d", q, n, err, want)
		}
	}
	order := ids // the order of arrival, not of the times
	InTx(t, s, func(tx enrollment.Tx) error {
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
}

// testCatalog: categories and offers read back as saved; saving a
// provider again replaces its agreements.
func testCatalog(t *testing.T, s enrollment.Store) {
	ctx := context.Background()
	f := SaveOffer(t, s, "Альфа", catalog.Certified)
	cat := certificate.Category{Code: "cat-a", Nominal: funding.MustMoney("30000.00"), MaxCount: 100, MaxSum: funding.MustMoney("3000000.00")}
	InTx(t, s, func(tx enrollment.Tx) error {
		if err := tx.SaveCategory(ctx, cat); err != nil {
			return err
		}
		cat.Nominal = funding.MustMoney("31000.00")
		return tx.SaveCategory(ctx, cat)
	})
	InTx(t, s, func(tx enrollment.Tx) error {
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

		// Saving a provider again replaces its agreements.
		f.Provider.Agreements = f.Provider.Agreements[:1]
		f.Provider.Name = "Школа Альфа+"
		// And its accounting details read back (migration 00022).
		f.Provider.KPP = "770101001"
		f.Provider.Bank = catalog.BankDetails{Name: "ПАО «Банк»", BIC: "044525225", Account: "40702810938000000001", CorrespondentAccount: "30101810400000000225"}
		return tx.SaveProvider(ctx, f.Provider)
	})
	InTx(t, s, func(tx enrollment.Tx) error {
		o, err := tx.Offer(ctx, f.Group.ID)
		if err != nil {
			return err
		}
		if !reflect.DeepEqual(o.Provider, f.Provider) {
			t.Errorf("provider after resave = %+v, want %+v", o.Provider, f.Provider)
		}
		return nil
	})
}

// testCatalogReads reads back what the services saved.
func testCatalogReads(t *testing.T, s enrollment.Store) {
	r := NewRegion(t, s, RegionOptions{})
	require.NoError(t, s.InTx(context.Background(), func(ctx context.Context, tx enrollment.Tx) error {
		p, err := tx.Provider(ctx, r.Provider.ID)
		require.NoError(t, err)
		require.Equal(t, r.Provider, p)
		prog, err := tx.Program(ctx, r.Program.ID)
		require.NoError(t, err)
		require.Equal(t, r.Program, prog)
		mod, err := tx.Module(ctx, r.Module.ID)
		require.NoError(t, err)
		require.Equal(t, r.Module, mod)
		_, err = tx.Provider(ctx, uuid.New())
		require.ErrorIs(t, err, enrollment.ErrNotFound)
		_, err = tx.Program(ctx, uuid.New())
		require.ErrorIs(t, err, enrollment.ErrNotFound)
		_, err = tx.Module(ctx, uuid.New())
		require.ErrorIs(t, err, enrollment.ErrNotFound)
		return nil
	}))
}

// testProgramParts: a program's page content (texts, tags with any
// character, a provider's contacts, a group's address) reads back as
// saved, and a program's modules and groups list in their order; no tags
// read back as nil, and an unknown program has no parts.
func testProgramParts(t *testing.T, s enrollment.Store) {
	ctx := context.Background()
	f := SaveOffer(t, s, "Части", catalog.Certified)
	other := SaveOffer(t, s, "Другая", catalog.Certified)
	m2 := f.Module
	m2.ID, m2.Name, m2.Price = newID(t), "Модуль 2", funding.MustMoney("5000.00")
	early := f.Group
	early.ID, early.ModuleID, early.Name, early.Address = newID(t), m2.ID, "Ранняя", ""
	early.Start = f.Group.Start.AddDays(-10)
	late := early
	late.ID, late.Name, late.Start = newID(t), "Поздняя", f.Group.Start.AddDays(10)
	bare := f.Program
	bare.ID, bare.Annotation, bare.Description, bare.Goals, bare.Tags = newID(t), "", "", "", []string{}
	InTx(t, s, func(tx enrollment.Tx) error {
		if err := tx.SaveModule(ctx, m2); err != nil {
			return err
		}
		for _, g := range []catalog.Group{late, early} {
			if err := tx.SaveGroup(ctx, g); err != nil {
				return err
			}
		}
		return tx.SaveProgram(ctx, bare)
	})
	InTx(t, s, func(tx enrollment.Tx) error {
		prog, err := tx.Program(ctx, f.Program.ID)
		require.NoError(t, err)
		require.Equal(t, f.Program, prog)
		prov, err := tx.Provider(ctx, f.Provider.ID)
		require.NoError(t, err)
		require.Equal(t, f.Provider, prov)
		got, err := tx.Program(ctx, bare.ID)
		require.NoError(t, err)
		require.Nil(t, got.Tags, "no tags")
		require.Empty(t, got.Annotation+got.Description+got.Goals)

		mods, err := tx.ProgramModules(ctx, f.Program.ID)
		require.NoError(t, err)
		want := []catalog.Module{f.Module, m2}
		if m2.ID.String() < f.Module.ID.String() {
			want = []catalog.Module{m2, f.Module}
		}
		require.Len(t, mods, 2)
		for i := range want {
			require.Equal(t, want[i].ID, mods[i].ID)
			require.Equal(t, want[i].Name, mods[i].Name)
			require.True(t, want[i].Price.Equal(mods[i].Price))
		}
		groups, err := tx.ProgramGroups(ctx, f.Program.ID)
		require.NoError(t, err)
		require.Equal(t, []catalog.Group{early, f.Group, late}, groups)

		for _, id := range []uuid.UUID{bare.ID, newID(t)} {
			mods, err := tx.ProgramModules(ctx, id)
			require.NoError(t, err)
			require.Empty(t, mods)
			groups, err := tx.ProgramGroups(ctx, id)
			require.NoError(t, err)
			require.Empty(t, groups)
		}
		groups, err = tx.ProgramGroups(ctx, other.Program.ID)
		require.NoError(t, err)
		require.Equal(t, []catalog.Group{other.Group}, groups)
		return nil
	})
}

// testContracts: a contract reads back as saved; one live contract per
// certificate and module; a month is charged once and a line invoiced once.
func testContracts(t *testing.T, s enrollment.Store) {
	ctx := context.Background()
	f := SaveOffer(t, s, "К", catalog.Certified)
	c := Child(t, "p-contract")
	InTx(t, s, func(tx enrollment.Tx) error { return tx.InsertCertificate(ctx, c) })
	t0 := time.Date(2025, 9, 10, 12, 0, 0, 654321000, time.UTC)
	k1 := ContractFor(t, c, f, t0)
	k1.Hours = funding.HoursHold{Base: 3, Extra: 1}
	InTx(t, s, func(tx enrollment.Tx) error { return tx.InsertContract(ctx, k1) })
	InTx(t, s, func(tx enrollment.Tx) error {
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
		InTx(t, s, func(tx enrollment.Tx) error { return tx.UpdateContract(ctx, k1) })
		k2 := ContractFor(t, c, f, t0.Add(time.Hour))
		if err := TryTx(s, func(tx enrollment.Tx) error { return tx.InsertContract(ctx, k2) }); !errors.Is(err, enrollment.ErrExists) {
			t.Errorf("second contract while the first is %s: %v, want ErrExists", st, err)
		}
	}
	// Closed, it does not block a new one.
	k1.Status = enrollment.Closed
	k1.ClosedOn = funding.MustDate(2026, time.May, 31)
	k1.TerminatedOn = funding.MustDate(2026, time.May, 20)
	InTx(t, s, func(tx enrollment.Tx) error { return tx.UpdateContract(ctx, k1) })
	k2 := ContractFor(t, c, f, t0.Add(time.Hour))
	k2.ProlongedFrom = k1.ID
	InTx(t, s, func(tx enrollment.Tx) error { return tx.InsertContract(ctx, k2) })
	if err := TryTx(s, func(tx enrollment.Tx) error { return tx.UpdateContract(ctx, ContractFor(t, c, f, t0)) }); !errors.Is(err, enrollment.ErrNotFound) {
		t.Errorf("UpdateContract(unknown) = %v", err)
	}
	InTx(t, s, func(tx enrollment.Tx) error {
		list, err := tx.CertificateContracts(ctx, c.ID)
		if err != nil {
			return err
		}
		if len(list) != 2 || !sameContract(list[0], k2) || !sameContract(list[1], k1) {
			t.Errorf("CertificateContracts = %+v", list)
		}
		// An application reads the live ones only; "applied before" sees
		// every status.
		live, err := tx.LiveContracts(ctx, c.ID)
		if err != nil {
			return err
		}
		if len(live) != 1 || !sameContract(live[0], k2) {
			t.Errorf("LiveContracts = %+v, want the requested one only", live)
		}
		for provider, want := range map[uuid.UUID]bool{f.Provider.ID: true, newID(t): false} {
			if got, err := tx.AppliedTo(ctx, c.ID, provider); err != nil || got != want {
				t.Errorf("AppliedTo(%s) = %v, %v; want %v", provider, got, err, want)
			}
		}
		return nil
	})

	sep := funding.Month{Year: 2025, Month: time.September}
	InTx(t, s, func(tx enrollment.Tx) error {
		return tx.RecordCharge(ctx, k2.ID, sep, funding.MustMoney("1222.24"))
	})
	if err := TryTx(s, func(tx enrollment.Tx) error { return tx.RecordCharge(ctx, k2.ID, sep, funding.MustMoney("1.00")) }); !errors.Is(err, enrollment.ErrExists) {
		t.Errorf("a month charged twice: %v, want ErrExists", err)
	}
	InTx(t, s, func(tx enrollment.Tx) error {
		return tx.RecordCharge(ctx, k2.ID, sep.Next(), funding.MustMoney("1222.22"))
	})

	line := enrollment.InvoiceLine{ContractID: k1.ID, Municipality: "mo-1", ProviderID: f.Provider.ID, Month: sep,
		Kind: enrollment.AdvanceInvoice, Amount: funding.MustMoney("1000.10")}
	line2 := line
	line2.ContractID = k2.ID
	line2.Amount = funding.MustMoney("200.05")
	final := line
	final.Kind = enrollment.FinalInvoice
	InTx(t, s, func(tx enrollment.Tx) error {
		for _, l := range []enrollment.InvoiceLine{line, line2, final} {
			if err := tx.AddInvoiceLine(ctx, l); err != nil {
				return err
			}
		}
		return nil
	})
	if err := TryTx(s, func(tx enrollment.Tx) error { return tx.AddInvoiceLine(ctx, line2) }); !errors.Is(err, enrollment.ErrExists) {
		t.Errorf("an invoice line added twice: %v, want ErrExists", err)
	}
	{
		invs, err := s.Invoices(ctx, f.Provider.ID, sep)
		if err != nil {
			t.Fatal(err)
		}
		if len(invs) != 2 || invs[0].Kind != enrollment.AdvanceInvoice || !invs[0].Amount.Equal(funding.MustMoney("1200.15")) ||
			invs[0].Lines != 2 || invs[1].Lines != 1 || invs[0].Month != sep || invs[0].Municipality != "mo-1" {
			t.Errorf("Invoices = %+v", invs)
		}
		if all, _ := s.Invoices(ctx, uuid.Nil, sep); len(all) != 2 {
			t.Errorf("Invoices(all) = %d", len(all))
		}
		if none, _ := s.Invoices(ctx, uuid.Nil, sep.Next()); len(none) != 0 {
			t.Errorf("Invoices(next month) = %d", len(none))
		}
	}

	// A second rating of a contract replaces the first; a program's
	// ratings come with whether their contracts are closed.
	InTx(t, s, func(tx enrollment.Tx) error {
		if err := tx.SaveRating(ctx, k1.ID, enrollment.Rating{Results: 80, Staff: 90, Means: 70, Satisfaction: 100}, t0); err != nil {
			return err
		}
		return tx.SaveRating(ctx, k1.ID, enrollment.Rating{Results: 60, Staff: 90, Means: 70, Satisfaction: 100}, t0.Add(time.Hour))
	})
	InTx(t, s, func(tx enrollment.Tx) error {
		got, err := tx.ProgramRatings(ctx, k1.ProgramID)
		want := []enrollment.ScoredRating{{Rating: enrollment.Rating{Results: 60, Staff: 90, Means: 70, Satisfaction: 100}, Closed: k1.Status == enrollment.Closed}}
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("ProgramRatings = %+v, %v; want %+v", got, err, want)
		}
		if none, err := tx.ProgramRatings(ctx, uuid.Must(uuid.NewV7())); err != nil || len(none) != 0 {
			t.Errorf("ProgramRatings of a program without ratings = %+v, %v", none, err)
		}
		if own, err := tx.ContractRating(ctx, k1.ID); err != nil || own != want[0].Rating {
			t.Errorf("ContractRating = %+v, %v; want the second rating %+v", own, err, want[0].Rating)
		}
		if _, err := tx.ContractRating(ctx, uuid.Must(uuid.NewV7())); !errors.Is(err, enrollment.ErrNotFound) {
			t.Errorf("ContractRating of a contract never rated: %v, want ErrNotFound", err)
		}
		return nil
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

// testPager: the pages of contract and certificate ids, in id order.
func testPager(t *testing.T, s enrollment.Store) {
	ctx := context.Background()
	pager := s
	f := SaveOffer(t, s, "P", catalog.Certified)
	var live, closed []uuid.UUID
	var funded []uuid.UUID
	InTx(t, s, func(tx enrollment.Tx) error {
		for i := 0; i < 7; i++ {
			c := Child(t, "pager-"+string(rune('a'+i)))
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
			k := ContractFor(t, c, f, time.Now())
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
		page, err := pager.ContractIDs(ctx, []enrollment.Status{enrollment.Active, enrollment.Accepted}, after, 2)
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
	if ids, _ := pager.ContractIDs(ctx, []enrollment.Status{enrollment.Closed}, uuid.Nil, 100); !reflect.DeepEqual(ids, closed) {
		t.Errorf("ContractIDs(closed) = %v, want %v", ids, closed)
	}
	ids, err := pager.CertificateIDs(ctx, uuid.Nil, 3)
	if err != nil || !reflect.DeepEqual(ids, funded[:3]) {
		t.Errorf("CertificateIDs page 1 = %v, %v; want %v", ids, err, funded[:3])
	}
	ids, _ = pager.CertificateIDs(ctx, ids[len(ids)-1], 3)
	if !reflect.DeepEqual(ids, funded[3:]) {
		t.Errorf("CertificateIDs page 2 = %v, want %v", ids, funded[3:])
	}
}

// testIdempotency: a key is claimed once; later claims get its request
// hash and result.
func testIdempotency(t *testing.T, s enrollment.Store) {
	ctx := context.Background()
	InTx(t, s, func(tx enrollment.Tx) error {
		rec, claimed, err := tx.ClaimKey(ctx, "k1", "submit", "h1")
		if err != nil || !claimed || rec.Result != nil || rec.RequestHash != "h1" {
			t.Errorf("first ClaimKey = %+v, %v, %v", rec, claimed, err)
		}
		return tx.SaveResult(ctx, "k1", []byte(`{"id":1}`))
	})
	InTx(t, s, func(tx enrollment.Tx) error {
		rec, claimed, err := tx.ClaimKey(ctx, "k1", "submit", "h2")
		if err != nil || claimed || string(rec.Result) != `{"id":1}` || rec.RequestHash != "h1" || rec.Operation != "submit" {
			t.Errorf("second ClaimKey = %+v, %v, %v", rec, claimed, err)
		}
		if err := tx.SaveResult(ctx, "nope", nil); !errors.Is(err, enrollment.ErrNotFound) {
			t.Errorf("SaveResult(unknown) = %v", err)
		}
		return nil
	})
}

// testCloseLog: LastClose is ErrNotFound before the first close, then the
// latest month recorded, whatever the order they were recorded in; a month
// recorded again changes nothing.
func testCloseLog(t *testing.T, s enrollment.Store) {
	ctx := context.Background()
	at := time.Date(2025, 10, 1, 9, 0, 0, 0, time.UTC)
	sep, oct := funding.Month{Year: 2025, Month: time.September}, funding.Month{Year: 2025, Month: time.October}
	InTx(t, s, func(tx enrollment.Tx) error {
		if m, err := tx.LastClose(ctx); !errors.Is(err, enrollment.ErrNotFound) {
			t.Errorf("LastClose before the first = %v, %v; want ErrNotFound", m, err)
		}
		return nil
	})
	for _, m := range []funding.Month{oct, sep, oct} {
		InTx(t, s, func(tx enrollment.Tx) error { return tx.RecordClose(ctx, m, at) })
	}
	InTx(t, s, func(tx enrollment.Tx) error {
		if m, err := tx.LastClose(ctx); err != nil || m != oct {
			t.Errorf("LastClose = %v, %v; want %v", m, err, oct)
		}
		return nil
	})
}

// testRollback: a closure's error rolls back everything it wrote and
// comes back unchanged; a cancelled context stops InTx.
func testRollback(t *testing.T, s enrollment.Store) {
	ctx := context.Background()
	InTx(t, s, func(tx enrollment.Tx) error { return tx.EnsureCounter(ctx, "c", 10) })
	boom := errors.New("boom")
	c := Child(t, "p-rollback")
	err := TryTx(s, func(tx enrollment.Tx) error {
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
	InTx(t, s, func(tx enrollment.Tx) error {
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
	if err := TryTx(s, func(tx enrollment.Tx) error {
		_, err := tx.Certificate(ctx, newID(t))
		return err
	}); !errors.Is(err, enrollment.ErrNotFound) {
		t.Errorf("InTx(not found) = %v", err)
	}
	// A cancelled context stops InTx.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := s.InTx(cctx, func(context.Context, enrollment.Tx) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("InTx(cancelled) = %v", err)
	}
}

// TestRefusalsKeepTheTransaction checks that every ErrExists or
// ErrCounterFull leaves the transaction usable (on PostgreSQL a failed
// statement would abort it): services handle these and go on.
func testRefusalsKeepTheTransaction(t *testing.T, s enrollment.Store) {
	ctx := context.Background()
	f := SaveOffer(t, s, "R", catalog.Certified)
	c := Child(t, "p-refusals")
	other := Child(t, "p-refusals-2")
	t0 := time.Date(2025, 9, 10, 12, 0, 0, 0, time.UTC)
	k1 := ContractFor(t, c, f, t0)
	sep := funding.Month{Year: 2025, Month: time.September}
	line := enrollment.InvoiceLine{ContractID: k1.ID, Municipality: "mo-1", ProviderID: f.Provider.ID, Month: sep,
		Kind: enrollment.FinalInvoice, Amount: funding.MustMoney("10.00")}
	p := enrollment.PostingRecord{ID: newID(t), CertificateID: c.ID, Period: SchoolYear, At: t0, Actor: "a", Rule: "r",
		Posting: funding.Posting{Kind: funding.Grant, Amount: funding.MustMoney("1.00")}}
	exists := func(what string, err error) {
		t.Helper()
		if !errors.Is(err, enrollment.ErrExists) {
			t.Errorf("%s: %v, want ErrExists", what, err)
		}
	}
	InTx(t, s, func(tx enrollment.Tx) error {
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
		exists("live contract", tx.InsertContract(ctx, ContractFor(t, c, f, t0)))
		k2 := ContractFor(t, c, f, t0)
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
	{
		invs, err := s.Invoices(ctx, f.Provider.ID, sep)
		if err != nil || len(invs) != 1 || invs[0].Lines != 1 || !invs[0].Amount.Equal(line.Amount) {
			t.Errorf("Invoices after a repeated line = %+v, %v", invs, err)
		}
	}
	InTx(t, s, func(tx enrollment.Tx) error {
		got, err := tx.Certificate(ctx, other.ID)
		if err == nil && got.Number != other.Number {
			t.Errorf("a refused update changed the number")
		}
		return err
	})
}

// testCounterTakeRace: 200 concurrent Takes of one seat each from 15 take
// exactly 15.
func testCounterTakeRace(t *testing.T, s enrollment.Store) {
	ctx := context.Background()
	const workers, limit = 200, 15
	InTx(t, s, func(tx enrollment.Tx) error { return tx.EnsureCounter(ctx, "seats:g", limit) })
	var ok, full atomic.Int64
	var other sync.Map
	Concurrently(workers, func(i int) {
		err := TryTx(s, func(tx enrollment.Tx) error { return tx.Take(ctx, "seats:g", 1) })
		switch {
		case err == nil:
			ok.Add(1)
		case errors.Is(err, enrollment.ErrCounterFull):
			full.Add(1)
		default:
			other.Store(i, err)
		}
	})
	other.Range(func(k, v any) bool { t.Errorf("worker %v: %v", k, v); return true })
	if ok.Load() != limit || full.Load() != workers-limit {
		t.Errorf("took %d, full %d; want %d and %d", ok.Load(), full.Load(), limit, workers-limit)
	}
	InTx(t, s, func(tx enrollment.Tx) error {
		c, err := tx.Counter(ctx, "seats:g")
		if c.Used != limit {
			t.Errorf("used = %d, want %d", c.Used, limit)
		}
		return err
	})
}

// testMoneyCounterRace: concurrent Takes of random amounts never pass the
// cap, and the use is the sum of those that succeeded.
func testMoneyCounterRace(t *testing.T, s enrollment.Store) {
	ctx := context.Background()
	const workers = 200
	limit := funding.MustMoney("100000.00").Kopecks()
	InTx(t, s, func(tx enrollment.Tx) error { return tx.EnsureCounter(ctx, "budget:mo-1", limit) })
	var taken atomic.Int64
	var failed sync.Map
	Concurrently(workers, func(i int) {
		n := 1 + rand.Int64N(limit/50) // about 100 of them fit
		err := TryTx(s, func(tx enrollment.Tx) error { return tx.Take(ctx, "budget:mo-1", n) })
		switch {
		case err == nil:
			taken.Add(n)
		case !errors.Is(err, enrollment.ErrCounterFull):
			failed.Store(i, err)
		}
	})
	failed.Range(func(k, v any) bool { t.Errorf("worker %v: %v", k, v); return true })
	InTx(t, s, func(tx enrollment.Tx) error {
		c, err := tx.Counter(ctx, "budget:mo-1")
		if c.Used != taken.Load() || c.Used > limit {
			t.Errorf("used = %d, taken %d, limit %d", c.Used, taken.Load(), limit)
		}
		return err
	})
}

// testClaimKeyRace: one of many concurrent claims of a key wins; the
// others see its committed result.
func testClaimKeyRace(t *testing.T, s enrollment.Store) {
	ctx := context.Background()
	const workers = 30
	var claimed atomic.Int64
	var failed sync.Map
	Concurrently(workers, func(i int) {
		err := TryTx(s, func(tx enrollment.Tx) error {
			rec, ok, err := tx.ClaimKey(ctx, "same-key", "submit", "h")
			if err != nil {
				return err
			}
			if ok {
				claimed.Add(1)
				return tx.SaveResult(ctx, "same-key", []byte("done"))
			}
			if string(rec.Result) != "done" {
				t.Errorf("a loser saw %+v: the winner's result should be committed", rec)
			}
			return nil
		})
		if err != nil {
			failed.Store(i, err)
		}
	})
	failed.Range(func(k, v any) bool { t.Errorf("worker %v: %v", k, v); return true })
	if claimed.Load() != 1 {
		t.Errorf("claimed %d times, want exactly once", claimed.Load())
	}
}

// testQueuePositionsRace: certificates queued at once at the same instant
// get distinct positions.
func testQueuePositionsRace(t *testing.T, s enrollment.Store) {
	ctx := context.Background()
	const workers = 25
	at := time.Date(2025, 1, 10, 9, 0, 0, 0, time.UTC) // one instant for all: a fixed clock
	positions := make([]int, workers)
	var failed sync.Map
	Concurrently(workers, func(i int) {
		err := s.InTx(ctx, func(ctx context.Context, tx enrollment.Tx) error {
			id := newID(t)
			if err := tx.Enqueue(ctx, enrollment.QueueEntry{Queue: "adult-quota", CertificateID: id, EnqueuedAt: at}); err != nil {
				return err
			}
			pos, err := tx.QueuePosition(ctx, "adult-quota", id)
			positions[i] = pos
			return err
		})
		if err != nil {
			failed.Store(i, err)
		}
	})
	failed.Range(func(k, v any) bool { t.Errorf("worker %v: %v", k, v); return true })
	seen := map[int]bool{}
	for _, p := range positions {
		if p < 1 || p > workers || seen[p] {
			t.Errorf("positions %v are not a permutation of 1..%d", positions, workers)
			break
		}
		seen[p] = true
	}
}

// testNoLostUpdate runs concurrent read-modify-writes of one account through
// InTx, each under the lock of its certificate (as the services run them),
// each call adding 1.00 and one posting of its own. InTx may run a closure
// more than once, and may give up (ErrContention) past its retry bound: a
// call that succeeds must have exactly one effect however often its closure
// ran, and one that fails none.
func testNoLostUpdate(t *testing.T, s enrollment.Store) {
	ctx := context.Background()
	c := Child(t, "p-lost-update")
	InTx(t, s, func(tx enrollment.Tx) error {
		if err := tx.InsertCertificate(ctx, c); err != nil {
			return err
		}
		return tx.SaveAccount(ctx, enrollment.AccountState{CertificateID: c.ID, Period: SchoolYear})
	})
	const workers, each = 8, 10
	one := funding.MustMoney("1.00")
	var calls, runs, done atomic.Int64
	var failed sync.Map
	Concurrently(workers, func(i int) {
		for range each {
			p := enrollment.PostingRecord{ID: newID(t), CertificateID: c.ID, Period: SchoolYear, At: time.Now(), Actor: "test", Rule: "grant",
				Posting: funding.Posting{Kind: funding.Grant, Amount: one}}
			calls.Add(1)
			err := s.InTx(ctx, func(ctx context.Context, tx enrollment.Tx) error {
				runs.Add(1)
				if _, err := tx.LockCertificate(ctx, c.ID); err != nil {
					return err
				}
				a, err := tx.Account(ctx, c.ID, SchoolYear)
				if err != nil {
					return err
				}
				a.Account.Nominal = a.Account.Nominal.Add(one)
				a.Account.Balance = a.Account.Balance.Add(one)
				if err := tx.SaveAccount(ctx, a); err != nil {
					return err
				}
				return tx.AppendPosting(ctx, p)
			})
			switch {
			case err == nil:
				done.Add(1)
			case !errors.Is(err, enrollment.ErrContention):
				failed.Store(i, err)
			}
		}
	})
	failed.Range(func(k, v any) bool { t.Errorf("worker %v: %v", k, v); return true })
	if done.Load() == 0 {
		t.Fatal("no call succeeded")
	}
	InTx(t, s, func(tx enrollment.Tx) error {
		a, err := tx.Account(ctx, c.ID, SchoolYear)
		if err != nil {
			return err
		}
		if want := one.MulInt(done.Load()); !a.Account.Nominal.Equal(want) {
			t.Errorf("nominal = %s after %d calls succeeded: an update was lost or applied twice", a.Account.Nominal, done.Load())
		}
		ps, err := tx.Postings(ctx, c.ID, SchoolYear)
		if int64(len(ps)) != done.Load() {
			t.Errorf("%d postings after %d calls succeeded", len(ps), done.Load())
		}
		return err
	})
	t.Logf("%d calls, %d succeeded, %d closures run", calls.Load(), done.Load(), runs.Load())
}

// testParameters: versions of a parameter are appended with increasing
// versions, read back whole in that order, and never replace one another;
// a rolled-back version leaves nothing.
func testParameters(t *testing.T, s enrollment.Store) {
	ctx := context.Background()
	at := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	in := []enrollment.Parameter{
		{Name: "advance_share", From: funding.MustDate(2026, time.March, 1), Value: "0.7", Actor: "regional:ops", Reason: "приказ № 12", At: at},
		{Name: "children.min_age", Scope: "mun-1", From: funding.MustDate(2026, time.February, 1), Value: "6", Actor: "municipality:mun-1", Reason: "решение", At: at.Add(time.Minute)},
		{Name: "advance_share", From: funding.MustDate(2026, time.March, 1), Value: "0.75", Actor: "regional:ops", Reason: "исправление", At: at.Add(2 * time.Minute)},
	}
	var stored []enrollment.Parameter
	InTx(t, s, func(tx enrollment.Tx) error {
		for _, p := range in[:2] {
			got, err := tx.AddParameter(ctx, p)
			if err != nil {
				return err
			}
			stored = append(stored, got)
		}
		return nil
	})
	if err := TryTx(s, func(tx enrollment.Tx) error {
		if _, err := tx.AddParameter(ctx, in[2]); err != nil {
			return err
		}
		return errors.New("roll back")
	}); err == nil {
		t.Fatal("the rolled-back transaction reported no error")
	}
	InTx(t, s, func(tx enrollment.Tx) error {
		got, err := tx.AddParameter(ctx, in[2])
		stored = append(stored, got)
		return err
	})
	for i := 1; i < len(stored); i++ {
		if stored[i].Version <= stored[i-1].Version {
			t.Errorf("version %d after %d: versions must increase", stored[i].Version, stored[i-1].Version)
		}
	}
	InTx(t, s, func(tx enrollment.Tx) error {
		got, err := tx.Parameters(ctx)
		if err != nil {
			return err
		}
		if len(got) != len(in) {
			t.Fatalf("Parameters = %d versions, want %d: %+v", len(got), len(in), got)
		}
		for i, w := range in {
			g := got[i]
			if g.Version != stored[i].Version || g.Name != w.Name || g.Scope != w.Scope || g.From != w.From || g.Value != w.Value ||
				g.Actor != w.Actor || g.Reason != w.Reason || !g.At.Equal(w.At) {
				t.Errorf("version %d:\n got %+v\nwant %+v", i, g, w)
			}
		}
		return nil
	})
}

// testHoursAccounts: a certificate has no hours account until one is
// saved; it reads back per period as saved; the store refuses one that
// holds more hours than it has; Categories lists every category with its
// hours.
func testHoursAccounts(t *testing.T, s enrollment.Store) {
	ctx := context.Background()
	c := Child(t, "p-hours")
	next := funding.CalendarYear(2027)
	InTx(t, s, func(tx enrollment.Tx) error {
		if err := tx.InsertCertificate(ctx, c); err != nil {
			return err
		}
		if err := tx.SaveCategory(ctx, certificate.Category{Code: "hours-6", HoursBase: 6, HoursExtra: 2, MaxCount: 10}); err != nil {
			return err
		}
		return tx.SaveCategory(ctx, certificate.Category{Code: "money", Nominal: funding.MustMoney("100.00")})
	})
	InTx(t, s, func(tx enrollment.Tx) error {
		if _, err := tx.HoursAccount(ctx, c.ID, SchoolYear); !errors.Is(err, enrollment.ErrNotFound) {
			t.Errorf("HoursAccount before any = %v, want ErrNotFound", err)
		}
		for _, a := range []funding.HoursAccount{{Base: 6, Extra: 2}, {Base: 6, Extra: 2, UsedBase: 4, UsedExtra: 2}} {
			if err := tx.SaveHoursAccount(ctx, c.ID, SchoolYear, a); err != nil {
				return err
			}
			if got, err := tx.HoursAccount(ctx, c.ID, SchoolYear); err != nil || got != a {
				t.Errorf("HoursAccount = %+v, %v; want %+v", got, err, a)
			}
		}
		if err := tx.SaveHoursAccount(ctx, c.ID, next, funding.HoursAccount{Base: 4}); err != nil {
			return err
		}
		if got, _ := tx.HoursAccount(ctx, c.ID, SchoolYear); got.Base != 6 {
			t.Errorf("another period's account changed this one: %+v", got)
		}
		cats, err := tx.Categories(ctx)
		if err != nil {
			return err
		}
		if len(cats) != 2 || cats[0].Code != "hours-6" || cats[0].HoursBase != 6 || cats[0].HoursExtra != 2 || cats[1].Code != "money" {
			t.Errorf("Categories = %+v", cats)
		}
		return nil
	})
	if err := TryTx(s, func(tx enrollment.Tx) error {
		return tx.SaveHoursAccount(ctx, c.ID, SchoolYear, funding.HoursAccount{Base: 6, Extra: 2, UsedBase: 7})
	}); err == nil {
		t.Error("an account holding 7 of its 6 base hours was stored")
	}
}

// testLists: the cabinets' lists read newest first, a page at a time, and
// each filter keeps exactly its rows: a guardian's certificates (recorded
// on the certificate or linked), the person's own adult one, a
// municipality's, a status; a provider's, a certificate's, a
// municipality's contracts, by status; and a refusal's reason reads back.
func testLists(t *testing.T, s enrollment.Store) {
	ctx := context.Background()
	mine := SaveOffer(t, s, "Mine", catalog.Certified)
	other := SaveOffer(t, s, "Other", catalog.Certified)
	recorded := Child(t, "list-child-1") // guardian-list-child-1 on the certificate
	linked := Child(t, "list-child-2")
	linked.GuardianID = "someone-else"
	linked.Municipality = "mo-2"
	stranger := Child(t, "list-child-3")
	stranger.Status = certificate.Suspended
	adult := Adult(t, "guardian-list-child-1", funding.MustDate(2025, time.March, 3))
	var ks []enrollment.Contract
	InTx(t, s, func(tx enrollment.Tx) error {
		for _, c := range []certificate.Certificate{recorded, linked, stranger, adult} {
			if err := tx.InsertCertificate(ctx, c); err != nil {
				return err
			}
		}
		if err := tx.LinkGuardian(ctx, enrollment.GuardianLink{GuardianID: "guardian-list-child-1", ChildID: "list-child-2",
			RecordedAt: time.Date(2025, 9, 1, 9, 0, 0, 0, time.UTC), Actor: "municipality:mo-2"}); err != nil {
			return err
		}
		for i, c := range []certificate.Certificate{recorded, linked, stranger, adult} {
			f := mine
			if i == 2 {
				f = other
			}
			k := ContractFor(t, c, f, time.Date(2025, 9, 10, 9, 0, i, 0, time.UTC))
			k.Municipality, k.Scheme = c.Municipality, c.Scheme
			if i == 1 {
				k.Status, k.Reason = enrollment.Refused, "Группа набрана:\nпредложим другую."
			}
			if err := tx.InsertContract(ctx, k); err != nil {
				return err
			}
			ks = append(ks, k)
		}
		return nil
	})
	ids := func(cs []certificate.Certificate) []uuid.UUID {
		out := []uuid.UUID{}
		for _, c := range cs {
			out = append(out, c.ID)
		}
		return out
	}
	for _, tc := range []struct {
		name string
		f    enrollment.CertificateFilter
		want []uuid.UUID
	}{
		{"a guardian's, newest first", enrollment.CertificateFilter{Holder: "guardian-list-child-1", Limit: 10}, []uuid.UUID{adult.ID, linked.ID, recorded.ID}},
		{"a guardian's children's", enrollment.CertificateFilter{Holder: "guardian-list-child-1", Scheme: certificate.Supplementary, Limit: 10}, []uuid.UUID{linked.ID, recorded.ID}},
		{"a page", enrollment.CertificateFilter{Holder: "guardian-list-child-1", Limit: 2}, []uuid.UUID{adult.ID, linked.ID}},
		{"after", enrollment.CertificateFilter{Holder: "guardian-list-child-1", After: linked.ID, Limit: 10}, []uuid.UUID{recorded.ID}},
		{"a child is no guardian", enrollment.CertificateFilter{Holder: "list-child-1", Limit: 10}, []uuid.UUID{}},
		{"a municipality's", enrollment.CertificateFilter{Municipality: "mo-2", Limit: 10}, []uuid.UUID{linked.ID}},
		{"by status", enrollment.CertificateFilter{Status: certificate.Suspended, Limit: 10}, []uuid.UUID{stranger.ID}},
	} {
		got, err := s.Certificates(ctx, tc.f)
		if err != nil || !reflect.DeepEqual(ids(got), tc.want) {
			t.Errorf("Certificates, %s = %v, %v; want %v", tc.name, ids(got), err, tc.want)
		}
	}
	got, err := s.Certificates(ctx, enrollment.CertificateFilter{Holder: "guardian-list-child-1", Scheme: certificate.DigitalSkills, Limit: 1})
	if err != nil || len(got) != 1 || !reflect.DeepEqual(got[0], adult) {
		t.Errorf("Certificates, an adult's own = %+v, %v; want it as inserted", got, err)
	}

	cids := func(ks []enrollment.Contract) []uuid.UUID {
		out := []uuid.UUID{}
		for _, k := range ks {
			out = append(out, k.ID)
		}
		return out
	}
	for _, tc := range []struct {
		name string
		f    enrollment.ContractFilter
		want []uuid.UUID
	}{
		{"a provider's, newest first", enrollment.ContractFilter{Provider: mine.Provider.ID, Limit: 10}, []uuid.UUID{ks[3].ID, ks[1].ID, ks[0].ID}},
		{"a page", enrollment.ContractFilter{Provider: mine.Provider.ID, Limit: 1, After: ks[3].ID}, []uuid.UUID{ks[1].ID}},
		{"by status", enrollment.ContractFilter{Provider: mine.Provider.ID, Statuses: []enrollment.Status{enrollment.Requested}, Limit: 10}, []uuid.UUID{ks[3].ID, ks[0].ID}},
		{"a certificate's", enrollment.ContractFilter{Certificate: recorded.ID, Limit: 10}, []uuid.UUID{ks[0].ID}},
		{"a municipality's", enrollment.ContractFilter{Municipality: "mo-2", Limit: 10}, []uuid.UUID{ks[1].ID}},
		{"another provider's", enrollment.ContractFilter{Provider: other.Provider.ID, Scheme: certificate.Supplementary, Limit: 10}, []uuid.UUID{ks[2].ID}},
		{"the adults'", enrollment.ContractFilter{Scheme: certificate.DigitalSkills, Limit: 10}, []uuid.UUID{ks[3].ID}},
	} {
		got, err := s.Contracts(ctx, tc.f)
		if err != nil || !reflect.DeepEqual(cids(got), tc.want) {
			t.Errorf("Contracts, %s = %v, %v; want %v", tc.name, cids(got), err, tc.want)
		}
	}
	refused, err := s.Contracts(ctx, enrollment.ContractFilter{Statuses: []enrollment.Status{enrollment.Refused}, Limit: 1})
	if err != nil || len(refused) != 1 || !sameContract(refused[0], ks[1]) || refused[0].Reason != ks[1].Reason {
		t.Errorf("Contracts, the refused one = %+v, %v; want it as inserted, reason included", refused, err)
	}
}
