package enrollment

import (
	"context"
	"errors"

	"github.com/google/uuid"

	"github.com/edufund/edufund/catalog"
	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/funding"
)

// SearchRequest is a parent's search of the catalogue, optionally for one
// certificate.
type SearchRequest struct {
	catalog.Search
	// For, when set, is the certificate the parent searches for: each
	// program found says whether it can enrol now in some group of it,
	// and if not, why (the first rule that refuses it).
	For uuid.UUID
	// OnlyEnrollable leaves out the programs For cannot enrol in. The page
	// may then hold fewer programs than its limit; Next still continues
	// after the last program read, and Total counts the matches before
	// the certificate's checks.
	OnlyEnrollable bool
	// By reads the certificate: as for its cabinet, its holder or an
	// official. The catalogue alone needs no caller.
	By Caller
}

// Found is a program the navigator found, with its provider and rank.
type Found struct {
	Program  catalog.Program
	Provider catalog.Provider
	Rank     int
	// Refusal is why the certificate searched for cannot enrol in any
	// group of the program now; nil when it can, or when no certificate
	// was given.
	Refusal *funding.RuleError
	// Score is the program's rating (ProgramScore), shown beside it.
	Score Score
}

// SearchPage is a page of the navigator: the programs, how many match in
// all, and where the next page starts (nil after the last).
type SearchPage struct {
	Programs []Found
	Total    int
	// Directions and Registries count the matching programs by each.
	Directions map[catalog.Direction]int
	Registries map[catalog.Registry]int
	Next       *catalog.Cursor
}

// Search runs a parent's search of the catalogue (catalog.Search): the
// store's index finds and ranks the programs, the same on every store;
// the page is then read in one transaction. For a certificate, each
// program is checked as an application would be: the rules of
// catalog.CanEnrol on each of its groups (age, scheme, registry, open,
// not finished, the municipality's agreement), a live contract on the
// same module, the registry's quota and, for a certified program, money
// on the balance. Seats and the counted limits are left to the
// application itself, which checks them under its locks.
func (s *Service) Search(ctx context.Context, r SearchRequest) (SearchPage, error) {
	if err := r.Check(); err != nil {
		return SearchPage{}, err
	}
	if r.For == uuid.Nil && r.OnlyEnrollable {
		return SearchPage{}, &funding.ValidationError{Field: "only_enrollable", Rule: "needs the certificate to check (certificate_id)"}
	}
	res, err := s.store.SearchCatalog(ctx, r.Search)
	if err != nil {
		return SearchPage{}, err
	}
	page := SearchPage{Total: res.Total, Directions: res.Directions, Registries: res.Registries, Next: res.Next}
	on := s.Today()
	err = s.inTx(ctx, func(ctx context.Context, tx Tx) error {
		page.Programs = make([]Found, 0, len(res.Hits))
		var who *enrolling
		if r.For != uuid.Nil {
			var err error
			if who, err = s.enrolling(ctx, tx, r.By, r.For, on); err != nil {
				return err
			}
		}
		providers := map[uuid.UUID]catalog.Provider{}
		for _, h := range res.Hits {
			p, err := tx.Program(ctx, h.ProgramID)
			if errors.Is(err, ErrNotFound) {
				continue // gone since the index was read
			}
			if err != nil {
				return err
			}
			v, ok := providers[p.ProviderID]
			if !ok {
				if v, err = tx.Provider(ctx, p.ProviderID); err != nil {
					return err
				}
				providers[p.ProviderID] = v
			}
			f := Found{Program: p, Provider: v, Rank: h.Rank}
			ratings, err := tx.ProgramRatings(ctx, p.ID)
			if err != nil {
				return err
			}
			f.Score = ProgramScore(ratings)
			if who != nil {
				if f.Refusal, err = who.check(ctx, tx, p, v, on); err != nil {
					return err
				}
				if f.Refusal != nil && r.OnlyEnrollable {
					continue
				}
			}
			page.Programs = append(page.Programs, f)
		}
		return nil
	})
	return page, err
}

