package storagetest

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/funding"
)

// testAuthorisations round-trips a municipality's authorisations of an
// organisation (open-ended and dated, revoked) with their filters, and the
// certificates an organisation registered (issue 30, item 3).
func testAuthorisations(t *testing.T, s enrollment.Store) {
	ctx := context.Background()
	org, other := uuid.Must(uuid.NewV7()), uuid.Must(uuid.NewV7())
	at := time.Date(2025, 9, 1, 9, 0, 0, 0, time.UTC)
	open := enrollment.Authorisation{ID: uuid.Must(uuid.NewV7()), OrganisationID: org, Name: `МФЦ "Центральный" & <№1>`,
		Municipality: "auth-city", MayActivate: true, From: funding.MustDate(2025, 9, 1), GrantedBy: "municipality:auth-city", GrantedAt: at}
	dated := enrollment.Authorisation{ID: uuid.Must(uuid.NewV7()), OrganisationID: org, Name: "Школа №5",
		Municipality: "auth-town", From: funding.MustDate(2025, 9, 1), To: funding.MustDate(2026, 5, 31), GrantedBy: "regional:r", GrantedAt: at}
	theirs := enrollment.Authorisation{ID: uuid.Must(uuid.NewV7()), OrganisationID: other, Name: "Детский сад",
		Municipality: "auth-city", From: funding.MustDate(2025, 9, 1), GrantedBy: "regional:r", GrantedAt: at}
	InTx(t, s, func(tx enrollment.Tx) error {
		if _, err := tx.Authorisation(ctx, open.ID); !errors.Is(err, enrollment.ErrNotFound) {
			t.Errorf("Authorisation before any: %v, want ErrNotFound", err)
		}
		for _, a := range []enrollment.Authorisation{open, dated, theirs} {
			if err := tx.SaveAuthorisation(ctx, a); err != nil {
				return err
			}
		}
		return nil
	})
	open.RevokedBy, open.RevokedAt = "municipality:auth-city", at.Add(time.Hour)
	InTx(t, s, func(tx enrollment.Tx) error { return tx.SaveAuthorisation(ctx, open) })
	InTx(t, s, func(tx enrollment.Tx) error {
		back, err := tx.Authorisation(ctx, open.ID)
		if err != nil {
			return err
		}
		if !reflect.DeepEqual(back, open) {
			t.Errorf("revoked authorisation:\n got %+v\nwant %+v", back, open)
		}
		for _, c := range []struct {
			org  uuid.UUID
			mun  string
			want []enrollment.Authorisation
		}{
			{org, "", []enrollment.Authorisation{open, dated}},
			{org, "auth-town", []enrollment.Authorisation{dated}},
			{uuid.Nil, "auth-city", []enrollment.Authorisation{open, theirs}},
			{other, "auth-town", []enrollment.Authorisation{}},
		} {
			got, err := tx.Authorisations(ctx, c.org, c.mun)
			if err != nil {
				return err
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("Authorisations(%v, %q):\n got %+v\nwant %+v", c.org, c.mun, got, c.want)
			}
		}
		return nil
	})
	r := enrollment.Registration{CertificateID: uuid.Must(uuid.NewV7()), OrganisationID: org, AuthorisationID: dated.ID,
		ReceivedOn: funding.MustDate(2025, 9, 2)}
	InTx(t, s, func(tx enrollment.Tx) error {
		if _, err := tx.Registration(ctx, r.CertificateID); !errors.Is(err, enrollment.ErrNotFound) {
			t.Errorf("Registration before any: %v, want ErrNotFound", err)
		}
		return tx.RecordRegistration(ctx, r)
	})
	if err := TryTx(s, func(tx enrollment.Tx) error { return tx.RecordRegistration(ctx, r) }); !errors.Is(err, enrollment.ErrExists) {
		t.Errorf("second registration: %v, want ErrExists", err)
	}
	InTx(t, s, func(tx enrollment.Tx) error {
		back, err := tx.Registration(ctx, r.CertificateID)
		if err == nil && back != r {
			t.Errorf("registration: got %+v, want %+v", back, r)
		}
		return err
	})
}
