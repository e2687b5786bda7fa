package enrollment_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/enrollment/batch"
	"github.com/edufund/edufund/funding"
	"github.com/edufund/edufund/storage"
	"github.com/edufund/edufund/storage/storagetest"
)

// TestHolderProtection walks the holder's protection (seed 002): who may
// change it, what is refused as form, each change's event, the passphrase
// set and rotated as a provider meets it, and "by name" admitting only a
// provider the child has applied to before.
func TestHolderProtection(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		r := storagetest.NewRegion(t, db, storagetest.RegionOptions{})
		parent, provider := enrollment.AsHolder("parent-1"), enrollment.AsProvider(r.Provider.ID)
		c := r.Child(1)
		set := func(mode certificate.ProtectionMode, pass string, by enrollment.Caller) (certificate.Certificate, error) {
			return r.Service.SetProtection(ctx, r.Key(), enrollment.ProtectionRequest{CertificateID: c.ID, Mode: mode, Passphrase: pass, By: by})
		}
		stored := func() certificate.Protection {
			t.Helper()
			cab, err := r.Service.Cabinet(ctx, sys, c.ID)
			require.NoError(t, err)
			return cab.Certificate.Protection
		}
		byProvider := func(g uuid.UUID, name, pass string) (enrollment.Contract, error) {
			return r.Service.Submit(ctx, r.Key(), enrollment.SubmitRequest{GroupID: g, By: provider, Number: c.Number, FullName: name, Passphrase: pass})
		}

		// Refused: not the holder's side, or bad form; nothing changes.
		for _, tc := range []struct {
			name string
			mode certificate.ProtectionMode
			pass string
			by   enrollment.Caller
			err  error
		}{
			{"provider", certificate.ByName, "", provider, enrollment.ErrForbidden},
			{"municipality", certificate.ByName, "", enrollment.AsMunicipality(storagetest.Municipality), enrollment.ErrForbidden},
			{"regional operator", certificate.ByName, "", enrollment.AsRegional("op"), enrollment.ErrForbidden},
			{"auditor", certificate.ByName, "", enrollment.Caller{Role: enrollment.RoleAuditor, ID: "audit"}, enrollment.ErrForbidden},
			{"another family", certificate.ByName, "", enrollment.AsHolder("parent-2"), enrollment.ErrForbidden},
			{"unknown mode", "by_face", "", parent, funding.ErrInvalid},
			{"empty mode", "", "", parent, funding.ErrInvalid},
			{"passphrase without by_passphrase", certificate.ByName, "зелёный слон", parent, funding.ErrInvalid},
			{"by_passphrase without one", certificate.ByPassphrase, "", parent, funding.ErrInvalid},
			{"short passphrase", certificate.ByPassphrase, "кит", parent, funding.ErrInvalid},
		} {
			_, err := set(tc.mode, tc.pass, tc.by)
			require.ErrorIs(t, err, tc.err, tc.name)
		}
		require.Equal(t, certificate.Forbidden, stored().Mode)
		require.Empty(t, published(t, r, enrollment.EventFilter{CertificateID: c.ID,
			Types: []enrollment.EventType{enrollment.CertificateProtectionChanged, enrollment.CertificatePassphraseRotated}}))

		// Forbidden: no provider applies.
		g := r.NewGroup(5)
		_, err := byProvider(g.ID, c.Holder.FullName, "")
		require.ErrorIs(t, err, certificate.ErrProviderApplicationsForbidden)

		// By name: only a provider the child has applied to before.
		got, err := set(certificate.ByName, "", parent)
		require.NoError(t, err)
		require.Equal(t, certificate.ByName, got.Protection.Mode)
		_, err = byProvider(g.ID, c.Holder.FullName, "")
		require.ErrorIs(t, err, certificate.ErrUnknownProvider)
		var re *funding.RuleError
		require.ErrorAs(t, err, &re)
		require.Equal(t, certificate.CodeUnknownProvider, re.Code)
		_, err = byProvider(g.ID, "Чужой Человек", "")
		require.ErrorIs(t, err, certificate.ErrProtectionMismatch, "the name is checked first")
		first, err := r.Service.Submit(ctx, r.Key(), enrollment.SubmitRequest{CertificateID: c.ID, GroupID: g.ID, By: parent})
		require.NoError(t, err)
		_, err = r.Service.Withdraw(ctx, r.Key(), enrollment.ContractRequest{ContractID: first.ID, By: parent})
		require.NoError(t, err)
		k, err := byProvider(g.ID, "  иванов  пётр 1 ", "")
		require.NoError(t, err, "applied before (withdrawn): admitted")
		require.Equal(t, enrollment.Requested, k.Status)
		_, err = r.Service.Withdraw(ctx, r.Key(), enrollment.ContractRequest{ContractID: k.ID, By: parent})
		require.NoError(t, err)

		// A passphrase set, then rotated: the old one no longer opens it.
		got, err = set(certificate.ByPassphrase, "зелёный слон", parent)
		require.NoError(t, err)
		require.Equal(t, certificate.ByPassphrase, got.Protection.Mode)
		require.Empty(t, got.Protection.PassphraseHash, "the answer carries no hash")
		first1 := stored().PassphraseHash
		require.Contains(t, first1, "$argon2id$")
		_, err = set(certificate.ByPassphrase, "", parent) // asked again: nothing changes
		require.NoError(t, err)
		require.Equal(t, first1, stored().PassphraseHash)
		_, err = set(certificate.ByPassphrase, "синий кит 42", parent)
		require.NoError(t, err)
		require.NotEqual(t, first1, stored().PassphraseHash)
		_, err = byProvider(g.ID, "", "зелёный слон")
		require.ErrorIs(t, err, certificate.ErrWrongPassphrase)
		require.Equal(t, 1, stored().FailedAttempts)
		k, err = byProvider(g.ID, "", "синий кит 42")
		require.NoError(t, err)
		_, err = r.Service.Withdraw(ctx, r.Key(), enrollment.ContractRequest{ContractID: k.ID, By: parent})
		require.NoError(t, err)

		// Back to forbidden: the passphrase is forgotten.
		_, err = set(certificate.Forbidden, "", parent)
		require.NoError(t, err)
		require.Equal(t, certificate.Protection{Mode: certificate.Forbidden}, stored())
		_, err = set(certificate.ByPassphrase, "", parent)
		require.ErrorIs(t, err, funding.ErrInvalid, "coming back asks for a new passphrase")

		// Each change is one event, in order, with the holder as actor.
		es := published(t, r, enrollment.EventFilter{CertificateID: c.ID,
			Types: []enrollment.EventType{enrollment.CertificateProtectionChanged, enrollment.CertificatePassphraseRotated}})
		type change struct {
			Type          enrollment.EventType
			Before, After string
			Set           bool
		}
		var changes []change
		for _, e := range es {
			require.Equal(t, parent.Actor(), e.Actor)
			var p struct {
				Before, After string
				Set           bool `json:"passphrase_set"`
			}
			if len(e.Payload) > 0 {
				require.NoError(t, json.Unmarshal(e.Payload, &p))
			}
			changes = append(changes, change{e.Type, p.Before, p.After, p.Set})
		}
		require.Equal(t, []change{
			{enrollment.CertificateProtectionChanged, "forbidden", "by_name", false},
			{enrollment.CertificateProtectionChanged, "by_name", "by_passphrase", true},
			{enrollment.CertificatePassphraseRotated, "", "", false},
			{enrollment.CertificateProtectionChanged, "by_passphrase", "forbidden", false},
		}, changes)
	})
}

