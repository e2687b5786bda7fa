package enrollment

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/edufund/edufund/catalog"
	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/funding"
)

// Parameter is one version of one of a region's rule parameters: Value
// applies to every event on or after From, within Scope, until a later
// version of the same parameter and scope takes over. A change is a new
// version; nothing is overwritten, so a rule applied to an earlier date
// still sees the value it saw then, and the ledger says which version its
// postings were computed with (PostingRecord.Rules).
type Parameter struct {
	// Version orders the stored versions; it is assigned by the store and
	// increases with every change. The region's own versions (Config.Versions,
	// loaded from its file) have none.
	Version int64
	Name    string
	// Scope narrows a parameter that rules.md sets per municipality,
	// registry or holder category (see Parameters); "" is the whole region.
	Scope  string
	From   funding.Date
	Value  string // the canonical text of the value, as ParameterDef.Parse returns it
	Actor  string
	Reason string
	At     time.Time
}

// ParameterDef is one parameter a region sets: what it means, what its
// scope is, who may change it, and how its value is read and applied.
type ParameterDef struct {
	Name string
	// Scope names what a version's Scope is ("" when the parameter is the
	// region's only): "municipality", "registry" or "holder category".
	Scope string
	// ScopeRequired is true where a version without a scope means nothing.
	ScopeRequired bool
	// Roles may change it (the system always may).
	Roles []Role
	// Doc says what it is, with rules.md's default.
	Doc string
	// FirstOfMonth requires a version's From to be the 1st of a month:
	// the parameter applies to a month as a whole.
	FirstOfMonth bool
	// AtOnceOrPeriodStart requires a version's From to be today (it
	// applies at once, within the period) or the first day of a funding
	// period (it applies from that period on).
	AtOnceOrPeriodStart bool

	parse func(v, scope string) (string, error)
	apply func(c *Config, p Parameter) // p.Value is canonical
}

// Parse validates a value for this parameter in scope and returns it in
// canonical form.
func (d ParameterDef) Parse(value, scope string) (string, error) {
	if d.Scope == "" && scope != "" {
		return "", &funding.ValidationError{Field: "scope", Rule: "must be empty: " + d.Name + " is the region's", Value: scope}
	}
	if d.ScopeRequired && scope == "" {
		return "", &funding.ValidationError{Field: "scope", Rule: "must name the " + d.Scope + " " + d.Name + " applies to"}
	}
	v, err := d.parse(strings.TrimSpace(value), scope)
	if err != nil {
		return "", err
	}
	return v, nil
}

