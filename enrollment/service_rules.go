package enrollment

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/shopspring/decimal"

	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/funding"
)

// ParameterTx stores the versions of a region's parameters: appended, never
// changed. AddParameter assigns the version's Version, greater than every
// earlier one.
type ParameterTx interface {
	AddParameter(ctx context.Context, p Parameter) (Parameter, error)
	// Parameters lists every stored version, in Version order.
	Parameters(ctx context.Context) ([]Parameter, error)
}

// DefaultRulesRefresh is how long a service goes at most without reading
// the stored parameter versions: how soon a change made through another
// instance reaches this one. A change is made for a date from today on,
// so a region that sets its changes a day ahead has every instance agree.
const DefaultRulesRefresh = 5 * time.Second

// ruleCache is the parameter versions a service last read, shared by the
// service and its dry runs. It reads the store again, inside a transaction
// the service opens anyway, once it is older than the refresh interval.
type ruleCache struct {
	mu       sync.Mutex
	base     []Parameter // the region's own versions, sorted
	stored   []Parameter // in Version order
	all      []Parameter // base and stored, in the order rulesAt applies them
	version  int64       // the newest stored Version; 0 before the first
	readAt   time.Time   // wall time of the last read; zero: never read
	byDate   map[funding.Date]Config
	interval time.Duration
	now      func() time.Time // the wall clock, for the refresh interval only: no rule reads it
}

func newRuleCache(cfg Config) *ruleCache {
	base := slices.Clone(cfg.Versions)
	sortVersions(base)
	return &ruleCache{base: base, all: base, byDate: map[funding.Date]Config{},
		interval: cmp0(cfg.RulesRefresh, DefaultRulesRefresh), now: time.Now}
}

func cmp0[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// stale reports whether the cache should read the store again.
func (r *ruleCache) stale() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.readAt.IsZero() || r.now().Sub(r.readAt) >= r.interval
}

// set replaces the stored versions with vs (in Version order).
func (r *ruleCache) set(vs []Parameter) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.readAt = r.now()
	var newest int64
	if len(vs) > 0 {
		newest = vs[len(vs)-1].Version
	}
	if newest == r.version && len(vs) == len(r.stored) {
		return
	}
	r.stored, r.version = vs, newest
	all := append(slices.Clone(r.base), vs...)
	sortVersions(all)
	r.all = all
	clear(r.byDate)
}

// forget makes the next transaction read the store again: after this
// service's own change, so that it applies at once here.
func (r *ruleCache) forget() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.readAt = time.Time{}
}

func (r *ruleCache) at(base Config, on funding.Date) Config {
	r.mu.Lock()
	defer r.mu.Unlock()
	if c, ok := r.byDate[on]; ok {
		return c
	}
	c := rulesAt(base, r.all, on)
	if len(r.byDate) > 4096 {
		clear(r.byDate)
	}
	r.byDate[on] = c
	return c
}

func (r *ruleCache) newest() int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.version
}

func (r *ruleCache) versions() []Parameter {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.all)
}

// RulesOn is the region's parameters in force on date on: the Config the
// service was made with, changed by every version from on or before on.
func (s *Service) RulesOn(on funding.Date) Config { return s.rules.at(s.cfg, on) }

// RulesVersion is the newest stored parameter version the service applies:
// what its postings record (PostingRecord.Rules).
func (s *Service) RulesVersion() int64 { return s.rules.newest() }

// FreshRules reads the stored parameter versions, and which categories
// are in hours, through tx if the service's copy is older than its refresh
// interval. The service's own transactions do it; a runner that opens
// transactions of its own (a batch) calls it in them, or Refresh before.
func (s *Service) FreshRules(ctx context.Context, tx Tx) error {
	if !s.rules.stale() {
		return nil
	}
	vs, err := tx.Parameters(ctx)
	if err != nil {
		return err
	}
	cats, err := tx.Categories(ctx)
	if err != nil {
		return err
	}
	for _, c := range cats {
		s.kinds.m.Store(c.Code, c.InHours())
	}
	s.rules.set(vs)
	return nil
}

// Refresh reads the stored parameter versions, and which categories are
// in hours, in a transaction of its own if the service's copy is older
// than its refresh interval: for a runner whose transactions read nothing
// beyond what it prefetched (an optimistic batch).
func (s *Service) Refresh(ctx context.Context) error {
	if !s.rules.stale() {
		return nil
	}
	return s.store.InTx(ctx, func(ctx context.Context, tx Tx) error { return s.FreshRules(ctx, tx) })
}

// AdvanceShares is the advance share of each month: the version of
// advance_share in force on its 1st.
func (s *Service) AdvanceShares() Shares {
	return func(m funding.Month) decimal.Decimal { return s.RulesOn(m.First()).AdvanceShare }
}

// inTx runs fn in a transaction of the store with the parameters fresh.
func (s *Service) inTx(ctx context.Context, fn func(ctx context.Context, tx Tx) error) error {
	return s.store.InTx(ctx, func(ctx context.Context, tx Tx) error {
		if err := s.FreshRules(ctx, tx); err != nil {
			return err
		}
		return fn(ctx, tx)
	})
}

