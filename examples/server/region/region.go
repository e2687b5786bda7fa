// Package region loads a region's parameters for the reference server from a
// JSON file: the participating municipalities and regions, the minimum ages,
// the shape of the funding period, the advance share, the registry quotas,
// the adult quota, documents deadline, coverage, payment stages and
// pension-age table, the passphrase lockout, the time zone whose local dates the rules see, and
// the dated changes to any of these (parameters). Apply turns them into an
// enrollment.Config.
//
// Every field is checked when the file is read and an error names the field,
// e.g. `region.json: children.municipalities[1]: must not be empty`. Unknown
// fields are refused so that a misspelt parameter is not silently ignored.
package region

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	// The zone database travels in the binary, so a region's zone loads on
	// a host without /usr/share/zoneinfo.
	_ "time/tzdata"

	"github.com/shopspring/decimal"

	"github.com/edufund/edufund/catalog"
	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/funding"
)

// Period shapes.
const (
	CalendarYear = "calendar_year" // 1 Jan – 31 Dec
	SchoolYear   = "school_year"   // 1 Sep – 31 Aug
)

// File is the region file's form.
type File struct {
	// Name is the region's name for logs and the start banner.
	Name string `json:"name"`
	// TimeZone is the region's IANA time zone, such as "Asia/Novosibirsk":
	// every date the rules see is the local date there. Required: a
	// region left on UTC would close its months hours late.
	TimeZone string `json:"time_zone"`
	// Period is calendar_year (default) or school_year.
	Period string `json:"period,omitempty"`
	// AdvanceShare is the share of a month's payment invoiced in advance,
	// a decimal string from 0 to 1 ("0.8" by default).
	AdvanceShare string `json:"advance_share,omitempty"`
	// ProlongationSilenceDays is how long the holder's silence takes to
	// accept a prolongation (7 by default).
	ProlongationSilenceDays *int `json:"prolongation_silence_days,omitempty"`
	// RegistryQuotas are the budget-funded services a certificate may hold
	// at once, by registry (significant, general, pre_professional).
	RegistryQuotas map[string]int `json:"registry_quotas,omitempty"`
	// NominalPerPeriod says a category's nominal is each period's as it
	// is. By default it is annual, and a period shorter than a year gets
	// round(annual × days / 365).
	NominalPerPeriod bool     `json:"nominal_per_period,omitempty"`
	Children         Children `json:"children"`
	Adults           *Adults  `json:"adults,omitempty"`
	Lockout          *Lockout `json:"lockout,omitempty"`
	// Parameters are the region's dated changes to the values above, each
	// applying from its date on, such as a new advance share from 1 March
	// or a municipality's minimum age from 1 September. The names and
	// scopes are enrollment.Parameters'; changes made later through the
	// API are stored and added to these.
	Parameters []Version `json:"parameters,omitempty"`
}

// Version is one dated change of a parameter.
type Version struct {
	Name   string `json:"name"`
	Scope  string `json:"scope,omitempty"`
	From   string `json:"from"` // YYYY-MM-DD
	Value  string `json:"value"`
	Reason string `json:"reason,omitempty"`
}

// Children are the children's scheme's participants and ages.
type Children struct {
	// Municipalities are the codes of the participating municipalities.
	Municipalities []string `json:"municipalities"`
	// MinAge is the minimum age (5 by default); MinAgeByMunicipality
	// overrides it for some municipalities.
	MinAge               int            `json:"min_age,omitempty"`
	MinAgeByMunicipality map[string]int `json:"min_age_by_municipality,omitempty"`
}

