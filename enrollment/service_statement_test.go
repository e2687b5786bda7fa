package enrollment_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/funding"
	"github.com/edufund/edufund/storage"
	"github.com/edufund/edufund/storage/storagetest"
)

// TestStatement: a certificate's statement lists the period's postings,
// which add up to its cabinet's figures, names the groups of its
// contracts, and exists only for those who may read its cabinet.
func TestStatement(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		r := storagetest.NewRegion(t, db, storagetest.RegionOptions{})
		cert := r.Child(0)
		k, err := r.Service.Submit(ctx, r.Key(), enrollment.SubmitRequest{CertificateID: cert.ID, GroupID: r.Group.ID, By: enrollment.AsHolder("parent-1")})
		require.NoError(t, err)
		_, err = r.Service.Confirm(ctx, r.Key(), enrollment.ContractRequest{ContractID: k.ID, By: enrollment.AsProvider(r.Provider.ID)})
		require.NoError(t, err)
		_, err = r.Service.Accept(ctx, r.Key(), enrollment.ContractRequest{ContractID: k.ID, By: enrollment.AsHolder("parent-1")})
		require.NoError(t, err)
		r.At(2025, time.October, 1)
		_, err = r.Service.CloseMonth(ctx, funding.Month{Year: 2025, Month: time.September}, nil)
		require.NoError(t, err)

		st, err := r.Service.Statement(ctx, enrollment.AsHolder("parent-1"), cert.ID, r.Service.Today())
		require.NoError(t, err)
		require.Equal(t, storagetest.Autumn, st.Period)
		require.NotNil(t, st.Money)
		kinds := map[funding.PostingKind]funding.Money{}
		for _, p := range st.Postings {
			kinds[p.Posting.Kind] = kinds[p.Posting.Kind].Add(p.Posting.Amount)
		}
		require.Equal(t, st.Money.Nominal, kinds[funding.Grant].Add(kinds[funding.Adjust]), "nominal")
		require.Equal(t, st.Money.Spent, kinds[funding.Charge].Sub(kinds[funding.Refund]), "spent")
		require.True(t, kinds[funding.Charge].IsPositive(), "September was charged: %v", kinds)
		require.Equal(t, st.Money.Balance, kinds[funding.Grant].Add(kinds[funding.Adjust]).Sub(kinds[funding.Reserve]).
			Add(kinds[funding.Release]).Sub(kinds[funding.Deplete]).Sub(kinds[funding.Expire]).Add(kinds[funding.Refund]), "balance")
		for i := 1; i < len(st.Postings); i++ {
			require.False(t, st.Postings[i].At.Before(st.Postings[i-1].At), "oldest first")
		}
		require.Equal(t, r.Program.Name, st.Offers[r.Group.ID].Program.Name)

		for _, by := range []enrollment.Caller{enrollment.AsMunicipality(storagetest.Municipality), enrollment.AsRegional("op"), enrollment.AsSystem("test")} {
			_, err := r.Service.Statement(ctx, by, cert.ID, r.Service.Today())
			require.NoError(t, err, by.Role)
		}
		for _, by := range []enrollment.Caller{enrollment.AsHolder("parent-2"), enrollment.AsMunicipality("mun-2"),
			enrollment.AsProvider(r.Provider.ID), enrollment.AsFederal("op")} {
			_, err := r.Service.Statement(ctx, by, cert.ID, r.Service.Today())
			require.ErrorIs(t, err, enrollment.ErrNotFound, "%s %s", by.Role, by.ID)
		}
		_, err = r.Service.Statement(ctx, enrollment.AsHolder("parent-1"), cert.ID, r.Service.Today().AddDays(1))
		var ve *funding.ValidationError
		require.ErrorAs(t, err, &ve, "a date after today")
	})
}
