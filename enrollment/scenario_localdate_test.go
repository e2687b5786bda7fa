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

// TestRegionLocalDate: every date the rules see is the region's local date.
// Half an hour after local midnight on 1 April and on 1 January it is still
// the previous day in UTC for Moscow (UTC+3) and Vladivostok (UTC+10), yet
// the new month can be closed, the new year rolled over, a child turning
// five that day gets a certificate, and an unused nominal has shrunk by a
// month. Half an hour before local midnight none of that happens yet.
func TestRegionLocalDate(t *testing.T) {
	vladivostok, err := time.LoadLocation("Asia/Vladivostok")
	require.NoError(t, err)
	for _, zone := range []*time.Location{enrollment.Moscow, vladivostok} {
		t.Run(zone.String(), func(t *testing.T) {
			storagetest.Each(t, func(t *testing.T, db *storage.DB) { testLocalDate(t, db, zone) })
		})
	}
}

func testLocalDate(t *testing.T, db *storage.DB, zone *time.Location) {
	ctx := context.Background()
	cfg := enrollment.DefaultConfig()
	cfg.Location = zone
	cfg.Children.Municipalities = map[string]bool{storagetest.Municipality: true}
	clock := &funding.FixedClock{}
	at := func(y int, mo time.Month, d, h, min int) {
		clock.T = time.Date(y, mo, d, h, min, 0, 0, zone)
	}
	svc := enrollment.NewService(db, clock, cfg)
	keys := 0
	key := func() string { keys++; return "local-date-" + time.Duration(keys).String() }

	at(2026, time.January, 10, 12, 0)
	_, err := svc.SaveCategory(ctx, key(), certificate.Category{Code: "city", Nominal: money("12000.00")}, enrollment.AsSystem("test"))
	require.NoError(t, err)
	issue := func(person string, born funding.Date) (certificate.Certificate, error) {
		res, err := svc.Issue(ctx, key(), enrollment.IssueRequest{
			Holder: certificate.Holder{PersonID: person, FullName: "Петров Иван", BirthDate: born,
				Citizenship: "RU", Municipality: storagetest.Municipality, Registration: certificate.Permanent},
			GuardianID: "parent-local", Category: "city", Funded: true,
			By: enrollment.AsSystem("test"),
		})
		return res.Certificate, err
	}
	cert, err := issue("child-local-1", funding.MustDate(2018, time.May, 5))
	require.NoError(t, err)
	usable := func() string {
		cab, err := svc.Cabinet(ctx, enrollment.AsSystem("test"), cert.ID)
		require.NoError(t, err)
		return cab.Money.Usable.String()
	}
	fiveOnFirstOfApril := funding.MustDate(2021, time.April, 1)

	// 23:30 on 31 March, local: still March.
	at(2026, time.March, 31, 23, 30)
	require.Equal(t, "2026-03-31", svc.Today().String())
	require.Equal(t, "10000.00", usable(), "ten months of twelve remain, March counted")
	_, err = svc.CloseMonth(ctx, funding.Month{Year: 2026, Month: time.April}, nil)
	require.ErrorIs(t, err, enrollment.ErrMonthNotStarted)
	_, err = issue("child-local-2", fiveOnFirstOfApril)
	require.ErrorIs(t, err, enrollment.ErrIneligible, "the child is five only tomorrow")

	// 00:30 on 1 April, local (UTC is still on 31 March).
	at(2026, time.April, 1, 0, 30)
	require.Equal(t, time.March, clock.T.UTC().Month(), "the test needs a UTC date that differs")
	require.Equal(t, "2026-04-01", svc.Today().String())
	require.Equal(t, "9000.00", usable(), "nine months remain from April")
	_, err = issue("child-local-2", fiveOnFirstOfApril)
	require.NoError(t, err, "five today")
	rep, err := svc.CloseMonth(ctx, funding.Month{Year: 2026, Month: time.April}, nil)
	require.NoError(t, err)
	require.Empty(t, rep.Failed)

	// A contract submitted at 23:30 on the last day of a month starts that
	// day, locally.
	g := localGroup(t, svc, key)
	at(2026, time.April, 30, 23, 30)
	c, err := svc.Submit(ctx, key(), enrollment.SubmitRequest{CertificateID: cert.ID, GroupID: g.ID, By: enrollment.AsSystem("test")})
	require.NoError(t, err)
	require.Equal(t, "2026-04-30", c.Start.String())

	// 23:30 on 31 December, local: the year has not ended.
	at(2026, time.December, 31, 23, 30)
	_, err = svc.Rollover(ctx, funding.CalendarYear(2026), nil)
	require.ErrorIs(t, err, enrollment.ErrPeriodNotEnded)
	_, err = svc.CloseMonth(ctx, funding.Month{Year: 2027, Month: time.January}, nil)
	require.ErrorIs(t, err, enrollment.ErrMonthNotStarted)

	// 00:30 on 1 January, local (UTC is still on 31 December).
	at(2027, time.January, 1, 0, 30)
	require.Equal(t, 2026, clock.T.UTC().Year())
	roll, err := svc.Rollover(ctx, funding.CalendarYear(2026), nil)
	require.NoError(t, err)
	require.Empty(t, roll.Failed)
	require.Equal(t, 2, roll.Granted)
	storagetest.CheckInvariants(t, db)
}

// localGroup is a year-long group of a certified robotics program.
func localGroup(t *testing.T, svc *enrollment.Service, key func() string) catalog.Group {
	ctx := context.Background()
	year := funding.CalendarYear(2026)
	prov, err := svc.SaveProvider(ctx, key(), catalog.Provider{Name: "Школа роботов", INN: "7707083893", Municipality: storagetest.Municipality,
		Agreements: []catalog.Agreement{{Municipality: storagetest.Municipality, Period: year}}}, enrollment.AsSystem("test"))
	require.NoError(t, err)
	prog, err := svc.SaveProgram(ctx, key(), catalog.Program{ProviderID: prov.ID, Name: "Роботы", Scheme: certificate.Supplementary,
		Direction: catalog.TechnicalRobotics, Registry: catalog.Certified, MinAge: 5, MaxAge: 17, Certified: true, EnrolmentOpen: true}, enrollment.AsSystem("test"))
	require.NoError(t, err)
	mod, err := svc.SaveModule(ctx, key(), catalog.Module{ProgramID: prog.ID, Name: "Год 1", Price: money("3650.00"), NormativePrice: money("3650.00"), Hours: 72}, enrollment.AsSystem("test"))
	require.NoError(t, err)
	g, err := svc.SaveGroup(ctx, key(), catalog.Group{ModuleID: mod.ID, Name: "Г-1", Start: year.Start, End: year.End, Capacity: 10}, enrollment.AsSystem("test"))
	require.NoError(t, err)
	return g
}
