package enrollment

import (
	"time"

	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"

	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/funding"
)

// CloseReport counts what a monthly close did. Failed contracts are listed
// with their errors; a close re-run after a failure or a crash picks them up
// and charges nothing twice.
type CloseReport struct {
	Month     funding.Month
	Contracts int
	Charged   int
	Amount    funding.Money
	Closed    int
	Refused   int
	Lines     int
	Failed    map[uuid.UUID]error
}

// checkCloseable refuses to close a month before its 1st (its payments are
// not due yet) or past a month that was never closed (that month's
// payments would never be charged, and its contracts' reserves would be
// released at their closing instead of paying the provider).
func (s *Service) checkCloseable(ctx context.Context, m funding.Month) error {
	if today := s.Today(); today.Before(m.First()) {
		return funding.Refuse(ErrMonthNotStarted, CodeMonthNotStarted, "month %s starts on %s; today is %s", m, m.First(), today)
	}
	return s.inTx(ctx, func(ctx context.Context, tx Tx) error {
		last, err := tx.LastClose(ctx)
		if errors.Is(err, ErrNotFound) {
			return nil // the first close of the system
		}
		if err != nil {
			return err
		}
		if m.After(last.Next()) {
			return funding.Refuse(ErrMonthSkipped, CodeMonthSkipped, "the last finished close is %s; close %s before %s", last, last.Next(), m)
		}
		return nil
	})
}

// recordClose remembers a close that finished with no failed contract.
func (s *Service) recordClose(ctx context.Context, rep CloseReport) error {
	if len(rep.Failed) > 0 {
		return nil
	}
	issued, err := s.issuedBy(ctx, rep.Month)
	if err != nil {
		return err
	}
	return s.inTx(ctx, func(ctx context.Context, tx Tx) error {
		last, err := tx.LastClose(ctx)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
		again := err == nil && !last.Before(rep.Month)
		if err := tx.RecordClose(ctx, rep.Month, s.clock.Now().UTC()); err != nil || again {
			return err
		}
		for _, inv := range issued {
			e := Event{Type: InvoiceIssued, Actor: "monthly_close:" + rep.Month.String(), ProviderID: inv.ProviderID,
				Municipality: inv.Municipality, Scheme: inv.Scheme, Payload: mustJSON(map[string]any{
					"month": inv.Month.String(), "kind": inv.Kind, "amount": inv.Amount.String(), "lines": inv.Lines})}
			if err := s.regionEvent(ctx, tx, e); err != nil {
				return err
			}
		}
		return nil
	})
}

// issuedBy lists the invoices the close of m issues: the advances of m
// and the finals and refunds of the month before (December's finals are
// issued by its own close, at the end of the year).
func (s *Service) issuedBy(ctx context.Context, m funding.Month) ([]Invoice, error) {
	cur, err := s.store.Invoices(ctx, uuid.Nil, m)
	if err != nil {
		return nil, err
	}
	prev, err := s.store.Invoices(ctx, uuid.Nil, m.Prev())
	if err != nil {
		return nil, err
	}
	var out []Invoice
	for _, inv := range cur {
		if inv.Kind == AdvanceInvoice || m.Month == time.December {
			out = append(out, inv)
		}
	}
	for _, inv := range prev {
		if inv.Kind != AdvanceInvoice && inv.Month.Month != time.December {
			out = append(out, inv)
		}
	}
	return out, nil
}

// ErrMonthSkipped is a close asked for past a month that was never closed.
var ErrMonthSkipped = errors.New("an earlier month was not closed")

// ErrMonthNotStarted is a monthly close asked for before the month's 1st.
var ErrMonthNotStarted = errors.New("month has not started")

// pageSize is how many ids a long run reads at once; each id then gets a
// transaction of its own.
const pageSize = 500

// CloseMonth runs the close of month m over every open contract, each in a
// transaction of its own so that one bad contract never blocks a region.
// Re-running it is safe: a contract's month is charged once, an invoice line
// is added once, a closed contract is not listed again. progress, if not
// nil, is called after every page.
func (s *Service) CloseMonth(ctx context.Context, m funding.Month, progress func(CloseReport)) (CloseReport, error) {
	rep := CloseReport{Month: m, Failed: map[uuid.UUID]error{}}
	if err := s.checkCloseable(ctx, m); err != nil {
		return rep, err
	}
	after := uuid.Nil
	for {
		ids, err := s.store.ContractIDs(ctx, CloseStatuses(), after, pageSize)
		if err != nil {
			return rep, fmt.Errorf("close %s: list contracts: %w", m, err)
		}
		if len(ids) == 0 {
			return rep, s.recordClose(ctx, rep)
		}
		for _, id := range ids {
			if err := ctx.Err(); err != nil {
				return rep, err
			}
			rep.Contracts++
			if err := s.closeContract(ctx, id, m, &rep); err != nil {
				if errors.Is(err, ErrUnavailable) {
					// Every other contract would fail the same way; a re-run
					// later picks up where this one stopped.
					return rep, fmt.Errorf("close %s: %w", m, err)
				}
				rep.Failed[id] = err
			}
		}
		after = ids[len(ids)-1]
		if progress != nil {
			progress(rep)
		}
	}
}