// ParameterRequest is a change of one of a region's parameters: a new
// version applying from From on.
type ParameterRequest struct {
	Name  string
	Scope string
	From  funding.Date
	Value string
	// Reason is why (the regional act, the decision): kept with the version.
	Reason string
	// By may change the parameter (ParameterDef.Roles; a municipality its
	// own scope only).
	By Caller
}

// SetParameter records a new version of a parameter. It applies to events
// on or after r.From, which is today or later in the region: a parameter
// never changes what was computed before it (a parameter applied to whole
// months, such as advance_share, from the 1st of a later month). The
// service applies it at once; other instances within their refresh
// interval. A change of the adult quota changes its year's quota at once:
// refused below the certificates the year has funded, and a raised quota
// funds the queue at once.
func (s *Service) SetParameter(ctx context.Context, key string, r ParameterRequest) (Parameter, error) {
	p, def, err := s.checkParameter(r)
	if err != nil {
		return Parameter{}, err
	}
	on := s.Today()
	save := func() error {
		var err error
		p, err = idempotent(ctx, s, key, "admin.parameter", r.By, r, func(ctx context.Context, tx Tx) (Parameter, error) {
			stored, err := s.addParameter(ctx, tx, p)
			if err != nil {
				return Parameter{}, err
			}
			switch def.Name {
			case "adult_quota":
				err = s.requota(ctx, tx, stored, on)
			case "category_nominal", "category_hours":
				err = s.renominate(ctx, tx, stored, on)
			}
			return stored, err
		})
		// Read the versions again now, so that this instance applies the
		// change from its next call on (a dry run reads back none).
		s.rules.forget()
		return err
	}
	if def.Name == "category_nominal" || def.Name == "category_hours" {
		cat, err := s.nominalCategory(ctx, p, on)
		if err != nil {
			return Parameter{}, err
		}
		if p.From.Equal(on) {
			// At once: the certificates move as when the category is saved.
			rep, err := s.applyNominal(ctx, cat, cat.Nominal, r.By, save)
			if err == nil && len(rep.Failed) > 0 {
				err = fmt.Errorf("category %s: %d of its certificates are not at the new nominal yet; ApplyNominal moves them: %w", cat.Code, len(rep.Failed), ErrContention)
			}
			return p, err
		}
	}
	if err := save(); err != nil {
		return Parameter{}, err
	}
	return p, s.store.InTx(ctx, func(ctx context.Context, tx Tx) error { return s.FreshRules(ctx, tx) })
}

// nominalCategory is the category a version of category_nominal or
// category_hours names, with the nominal the version gives it: a category
// in money for the one, in hours for the other. A category capping the sum
// of its nominals has it recounted at once, so its nominal changes from
// today only.
func (s *Service) nominalCategory(ctx context.Context, p Parameter, today funding.Date) (certificate.Category, error) {
	var cat certificate.Category
	err := s.inTx(ctx, func(ctx context.Context, tx Tx) (err error) {
		cat, err = tx.Category(ctx, p.Scope)
		return err
	})
	hours := p.Name == "category_hours"
	switch {
	case errors.Is(err, ErrNotFound):
		return cat, &funding.ValidationError{Field: "scope", Rule: "must name a category", Value: p.Scope}
	case err != nil:
		return cat, err
	case cat.InHours() != hours && hours:
		return cat, &funding.ValidationError{Field: "scope", Rule: "must name a category in hours: " + cat.Code + "'s nominal is money (category_nominal)", Value: p.Scope}
	case cat.InHours() != hours:
		return cat, &funding.ValidationError{Field: "scope", Rule: "must name a category in money: " + cat.Code + "'s nominal is in hours (category_hours)", Value: p.Scope}
	case cat.MaxSum.IsPositive() && !p.From.Equal(today):
		return cat, &funding.ValidationError{Field: "from", Rule: "must be today: category " + cat.Code + " caps the sum of its nominals, which is recounted when its nominal changes", Value: p.From.String()}
	}
	cat = s.RulesOn(today).CategoryOf(cat)
	if hours {
		h, _ := weeklyOf(p.Value)
		cat.HoursBase, cat.HoursExtra = h.Base, h.Extra
	} else {
		cat.Nominal, _ = funding.ParseMoney(p.Value)
	}
	return cat, nil
}

// renominate recounts the slot limit of the category a version of
// category_nominal from today names, for its new nominal.
func (s *Service) renominate(ctx context.Context, tx Tx, p Parameter, today funding.Date) error {
	if !p.From.Equal(today) || p.Name != "category_nominal" {
		return nil
	}
	cat, err := tx.Category(ctx, p.Scope)
	if err != nil {
		return err
	}
	m, _ := funding.ParseMoney(p.Value)
	return ensureCategoryLimit(ctx, tx, cat, m)
}

