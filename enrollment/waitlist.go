package enrollment

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/edufund/edufund/funding"
)

// A full group keeps a waitlist (issue 30, item 6): a holder who asks for
// it (SubmitRequest.Waitlist) joins the list instead of being refused, and
// every seat the group frees — a refusal, a withdrawal, a termination, a
// closing — is offered to the head of the list in the transaction that
// frees it. The offer is the application itself, made by the same rules as
// a submission (money reserved, seat taken); a head that can no longer
// enrol is skipped with the refusal's code and the next is offered. The
// holder confirms the offer within the prolongation silence parameter's
// days (WaitlistDeadline); an offer left unconfirmed is withdrawn by
// ExpireWaitlistOffers, which frees the seat for the next in line.
//
// Every write to a group's waitlist runs under the row lock of the group's
// seat counter (a join takes it before it looks at the seats, a freed seat
// holds it from its Give), so a seat is never freed unseen by a joiner and
// the list's order is the order of joining.

// WaitStatus is where a waitlist entry stands.
type WaitStatus string

const (
	Waiting       WaitStatus = "waiting"
	WaitOffered   WaitStatus = "offered"   // a seat freed: its application exists, to be confirmed by Deadline
	WaitConfirmed WaitStatus = "confirmed" // the holder took the offered seat
	WaitSkipped   WaitStatus = "skipped"   // could not enrol when its turn came (Reason: the refusal's code)
	WaitLeft      WaitStatus = "left"      // the holder left the list or let the offer lapse (Reason)
)

// The waitlist's events (payload: group_id, position or deadline).
const (
	WaitlistJoined  EventType = "waitlist.joined"
	WaitlistOffered EventType = "waitlist.offered" // ContractID: the application made on the freed seat
	WaitlistLeft    EventType = "waitlist.left"    // Reason: left, offer_expired or a refusal's code
)

// Reasons an entry leaves the list other than a refusal.
const (
	ReasonLeft         = "left"
	ReasonOfferExpired = "offer_expired"
)

// WaitlistEntry is one application waiting for a seat of a group.
type WaitlistEntry struct {
	ID            uuid.UUID     `json:"id"`
	GroupID       uuid.UUID     `json:"group_id"`
	CertificateID uuid.UUID     `json:"certificate_id"`
	Seq           int64         `json:"-"` // order of joining within the group
	Status        WaitStatus    `json:"status"`
	Request       SubmitRequest `json:"-"`
	ContractID    uuid.UUID     `json:"contract_id,omitzero"`
	Deadline      funding.Date  `json:"deadline,omitzero"`
	Reason        string        `json:"reason,omitempty"`
	CreatedAt     time.Time     `json:"created_at"`
	// Position is the entry's place among the group's waiting entries
	// (1 = next offered), 0 when it no longer waits; set on read.
	Position int `json:"position,omitempty"`
}

// WaitlistTx stores the waitlists. Callers hold the group's seat counter.
type WaitlistTx interface {
	AddWaitlist(ctx context.Context, e WaitlistEntry) error // Seq is given by the store: the group's last + 1
	UpdateWaitlist(ctx context.Context, e WaitlistEntry) error
	LockWaitlist(ctx context.Context, id uuid.UUID) (WaitlistEntry, error)
	// WaitlistHead is the group's first waiting entry, ErrNotFound for none.
	WaitlistHead(ctx context.Context, groupID uuid.UUID) (WaitlistEntry, error)
	// CertificateWaitlist lists a certificate's entries, newest first,
	// with the positions of those waiting.
	CertificateWaitlist(ctx context.Context, certID uuid.UUID) ([]WaitlistEntry, error)
	// OfferedBefore lists the ids of offers whose deadline is before on.
	OfferedBefore(ctx context.Context, on funding.Date, limit int) ([]uuid.UUID, error)
	// Savepoint runs fn so that its writes are undone when it fails, the
	// transaction going on.
	Savepoint(ctx context.Context, fn func(ctx context.Context) error) error
}

// errNoWaitlist is a store without waitlists.
var errNoWaitlist = errors.New("enrollment: the store keeps no waitlists")

func waitlistOf(tx Tx) (WaitlistTx, error) {
	w, ok := tx.(WaitlistTx)
	if !ok {
		return nil, errNoWaitlist
	}
	return w, nil
}

// WaitlistDeadline is the last day to confirm a seat offered on day on.
func (s *Service) WaitlistDeadline(on funding.Date) funding.Date {
	days := s.RulesOn(on).ProlongationSilenceDays
	if days <= 0 {
		days = DefaultSilenceDays
	}
	return on.AddDays(days)
}

