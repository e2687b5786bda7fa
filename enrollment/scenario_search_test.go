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
			page, err := r.Service.Search(ctx, catalog.Search{Text: q})
			require.NoError(t, err, q)
			require.Equal(t, 1, page.Total, q)
			require.Equal(t, chess.ID, page.Programs[0].Program.ID, q)
			require.Equal(t, r.Provider.Name, page.Programs[0].Provider.Name)
		}
		page, err := r.Service.Search(ctx, catalog.Search{Text: "robotics"})
		require.NoError(t, err)
		require.Equal(t, 2, page.Total, "both programs of the school, its own title first")
		require.Equal(t, r.Program.ID, page.Programs[0].Program.ID)

		_, err = r.Service.Search(ctx, catalog.Search{Direction: "cooking"})
		var ve *funding.ValidationError
		require.ErrorAs(t, err, &ve)
		require.Equal(t, "direction", ve.Field)
	})
}
