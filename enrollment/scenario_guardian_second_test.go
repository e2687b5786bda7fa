package enrollment_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/funding"
	"github.com/edufund/edufund/storage"
	"github.com/edufund/edufund/storage/storagetest"
)

// TestSecondGuardian: the guardian recorded on a child's certificate links
// a second guardian (the holder's consent), recorded with the time; the
// second guardian then lists the certificate and acts for it. No one else
// links: not the second guardian, not another family, not an official
// through this route; an adult's certificate has no guardians.
func TestSecondGuardian(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		r := storagetest.NewRegion(t, db, storagetest.RegionOptions{})
		mun := enrollment.AsMunicipality(storagetest.Municipality)
		first, second := enrollment.AsHolder("mother-1"), enrollment.AsHolder("father-1")
		res, err := r.Service.Issue(ctx, r.Key(), enrollment.IssueRequest{Holder: childHolder(1), GuardianID: "mother-1", Category: "city", By: mun})
		require.NoError(t, err)
		kid := res.Certificate
		add := func(by enrollment.Caller, guardian string) error {
			_, err := r.Service.AddSecondGuardian(ctx, r.Key(), enrollment.SecondGuardianRequest{CertificateID: kid.ID, GuardianID: guardian, By: by})
			return err
		}

		list := func(by enrollment.Caller) int {
			page, err := r.Service.Certificates(ctx, by, enrollment.CertificateFilter{})
			require.NoError(t, err)
			return len(page.Certificates)
		}
		require.Zero(t, list(second), "not linked yet")

		for _, tc := range []struct {
			name     string
			by       enrollment.Caller
			guardian string
			err      error
		}{
			{"an official", mun, "father-1", enrollment.ErrForbidden},
			{"another family", enrollment.AsHolder("stranger"), "father-1", enrollment.ErrNotFound},
			{"the guardian themselves", first, "mother-1", &funding.ValidationError{}},
			{"the child", first, kid.Holder.PersonID, &funding.ValidationError{}},
			{"a blank person", first, " ", &funding.ValidationError{}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				err := add(tc.by, tc.guardian)
				var ve *funding.ValidationError
				if _, ok := tc.err.(*funding.ValidationError); ok {
					require.ErrorAs(t, err, &ve)
					require.Equal(t, "guardian_id", ve.Field)
					return
				}
				require.ErrorIs(t, err, tc.err)
			})
		}
		require.Zero(t, list(second), "refusals changed nothing")

		r.Clock.T = r.Clock.T.Add(3600e9)
		l, err := r.Service.AddSecondGuardian(ctx, r.Key(), enrollment.SecondGuardianRequest{CertificateID: kid.ID, GuardianID: "father-1", By: first})
		require.NoError(t, err)
		require.Equal(t, kid.Holder.PersonID, l.ChildID)
		require.Equal(t, r.Clock.T.UTC(), l.RecordedAt)
		require.Equal(t, first.Actor(), l.Actor)
		require.NoError(t, add(first, "father-1"), "again: nothing changes")
		require.Equal(t, 1, list(second), "the second guardian sees the certificate")
		cab, err := r.Service.Cabinet(ctx, second, kid.ID)
		require.NoError(t, err)
		require.Equal(t, kid.ID, cab.Certificate.ID)

		// The second guardian acts for the child but does not link others.
		err = add(second, "grandma-1")
		require.ErrorIs(t, err, enrollment.ErrForbidden)
		require.Zero(t, list(enrollment.AsHolder("grandma-1")))

		adult, err := r.Service.ApplyAdult(ctx, r.Key(), enrollment.AdultApplication{Holder: adultHolder(1), By: enrollment.AsFederal("op")})
		require.NoError(t, err)
		_, err = r.Service.AddSecondGuardian(ctx, r.Key(), enrollment.SecondGuardianRequest{CertificateID: adult.Certificate.ID, GuardianID: "father-1",
			By: enrollment.AsHolder(adult.Certificate.Holder.PersonID)})
		var ve *funding.ValidationError
		require.ErrorAs(t, err, &ve)
		require.Equal(t, "certificate_id", ve.Field)
		require.Equal(t, certificate.Supplementary, kid.Scheme)
		storagetest.CheckInvariants(t, db)
	})
}
