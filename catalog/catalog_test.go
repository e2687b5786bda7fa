package catalog_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/edufund/edufund/catalog"
	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/funding"
)

var d = funding.MustDate

func validProvider() catalog.Provider {
	return catalog.Provider{
		Name: "Дом творчества", INN: "7701234567", Municipality: "city",
		Agreements: []catalog.Agreement{{Municipality: "city", Period: funding.CalendarYear(2025)}},
	}
}

func validProgram() catalog.Program {
	return catalog.Program{
		Name: "Робототехника", Scheme: certificate.Supplementary, Direction: catalog.TechnicalRobotics,
		Registry: catalog.Certified, MinAge: 5, MaxAge: 12, Certified: true, EnrolmentOpen: true, Municipality: "city",
	}
}

func validAdultProgram() catalog.Program {
	return catalog.Program{
		Name: "Python", Scheme: certificate.DigitalSkills, CompetencyArea: "Big data", AcademicHours: 72, EnrolmentOpen: true,
	}
}

func validModule() catalog.Module {
	return catalog.Module{Name: "Модуль 1", Price: funding.MustMoney("9000.00"), NormativePrice: funding.MustMoney("9000.00"), Hours: 72, MinChildren: 5, MaxChildren: 15}
}

func validGroup() catalog.Group {
	return catalog.Group{Name: "Группа 1", Start: d(2025, time.September, 1), End: d(2026, time.May, 31), Capacity: 15}
}

func requireField(t *testing.T, err error, field string) {
	t.Helper()
	require.Error(t, err)
	require.ErrorIs(t, err, funding.ErrInvalid)
	var ve *funding.ValidationError
	require.True(t, errors.As(err, &ve))
	require.Equal(t, field, ve.Field)
}

func TestNewProvider(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(*catalog.Provider)
		field string // "" = valid
	}{
		{"valid 10-digit INN", func(*catalog.Provider) {}, ""},
		{"valid 12-digit INN", func(p *catalog.Provider) { p.INN = "770123456789" }, ""},
		{"blank name", func(p *catalog.Provider) { p.Name = "  " }, "name"},
		{"INN 11 digits", func(p *catalog.Provider) { p.INN = "77012345678" }, "inn"},
		{"INN 9 digits", func(p *catalog.Provider) { p.INN = "770123456" }, "inn"},
		{"INN with a letter", func(p *catalog.Provider) { p.INN = "77012345a7" }, "inn"},
		{"INN empty", func(p *catalog.Provider) { p.INN = "" }, "inn"},
		{"negative limit", func(p *catalog.Provider) { p.EnrolmentLimit = -1 }, "enrolment_limit"},
		{"agreement without municipality", func(p *catalog.Provider) { p.Agreements[0].Municipality = "" }, "agreements[0].municipality"},
		{"agreement with reversed period", func(p *catalog.Provider) {
			p.Agreements[0].Period = funding.Period{Start: d(2025, time.December, 31), End: d(2025, time.January, 1)}
		}, "agreements[0].period"},
		{"NUL in the name", func(p *catalog.Provider) { p.Name = "Дом\x00" }, "name"},
		{"escape in the name", func(p *catalog.Provider) { p.Name = "a\u0007\u001b[31mb" }, "name"},
		{"long name", func(p *catalog.Provider) { p.Name = strings.Repeat("я", 301) }, "name"},
		{"INN with a NUL", func(p *catalog.Provider) { p.INN = "770123456\x007" }, "inn"},
		{"NUL in the municipality", func(p *catalog.Provider) { p.Municipality = "city\x00" }, "municipality"},
		{"only invisible municipality of an agreement", func(p *catalog.Provider) { p.Agreements[0].Municipality = "\u200b" }, "agreements[0].municipality"},
		{"long municipality of an agreement", func(p *catalog.Provider) { p.Agreements[0].Municipality = strings.Repeat("м", 41) }, "agreements[0].municipality"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := validProvider()
			tt.edit(&p)
			got, err := catalog.NewProvider(p)
			if tt.field == "" {
				require.NoError(t, err)
				require.NotEqual(t, uuid.Nil, got.ID)
				require.Equal(t, uuid.Version(7), got.ID.Version())
				return
			}
			requireField(t, err, tt.field)
		})
	}
}

func TestNewProviderKeepsID(t *testing.T) {
	p := validProvider()
	p.ID = uuid.MustParse("01890000-0000-7000-8000-000000000001")
	got, err := catalog.NewProvider(p)
	require.NoError(t, err)
	require.Equal(t, p.ID, got.ID)
}

