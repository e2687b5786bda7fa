package enrollment_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/edufund/edufund/catalog"
	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/storage"
	"github.com/edufund/edufund/storage/storagetest"
)

// TestRatingsShown: the holder reads back their own rating of a contract
// (another family cannot), and the navigator carries each program's score.
func TestRatingsShown(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		r := storagetest.NewRegion(t, db, storagetest.RegionOptions{})
		kid := r.Child(1)
		parent := enrollment.AsHolder("parent-1")
		c, err := r.Service.Submit(ctx, r.Key(), enrollment.SubmitRequest{CertificateID: kid.ID, GroupID: r.Group.ID, By: parent})
		require.NoError(t, err)
		_, err = r.Service.Confirm(ctx, r.Key(), enrollment.ContractRequest{ContractID: c.ID, By: enrollment.AsProvider(r.Provider.ID)})
		require.NoError(t, err)
		_, err = r.Service.Accept(ctx, r.Key(), enrollment.ContractRequest{ContractID: c.ID, By: parent})
		require.NoError(t, err)

		_, ok, err := r.Service.ContractRating(ctx, parent, c.ID)
		require.NoError(t, err)
		require.False(t, ok, "not rated yet")
		rt := enrollment.Rating{Results: 80, Staff: 100, Means: 70, Satisfaction: 90}
		_, err = r.Service.Rate(ctx, r.Key(), enrollment.RateRequest{ContractRequest: enrollment.ContractRequest{ContractID: c.ID, By: parent}, Rating: rt})
		require.NoError(t, err)
		got, ok, err := r.Service.ContractRating(ctx, parent, c.ID)
		require.NoError(t, err)
		require.True(t, ok)
		require.Equal(t, rt, got)
		_, _, err = r.Service.ContractRating(ctx, enrollment.AsHolder("parent-2"), c.ID)
		require.ErrorIs(t, err, enrollment.ErrNotFound, "another family")

		page, err := r.Service.Search(ctx, enrollment.SearchRequest{Search: catalog.Search{Text: "Robotics", Limit: 10}})
		require.NoError(t, err)
		require.NotEmpty(t, page.Programs)
		found := page.Programs[0]
		require.Equal(t, r.Program.ID, found.Program.ID)
		require.Equal(t, 1, found.Score.Active)
		require.Equal(t, "90.00", found.Score.Satisfaction.StringFixed(2))
	})
}