// SubmitOrWait is Submit that, for an application asking for the waitlist
// (r.Waitlist) and refused because the group is full, joins the group's
// waitlist instead: exactly one of the contract and the entry is returned.
func (s *Service) SubmitOrWait(ctx context.Context, key string, r SubmitRequest) (Contract, *WaitlistEntry, error) {
	for range 3 {
		c, err := s.Submit(ctx, key, r)
		if !r.Waitlist || !errors.Is(err, ErrGroupFull) {
			return c, nil, err
		}
		e, err := s.joinWaitlist(ctx, key, r)
		if errors.Is(err, errSeatFree) {
			continue // a seat freed between the two: apply again
		}
		if err != nil {
			return Contract{}, nil, err
		}
		return Contract{}, &e, nil
	}
	return Contract{}, nil, funding.Refuse(ErrGroupFull, CodeGroupFull, "group %s: seats keep changing, try again", r.GroupID)
}

var errSeatFree = errors.New("a seat is free")

func (s *Service) joinWaitlist(ctx context.Context, key string, r SubmitRequest) (WaitlistEntry, error) {
	if err := roleMay(r.By, "join a waitlist", RoleHolder); err != nil {
		return WaitlistEntry{}, err
	}
	now := s.clock.Now().UTC()
	return idempotent(ctx, s, key, "waitlist.join", r.By, r, func(ctx context.Context, tx Tx) (WaitlistEntry, error) {
		w, err := waitlistOf(tx)
		if err != nil {
			return WaitlistEntry{}, err
		}
		cert, err := tx.LockCertificate(ctx, r.CertificateID)
		if err != nil {
			return WaitlistEntry{}, notFound(err, "certificate_id", r.CertificateID)
		}
		if err := s.mayChange(ctx, tx, r.By, cert); err != nil {
			return WaitlistEntry{}, err
		}
		offer, err := tx.Offer(ctx, r.GroupID)
		if err != nil {
			return WaitlistEntry{}, notFound(err, "group_id", r.GroupID)
		}
		key := seatsKey(offer.Group.ID)
		if err := tx.Take(ctx, key, 0); err != nil && !errors.Is(err, ErrCounterFull) { // the lock
			if errors.Is(err, ErrNotFound) {
				return WaitlistEntry{}, errSeatFree
			}
			return WaitlistEntry{}, err
		}
		seats, err := tx.Counter(ctx, key)
		if err != nil {
			return WaitlistEntry{}, err
		}
		if seats.Used < seats.Limit {
			return WaitlistEntry{}, errSeatFree
		}
		id, err := uuid.NewV7()
		if err != nil {
			return WaitlistEntry{}, err
		}
		r.Waitlist = false // the offer is an ordinary application
		e := WaitlistEntry{ID: id, GroupID: offer.Group.ID, CertificateID: cert.ID, Status: Waiting, Request: r, CreatedAt: now}
		if err := w.AddWaitlist(ctx, e); err != nil {
			if errors.Is(err, ErrExists) {
				return WaitlistEntry{}, funding.Refuse(ErrWaitlisted, CodeWaitlisted, "certificate %s already waits for group %s", cert.Number, offer.Group.ID)
			}
			return WaitlistEntry{}, err
		}
		if e, err = w.LockWaitlist(ctx, id); err != nil {
			return WaitlistEntry{}, err
		}
		if e.Position, err = s.waitPosition(ctx, w, e); err != nil {
			return WaitlistEntry{}, err
		}
		return e, s.waitEvent(ctx, tx, WaitlistJoined, e, cert.Municipality, offer.Provider.ID, r.By.Actor(), "", map[string]any{"position": e.Position})
	})
}

// ErrWaitlisted is a certificate already on the group's waitlist.
var ErrWaitlisted = errors.New("already on the waitlist")

// CodeWaitlisted is ErrWaitlisted's problem code.
const CodeWaitlisted = "already_waitlisted"

func (s *Service) waitPosition(ctx context.Context, w WaitlistTx, e WaitlistEntry) (int, error) {
	es, err := w.CertificateWaitlist(ctx, e.CertificateID)
	if err != nil {
		return 0, err
	}
	for _, x := range es {
		if x.ID == e.ID {
			return x.Position, nil
		}
	}
	return 0, nil
}

