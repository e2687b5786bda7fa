package enrollment

import (
	"context"
	"errors"

	"github.com/google/uuid"

	"github.com/edufund/edufund/catalog"
	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/funding"
)

// SaveCategory creates or changes a category and its slot caps.
func (s *Service) SaveCategory(ctx context.Context, key string, c certificate.Category) (certificate.Category, error) {
	if err := c.Validate(); err != nil {
		return c, err
	}
	return idempotent(ctx, s, key, "admin.category", c, func(ctx context.Context, tx Tx) (certificate.Category, error) {
		if err := tx.SaveCategory(ctx, c); err != nil {
			return c, err
		}
		if err := tx.EnsureCounter(ctx, categoryCountKey(c.Code), limitOrUnlimited(c.MaxCount)); err != nil {
			return c, err
		}
		sum := Unlimited
		if c.MaxSum.IsPositive() {
			sum = c.MaxSum.Kopecks()
		}
		return c, tx.EnsureCounter(ctx, categorySumKey(c.Code), sum)
	})
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
	return setLimit(ctx, s, key, "admin.budget", r, budgetKey(r.Municipality, r.Period), r.Limit.Kopecks())
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
	return setLimit(ctx, s, key, "admin.direction_limit", r, directionKey(r.Municipality, string(r.Direction), r.Period), limitOrUnlimited(r.Limit))
}

func setLimit(ctx context.Context, s *Service, key, op string, req any, counter string, limit int64) (Counter, error) {
	return idempotent(ctx, s, key, op, req, func(ctx context.Context, tx Tx) (Counter, error) {
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
		return tx.Counter(ctx, counter)
	})
}

// ErrLimitBelowUse is a limit set below what is already used.
var ErrLimitBelowUse = errors.New("limit below current use")

// CodeLimitBelowUse is the stable code of ErrLimitBelowUse.
const CodeLimitBelowUse = "limit_below_use"

// SaveProvider creates or changes a provider and its live-contract limit.
func (s *Service) SaveProvider(ctx context.Context, key string, p catalog.Provider) (catalog.Provider, error) {
	p, err := catalog.NewProvider(p)
	if err != nil {
		return p, err
	}
	return idempotent(ctx, s, key, "catalog.provider", p, func(ctx context.Context, tx Tx) (catalog.Provider, error) {
		if err := tx.SaveProvider(ctx, p); err != nil {
			return p, err
		}
		return p, tx.EnsureCounter(ctx, providerKey(p.ID), limitOrUnlimited(p.EnrolmentLimit))
	})
}

// SaveProgram creates or changes a program and its live-contract limit.
func (s *Service) SaveProgram(ctx context.Context, key string, p catalog.Program) (catalog.Program, error) {
	p, err := catalog.NewProgram(p)
	if err != nil {
		return p, err
	}
	return idempotent(ctx, s, key, "catalog.program", p, func(ctx context.Context, tx Tx) (catalog.Program, error) {
		if err := tx.SaveProgram(ctx, p); err != nil {
			return p, err
		}
		return p, tx.EnsureCounter(ctx, programKey(p.ID), limitOrUnlimited(p.EnrolmentLimit))
	})
}

// SaveModule creates or changes a module.
func (s *Service) SaveModule(ctx context.Context, key string, m catalog.Module) (catalog.Module, error) {
	m, err := catalog.NewModule(m)
	if err != nil {
		return m, err
	}
	return idempotent(ctx, s, key, "catalog.module", m, func(ctx context.Context, tx Tx) (catalog.Module, error) {
		return m, tx.SaveModule(ctx, m)
	})
}

// SaveGroup creates or changes a group; its seats are a counter capped at
// its capacity, which cannot drop below the seats taken.
func (s *Service) SaveGroup(ctx context.Context, key string, g catalog.Group) (catalog.Group, error) {
	g, err := catalog.NewGroup(g, nil)
	if err != nil {
		return g, err
	}
	return idempotent(ctx, s, key, "catalog.group", g, func(ctx context.Context, tx Tx) (catalog.Group, error) {
		if _, err := tx.Offer(ctx, g.ID); err == nil {
			cur, err := tx.Counter(ctx, seatsKey(g.ID))
			if err != nil && !errors.Is(err, ErrNotFound) {
				return g, err
			}
			if cur.Used > int64(g.Capacity) {
				return g, funding.Refuse(ErrLimitBelowUse, CodeLimitBelowUse, "group %s has %d seats taken, more than capacity %d", g.ID, cur.Used, g.Capacity)
			}
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
	err := s.store.InTx(ctx, func(ctx context.Context, tx Tx) error {
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
	err := s.store.InTx(ctx, func(ctx context.Context, tx Tx) error {
		var err error
		c, err = tx.Counter(ctx, key)
		return err
	})
	return c, err
}

// Category reads a category; ErrNotFound when there is none of that code.
func (s *Service) Category(ctx context.Context, code string) (certificate.Category, error) {
	var c certificate.Category
	err := s.store.InTx(ctx, func(ctx context.Context, tx Tx) error {
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
// scheme's, each of every provider or of provider when set; the system all.
func (s *Service) Invoices(ctx context.Context, by Caller, m funding.Month, provider uuid.UUID) ([]Invoice, error) {
	if err := roleMay(by, "read invoices", RoleProvider, RoleMunicipality, RoleRegional, RoleFederal); err != nil {
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
	return out, nil
}

// seesInvoice reports whether by may see an invoice; see Invoices.
func seesInvoice(by Caller, inv Invoice) bool {
	switch by.Role {
	case RoleSystem:
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
	err := s.store.InTx(ctx, func(ctx context.Context, tx Tx) error {
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
