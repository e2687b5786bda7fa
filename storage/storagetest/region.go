package storagetest

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/edufund/edufund/catalog"
	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/funding"
)

// Municipality is the one municipality of a Region.
const Municipality = "mun-1"

// Autumn is the four-month period of rules.md's ledger example, a Region's
// first: with it the first submission on 1 September depletes nothing.
var Autumn = funding.Period{Start: funding.MustDate(2025, time.September, 1), End: funding.MustDate(2025, time.December, 31)}

// periodOf is a Region's funding periods: Autumn, then January to August
// 2026, then calendar years.
func periodOf(d funding.Date) funding.Period {
	if Autumn.Contains(d) {
		return Autumn
	}
	if d.After(Autumn.End) && d.Before(funding.MustDate(2026, time.September, 1)) {
		return funding.Period{Start: funding.MustDate(2026, time.January, 1), End: funding.MustDate(2026, time.August, 31)}
	}
	return funding.CalendarYear(d.Year())
}

// Region is a small region for scenarios of the services on one store: one
// municipality (Municipality) funding children through a "city" category of
// 30,000.00, an adult quota of 5 a year, and a provider with a certified
// robotics program whose module is priced as in rules.md's worked example
// (9,000.00 for 1 September 2025 to 31 May 2026), in one group. Its clock
// starts at 09:00 UTC on 1 September 2025.
type Region struct {
	t        testing.TB
	Service  *enrollment.Service
	Clock    *funding.FixedClock
	Provider catalog.Provider
	Program  catalog.Program
	Module   catalog.Module
	Group    catalog.Group
	keys     atomic.Int64
}

// RegionOptions sets up a Region.
type RegionOptions struct {
	Capacity int           // of the first group; 15 when zero
	Budget   funding.Money // the municipality's limit for Autumn; none when zero
}

// NewRegion sets up a Region on s through its services.
func NewRegion(t testing.TB, s enrollment.Store, o RegionOptions) *Region {
	t.Helper()
	if o.Capacity == 0 {
		o.Capacity = 15
	}
	cfg := enrollment.DefaultConfig()
	cfg.PeriodOf = periodOf
	// The worked example's four-month period holds the whole 30,000.00.
	cfg.NominalPerPeriod = true
	cfg.Children.Municipalities = map[string]bool{Municipality: true}
	cfg.Adults.Regions = map[string]bool{"reg-1": true}
	cfg.AdultQuota = func(int) int64 { return 5 }
	clock := &funding.FixedClock{T: time.Date(2025, time.September, 1, 9, 0, 0, 0, time.UTC)}
	r := &Region{t: t, Service: enrollment.NewService(s, clock, cfg), Clock: clock}
	ctx := context.Background()
	_, err := r.Service.SaveCategory(ctx, r.Key(), certificate.Category{Code: "city", Nominal: funding.MustMoney("30000.00")}, enrollment.AsSystem("test"))
	require.NoError(t, err)
	if !o.Budget.IsZero() {
		_, err = r.Service.SetBudget(ctx, r.Key(), enrollment.BudgetRequest{Municipality: Municipality, Period: Autumn, Limit: o.Budget, By: enrollment.AsSystem("test")})
		require.NoError(t, err)
	}
	r.Provider, err = r.Service.SaveProvider(ctx, r.Key(), catalog.Provider{
		Name: "Robotics school", INN: "7707083893", Municipality: Municipality,
		Address: "ул. Ленина, 1", Phone: "+7 (383) 123-45-67", Email: "robotics@example.ru", Site: "https://robotics.example.ru",
		Agreements: []catalog.Agreement{{Municipality: Municipality, Period: funding.Period{Start: Autumn.Start, End: funding.MustDate(2026, time.August, 31)}}},
	}, enrollment.AsSystem("test"))
	require.NoError(t, err)
	r.Program, err = r.Service.SaveProgram(ctx, r.Key(), catalog.Program{
		ProviderID: r.Provider.ID, Name: "Robotics", Scheme: certificate.Supplementary,
		Direction: catalog.TechnicalRobotics, Registry: catalog.Certified, MinAge: 5, MaxAge: 17,
		Certified: true, EnrolmentOpen: true, Municipality: Municipality,
		Annotation: "Роботы из конструктора", Description: "Собираем роботов.\nПрограммируем их.",
		Goals: "Научить собирать и программировать", Tags: []string{"робототехника", "lego"},
	}, enrollment.AsSystem("test"))
	require.NoError(t, err)
	r.Module, err = r.Service.SaveModule(ctx, r.Key(), catalog.Module{
		ProgramID: r.Program.ID, Name: "Year 1", Price: funding.MustMoney("9000.00"),
		NormativePrice: funding.MustMoney("9000.00"), Hours: 72, MaxChildren: 0,
	}, enrollment.AsSystem("test"))
	require.NoError(t, err)
	r.Group = r.NewGroup(o.Capacity)
	return r
}