// TestConsentRecorded: the consent to the processing of personal data
// given with an application is kept on the contract with the
// application's time and read back; a bad version is refused as form
// before any rule; an application without one records none.
func TestConsentRecorded(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		r := storagetest.NewRegion(t, db, storagetest.RegionOptions{})
		parent := enrollment.AsHolder("parent-1")
		submit := func(c certificate.Certificate, version string) (enrollment.Contract, error) {
			return r.Service.Submit(ctx, r.Key(), enrollment.SubmitRequest{CertificateID: c.ID, GroupID: r.Group.ID, By: parent, ConsentVersion: version})
		}
		for _, bad := range []string{"ПД\x00", "   ", "v\n2", string(make([]byte, 41))} {
			_, err := submit(r.Child(9), bad)
			require.ErrorIs(t, err, funding.ErrInvalid, "%q", bad)
		}
		r.Clock.T = time.Date(2025, time.September, 3, 10, 15, 30, 123456000, time.UTC)
		k, err := submit(r.Child(1), " ПД-2025.1 ")
		require.NoError(t, err)
		want := enrollment.Consent{Version: "ПД-2025.1", At: r.Clock.T}
		require.Equal(t, want, k.Consent)
		back, err := r.Service.Contract(ctx, parent, k.ID)
		require.NoError(t, err)
		require.Equal(t, want.Version, back.Consent.Version)
		require.True(t, want.At.Equal(back.Consent.At), "at %s, want %s", back.Consent.At, want.At)

		none, err := submit(r.Child(2), "")
		require.NoError(t, err)
		back, err = r.Service.Contract(ctx, parent, none.ID)
		require.NoError(t, err)
		require.False(t, back.Consent.Given())
		require.True(t, back.Consent.At.IsZero())

		// The batches write it with the contract's row (pgfast on
		// PostgreSQL), each application with its own time.
		at := r.Clock.T.Add(-time.Minute)
		items := []batch.Item{
			{Key: r.Key(), At: at, Request: enrollment.SubmitRequest{CertificateID: r.Child(3).ID, GroupID: r.Group.ID, By: parent, ConsentVersion: "ПД-2025.2"}},
			{Key: r.Key(), At: at, Request: enrollment.SubmitRequest{CertificateID: r.Child(4).ID, GroupID: r.Group.ID, By: parent}},
		}
		res := batch.Submit(ctx, r.Service, items)
		for i, want := range []enrollment.Consent{{Version: "ПД-2025.2", At: at}, {}} {
			require.NoError(t, res[i].Err)
			require.False(t, res[i].Alone, "ran in the batch's transaction")
			back, err := r.Service.Contract(ctx, parent, res[i].Contract.ID)
			require.NoError(t, err)
			require.Equal(t, want.Version, back.Consent.Version)
			require.True(t, want.At.Equal(back.Consent.At), "batch %d: at %s, want %s", i, back.Consent.At, want.At)
		}
	})
}
