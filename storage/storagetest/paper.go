package storagetest

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/edufund/edufund/catalog"
	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/funding"
)

// testPaperAndSessions round-trips a group's weekly sessions and a
// contract's signed paper application (issue 30, items 2 and 10).
func testPaperAndSessions(t *testing.T, s enrollment.Store) {
	ctx := context.Background()
	f := SaveOffer(t, s, "Р", catalog.Certified)
	got := func() []catalog.Session {
		var o enrollment.Offer
		InTx(t, s, func(tx enrollment.Tx) error {
			var err error
			o, err = tx.Offer(ctx, f.Group.ID)
			return err
		})
		return o.Group.Sessions
	}
	if ss := got(); ss != nil {
		t.Errorf("a group saved without sessions reads %+v, want none", ss)
	}
	f.Group.Sessions = []catalog.Session{
		{Weekday: 1, Start: "15:00", End: "16:30", Place: `каб. 12, "Кванториум" & <зал>`},
		{Weekday: 7, Start: "10:00", End: "11:00"},
	}
	InTx(t, s, func(tx enrollment.Tx) error { return tx.SaveGroup(ctx, f.Group) })
	if ss := got(); !reflect.DeepEqual(ss, f.Group.Sessions) {
		t.Errorf("sessions:\n got %+v\nwant %+v", ss, f.Group.Sessions)
	}

	c := Child(t, "p-paper")
	InTx(t, s, func(tx enrollment.Tx) error { return tx.InsertCertificate(ctx, c) })
	k := ContractFor(t, c, f, time.Date(2025, 9, 10, 12, 0, 0, 0, time.UTC))
	InTx(t, s, func(tx enrollment.Tx) error { return tx.InsertContract(ctx, k) })
	p := enrollment.PaperApplication{ContractID: k.ID, ProviderID: f.Provider.ID, Number: "З-2025/017",
		SignedOn: funding.MustDate(2025, time.September, 12), RecordedAt: time.Date(2025, 9, 12, 9, 30, 0, 123456000, time.UTC), Actor: "provider:x"}
	InTx(t, s, func(tx enrollment.Tx) error {
		if _, err := tx.PaperApplication(ctx, k.ID); !errors.Is(err, enrollment.ErrNotFound) {
			t.Errorf("PaperApplication before any: %v, want ErrNotFound", err)
		}
		return tx.RecordPaperApplication(ctx, p)
	})
	if err := TryTx(s, func(tx enrollment.Tx) error { return tx.RecordPaperApplication(ctx, p) }); !errors.Is(err, enrollment.ErrExists) {
		t.Errorf("a paper application recorded twice: %v, want ErrExists", err)
	}
	InTx(t, s, func(tx enrollment.Tx) error {
		back, err := tx.PaperApplication(ctx, k.ID)
		if err != nil {
			return err
		}
		if !reflect.DeepEqual(back, p) {
			t.Errorf("paper application:\n got %+v\nwant %+v", back, p)
		}
		return nil
	})
}