func (s *Service) closeContract(ctx context.Context, id uuid.UUID, m funding.Month, rep *CloseReport) error {
	var delta CloseReport
	err := s.inTx(ctx, func(ctx context.Context, tx Tx) error {
		delta = CloseReport{}
		c, err := tx.LockContract(ctx, id)
		if err != nil {
			return err
		}
		if c.Scheme == certificate.DigitalSkills && c.Status != Terminating {
			return nil // paid on completion (Complete), never by the month
		}
		plan := PlanContract(c, m, s.AdvanceShares())
		actor := "monthly_close:" + m.String()
		switch {
		case plan.Refusal != nil:
			from := c.Status
			if err := s.end(ctx, tx, &c, Refused, actor, plan.Refusal.Code); err != nil {
				return err
			}
			delta.Refused++
			if err := tx.UpdateContract(ctx, c); err != nil {
				return err
			}
			return s.moved(ctx, tx, c, from, actor)
		case plan.Charge != nil:
			charged, err := s.chargeOnce(ctx, tx, c, plan.Charge.Month, actor, "monthly_charge")
			if err != nil {
				return err
			}
			if charged {
				delta.Charged++
				delta.Amount = plan.Charge.Amount
			}
		}
		for _, l := range plan.Lines {
			if err := tx.AddInvoiceLine(ctx, l); err != nil && !errors.Is(err, ErrExists) {
				return err
			} else if err == nil {
				delta.Lines++
			}
		}
		if plan.Closing != nil {
			wasLive := c.Status.Live()
			released, err := s.releaseHold(ctx, tx, c, actor, "contract_closed")
			if err != nil {
				return err
			}
			if wasLive {
				if err := giveLimits(ctx, tx, c, released); err != nil {
					return err
				}
				if err := s.seatFreed(ctx, tx, c); err != nil {
					return err
				}
			}
			from := c.Status
			if err := c.Move(Closed, plan.Closing.ClosedOn); err != nil {
				return err
			}
			delta.Closed++
			if err := tx.UpdateContract(ctx, c); err != nil {
				return err
			}
			return s.moved(ctx, tx, c, from, actor)
		}
		return nil
	})
	if err != nil {
		return err
	}
	rep.Charged += delta.Charged
	rep.Amount = rep.Amount.Add(delta.Amount)
	rep.Closed += delta.Closed
	rep.Refused += delta.Refused
	rep.Lines += delta.Lines
	return nil
}

// chargeOnce is charge reporting whether it charged anything.
func (s *Service) chargeOnce(ctx context.Context, tx Tx, c Contract, m funding.Month, actor, rule string) (bool, error) {
	amount := c.Price.MonthlyPayment(m)
	if c.HoldID == uuid.Nil || !amount.IsPositive() {
		return false, nil
	}
	h, err := tx.Hold(ctx, c.HoldID)
	if err != nil {
		return false, err
	}
	if h.Open().LessThan(amount) {
		// A terminated or under-reserved contract has nothing left to charge.
		return false, nil
	}
	err = s.charge(ctx, tx, c, m, actor, rule)
	if errors.Is(err, errAlreadyCharged) {
		return false, nil
	}
	return err == nil, err
}

// RolloverReport counts what a period rollover did.
type RolloverReport struct {
	From, To     funding.Period
	Certificates int
	Expired      funding.Money
	Granted      int
	Failed       map[uuid.UUID]error
}

// ErrPeriodNotEnded is a rollover asked for on or before the period's last day.
var ErrPeriodNotEnded = errors.New("period has not ended")

// Codes of the refusals of the monthly close and the rollover.
const (
	CodeMonthNotStarted = "month_not_started"
	CodeMonthSkipped    = "month_skipped"
	CodePeriodNotEnded  = "period_not_ended"
)

// checkRollable refuses to roll over a period that is not one of the
// region's, or one that has not ended: the rollover expires the unused
// balances, which stay usable until the period's last day.
func (s *Service) checkRollable(from funding.Period) error {
	if from.Start.IsZero() || s.cfg.PeriodOf(from.Start) != from {
		want := s.cfg.PeriodOf(from.Start)
		return &funding.ValidationError{Field: "period", Rule: fmt.Sprintf("must be one of the region's funding periods, such as %s", want), Value: from.String()}
	}
	if today := s.Today(); !today.After(from.End) {
		return funding.Refuse(ErrPeriodNotEnded, CodePeriodNotEnded,
			"period %s has not ended on %s: its balances stay usable until its last day", from, today)
	}
	return nil
}

