package enrollment

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/edufund/edufund/funding"
)

// ContractRequest names a contract and who acts on it: a party to it (its
// provider, or whoever holds its certificate as a holder: the adult
// learner, the child's guardians) or the system. Each use case says which
// of the parties may ask.
type ContractRequest struct {
	ContractID uuid.UUID
	By         Caller
	// Reason is why a provider refuses (Refuse): required of a provider,
	// shown to the family; the other transitions ignore it.
	Reason string
	// Document is the document an adult learner was given on completing
	// the course (Complete), optional; the other transitions ignore it.
	Document CompletionDocument `json:",omitzero"`
}

// change runs one contract transition under the contract's lock, for a
// party of one of roles.
func (s *Service) change(ctx context.Context, key, op string, r ContractRequest, roles []Role, fn func(ctx context.Context, tx Tx, c *Contract) error) (Contract, error) {
	if err := roleMay(r.By, strings.TrimPrefix(op, "contract."), roles...); err != nil {
		return Contract{}, err
	}
	return idempotent(ctx, s, key, op, r.By, r, func(ctx context.Context, tx Tx) (Contract, error) {
		c, err := tx.LockContract(ctx, r.ContractID)
		if err != nil {
			return Contract{}, notFound(err, "contract_id", r.ContractID)
		}
		if err := s.contractParty(ctx, tx, r.By, c); err != nil {
			return Contract{}, err
		}
		from := c.Status
		if err := fn(ctx, tx, &c); err != nil {
			return Contract{}, err
		}
		if err := tx.UpdateContract(ctx, c); err != nil {
			return Contract{}, err
		}
		return c, s.moved(ctx, tx, c, from, r.By.Actor())
	})
}

// moved appends the event of contract c's move from status from to its
// own, when it moved: every status change of a contract is one event.
func (s *Service) moved(ctx context.Context, tx Tx, c Contract, from Status, actor string) error {
	if c.Status == from {
		return nil
	}
	var t EventType
	switch c.Status {
	case Requested:
		t = ContractRequested
	case Accepted:
		t = ContractOffered
		if c.ProlongedFrom != uuid.Nil {
			t = ContractProlongationOffered
		}
	case Active:
		t = ContractActivated
	case Refused:
		t = ContractRefused
	case Withdrawn:
		t = ContractWithdrawn
	case Terminating:
		t = ContractTerminating
	case Closed:
		t = ContractClosed
	default:
		return fmt.Errorf("contract %s: no event for status %q", c.ID, c.Status)
	}
	return s.contractEvent(ctx, tx, t, c, actor, nil)
}

var (
	providers = []Role{RoleProvider}
	holders   = []Role{RoleHolder}
	parties   = []Role{RoleHolder, RoleProvider}
)

// Confirm is the provider accepting an application: the offer is issued. A
// provider cannot enrol on a certificate that has not been activated.
func (s *Service) Confirm(ctx context.Context, key string, r ContractRequest) (Contract, error) {
	return s.change(ctx, key, "contract.confirm", r, providers, func(ctx context.Context, tx Tx, c *Contract) error {
		cert, err := tx.Certificate(ctx, c.CertificateID)
		if err != nil {
			return err
		}
		if err := CanAccept(cert); err != nil {
			return err
		}
		return c.Move(Accepted, s.Today())
	})
}

// Accept is the holder signing the offer: the contract becomes active and
// every month from its start to the current one is charged.
func (s *Service) Accept(ctx context.Context, key string, r ContractRequest) (Contract, error) {
	now := s.clock.Now().UTC()
	return s.change(ctx, key, "contract.accept", r, holders, func(ctx context.Context, tx Tx, c *Contract) error {
		cert, err := tx.Certificate(ctx, c.CertificateID)
		if err != nil {
			return err
		}
		if err := CanAccept(cert); err != nil {
			return err
		}
		on := s.dateOf(now)
		if err := c.Move(Active, on); err != nil {
			return err
		}
		for _, ch := range ActivationCharges(*c, on) {
			if err := s.charge(ctx, tx, *c, ch.Month, r.By.Actor(), "charge_on_accept"); err != nil && !errors.Is(err, errAlreadyCharged) {
				return err
			}
		}
		return nil
	})
}

// Refuse is the provider turning down an application or an offer.
// A provider says why (seed 004: the family is told the reason); the
// region's own jobs may refuse without one.
func (s *Service) Refuse(ctx context.Context, key string, r ContractRequest) (Contract, error) {
	var err error
	if r.Reason, err = funding.MultilineText("reason", r.Reason, funding.MaxNoteLen); err != nil {
		return Contract{}, err
	}
	if r.Reason == "" && r.By.Role == RoleProvider {
		return Contract{}, &funding.ValidationError{Field: "reason", Rule: "is required: the family is told why the application is refused"}
	}
	return s.change(ctx, key, "contract.refuse", r, providers, func(ctx context.Context, tx Tx, c *Contract) error {
		c.Reason = r.Reason
		return s.end(ctx, tx, c, Refused, r.By.Actor(), "refused")
	})
}

