package enrollment_test

import (
	"context"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/edufund/edufund/catalog"
	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/funding"
	"github.com/edufund/edufund/storage"
	"github.com/edufund/edufund/storage/storagetest"
)

// TestLists: the cabinets' lists answer each caller within its reach, as
// Cabinet and Contract do one row at a time: a parent their children's,
// a municipality its own, a provider its applications; a filter naming
// another's gives nothing; a provider's refusal carries its reason.
func TestLists(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		r := storagetest.NewRegion(t, db, storagetest.RegionOptions{})
		kids := r.Children(3)
		var ks []enrollment.Contract
		for _, c := range kids {
			k, err := r.Service.Submit(ctx, r.Key(), enrollment.SubmitRequest{CertificateID: c.ID, GroupID: r.Group.ID, By: enrollment.AsHolder("parent-1")})
			require.NoError(t, err)
			ks = append(ks, k)
		}
		certs := func(by enrollment.Caller, f enrollment.CertificateFilter) []uuid.UUID {
			t.Helper()
			p, err := r.Service.Certificates(ctx, by, f)
			require.NoError(t, err)
			out := []uuid.UUID{}
			for _, c := range p.Certificates {
				out = append(out, c.ID)
			}
			return out
		}
		newest := []uuid.UUID{kids[2].ID, kids[1].ID, kids[0].ID}
		require.Equal(t, newest, certs(enrollment.AsHolder("parent-1"), enrollment.CertificateFilter{}), "the parent's children")
		require.Empty(t, certs(enrollment.AsHolder("parent-2"), enrollment.CertificateFilter{}), "another parent")
		require.Empty(t, certs(enrollment.AsHolder("parent-2"), enrollment.CertificateFilter{Holder: "parent-1"}), "another parent, asked by name")
		require.Equal(t, newest, certs(enrollment.AsMunicipality(storagetest.Municipality), enrollment.CertificateFilter{}))
		require.Empty(t, certs(enrollment.AsMunicipality("mun-2"), enrollment.CertificateFilter{}), "another municipality")
		require.Empty(t, certs(enrollment.AsMunicipality("mun-2"), enrollment.CertificateFilter{Municipality: storagetest.Municipality}), "another municipality, asked by name")
		require.Equal(t, newest, certs(enrollment.AsRegional("op"), enrollment.CertificateFilter{}))
		require.Empty(t, certs(enrollment.AsFederal("op"), enrollment.CertificateFilter{}), "the adults' operator")
		require.Empty(t, certs(enrollment.AsRegional("op"), enrollment.CertificateFilter{Scheme: certificate.DigitalSkills}))

		p, err := r.Service.Certificates(ctx, enrollment.AsHolder("parent-1"), enrollment.CertificateFilter{Limit: 2})
		require.NoError(t, err)
		require.Len(t, p.Certificates, 2)
		require.Equal(t, kids[1].ID, p.Next)
		require.Equal(t, []uuid.UUID{kids[0].ID}, certs(enrollment.AsHolder("parent-1"), enrollment.CertificateFilter{After: p.Next, Limit: 2}))

		_, err = r.Service.Certificates(ctx, enrollment.AsProvider(r.Provider.ID), enrollment.CertificateFilter{})
		require.ErrorIs(t, err, enrollment.ErrForbidden, "a provider lists no certificates")
		for _, f := range []enrollment.CertificateFilter{{Limit: -1}, {Limit: enrollment.MaxListLimit + 1}, {Status: "lost"}, {Scheme: "other"}} {
			_, err := r.Service.Certificates(ctx, enrollment.AsRegional("op"), f)
			var ve *funding.ValidationError
			require.ErrorAs(t, err, &ve, "%+v", f)
		}

		_, err = r.Service.Refuse(ctx, r.Key(), enrollment.ContractRequest{ContractID: ks[0].ID, By: enrollment.AsProvider(r.Provider.ID)})
		var ve *funding.ValidationError
		require.ErrorAs(t, err, &ve, "a refusal without a reason")
		require.Equal(t, "reason", ve.Field)
		refused, err := r.Service.Refuse(ctx, r.Key(), enrollment.ContractRequest{ContractID: ks[0].ID, By: enrollment.AsProvider(r.Provider.ID), Reason: "  Группа набрана  "})
		require.NoError(t, err)
		require.Equal(t, "Группа набрана", refused.Reason)

		contracts := func(by enrollment.Caller, f enrollment.ContractFilter) []uuid.UUID {
			t.Helper()
			p, err := r.Service.Contracts(ctx, by, f)
			require.NoError(t, err)
			out := []uuid.UUID{}
			for _, k := range p.Contracts {
				out = append(out, k.ID)
			}
			return out
		}
		provider := enrollment.AsProvider(r.Provider.ID)
		require.Equal(t, []uuid.UUID{ks[2].ID, ks[1].ID, ks[0].ID}, contracts(provider, enrollment.ContractFilter{}))
		require.Equal(t, []uuid.UUID{ks[2].ID, ks[1].ID}, contracts(provider, enrollment.ContractFilter{Statuses: []enrollment.Status{enrollment.Requested}}))
		require.Empty(t, contracts(enrollment.AsProvider(uuid.Must(uuid.NewV7())), enrollment.ContractFilter{}), "another provider")
		require.Empty(t, contracts(enrollment.AsProvider(uuid.Must(uuid.NewV7())), enrollment.ContractFilter{Provider: r.Provider.ID}), "another provider, asked by id")
		require.Equal(t, []uuid.UUID{ks[1].ID}, contracts(enrollment.AsHolder("parent-1"), enrollment.ContractFilter{Certificate: kids[1].ID}))
		_, err = r.Service.Contracts(ctx, enrollment.AsHolder("parent-2"), enrollment.ContractFilter{Certificate: kids[1].ID})
		require.ErrorIs(t, err, enrollment.ErrNotFound, "another family's certificate")
		_, err = r.Service.Contracts(ctx, enrollment.AsHolder("parent-1"), enrollment.ContractFilter{})
		require.ErrorAs(t, err, &ve, "a holder names the certificate")
		require.Len(t, contracts(enrollment.AsMunicipality(storagetest.Municipality), enrollment.ContractFilter{}), 3)
		require.Empty(t, contracts(enrollment.AsFederal("op"), enrollment.ContractFilter{}))
		_, err = r.Service.Contracts(ctx, provider, enrollment.ContractFilter{Statuses: []enrollment.Status{"lost"}})
		require.ErrorAs(t, err, &ve)

		lim, err := r.Service.Limits(ctx, enrollment.AsMunicipality(storagetest.Municipality), storagetest.Municipality, funding.Date{})
		require.NoError(t, err)
		require.Len(t, lim.Directions, len(catalog.Directions))
		var city *enrollment.CategoryUse
		for i, c := range lim.Categories {
			if c.Category.Code == "city" {
				city = &lim.Categories[i]
			}
		}
		require.NotNil(t, city, "the region's category")
		require.EqualValues(t, 3, city.Funded, "the three children funded")
		require.Zero(t, city.Queued)
		_, err = r.Service.Limits(ctx, enrollment.AsMunicipality("mun-2"), storagetest.Municipality, funding.Date{})
		require.ErrorIs(t, err, enrollment.ErrForbidden, "another municipality's")
		_, err = r.Service.Limits(ctx, enrollment.AsHolder("parent-1"), storagetest.Municipality, funding.Date{})
		require.ErrorIs(t, err, enrollment.ErrForbidden)
		_, err = r.Service.Limits(ctx, enrollment.AsRegional("op"), storagetest.Municipality, funding.Date{})
		require.NoError(t, err)
	})
}