// NewGroup adds a group of the given capacity to the region's Module, from
// 1 September 2025 to 31 May 2026.
func (r *Region) NewGroup(capacity int) catalog.Group { return r.AddGroup(r.Module, capacity) }

// AddGroup is NewGroup for another module.
func (r *Region) AddGroup(m catalog.Module, capacity int) catalog.Group {
	g, err := r.Service.SaveGroup(context.Background(), r.Key(), catalog.Group{
		ModuleID: m.ID, Name: "G-" + uuid.NewString()[:8], Start: funding.MustDate(2025, time.September, 1),
		End: funding.MustDate(2026, time.May, 31), Capacity: capacity,
	}, enrollment.AsSystem("test"))
	require.NoError(r.t, err)
	return g
}

// Key is a fresh idempotency key.
func (r *Region) Key() string {
	return fmt.Sprintf("k-%s-%d", uuid.NewString(), r.keys.Add(1))
}

// At sets the clock to 09:00 UTC on the given day.
func (r *Region) At(y int, m time.Month, d int) {
	r.Clock.T = time.Date(y, m, d, 9, 0, 0, 0, time.UTC)
}

// Child issues, funds and activates a child's certificate; i tells
// children apart in their names.
func (r *Region) Child(i int) certificate.Certificate {
	r.t.Helper()
	return r.ChildIn(i, "city")
}

// ChildIn is Child in another category of the region's.
func (r *Region) ChildIn(i int, category string) certificate.Certificate {
	r.t.Helper()
	ctx := context.Background()
	res, err := r.Service.Issue(ctx, r.Key(), enrollment.IssueRequest{
		Holder: certificate.Holder{
			PersonID: fmt.Sprintf("person-%d-%s", i, uuid.NewString()[:8]), FullName: fmt.Sprintf("Иванов Пётр %d", i),
			BirthDate: funding.MustDate(2015, time.March, 10), Sex: certificate.Male, Citizenship: "RU",
			Region: "reg-1", Municipality: Municipality, Registration: certificate.Permanent,
		},
		GuardianID: "parent-1", Category: category, Funded: true,
		By: enrollment.AsSystem("test"),
	})
	require.NoError(r.t, err)
	require.False(r.t, res.Queued)
	c, err := r.Service.ChangeStatus(ctx, r.Key(), res.Certificate.ID, enrollment.ActivateCertificate, enrollment.AsSystem("operator"))
	require.NoError(r.t, err)
	return c
}

// Children is Child(0) to Child(n-1).
func (r *Region) Children(n int) []certificate.Certificate {
	certs := make([]certificate.Certificate, n)
	for i := range certs {
		certs[i] = r.Child(i)
	}
	return certs
}

// Money is the money of certificate id's cabinet; the test fails when the
// cabinet shows none.
func (r *Region) Money(id uuid.UUID) enrollment.CabinetMoney {
	r.t.Helper()
	cab, err := r.Service.Cabinet(context.Background(), enrollment.AsSystem("test"), id)
	require.NoError(r.t, err)
	require.NotNil(r.t, cab.Money, "cabinet shows money")
	return *cab.Money
}

// Contracts is the contracts of certificate certID's cabinet.
func (r *Region) Contracts(certID uuid.UUID) ([]enrollment.Contract, error) {
	cab, err := r.Service.Cabinet(context.Background(), enrollment.AsSystem("test"), certID)
	return cab.Contracts, err
}

// InvoiceAmounts is the amount of each kind of invoice in inv.
func InvoiceAmounts(inv []enrollment.Invoice) map[enrollment.InvoiceKind]string {
	out := map[enrollment.InvoiceKind]string{}
	for _, i := range inv {
		out[i.Kind] = i.Amount.String()
	}
	return out
}

// IsRefusal reports whether err is a rule saying no, as opposed to a
// failure.
func IsRefusal(err error) bool {
	var re *funding.RuleError
	return errors.As(err, &re) || errors.Is(err, enrollment.ErrForbiddenTransition) || errors.Is(err, funding.ErrInvalid)
}
