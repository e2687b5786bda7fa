package enrollment_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edufund/edufund/catalog"
	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/funding"
	"github.com/edufund/edufund/storage"
	"github.com/edufund/edufund/storage/storagetest"
)

// TestAdminReads: the officials' reads answer each caller within its
// reach. A municipality reads its own budget and limits, never
// another's; a provider reads its own card in full and another's public
// card only; a family reads the public cards and the seats.
func TestAdminReads(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		r := storagetest.NewRegion(t, db, storagetest.RegionOptions{Budget: funding.MustMoney("100000.00")})
		kid := r.Child(1)
		_, err := r.Service.Submit(ctx, r.Key(), enrollment.SubmitRequest{CertificateID: kid.ID, GroupID: r.Group.ID, By: enrollment.AsHolder("parent-1")})
		require.NoError(t, err)
		other, err := r.Service.SaveProvider(ctx, r.Key(), catalog.Provider{Name: "Другая школа", INN: "5401000055", Municipality: "mun-2"}, enrollment.AsSystem("test"))
		require.NoError(t, err)
		mine, stranger := enrollment.AsMunicipality(storagetest.Municipality), enrollment.AsMunicipality("mun-2")
		regional, auditor := enrollment.AsRegional("op"), enrollment.AsAuditor("audit")

		// The categories: the children's scheme's officials and the auditor.
		for _, by := range []enrollment.Caller{mine, regional, auditor} {
			cats, err := r.Service.Categories(ctx, by)
			require.NoError(t, err, by.Actor())
			require.Len(t, cats, 1)
			assert.Equal(t, int64(1), cats[0].Funded, "the child's certificate holds a slot")
		}
		for _, by := range []enrollment.Caller{enrollment.AsHolder("parent-1"), enrollment.AsProvider(r.Provider.ID), enrollment.AsFederal("op")} {
			_, err := r.Service.Categories(ctx, by)
			assert.ErrorIs(t, err, enrollment.ErrForbidden, by.Actor())
			_, err = r.Service.Budgets(ctx, by, enrollment.BudgetFilter{})
			assert.ErrorIs(t, err, enrollment.ErrForbidden, by.Actor())
		}
		_, err = r.Service.ReadCategory(ctx, regional, "sea")
		assert.ErrorIs(t, err, enrollment.ErrNotFound)

		// A budget: the municipality's own, with its use.
		page, err := r.Service.Budgets(ctx, mine, enrollment.BudgetFilter{})
		require.NoError(t, err)
		require.Len(t, page.Budgets, 1)
		b := page.Budgets[0]
		assert.Equal(t, storagetest.Autumn, b.Period)
		assert.True(t, funding.MustMoney("100000.00").Equal(b.Limit))
		assert.True(t, b.Used.IsPositive(), "the application reserves from the budget")
		_, err = r.Service.Budgets(ctx, stranger, enrollment.BudgetFilter{Municipality: storagetest.Municipality})
		assert.ErrorIs(t, err, enrollment.ErrForbidden, "another municipality's budget")
		page, err = r.Service.Budgets(ctx, stranger, enrollment.BudgetFilter{})
		require.NoError(t, err)
		assert.Empty(t, page.Budgets)
		page, err = r.Service.Budgets(ctx, auditor, enrollment.BudgetFilter{Municipality: storagetest.Municipality})
		require.NoError(t, err)
		assert.Len(t, page.Budgets, 1)

		// A direction counter made by the application, without a limit.
		dirs, err := r.Service.DirectionLimits(ctx, mine, enrollment.DirectionLimitFilter{Direction: catalog.TechnicalRobotics})
		require.NoError(t, err)
		assert.Equal(t, []enrollment.DirectionLimitUse{{Municipality: storagetest.Municipality, Direction: catalog.TechnicalRobotics,
			Period: storagetest.Autumn, Limit: 0, Used: 1}}, dirs.Limits)
		dirs, err = r.Service.DirectionLimits(ctx, mine, enrollment.DirectionLimitFilter{Direction: catalog.Sport})
		require.NoError(t, err)
		assert.Empty(t, dirs.Limits)
		_, err = r.Service.DirectionLimits(ctx, stranger, enrollment.DirectionLimitFilter{Municipality: storagetest.Municipality})
		assert.ErrorIs(t, err, enrollment.ErrForbidden)

		// Providers: in full for itself, the officials and the
		// municipality it has an agreement with; public for the rest.
		for _, tc := range []struct {
			by   enrollment.Caller
			full bool
		}{
			{enrollment.AsProvider(r.Provider.ID), true}, {regional, true}, {auditor, true}, {mine, true},
			{enrollment.AsProvider(other.ID), false}, {stranger, false}, {enrollment.AsHolder("parent-1"), false},
		} {
			card, err := r.Service.Provider(ctx, tc.by, r.Provider.ID)
			require.NoError(t, err)
			assert.Equal(t, tc.full, card.Full, tc.by.Actor())
			if tc.full {
				assert.Equal(t, r.Provider.INN, card.Provider.INN)
				assert.Equal(t, int64(1), card.Live)
			} else {
				assert.Equal(t, catalog.Provider{ID: r.Provider.ID, Name: r.Provider.Name, Municipality: r.Provider.Municipality,
					Address: r.Provider.Address, Phone: r.Provider.Phone, Email: r.Provider.Email, Site: r.Provider.Site}, card.Provider, tc.by.Actor())
				assert.Zero(t, card.Live)
			}
		}
		list, err := r.Service.Providers(ctx, enrollment.AsProvider(other.ID), enrollment.ProviderFilter{Limit: 1})
		require.NoError(t, err)
		require.Len(t, list.Providers, 1)
		assert.Equal(t, other.ID, list.Providers[0].Provider.ID, "newest first")
		assert.True(t, list.Providers[0].Full, "its own")
		list, err = r.Service.Providers(ctx, enrollment.AsProvider(other.ID), enrollment.ProviderFilter{After: list.Next, Limit: 1})
		require.NoError(t, err)
		require.Len(t, list.Providers, 1)
		assert.False(t, list.Providers[0].Full, "another's")
		assert.Empty(t, list.Providers[0].Provider.INN)

		// Its catalogue, with the seat the application takes.
		for _, tc := range []struct {
			by   enrollment.Caller
			full bool
		}{{enrollment.AsProvider(r.Provider.ID), true}, {enrollment.AsHolder("parent-2"), false}} {
			progs, err := r.Service.ProviderPrograms(ctx, tc.by, enrollment.ProgramFilter{Provider: r.Provider.ID})
			require.NoError(t, err)
			require.Len(t, progs.Programs, 1)
			p := progs.Programs[0]
			assert.Equal(t, tc.full, p.Full)
			assert.Equal(t, map[bool]int64{true: 1}[tc.full], p.Live)
			require.Len(t, p.Modules, 1)
			require.Len(t, p.Modules[0].Groups, 1)
			g := p.Modules[0].Groups[0]
			assert.Equal(t, []int{1, 14}, []int{g.Taken, g.Free})
		}
		_, err = r.Service.ProviderPrograms(ctx, regional, enrollment.ProgramFilter{Provider: r.Program.ID})
		assert.ErrorIs(t, err, enrollment.ErrNotFound, "a program's id is no provider's")
	})
}
