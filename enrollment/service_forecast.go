package enrollment

import (
	"context"
	"errors"
	"maps"
	"slices"

	"github.com/google/uuid"

	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/funding"
)

// The budget forecast: what each municipality's certificates have spent
// and reserved in the current period, what its live contracts will still
// be charged month by month until the period ends, and what its queued
// certificates would need once funded, against its budget limit. It reads
// the store page by page and writes nothing.

// MonthAmount is an amount of money of one month.
type MonthAmount struct {
	Month  funding.Month
	Amount funding.Money
}

// MunicipalityForecast is one municipality's budget in the current period
// of the children's scheme, and what it will need until the period ends.
type MunicipalityForecast struct {
	Municipality string
	Period       funding.Period
	// Limit is the municipality's budget limit for the period; Unlimited
	// is true (and Limit zero) when none is set.
	Limit     funding.Money
	Unlimited bool
	// Spent and Reserved are what its certificates have spent and hold in
	// reserve in the period: together the budget counter's use (Spent is
	// that use less the reserves of the live contracts).
	Spent, Reserved funding.Money
	// Contracts is the number of live contracts holding Reserved.
	Contracts int
	// Scheduled is what those contracts will still be charged, each month
	// from the current one to the period's last, from their price
	// schedules and what has been charged already: Σ Scheduled =
	// Reserved. A month the schedule owes and no close or activation has
	// charged yet (an application not yet accepted whose start month has
	// passed) is shown in the current month.
	Scheduled []MonthAmount
	// Queued is the number of its certificates waiting for a funded slot,
	// and QueueMoney what funding them would grant: each its category's
	// nominal for the period.
	Queued     int
	QueueMoney funding.Money
	// Need is Spent + Reserved + QueueMoney, and Headroom Limit − Need:
	// negative when the need exceeds the limit; zero when Unlimited.
	Need, Headroom funding.Money
}

// Over reports whether the municipality's need exceeds its limit.
func (f MunicipalityForecast) Over() bool { return !f.Unlimited && f.Headroom.IsNegative() }

// Forecast is each municipality's budget forecast to the end of the
// current period (MunicipalityForecast), in municipality order: every
// participating municipality and any other its certificates name. A
// municipal authority sees only its own row; the regional and federal
// operators and the system see every row.
//
// It reads the live contracts and then the queues a page per transaction
// (never the whole region at once) and the budget counters last: under
// concurrent changes each figure is as of the moment it was read, so a
// change made while it runs can show in one figure and not another. It
// writes nothing.
func (s *Service) Forecast(ctx context.Context, by Caller) ([]MunicipalityForecast, error) {
	if err := roleMay(by, "read the budget forecast", RoleMunicipality, RoleRegional, RoleFederal); err != nil {
		return nil, err
	}
	st, err := s.forecastState(ctx, onlyOf(by))
	if err != nil {
		return nil, err
	}
	return st.result(nil), nil
}

// onlyOf is the one municipality a caller sees, or "" for all.
func onlyOf(by Caller) string {
	if by.Role == RoleMunicipality {
		return by.ID
	}
	return ""
}

// forecast is what the forecast read, before the queue is priced: the
// what-if prices it again under a proposed nominal.
type forecast struct {
	period      funding.Period
	first, last funding.Month
	rows        map[string]*MunicipalityForecast
	used        map[string]Counter
	queued      map[string]map[string]int // municipality → category → certificates
	nominals    map[string]funding.Money  // category → its stored nominal for the period
}

func (f *forecast) row(mun string) *MunicipalityForecast {
	r, ok := f.rows[mun]
	if !ok {
		r = &MunicipalityForecast{Municipality: mun, Period: f.period, Spent: funding.Zero, Reserved: funding.Zero, QueueMoney: funding.Zero}
		for m := f.first; !m.After(f.last); m = m.Next() {
			r.Scheduled = append(r.Scheduled, MonthAmount{Month: m, Amount: funding.Zero})
		}
		f.rows[mun] = r
		f.queued[mun] = map[string]int{}
	}
	return r
}

// schedule adds amount due in month m to r: a month before the first is
// due now, one after the last (which a contract of the period never has)
// at the period's end.
func (f *forecast) schedule(r *MunicipalityForecast, m funding.Month, amount funding.Money) {
	i := min(max(m.Index()-f.first.Index(), 0), len(r.Scheduled)-1)
	r.Scheduled[i].Amount = r.Scheduled[i].Amount.Add(amount)
}

