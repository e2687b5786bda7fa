package enrollment_test

import (
	"context"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/funding"
	"github.com/edufund/edufund/storage"
	"github.com/edufund/edufund/storage/storagetest"
)

// TestAdultReview: with adults.federal_review on, an adult application
// waits for the federal operator, outside the quota and the queue; a
// rejection needs reasons and cancels the certificate; approvals arrive at
// the quota in their own order (the first five funded, the sixth queued);
// a decided application is not decided again. Off (the default), an
// application takes its place at once.
func TestAdultReview(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		r := storagetest.NewRegion(t, db, storagetest.RegionOptions{}) // an adult quota of 5
		fed := enrollment.AsFederal("operator")
		apply := func(i int) enrollment.IssueResult {
			res, err := r.Service.ApplyAdult(ctx, r.Key(), enrollment.AdultApplication{Holder: adultHolder(i), By: fed})
			require.NoError(t, err)
			return res
		}
		off := apply(100)
		require.False(t, off.Review, "off by default")
		require.Equal(t, certificate.Funded, off.Certificate.Kind)

		_, err := r.Service.SetParameter(ctx, r.Key(), enrollment.ParameterRequest{Name: "adults.federal_review", From: r.Service.Today(),
			Value: "true", Reason: "решение региона", By: enrollment.AsHolder("someone")})
		require.ErrorIs(t, err, enrollment.ErrForbidden)
		_, err = r.Service.SetParameter(ctx, r.Key(), enrollment.ParameterRequest{Name: "adults.federal_review", From: r.Service.Today(),
			Value: "true", Reason: "решение региона", By: enrollment.AsRegional("op")})
		require.NoError(t, err)

		var apps []enrollment.IssueResult
		for i := range 7 {
			res := apply(i + 1)
			require.True(t, res.Review)
			require.False(t, res.Queued)
			require.Equal(t, certificate.Accounting, res.Certificate.Kind)
			_, ok := r.Service.DocumentsDue(res.Certificate)
			require.False(t, ok, "no deadline before a place")
			pos, err := r.Service.QueuePosition(ctx, fed, res.Certificate.ID)
			require.NoError(t, err)
			require.Zero(t, pos, "not in the queue while under review")
			apps = append(apps, res)
		}
		pending, err := r.Service.AdultReviews(ctx, fed, enrollment.ReviewPending, uuid.Nil, 0)
		require.NoError(t, err)
		require.Len(t, pending.Reviews, 7)

		review := func(i int, approve bool, reasons ...string) (enrollment.IssueResult, error) {
			return r.Service.ReviewAdult(ctx, r.Key(), enrollment.ReviewRequest{CertificateID: apps[i].Certificate.ID, Approve: approve, Reasons: reasons, By: fed})
		}
		// Refusals change nothing.
		_, err = r.Service.ReviewAdult(ctx, r.Key(), enrollment.ReviewRequest{CertificateID: apps[0].Certificate.ID, Approve: true,
			By: enrollment.AsHolder(apps[0].Certificate.Holder.PersonID)})
		require.ErrorIs(t, err, enrollment.ErrForbidden)
		var ve *funding.ValidationError
		_, err = review(0, false)
		require.ErrorAs(t, err, &ve)
		require.Equal(t, "reasons", ve.Field)
		_, err = review(0, false, "  ")
		require.ErrorAs(t, err, &ve)
		require.Equal(t, "reasons[0]", ve.Field)
		_, err = review(0, true, "лишнее")
		require.ErrorAs(t, err, &ve)
		_, err = r.Service.ReviewAdult(ctx, r.Key(), enrollment.ReviewRequest{CertificateID: off.Certificate.ID, Approve: true, By: fed})
		require.ErrorIs(t, err, enrollment.ErrReviewed, "an application that never waited for review")

		rej, err := review(0, false, "Нет документа об образовании", "Регистрация вне региона")
		require.NoError(t, err)
		require.Equal(t, certificate.Cancelled, rej.Certificate.Status)
		_, err = review(0, true)
		require.ErrorIs(t, err, enrollment.ErrReviewed)

		// Approved in reverse order: the quota goes in the approvals' order.
		// One place went to the application made before review was on.
		for i := 6; i >= 1; i-- {
			res, err := review(i, true)
			require.NoError(t, err)
			if i > 2 {
				require.Equal(t, certificate.Funded, res.Certificate.Kind, "approval %d", i)
				_, ok := r.Service.DocumentsDue(res.Certificate)
				require.True(t, ok)
				continue
			}
			require.True(t, res.Queued, "approval %d past the quota", i)
			require.Equal(t, 3-i, res.Position)
		}
		pending, err = r.Service.AdultReviews(ctx, fed, enrollment.ReviewPending, uuid.Nil, 0)
		require.NoError(t, err)
		require.Empty(t, pending.Reviews)
		rejected, err := r.Service.AdultReviews(ctx, enrollment.AsAuditor("audit"), enrollment.ReviewRejected, uuid.Nil, 0)
		require.NoError(t, err)
		require.Len(t, rejected.Reviews, 1)
		require.Equal(t, []string{"Нет документа об образовании", "Регистрация вне региона"}, rejected.Reviews[0].Reasons)
		require.False(t, rejected.Reviews[0].DecidedAt.IsZero())
		_, err = r.Service.AdultReviews(ctx, enrollment.AsHolder("x"), "", uuid.Nil, 0)
		require.ErrorIs(t, err, enrollment.ErrForbidden)

		require.Equal(t, []enrollment.EventType{enrollment.CertificateIssued, enrollment.AdultReviewRequested, enrollment.CertificateCancelled},
			types(published(t, r, enrollment.EventFilter{CertificateID: apps[0].Certificate.ID})))
		require.Equal(t, []enrollment.EventType{enrollment.CertificateIssued, enrollment.AdultReviewRequested, enrollment.AdultReviewApproved, enrollment.DocumentsDue},
			types(published(t, r, enrollment.EventFilter{CertificateID: apps[6].Certificate.ID})))
		require.Equal(t, []enrollment.EventType{enrollment.CertificateIssued, enrollment.AdultReviewRequested, enrollment.AdultReviewApproved, enrollment.CertificateQueued},
			types(published(t, r, enrollment.EventFilter{CertificateID: apps[1].Certificate.ID})))
		storagetest.CheckInvariants(t, db)
	})
}
