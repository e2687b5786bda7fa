package scenario

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"
	// A scenario names its region's zone; the zone database travels in the
	// binary so that it loads on a host without /usr/share/zoneinfo.
	_ "time/tzdata"

	"github.com/shopspring/decimal"

	"github.com/edufund/edufund/catalog"
	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/funding"
)

// regionSpec is a region's parameters: the keys of the reference server's
// region file (examples/server/region), and those of enrollment.Config the
// file does not carry yet.
type regionSpec struct {
	Name                    string           `yaml:"name"`
	TimeZone                string           `yaml:"time_zone"`
	Period                  string           `yaml:"period"` // calendar_year (default) or school_year
	AdvanceShare            *decimal.Decimal `yaml:"advance_share"`
	ProlongationSilenceDays *int             `yaml:"prolongation_silence_days"`
	RegistryQuotas          map[string]int   `yaml:"registry_quotas"`
	Children                childrenSpec     `yaml:"children"`
	Adults                  *adultsSpec      `yaml:"adults"`
	Lockout                 *lockoutSpec     `yaml:"lockout"`

	// Periods are funding periods that replace the period's shape on their
	// dates: a short transition period, such as 2025-09-01..2025-12-31.
	Periods []span `yaml:"periods"`
	// NominalPerPeriod: a category's nominal is each period's as it is;
	// by default it is annual and a shorter period gets its share.
	NominalPerPeriod bool `yaml:"nominal_per_period"`
	// Parameters are dated changes to the values above, as in the
	// server's region file (enrollment.Parameters).
	Parameters []versionSpec `yaml:"parameters"`
}

type childrenSpec struct {
	Municipalities       []string       `yaml:"municipalities"`
	MinAge               int            `yaml:"min_age"`
	MinAgeByMunicipality map[string]int `yaml:"min_age_by_municipality"`
}

type adultsSpec struct {
	Regions               []string         `yaml:"regions"`
	MinAge                int              `yaml:"min_age"`
	Citizenship           string           `yaml:"citizenship"`
	Quota                 *int64           `yaml:"quota"`
	QuotaByYear           map[string]int64 `yaml:"quota_by_year"`
	DocumentsDeadlineDays int              `yaml:"documents_deadline_days"`
	PensionAges           []pensionAgeSpec `yaml:"pension_ages"`
	// Coverage is the share of a course the certificate pays, by the
	// holder's category (1 when not listed).
	Coverage map[string]decimal.Decimal `yaml:"coverage"`
	// Stages split the payment of a completed course.
	Stages []decimal.Decimal `yaml:"stages"`
}

// versionSpec is a dated version of a parameter.
type versionSpec struct {
	Name   string       `yaml:"name,required"`
	Scope  string       `yaml:"scope"`
	From   funding.Date `yaml:"from,required"`
	Value  string       `yaml:"value,required"`
	Reason string       `yaml:"reason"`
}

// pensionAgeSpec is a row of a region's pension-age table: people of Sex
// born from BornFrom to BornTo (0: any earlier, any later year) reach it at
// Years and Months.
type pensionAgeSpec struct {
	Sex      string `yaml:"sex,required"`
	BornFrom int    `yaml:"born_from"`
	BornTo   int    `yaml:"born_to"`
	Years    int    `yaml:"years,required"`
	Months   int    `yaml:"months"`
}

type lockoutSpec struct {
	MaxAttempts int    `yaml:"max_attempts"`
	Window      string `yaml:"window"`
}

// region is a scenario's region as the services see it.
type region struct {
	config         enrollment.Config
	municipalities []string // children's, in the file's order
	regions        []string // adults', in the file's order
}

