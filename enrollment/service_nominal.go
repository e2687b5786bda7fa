package enrollment

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/funding"
)

// ErrNominalCut is a category's nominal lowered by more than some of its
// certificates' balances hold: rules.md allows a cut within a period only
// when every balance still covers it.
var ErrNominalCut = errors.New("nominal cut exceeds a balance")

// CodeNominalCut is the stable code of ErrNominalCut.
const CodeNominalCut = "nominal_cut_exceeds_balance"

// NominalReport is what a category's nominal did to its certificates in
// the current period.
type NominalReport struct {
	Category string
	Period   funding.Period
	// Nominal is the category's nominal for the period: the annual one,
	// scaled when the period is shorter than a year (PeriodNominal).
	Nominal funding.Money
	// Adjusted certificates had their balance and nominal moved by Moved
	// in total (negative for a cut).
	Adjusted int
	Moved    funding.Money
	// Failed are the certificates a concurrent change left short of the
	// cut; ApplyNominal again adjusts them once their balances allow.
	Failed map[uuid.UUID]error
}

// PeriodNominal is a category's nominal for a period: the annual nominal,
// or round(annual × days / 365) for a period shorter than a year, unless
// the region's nominals are per period (NominalPerPeriod).
func (c Config) PeriodNominal(cat certificate.Category, p funding.Period) funding.Money {
	return c.scaled(c.NominalOf(cat), p)
}

// NominalOf is category cat's annual nominal under these rules: the
// version of category_nominal in force, or else its own.
func (c Config) NominalOf(cat certificate.Category) funding.Money {
	if m, ok := c.Nominals[cat.Code]; ok {
		return m
	}
	return cat.Nominal
}

// CategoryOf is category cat with the nominal these rules give it: its
// money nominal (NominalOf) or its weekly hours (category_hours).
func (c Config) CategoryOf(cat certificate.Category) certificate.Category {
	cat.Nominal = c.NominalOf(cat)
	if h, ok := c.CategoryHours[cat.Code]; ok && cat.InHours() {
		cat.HoursBase, cat.HoursExtra = h.Base, h.Extra
	}
	return cat
}

// scaled is an annual nominal for period p.
func (c Config) scaled(annual funding.Money, p funding.Period) funding.Money {
	if c.NominalPerPeriod {
		return annual
	}
	return funding.ScaleNominal(annual, p)
}

// ApplyNominal brings every funded certificate of the category to the
// category's nominal for the current period: an Adjust posting of (new −
// old) to the balance, one certificate per transaction. SaveCategory runs
// it; it is idempotent (a certificate already at the nominal is left
// alone), so a run cut short is resumed by running it again.
//
// The certificates are read first, a page per transaction: when a cut
// exceeds some certificate's balance, nothing is written and the refusal
// (ErrNominalCut) names them.
func (s *Service) ApplyNominal(ctx context.Context, code string, by Caller) (NominalReport, error) {
	if err := roleMay(by, "change a category", RoleRegional); err != nil {
		return NominalReport{}, err
	}
	var cat certificate.Category
	if err := s.inTx(ctx, func(ctx context.Context, tx Tx) (err error) {
		cat, err = tx.Category(ctx, code)
		return err
	}); err != nil {
		return NominalReport{}, err
	}
	cat = s.RulesOn(s.Today()).CategoryOf(cat)
	return s.applyNominal(ctx, cat, cat.Nominal, by, nil)
}

// applyNominal checks annual, the nominal cat is to have from today,
// against its certificates, runs save (if any) once the check has passed,
// and adjusts the certificates to the nominal in force after it.
func (s *Service) applyNominal(ctx context.Context, cat certificate.Category, annual funding.Money, by Caller, save func() error) (NominalReport, error) {
	today := s.Today()
	period := s.cfg.PeriodOf(today)
	rep := NominalReport{Category: cat.Code, Period: period, Nominal: s.RulesOn(today).scaled(annual, period), Moved: funding.Zero, Failed: map[uuid.UUID]error{}}
	need, err := s.nominalNeeds(ctx, cat, rep.Nominal, period)
	if err != nil {
		return rep, err
	}
	if save != nil {
		if err := save(); err != nil {
			return rep, err
		}
	}
	for _, id := range need {
		if err := s.adjustNominal(ctx, id, cat.Code, period, by.Actor(), &rep); err != nil {
			if errors.Is(err, ErrUnavailable) || ctx.Err() != nil {
				return rep, err
			}
			rep.Failed[id] = err
		}
	}
	return rep, nil
}

// nominalDelta is what certificate c's account for period needs to reach
// the category's nominal: zero for a certificate of another category or
// scheme, or without a grant in the period.
func nominalDelta(c certificate.Certificate, a AccountState, code string, nominal funding.Money) funding.Money {
	if c.Scheme != certificate.Supplementary || c.Kind != certificate.Funded || c.Category != code || a.Account.Nominal.IsZero() {
		return funding.Zero
	}
	return nominal.Sub(a.Account.Nominal)
}

