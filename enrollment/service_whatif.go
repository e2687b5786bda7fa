package enrollment

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/edufund/edufund/catalog"
	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/funding"
)

// What-if: a proposed change applied to the current state in memory, never
// to the store. WhatIf answers what SetParameter or SaveCategory would do
// now: the refusal they would meet, the certificates they would move or
// refuse, and the municipalities' budgets before and after.

// Proposal is a change to try: a new version of a parameter, or a
// category's new nominal and caps (exactly one of the two), and who asks.
type Proposal struct {
	// Parameter is a version as SetParameter takes it; its By is
	// ignored (the proposal's By asks) and its Reason optional.
	Parameter *ParameterRequest
	// Category is a category as SaveCategory takes it.
	Category *certificate.Category
	By       Caller
}

// MaxWhatIfListed is how many certificates a what-if report lists at most
// in each of its lists; the counts beside them are the totals.
const MaxWhatIfListed = 100

// WhatIfReport is what a proposal would do if it were made now. Nothing of
// it is written. Which parts a proposal fills depends on what it changes:
//
//   - a category (SaveCategory): Changes lists the certificates whose
//     balance and nominal for the current period would move by (new − old),
//     Moved their sum; a cut that some balance does not cover is refused as
//     a whole (Refusal nominal_cut_exceeds_balance, and Refusals names the
//     certificates left short: nothing would move); caps below the funded
//     certificates are refused (Refusal limit_below_use). Budget's After
//     prices the queue at the new nominal: the nominal does not change what
//     is reserved or spent.
//   - registry_quota: Refusals lists the certificates whose next
//     application of the registry the new quota would refuse and the
//     quota in force on its date admits (holding at least the new quota
//     of live contracts of the registry; above it, they keep their
//     contracts); for a raise, Affected counts those it would admit again.
//   - children.min_age: Refusals lists the funded certificates of the
//     scope whose child is under the new minimum on its date and not
//     under the minimum in force: an issue would be refused them; the
//     certificates issued stay valid.
//   - adult_quota: Refusal limit_below_use below the certificates its year
//     has funded; a raise funds the year's queue at once (Affected: how
//     many would be funded).
//   - advance_share: no total moves; Advances is each municipality's
//     advance invoice of the version's first month before and after (its
//     active contracts' payments of that month).
//   - adult_coverage, adult_stages, adults.documents_deadline_days,
//     adults.federal_review, adults.min_age, child_hour_cost, normative_cap,
//     prolongation_silence_days apply to
//     events from their date on: a price, a deadline, a silence counted
//     later. Nothing already computed moves, so the report has the
//     proposal, the budgets (unchanged) and a note of what it changes.
//
// A parameter's budgets are the same before and after: no parameter moves
// money already reserved or spent, nor a nominal.
type WhatIfReport struct {
	// Proposal says what is proposed, in words.
	Proposal string
	// Parameter is the version as SetParameter would store it (canonical
	// value; no Version), for a parameter's proposal.
	Parameter *Parameter
	// Category is the category before (nil when new) and as proposed,
	// with the nominals of the current period, for a category's proposal.
	Category *CategoryChange
	// Refusal is the refusal SetParameter or SaveCategory would answer:
	// then nothing else would happen.
	Refusal *WhatIfRefusal
	// Affected counts the certificates whose balance moves (Changes), or
	// whose outcome the proposal changes (see above).
	Affected int
	Changes  []CertificateChange
	// Moved is the sum of the balance moves.
	Moved funding.Money
	// Refused counts the certificates the proposal would refuse, and
	// Refusals lists them.
	Refused  int
	Refusals []CertificateRefusal
	// Budget is each municipality's forecast before and after.
	Budget []BudgetChange
	// AdvanceMonth and Advances: the advance of that month per
	// municipality, for advance_share.
	AdvanceMonth funding.Month
	Advances     []AdvanceChange
	// Notes say what the report covers for this kind of proposal.
	Notes []string
}

// CategoryChange is a category before and after, with its nominal for the
// current period.
type CategoryChange struct {
	Period                      funding.Period
	Before                      *certificate.Category // nil: a new category
	After                       certificate.Category
	NominalBefore, NominalAfter funding.Money
}

// WhatIfRefusal is the refusal of a proposal: its stable code and why.
type WhatIfRefusal struct {
	Code    string
	Message string
}

