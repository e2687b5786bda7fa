package enrollment

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/google/uuid"

	"github.com/edufund/edufund/catalog"
	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/funding"
)

// SaveCategory creates or changes a category and its slot caps; the
// regional operator (or the system) does. A changed nominal applies from
// today: every funded certificate of the category moves to it in the
// current period (ApplyNominal), and a cut that some balance does not
// cover is refused before anything is written. The category's cap on the
// sum of its nominals counts every funded certificate at the new nominal:
// a raise it does not allow is refused (ErrLimitBelowUse).
//
// The certificates move one transaction each, after the category is
// saved. A certificate that a concurrent application left short of the cut
// is not moved; the error names how many, and saving the category again
// (or ApplyNominal) finishes the move.
func (s *Service) SaveCategory(ctx context.Context, key string, c certificate.Category, by Caller) (certificate.Category, error) {
	if err := roleMay(by, "change a category", RoleRegional); err != nil {
		return c, err
	}
	if err := c.Validate(); err != nil {
		return c, err
	}
	rep, err := s.applyNominal(ctx, c, c.Nominal, by, func() error {
		_, err := idempotent(ctx, s, key, "admin.category", by, c, func(ctx context.Context, tx Tx) (certificate.Category, error) {
			return c, s.saveCategory(ctx, tx, c, by)
		})
		// The version of category_nominal it may have added applies here
		// from the next transaction on.
		s.rules.forget()
		return err
	})
	if err != nil {
		return c, err
	}
	// A raised cap funds the children waiting in the category's queue at
	// once, first come first served, at the nominal now in force (a
	// transaction of its own, which reads the rules the save changed).
	if err := s.inTx(ctx, func(ctx context.Context, tx Tx) error {
		cur, err := tx.Category(ctx, c.Code)
		if errors.Is(err, ErrNotFound) {
			return nil // a dry run's save, rolled back
		}
		if err != nil {
			return err
		}
		return s.promoteCategory(ctx, tx, cur, s.Today(), by.Actor())
	}); err != nil {
		return c, fmt.Errorf("category %s saved, but its queue was not funded; save it again: %w", c.Code, err)
	}
	if len(rep.Failed) > 0 {
		var first error
		for _, err := range rep.Failed {
			first = err
			break
		}
		return c, fmt.Errorf("category %s saved, but %d of its certificates are not at the new nominal yet; save it again to move them: %w", c.Code, len(rep.Failed), first)
	}
	return c, nil
}

// saveCategory stores c with its slot counter. Every funded certificate of
// a category holds its nominal (a change moves them all), so the cap on
// the sum of their nominals is a cap on their number: floor(MaxSum /
// Nominal), and one counter guards both caps against every race between
// issuing, cancelling and changing the category.
//
// A new nominal of an existing category is also recorded as a version of
// category_nominal (or category_hours) from today, with the caller: the
// nominal's history is kept, and the latest change is the one in force.
func (s *Service) saveCategory(ctx context.Context, tx Tx, c certificate.Category, by Caller) error {
	old, err := tx.Category(ctx, c.Code)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	existed := err == nil
	if existed && old.InHours() != c.InHours() {
		return &funding.ValidationError{Field: "category.hours_base", Value: strconv.Itoa(c.HoursBase),
			Rule: "cannot turn a category between money and hours: its certificates hold one or the other; make a new category"}
	}
	if err := tx.SaveCategory(ctx, c); err != nil {
		return err
	}
	var before any
	if existed {
		before = old
	}
	if err := s.regionEvent(ctx, tx, Event{Type: CategorySaved, Actor: by.Actor(), Scheme: certificate.Supplementary,
		Payload: mustJSON(beforeAfter(before, c))}); err != nil {
		return err
	}
	today := s.Today()
	was := s.RulesOn(today).CategoryOf(old)
	version := func(name, value string) error {
		_, err := s.addParameter(ctx, tx, Parameter{Name: name, Scope: c.Code, From: today, Value: value,
			Actor: by.Actor(), Reason: "category saved", At: s.clock.Now().UTC()})
		return err
	}
	switch err = nil; {
	case !existed:
	case !c.InHours() && !was.Nominal.Equal(c.Nominal):
		err = version("category_nominal", c.Nominal.String())
	case c.InHours() && (was.HoursBase != c.HoursBase || was.HoursExtra != c.HoursExtra):
		err = version("category_hours", strconv.Itoa(c.HoursBase)+"+"+strconv.Itoa(c.HoursExtra))
	}
	if err != nil {
		return err
	}
	return ensureCategoryLimit(ctx, tx, c, c.Nominal)
}