// Parameters are the rule parameters a region sets as dated versions, in
// name order. The nominal of a category and the budget and direction
// limits of a municipality have their own use cases (SaveCategory,
// SetBudget, SetDirectionLimit); the period's shape (Config.PeriodOf) is
// the region file's and does not change once money has been granted.
var Parameters = []ParameterDef{
	{
		Name: "adult_coverage", Scope: "holder category", ScopeRequired: true, Roles: []Role{RoleFederal},
		Doc:   "share of an adult course's cost the certificate pays for holders of the category (1; e.g. 0.75)",
		parse: shareIn("value", false),
		apply: func(c *Config, p Parameter) {
			scope, v := p.Scope, p.Value
			c.AdultCoverage = maps.Clone(c.AdultCoverage)
			if c.AdultCoverage == nil {
				c.AdultCoverage = map[string]decimal.Decimal{}
			}
			c.AdultCoverage[scope] = decimal.RequireFromString(v)
		},
	},
	{
		Name: "adult_quota", Roles: []Role{RoleFederal},
		Doc: "adult certificates of the year of its date, nationally (33000); a change within a year raises or lowers " +
			"that year's quota at once (the version in force on its 31 December counts)",
		parse: intIn(0, 100_000_000),
		apply: func(c *Config, p Parameter) {
			n, _ := strconv.ParseInt(p.Value, 10, 64)
			year, prev := p.From.Year(), c.AdultQuota
			c.AdultQuota = func(y int) int64 {
				if y == year {
					return n
				}
				return prev(y)
			}
		},
	},
	{
		Name: "adult_stages", Roles: []Role{RoleFederal},
		Doc:   "shares in which a completed adult course is paid, comma separated, adding up to 1 (1)",
		parse: parseStages,
		apply: func(c *Config, p Parameter) {
			v := p.Value
			c.AdultStages = nil
			for s := range strings.SplitSeq(v, ",") {
				c.AdultStages = append(c.AdultStages, decimal.RequireFromString(s))
			}
		},
	},
	{
		Name: "adults.documents_deadline_days", Roles: []Role{RoleFederal},
		Doc:   "days an adult holder has to upload the provider's documents after taking a place of the quota (30)",
		parse: intIn(1, 365),
		apply: func(c *Config, p Parameter) { c.Adults.DocumentsDeadline, _ = strconv.Atoi(p.Value) },
	},
	{
		Name: "adults.federal_review", Roles: []Role{RoleRegional, RoleFederal},
		Doc: "whether an adult application waits for the federal operator's review (approve, or reject with reasons) " +
			"before it takes a place of the quota (false); arrival at the quota is then the approval",
		parse: func(v, _ string) (string, error) {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return "", &funding.ValidationError{Field: "value", Rule: "must be true or false", Value: v}
			}
			return strconv.FormatBool(b), nil
		},
		apply: func(c *Config, p Parameter) { c.AdultReview = p.Value == "true" },
	},
	{
		Name: "adults.min_age", Roles: []Role{RoleFederal},
		Doc:   "minimum age of an adult holder (18; the 2019 pilot used 16)",
		parse: intIn(14, 60),
		apply: func(c *Config, p Parameter) { c.Adults.MinAge, _ = strconv.Atoi(p.Value) },
	},
	{
		Name: "advance_share", Roles: []Role{RoleRegional}, FirstOfMonth: true,
		Doc:   "share of a month's certificate payment invoiced as the month's advance (0.8); a month's advance and final use the version in force on its 1st",
		parse: shareIn("value", true),
		apply: func(c *Config, p Parameter) { c.AdvanceShare = decimal.RequireFromString(p.Value) },
	},
	{
		Name: "category_nominal", Scope: "category", ScopeRequired: true, Roles: []Role{RoleRegional}, AtOnceOrPeriodStart: true,
		Doc: "a category's annual nominal in money: from today, every funded certificate of the category moves to it at once " +
			"(a cut some balance does not cover is refused); from the first day of a later period, certificates get it at that " +
			"period's rollover. Saving a category with a new nominal records a version from today",
		parse: func(v, _ string) (string, error) {
			m, err := funding.ParseMoney(v)
			if err != nil || m.IsNegative() {
				return "", &funding.ValidationError{Field: "value", Rule: "must be an amount such as 30000.00", Value: v}
			}
			return m.String(), nil
		},
		apply: func(c *Config, p Parameter) {
			m, _ := funding.ParseMoney(p.Value) // canonical: parse checked it
			c.Nominals = maps.Clone(c.Nominals)
			if c.Nominals == nil {
				c.Nominals = map[string]funding.Money{}
			}
			c.Nominals[p.Scope] = m
		},
	},
	{
		Name: "category_hours", Scope: "category", ScopeRequired: true, Roles: []Role{RoleRegional}, AtOnceOrPeriodStart: true,
		Doc: "the weekly hours of a category in hours, base+extra (6+2: 6 on any program, 2 more only on the significant " +
			"registry's): from today, every certificate of the category moves to them at once (refused where its contracts hold " +
			"more); from the first day of a later period, certificates get them at that period's rollover",
		parse: parseWeekly,
		apply: func(c *Config, p Parameter) {
			h, _ := weeklyOf(p.Value) // canonical: parse checked it
			c.CategoryHours = maps.Clone(c.CategoryHours)
			if c.CategoryHours == nil {
				c.CategoryHours = map[string]funding.HoursHold{}
			}
			c.CategoryHours[p.Scope] = h
		},
	},
	{
		Name: "child_hour_cost", Scope: "municipality", Roles: []Role{RoleRegional},
		Doc: "normative cost of one child-hour, for the region or one municipality: a contract of a certificate in hours " +
			"is billed hours a week × weeks × this (not set: certificates in hours enrol only in budget-funded registries)",
		parse: func(v, _ string) (string, error) {
			m, err := funding.ParseMoney(v)
			if err != nil || !m.IsPositive() {
				return "", &funding.ValidationError{Field: "value", Rule: "must be an amount above 0 such as 150.00", Value: v}
			}
			return m.String(), nil
		},
		apply: func(c *Config, p Parameter) {
			m, _ := funding.ParseMoney(p.Value) // canonical: parse checked it
			if p.Scope == "" {
				c.ChildHourCost = m
				return
			}
			c.ChildHourCostByMunicipality = maps.Clone(c.ChildHourCostByMunicipality)
			if c.ChildHourCostByMunicipality == nil {
				c.ChildHourCostByMunicipality = map[string]funding.Money{}
			}
			c.ChildHourCostByMunicipality[p.Scope] = m
		},
	},
	{
		Name: "children.min_age", Scope: "municipality", Roles: []Role{RoleRegional, RoleMunicipality},
		Doc:   "minimum age of a child for a certificate (5), for the region or one municipality (a municipality sets its own)",
		parse: intIn(0, 17),
		apply: func(c *Config, p Parameter) {
			scope, v := p.Scope, p.Value
			n, _ := strconv.Atoi(v)
			if scope == "" {
				c.Children.MinAge = n
				return
			}
			c.Children.MinAgeByMunicipality = maps.Clone(c.Children.MinAgeByMunicipality)
			if c.Children.MinAgeByMunicipality == nil {
				c.Children.MinAgeByMunicipality = map[string]int{}
			}
			c.Children.MinAgeByMunicipality[scope] = n
		},
	},
	{
		Name: "normative_cap", Roles: []Role{RoleRegional},
		Doc: "whether a module's normative cost caps what the certificate pays (true); with false the certificate pays " +
			"min(cost, balance) and the parent only what the balance does not cover (seed FAQ 003)",
		parse: func(v, _ string) (string, error) {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return "", &funding.ValidationError{Field: "value", Rule: "must be true or false", Value: v}
			}
			return strconv.FormatBool(b), nil
		},
		apply: func(c *Config, p Parameter) { c.NoNormativeCap = p.Value == "false" },
	},
	{
		Name: "prolongation_silence_days", Roles: []Role{RoleRegional},
		Doc:   "days of a holder's silence that accept a prolongation (7)",
		parse: intIn(1, 90),
		apply: func(c *Config, p Parameter) { c.ProlongationSilenceDays, _ = strconv.Atoi(p.Value) },
	},
	{
		Name: "rating_window_months", Roles: []Role{RoleRegional},
		Doc:   "months after a contract ended in which its holder may still rate it (1)",
		parse: intIn(0, 24),
		apply: func(c *Config, p Parameter) { c.RatingWindowMonths, _ = strconv.Atoi(p.Value) },
	},
	{
		Name: "registry_quota", Scope: "registry", ScopeRequired: true, Roles: []Role{RoleRegional},
		Doc: "services of a budget-funded registry a certificate may hold at once (significant 1, general 3, " +
			"pre_professional 1)",
		parse: func(v, scope string) (string, error) {
			if !catalog.Registry(scope).BudgetFunded() {
				return "", &funding.ValidationError{Field: "scope", Rule: "must be a budget-funded registry: significant, general or pre_professional", Value: scope}
			}
			return intIn(0, 20)(v, scope)
		},
		apply: func(c *Config, p Parameter) {
			scope, v := p.Scope, p.Value
			c.RegistryQuotas = maps.Clone(c.RegistryQuotas)
			if c.RegistryQuotas == nil {
				c.RegistryQuotas = map[catalog.Registry]int{}
			}
			c.RegistryQuotas[catalog.Registry(scope)], _ = strconv.Atoi(v)
		},
	},
}