// nominalNeeds reads every funded certificate, a page per transaction,
// and returns those of the category not at nominal; it refuses a cut that
// exceeds any of their balances.
func (s *Service) nominalNeeds(ctx context.Context, cat certificate.Category, nominal funding.Money, period funding.Period) ([]uuid.UUID, error) {
	var need []uuid.UUID
	var short []string
	for after := uuid.Nil; ; {
		ids, err := s.store.CertificateIDs(ctx, after, pageSize)
		if err != nil {
			return nil, err
		}
		if len(ids) == 0 {
			break
		}
		err = s.inTx(ctx, func(ctx context.Context, tx Tx) error {
			for _, id := range ids {
				c, err := tx.Certificate(ctx, id)
				if err != nil {
					return err
				}
				if c.Category != cat.Code {
					continue
				}
				if cat.InHours() {
					h, err := tx.HoursAccount(ctx, id, period)
					switch {
					case errors.Is(err, ErrNotFound):
					case err != nil:
						return err
					case h.Base == cat.HoursBase && h.Extra == cat.HoursExtra:
					case h.UsedBase > cat.HoursBase || h.UsedExtra > cat.HoursExtra:
						short = append(short, fmt.Sprintf("%s (contracts hold %d+%d h/week)", c.Number, h.UsedBase, h.UsedExtra))
					default:
						need = append(need, id)
					}
					continue
				}
				a, err := account(ctx, tx, id, period)
				if err != nil {
					return err
				}
				d := nominalDelta(c, a, cat.Code, nominal)
				switch {
				case d.IsZero():
				case a.Account.Balance.Add(d).IsNegative():
					short = append(short, fmt.Sprintf("%s (balance %s, cut %s)", c.Number, a.Account.Balance, d.Neg()))
				default:
					need = append(need, id)
				}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		after = ids[len(ids)-1]
	}
	if len(short) > 0 {
		slices.Sort(short)
		shown := short[:min(len(short), 20)]
		more := ""
		if len(short) > len(shown) {
			more = fmt.Sprintf(" and %d more", len(short)-len(shown))
		}
		what := nominal.String()
		if cat.InHours() {
			what = fmt.Sprintf("%d+%d h/week", cat.HoursBase, cat.HoursExtra)
		}
		return nil, funding.Refuse(ErrNominalCut, CodeNominalCut,
			"lowering the nominal of category %s to %s for %s would leave %d certificates below zero, so nothing was changed: %s%s",
			cat.Code, what, period, len(short), strings.Join(shown, ", "), more)
	}
	return need, nil
}

func (s *Service) adjustNominal(ctx context.Context, id uuid.UUID, code string, period funding.Period, actor string, rep *NominalReport) error {
	var moved funding.Money
	err := s.inTx(ctx, func(ctx context.Context, tx Tx) error {
		moved = funding.Zero
		c, err := tx.LockCertificate(ctx, id)
		if err != nil || c.Category != code {
			return err
		}
		// The category as it is now: a later change wins over this run.
		cat, err := tx.Category(ctx, code)
		if err != nil {
			return err
		}
		cat = s.RulesOn(s.Today()).CategoryOf(cat)
		if cat.InHours() {
			return adjustHours(ctx, tx, c, cat, period)
		}
		a, err := account(ctx, tx, id, period)
		if err != nil {
			return err
		}
		nominal := s.RulesOn(s.Today()).scaled(cat.Nominal, period)
		d := nominalDelta(c, a, code, nominal)
		if d.IsZero() {
			return nil
		}
		moved = d
		return s.post(ctx, tx, &a, nil, funding.Posting{Kind: funding.Adjust, Amount: d}, PostingRecord{
			At: s.clock.Now().UTC(), Actor: actor, Rule: "category_nominal_change",
			Params: map[string]string{"category": code, "from": a.Account.Nominal.String(), "nominal": nominal.String(), "period": period.String()},
		})
	})
	if err == nil && !moved.IsZero() {
		rep.Adjusted++
		rep.Moved = rep.Moved.Add(moved)
	}
	return err
}

// adjustHours sets the weekly hours of certificate c's account for period
// to its category's; refused when its contracts hold more than that.
func adjustHours(ctx context.Context, tx Tx, c certificate.Certificate, cat certificate.Category, period funding.Period) error {
	h, err := tx.HoursAccount(ctx, c.ID, period)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if h.UsedBase > cat.HoursBase || h.UsedExtra > cat.HoursExtra {
		return funding.Refuse(ErrNominalCut, CodeNominalCut, "certificate %s: contracts hold %d+%d h/week, more than %d+%d",
			c.Number, h.UsedBase, h.UsedExtra, cat.HoursBase, cat.HoursExtra)
	}
	h.Base, h.Extra = cat.HoursBase, cat.HoursExtra
	return tx.SaveHoursAccount(ctx, c.ID, period, h)
}
