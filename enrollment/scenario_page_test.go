package enrollment_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/edufund/edufund/catalog"
	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/funding"
	"github.com/edufund/edufund/storage"
	"github.com/edufund/edufund/storage/storagetest"
)

// TestProgramPage reads a program's page as a navigator shows it, on
// every engine: its texts and tags, its provider's contacts, its modules
// with their prices and groups, each group's months, address (its own or
// the provider's) and seats free after enrolments, and its score.
func TestProgramPage(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		r := storagetest.NewRegion(t, db, storagetest.RegionOptions{Capacity: 3})
		sys := enrollment.AsSystem("test")
		m2, err := r.Service.SaveModule(ctx, r.Key(), catalog.Module{ProgramID: r.Program.ID, Name: "Year 2",
			Price: funding.MustMoney("12000.00"), NormativePrice: funding.MustMoney("11000.00"), Hours: 72}, sys)
		require.NoError(t, err)
		g2, err := r.Service.SaveGroup(ctx, r.Key(), catalog.Group{ModuleID: m2.ID, Name: "Вторая", Start: funding.MustDate(2026, time.January, 12),
			End: funding.MustDate(2026, time.March, 31), Capacity: 10, Schedule: "сб 10:00", Address: " ул. Садовая, 5 "}, sys)
		require.NoError(t, err)
		require.Equal(t, "ул. Садовая, 5", g2.Address)

		// Two applications hold two of the first group's three seats; one
		// is withdrawn, and one is active and rated.
		var contracts []enrollment.Contract
		for _, cert := range r.Children(2) {
			c, err := r.Service.Submit(ctx, r.Key(), enrollment.SubmitRequest{CertificateID: cert.ID, GroupID: r.Group.ID, By: enrollment.AsHolder("parent-1")})
			require.NoError(t, err)
			contracts = append(contracts, c)
		}
		page, err := r.Service.ProgramPage(ctx, r.Program.ID)
		require.NoError(t, err)
		require.Equal(t, 2, page.Modules[0].Groups[0].Taken)
		require.Equal(t, 1, page.Modules[0].Groups[0].Free)

		holder := func(id uuid.UUID) enrollment.ContractRequest {
			return enrollment.ContractRequest{ContractID: id, By: enrollment.AsHolder("parent-1")}
		}
		_, err = r.Service.Withdraw(ctx, r.Key(), holder(contracts[1].ID))
		require.NoError(t, err)
		_, err = r.Service.Confirm(ctx, r.Key(), enrollment.ContractRequest{ContractID: contracts[0].ID, By: enrollment.AsProvider(r.Provider.ID)})
		require.NoError(t, err)
		_, err = r.Service.Accept(ctx, r.Key(), holder(contracts[0].ID))
		require.NoError(t, err)
		rating, err := enrollment.NewRating(60, 70, 80, 90)
		require.NoError(t, err)
		_, err = r.Service.Rate(ctx, r.Key(), enrollment.RateRequest{ContractRequest: holder(contracts[0].ID), Rating: rating})
		require.NoError(t, err)

		page, err = r.Service.ProgramPage(ctx, r.Program.ID)
		require.NoError(t, err)
		require.Equal(t, r.Program, page.Program)
		require.Equal(t, []string{"робототехника", "lego"}, page.Program.Tags)
		require.Equal(t, r.Provider, page.Provider)
		require.Equal(t, "+7 (383) 123-45-67", page.Provider.Phone)
		require.Equal(t, "60", page.Score.Results.String())
		require.Equal(t, "90", page.Score.Satisfaction.String())
		require.Equal(t, 1, page.Score.Active)

		require.Len(t, page.Modules, 2)
		first, second := page.Modules[0], page.Modules[1]
		require.Equal(t, r.Module.ID, first.Module.ID)
		require.True(t, first.Module.Price.Equal(funding.MustMoney("9000.00")))
		require.Equal(t, m2.ID, second.Module.ID)
		require.True(t, second.Module.NormativePrice.Equal(funding.MustMoney("11000.00")))

		require.Len(t, first.Groups, 1)
		g := first.Groups[0]
		require.Equal(t, r.Group, g.Group)
		require.Equal(t, 1, g.Taken, "the withdrawn application gave its seat back")
		require.Equal(t, 2, g.Free)
		require.Equal(t, r.Provider.Address, g.Address, "a group without an address meets at the provider's")
		require.Len(t, g.Months, 9)
		require.Equal(t, funding.Month{Year: 2025, Month: time.September}, g.Months[0])
		require.Equal(t, funding.Month{Year: 2026, Month: time.May}, g.Months[8])

		require.Len(t, second.Groups, 1)
		g = second.Groups[0]
		require.Equal(t, g2, g.Group)
		require.Equal(t, "ул. Садовая, 5", g.Address)
		require.Equal(t, 0, g.Taken)
		require.Equal(t, 10, g.Free)
		require.Equal(t, []funding.Month{{Year: 2026, Month: time.January}, {Year: 2026, Month: time.February}, {Year: 2026, Month: time.March}}, g.Months)

		// A provider edits its program's page; another provider may not.
		edit := r.Program
		edit.Annotation, edit.Tags = "Новая аннотация", []string{"Шахматы", "лего"}
		_, err = r.Service.SaveProgram(ctx, r.Key(), edit, enrollment.AsProvider(uuid.Must(uuid.NewV7())))
		require.ErrorIs(t, err, enrollment.ErrForbidden)
		_, err = r.Service.SaveProgram(ctx, r.Key(), edit, enrollment.AsProvider(r.Provider.ID))
		require.NoError(t, err)
		page, err = r.Service.ProgramPage(ctx, r.Program.ID)
		require.NoError(t, err)
		require.Equal(t, "Новая аннотация", page.Program.Annotation)
		require.Equal(t, []string{"шахматы", "лего"}, page.Program.Tags)

		_, err = r.Service.ProgramPage(ctx, uuid.Must(uuid.NewV7()))
		require.ErrorIs(t, err, enrollment.ErrNotFound)
	})
}