// Adults are the adult scheme's parameters; absent, adults are not served.
type Adults struct {
	// Regions are the participating region codes (registration there).
	Regions     []string `json:"regions"`
	MinAge      int      `json:"min_age,omitempty"`     // 18 by default
	Citizenship string   `json:"citizenship,omitempty"` // RU by default
	// Quota is the national number of adult certificates a year (33000 by
	// default); QuotaByYear overrides it for given years ("2026": 40000).
	Quota       *int64           `json:"quota,omitempty"`
	QuotaByYear map[string]int64 `json:"quota_by_year,omitempty"`
	// DocumentsDeadlineDays is the days after issue within which the
	// provider's documents must be uploaded (30 by default).
	DocumentsDeadlineDays int `json:"documents_deadline_days,omitempty"`
	// Coverage is the share of a course's cost the certificate pays, by
	// holder category ("unemployed": "1", "employed": "0.5"); a category
	// not listed is covered in full.
	Coverage map[string]string `json:"coverage,omitempty"`
	// Stages splits the payment of a completed course ("0.3", "0.7");
	// one stage by default.
	Stages []string `json:"stages,omitempty"`
	// PensionAges replaces the national pension-age table of rules.md §2
	// (certificate.DefaultPensionAges) with the region's: for each sex,
	// rows that cover every year of birth exactly once. Absent, the
	// national table.
	PensionAges []PensionAge `json:"pension_ages,omitempty"`
}

// PensionAge is one row of a pension-age table: people of Sex ("male" or
// "female") born from BornFrom to BornTo, both included, reach the pension
// age at Years years and Months months. BornFrom absent (or 0) means any
// earlier year, BornTo absent any later year:
//
//	{"sex": "female", "born_to": 1963, "years": 55},
//	{"sex": "female", "born_from": 1964, "born_to": 1964, "years": 55, "months": 6},
//	{"sex": "female", "born_from": 1965, "years": 60}
type PensionAge struct {
	Sex      string `json:"sex"`
	BornFrom int    `json:"born_from,omitempty"`
	BornTo   int    `json:"born_to,omitempty"`
	Years    int    `json:"years"`
	Months   int    `json:"months,omitempty"` // 0 to 11
}

// Lockout is the policy against guessing passphrases.
type Lockout struct {
	MaxAttempts int    `json:"max_attempts,omitempty"` // 5 by default
	Window      string `json:"window,omitempty"`       // a Go duration, "15m" by default
}

// Region is a checked region file.
type Region struct {
	File
	advance  decimal.Decimal
	window   time.Duration
	zone     *time.Location
	versions []enrollment.Parameter
	coverage map[string]decimal.Decimal
	stages   []decimal.Decimal
	pensions certificate.PensionAges
}

// Load reads and checks the region file at path.
func Load(path string) (Region, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Region{}, err
	}
	r, err := Parse(b)
	if err != nil {
		return Region{}, fmt.Errorf("%s: %w", path, err)
	}
	return r, nil
}

// FieldError is a region file's field that is missing or wrong.
type FieldError struct {
	Field string
	Rule  string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Rule }

func bad(field, format string, args ...any) error {
	return &FieldError{Field: field, Rule: fmt.Sprintf(format, args...)}
}