// ensureCategoryLimit sets the limit of category c's slot counter for its
// nominal: max_count, and max_sum ÷ nominal.
func ensureCategoryLimit(ctx context.Context, tx Tx, c certificate.Category, nominal funding.Money) error {
	limit := limitOrUnlimited(c.MaxCount)
	if c.MaxSum.IsPositive() && nominal.IsPositive() {
		limit = min(limit, c.MaxSum.Kopecks()/nominal.Kopecks())
	}
	err := tx.EnsureCounter(ctx, categoryCountKey(c.Code), limit)
	if errors.Is(err, ErrCounterFull) {
		return funding.Refuse(ErrLimitBelowUse, CodeLimitBelowUse,
			"category %s funds more certificates than its caps allow (%d at most: max_count %d, max_sum %s at a nominal of %s)",
			c.Code, limit, c.MaxCount, c.MaxSum, nominal)
	}
	return err
}

// BudgetRequest sets a municipality's budget limit for a period.
type BudgetRequest struct {
	Municipality string
	Period       funding.Period
	Limit        funding.Money
	// By is the municipality itself, the regional operator or the system.
	By Caller
}

// municipalLimit checks who sets a municipality's limit: the municipal
// authority for its own, the regional operator or the system for any
// municipality that takes part in the children's scheme.
func (s *Service) municipalLimit(by Caller, mun string) error {
	if err := roleMay(by, "set a municipality's limits", RoleMunicipality, RoleRegional); err != nil {
		return err
	}
	if mun == "" {
		return &funding.ValidationError{Field: "municipality", Rule: "must not be empty"}
	}
	if by.Role == RoleMunicipality && mun != by.ID {
		return forbidden("a municipal authority sets only its own limits")
	}
	if ms := s.cfg.Children.Municipalities; len(ms) > 0 && !ms[mun] {
		return &funding.ValidationError{Field: "municipality", Rule: "does not take part in the children's scheme", Value: mun}
	}
	return nil
}

// SetBudget sets the money limit of a municipality's certificates in a period.
// Lowering it below what is already reserved and spent is refused.
func (s *Service) SetBudget(ctx context.Context, key string, r BudgetRequest) (Counter, error) {
	if err := s.municipalLimit(r.By, r.Municipality); err != nil {
		return Counter{}, err
	}
	if r.Limit.IsNegative() {
		return Counter{}, &funding.ValidationError{Field: "limit", Rule: "must not be negative", Value: r.Limit.String()}
	}
	return setLimit(ctx, s, key, "admin.budget", r.By, r, budgetKey(r.Municipality, r.Period), r.Limit.Kopecks(), BudgetSet, r.Municipality)
}

// DirectionLimitRequest sets how many live contracts a municipality's
// certificates may hold in one direction in a period (0: no limit).
type DirectionLimitRequest struct {
	Municipality string
	Direction    catalog.Direction
	Period       funding.Period
	Limit        int
	// By is the municipality itself, the regional operator or the system.
	By Caller
}

// SetDirectionLimit sets a municipality's per-direction limit.
func (s *Service) SetDirectionLimit(ctx context.Context, key string, r DirectionLimitRequest) (Counter, error) {
	if err := s.municipalLimit(r.By, r.Municipality); err != nil {
		return Counter{}, err
	}
	if r.Limit < 0 {
		return Counter{}, &funding.ValidationError{Field: "limit", Rule: "must not be negative"}
	}
	return setLimit(ctx, s, key, "admin.direction_limit", r.By, r, directionKey(r.Municipality, string(r.Direction), r.Period), limitOrUnlimited(r.Limit), DirectionLimitSet, r.Municipality)
}