// region checks the parameters and turns them into the services' Config,
// starting from enrollment.DefaultConfig; where tells the file and line
// that gave a key.
func (s regionSpec) region(where func(key string) (file string, line int)) (region, error) {
	bad := func(key, format string, args ...any) error {
		file, line := where(key)
		return &Error{File: file, Line: line, Key: "region." + key, Msg: fmt.Sprintf(format, args...)}
	}
	cfg := enrollment.DefaultConfig()
	cfg.NominalPerPeriod = s.NominalPerPeriod
	if s.TimeZone == "" {
		return region{}, bad("time_zone", "is required: the region's IANA time zone, such as Europe/Moscow")
	}
	zone, err := time.LoadLocation(s.TimeZone)
	if err != nil || s.TimeZone == "Local" {
		return region{}, bad("time_zone", "must be an IANA time zone such as Asia/Novosibirsk, got %q", s.TimeZone)
	}
	cfg.Location = zone
	shape := funding.CalendarYear
	switch s.Period {
	case "", "calendar_year":
	case "school_year":
		shape = func(y int) funding.Period { return funding.SchoolYear(y) }
	default:
		return region{}, bad("period", "must be calendar_year or school_year, got %q", s.Period)
	}
	periods := slices.Clone(s.Periods)
	cfg.PeriodOf = func(d funding.Date) funding.Period {
		for _, p := range periods {
			if funding.Period(p).Contains(d) {
				return funding.Period(p)
			}
		}
		if p := shape(d.Year()); p.Contains(d) {
			return p
		}
		return shape(d.Year() - 1)
	}
	if a := s.AdvanceShare; a != nil {
		if a.IsNegative() || a.GreaterThan(decimal.NewFromInt(1)) {
			return region{}, bad("advance_share", "must be from 0 to 1, got %s", a)
		}
		cfg.AdvanceShare = *a
	}
	if n := s.ProlongationSilenceDays; n != nil {
		if *n < 1 {
			return region{}, bad("prolongation_silence_days", "must be at least 1, got %d", *n)
		}
		cfg.ProlongationSilenceDays = *n
	}
	if len(s.RegistryQuotas) > 0 {
		cfg.RegistryQuotas = map[catalog.Registry]int{}
		for k, v := range s.RegistryQuotas {
			reg := catalog.Registry(k)
			if !reg.BudgetFunded() {
				return region{}, bad("registry_quotas."+k, "is not a budget-funded registry (significant, general, pre_professional)")
			}
			cfg.RegistryQuotas[reg] = v
		}
	}
	if len(s.Children.Municipalities) == 0 {
		return region{}, bad("children.municipalities", "must list at least one municipality code")
	}
	cfg.Children.Municipalities = map[string]bool{}
	for _, m := range s.Children.Municipalities {
		cfg.Children.Municipalities[m] = true
	}
	if s.Children.MinAge > 0 {
		cfg.Children.MinAge = s.Children.MinAge
	}
	cfg.Children.MinAgeByMunicipality = s.Children.MinAgeByMunicipality
	r := region{municipalities: s.Children.Municipalities}
	if a := s.Adults; a != nil {
		r.regions = a.Regions
		cfg.Adults.Regions = map[string]bool{}
		for _, reg := range a.Regions {
			cfg.Adults.Regions[reg] = true
		}
		if a.MinAge > 0 {
			cfg.Adults.MinAge = a.MinAge
		}
		if a.Citizenship != "" {
			cfg.Adults.Citizenship = a.Citizenship
		}
		if a.DocumentsDeadlineDays > 0 {
			cfg.Adults.DocumentsDeadline = a.DocumentsDeadlineDays
		}
		if a.PensionAges != nil {
			table := make(certificate.PensionAges, len(a.PensionAges))
			for i, row := range a.PensionAges {
				if row.Months < 0 || row.Months > 11 {
					return region{}, bad(fmt.Sprintf("adults.pension_ages[%d].months", i), "must be from 0 to 11, the months after years")
				}
				table[i] = certificate.PensionAgeRow{Sex: certificate.Sex(row.Sex), BornFrom: row.BornFrom, BornTo: row.BornTo, Months: row.Years*12 + row.Months}
			}
			if err := table.Validate(); err != nil {
				var ve *funding.ValidationError
				if errors.As(err, &ve) {
					return region{}, bad("adults."+ve.Field, "%s", ve.Rule)
				}
				return region{}, bad("adults.pension_ages", "%v", err)
			}
			cfg.Adults.PensionAges = table
		}
		quota := map[int]int64{}
		for y, n := range a.QuotaByYear {
			year, err := strconv.Atoi(y)
			if err != nil {
				return region{}, bad("adults.quota_by_year."+y, "must be keyed by a year such as 2026")
			}
			quota[year] = n
		}
		all := cfg.AdultQuota
		if a.Quota != nil {
			n := *a.Quota
			all = func(int) int64 { return n }
		}
		cfg.AdultQuota = func(y int) int64 {
			if n, ok := quota[y]; ok {
				return n
			}
			return all(y)
		}
	}
	if l := s.Lockout; l != nil {
		if l.MaxAttempts > 0 {
			cfg.Lockout.MaxAttempts = l.MaxAttempts
		}
		if l.Window != "" {
			w, err := time.ParseDuration(l.Window)
			if err != nil || w <= 0 {
				return region{}, bad("lockout.window", "must be a duration such as 15m, got %q", l.Window)
			}
			cfg.Lockout.Window = w
		}
	}
	if a := s.Adults; a != nil {
		cfg.AdultCoverage = map[string]decimal.Decimal{}
		for k, v := range a.Coverage {
			if !v.IsPositive() || v.GreaterThan(decimal.NewFromInt(1)) {
				return region{}, bad("adults.coverage."+k, "must be a share above 0 to 1, got %s", v)
			}
			cfg.AdultCoverage[k] = v
		}
		if len(a.Stages) > 0 {
			sum := decimal.Zero
			for _, st := range a.Stages {
				sum = sum.Add(st)
			}
			if !sum.Equal(decimal.NewFromInt(1)) {
				return region{}, bad("adults.stages", "must add up to 1, got %s", sum)
			}
			cfg.AdultStages = a.Stages
		}
	}
	for i, v := range s.Parameters {
		key := fmt.Sprintf("parameters[%d]", i)
		def, ok := enrollment.ParameterNamed(v.Name)
		if !ok {
			return region{}, bad(key+".name", "names no parameter: %q", v.Name)
		}
		value, err := def.Parse(v.Value, v.Scope)
		if err != nil {
			var ve *funding.ValidationError
			if errors.As(err, &ve) {
				return region{}, bad(key+"."+ve.Field, "%s", ve.Rule)
			}
			return region{}, bad(key, "%v", err)
		}
		if def.FirstOfMonth && v.From.Day() != 1 {
			return region{}, bad(key+".from", "must be the 1st of a month: %s applies to whole months", v.Name)
		}
		cfg.Versions = append(cfg.Versions, enrollment.Parameter{Name: def.Name, Scope: v.Scope, From: v.From, Value: value, Actor: "region:" + s.Name, Reason: v.Reason})
	}
	r.config = cfg
	return r, nil
}

// person is the holder a person's entry describes, with what it leaves
// out filled in.
func (r region) person(name string, p personSpec) certificate.Holder {
	h := certificate.Holder{
		PersonID: p.ID, FullName: p.FullName, BirthDate: p.Born, Sex: certificate.Sex(p.Sex),
		Citizenship: p.Citizenship, Education: certificate.Education(p.Education), Region: p.Region,
		Municipality: p.Municipality, Registration: certificate.Registration(p.Registration),
	}
	if h.PersonID == "" {
		h.PersonID = name
	}
	if h.FullName == "" {
		h.FullName = name
	}
	if h.Citizenship == "" {
		h.Citizenship = certificate.DefaultCitizenship
	}
	if h.Region == "" && len(r.regions) > 0 {
		h.Region = r.regions[0]
	}
	if h.Municipality == "" {
		h.Municipality = r.municipalities[0]
	}
	if h.Registration == "" {
		h.Registration = certificate.Permanent
	}
	return h
}
