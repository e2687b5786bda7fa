package enrollment_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/edufund/edufund/catalog"
	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/funding"
	"github.com/edufund/edufund/storage"
	"github.com/edufund/edufund/storage/storagetest"
)

// TestSearch: the navigator finds a program saved through the services at
// once — by its title, its provider's name and, while the parent types, a
// prefix — with its provider, and refuses a bad search naming the field.
func TestSearch(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		r := storagetest.NewRegion(t, db, storagetest.RegionOptions{})
		chess, err := r.Service.SaveProgram(ctx, r.Key(), catalog.Program{
			ProviderID: r.Provider.ID, Name: "Шахматы для начинающих", Scheme: certificate.Supplementary,
			Direction: catalog.Sport, Registry: catalog.Certified, MinAge: 6, MaxAge: 12, Certified: true, EnrolmentOpen: true,
			Municipality: storagetest.Municipality,
		}, enrollment.AsSystem("test"))
		require.NoError(t, err)
		for _, q := range []string{"шахматный", "шахм", "robotics school шахматы"} {
			page, err := r.Service.Search(ctx, enrollment.SearchRequest{Search: catalog.Search{Text: q}})
			require.NoError(t, err, q)
			require.Equal(t, 1, page.Total, q)
			require.Equal(t, chess.ID, page.Programs[0].Program.ID, q)
			require.Equal(t, r.Provider.Name, page.Programs[0].Provider.Name)
		}
		page, err := r.Service.Search(ctx, enrollment.SearchRequest{Search: catalog.Search{Text: "robotics"}})
		require.NoError(t, err)
		require.Equal(t, 2, page.Total, "both programs of the school, its own title first")
		require.Equal(t, r.Program.ID, page.Programs[0].Program.ID)

		_, err = r.Service.Search(ctx, enrollment.SearchRequest{Search: catalog.Search{Direction: "cooking"}})
		var ve *funding.ValidationError
		require.ErrorAs(t, err, &ve)
		require.Equal(t, "direction", ve.Field)
	})
}

// TestSearchForCertificate: searching for a certificate says, for each
// program found, whether it can enrol now and why not, and can leave out
// those it cannot; only who may read the certificate may ask.
func TestSearchForCertificate(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		r := storagetest.NewRegion(t, db, storagetest.RegionOptions{})
		cert := r.Child(0) // ten years old in the autumn of 2025
		teens, err := r.Service.SaveProgram(ctx, r.Key(), catalog.Program{
			ProviderID: r.Provider.ID, Name: "Robotics for teens", Scheme: certificate.Supplementary,
			Direction: catalog.TechnicalRobotics, Registry: catalog.Certified, MinAge: 14, MaxAge: 17, Certified: true, EnrolmentOpen: true,
			Municipality: storagetest.Municipality,
		}, enrollment.AsSystem("test"))
		require.NoError(t, err)
		r.AddGroup(saveModule(t, r, teens), 10)

		search := func(only bool) map[string]string {
			t.Helper()
			page, err := r.Service.Search(ctx, enrollment.SearchRequest{Search: catalog.Search{Text: "robotics"}, For: cert.ID, OnlyEnrollable: only, By: enrollment.AsHolder("parent-1")})
			require.NoError(t, err)
			out := map[string]string{}
			for _, f := range page.Programs {
				out[f.Program.Name] = ""
				if f.Refusal != nil {
					out[f.Program.Name] = f.Refusal.Code
				}
			}
			return out
		}
		require.Equal(t, map[string]string{"Robotics": "", "Robotics for teens": "age_out_of_range"}, search(false))
		require.Equal(t, map[string]string{"Robotics": ""}, search(true))

		_, err = r.Service.Submit(ctx, r.Key(), enrollment.SubmitRequest{CertificateID: cert.ID, GroupID: r.Group.ID, By: enrollment.AsHolder("parent-1")})
		require.NoError(t, err)
		require.Equal(t, map[string]string{"Robotics": "duplicate_module", "Robotics for teens": "age_out_of_range"}, search(false))
		require.Empty(t, search(true))

		_, err = r.Service.Search(ctx, enrollment.SearchRequest{For: cert.ID, By: enrollment.AsHolder("someone-else")})
		require.ErrorIs(t, err, enrollment.ErrNotFound, "a stranger's certificate does not exist for the caller")
		_, err = r.Service.Search(ctx, enrollment.SearchRequest{OnlyEnrollable: true})
		var ve *funding.ValidationError
		require.ErrorAs(t, err, &ve)
	})
}

func saveModule(t *testing.T, r *storagetest.Region, p catalog.Program) catalog.Module {
	t.Helper()
	m, err := r.Service.SaveModule(context.Background(), r.Key(), catalog.Module{ProgramID: p.ID, Name: "Year 1", Price: funding.MustMoney("9000.00"),
		NormativePrice: funding.MustMoney("9000.00"), Hours: 72}, enrollment.AsSystem("test"))
	require.NoError(t, err)
	return m
}