// setLimit sets counter's limit, recorded as event t of municipality mun
// with the limit before and after.
func setLimit(ctx context.Context, s *Service, key, op string, by Caller, req any, counter string, limit int64, t EventType, mun string) (Counter, error) {
	return idempotent(ctx, s, key, op, by, req, func(ctx context.Context, tx Tx) (Counter, error) {
		cur, err := tx.Counter(ctx, counter)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return Counter{}, err
		}
		if cur.Used > limit {
			return Counter{}, funding.Refuse(ErrLimitBelowUse, CodeLimitBelowUse, "%s already uses %d, more than the new limit %d", counter, cur.Used, limit)
		}
		if err := tx.EnsureCounter(ctx, counter, limit); err != nil {
			return Counter{}, err
		}
		after, err := tx.Counter(ctx, counter)
		if err != nil {
			return Counter{}, err
		}
		var before any
		if cur.Key != "" {
			before = cur
		}
		return after, s.regionEvent(ctx, tx, Event{Type: t, Actor: by.Actor(), Municipality: mun, Scheme: certificate.Supplementary,
			Payload: mustJSON(beforeAfter(before, after))})
	})
}

// ErrLimitBelowUse is a limit set below what is already used.
var ErrLimitBelowUse = errors.New("limit below current use")

// CodeLimitBelowUse is the stable code of ErrLimitBelowUse.
const CodeLimitBelowUse = "limit_below_use"

// ErrUnknownReference is a change naming a row that does not exist: a
// program of an unknown provider, a module of an unknown program.
var ErrUnknownReference = errors.New("unknown reference")

// CodeUnknownReference is the stable code of ErrUnknownReference.
const CodeUnknownReference = "unknown_reference"

// UnknownReferenceError is ErrUnknownReference for the field that names
// the missing row.
type UnknownReferenceError struct {
	Field string // the field naming it, such as "provider_id"
	What  string // what it names, such as "provider"
	ID    uuid.UUID
}

func (e *UnknownReferenceError) Error() string {
	return fmt.Sprintf("%s: no such %s %s", e.Field, e.What, e.ID)
}

func (e *UnknownReferenceError) Is(target error) bool { return target == ErrUnknownReference }

func unknownReference(field, what string, id uuid.UUID) error {
	return &UnknownReferenceError{Field: field, What: what, ID: id}
}

// SaveProvider creates or changes a provider and its live-contract limit;
// the regional operator (or the system) does.
func (s *Service) SaveProvider(ctx context.Context, key string, p catalog.Provider, by Caller) (catalog.Provider, error) {
	if err := roleMay(by, "register a provider", RoleRegional); err != nil {
		return p, err
	}
	in := p
	p, err := catalog.NewProvider(p)
	if err != nil {
		return p, err
	}
	return idempotent(ctx, s, key, "catalog.provider", by, in, func(ctx context.Context, tx Tx) (catalog.Provider, error) {
		old, err := tx.Provider(ctx, p.ID)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return p, err
		}
		var before any
		if err == nil {
			before = old
		}
		if err := tx.SaveProvider(ctx, p); err != nil {
			return p, err
		}
		if err := tx.EnsureCounter(ctx, providerKey(p.ID), limitOrUnlimited(p.EnrolmentLimit)); err != nil {
			return p, err
		}
		return p, s.regionEvent(ctx, tx, Event{Type: ProviderSaved, Actor: by.Actor(), ProviderID: p.ID, Municipality: p.Municipality,
			Payload: mustJSON(beforeAfter(before, p))})
	})
}

// ownsCatalog checks that by may edit what provider owns: the provider
// itself, the regional operator or the system.
func ownsCatalog(by Caller, provider uuid.UUID, what string) error {
	if by.Role == RoleProvider && provider != by.providerID() {
		return forbidden("%s is not the provider's", what)
	}
	return nil
}