// Withdraw is the holder cancelling an application or declining an offer
// (declining a prolongation included).
func (s *Service) Withdraw(ctx context.Context, key string, r ContractRequest) (Contract, error) {
	return s.change(ctx, key, "contract.withdraw", r, holders, func(ctx context.Context, tx Tx, c *Contract) error {
		return s.end(ctx, tx, c, Withdrawn, r.By.Actor(), "withdrawn")
	})
}

// Terminate ends an active contract early, at either party's request: the
// remaining reserve returns to the balance at once and the seat is freed; the
// contract closes at the next monthly close.
func (s *Service) Terminate(ctx context.Context, key string, r ContractRequest) (Contract, error) {
	return s.change(ctx, key, "contract.terminate", r, parties, func(ctx context.Context, tx Tx, c *Contract) error {
		return s.end(ctx, tx, c, Terminating, r.By.Actor(), "terminated")
	})
}

// end moves a contract to a status that no longer holds money or a seat,
// returning the open reserve to the balance and the limits it held.
func (s *Service) end(ctx context.Context, tx Tx, c *Contract, to Status, actor, rule string) error {
	wasLive := c.Status.Live()
	if err := c.Move(to, s.Today()); err != nil {
		return err
	}
	released, err := s.releaseHold(ctx, tx, *c, actor, rule)
	if err != nil {
		return err
	}
	if !wasLive {
		return nil
	}
	if err := giveLimits(ctx, tx, *c, released); err != nil {
		return err
	}
	return s.seatFreed(ctx, tx, *c)
}

// releaseHold returns the open part of a contract's reserve to the balance.
func (s *Service) releaseHold(ctx context.Context, tx Tx, c Contract, actor, rule string) (funding.Money, error) {
	if c.HoldID == uuid.Nil {
		return funding.Zero, nil
	}
	h, err := tx.Hold(ctx, c.HoldID)
	if err != nil {
		return funding.Zero, err
	}
	open := h.Open()
	if !open.IsPositive() {
		return funding.Zero, nil
	}
	a, err := tx.Account(ctx, c.CertificateID, c.Period)
	if err != nil {
		return funding.Zero, err
	}
	rec := PostingRecord{ContractID: c.ID, At: s.clock.Now().UTC(), Actor: actor, Rule: rule,
		Params: map[string]string{"reserved": h.Amount.String(), "charged": h.Charged.String()}}
	if err := s.post(ctx, tx, &a, &h, funding.Posting{Kind: funding.Release, Amount: open, HoldID: h.ID}, rec); err != nil {
		return funding.Zero, err
	}
	return open, s.returnHoursMoney(ctx, tx, c, &a, open, rec)
}

// charge moves month m's certificate payment of contract c from reserve to
// spent, once: a month already charged is skipped.
func (s *Service) charge(ctx context.Context, tx Tx, c Contract, m funding.Month, actor, rule string) error {
	amount := c.Price.MonthlyPayment(m)
	if c.HoldID == uuid.Nil || !amount.IsPositive() {
		return nil
	}
	if err := tx.RecordCharge(ctx, c.ID, m, amount); err != nil {
		if errors.Is(err, ErrExists) {
			return errAlreadyCharged
		}
		return err
	}
	h, err := tx.Hold(ctx, c.HoldID)
	if err != nil {
		return err
	}
	a, err := tx.Account(ctx, c.CertificateID, c.Period)
	if err != nil {
		return err
	}
	return s.post(ctx, tx, &a, &h, funding.Posting{Kind: funding.Charge, Amount: amount, HoldID: h.ID}, PostingRecord{
		ContractID: c.ID, Month: m, At: s.clock.Now().UTC(), Actor: actor, Rule: rule,
		Params: map[string]string{"month": m.String(), "first": c.Price.CertFirst.String(), "other": c.Price.CertOther.String()},
	})
}

// errAlreadyCharged is a month charged before; callers that charge "at most
// once" treat it as done.
var errAlreadyCharged = errors.New("month already charged")

// DeliveryReport is a provider reporting how much of a month it delivered.
type DeliveryReport struct {
	ContractRequest
	Month   funding.Month
	Percent int // 0–100
}