// CertificateChange is a certificate's balance before and after.
type CertificateChange struct {
	CertificateID uuid.UUID
	Number        certificate.Number
	Municipality  string
	Before, After funding.Money
}

// CertificateRefusal is a certificate the proposal would refuse something.
type CertificateRefusal struct {
	CertificateID uuid.UUID
	Number        certificate.Number
	Municipality  string
	Reason        string
}

// BudgetChange is a municipality's forecast before and after a proposal.
type BudgetChange struct {
	Municipality  string
	Before, After MunicipalityForecast
}

// AdvanceChange is a municipality's advance of a month before and after.
type AdvanceChange struct {
	Municipality  string
	Before, After funding.Money
}

// whatIfNotes say what a parameter's what-if covers.
var whatIfNotes = map[string]string{
	"adult_coverage": "applies to adult courses priced from its date on; contracts already priced keep their price, so nothing moves now",
	"adult_quota":    "changes its year's quota at once: refused below the certificates the year has funded; a raise funds that many of the year's queue at once",
	"adult_stages":   "applies to adult courses completed from its date on; nothing already paid moves",
	"adults.documents_deadline_days": "applies to the deadlines of certificates taking a place of the quota from its date on; " +
		"the report does not list the certificates it would make overdue",
	"adults.min_age": "applies to adult applications from its date on; certificates issued stay valid",
	"adults.federal_review": "applies to adult applications from its date on: they wait for the federal operator's review " +
		"before the quota; applications made before keep their place, and those awaiting review are decided as before",
	"child_hour_cost": "applies to contracts of certificates in hours priced from its date on; contracts priced keep their " +
		"price, so nothing moves now",
	"advance_share": "changes how a month's payment is split between its advance and its final from its date on; " +
		"no total moves: the advances of its first month are shown before and after",
	"children.min_age": "applies to children's certificates issued from its date on; the funded certificates whose child " +
		"is under the new minimum on that date are listed (theirs stay valid; accounting certificates are not read)",
	"normative_cap": "applies to contracts priced from its date on; contracts priced keep their price, so no balance, reserve " +
		"or budget moves now",
	"prolongation_silence_days": "applies to prolongations offered from its date on; nothing moves now",
	"registry_quota": "applies to applications from its date on, counting the live contracts held now: the certificates " +
		"whose next application of the registry it would refuse are listed; live contracts are never ended by it",
}

// WhatIf reports what p would do if it were made now (WhatIfReport),
// writing nothing: it reads the store page by page and applies p in
// memory. p is checked as SetParameter or SaveCategory checks it, caller
// included: whoever may make the change may ask what it would do (a
// municipality for its own scope). A proposal of the wrong form is
// refused with the error SetParameter or SaveCategory would return (a
// *funding.ValidationError, ErrForbidden); a refusal of the rules they
// would meet with the state (a cut a balance does not cover, a cap or a
// quota below its use) is the report's Refusal.
func (s *Service) WhatIf(ctx context.Context, p Proposal) (WhatIfReport, error) {
	if err := roleMay(p.By, "ask what a change would do", RoleMunicipality, RoleRegional, RoleFederal); err != nil {
		return WhatIfReport{}, err
	}
	if (p.Parameter == nil) == (p.Category == nil) {
		return WhatIfReport{}, &funding.ValidationError{Field: "proposal", Rule: "must name either a parameter version or a category, not both"}
	}
	// The versions made through other instances, before p is put after them.
	if err := s.inTx(ctx, func(context.Context, Tx) error { return nil }); err != nil {
		return WhatIfReport{}, err
	}
	if p.Parameter != nil {
		r := *p.Parameter
		r.By = p.By
		if r.Reason == "" {
			r.Reason = "what-if" // nothing is stored: the reason is optional
		}
		return s.whatIfParameter(ctx, r)
	}
	return s.whatIfCategory(ctx, *p.Category, p.By)
}

// rulesWith is the parameters in force on date on with v made after every
// version stored.
func (s *Service) rulesWith(v Parameter, on funding.Date) Config {
	v.Version = math.MaxInt64
	vs := append(s.rules.versions(), v)
	sortVersions(vs)
	return rulesAt(s.cfg, vs, on)
}

// refusalOf is a rule's refusal as a report says it.
func refusalOf(err error) *WhatIfRefusal {
	var re *funding.RuleError
	if errors.As(err, &re) {
		return &WhatIfRefusal{Code: re.Code, Message: err.Error()}
	}
	return &WhatIfRefusal{Message: err.Error()}
}

