package enrollment

import (
	"context"
	"encoding/base64"
	"errors"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/edufund/edufund/catalog"
	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/funding"
)

// The officials' reads of what the admin methods write: categories,
// budgets and direction limits with their use, providers and their
// catalogue. Before them a budget's use could be read only by posting its
// limit again, which overwrote it. Each read checks the caller as the
// cabinets' lists do: a filter is narrowed to the caller's reach before
// the store reads, and what lies outside it is not found or left out.

// CounterFilter narrows Pager.Counters: the counters whose key starts with
// Prefix, in key order, strictly after After, at most Limit of them.
type CounterFilter struct {
	Prefix string
	After  string
	Limit  int
}

// ProviderFilter narrows Service.Providers; a zero field is any.
type ProviderFilter struct {
	// Municipality is the providers' own municipality.
	Municipality string
	// After is the last id of the previous page (ProviderPage.Next).
	After uuid.UUID
	Limit int
}

// ProgramFilter narrows Service.ProviderPrograms: the programs of one
// provider, a page at a time.
type ProgramFilter struct {
	Provider uuid.UUID
	After    uuid.UUID
	Limit    int
}

// InvoiceTotalsFilter names what Pager.InvoiceTotals sums: a
// municipality's invoices of a scheme, for the months From to To.
type InvoiceTotalsFilter struct {
	Scheme       certificate.Scheme
	Municipality string
	From, To     funding.Month
}

// categoryReaders read the categories and a municipality's limits: the
// children's scheme's officials, and the auditor.
var categoryReaders = []Role{RoleMunicipality, RoleRegional, RoleAuditor}

