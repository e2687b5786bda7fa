package enrollment

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"

	"github.com/edufund/edufund/catalog"
	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/funding"
)

// Cabinet is what a holder sees of a certificate: its status and money in
// the current period and how many budget-funded services it holds.
type Cabinet struct {
	Certificate certificate.Certificate
	Period      funding.Period
	// Money is nil for a holder when the municipality's budget limit is
	// reached: the holder's cabinet then shows BudgetNotice instead of
	// nominal and balance (the municipality and the operators see both).
	Money        *CabinetMoney
	BudgetNotice string
	Registries   []RegistryUse
	Contracts    []Contract
	// Position is the certificate's place in the queue for a funded slot or
	// an adult quota place; 0 when not queued.
	Position int
	// Hours is the weekly hours of a certificate in hours for the period,
	// and what its live contracts hold of them; nil for a certificate in
	// money. Its Money is then what its contracts' hours are worth.
	Hours *CabinetHours
	// Decision is the eligibility decision the certificate was issued
	// on; nil for one issued before decisions were kept.
	Decision *EligibilityDecision
}

// CabinetHours is a certificate's weekly hours: base hours usable on any
// program, extra only on programs of the significant registry.
type CabinetHours struct {
	Base, Extra         int
	UsedBase, UsedExtra int
	FreeBase, FreeExtra int
}

// CabinetMoney is the certificate's account for the period: every amount
// the nominal became, so that Nominal = Balance + Reserved + Spent +
// Depleted + Expired.
type CabinetMoney struct {
	Nominal funding.Money
	// Usable is the nominal that can still be committed today: before the
	// first submission of the period it shrinks month by month.
	Usable   funding.Money
	Balance  funding.Money
	Reserved funding.Money
	Spent    funding.Money
	Depleted funding.Money
	// Expired is the balance left unused at the period's rollover.
	Expired funding.Money
}

// RegistryUse is how many services of a budget-funded registry the
// certificate holds, against how many it may.
type RegistryUse struct {
	Registry catalog.Registry
	Used     int
	Allowed  int
}

// Cabinet reads a certificate's cabinet as of today, for whoever holds it:
// its holder (the adult, the child's guardians), the municipality that
// funds it, the operator of its scheme, the system. To anyone else it does
// not exist (ErrNotFound).
func (s *Service) Cabinet(ctx context.Context, by Caller, certID uuid.UUID) (Cabinet, error) {
	return s.CabinetOn(ctx, by, certID, s.Today())
}

// CabinetOn reads a certificate's cabinet for the period holding date on,
// which must not be after today: a past period shows where its nominal
// went, the unused balance that expired at its rollover included, and
// nothing usable.
func (s *Service) CabinetOn(ctx context.Context, by Caller, certID uuid.UUID, on funding.Date) (Cabinet, error) {
	if err := by.Validate(); err != nil {
		return Cabinet{}, err
	}
	today := s.Today()
	if on.IsZero() || on.After(today) {
		return Cabinet{}, &funding.ValidationError{Field: "on", Rule: "must be a date up to today, " + today.String(), Value: on.String()}
	}
	var cab Cabinet
	err := s.inTx(ctx, func(ctx context.Context, tx Tx) error {
		c, err := tx.Certificate(ctx, certID)
		if err != nil {
			return notFound(err, "certificate_id", certID)
		}
		if err := s.mayRead(ctx, tx, by, c); err != nil {
			return err
		}
		period := s.cfg.PeriodOf(on)
		cab = Cabinet{Certificate: c, Period: period}
		if d, err := tx.Decision(ctx, certID); err == nil {
			cab.Decision = &d
		} else if !errors.Is(err, ErrNotFound) {
			return err
		}
		contracts, err := tx.CertificateContracts(ctx, certID)
		if err != nil {
			return err
		}
		cab.Contracts = contracts
		held, quotas := heldByRegistry(contracts), s.RulesOn(on).RegistryQuotas
		for _, reg := range []catalog.Registry{catalog.Significant, catalog.General, catalog.PreProfessional} {
			cab.Registries = append(cab.Registries, RegistryUse{Registry: reg, Used: held[reg], Allowed: quotas[reg]})
		}
		if pos, err := s.queuePosition(ctx, tx, c); err == nil {
			cab.Position = pos
		}
		if c.Kind != certificate.Funded {
			return nil
		}
		b, err := tx.Counter(ctx, budgetKey(c.Municipality, period))
		if err == nil && b.Used >= b.Limit {
			cab.BudgetNotice = fmt.Sprintf("Лимит средств муниципалитета на период с %s по %s исчерпан: новые средства по сертификату не резервируются.",
				period.Start.Time().Format("02.01.2006"), period.End.Time().Format("02.01.2006"))
			// rules.md: the holder sees the notice instead of nominal and
			// balance; the municipality and the operators need the figures.
			if by.Role == RoleHolder {
				return nil
			}
		}
		if h, err := tx.HoursAccount(ctx, certID, period); err == nil {
			cab.Hours = &CabinetHours{Base: h.Base, Extra: h.Extra, UsedBase: h.UsedBase, UsedExtra: h.UsedExtra,
				FreeBase: h.FreeBase(), FreeExtra: h.FreeExtra()}
		} else if !errors.Is(err, ErrNotFound) {
			return err
		}
		a, err := account(ctx, tx, certID, period)
		if err != nil {
			return err
		}
		usable := a.Account.Balance
		switch {
		case period.End.Before(today):
			usable = funding.Zero
		case !a.Fixed:
			usable = funding.MinMoney(usable, funding.UsableNominal(a.Account.Nominal, period, today))
		}
		cab.Money = &CabinetMoney{
			Nominal: a.Account.Nominal, Usable: usable, Balance: a.Account.Balance,
			Reserved: a.Account.Reserved, Spent: a.Account.Spent, Depleted: a.Account.Depleted, Expired: a.Account.Expired,
		}
		return nil
	})
	return cab, err
}

func (s *Service) queuePosition(ctx context.Context, tx Tx, c certificate.Certificate) (int, error) {
	if c.Scheme == certificate.DigitalSkills {
		return tx.QueuePosition(ctx, adultQueue(c.IssuedOn.Year()), c.ID)
	}
	return tx.QueuePosition(ctx, categoryQueue(c.Category), c.ID)
}

// heldByRegistry counts live contracts per registry.
func heldByRegistry(cs []Contract) map[catalog.Registry]int {
	held := map[catalog.Registry]int{}
	for _, c := range cs {
		if c.Status.Live() {
			held[c.Registry]++
		}
	}
	return held
}