// ReportDelivery returns the shortfall of an under-delivered, charged month
// to the certificate's balance and to the municipal budget.
func (s *Service) ReportDelivery(ctx context.Context, key string, r DeliveryReport) (Contract, error) {
	if r.Percent < 0 || r.Percent > 100 {
		return Contract{}, &funding.ValidationError{Field: "percent", Rule: "must be between 0 and 100"}
	}
	if err := roleMay(r.By, "report delivery", providers...); err != nil {
		return Contract{}, err
	}
	return idempotent(ctx, s, key, "contract.delivery", r.By, r, func(ctx context.Context, tx Tx) (Contract, error) {
		c, err := tx.LockContract(ctx, r.ContractID)
		if err != nil {
			return Contract{}, notFound(err, "contract_id", r.ContractID)
		}
		if err := s.contractParty(ctx, tx, r.By, c); err != nil {
			return Contract{}, err
		}
		if c.Status != Active && c.Status != Terminating && c.Status != Closed {
			return Contract{}, funding.Refuse(ErrNotBilled, CodeNotBilled, "contract %s is %s", c.ID, c.Status)
		}
		payment := c.Price.MonthlyPayment(r.Month)
		short, err := funding.Shortfall(payment, r.Percent)
		if err != nil {
			return Contract{}, err
		}
		if c.HoldID == uuid.Nil || !short.IsPositive() {
			return c, nil
		}
		// Recording the report as the month's refund line makes a second
		// report of the same month a refusal rather than a second refund.
		if err := tx.AddInvoiceLine(ctx, InvoiceLine{ContractID: c.ID, Scheme: c.Scheme, Municipality: c.Municipality, ProviderID: c.ProviderID, Month: r.Month, Kind: RefundInvoice, Amount: short}); err != nil {
			if errors.Is(err, ErrExists) {
				return Contract{}, funding.Refuse(ErrAlreadyReported, CodeAlreadyReported, "delivery of %s for contract %s was already reported", r.Month, c.ID)
			}
			return Contract{}, err
		}
		h, err := tx.Hold(ctx, c.HoldID)
		if err != nil {
			return Contract{}, err
		}
		a, err := tx.Account(ctx, c.CertificateID, c.Period)
		if err != nil {
			return Contract{}, err
		}
		rec := PostingRecord{ContractID: c.ID, Month: r.Month, At: s.clock.Now().UTC(), Actor: r.By.Actor(), Rule: "under_delivery",
			Params: map[string]string{"payment": payment.String(), "delivered_percent": strconv.Itoa(r.Percent)}}
		if err := s.post(ctx, tx, &a, &h, funding.Posting{Kind: funding.Refund, Amount: short, HoldID: h.ID}, rec); err != nil {
			return Contract{}, err
		}
		if err := s.returnHoursMoney(ctx, tx, c, &a, short, rec); err != nil {
			return Contract{}, err
		}
		return c, tx.Give(ctx, budgetKey(c.Municipality, c.Period), short.Kopecks())
	})
}

// RateRequest is the holder rating a contract's program.
type RateRequest struct {
	ContractRequest
	Rating Rating
}

// Rate records or edits the holder's rating of a contract, allowed while it
// is active or within a month after it ended.
func (s *Service) Rate(ctx context.Context, key string, r RateRequest) (Contract, error) {
	if err := roleMay(r.By, "rate", holders...); err != nil {
		return Contract{}, err
	}
	if err := r.Rating.Validate(); err != nil {
		return Contract{}, err
	}
	now := s.clock.Now().UTC()
	return idempotent(ctx, s, key, "contract.rate", r.By, r, func(ctx context.Context, tx Tx) (Contract, error) {
		c, err := tx.Contract(ctx, r.ContractID)
		if err != nil {
			return Contract{}, notFound(err, "contract_id", r.ContractID)
		}
		if err := s.contractParty(ctx, tx, r.By, c); err != nil {
			return Contract{}, err
		}
		on := s.dateOf(now)
		if err := CanRate(c, on, s.RulesOn(on).RatingWindowMonths); err != nil {
			return Contract{}, err
		}
		return c, tx.SaveRating(ctx, c.ID, r.Rating, now)
	})
}

// Refusals of ReportDelivery.
var (
	ErrNotBilled       = errors.New("contract has no billed months")
	ErrAlreadyReported = errors.New("delivery already reported")
)

// Stable codes of the refusals of ReportDelivery.
const (
	CodeNotBilled       = "month_not_billed"
	CodeAlreadyReported = "delivery_already_reported"
)

// ProlongRequest is a provider prolonging an ended contract into another group.
type ProlongRequest struct {
	ContractRequest
	GroupID uuid.UUID
}