// Categories lists the region's categories, by code, each with the
// certificates it funds and those waiting in its queue. A region has a
// handful of them: the list is not paged.
func (s *Service) Categories(ctx context.Context, by Caller) ([]CategoryUse, error) {
	if err := roleMay(by, "read the categories", categoryReaders...); err != nil {
		return nil, err
	}
	var out []CategoryUse
	err := s.inTx(ctx, func(ctx context.Context, tx Tx) error {
		out = nil
		cats, err := tx.Categories(ctx)
		if err != nil {
			return err
		}
		for _, c := range cats {
			u, err := categoryUse(ctx, tx, c)
			if err != nil {
				return err
			}
			out = append(out, u)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for i := range out {
		if out[i].Queued, err = s.store.QueueLength(ctx, categoryQueue(out[i].Category.Code)); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// ReadCategory reads one category with its use; not_found when there is
// none of that code.
func (s *Service) ReadCategory(ctx context.Context, by Caller, code string) (CategoryUse, error) {
	if err := roleMay(by, "read the categories", categoryReaders...); err != nil {
		return CategoryUse{}, err
	}
	var out CategoryUse
	err := s.inTx(ctx, func(ctx context.Context, tx Tx) error {
		c, err := tx.Category(ctx, code)
		if errors.Is(err, ErrNotFound) {
			return funding.Refuse(ErrNotFound, CodeNotFound, "category %q does not exist", code)
		}
		if err != nil {
			return err
		}
		out, err = categoryUse(ctx, tx, c)
		return err
	})
	if err != nil {
		return CategoryUse{}, err
	}
	out.Queued, err = s.store.QueueLength(ctx, categoryQueue(code))
	return out, err
}

func categoryUse(ctx context.Context, tx Tx, c certificate.Category) (CategoryUse, error) {
	cnt, err := tx.Counter(ctx, categoryCountKey(c.Code))
	if err != nil && !errors.Is(err, ErrNotFound) {
		return CategoryUse{}, err
	}
	return CategoryUse{Category: c, Funded: cnt.Used}, nil
}

// BudgetFilter narrows Service.Budgets.
type BudgetFilter struct {
	Municipality string
	// After is the previous page's Next; "" starts from the first.
	After string
	Limit int
}

// BudgetUse is a municipality's budget of a period: its limit, what its
// certificates reserve and spend against it (the counter's use), and what
// was invoiced against it each month of the period so far.
type BudgetUse struct {
	Municipality string
	Period       funding.Period
	// Limit is zero with Unlimited set when the budget only counts (a
	// contract was made before any limit was set).
	Limit     funding.Money
	Unlimited bool
	Used      funding.Money
	Months    []MonthInvoiced
}

// MonthInvoiced is what a month's invoices of a municipality add up to, by
// kind: refunds are what under-delivery returned to the certificates.
type MonthInvoiced struct {
	Month                   funding.Month
	Advance, Final, Refunds funding.Money
}

// BudgetPage is a page of budgets, by municipality and period.
type BudgetPage struct {
	Budgets []BudgetUse
	// Next is the After of the next page; "" on the last.
	Next string
}

// Budgets lists municipalities' budgets with their use: a municipal
// authority its own, the regional operator and the auditor (and the
// system) every municipality's or one's.
func (s *Service) Budgets(ctx context.Context, by Caller, f BudgetFilter) (BudgetPage, error) {
	if err := roleMay(by, "read budgets", categoryReaders...); err != nil {
		return BudgetPage{}, err
	}
	if err := ownMunicipality(by, &f.Municipality); err != nil {
		return BudgetPage{}, err
	}
	cs, next, err := s.counterPage(ctx, "budget:", f.Municipality, f.After, f.Limit)
	if err != nil {
		return BudgetPage{}, err
	}
	page := BudgetPage{Next: next}
	for _, c := range cs {
		mun, rest, ok := splitCounterKey(c.Key, "budget:")
		start, err := funding.ParseDate(rest)
		if !ok || err != nil {
			continue // not a budget key edufund wrote
		}
		b := BudgetUse{Municipality: mun, Period: s.periodFrom(start), Used: funding.Kopecks(c.Used), Unlimited: c.Limit >= Unlimited}
		if !b.Unlimited {
			b.Limit = funding.Kopecks(c.Limit)
		}
		if b.Months, err = s.monthsInvoiced(ctx, mun, b.Period); err != nil {
			return BudgetPage{}, err
		}
		page.Budgets = append(page.Budgets, b)
	}
	return page, nil
}

// monthsInvoiced sums the children's scheme's invoices of mun by month of
// period, in month order; months with none are left out.
func (s *Service) monthsInvoiced(ctx context.Context, mun string, p funding.Period) ([]MonthInvoiced, error) {
	invs, err := s.store.InvoiceTotals(ctx, InvoiceTotalsFilter{Scheme: certificate.Supplementary, Municipality: mun,
		From: p.Start.MonthOf(), To: p.End.MonthOf()})
	if err != nil {
		return nil, err
	}
	var out []MonthInvoiced
	for _, inv := range invs {
		if len(out) == 0 || out[len(out)-1].Month != inv.Month {
			out = append(out, MonthInvoiced{Month: inv.Month, Advance: funding.Zero, Final: funding.Zero, Refunds: funding.Zero})
		}
		m := &out[len(out)-1]
		switch inv.Kind {
		case AdvanceInvoice:
			m.Advance = m.Advance.Add(inv.Amount)
		case FinalInvoice:
			m.Final = m.Final.Add(inv.Amount)
		case RefundInvoice:
			m.Refunds = m.Refunds.Add(inv.Amount)
		}
	}
	return out, nil
}

// DirectionLimitFilter narrows Service.DirectionLimits; a zero field is any.
type DirectionLimitFilter struct {
	Municipality string
	Direction    catalog.Direction
	After        string
	Limit        int
}

// DirectionLimitUse is a municipality's live contracts of a direction in
// a period against its limit; Limit is 0 when none is set (the counter
// only counts).
type DirectionLimitUse struct {
	Municipality string
	Direction    catalog.Direction
	Period       funding.Period
	Limit, Used  int64
}

// DirectionLimitPage is a page of direction limits, by municipality,
// direction and period.
type DirectionLimitPage struct {
	Limits []DirectionLimitUse
	Next   string
}

// DirectionLimits lists municipalities' direction counters: a municipal
// authority its own, the regional operator every municipality's or one's.
// A counter exists once a limit was set or a contract of the direction
// was made.
func (s *Service) DirectionLimits(ctx context.Context, by Caller, f DirectionLimitFilter) (DirectionLimitPage, error) {
	if err := roleMay(by, "read direction limits", categoryReaders...); err != nil {
		return DirectionLimitPage{}, err
	}
	if f.Direction != "" && !f.Direction.Known() {
		return DirectionLimitPage{}, &funding.ValidationError{Field: "direction", Rule: "must be one of the seven directions", Value: string(f.Direction)}
	}
	if err := ownMunicipality(by, &f.Municipality); err != nil {
		return DirectionLimitPage{}, err
	}
	var page DirectionLimitPage
	limit, err := listLimit(f.Limit)
	if err != nil {
		return page, err
	}
	// A direction filter drops rows after the store read them: read on
	// until the page is full or the counters end.
	for after := f.After; ; {
		cs, next, err := s.counterPage(ctx, "direction:", f.Municipality, after, limit-len(page.Limits))
		if err != nil {
			return DirectionLimitPage{}, err
		}
		for _, c := range cs {
			mun, rest, ok := splitCounterKey(c.Key, "direction:")
			dir, date, cut := strings.Cut(rest, ":")
			start, err := funding.ParseDate(date)
			if !ok || !cut || err != nil || (f.Direction != "" && catalog.Direction(dir) != f.Direction) {
				continue
			}
			d := DirectionLimitUse{Municipality: mun, Direction: catalog.Direction(dir), Period: s.periodFrom(start), Used: c.Used}
			if c.Limit < Unlimited {
				d.Limit = c.Limit
			}
			page.Limits = append(page.Limits, d)
		}
		page.Next = next
		if next == "" || len(page.Limits) >= limit {
			return page, nil
		}
		after = next
	}
}

// ownMunicipality narrows a municipality filter to a municipal authority's
// own: naming another is refused, as Limits refuses it.
func ownMunicipality(by Caller, mun *string) error {
	if by.Role != RoleMunicipality {
		return nil
	}
	if *mun != "" && *mun != by.ID {
		return forbidden("a municipal authority reads only its own limits")
	}
	*mun = by.ID
	return nil
}

// counterPage reads a page of the counters of a class (prefix "budget:" or
// "direction:"), of one municipality when mun is set, after the cursor
// after (a page's Next). The cursor is the last key read, encoded so that
// a municipality's code travels in a URL as it is.
func (s *Service) counterPage(ctx context.Context, prefix, mun, after string, limit int) ([]Counter, string, error) {
	limit, err := listLimit(limit)
	if err != nil {
		return nil, "", err
	}
	var from string
	if after != "" {
		b, err := base64.RawURLEncoding.DecodeString(after)
		if err != nil || !strings.HasPrefix(string(b), prefix) {
			return nil, "", &funding.ValidationError{Field: "after", Rule: "must be the next of a previous page", Value: after}
		}
		from = string(b)
	}
	class := prefix
	if mun != "" {
		prefix += mun + ":"
	}
	cs, err := s.store.Counters(ctx, CounterFilter{Prefix: prefix, After: from, Limit: limit + 1})
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(cs) > limit {
		cs = cs[:limit]
		next = base64.RawURLEncoding.EncodeToString([]byte(cs[limit-1].Key))
	}
	if mun != "" {
		// A municipality whose code holds a colon shares the prefix with
		// others: keep its own keys only.
		cs = slices.DeleteFunc(cs, func(c Counter) bool {
			m, _, ok := splitCounterKey(c.Key, class)
			return !ok || m != mun
		})
	}
	return cs, next, nil
}

// splitCounterKey splits a budget or direction key into its municipality
// and the rest (the date, or the direction and the date). The rest never
// holds the municipality's colons: it is a date, or a direction code (no
// colon) and a date, so the key is cut from its end.
func splitCounterKey(key, prefix string) (mun, rest string, ok bool) {
	body, ok := strings.CutPrefix(key, prefix)
	if !ok {
		return "", "", false
	}
	parts := 1
	if prefix == "direction:" {
		parts = 2
	}
	cut := len(body)
	for range parts {
		i := strings.LastIndexByte(body[:cut], ':')
		if i < 0 {
			return "", "", false
		}
		cut = i
	}
	return body[:cut], body[cut+1:], true
}

// periodFrom is the region's period starting on start; a start that is no
// period's (a region that changed its period shape) gives the period
// holding it.
func (s *Service) periodFrom(start funding.Date) funding.Period {
	return s.cfg.PeriodOf(start)
}

// ProviderCard is a provider as a caller may read it. The public card (a
// family's, another provider's) is its name, municipality and contacts;
// the full one adds its INN, accounting details, agreements, limit and
// live contracts: for the provider itself, the operators, the auditor,
// and a municipality it is registered in or has an agreement with.
type ProviderCard struct {
	Provider catalog.Provider
	Full     bool
	// Live counts its live contracts (its counter); 0 on a public card.
	Live int64
}

// ProviderPage is a page of providers, newest first.
type ProviderPage struct {
	Providers []ProviderCard
	Next      uuid.UUID
}

// Providers lists providers, newest (highest id) first, each as the
// caller may read it (ProviderCard): everyone signed in reads the public
// card of every provider, as the navigator shows it.
func (s *Service) Providers(ctx context.Context, by Caller, f ProviderFilter) (ProviderPage, error) {
	if err := by.Validate(); err != nil {
		return ProviderPage{}, err
	}
	want, err := listLimit(f.Limit)
	if err != nil {
		return ProviderPage{}, err
	}
	f.Limit = want + 1
	ps, err := s.store.Providers(ctx, f)
	if err != nil {
		return ProviderPage{}, err
	}
	var page ProviderPage
	if len(ps) > want {
		ps = ps[:want]
		page.Next = ps[want-1].ID
	}
	err = s.inTx(ctx, func(ctx context.Context, tx Tx) error {
		page.Providers = page.Providers[:0]
		for _, p := range ps {
			card, err := providerCard(ctx, tx, by, p)
			if err != nil {
				return err
			}
			page.Providers = append(page.Providers, card)
		}
		return nil
	})
	return page, err
}

// Provider reads one provider as the caller may (ProviderCard); not_found
// when there is none.
func (s *Service) Provider(ctx context.Context, by Caller, id uuid.UUID) (ProviderCard, error) {
	if err := by.Validate(); err != nil {
		return ProviderCard{}, err
	}
	var card ProviderCard
	err := s.inTx(ctx, func(ctx context.Context, tx Tx) error {
		p, err := tx.Provider(ctx, id)
		if err != nil {
			return notFound(err, "provider_id", id)
		}
		card, err = providerCard(ctx, tx, by, p)
		return err
	})
	return card, err
}

// seesProvider reports whether by reads provider p's full card.
func seesProvider(by Caller, p catalog.Provider) bool {
	switch by.Role {
	case RoleSystem, RoleRegional, RoleFederal, RoleAuditor:
		return true
	case RoleProvider:
		return by.providerID() == p.ID
	case RoleMunicipality:
		return p.Municipality == by.ID || slices.ContainsFunc(p.Agreements, func(a catalog.Agreement) bool { return a.Municipality == by.ID })
	}
	return false
}

func providerCard(ctx context.Context, tx Tx, by Caller, p catalog.Provider) (ProviderCard, error) {
	if !seesProvider(by, p) {
		return ProviderCard{Provider: catalog.Provider{ID: p.ID, Name: p.Name, Municipality: p.Municipality,
			Address: p.Address, Phone: p.Phone, Email: p.Email, Site: p.Site}}, nil
	}
	c, err := tx.Counter(ctx, providerKey(p.ID))
	if err != nil && !errors.Is(err, ErrNotFound) {
		return ProviderCard{}, err
	}
	return ProviderCard{Provider: p, Full: true, Live: c.Used}, nil
}

// ProgramCard is a program of a provider's catalogue with its modules and
// groups, the seats of each group taken and free. Full, for those who read
// its provider's full card, adds its live-contract limit and use;
// otherwise EnrolmentLimit is 0, as a navigator's page leaves it out.
type ProgramCard struct {
	Program catalog.Program
	Modules []ModulePage
	Full    bool
	Live    int64
}

// ProgramCardPage is a page of a provider's programs, newest first.
type ProgramCardPage struct {
	Programs []ProgramCard
	Next     uuid.UUID
}

// ProviderPrograms lists a provider's programs, newest first, with their
// modules and groups and the groups' seats. A program's page is public
// (ProgramPage), so everyone signed in reads them; not_found when there is
// no such provider.
func (s *Service) ProviderPrograms(ctx context.Context, by Caller, f ProgramFilter) (ProgramCardPage, error) {
	if err := by.Validate(); err != nil {
		return ProgramCardPage{}, err
	}
	want, err := listLimit(f.Limit)
	if err != nil {
		return ProgramCardPage{}, err
	}
	var prov catalog.Provider
	err = s.inTx(ctx, func(ctx context.Context, tx Tx) error {
		var err error
		prov, err = tx.Provider(ctx, f.Provider)
		return notFound(err, "provider_id", f.Provider)
	})
	if err != nil {
		return ProgramCardPage{}, err
	}
	f.Limit = want + 1
	progs, err := s.store.Programs(ctx, f)
	if err != nil {
		return ProgramCardPage{}, err
	}
	var page ProgramCardPage
	if len(progs) > want {
		progs = progs[:want]
		page.Next = progs[want-1].ID
	}
	full := seesProvider(by, prov)
	err = s.inTx(ctx, func(ctx context.Context, tx Tx) error {
		page.Programs = page.Programs[:0]
		for _, p := range progs {
			card, err := programCard(ctx, tx, p, prov, full)
			if err != nil {
				return err
			}
			page.Programs = append(page.Programs, card)
		}
		return nil
	})
	return page, err
}

func programCard(ctx context.Context, tx Tx, p catalog.Program, prov catalog.Provider, full bool) (ProgramCard, error) {
	card := ProgramCard{Program: p, Full: full}
	if full {
		c, err := tx.Counter(ctx, programKey(p.ID))
		if err != nil && !errors.Is(err, ErrNotFound) {
			return card, err
		}
		card.Live = c.Used
	} else {
		card.Program.EnrolmentLimit = 0
	}
	mods, err := tx.ProgramModules(ctx, p.ID)
	if err != nil {
		return card, err
	}
	groups, err := tx.ProgramGroups(ctx, p.ID)
	if err != nil {
		return card, err
	}
	index := make(map[uuid.UUID]int, len(mods))
	for i, m := range mods {
		index[m.ID] = i
		card.Modules = append(card.Modules, ModulePage{Module: m})
	}
	for _, g := range groups {
		i, ok := index[g.ModuleID]
		if !ok {
			continue
		}
		gp, err := groupPage(ctx, tx, g, prov)
		if err != nil {
			return card, err
		}
		card.Modules[i].Groups = append(card.Modules[i].Groups, gp)
	}
	return card, nil
}