// Rollover closes period from for every funded certificate and opens the
// next: the unused balance expires (unused money never carries over), the
// category's nominal is granted for the new period, and certificates past
// their validity expire, freeing their slots for the queue. A period that has
// not ended (in the region's time zone) is refused with ErrPeriodNotEnded.
// Each certificate is a transaction of its own; re-running is safe.
func (s *Service) Rollover(ctx context.Context, from funding.Period, progress func(RolloverReport)) (RolloverReport, error) {
	// The region's calendar says what follows: a transitional period of
	// four months is followed by a whole year, not by four more months.
	to := s.cfg.PeriodOf(from.End.AddDays(1))
	rep := RolloverReport{From: from, To: to, Failed: map[uuid.UUID]error{}}
	if err := s.checkRollable(from); err != nil {
		return rep, err
	}
	err := eachCertificate(ctx, s.store, "rollover "+from.String(), rep.Failed, func(id uuid.UUID) error {
		rep.Certificates++
		return s.rollCertificate(ctx, id, from, to, &rep)
	}, func() {
		if progress != nil {
			progress(rep)
		}
	})
	return rep, err
}

// eachCertificate runs one for every funded, usable certificate, a page of
// ids at a time (one is a transaction of its own, so a region is streamed,
// never loaded). It stops at ErrUnavailable (every other certificate would
// fail alike; a run again picks up) or at the end of ctx; another failure of
// one certificate is recorded in failed and the walk goes on. page, if not
// nil, runs after each page.
func eachCertificate(ctx context.Context, pager Pager, what string, failed map[uuid.UUID]error, one func(id uuid.UUID) error, page func()) error {
	after := uuid.Nil
	for {
		ids, err := pager.CertificateIDs(ctx, after, pageSize)
		if err != nil {
			return fmt.Errorf("%s: list certificates: %w", what, err)
		}
		if len(ids) == 0 {
			return nil
		}
		for _, id := range ids {
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := one(id); err != nil {
				if errors.Is(err, ErrUnavailable) {
					return fmt.Errorf("%s: %w", what, err)
				}
				failed[id] = err
			}
		}
		after = ids[len(ids)-1]
		if page != nil {
			page()
		}
	}
}

func (s *Service) rollCertificate(ctx context.Context, id uuid.UUID, from, to funding.Period, rep *RolloverReport) error {
	var expired funding.Money
	var granted bool
	err := s.inTx(ctx, func(ctx context.Context, tx Tx) error {
		expired, granted = funding.Zero, false
		c, err := tx.LockCertificate(ctx, id)
		if err != nil {
			return err
		}
		now := s.clock.Now().UTC()
		rec := PostingRecord{At: now, Actor: "rollover:" + from.String()}
		old, err := account(ctx, tx, id, from)
		if err != nil {
			return err
		}
		if old.Account.Balance.IsPositive() {
			expired = old.Account.Balance
			rec := rec
			rec.Rule, rec.Params = "period_end", map[string]string{"period": from.String()}
			if err := s.post(ctx, tx, &old, nil, funding.Posting{Kind: funding.Expire, Amount: expired}, rec); err != nil {
				return err
			}
		}
		if c.ExpireIfDue(to.Start) {
			if err := tx.UpdateCertificate(ctx, c); err != nil {
				return err
			}
			if err := s.certificateEvent(ctx, tx, CertificateExpired, c, rec.Actor, "", nil); err != nil {
				return err
			}
			return s.freeSlot(ctx, tx, c, to.Start, rec.Actor)
		}
		if c.Kind != certificate.Funded || c.Scheme != certificate.Supplementary || c.Status == certificate.Cancelled {
			return nil
		}
		cat, err := tx.Category(ctx, c.Category)
		if err != nil {
			return err
		}
		cat = s.RulesOn(to.Start).CategoryOf(cat)
		if err := grantHours(ctx, tx, c, cat, to); err != nil {
			return err
		}
		next, err := account(ctx, tx, id, to)
		if err != nil {
			return err
		}
		nominal := s.RulesOn(to.Start).scaled(cat.Nominal, to)
		if !next.Account.Nominal.IsZero() || !nominal.IsPositive() {
			return nil
		}
		granted = true
		rec.Rule, rec.Params = "category_nominal", map[string]string{"category": cat.Code, "nominal": nominal.String(), "annual": cat.Nominal.String(), "period": to.String()}
		return s.post(ctx, tx, &next, nil, funding.Posting{Kind: funding.Grant, Amount: nominal}, rec)
	})
	if err != nil {
		return err
	}
	rep.Expired = rep.Expired.Add(expired)
	if granted {
		rep.Granted++
	}
	return nil
}
