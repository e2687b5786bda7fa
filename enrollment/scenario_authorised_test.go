package enrollment_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/funding"
	"github.com/edufund/edufund/storage"
	"github.com/edufund/edufund/storage/storagetest"
)

// TestAuthorisedOrganisation: an organisation the municipality authorised
// issues certificates on paper applications through Issue's eligibility,
// and activates them only where authorised to; everything outside its
// authorisation (no authorisation, another municipality, before or after
// its days, revoked, another status move) is refused in the service and
// leaves no certificate; it reads only the certificates it registered.
func TestAuthorisedOrganisation(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		r := storagetest.NewRegion(t, db, storagetest.RegionOptions{})
		r.At(2025, time.October, 6)
		today := r.Service.Today()
		mun, regional := enrollment.AsMunicipality(storagetest.Municipality), enrollment.AsRegional("op")
		orgID := uuid.Must(uuid.NewV7())
		org := enrollment.AsAuthorised(orgID)
		issue := func(i int, municipality string) (enrollment.IssueResult, error) {
			return r.Service.Issue(ctx, r.Key(), enrollment.IssueRequest{Holder: holder(i), GuardianID: "parent-1",
				Municipality: municipality, Category: "city", By: org})
		}
		grant := func(by enrollment.Caller, municipality string, activate bool, from, to funding.Date) (enrollment.Authorisation, error) {
			return r.Service.Authorise(ctx, r.Key(), enrollment.AuthoriseRequest{OrganisationID: orgID, Name: "МФЦ «Мои документы»",
				Municipality: municipality, MayActivate: activate, From: from, To: to, By: by})
		}
		certs := func() int {
			p, err := r.Service.Certificates(ctx, mun, enrollment.CertificateFilter{})
			require.NoError(t, err)
			return len(p.Certificates)
		}
		before := certs()

		_, err := issue(1, "")
		require.ErrorIs(t, err, enrollment.ErrNotAuthorised, "no authorisation yet")

		// Granting: a municipality for itself only, with valid days.
		_, err = grant(mun, "elsewhere", false, today, funding.Date{})
		require.ErrorIs(t, err, enrollment.ErrForbidden)
		_, err = grant(mun, storagetest.Municipality, false, today, today.AddDays(-1))
		require.ErrorContains(t, err, "to")
		_, err = grant(enrollment.AsProvider(r.Provider.ID), storagetest.Municipality, false, today, funding.Date{})
		require.ErrorIs(t, err, enrollment.ErrForbidden)
		_, err = grant(org, storagetest.Municipality, true, today, funding.Date{})
		require.ErrorIs(t, err, enrollment.ErrForbidden, "an organisation does not authorise itself")
		future, err := grant(mun, storagetest.Municipality, true, today.AddDays(1), funding.Date{})
		require.NoError(t, err)
		_, err = issue(1, "")
		require.ErrorIs(t, err, enrollment.ErrNotAuthorised, "an authorisation from tomorrow")

		issuing, err := grant(mun, storagetest.Municipality, false, today.AddDays(-30), today)
		require.NoError(t, err)
		res, err := issue(1, "")
		require.NoError(t, err)
		c := res.Certificate
		require.Equal(t, certificate.Issued, c.Status)

		// Same eligibility as Issue: a second certificate, another
		// municipality are refused.
		_, err = r.Service.Issue(ctx, r.Key(), enrollment.IssueRequest{Holder: c.Holder, Category: "city", By: org})
		require.ErrorIs(t, err, enrollment.ErrIneligible)
		_, err = issue(2, "elsewhere")
		require.ErrorIs(t, err, enrollment.ErrNotAuthorised)
		old := holder(3)
		old.BirthDate = funding.MustDate(1990, time.January, 1)
		_, err = r.Service.Issue(ctx, r.Key(), enrollment.IssueRequest{Holder: old, Category: "city", By: org})
		require.ErrorIs(t, err, enrollment.ErrIneligible)

		// Activation needs an authorisation that allows it, in force today.
		_, err = r.Service.ChangeStatus(ctx, r.Key(), c.ID, enrollment.ActivateCertificate, org)
		require.ErrorIs(t, err, enrollment.ErrNotAuthorised)
		_, err = r.Service.ChangeStatus(ctx, r.Key(), c.ID, enrollment.SuspendCertificate, org)
		require.ErrorIs(t, err, enrollment.ErrForbidden)
		activating, err := grant(regional, storagetest.Municipality, true, today, funding.Date{})
		require.NoError(t, err)
		got, err := r.Service.ChangeStatus(ctx, r.Key(), c.ID, enrollment.ActivateCertificate, org)
		require.NoError(t, err)
		require.Equal(t, certificate.Active, got.Status)
		_, err = r.Service.ChangeStatus(ctx, r.Key(), c.ID, enrollment.SuspendCertificate, org)
		require.ErrorIs(t, err, enrollment.ErrForbidden)

		// The events name the organisation as their actor.
		var actors []string
		for _, e := range published(t, r, enrollment.EventFilter{CertificateID: c.ID}) {
			actors = append(actors, string(e.Type)+" "+e.Actor)
		}
		require.Equal(t, []string{"certificate.issued authorised:" + orgID.String(), "certificate.activated authorised:" + orgID.String()}, actors)

		// Reads: its own registration, never another certificate.
		_, err = r.Service.Cabinet(ctx, org, c.ID)
		require.NoError(t, err)
		_, err = r.Service.Cabinet(ctx, org, r.Child(5).ID)
		require.ErrorIs(t, err, enrollment.ErrNotFound)
		_, err = r.Service.Cabinet(ctx, enrollment.AsAuthorised(uuid.Must(uuid.NewV7())), c.ID)
		require.ErrorIs(t, err, enrollment.ErrNotFound)

		// Lists: the municipality its own, the organisation its own.
		list, err := r.Service.Authorisations(ctx, mun, "")
		require.NoError(t, err)
		require.Len(t, list, 3)
		mine, err := r.Service.Authorisations(ctx, enrollment.AsAuthorised(uuid.Must(uuid.NewV7())), "")
		require.NoError(t, err)
		require.Empty(t, mine)
		_, err = r.Service.Authorisations(ctx, enrollment.AsHolder("parent-1"), "")
		require.ErrorIs(t, err, enrollment.ErrForbidden)

		// Revoked, and out of its days: refused at once.
		for _, a := range []enrollment.Authorisation{future, issuing, activating} {
			rev, err := r.Service.RevokeAuthorisation(ctx, r.Key(), a.ID, mun)
			require.NoError(t, err)
			require.False(t, rev.RevokedAt.IsZero())
		}
		_, err = r.Service.RevokeAuthorisation(ctx, r.Key(), issuing.ID, enrollment.AsMunicipality("elsewhere"))
		require.ErrorIs(t, err, enrollment.ErrNotFound)
		_, err = issue(4, "")
		require.ErrorIs(t, err, enrollment.ErrNotAuthorised)
		_, err = grant(mun, storagetest.Municipality, true, today.AddDays(-30), today.AddDays(-1))
		require.NoError(t, err)
		_, err = issue(4, "")
		require.ErrorIs(t, err, enrollment.ErrNotAuthorised, "an authorisation that ended yesterday")
		require.Equal(t, before+2, certs(), "only the organisation's one certificate and Child(5) were issued")
	})
}