// unchangedBudget is every row of fc, the same before and after.
func unchangedBudget(fc []MunicipalityForecast) []BudgetChange {
	out := make([]BudgetChange, len(fc))
	for i, f := range fc {
		out[i] = BudgetChange{Municipality: f.Municipality, Before: f, After: f}
	}
	return out
}

func (s *Service) whatIfParameter(ctx context.Context, r ParameterRequest) (WhatIfReport, error) {
	v, def, err := s.checkParameter(r)
	if err != nil {
		return WhatIfReport{}, err
	}
	v.At = time.Time{}
	if (def.Name == "category_nominal" || def.Name == "category_hours") && v.From.Equal(s.Today()) {
		// At once, it is the category saved with the new nominal.
		cat, err := s.nominalCategory(ctx, v, v.From)
		if err != nil {
			return WhatIfReport{}, err
		}
		rep, err := s.whatIfCategory(ctx, cat, r.By)
		rep.Parameter = &v
		return rep, err
	}
	scope := ""
	if v.Scope != "" {
		scope = " for " + v.Scope
	}
	rep := WhatIfReport{Proposal: fmt.Sprintf("%s%s = %s from %s (%s)", v.Name, scope, v.Value, v.From, v.Reason),
		Parameter: &v, Moved: funding.Zero, Notes: []string{cmp.Or(whatIfNotes[def.Name],
			"applies to events from its date on; the what-if applies it to nothing already computed")}}
	only := onlyOf(r.By)
	st, err := s.forecastState(ctx, only)
	if err != nil {
		return rep, err
	}
	rep.Budget = unchangedBudget(st.result(nil))
	before, after := s.RulesOn(v.From), s.rulesWith(v, v.From)
	switch def.Name {
	case "registry_quota":
		err = s.whatIfRegistryQuota(ctx, &rep, catalog.Registry(v.Scope), before, after, only)
	case "children.min_age":
		err = s.whatIfMinAge(ctx, &rep, v.From, before, after, only)
	case "advance_share":
		err = s.whatIfAdvance(ctx, &rep, v, only)
	case "adult_quota":
		err = s.whatIfAdultQuota(ctx, &rep, v)
	}
	return rep, err
}

// refuse counts a refusal and adds it to rep's list (trim keeps the first
// MaxWhatIfListed by number).
func (rep *WhatIfReport) refuse(r CertificateRefusal) {
	rep.Refused++
	rep.Refusals = append(rep.Refusals, r)
	if len(rep.Refusals) >= 4*MaxWhatIfListed {
		rep.trim() // a region's worth is never held at once
	}
}

// change counts a balance's move and adds it to rep's list.
func (rep *WhatIfReport) change(c CertificateChange) {
	rep.Affected++
	rep.Moved = rep.Moved.Add(c.After.Sub(c.Before))
	rep.Changes = append(rep.Changes, c)
	if len(rep.Changes) >= 4*MaxWhatIfListed {
		rep.trim()
	}
}

// trim orders the report's lists by certificate number and keeps the
// first MaxWhatIfListed of each.
func (rep *WhatIfReport) trim() {
	slices.SortFunc(rep.Refusals, func(a, b CertificateRefusal) int { return cmp.Compare(a.Number, b.Number) })
	slices.SortFunc(rep.Changes, func(a, b CertificateChange) int { return cmp.Compare(a.Number, b.Number) })
	rep.Refusals = rep.Refusals[:min(len(rep.Refusals), MaxWhatIfListed)]
	rep.Changes = rep.Changes[:min(len(rep.Changes), MaxWhatIfListed)]
}