// SaveProgram creates or changes a program and its live-contract limit: a
// provider its own (ProviderID defaults to it), the regional operator any.
func (s *Service) SaveProgram(ctx context.Context, key string, p catalog.Program, by Caller) (catalog.Program, error) {
	if err := roleMay(by, "edit the catalog", RoleProvider, RoleRegional); err != nil {
		return p, err
	}
	if own := by.providerID(); own != uuid.Nil && p.ProviderID == uuid.Nil {
		p.ProviderID = own
	}
	in := p
	p, err := catalog.NewProgram(p)
	if err != nil {
		return p, err
	}
	return idempotent(ctx, s, key, "catalog.program", by, in, func(ctx context.Context, tx Tx) (catalog.Program, error) {
		if err := ownsCatalog(by, p.ProviderID, "provider_id"); err != nil {
			return p, err
		}
		if _, err := tx.Provider(ctx, p.ProviderID); errors.Is(err, ErrNotFound) {
			return p, unknownReference("provider_id", "provider", p.ProviderID)
		} else if err != nil {
			return p, err
		}
		cur, err := tx.Program(ctx, p.ID)
		if err == nil {
			if err := ownsCatalog(by, cur.ProviderID, "the program"); err != nil {
				return p, err
			}
		} else if !errors.Is(err, ErrNotFound) {
			return p, err
		}
		moved := certificationOnSave(&p, cur, err == nil, by)
		if err := tx.SaveProgram(ctx, p); err != nil {
			return p, err
		}
		if moved != "" {
			if err := s.certificationEvent(ctx, tx, p, by, map[string]any{"content_changed": by.Role == RoleProvider}); err != nil {
				return p, err
			}
		}
		return p, tx.EnsureCounter(ctx, programKey(p.ID), limitOrUnlimited(p.EnrolmentLimit))
	})
}

// programOwner returns the provider of program id, or an unknown reference
// of field.
func programOwner(ctx context.Context, tx Tx, id uuid.UUID, field string) (uuid.UUID, error) {
	prog, err := tx.Program(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return uuid.Nil, unknownReference(field, "program", id)
	}
	return prog.ProviderID, err
}

// SaveModule creates or changes a module of a program: its provider, or
// the regional operator.
func (s *Service) SaveModule(ctx context.Context, key string, m catalog.Module, by Caller) (catalog.Module, error) {
	if err := roleMay(by, "edit the catalog", RoleProvider, RoleRegional); err != nil {
		return m, err
	}
	in := m
	m, err := catalog.NewModule(m)
	if err != nil {
		return m, err
	}
	return idempotent(ctx, s, key, "catalog.module", by, in, func(ctx context.Context, tx Tx) (catalog.Module, error) {
		owner, err := programOwner(ctx, tx, m.ProgramID, "program_id")
		if err != nil {
			return m, err
		}
		if err := ownsCatalog(by, owner, "the program"); err != nil {
			return m, err
		}
		if cur, err := tx.Module(ctx, m.ID); err == nil {
			if owner, err = programOwner(ctx, tx, cur.ProgramID, "program_id"); err != nil {
				return m, err
			}
			if err := ownsCatalog(by, owner, "the module"); err != nil {
				return m, err
			}
		} else if !errors.Is(err, ErrNotFound) {
			return m, err
		}
		return m, tx.SaveModule(ctx, m)
	})
}

// SaveGroup creates or changes a group of a module: its provider, or the
// regional operator. Its seats are a counter capped at its capacity, which
// cannot drop below the seats taken.
func (s *Service) SaveGroup(ctx context.Context, key string, g catalog.Group, by Caller) (catalog.Group, error) {
	if err := roleMay(by, "edit the catalog", RoleProvider, RoleRegional); err != nil {
		return g, err
	}
	in := g
	g, err := catalog.NewGroup(g, nil)
	if err != nil {
		return g, err
	}
	return idempotent(ctx, s, key, "catalog.group", by, in, func(ctx context.Context, tx Tx) (catalog.Group, error) {
		mod, err := tx.Module(ctx, g.ModuleID)
		if errors.Is(err, ErrNotFound) {
			return g, unknownReference("module_id", "module", g.ModuleID)
		} else if err != nil {
			return g, err
		}
		owner, err := programOwner(ctx, tx, mod.ProgramID, "module_id")
		if err != nil {
			return g, err
		}
		if err := ownsCatalog(by, owner, "the module"); err != nil {
			return g, err
		}
		if o, err := tx.Offer(ctx, g.ID); err == nil {
			if err := ownsCatalog(by, o.Provider.ID, "the group"); err != nil {
				return g, err
			}
			cur, err := tx.Counter(ctx, seatsKey(g.ID))
			if err != nil && !errors.Is(err, ErrNotFound) {
				return g, err
			}
			if cur.Used > int64(g.Capacity) {
				return g, funding.Refuse(ErrLimitBelowUse, CodeLimitBelowUse, "group %s has %d seats taken, more than capacity %d", g.ID, cur.Used, g.Capacity)
			}
		} else if !errors.Is(err, ErrNotFound) {
			return g, err
		}
		if err := tx.SaveGroup(ctx, g); err != nil {
			return g, err
		}
		return g, tx.EnsureCounter(ctx, seatsKey(g.ID), int64(g.Capacity))
	})
}

