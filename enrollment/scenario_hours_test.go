package enrollment_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/edufund/edufund/catalog"
	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/funding"
	"github.com/edufund/edufund/storage"
	"github.com/edufund/edufund/storage/storagetest"
)

// TestHoursNominal: a certificate whose nominal is 6+2 weekly hours holds a
// module's weekly hours while a contract is live (the extra hours only in
// the significant registry) and pays with what those hours are worth over
// the contract's days at the region's cost of a child-hour; ending the
// contract frees its hours and takes the money it gave back off the
// balance, so that outside its contracts the certificate holds no money.
func TestHoursNominal(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		r := storagetest.NewRegion(t, db, storagetest.RegionOptions{})
		sys, ops := enrollment.AsSystem("test"), enrollment.AsRegional("ops")
		_, err := r.Service.SaveCategory(ctx, r.Key(), certificate.Category{Code: "hours", HoursBase: 6, HoursExtra: 2}, ops)
		require.NoError(t, err)
		_, err = r.Service.SaveCategory(ctx, r.Key(), certificate.Category{Code: "hours", Nominal: funding.MustMoney("100.00")}, ops)
		require.Error(t, err, "a category in hours does not become one in money")

		weekly := func(prog catalog.Program, hours int) catalog.Group {
			m, err := r.Service.SaveModule(ctx, r.Key(), catalog.Module{ProgramID: prog.ID, Name: "Weekly", Price: funding.MustMoney("9000.00"),
				NormativePrice: funding.MustMoney("9000.00"), Hours: 72, WeeklyHours: hours}, sys)
			require.NoError(t, err)
			return r.AddGroup(m, 10)
		}
		robotics := weekly(r.Program, 4)
		chess := weekly(r.Program, 4)
		significant, err := r.Service.SaveProgram(ctx, r.Key(), catalog.Program{
			ProviderID: r.Provider.ID, Name: "Choir", Scheme: certificate.Supplementary, Direction: catalog.Arts,
			Registry: catalog.Significant, MinAge: 5, MaxAge: 17, Certified: true, EnrolmentOpen: true, Municipality: storagetest.Municipality,
		}, sys)
		require.NoError(t, err)
		choir := weekly(significant, 4)

		res, err := r.Service.Issue(ctx, r.Key(), enrollment.IssueRequest{
			Holder: certificate.Holder{PersonID: "hours-child", FullName: "Петров Иван", BirthDate: funding.MustDate(2015, time.March, 10),
				Sex: certificate.Male, Citizenship: "RU", Region: "reg-1", Municipality: storagetest.Municipality, Registration: certificate.Permanent},
			GuardianID: "parent-1", Category: "hours", Funded: true, By: sys,
		})
		require.NoError(t, err)
		cert := res.Certificate
		_, err = r.Service.ChangeStatus(ctx, r.Key(), cert.ID, enrollment.ActivateCertificate, sys)
		require.NoError(t, err)
		hours := func() enrollment.CabinetHours {
			cab, err := r.Service.Cabinet(ctx, sys, cert.ID)
			require.NoError(t, err)
			require.NotNil(t, cab.Hours, "the cabinet of a certificate in hours shows them")
			return *cab.Hours
		}
		require.Equal(t, enrollment.CabinetHours{Base: 6, Extra: 2, FreeBase: 6, FreeExtra: 2}, hours())
		require.Equal(t, "0.00", r.Money(cert.ID).Nominal.String())

		submit := func(g catalog.Group) (enrollment.Contract, error) {
			return r.Service.Submit(ctx, r.Key(), enrollment.SubmitRequest{CertificateID: cert.ID, GroupID: g.ID, By: enrollment.AsHolder("parent-1")})
		}
		_, err = submit(robotics)
		require.ErrorIs(t, err, enrollment.ErrNoChildHourCost)
		_, err = submit(r.Group) // a module without weekly hours
		require.ErrorIs(t, err, enrollment.ErrNoWeeklyHours)

		_, err = r.Service.SetParameter(ctx, r.Key(), enrollment.ParameterRequest{Name: "child_hour_cost", From: r.Service.Today(),
			Value: "150.00", Reason: "приказ № 3", By: ops})
		require.NoError(t, err)
		// 4 h/week over 122 days at 150.00 is worth 10457.15; the module's
		// price for those days, 4021.98, is what the certificate pays.
		c, err := submit(robotics)
		require.NoError(t, err)
		require.Equal(t, "4021.98", c.Price.Cert.String())
		require.Equal(t, funding.HoursHold{Base: 4}, c.Hours)
		require.Equal(t, enrollment.CabinetHours{Base: 6, Extra: 2, UsedBase: 4, FreeBase: 2, FreeExtra: 2}, hours())
		m := r.Money(cert.ID)
		require.Equal(t, [3]string{"4021.98", "0.00", "4021.98"}, [3]string{m.Nominal.String(), m.Balance.String(), m.Reserved.String()})

		_, err = submit(chess)
		require.ErrorIs(t, err, funding.ErrInsufficientHours, "2 base hours left; the extra ones are the significant registry's")
		choirC, err := submit(choir)
		require.NoError(t, err)
		require.Equal(t, funding.HoursHold{Base: 2, Extra: 2}, choirC.Hours, "the extra hours first")
		require.True(t, choirC.Price.Cert.IsZero(), "a budget-funded registry takes no money of the certificate")

		_, err = r.Service.Confirm(ctx, r.Key(), enrollment.ContractRequest{ContractID: c.ID, By: enrollment.AsProvider(r.Provider.ID)})
		require.NoError(t, err)
		_, err = r.Service.Accept(ctx, r.Key(), enrollment.ContractRequest{ContractID: c.ID, By: enrollment.AsHolder("parent-1")})
		require.NoError(t, err)
		r.At(2025, time.October, 1)
		_, err = r.Service.CloseMonth(ctx, funding.Month{Year: 2025, Month: time.October}, nil)
		require.NoError(t, err)
		_, err = r.Service.Terminate(ctx, r.Key(), enrollment.ContractRequest{ContractID: c.ID, By: enrollment.AsHolder("parent-1")})
		require.NoError(t, err)
		require.Equal(t, enrollment.CabinetHours{Base: 6, Extra: 2, UsedBase: 2, UsedExtra: 2, FreeBase: 4}, hours(), "the hours are free at once")
		m = r.Money(cert.ID)
		require.Equal(t, "0.00", m.Balance.String(), "the money the contract gave back leaves the balance")
		require.Equal(t, "0.00", m.Reserved.String())
		require.Equal(t, m.Spent.String(), m.Nominal.String(), "what is left of the nominal is what was spent")
		require.True(t, m.Spent.IsPositive())

		// 6+2 → 4+1 would leave the choir's 2 extra hours without room.
		_, err = r.Service.SetParameter(ctx, r.Key(), enrollment.ParameterRequest{Name: "category_hours", Scope: "hours", From: r.Service.Today(),
			Value: "4+1", Reason: "постановление", By: ops})
		require.ErrorIs(t, err, enrollment.ErrNominalCut)
		_, err = r.Service.SetParameter(ctx, r.Key(), enrollment.ParameterRequest{Name: "category_hours", Scope: "city", From: r.Service.Today(),
			Value: "4+1", Reason: "постановление", By: ops})
		var ve *funding.ValidationError
		require.ErrorAs(t, err, &ve, "city's nominal is money")
		_, err = r.Service.SetParameter(ctx, r.Key(), enrollment.ParameterRequest{Name: "category_hours", Scope: "hours", From: funding.MustDate(2026, time.January, 1),
			Value: "8+2", Reason: "со следующего периода", By: ops})
		require.NoError(t, err)

		_, err = r.Service.Withdraw(ctx, r.Key(), enrollment.ContractRequest{ContractID: choirC.ID, By: enrollment.AsHolder("parent-1")})
		require.NoError(t, err)
		require.Equal(t, enrollment.CabinetHours{Base: 6, Extra: 2, FreeBase: 6, FreeExtra: 2}, hours())
		// Saving the category with new hours moves its certificates at once.
		_, err = r.Service.SaveCategory(ctx, r.Key(), certificate.Category{Code: "hours", HoursBase: 5, HoursExtra: 2}, ops)
		require.NoError(t, err)
		require.Equal(t, enrollment.CabinetHours{Base: 5, Extra: 2, FreeBase: 5, FreeExtra: 2}, hours())
		storagetest.CheckInvariants(t, db)

		// The next period opens with the version from its first day.
		r.At(2026, time.January, 1)
		_, err = r.Service.Rollover(ctx, storagetest.Autumn, nil)
		require.NoError(t, err)
		require.Equal(t, enrollment.CabinetHours{Base: 8, Extra: 2, FreeBase: 8, FreeExtra: 2}, hours())
	})
}