// Prolong is a provider offering the holder of a naturally ended (or
// ending) contract a place in another group: a new application is priced,
// checked and reserved as a submission would be, and issued at once as an
// offer. The holder's silence for ProlongationSilenceDays accepts it (see
// AcceptBySilence); declining is Withdraw.
func (s *Service) Prolong(ctx context.Context, key string, r ProlongRequest) (Contract, error) {
	if err := roleMay(r.By, "prolong", providers...); err != nil {
		return Contract{}, err
	}
	now := s.clock.Now().UTC()
	on := s.dateOf(now)
	return idempotent(ctx, s, key, "contract.prolong", r.By, r, func(ctx context.Context, tx Tx) (Contract, error) {
		old, err := tx.LockContract(ctx, r.ContractID)
		if err != nil {
			return Contract{}, notFound(err, "contract_id", r.ContractID)
		}
		if err := s.contractParty(ctx, tx, r.By, old); err != nil {
			return Contract{}, err
		}
		offer, err := tx.Offer(ctx, r.GroupID)
		if err != nil {
			return Contract{}, notFound(err, "group_id", r.GroupID)
		}
		if offer.Provider.ID != old.ProviderID {
			return Contract{}, funding.Refuse(ErrForbidden, CodeForeignGroup, "group %s is not run by the contract's provider", r.GroupID)
		}
		draft, err := Prolong(old, offer.Group, offer.Module, on)
		if err != nil {
			return Contract{}, err
		}
		// The new application is the system's: the provider offers it, the
		// holder's answer (or silence) decides; no protection applies.
		c, err := s.enrol(ctx, tx, SubmitRequest{CertificateID: old.CertificateID, GroupID: r.GroupID, Start: draft.Start,
			By: Caller{Role: RoleSystem, Name: "prolongation by " + r.By.Actor()}}, now, on)
		if err != nil {
			return Contract{}, err
		}
		c.ProlongedFrom = old.ID
		if err := c.Move(Accepted, on); err != nil {
			return Contract{}, err
		}
		if err := tx.UpdateContract(ctx, c); err != nil {
			return Contract{}, err
		}
		return c, s.moved(ctx, tx, c, Requested, r.By.Actor())
	})
}

// AcceptBySilence activates every prolongation offer the holder has left
// unanswered for ProlongationSilenceDays, each in a transaction of its own.
// It returns how many it activated; re-running it is safe.
func (s *Service) AcceptBySilence(ctx context.Context) (int, error) {
	on := s.Today()
	n := 0
	after := uuid.Nil
	for {
		ids, err := s.store.ContractIDs(ctx, []Status{Accepted}, after, pageSize)
		if err != nil || len(ids) == 0 {
			return n, err
		}
		for _, id := range ids {
			var accepted bool
			err := s.inTx(ctx, func(ctx context.Context, tx Tx) error {
				accepted = false
				c, err := tx.LockContract(ctx, id)
				if err != nil {
					return err
				}
				if c.Status != Accepted || c.ProlongedFrom == uuid.Nil || !SilenceAccepts(c.OfferedOn, on, s.RulesOn(c.OfferedOn).ProlongationSilenceDays) {
					return nil
				}
				cert, err := tx.Certificate(ctx, c.CertificateID)
				if err != nil {
					return err
				}
				if CanAccept(cert) != nil {
					return nil
				}
				if err := c.Move(Active, on); err != nil {
					return err
				}
				for _, ch := range ActivationCharges(c, on) {
					if err := s.charge(ctx, tx, c, ch.Month, "silence", "prolongation_accepted_by_silence"); err != nil && !errors.Is(err, errAlreadyCharged) {
						return err
					}
				}
				accepted = true
				if err := tx.UpdateContract(ctx, c); err != nil {
					return err
				}
				return s.contractEvent(ctx, tx, ContractAcceptedBySilence, c, "silence", nil)
			})
			if err != nil {
				return n, fmt.Errorf("accept by silence %s: %w", id, err)
			}
			if accepted {
				n++
			}
		}
		after = ids[len(ids)-1]
	}
}

// Contract reads a contract for whoever may see it: its parties (its
// provider, whoever holds its certificate as a holder), the municipality
// that funds it, the operator of its scheme and the system. To anyone else
// it does not exist (ErrNotFound).
func (s *Service) Contract(ctx context.Context, by Caller, id uuid.UUID) (Contract, error) {
	if err := by.Validate(); err != nil {
		return Contract{}, err
	}
	var c Contract
	err := s.inTx(ctx, func(ctx context.Context, tx Tx) error {
		var err error
		if c, err = tx.Contract(ctx, id); err != nil {
			return notFound(err, "contract_id", id)
		}
		ok, err := s.seesContract(ctx, tx, by, c)
		if err == nil && !ok {
			err = notFound(ErrNotFound, "contract_id", id)
		}
		return err
	})
	if err != nil {
		return Contract{}, err
	}
	return c, nil
}