// Offer reads a group with its module, program and provider.
func (s *Service) Offer(ctx context.Context, groupID uuid.UUID) (Offer, error) {
	var o Offer
	err := s.inTx(ctx, func(ctx context.Context, tx Tx) error {
		var err error
		o, err = tx.Offer(ctx, groupID)
		return notFound(err, "group_id", groupID)
	})
	return o, err
}

// Budget reads a municipality's budget limit for a period and what its
// certificates reserve and spend against it; ErrNotFound when none was set.
func (s *Service) Budget(ctx context.Context, municipality string, p funding.Period) (Counter, error) {
	return s.counter(ctx, budgetKey(municipality, p))
}

func (s *Service) counter(ctx context.Context, key string) (Counter, error) {
	var c Counter
	err := s.inTx(ctx, func(ctx context.Context, tx Tx) error {
		var err error
		c, err = tx.Counter(ctx, key)
		return err
	})
	return c, err
}

// Category reads a category; ErrNotFound when there is none of that code.
func (s *Service) Category(ctx context.Context, code string) (certificate.Category, error) {
	var c certificate.Category
	err := s.inTx(ctx, func(ctx context.Context, tx Tx) error {
		var err error
		c, err = tx.Category(ctx, code)
		return err
	})
	return c, err
}

// Invoices lists a month's invoices the caller may see: a provider its own
// (of both schemes; provider, when set, must be its own, or there is none
// to see); a municipal authority the children's scheme's of its budget; the
// regional operator the children's scheme's, the federal operator the adult
// scheme's, each of every provider or of provider when set; the auditor
// and the system all. Each comes with its status (see InvoiceStatus).
func (s *Service) Invoices(ctx context.Context, by Caller, m funding.Month, provider uuid.UUID) ([]Invoice, error) {
	if err := roleMay(by, "read invoices", RoleProvider, RoleMunicipality, RoleRegional, RoleFederal, RoleAuditor); err != nil {
		return nil, err
	}
	if own := by.providerID(); own != uuid.Nil {
		if provider != uuid.Nil && provider != own {
			return nil, notFound(ErrNotFound, "provider_id", provider)
		}
		provider = own
	}
	all, err := s.store.Invoices(ctx, provider, m)
	if err != nil {
		return nil, err
	}
	out := all[:0]
	for _, inv := range all {
		if seesInvoice(by, inv) {
			out = append(out, inv)
		}
	}
	return s.invoiceStatuses(ctx, out, provider, m)
}

// seesInvoice reports whether by may see an invoice; see Invoices.
func seesInvoice(by Caller, inv Invoice) bool {
	switch by.Role {
	case RoleSystem, RoleAuditor:
		return true
	case RoleProvider:
		return inv.ProviderID == by.providerID()
	case RoleMunicipality:
		return inv.Scheme == certificate.Supplementary && inv.Municipality == by.ID
	case RoleRegional:
		return inv.Scheme == certificate.Supplementary
	case RoleFederal:
		return inv.Scheme == certificate.DigitalSkills
	}
	return false
}

// ProgramScore scores a program by its contracts' ratings (ProgramScore of
// the rules: closed contracts weigh double). A program's score is public:
// the navigator shows it to everyone.
func (s *Service) ProgramScore(ctx context.Context, programID uuid.UUID) (Score, error) {
	var rs []ScoredRating
	err := s.inTx(ctx, func(ctx context.Context, tx Tx) error {
		if _, err := tx.Program(ctx, programID); err != nil {
			return notFound(err, "program_id", programID)
		}
		var err error
		rs, err = tx.ProgramRatings(ctx, programID)
		return err
	})
	if err != nil {
		return Score{}, err
	}
	return ProgramScore(rs), nil
}