// enrolling is what a search for a certificate checks programs against.
type enrolling struct {
	cert     certificate.Certificate
	modules  map[uuid.UUID]bool // with a live contract
	held     map[catalog.Registry]int
	quotas   map[catalog.Registry]int
	balance  funding.Money
	inHours  bool
	hoursOut bool // no weekly hours free
}

func (s *Service) enrolling(ctx context.Context, tx Tx, by Caller, id uuid.UUID, on funding.Date) (*enrolling, error) {
	if err := by.Validate(); err != nil {
		return nil, err
	}
	c, err := tx.Certificate(ctx, id)
	if err != nil {
		return nil, notFound(err, "certificate_id", id)
	}
	if err := s.mayRead(ctx, tx, by, c); err != nil {
		return nil, err
	}
	contracts, err := tx.CertificateContracts(ctx, id)
	if err != nil {
		return nil, err
	}
	e := &enrolling{cert: c, modules: map[uuid.UUID]bool{}, held: heldByRegistry(contracts), quotas: s.RulesOn(on).RegistryQuotas}
	for _, k := range contracts {
		if k.Status.Live() {
			e.modules[k.ModuleID] = true
		}
	}
	period := s.cfg.PeriodOf(on)
	a, err := account(ctx, tx, id, period)
	if err != nil {
		return nil, err
	}
	e.balance = a.Account.Balance
	if c.Kind == certificate.Funded {
		if e.inHours, err = s.inHours(ctx, tx, c.Category); err != nil {
			return nil, err
		}
		if e.inHours {
			h, err := tx.HoursAccount(ctx, id, period)
			if err != nil && !errors.Is(err, ErrNotFound) {
				return nil, err
			}
			e.hoursOut = h.FreeBase()+h.FreeExtra() <= 0
		}
	}
	return e, nil
}

// check is the first rule that keeps the certificate out of every group
// of program p, or nil when some group takes it.
func (e *enrolling) check(ctx context.Context, tx Tx, p catalog.Program, v catalog.Provider, on funding.Date) (*funding.RuleError, error) {
	if p.Registry.BudgetFunded() {
		if q, ok := e.quotas[p.Registry]; ok && e.held[p.Registry] >= q {
			return ruleOf(funding.Refuse(ErrRegistryQuota, CodeRegistryQuota, "certificate %s holds %d of the %s registry's %d", e.cert.Number, e.held[p.Registry], p.Registry, q)), nil
		}
	}
	if p.Registry == catalog.Certified && !e.inHours && !e.balance.IsPositive() {
		return ruleOf(funding.Refuse(ErrInsufficientBalance, CodeInsufficientBalance, "certificate %s has no money left on its balance", e.cert.Number)), nil
	}
	if e.inHours && e.hoursOut {
		return ruleOf(funding.Refuse(funding.ErrInsufficientHours, funding.CodeInsufficientHours, "certificate %s has no weekly hours free", e.cert.Number)), nil
	}
	groups, err := tx.ProgramGroups(ctx, p.ID)
	if err != nil {
		return nil, err
	}
	var first *funding.RuleError
	for _, g := range groups {
		err := catalog.CanEnrol(e.cert, v, p, g, on)
		if err == nil && e.modules[g.ModuleID] {
			err = funding.Refuse(ErrDuplicateModule, CodeDuplicateModule, "certificate %s already has a live contract on module %s", e.cert.Number, g.ModuleID)
		}
		if err == nil {
			return nil, nil
		}
		var re *funding.RuleError
		if !errors.As(err, &re) {
			return nil, err
		}
		if first == nil {
			first = re
		}
	}
	if first == nil {
		first = ruleOf(funding.Refuse(catalog.ErrGroupFinished, CodeGroupFinished, "program %s has no group to enrol in", p.ID))
	}
	return first, nil
}

// ruleOf is the refusal funding.Refuse made.
func ruleOf(err error) *funding.RuleError {
	re, _ := errors.AsType[*funding.RuleError](err)
	return re
}