// whatIfRegistryQuota counts the live contracts of the registry each
// certificate holds and lists those whose next application of it the new
// quota refuses and the old one admits.
func (s *Service) whatIfRegistryQuota(ctx context.Context, rep *WhatIfReport, reg catalog.Registry, before, after Config, only string) error {
	quota := func(c Config) int {
		if q, ok := c.RegistryQuotas[reg]; ok {
			return q
		}
		return math.MaxInt // no quota
	}
	oldQ, newQ := quota(before), quota(after)
	held := map[uuid.UUID]int{}
	err := s.eachContractPage(ctx, liveStatuses, func(ctx context.Context, tx Tx, ids []uuid.UUID) (func(), error) {
		var page []uuid.UUID
		read, err := contractsOf(ctx, tx, ids)
		if err != nil {
			return nil, err
		}
		for _, c := range read {
			if c.Status.Live() && c.Registry == reg && c.Scheme != certificate.DigitalSkills && (only == "" || c.Municipality == only) {
				page = append(page, c.CertificateID)
			}
		}
		return func() {
			for _, id := range page {
				held[id]++
			}
		}, nil
	})
	if err != nil {
		return err
	}
	var refused []uuid.UUID
	for id, n := range held {
		switch {
		case n >= newQ && n < oldQ:
			refused = append(refused, id)
		case n >= oldQ && n < newQ:
			rep.Affected++ // admitted again
		}
	}
	if newQ < oldQ {
		rep.Affected = len(refused)
	}
	slices.SortFunc(refused, func(a, b uuid.UUID) int { return strings.Compare(a.String(), b.String()) })
	for page := range slices.Chunk(refused, pageSize) {
		var out []CertificateRefusal
		err := s.inTx(ctx, func(ctx context.Context, tx Tx) error {
			out = out[:0]
			for _, id := range page {
				c, err := tx.Certificate(ctx, id)
				if err != nil {
					return err
				}
				n := held[id]
				how := "at"
				if n > newQ {
					how = "over"
				}
				out = append(out, CertificateRefusal{CertificateID: id, Number: c.Number, Municipality: c.Municipality,
					Reason: fmt.Sprintf("holds %d live contracts of the %s registry, %s the new quota of %d: a next application of it would be refused (registry_quota_reached)", n, reg, how, newQ)})
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, r := range out {
			rep.refuse(r)
		}
	}
	rep.trim()
	return nil
}

// whatIfMinAge lists the funded certificates whose child is under the new
// minimum age on from and not under the minimum in force then.
func (s *Service) whatIfMinAge(ctx context.Context, rep *WhatIfReport, from funding.Date, before, after Config, only string) error {
	err := s.eachCertificatePage(ctx, func(ctx context.Context, tx Tx, ids []uuid.UUID) (func(), error) {
		var out []CertificateRefusal
		read, err := certificatesOf(ctx, tx, ids)
		if err != nil {
			return nil, err
		}
		for _, c := range read {
			if c.Scheme != certificate.Supplementary || (only != "" && c.Municipality != only) {
				continue
			}
			age := certificate.Age(c.Holder.BirthDate, from)
			if was, now := before.Children.MinAgeFor(c.Municipality), after.Children.MinAgeFor(c.Municipality); age < now && age >= was {
				out = append(out, CertificateRefusal{CertificateID: c.ID, Number: c.Number, Municipality: c.Municipality,
					Reason: fmt.Sprintf("the child is %d on %s, under the new minimum of %d: an issue would be refused; the certificate issued stays valid", age, from, now)})
			}
		}
		return func() {
			for _, r := range out {
				rep.refuse(r)
			}
		}, nil
	})
	rep.Affected = rep.Refused
	rep.trim()
	return err
}

// whatIfAdvance is each municipality's advance of v's first month, from
// its active contracts' payments, at the share in force and at v's.
func (s *Service) whatIfAdvance(ctx context.Context, rep *WhatIfReport, v Parameter, only string) error {
	m := v.From.MonthOf()
	rep.AdvanceMonth = m
	was := s.AdvanceShares()
	now := Shares(func(k funding.Month) decimal.Decimal { return s.rulesWith(v, k.First()).AdvanceShare })
	type sums struct{ before, after funding.Money }
	by := map[string]*sums{}
	if only != "" {
		by[only] = &sums{funding.Zero, funding.Zero}
	}
	err := s.eachContractPage(ctx, []Status{Active}, func(ctx context.Context, tx Tx, ids []uuid.UUID) (func(), error) {
		type line struct {
			mun           string
			before, after funding.Money
		}
		var page []line
		read, err := contractsOf(ctx, tx, ids)
		if err != nil {
			return nil, err
		}
		for _, c := range read {
			if c.Status != Active || c.Scheme == certificate.DigitalSkills || (only != "" && c.Municipality != only) {
				continue
			}
			l := line{c.Municipality, advanceOf(PlanContract(c, m, was), m), advanceOf(PlanContract(c, m, now), m)}
			if l.before.IsPositive() || l.after.IsPositive() {
				page = append(page, l)
			}
		}
		return func() {
			for _, l := range page {
				sum, ok := by[l.mun]
				if !ok {
					sum = &sums{funding.Zero, funding.Zero}
					by[l.mun] = sum
				}
				sum.before, sum.after = sum.before.Add(l.before), sum.after.Add(l.after)
			}
		}, nil
	})
	if err != nil {
		return err
	}
	for _, b := range rep.Budget {
		if _, ok := by[b.Municipality]; !ok {
			by[b.Municipality] = &sums{funding.Zero, funding.Zero}
		}
	}
	for _, mun := range slices.Sorted(maps.Keys(by)) {
		rep.Advances = append(rep.Advances, AdvanceChange{Municipality: mun, Before: by[mun].before, After: by[mun].after})
	}
	return nil
}

// advanceOf is the advance a contract's plan invoices for month m.
func advanceOf(p ContractPlan, m funding.Month) funding.Money {
	sum := funding.Zero
	for _, l := range p.Lines {
		if l.Kind == AdvanceInvoice && l.Month == m {
			sum = sum.Add(l.Amount)
		}
	}
	return sum
}

// whatIfAdultQuota checks a new adult quota against its year's use, as
// SetParameter does, and counts the queued certificates a raise would fund.
func (s *Service) whatIfAdultQuota(ctx context.Context, rep *WhatIfReport, v Parameter) error {
	year := v.From.Year()
	dec31 := funding.MustDate(year, time.December, 31)
	quota := s.rulesWith(v, dec31).AdultQuota(year)
	var cur Counter
	err := s.inTx(ctx, func(ctx context.Context, tx Tx) (err error) {
		cur, err = tx.Counter(ctx, adultQuotaKey(year))
		return err
	})
	if errors.Is(err, ErrNotFound) {
		return nil // counted from the year's first application on
	}
	if err != nil {
		return err
	}
	if cur.Used > quota {
		rep.Refusal = refusalOf(funding.Refuse(ErrLimitBelowUse, CodeLimitBelowUse,
			"the adult quota of %d has funded %d certificates, more than %d", year, cur.Used, quota))
		return nil
	}
	free := quota - cur.Used
	for after := uuid.Nil; int64(rep.Affected) < free; {
		ids, err := s.store.QueuedIDs(ctx, adultQueue(year), after, pageSize)
		if err != nil {
			return err
		}
		if len(ids) == 0 {
			break
		}
		rep.Affected += int(min(int64(len(ids)), free-int64(rep.Affected)))
		after = ids[len(ids)-1]
	}
	return nil
}

// whatIfCategory checks cat as SaveCategory does and lists what its
// nominal would move.
//
// saveCategory's own checks (the caps against the funded certificates,
// the kind of nominal) run in a transaction of the dry run, rolled back:
// the what-if meets every rule the change would, as the rules evolve. The
// balances are read as nominalNeeds reads them, with each certificate's
// move kept for the report; a category in hours goes through nominalNeeds
// itself (no money moves: Affected counts the certificates whose weekly
// hours would change, and a refusal names the certificates in its message).
func (s *Service) whatIfCategory(ctx context.Context, cat certificate.Category, by Caller) (WhatIfReport, error) {
	if err := roleMay(by, "change a category", RoleRegional); err != nil {
		return WhatIfReport{}, err
	}
	if err := cat.Validate(); err != nil {
		return WhatIfReport{}, err
	}
	today := s.Today()
	period := s.cfg.PeriodOf(today)
	rules := s.RulesOn(today)
	ch := &CategoryChange{Period: period, After: cat, NominalBefore: funding.Zero, NominalAfter: rules.scaled(cat.Nominal, period)}
	if err := s.inTx(ctx, func(ctx context.Context, tx Tx) error {
		ch.Before = nil
		cur, err := tx.Category(ctx, cat.Code)
		switch {
		case errors.Is(err, ErrNotFound):
		case err != nil:
			return err
		default:
			ch.Before, ch.NominalBefore = &cur, rules.PeriodNominal(cur, period)
		}
		return nil
	}); err != nil {
		return WhatIfReport{}, err
	}
	var saveRefusal error
	err := s.DryRun().inTx(ctx, func(ctx context.Context, tx Tx) error { return s.saveCategory(ctx, tx, cat, by) })
	var re *funding.RuleError
	switch {
	case errors.As(err, &re):
		saveRefusal = err
	case err != nil:
		return WhatIfReport{}, err // the form (a ValidationError), or a failure
	}
	rep := WhatIfReport{Proposal: fmt.Sprintf("category %s: nominal %s, max_count %d, max_sum %s", cat.Code, cat.Nominal, cat.MaxCount, cat.MaxSum),
		Category: ch, Moved: funding.Zero,
		Notes: []string{"moves every funded certificate of the category by (new − old) in the current period, as SaveCategory does; " +
			"a raised cap does not fund the queue at once (a slot freed later does); the budgets' After prices the queue at the new nominal"}}

	if cat.InHours() {
		need, err := s.nominalNeeds(ctx, cat, ch.NominalAfter, period)
		switch {
		case errors.Is(err, ErrNominalCut):
			rep.Refusal = refusalOf(err)
		case err != nil:
			return rep, err
		default:
			rep.Affected = len(need)
		}
		rep.Notes = append(rep.Notes, "a category in hours: no money moves; affected counts the certificates whose weekly hours would change, "+
			"and a cut below the hours their contracts hold is refused, naming them")
	} else if err := s.whatIfBalances(ctx, &rep, cat, period); err != nil {
		return rep, err
	}
	if rep.Refusal == nil && saveRefusal != nil {
		rep.Refusal = refusalOf(saveRefusal)
	}
	if rep.Refusal != nil {
		rep.Affected, rep.Changes, rep.Moved = 0, nil, funding.Zero
	}
	rep.trim()

	st, err := s.forecastState(ctx, "")
	if err != nil {
		return rep, err
	}
	beforeRows := st.result(nil)
	afterRows := beforeRows
	if rep.Refusal == nil {
		afterRows = st.result(func(code string) (funding.Money, bool) { return ch.NominalAfter, code == cat.Code })
	}
	for i := range beforeRows {
		rep.Budget = append(rep.Budget, BudgetChange{Municipality: beforeRows[i].Municipality, Before: beforeRows[i], After: afterRows[i]})
	}
	return rep, nil
}

// whatIfBalances reads the balances of the category's funded certificates
// as nominalNeeds does and adds each move to rep; a cut that any balance
// does not cover is refused whole, as nominalNeeds refuses it.
func (s *Service) whatIfBalances(ctx context.Context, rep *WhatIfReport, cat certificate.Category, period funding.Period) error {
	nominal := rep.Category.NominalAfter
	err := s.eachCertificatePage(ctx, func(ctx context.Context, tx Tx, ids []uuid.UUID) (func(), error) {
		var moves []CertificateChange
		var shorts []CertificateRefusal
		read, err := certificatesOf(ctx, tx, ids)
		if err != nil {
			return nil, err
		}
		for _, c := range read {
			if c.Category != cat.Code {
				continue
			}
			a, err := account(ctx, tx, c.ID, period)
			if err != nil {
				return nil, err
			}
			d := nominalDelta(c, a, cat.Code, nominal)
			switch {
			case d.IsZero():
			case a.Account.Balance.Add(d).IsNegative():
				shorts = append(shorts, CertificateRefusal{CertificateID: c.ID, Number: c.Number, Municipality: c.Municipality,
					Reason: fmt.Sprintf("balance %s does not cover the cut of %s", a.Account.Balance, d.Neg())})
			default:
				moves = append(moves, CertificateChange{CertificateID: c.ID, Number: c.Number, Municipality: c.Municipality,
					Before: a.Account.Balance, After: a.Account.Balance.Add(d)})
			}
		}
		return func() {
			for _, r := range shorts {
				rep.refuse(r)
			}
			for _, m := range moves {
				rep.change(m)
			}
		}, nil
	})
	if err != nil || rep.Refused == 0 {
		return err
	}
	rep.trim()
	names := make([]string, 0, 20)
	for _, r := range rep.Refusals[:min(len(rep.Refusals), 20)] {
		names = append(names, string(r.Number))
	}
	more := ""
	if rep.Refused > len(names) {
		more = fmt.Sprintf(" and %d more", rep.Refused-len(names))
	}
	rep.Refusal = refusalOf(funding.Refuse(ErrNominalCut, CodeNominalCut,
		"lowering the nominal of category %s to %s for %s would leave %d certificates below zero, so nothing would change: %s%s",
		cat.Code, nominal, period, rep.Refused, strings.Join(names, ", "), more))
	return nil
}