// Parse checks a region file's contents.
func Parse(b []byte) (Region, error) {
	var f File
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &te):
			return Region{}, bad(te.Field, "must be of JSON type %s", te.Type.Kind())
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			return Region{}, bad(strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`), "is not a known field")
		}
		return Region{}, fmt.Errorf("not a valid region file: %w", err)
	}
	if err := dec.Decode(&struct{}{}); !errors.Is(err, io.EOF) {
		return Region{}, errors.New("not a valid region file: more than one JSON value")
	}
	return check(f)
}

var registries = map[string]catalog.Registry{
	string(catalog.Significant): catalog.Significant, string(catalog.General): catalog.General,
	string(catalog.PreProfessional): catalog.PreProfessional,
}

func check(f File) (Region, error) {
	r := Region{File: f, window: certificate.DefaultLockoutWindow}
	if strings.TrimSpace(f.Name) == "" {
		return r, bad("name", "is required")
	}
	if f.TimeZone == "" {
		return r, bad("time_zone", "is required: the region's IANA time zone, such as \"Europe/Moscow\" or \"Asia/Vladivostok\"")
	}
	zone, err := time.LoadLocation(f.TimeZone)
	if err != nil || f.TimeZone == "Local" {
		return r, bad("time_zone", "must be an IANA time zone such as \"Asia/Novosibirsk\", got %q", f.TimeZone)
	}
	r.zone = zone
	switch f.Period {
	case "", CalendarYear, SchoolYear:
	default:
		return r, bad("period", "must be %s or %s, got %q", CalendarYear, SchoolYear, f.Period)
	}
	if f.AdvanceShare != "" {
		d, err := decimal.NewFromString(f.AdvanceShare)
		if err != nil || d.IsNegative() || d.GreaterThan(decimal.NewFromInt(1)) || d.Exponent() < -4 {
			return r, bad("advance_share", "must be a decimal from 0 to 1 such as \"0.8\", got %q", f.AdvanceShare)
		}
		r.advance = d
	}
	if n := f.ProlongationSilenceDays; n != nil && (*n < 1 || *n > 90) {
		return r, bad("prolongation_silence_days", "must be from 1 to 90 days, got %d", *n)
	}
	for _, k := range sortedKeys(f.RegistryQuotas) {
		if _, ok := registries[k]; !ok {
			return r, bad("registry_quotas."+k, "is not a budget-funded registry (significant, general, pre_professional)")
		}
		if n := f.RegistryQuotas[k]; n < 0 || n > 100 {
			return r, bad("registry_quotas."+k, "must be from 0 to 100, got %d", n)
		}
	}
	if len(f.Children.Municipalities) == 0 {
		return r, bad("children.municipalities", "must list at least one municipality code")
	}
	seen := map[string]bool{}
	for i, m := range f.Children.Municipalities {
		field := fmt.Sprintf("children.municipalities[%d]", i)
		if strings.TrimSpace(m) == "" || m != strings.TrimSpace(m) || len(m) > 40 {
			return r, bad(field, "must be a code of 1 to 40 characters without surrounding spaces, got %q", m)
		}
		if seen[m] {
			return r, bad(field, "repeats %q", m)
		}
		seen[m] = true
	}
	if a := f.Children.MinAge; a != 0 && (a < 3 || a >= certificate.AdultAge) {
		return r, bad("children.min_age", "must be from 3 to %d, got %d", certificate.AdultAge-1, a)
	}
	for _, m := range sortedKeys(f.Children.MinAgeByMunicipality) {
		field := "children.min_age_by_municipality." + m
		if !seen[m] {
			return r, bad(field, "names a municipality not in children.municipalities")
		}
		if a := f.Children.MinAgeByMunicipality[m]; a < 3 || a >= certificate.AdultAge {
			return r, bad(field, "must be from 3 to %d, got %d", certificate.AdultAge-1, a)
		}
	}
	if a := f.Adults; a != nil {
		if len(a.Regions) == 0 {
			return r, bad("adults.regions", "must list at least one region code")
		}
		for i, reg := range a.Regions {
			if strings.TrimSpace(reg) == "" || len(reg) > 40 {
				return r, bad(fmt.Sprintf("adults.regions[%d]", i), "must be a code of 1 to 40 characters, got %q", reg)
			}
		}
		if a.MinAge != 0 && (a.MinAge < 14 || a.MinAge > 30) {
			return r, bad("adults.min_age", "must be from 14 to 30, got %d", a.MinAge)
		}
		if a.Citizenship != "" && len(a.Citizenship) != 2 {
			return r, bad("adults.citizenship", "must be a two-letter country code, got %q", a.Citizenship)
		}
		if a.Quota != nil && *a.Quota < 0 {
			return r, bad("adults.quota", "must not be negative, got %d", *a.Quota)
		}
		for _, y := range sortedKeys(a.QuotaByYear) {
			n, err := strconv.Atoi(y)
			if err != nil || n < 2000 || n > 2999 {
				return r, bad("adults.quota_by_year."+y, "must be keyed by a year such as \"2026\"")
			}
			if a.QuotaByYear[y] < 0 {
				return r, bad("adults.quota_by_year."+y, "must not be negative, got %d", a.QuotaByYear[y])
			}
		}
		if d := a.DocumentsDeadlineDays; d < 0 || d > 365 {
			return r, bad("adults.documents_deadline_days", "must be from 1 to 365, got %d", d)
		}
		cover, _ := enrollment.ParameterNamed("adult_coverage")
		for _, k := range sortedKeys(a.Coverage) {
			v, err := cover.Parse(a.Coverage[k], k)
			if err != nil {
				return r, bad("adults.coverage."+k, "%s", ruleOf(err))
			}
			if r.coverage == nil {
				r.coverage = map[string]decimal.Decimal{}
			}
			r.coverage[k] = decimal.RequireFromString(v)
		}
		if len(a.Stages) > 0 {
			stages, _ := enrollment.ParameterNamed("adult_stages")
			v, err := stages.Parse(strings.Join(a.Stages, ","), "")
			if err != nil {
				return r, bad("adults.stages", "%s", ruleOf(err))
			}
			for st := range strings.SplitSeq(v, ",") {
				r.stages = append(r.stages, decimal.RequireFromString(st))
			}
		}
		if a.PensionAges != nil {
			table, err := pensionAges(a.PensionAges)
			if err != nil {
				return r, err
			}
			r.pensions = table
		}
	}
	for i, v := range f.Parameters {
		field := fmt.Sprintf("parameters[%d]", i)
		def, ok := enrollment.ParameterNamed(v.Name)
		if !ok {
			return r, bad(field+".name", "is not a known parameter, got %q", v.Name)
		}
		value, err := def.Parse(v.Value, v.Scope)
		if err != nil {
			var ve *funding.ValidationError
			if errors.As(err, &ve) && ve.Field == "scope" {
				return r, bad(field+".scope", "%s", ruleOf(err))
			}
			return r, bad(field+".value", "%s", ruleOf(err))
		}
		from, err := funding.ParseDate(v.From)
		if err != nil {
			return r, bad(field+".from", "must be a date in the form YYYY-MM-DD, got %q", v.From)
		}
		if def.FirstOfMonth && from.Day() != 1 {
			return r, bad(field+".from", "must be the 1st of a month: %s applies to whole months", def.Name)
		}
		if def.Scope == "municipality" && v.Scope != "" && !seen[v.Scope] {
			return r, bad(field+".scope", "names a municipality not in children.municipalities")
		}
		reason := v.Reason
		if reason == "" {
			reason = "region file"
		}
		r.versions = append(r.versions, enrollment.Parameter{Name: def.Name, Scope: v.Scope, From: from, Value: value,
			Actor: "region:" + f.Name, Reason: reason})
	}
	if l := f.Lockout; l != nil {
		if l.MaxAttempts < 0 || l.MaxAttempts > 100 {
			return r, bad("lockout.max_attempts", "must be from 1 to 100, got %d", l.MaxAttempts)
		}
		if l.Window != "" {
			d, err := time.ParseDuration(l.Window)
			if err != nil || d < time.Second || d > 30*24*time.Hour {
				return r, bad("lockout.window", "must be a duration from 1s to 720h such as \"15m\", got %q", l.Window)
			}
			r.window = d
		}
	}
	return r, nil
}

// pensionAges checks the rows of adults.pension_ages and turns them into
// the table the adult policy decides with.
func pensionAges(rows []PensionAge) (certificate.PensionAges, error) {
	if len(rows) == 0 {
		return nil, bad("adults.pension_ages", "must list the rows for male and female, or be left out for the national table")
	}
	table := make(certificate.PensionAges, len(rows))
	for i, row := range rows {
		field := fmt.Sprintf("adults.pension_ages[%d]", i)
		if row.Months < 0 || row.Months > 11 {
			return nil, bad(field+".months", "must be from 0 to 11, the months after years, got %d", row.Months)
		}
		age := row.Years*12 + row.Months
		if age < certificate.MinPensionAgeYears*12 || age > certificate.MaxPensionAgeYears*12 {
			return nil, bad(field+".years", "must make an age from %d to %d years, got %d years %d months",
				certificate.MinPensionAgeYears, certificate.MaxPensionAgeYears, row.Years, row.Months)
		}
		table[i] = certificate.PensionAgeRow{Sex: certificate.Sex(row.Sex), BornFrom: row.BornFrom, BornTo: row.BornTo, Months: age}
	}
	if err := table.Validate(); err != nil {
		var ve *funding.ValidationError
		if !errors.As(err, &ve) {
			return nil, err
		}
		rule := ve.Rule
		switch {
		case strings.HasSuffix(ve.Field, ".sex"):
			rule += fmt.Sprintf(", got %q", ve.Value)
		case ve.Value != "":
			rule += ", got " + ve.Value
		}
		// The table's fields are the file's: pension_ages[i].sex, .born_from,
		// .born_to (the age was checked above).
		return nil, bad("adults."+ve.Field, "%s", rule)
	}
	return table, nil
}

// ruleOf is the rule of a validation error, without its field.
func ruleOf(err error) string {
	var ve *funding.ValidationError
	if errors.As(err, &ve) {
		return ve.Rule
	}
	return err.Error()
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// PeriodOf returns the region's funding period holding a date.
func (r Region) PeriodOf(d funding.Date) funding.Period {
	if r.Period == SchoolYear {
		if d.Month() >= time.September {
			return funding.SchoolYear(d.Year())
		}
		return funding.SchoolYear(d.Year() - 1)
	}
	return funding.CalendarYear(d.Year())
}

// Apply returns base with the region's parameters; what the file leaves
// out keeps base's value.
func (r Region) Apply(base enrollment.Config) enrollment.Config {
	cfg := base
	cfg.Location = r.zone
	cfg.PeriodOf = r.PeriodOf
	cfg.NominalPerPeriod = r.NominalPerPeriod
	if r.AdvanceShare != "" {
		cfg.AdvanceShare = r.advance
	}
	if r.ProlongationSilenceDays != nil {
		cfg.ProlongationSilenceDays = *r.ProlongationSilenceDays
	}
	if len(r.RegistryQuotas) > 0 {
		q := map[catalog.Registry]int{}
		for k, v := range base.RegistryQuotas {
			q[k] = v
		}
		for k, v := range r.RegistryQuotas {
			q[registries[k]] = v
		}
		cfg.RegistryQuotas = q
	}
	ch := certificate.DefaultChildPolicy()
	ch.Municipalities = map[string]bool{}
	for _, m := range r.Children.Municipalities {
		ch.Municipalities[m] = true
	}
	if r.Children.MinAge > 0 {
		ch.MinAge = r.Children.MinAge
	}
	if len(r.Children.MinAgeByMunicipality) > 0 {
		ch.MinAgeByMunicipality = map[string]int{}
		for k, v := range r.Children.MinAgeByMunicipality {
			ch.MinAgeByMunicipality[k] = v
		}
	}
	cfg.Children = ch
	ad := certificate.DefaultAdultPolicy()
	ad.Regions = map[string]bool{}
	if a := r.Adults; a != nil {
		for _, reg := range a.Regions {
			ad.Regions[reg] = true
		}
		if a.MinAge > 0 {
			ad.MinAge = a.MinAge
		}
		if a.Citizenship != "" {
			ad.Citizenship = a.Citizenship
		}
		if a.DocumentsDeadlineDays > 0 {
			ad.DocumentsDeadline = a.DocumentsDeadlineDays
		}
		quota := base.AdultQuota
		if a.Quota != nil {
			n := *a.Quota
			quota = func(int) int64 { return n }
		}
		if len(a.QuotaByYear) > 0 {
			byYear := map[int]int64{}
			for y, n := range a.QuotaByYear {
				yy, _ := strconv.Atoi(y)
				byYear[yy] = n
			}
			def := quota
			quota = func(y int) int64 {
				if n, ok := byYear[y]; ok {
					return n
				}
				return def(y)
			}
		}
		cfg.AdultQuota = quota
		if len(r.coverage) > 0 {
			cfg.AdultCoverage = r.coverage
		}
		if len(r.stages) > 0 {
			cfg.AdultStages = r.stages
		}
		if len(r.pensions) > 0 {
			ad.PensionAges = slices.Clone(r.pensions)
		}
	}
	cfg.Adults = ad
	cfg.Versions = r.versions
	if l := r.Lockout; l != nil {
		cfg.Lockout = certificate.Lockout{MaxAttempts: l.MaxAttempts, Window: r.window}
		if cfg.Lockout.MaxAttempts == 0 {
			cfg.Lockout.MaxAttempts = certificate.DefaultMaxAttempts
		}
	}
	return cfg
}