func TestNewProgram(t *testing.T) {
	tests := []struct {
		name  string
		base  func() catalog.Program
		edit  func(*catalog.Program)
		field string
	}{
		{"valid children's", validProgram, func(*catalog.Program) {}, ""},
		{"valid adult", validAdultProgram, func(*catalog.Program) {}, ""},
		{"ages 0..18", validProgram, func(p *catalog.Program) { p.MinAge, p.MaxAge = 0, 18 }, ""},
		{"blank name", validProgram, func(p *catalog.Program) { p.Name = "" }, "name"},
		{"unknown scheme", validProgram, func(p *catalog.Program) { p.Scheme = "other" }, "scheme"},
		{"unknown direction", validProgram, func(p *catalog.Program) { p.Direction = "chess" }, "direction"},
		{"empty direction", validProgram, func(p *catalog.Program) { p.Direction = "" }, "direction"},
		{"unknown registry", validProgram, func(p *catalog.Program) { p.Registry = "secret" }, "registry"},
		{"negative min age", validProgram, func(p *catalog.Program) { p.MinAge = -1 }, "min_age"},
		{"max below min", validProgram, func(p *catalog.Program) { p.MinAge, p.MaxAge = 10, 9 }, "max_age"},
		{"max above 18", validProgram, func(p *catalog.Program) { p.MaxAge = 19 }, "max_age"},
		{"negative limit", validProgram, func(p *catalog.Program) { p.EnrolmentLimit = -1 }, "enrolment_limit"},
		{"adult without competency area", validAdultProgram, func(p *catalog.Program) { p.CompetencyArea = " " }, "competency_area"},
		{"adult 35 hours", validAdultProgram, func(p *catalog.Program) { p.AcademicHours = 35 }, "academic_hours"},
		{"adult 36 hours", validAdultProgram, func(p *catalog.Program) { p.AcademicHours = 36 }, ""},
		{"adult 114 hours", validAdultProgram, func(p *catalog.Program) { p.AcademicHours = 114 }, ""},
		{"adult 115 hours", validAdultProgram, func(p *catalog.Program) { p.AcademicHours = 115 }, "academic_hours"},
		{"adult max below min", validAdultProgram, func(p *catalog.Program) { p.MinAge, p.MaxAge = 30, 20 }, "max_age"},
		{"adult unknown direction", validAdultProgram, func(p *catalog.Program) { p.Direction = "\x00" }, "direction"},
		{"adult unknown registry", validAdultProgram, func(p *catalog.Program) { p.Registry = "a\u001b" }, "registry"},
		{"adult known registry", validAdultProgram, func(p *catalog.Program) { p.Registry = catalog.Paid }, ""},
		{"NUL in the name", validProgram, func(p *catalog.Program) { p.Name = "\x00" }, "name"},
		{"NUL in the municipality", validProgram, func(p *catalog.Program) { p.Municipality = "city\x00" }, "municipality"},
		{"NUL in a children's program's competency area", validProgram, func(p *catalog.Program) { p.CompetencyArea = "\x00" }, "competency_area"},
		{"escape in the competency area", validAdultProgram, func(p *catalog.Program) { p.CompetencyArea = "AI\u001b[2J" }, "competency_area"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := tt.base()
			tt.edit(&p)
			got, err := catalog.NewProgram(p)
			if tt.field == "" {
				require.NoError(t, err)
				require.Equal(t, uuid.Version(7), got.ID.Version())
				return
			}
			requireField(t, err, tt.field)
		})
	}
}

func TestNewModule(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(*catalog.Module)
		field string
	}{
		{"valid", func(*catalog.Module) {}, ""},
		{"free module", func(m *catalog.Module) { m.Price, m.NormativePrice = funding.Zero, funding.Zero }, ""},
		{"max children not set", func(m *catalog.Module) { m.MaxChildren = 0 }, ""},
		{"blank name", func(m *catalog.Module) { m.Name = "" }, "name"},
		{"negative price", func(m *catalog.Module) { m.Price = funding.MustMoney("-0.01") }, "price"},
		{"negative normative", func(m *catalog.Module) { m.NormativePrice = funding.MustMoney("-1.00") }, "normative_price"},
		{"zero hours", func(m *catalog.Module) { m.Hours = 0 }, "hours"},
		{"negative min children", func(m *catalog.Module) { m.MinChildren = -1 }, "min_children"},
		{"negative max children", func(m *catalog.Module) { m.MaxChildren = -1 }, "max_children"},
		{"max below min children", func(m *catalog.Module) { m.MinChildren, m.MaxChildren = 10, 9 }, "max_children"},
		{"NUL in the name", func(m *catalog.Module) { m.Name = "Модуль\x00" }, "name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := validModule()
			tt.edit(&m)
			got, err := catalog.NewModule(m)
			if tt.field == "" {
				require.NoError(t, err)
				require.NotEqual(t, uuid.Nil, got.ID)
				return
			}
			requireField(t, err, tt.field)
		})
	}
}