// result prices the queues (a category's nominal is nominal(code) when
// that is set and returns true, the stored one otherwise) and completes
// every row.
func (f *forecast) result(nominal func(code string) (funding.Money, bool)) []MunicipalityForecast {
	out := make([]MunicipalityForecast, 0, len(f.rows))
	for _, mun := range slices.Sorted(maps.Keys(f.rows)) {
		r := *f.rows[mun]
		r.Scheduled = slices.Clone(r.Scheduled)
		r.QueueMoney, r.Queued = funding.Zero, 0
		for code, n := range f.queued[mun] {
			each := f.nominals[code]
			if nominal != nil {
				if m, ok := nominal(code); ok {
					each = m
				}
			}
			r.Queued += n
			r.QueueMoney = r.QueueMoney.Add(each.MulInt(int64(n)))
		}
		c, ok := f.used[mun]
		if !ok {
			c = Counter{Limit: Unlimited}
		}
		r.Spent = funding.Kopecks(c.Used).Sub(r.Reserved)
		r.Need = r.Spent.Add(r.Reserved).Add(r.QueueMoney)
		r.Limit, r.Unlimited, r.Headroom = funding.Zero, c.Limit >= Unlimited, funding.Zero
		if !r.Unlimited {
			r.Limit = funding.Kopecks(c.Limit)
			r.Headroom = r.Limit.Sub(r.Need)
		}
		out = append(out, r)
	}
	return out
}

// liveStatuses are the statuses of the contracts that hold a reserve.
var liveStatuses = []Status{Requested, Accepted, Active}

