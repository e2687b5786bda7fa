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

// TestReads: what an embedder reads through the service, without a store
// of its own: a month's invoices as each caller may see them, a program's
// score from its contracts' ratings (closed contracts weigh double).
func TestReads(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		r := storagetest.NewRegion(t, db, storagetest.RegionOptions{})
		var contracts []enrollment.Contract
		for i, cert := range r.Children(2) {
			c, err := r.Service.Submit(ctx, r.Key(), enrollment.SubmitRequest{CertificateID: cert.ID, GroupID: r.Group.ID, By: enrollment.AsHolder("parent-1")})
			require.NoError(t, err, "child %d", i)
			_, err = r.Service.Confirm(ctx, r.Key(), enrollment.ContractRequest{ContractID: c.ID, By: enrollment.AsProvider(r.Provider.ID)})
			require.NoError(t, err)
			c, err = r.Service.Accept(ctx, r.Key(), enrollment.ContractRequest{ContractID: c.ID, By: enrollment.AsHolder("parent-1")})
			require.NoError(t, err)
			contracts = append(contracts, c)
		}
		r.At(2025, time.October, 1)
		_, err := r.Service.CloseMonth(ctx, funding.Month{Year: 2025, Month: time.October}, nil)
		require.NoError(t, err)

		sep := funding.Month{Year: 2025, Month: time.September}
		count := func(by enrollment.Caller, provider uuid.UUID) int {
			t.Helper()
			inv, err := r.Service.Invoices(ctx, by, sep, provider)
			require.NoError(t, err)
			for _, i := range inv {
				require.Equal(t, certificate.Supplementary, i.Scheme)
			}
			return len(inv)
		}
		require.Equal(t, 1, count(enrollment.AsProvider(r.Provider.ID), uuid.Nil), "the provider's own")
		require.Equal(t, 1, count(enrollment.AsMunicipality(storagetest.Municipality), uuid.Nil))
		require.Equal(t, 0, count(enrollment.AsMunicipality("mun-2"), uuid.Nil), "another municipality's budget")
		require.Equal(t, 1, count(enrollment.AsRegional("operator"), r.Provider.ID))
		require.Equal(t, 0, count(enrollment.AsFederal("operator"), uuid.Nil), "the adult scheme's only")
		_, err = r.Service.Invoices(ctx, enrollment.AsProvider(uuid.Must(uuid.NewV7())), sep, r.Provider.ID)
		require.ErrorIs(t, err, enrollment.ErrNotFound, "another provider's")
		_, err = r.Service.Invoices(ctx, enrollment.AsHolder("parent-1"), sep, uuid.Nil)
		require.ErrorIs(t, err, enrollment.ErrForbidden)

		rate := func(c enrollment.Contract, v int) {
			rt, err := enrollment.NewRating(v, v, v, v)
			require.NoError(t, err)
			_, err = r.Service.Rate(ctx, r.Key(), enrollment.RateRequest{ContractRequest: enrollment.ContractRequest{ContractID: c.ID, By: enrollment.AsHolder("parent-1")}, Rating: rt})
			require.NoError(t, err)
		}
		rate(contracts[0], 60)
		rate(contracts[1], 90)
		score, err := r.Service.ProgramScore(ctx, r.Program.ID)
		require.NoError(t, err)
		require.Equal(t, "75", score.Results.String())
		require.Equal(t, 2, score.Active)
		_, err = r.Service.ProgramScore(ctx, uuid.Must(uuid.NewV7()))
		require.ErrorIs(t, err, enrollment.ErrNotFound)
	})
}