// ParameterNamed returns the definition of a parameter.
func ParameterNamed(name string) (ParameterDef, bool) {
	i := slices.IndexFunc(Parameters, func(d ParameterDef) bool { return d.Name == name })
	if i < 0 {
		return ParameterDef{}, false
	}
	return Parameters[i], true
}

func intIn(lo, hi int) func(v, _ string) (string, error) {
	return func(v, _ string) (string, error) {
		n, err := strconv.Atoi(v)
		if err != nil || n < lo || n > hi {
			return "", &funding.ValidationError{Field: "value", Rule: fmt.Sprintf("must be a whole number from %d to %d", lo, hi), Value: v}
		}
		return strconv.Itoa(n), nil
	}
}

// shareIn reads a share of at most four decimals, above 0 (or from 0 when
// zeroOK) up to 1.
func shareIn(field string, zeroOK bool) func(v, _ string) (string, error) {
	return func(v, _ string) (string, error) {
		d, err := decimal.NewFromString(v)
		low := "above 0"
		if zeroOK {
			low = "from 0"
		}
		if err != nil || d.IsNegative() || (!zeroOK && d.IsZero()) || d.GreaterThan(decimal.NewFromInt(1)) || d.Exponent() < -4 && !d.Equal(d.Round(4)) {
			return "", &funding.ValidationError{Field: field, Rule: "must be a decimal share " + low + " to 1 with at most four decimals, such as 0.8", Value: v}
		}
		return d.String(), nil
	}
}

