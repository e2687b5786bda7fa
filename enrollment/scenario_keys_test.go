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

// TestIdempotencyKeysAreTheCallers: a caller's idempotency keys are its
// own, per operation. Two callers setting up with the same key sequence do
// not collide; one caller's key sent to two operations is two requests;
// the same key, caller and operation with another request is still a
// conflict, and with the same request replays the first answer.
func TestIdempotencyKeysAreTheCallers(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		svc := enrollment.NewService(db, funding.SystemClock{}, enrollment.DefaultConfig())
		a, b := enrollment.AsRegional("region-a"), enrollment.AsRegional("region-b")
		city := certificate.Category{Code: "city", Nominal: funding.MustMoney("30000.00")}
		_, err := svc.SaveCategory(ctx, "setup-1", city, a)
		require.NoError(t, err)
		village := certificate.Category{Code: "village", Nominal: funding.MustMoney("36000.00")}
		_, err = svc.SaveCategory(ctx, "setup-1", village, b)
		require.NoError(t, err, "another caller's key is another request")
		_, err = svc.SaveProvider(ctx, "setup-1", catalog.Provider{Name: "Школа", INN: "7707083893"}, a)
		require.NoError(t, err, "another operation's key is another request")

		_, err = svc.SaveCategory(ctx, "setup-1", village, a)
		require.ErrorIs(t, err, enrollment.ErrIdempotencyConflict, "the same caller, operation and key with another request")
		again, err := svc.SaveCategory(ctx, "setup-1", city, a)
		require.NoError(t, err)
		require.Equal(t, "city", again.Code, "the first answer, replayed")
	})
}

// TestCatalogOwners: a provider edits only its own catalog, in the service
// (so that every edge gets the rule): its programs, their modules and
// groups; a parent it names must exist.
func TestCatalogOwners(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		r := storagetest.NewRegion(t, db, storagetest.RegionOptions{})
		own := enrollment.AsProvider(r.Provider.ID)
		rival, err := r.Service.SaveProvider(ctx, r.Key(), catalog.Provider{Name: "Соперник", INN: "7707083893"}, enrollment.AsRegional("operator"))
		require.NoError(t, err)
		other := enrollment.AsProvider(rival.ID)

		// A new program defaults to the provider that saves it.
		prog, err := r.Service.SaveProgram(ctx, r.Key(), catalog.Program{Name: "Шахматы", Scheme: certificate.Supplementary,
			Direction: catalog.SocialPedagogical, Registry: catalog.General, MaxAge: 17}, own)
		require.NoError(t, err)
		require.Equal(t, r.Provider.ID, prog.ProviderID)

		for name, save := range map[string]func(enrollment.Caller) error{
			"a program of another provider": func(by enrollment.Caller) error {
				p := r.Program
				p.Name = "Переименовано"
				_, err := r.Service.SaveProgram(ctx, r.Key(), p, by)
				return err
			},
			"a module of another provider's program": func(by enrollment.Caller) error {
				_, err := r.Service.SaveModule(ctx, r.Key(), catalog.Module{ProgramID: r.Program.ID, Name: "Модуль", Price: funding.MustMoney("100.00"), Hours: 10}, by)
				return err
			},
			"a group of another provider's module": func(by enrollment.Caller) error {
				g := r.Group
				g.Capacity = 30
				_, err := r.Service.SaveGroup(ctx, r.Key(), g, by)
				return err
			},
		} {
			require.ErrorIs(t, save(other), enrollment.ErrForbidden, name)
			require.NoError(t, save(own), "%s, by its own provider", name)
		}

		_, err = r.Service.SaveModule(ctx, r.Key(), catalog.Module{ProgramID: uuid.Must(uuid.NewV7()), Name: "Модуль", Price: funding.MustMoney("100.00"), Hours: 10}, enrollment.AsRegional("operator"))
		var ue *enrollment.UnknownReferenceError
		require.ErrorAs(t, err, &ue)
		require.Equal(t, "program_id", ue.Field)
		_, err = r.Service.SaveCategory(ctx, r.Key(), certificate.Category{Code: "x", Nominal: funding.MustMoney("1.00")}, own)
		require.ErrorIs(t, err, enrollment.ErrForbidden, "a provider may not change a category")
	})
}