// checkParameter validates r against its definition, the caller and today.
func (s *Service) checkParameter(r ParameterRequest) (Parameter, ParameterDef, error) {
	def, ok := ParameterNamed(r.Name)
	if !ok {
		names := make([]string, len(Parameters))
		for i, d := range Parameters {
			names[i] = d.Name
		}
		return Parameter{}, def, &funding.ValidationError{Field: "name", Rule: "must be one of " + strings.Join(names, ", "), Value: r.Name}
	}
	if err := roleMay(r.By, "change "+def.Name, def.Roles...); err != nil {
		return Parameter{}, def, err
	}
	scope, err := funding.Text("scope", r.Scope, funding.MaxCodeLen)
	if err != nil {
		return Parameter{}, def, err
	}
	if r.By.Role == RoleMunicipality && scope != r.By.ID {
		return Parameter{}, def, forbidden("municipality %s may change %s only for itself", r.By.ID, def.Name)
	}
	if def.Scope == "municipality" && scope != "" {
		if ms := s.cfg.Children.Municipalities; len(ms) > 0 && !ms[scope] {
			return Parameter{}, def, &funding.ValidationError{Field: "scope", Rule: "must be a participating municipality", Value: scope}
		}
	}
	value, err := def.Parse(r.Value, scope)
	if err != nil {
		return Parameter{}, def, err
	}
	reason, err := funding.Text("reason", r.Reason, funding.MaxNoteLen)
	if err != nil {
		return Parameter{}, def, err
	}
	if reason == "" {
		return Parameter{}, def, &funding.ValidationError{Field: "reason", Rule: "is required: say why the parameter changes (the act or decision)"}
	}
	today := s.Today()
	switch {
	case r.From.IsZero():
		return Parameter{}, def, &funding.ValidationError{Field: "from", Rule: "is required: the date the new value applies from"}
	case r.From.Before(today):
		return Parameter{}, def, &funding.ValidationError{Field: "from", Rule: "must be today (" + today.String() + ") or later: a parameter never changes the past", Value: r.From.String()}
	case def.FirstOfMonth && (r.From.Day() != 1 || !r.From.MonthOf().After(today.MonthOf())):
		return Parameter{}, def, &funding.ValidationError{Field: "from", Rule: "must be the 1st of a month after this one: " + def.Name + " applies to whole months", Value: r.From.String()}
	case def.AtOnceOrPeriodStart && !r.From.Equal(today) && !s.cfg.PeriodOf(r.From).Start.Equal(r.From):
		return Parameter{}, def, &funding.ValidationError{Field: "from", Rule: "must be today or the first day of a funding period: " + def.Name + " applies at once or from a period's start", Value: r.From.String()}
	}
	return Parameter{Name: def.Name, Scope: scope, From: r.From, Value: value, Actor: r.By.Actor(), Reason: reason, At: s.clock.Now().UTC()}, def, nil
}

// requota applies a new version of the adult quota to its year, if that
// year's quota is counted already.
func (s *Service) requota(ctx context.Context, tx Tx, p Parameter, on funding.Date) error {
	year := p.From.Year()
	cur, err := tx.Counter(ctx, adultQuotaKey(year))
	if errors.Is(err, ErrNotFound) {
		return nil // counted from the year's first application on
	}
	if err != nil {
		return err
	}
	vs := append(s.rules.versions(), p)
	sortVersions(vs)
	quota := rulesAt(s.cfg, vs, funding.MustDate(year, time.December, 31)).AdultQuota(year)
	if cur.Used > quota {
		return funding.Refuse(ErrLimitBelowUse, CodeLimitBelowUse, "the adult quota of %d has funded %d certificates, more than %d", year, cur.Used, quota)
	}
	if err := tx.EnsureCounter(ctx, adultQuotaKey(year), quota); err != nil {
		return err
	}
	return s.promoteAdults(ctx, tx, year, on, p.Actor)
}

// addParameter stores a version of a parameter with its event.
func (s *Service) addParameter(ctx context.Context, tx Tx, p Parameter) (Parameter, error) {
	stored, err := tx.AddParameter(ctx, p)
	if err != nil {
		return Parameter{}, err
	}
	return stored, s.regionEvent(ctx, tx, Event{Type: ParameterAdded, Actor: stored.Actor, Reason: stored.Reason,
		Payload: mustJSON(map[string]any{"after": stored})})
}

// ParameterVersions lists every version of the region's parameters: its
// own (Version 0, from its file) and those made since, in the order they
// apply. Every official may read them.
func (s *Service) ParameterVersions(ctx context.Context, by Caller) ([]Parameter, error) {
	if err := roleMay(by, "read the region's parameters", RoleMunicipality, RoleRegional, RoleFederal, RoleAuditor); err != nil {
		return nil, err
	}
	var out []Parameter
	err := s.store.InTx(ctx, func(ctx context.Context, tx Tx) error {
		stored, err := tx.Parameters(ctx)
		if err != nil {
			return err
		}
		s.rules.set(stored)
		out = s.rules.versions()
		return nil
	})
	return out, err
}