func parseStages(v, _ string) (string, error) {
	var (
		sum   decimal.Decimal
		parts []string
	)
	for s := range strings.SplitSeq(v, ",") {
		c, err := shareIn("value", false)(strings.TrimSpace(s), "")
		if err != nil {
			return "", &funding.ValidationError{Field: "value", Rule: "must be shares separated by commas, each above 0, adding up to 1, such as 0.3,0.7", Value: v}
		}
		sum = sum.Add(decimal.RequireFromString(c))
		parts = append(parts, c)
	}
	if !sum.Equal(decimal.NewFromInt(1)) {
		return "", &funding.ValidationError{Field: "value", Rule: "the stages must add up to 1, not " + sum.String(), Value: v}
	}
	return strings.Join(parts, ","), nil
}

// parseWeekly reads weekly hours as base+extra ("6+2", or "6" for no extra).
func parseWeekly(v, _ string) (string, error) {
	h, ok := weeklyOf(v)
	if !ok {
		return "", &funding.ValidationError{Field: "value", Rule: fmt.Sprintf("must be weekly hours base+extra such as 6+2, base 1 to %d and extra 0 to %[1]d", certificate.MaxWeeklyHours), Value: v}
	}
	return strconv.Itoa(h.Base) + "+" + strconv.Itoa(h.Extra), nil
}

func weeklyOf(v string) (funding.HoursHold, bool) {
	b, e, found := strings.Cut(strings.ReplaceAll(v, " ", ""), "+")
	base, err := strconv.Atoi(b)
	extra := 0
	if err == nil && found {
		extra, err = strconv.Atoi(e)
	}
	if err != nil || base < 1 || base > certificate.MaxWeeklyHours || extra < 0 || extra > certificate.MaxWeeklyHours {
		return funding.HoursHold{}, false
	}
	return funding.HoursHold{Base: base, Extra: extra}, true
}

// rulesAt is base with every version in force on date on applied, in the
// order of their dates (and, on one date, the region's versions first,
// then the stored ones by Version).
func rulesAt(base Config, versions []Parameter, on funding.Date) Config {
	c := base
	for _, v := range versions {
		if v.From.After(on) {
			break
		}
		if d, ok := ParameterNamed(v.Name); ok {
			d.apply(&c, v)
		}
	}
	return c
}

// sortVersions orders versions as rulesAt applies them.
func sortVersions(vs []Parameter) {
	slices.SortStableFunc(vs, func(a, b Parameter) int {
		return cmp.Or(a.From.Compare(b.From), cmp.Compare(a.Version, b.Version))
	})
}