func TestNewGroup(t *testing.T) {
	mod, err := catalog.NewModule(validModule())
	require.NoError(t, err)
	tests := []struct {
		name  string
		mod   func(catalog.Module) catalog.Module
		edit  func(*catalog.Group)
		field string
	}{
		{"valid", nil, func(*catalog.Group) {}, ""},
		{"one-day group", nil, func(g *catalog.Group) { g.End = g.Start }, ""},
		{"capacity at max children", nil, func(g *catalog.Group) { g.Capacity = 15 }, ""},
		{"capacity above max children", nil, func(g *catalog.Group) { g.Capacity = 16 }, "capacity"},
		{"capacity above unset max children", func(m catalog.Module) catalog.Module { m.MaxChildren = 0; return m },
			func(g *catalog.Group) { g.Capacity = 40 }, ""},
		{"zero capacity", nil, func(g *catalog.Group) { g.Capacity = 0 }, "capacity"},
		{"end before start", nil, func(g *catalog.Group) { g.End = g.Start.AddDays(-1) }, "end"},
		{"no start", nil, func(g *catalog.Group) { g.Start = funding.Date{} }, "start"},
		{"no end", nil, func(g *catalog.Group) { g.End = funding.Date{} }, "end"},
		{"other module", nil, func(g *catalog.Group) { g.ModuleID = uuid.MustParse("01890000-0000-7000-8000-000000000009") }, "module_id"},
		{"NUL in the name", nil, func(g *catalog.Group) { g.Name = "\x00" }, "name"},
		{"line feed in the schedule", nil, func(g *catalog.Group) { g.Schedule = "пн\nср" }, "schedule"},
		{"long schedule", nil, func(g *catalog.Group) { g.Schedule = strings.Repeat("я", 301) }, "schedule"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := mod
			if tt.mod != nil {
				m = tt.mod(m)
			}
			g := validGroup()
			tt.edit(&g)
			got, err := catalog.NewGroup(g, &m)
			if tt.field == "" {
				require.NoError(t, err)
				require.Equal(t, m.ID, got.ModuleID)
				require.NotEqual(t, uuid.Nil, got.ID)
				return
			}
			requireField(t, err, tt.field)
		})
	}
}

func TestNewGroupWithoutModule(t *testing.T) {
	g := validGroup()
	_, err := catalog.NewGroup(g, nil)
	requireField(t, err, "module_id")

	g.ModuleID = uuid.MustParse("01890000-0000-7000-8000-000000000009")
	g.Capacity = 40 // no module at hand: no max_children to compare with
	got, err := catalog.NewGroup(g, nil)
	require.NoError(t, err)
	require.Equal(t, g.ModuleID, got.ModuleID)

	g.Capacity = 0
	_, err = catalog.NewGroup(g, nil)
	requireField(t, err, "capacity")
}

func TestAgeOn(t *testing.T) {
	tests := []struct {
		birth, on funding.Date
		want      int
	}{
		{d(2020, time.September, 1), d(2025, time.September, 1), 5},
		{d(2020, time.September, 2), d(2025, time.September, 1), 4},
		{d(2020, time.August, 31), d(2025, time.September, 1), 5},
		{d(2012, time.February, 29), d(2025, time.February, 28), 12},
		{d(2012, time.February, 29), d(2025, time.March, 1), 13},
		{d(2012, time.February, 29), d(2024, time.February, 29), 12},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, catalog.AgeOn(tt.birth, tt.on), "%s on %s", tt.birth, tt.on)
	}
}

// TestConstructorsCleanTexts: the constructors store a text as funding.Text
// leaves it (trimmed, NFC, without invisible characters), so that two names
// or codes that look the same are the same.
func TestConstructorsCleanTexts(t *testing.T) {
	p := validProvider()
	p.Name, p.INN, p.Municipality = " Дом\u200b творчества ", " 7701234567", "\ufeffcity"
	p.Agreements = []catalog.Agreement{{Municipality: "city\u00ad", Period: funding.CalendarYear(2025)}}
	prov, err := catalog.NewProvider(p)
	require.NoError(t, err)
	require.Equal(t, []string{"Дом творчества", "7701234567", "city", "city"}, []string{prov.Name, prov.INN, prov.Municipality, prov.Agreements[0].Municipality})
	require.Equal(t, "city\u00ad", p.Agreements[0].Municipality, "the caller's agreements are not changed")

	prog := validAdultProgram()
	prog.Name, prog.CompetencyArea, prog.Municipality = "Pytho\u200bn", " Искусственныи\u0306 интеллект", "city "
	gotProg, err := catalog.NewProgram(prog)
	require.NoError(t, err)
	require.Equal(t, []string{"Python", "Искусственный интеллект", "city"}, []string{gotProg.Name, gotProg.CompetencyArea, gotProg.Municipality})

	m := validModule()
	m.Name = "\u202eМодуль 1"
	mod, err := catalog.NewModule(m)
	require.NoError(t, err)
	require.Equal(t, "Модуль 1", mod.Name)

	g := validGroup()
	g.Name, g.Schedule = "Группа 1\u200b", " пн, ср 16:00 "
	grp, err := catalog.NewGroup(g, &mod)
	require.NoError(t, err)
	require.Equal(t, []string{"Группа 1", "пн, ср 16:00"}, []string{grp.Name, grp.Schedule})
}
