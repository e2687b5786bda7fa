package enrollment_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/funding"
	"github.com/edufund/edufund/storage"
	"github.com/edufund/edufund/storage/storagetest"
)

// TestBudgetNotice: once the municipality's budget limit is reached, the
// holder's cabinet shows a notice in Russian instead of nominal and
// balance (rules.md), while the municipality and the regional operator
// still see the figures beside the notice.
func TestBudgetNotice(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		r := storagetest.NewRegion(t, db, storagetest.RegionOptions{Budget: funding.MustMoney("4021.98")}) // one application of rules.md's example
		cert := r.Child(1)
		_, err := r.Service.Submit(ctx, r.Key(), enrollment.SubmitRequest{CertificateID: cert.ID, GroupID: r.Group.ID, By: enrollment.AsHolder("parent-1")})
		require.NoError(t, err)

		cab, err := r.Service.Cabinet(ctx, enrollment.AsHolder("parent-1"), cert.ID)
		require.NoError(t, err)
		require.Nil(t, cab.Money, "the holder sees the notice, not the money")
		require.True(t, strings.HasPrefix(cab.BudgetNotice, "Лимит средств муниципалитета на период с 01.09.2025 по 31.12.2025 исчерпан"), cab.BudgetNotice)
		for _, by := range []enrollment.Caller{enrollment.AsMunicipality(storagetest.Municipality), enrollment.AsRegional("operator")} {
			cab, err := r.Service.Cabinet(ctx, by, cert.ID)
			require.NoError(t, err)
			require.NotEmpty(t, cab.BudgetNotice)
			require.NotNil(t, cab.Money, "%s sees the figures", by.Role)
			require.Equal(t, "4021.98", cab.Money.Reserved.String())
		}
	})
}