func (s *Service) waitEvent(ctx context.Context, tx Tx, t EventType, e WaitlistEntry, municipality string, provider uuid.UUID, actor, reason string, payload map[string]any) error {
	if payload == nil {
		payload = map[string]any{}
	}
	payload["group_id"] = e.GroupID.String()
	payload["waitlist_id"] = e.ID.String()
	ev, err := s.newEvent(t, actor, payload)
	if err != nil {
		return err
	}
	ev.CertificateID, ev.ContractID, ev.ProviderID, ev.Municipality, ev.Reason = e.CertificateID, e.ContractID, provider, municipality, reason
	if cert, err := tx.Certificate(ctx, e.CertificateID); err == nil {
		ev.Scheme = cert.Scheme
	}
	return tx.AppendEvent(ctx, ev)
}

// seatFreed offers the seat contract c gave back to the head of its
// group's waitlist, skipping heads that can no longer enrol. It runs in
// the transaction that freed the seat, after giveLimits.
func (s *Service) seatFreed(ctx context.Context, tx Tx, c Contract) error {
	w, ok := tx.(WaitlistTx)
	if !ok {
		return nil // a store without waitlists has nobody waiting
	}
	now := s.clock.Now().UTC()
	on := s.dateOf(now)
	for {
		e, err := w.WaitlistHead(ctx, c.GroupID)
		if errors.Is(err, ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		var made Contract
		err = w.Savepoint(ctx, func(ctx context.Context) error {
			var err error
			made, err = s.enrol(ctx, tx, e.Request, now, on)
			return err
		})
		var re *funding.RuleError
		switch {
		case err == nil:
			e.Status, e.ContractID, e.Deadline = WaitOffered, made.ID, s.WaitlistDeadline(on)
			if err := w.UpdateWaitlist(ctx, e); err != nil {
				return err
			}
			return s.waitEvent(ctx, tx, WaitlistOffered, e, made.Municipality, made.ProviderID, "waitlist", "", map[string]any{"deadline": e.Deadline.String()})
		case errors.Is(err, ErrGroupFull):
			return nil // the seat went elsewhere (a capacity lowered): the head keeps its place
		case errors.As(err, &re) || errors.Is(err, ErrNotFound):
			code := CodeNotFound
			if re != nil {
				code = re.Code
			}
			e.Status, e.Reason = WaitSkipped, code
			if err := w.UpdateWaitlist(ctx, e); err != nil {
				return err
			}
			if err := s.waitEvent(ctx, tx, WaitlistLeft, e, c.Municipality, c.ProviderID, "waitlist", code, nil); err != nil {
				return err
			}
		default:
			return fmt.Errorf("waitlist %s: offer: %w", e.ID, err)
		}
	}
}

// WaitlistRequest names a waitlist entry and its holder.
type WaitlistRequest struct {
	ID uuid.UUID
	By Caller
}

// ConfirmWaitlist is the holder taking the seat offered: the application
// made on it stays (its provider confirms it as any other).
func (s *Service) ConfirmWaitlist(ctx context.Context, key string, r WaitlistRequest) (WaitlistEntry, error) {
	return s.waitChange(ctx, key, "waitlist.confirm", r, func(ctx context.Context, tx Tx, w WaitlistTx, e *WaitlistEntry) error {
		if e.Status != WaitOffered {
			return funding.Refuse(ErrForbiddenTransition, CodeForbiddenTransition, "waitlist entry %s is %s, not offered", e.ID, e.Status)
		}
		if s.Today().After(e.Deadline) {
			return funding.Refuse(ErrForbiddenTransition, CodeForbiddenTransition, "the offer lapsed on %s", e.Deadline)
		}
		e.Status = WaitConfirmed
		return nil
	})
}

// LeaveWaitlist is the holder leaving the list, or declining the seat
// offered: its application is withdrawn and the seat goes to the next.
func (s *Service) LeaveWaitlist(ctx context.Context, key string, r WaitlistRequest) (WaitlistEntry, error) {
	return s.waitChange(ctx, key, "waitlist.leave", r, func(ctx context.Context, tx Tx, w WaitlistTx, e *WaitlistEntry) error {
		return s.leave(ctx, tx, w, e, ReasonLeft, r.By.Actor())
	})
}

func (s *Service) leave(ctx context.Context, tx Tx, w WaitlistTx, e *WaitlistEntry, reason, actor string) error {
	if e.Status != Waiting && e.Status != WaitOffered {
		return funding.Refuse(ErrForbiddenTransition, CodeForbiddenTransition, "waitlist entry %s is %s", e.ID, e.Status)
	}
	if err := tx.Take(ctx, seatsKey(e.GroupID), 0); err != nil && !errors.Is(err, ErrCounterFull) && !errors.Is(err, ErrNotFound) {
		return err // the list's lock
	}
	cert, err := tx.Certificate(ctx, e.CertificateID)
	if err != nil {
		return err
	}
	offered := e.Status == WaitOffered
	e.Status, e.Reason = WaitLeft, reason
	if err := w.UpdateWaitlist(ctx, *e); err != nil {
		return err
	}
	if err := s.waitEvent(ctx, tx, WaitlistLeft, *e, cert.Municipality, uuid.Nil, actor, reason, nil); err != nil {
		return err
	}
	if !offered {
		return nil
	}
	c, err := tx.LockContract(ctx, e.ContractID)
	if err != nil {
		return err
	}
	if c.Status != Requested && c.Status != Accepted {
		return nil // already answered or ended by the contract's own path
	}
	from := c.Status
	if err := s.end(ctx, tx, &c, Withdrawn, actor, "waitlist_"+reason); err != nil {
		return err
	}
	if err := tx.UpdateContract(ctx, c); err != nil {
		return err
	}
	return s.moved(ctx, tx, c, from, actor)
}

func (s *Service) waitChange(ctx context.Context, key, op string, r WaitlistRequest, fn func(ctx context.Context, tx Tx, w WaitlistTx, e *WaitlistEntry) error) (WaitlistEntry, error) {
	if err := roleMay(r.By, op, RoleHolder); err != nil {
		return WaitlistEntry{}, err
	}
	return idempotent(ctx, s, key, op, r.By, r, func(ctx context.Context, tx Tx) (WaitlistEntry, error) {
		w, err := waitlistOf(tx)
		if err != nil {
			return WaitlistEntry{}, err
		}
		e, err := w.LockWaitlist(ctx, r.ID)
		if err != nil {
			return WaitlistEntry{}, notFound(err, "waitlist_id", r.ID)
		}
		cert, err := tx.Certificate(ctx, e.CertificateID)
		if err != nil {
			return WaitlistEntry{}, err
		}
		if err := s.mayRead(ctx, tx, r.By, cert); err != nil {
			return WaitlistEntry{}, notFound(ErrNotFound, "waitlist_id", r.ID)
		}
		if err := s.mayChange(ctx, tx, r.By, cert); err != nil {
			return WaitlistEntry{}, err
		}
		if err := fn(ctx, tx, w, &e); err != nil {
			return WaitlistEntry{}, err
		}
		return e, w.UpdateWaitlist(ctx, e)
	})
}

// ExpireWaitlistOffers withdraws every seat offer left unconfirmed past its
// deadline, each in a transaction of its own, offering the seat to the
// next in line. It returns how many lapsed; re-running it is safe.
func (s *Service) ExpireWaitlistOffers(ctx context.Context) (int, error) {
	n := 0
	for {
		var ids []uuid.UUID
		err := s.inTx(ctx, func(ctx context.Context, tx Tx) error {
			w, err := waitlistOf(tx)
			if err != nil {
				return err
			}
			ids, err = w.OfferedBefore(ctx, s.Today(), pageSize)
			return err
		})
		if err != nil || len(ids) == 0 {
			return n, err
		}
		for _, id := range ids {
			err := s.inTx(ctx, func(ctx context.Context, tx Tx) error {
				w, _ := waitlistOf(tx)
				e, err := w.LockWaitlist(ctx, id)
				if err != nil || e.Status != WaitOffered || !s.Today().After(e.Deadline) {
					return err
				}
				return s.leave(ctx, tx, w, &e, ReasonOfferExpired, "waitlist")
			})
			if err != nil {
				return n, fmt.Errorf("expire waitlist offer %s: %w", id, err)
			}
			n++
		}
	}
}

// Waitlist lists a certificate's waitlist entries with the positions of
// those waiting, for whoever may read the certificate.
func (s *Service) Waitlist(ctx context.Context, by Caller, certID uuid.UUID) ([]WaitlistEntry, error) {
	if err := by.Validate(); err != nil {
		return nil, err
	}
	var out []WaitlistEntry
	err := s.inTx(ctx, func(ctx context.Context, tx Tx) error {
		w, err := waitlistOf(tx)
		if err != nil {
			return err
		}
		cert, err := tx.Certificate(ctx, certID)
		if err != nil {
			return notFound(err, "certificate_id", certID)
		}
		if err := s.mayRead(ctx, tx, by, cert); err != nil {
			return err
		}
		out, err = w.CertificateWaitlist(ctx, certID)
		return err
	})
	return out, err
}

// positionRu is a waitlist position from an event's payload.
func positionRu(v any) string {
	if f, ok := v.(float64); ok {
		return fmt.Sprintf("%d", int(f))
	}
	return "—"
}