// forecastState reads the forecast of the current period: of municipality
// only, or of all when only is "".
func (s *Service) forecastState(ctx context.Context, only string) (*forecast, error) {
	today := s.Today()
	period := s.cfg.PeriodOf(today)
	f := &forecast{period: period, first: today.MonthOf(), last: period.End.MonthOf(),
		rows: map[string]*MunicipalityForecast{}, used: map[string]Counter{}, queued: map[string]map[string]int{}, nominals: map[string]funding.Money{}}
	if only != "" {
		f.row(only)
	} else {
		for mun := range s.cfg.Children.Municipalities {
			f.row(mun)
		}
	}
	mine := func(mun string) bool { return only == "" || mun == only }

	// The live contracts' reserves and what remains of their schedules.
	type due struct {
		mun    string
		open   funding.Money
		months []MonthAmount
	}
	err := s.eachContractPage(ctx, liveStatuses, func(ctx context.Context, tx Tx, ids []uuid.UUID) (func(), error) {
		var page []due
		read, err := contractsOf(ctx, tx, ids)
		if err != nil {
			return nil, err
		}
		for _, c := range read {
			if c.Scheme == certificate.DigitalSkills || c.Period != period || !c.Status.Live() || c.HoldID == uuid.Nil || !mine(c.Municipality) {
				continue
			}
			h, err := tx.Hold(ctx, c.HoldID)
			if errors.Is(err, ErrNotFound) {
				continue
			}
			if err != nil {
				return nil, err
			}
			if open := h.Open(); open.IsPositive() {
				page = append(page, due{c.Municipality, open, remainingSchedule(c.Price, open)})
			}
		}
		return func() {
			for _, d := range page {
				r := f.row(d.mun)
				r.Reserved = r.Reserved.Add(d.open)
				r.Contracts++
				for _, m := range d.months {
					f.schedule(r, m.Month, m.Amount)
				}
			}
		}, nil
	})
	if err != nil {
		return nil, err
	}

	// The categories' queues: each certificate waiting in its own
	// category's queue, counted by municipality and category.
	err = s.eachQueuedPage(ctx, categoryQueue(""), func(ctx context.Context, tx Tx, ids []uuid.UUID) (func(), error) {
		type waiting struct{ mun, code string }
		var page []waiting
		nominals := map[string]funding.Money{}
		read, err := certificatesOf(ctx, tx, ids)
		if err != nil {
			return nil, err
		}
		for _, c := range read {
			if c.Scheme != certificate.Supplementary || c.Kind == certificate.Funded || c.Status == certificate.Cancelled ||
				c.Status == certificate.Expired || !mine(c.Municipality) {
				continue
			}
			if _, err := tx.QueuePosition(ctx, categoryQueue(c.Category), c.ID); errors.Is(err, ErrNotFound) {
				continue
			} else if err != nil {
				return nil, err
			}
			if _, ok := f.nominals[c.Category]; !ok {
				if _, ok := nominals[c.Category]; !ok {
					cat, err := tx.Category(ctx, c.Category)
					switch {
					case errors.Is(err, ErrNotFound):
						nominals[c.Category] = funding.Zero
					case err != nil:
						return nil, err
					default:
						nominals[c.Category] = s.RulesOn(today).PeriodNominal(cat, period)
					}
				}
			}
			page = append(page, waiting{c.Municipality, c.Category})
		}
		return func() {
			maps.Copy(f.nominals, nominals)
			for _, w := range page {
				f.row(w.mun)
				f.queued[w.mun][w.code]++
			}
		}, nil
	})
	if err != nil {
		return nil, err
	}

	// The budget counters, last.
	err = s.inTx(ctx, func(ctx context.Context, tx Tx) error {
		clear(f.used)
		for mun := range f.rows {
			c, err := tx.Counter(ctx, budgetKey(mun, period))
			if errors.Is(err, ErrNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			f.used[mun] = c
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return f, nil
}

// contractsOf reads the contracts of ids in tx, leaving out any gone.
func contractsOf(ctx context.Context, tx Tx, ids []uuid.UUID) ([]Contract, error) {
	return readAll(ids, func(id uuid.UUID) (Contract, error) { return tx.Contract(ctx, id) })
}

// certificatesOf reads the certificates of ids in tx, leaving out any gone.
func certificatesOf(ctx context.Context, tx Tx, ids []uuid.UUID) ([]certificate.Certificate, error) {
	return readAll(ids, func(id uuid.UUID) (certificate.Certificate, error) { return tx.Certificate(ctx, id) })
}

func readAll[T any](ids []uuid.UUID, read func(uuid.UUID) (T, error)) ([]T, error) {
	out := make([]T, 0, len(ids))
	for _, id := range ids {
		v, err := read(id)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// pageFunc reads one page of ids in tx and returns what to do with what it
// read once the transaction has committed (a transaction may run more than
// once: only the last run's page counts).
type pageFunc func(ctx context.Context, tx Tx, ids []uuid.UUID) (commit func(), err error)

// eachContractPage runs fn over the contracts in the given statuses, a
// page per transaction.
func (s *Service) eachContractPage(ctx context.Context, statuses []Status, fn pageFunc) error {
	return s.eachPage(ctx, func(after uuid.UUID) ([]uuid.UUID, error) {
		return s.store.ContractIDs(ctx, statuses, after, pageSize)
	}, fn)
}

// eachCertificatePage runs fn over the funded, usable certificates.
func (s *Service) eachCertificatePage(ctx context.Context, fn pageFunc) error {
	return s.eachPage(ctx, func(after uuid.UUID) ([]uuid.UUID, error) {
		return s.store.CertificateIDs(ctx, after, pageSize)
	}, fn)
}

// eachQueuedPage runs fn over the certificates waiting in the queues whose
// names start with prefix.
func (s *Service) eachQueuedPage(ctx context.Context, prefix string, fn pageFunc) error {
	return s.eachPage(ctx, func(after uuid.UUID) ([]uuid.UUID, error) {
		return s.store.QueuedIDs(ctx, prefix, after, pageSize)
	}, fn)
}

func (s *Service) eachPage(ctx context.Context, next func(after uuid.UUID) ([]uuid.UUID, error), fn pageFunc) error {
	for after := uuid.Nil; ; {
		ids, err := next(after)
		if err != nil || len(ids) == 0 {
			return err
		}
		var commit func()
		if err := s.inTx(ctx, func(ctx context.Context, tx Tx) (err error) {
			commit, err = fn(ctx, tx, ids)
			return err
		}); err != nil {
			return err
		}
		if commit != nil {
			commit()
		}
		after = ids[len(ids)-1]
	}
}

// remainingSchedule spreads open, what a contract's hold still reserves,
// over the months of its price schedule: what is charged goes month by
// month from the start (the activation and the monthly closes charge the
// months in order, each in full), so what remains is the schedule's last
// months, taken back from the end. Σ of the result = open; a reserve
// beyond the schedule (which the ledger never leaves) falls in its last
// month.
func remainingSchedule(p funding.Price, open funding.Money) []MonthAmount {
	first, last := p.Start.MonthOf(), p.End.MonthOf()
	var out []MonthAmount
	left := open
	for m := last; !m.Before(first) && left.IsPositive(); m = m.Prev() {
		amount := funding.MinMoney(p.MonthlyPayment(m), left)
		if amount.IsPositive() {
			out = append(out, MonthAmount{Month: m, Amount: amount})
			left = left.Sub(amount)
		}
	}
	slices.Reverse(out)
	if left.IsPositive() {
		if n := len(out); n > 0 && out[n-1].Month == last {
			out[n-1].Amount = out[n-1].Amount.Add(left)
		} else {
			out = append(out, MonthAmount{Month: last, Amount: left})
		}
	}
	return out
}
