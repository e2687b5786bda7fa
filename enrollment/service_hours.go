package enrollment

import (
	"context"
	"errors"
	"strconv"
	"sync"

	"github.com/edufund/edufund/catalog"
	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/funding"
)

// The hours model (rules.md, "Hours model"). A certificate of a category in
// hours has, per period, an hours account instead of a money nominal: its
// weekly hours, base and extra (the extra only for the significant
// registry). A contract holds the module's weekly hours of it while it is
// live and frees them when it ends, like a seat. What the contract costs
// the certificate is money all the same, hours a week × weeks × the cost of
// a child-hour: granted to the certificate's money account and reserved at
// once on submission, so that billing, the monthly close, invoices and the
// municipal budget are the money model's. Money a contract of such a
// certificate gives back (a release, an under-delivery) leaves the balance
// again: outside its contracts a certificate in hours holds no money.

var (
	// ErrNoWeeklyHours is a certificate in hours applying to a module
	// that sets no weekly hours.
	ErrNoWeeklyHours = errors.New("module sets no weekly hours")
	// ErrNoChildHourCost is a certificate in hours applying to a program
	// paid from certificates where the region sets no cost of a child-hour.
	ErrNoChildHourCost = errors.New("no cost of a child-hour")
)

// Stable codes of the hours model's refusals.
const (
	CodeNoWeeklyHours   = "no_weekly_hours"
	CodeNoChildHourCost = "child_hour_cost_not_set"
)

// HourCostIn is the cost of a child-hour in municipality mun.
func (c Config) HourCostIn(mun string) funding.Money {
	if m, ok := c.ChildHourCostByMunicipality[mun]; ok {
		return m
	}
	return c.ChildHourCost
}

// hourKinds remembers which categories are in hours. A category never
// changes kind (saveCategory refuses it), so what was read once holds.
type hourKinds struct{ m sync.Map }

// inHours reports whether category code's nominal is in hours.
func (s *Service) inHours(ctx context.Context, tx Tx, code string) (bool, error) {
	if v, ok := s.kinds.m.Load(code); ok {
		return v.(bool), nil
	}
	cat, err := tx.Category(ctx, code)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	s.kinds.m.Store(code, cat.InHours())
	return cat.InHours(), nil
}

// grantHours opens a certificate's hours account for period with its
// category's weekly hours, once.
func grantHours(ctx context.Context, tx Tx, c certificate.Certificate, cat certificate.Category, period funding.Period) error {
	if !cat.InHours() {
		return nil
	}
	if _, err := tx.HoursAccount(ctx, c.ID, period); !errors.Is(err, ErrNotFound) {
		return err
	}
	return tx.SaveHoursAccount(ctx, c.ID, period, cat.Hours())
}

// hoursTerms holds the offer's weekly hours of a certificate in hours and
// prices them: the money the hours are worth over the contract's days,
// which is the balance the contract is priced against. draft is the
// contract priced without a balance, for its days.
type hoursTerms struct {
	account funding.HoursAccount
	hold    funding.HoursHold
	money   funding.Money
	cost    funding.Money
}

func (s *Service) holdHours(ctx context.Context, tx Tx, cert certificate.Certificate, o Offer, period funding.Period, on funding.Date, draft funding.Price, paid bool) (hoursTerms, error) {
	if o.Module.WeeklyHours == 0 {
		return hoursTerms{}, funding.Refuse(ErrNoWeeklyHours, CodeNoWeeklyHours,
			"module %s sets no weekly hours: certificate %s holds hours, not money", o.Module.ID, cert.Number)
	}
	a, err := tx.HoursAccount(ctx, cert.ID, period)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return hoursTerms{}, err
	}
	a, hold, err := a.Hold(o.Module.WeeklyHours, o.Program.Registry == catalog.Significant)
	if err != nil {
		return hoursTerms{}, err
	}
	t := hoursTerms{account: a, hold: hold, money: funding.Zero}
	if !paid {
		return t, nil
	}
	t.cost = s.RulesOn(on).HourCostIn(cert.Municipality)
	if !t.cost.IsPositive() {
		return hoursTerms{}, funding.Refuse(ErrNoChildHourCost, CodeNoChildHourCost,
			"the region sets no cost of a child-hour for %s: certificate %s holds hours and pays for programs of the %s registry with their cost",
			cert.Municipality, cert.Number, o.Program.Registry)
	}
	t.money, err = funding.HoursMoney(o.Module.WeeklyHours, draft.Days, t.cost)
	return t, err
}

// grantHoursMoney posts the money of a contract's hours to the
// certificate's balance, just before it is reserved.
func (s *Service) grantHoursMoney(ctx context.Context, tx Tx, a *AccountState, amount funding.Money, t hoursTerms, rec PostingRecord, weekly, days int) error {
	if !amount.IsPositive() {
		return nil
	}
	rec.Rule = "hours_money"
	rec.Params = map[string]string{
		"hours_per_week": strconv.Itoa(weekly), "days": strconv.Itoa(days),
		"child_hour_cost": t.cost.String(), "hours_money": t.money.String(),
	}
	return s.post(ctx, tx, a, nil, funding.Posting{Kind: funding.Grant, Amount: amount}, rec)
}

// returnHoursMoney takes money a contract of a certificate in hours gave
// back off the balance again.
func (s *Service) returnHoursMoney(ctx context.Context, tx Tx, c Contract, a *AccountState, amount funding.Money, rec PostingRecord) error {
	if c.Hours.Hours() == 0 || !amount.IsPositive() {
		return nil
	}
	rec.Rule, rec.Params = "hours_money_returned", map[string]string{"returned": amount.String()}
	return s.post(ctx, tx, a, nil, funding.Posting{Kind: funding.Adjust, Amount: amount.Neg()}, rec)
}

// freeHours gives back the weekly hours contract c held.
func freeHours(ctx context.Context, tx Tx, c Contract) error {
	if c.Hours.Hours() == 0 {
		return nil
	}
	a, err := tx.HoursAccount(ctx, c.CertificateID, c.Period)
	if err != nil {
		return err
	}
	if a, err = a.Free(c.Hours); err != nil {
		return err
	}
	return tx.SaveHoursAccount(ctx, c.CertificateID, c.Period, a)
}
