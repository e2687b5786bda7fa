package enrollment

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/funding"
)

// The relay and what it feeds: the event feed read by cursor, the
// recipients' stored notifications and the webhook deliveries. The change
// that produced an event only appended it (EventTx); everything here runs
// after it committed, in transactions of its own.

// Recipient is who a notification is for, or whose reach a subscription
// has: a role and what it acts as (a person id, a provider id, a
// municipality's code; empty for the operators).
type Recipient struct {
	Role Role
	ID   string
}

// Notification is an event worded in Russian for one recipient.
type Notification struct {
	ID            uuid.UUID
	EventID       uuid.UUID
	Recipient     Recipient
	Type          EventType
	Text          string
	CertificateID uuid.UUID
	ContractID    uuid.UUID
	At            time.Time
	ReadAt        time.Time // zero while unread
}

// Subscription is another system of the region that receives events by
// webhook: those within Scope's reach (as the feed would give Scope's
// caller), of Types (all when empty).
type Subscription struct {
	ID     uuid.UUID
	URL    string
	Secret string // the HMAC key the receiver checks signatures with
	Scope  Recipient
	Types  []EventType
	// Active is false once the subscription is removed; its pending
	// deliveries are dropped then.
	Active    bool
	CreatedAt time.Time
	CreatedBy string
	// FromSeq is the feed's last place when the subscription was added:
	// it receives the events published after it.
	FromSeq int64
}

// Delivery is one event on its way to one subscription: tried at NextAt,
// Attempts times so far, until DeliveredAt is set or it is given up
// (NextAt zero with no DeliveredAt).
type Delivery struct {
	SubscriptionID uuid.UUID
	EventID        uuid.UUID
	Seq            int64
	Attempts       int
	NextAt         time.Time
	DeliveredAt    time.Time
	LastError      string
	// Event and Subscription come with a due delivery (DueDeliveries).
	Event        Event
	Subscription Subscription
}

// EventFilter selects events of the feed: those with a seq after After,
// oldest first, at most Limit, narrowed by the fields that are set.
type EventFilter struct {
	After         int64
	Limit         int
	Types         []EventType
	CertificateID uuid.UUID
	ContractID    uuid.UUID
	ProviderID    uuid.UUID
	Municipality  string
	Scheme        certificate.Scheme
	From, To      time.Time // At in [From, To) when set
}

// NotificationFilter selects a recipient's notifications, newest first,
// strictly before Before when it is set.
type NotificationFilter struct {
	Recipient  Recipient
	UnreadOnly bool
	Before     uuid.UUID
	Limit      int
}

// OutboxTx is what the relay and the deliveries need of a transaction,
// beside Tx. A store that keeps events implements it on its Tx.
type OutboxTx interface {
	// UnpublishedEvents lists up to limit committed events with no seq and
	// an id from from on, in id order.
	UnpublishedEvents(ctx context.Context, from uuid.UUID, limit int) ([]Event, error)
	// PublishEvents gives each event its Seq; an event has one only once.
	PublishEvents(ctx context.Context, es []Event) error
	AddNotifications(ctx context.Context, ns []Notification) error // one per event and recipient; a repeat is skipped
	MarkRead(ctx context.Context, r Recipient, ids []uuid.UUID, at time.Time) (int, error)
	SaveSubscription(ctx context.Context, s Subscription) error // insert or update
	Subscription(ctx context.Context, id uuid.UUID) (Subscription, error)
	ActiveSubscriptions(ctx context.Context) ([]Subscription, error)
	AddDeliveries(ctx context.Context, ds []Delivery) error
	// ClaimDeliveries returns up to limit deliveries due at now (NextAt at
	// or before it) of subscriptions other than busy, each with its event
	// and subscription, and moves their NextAt to lease so that no other
	// worker sends them meanwhile.
	ClaimDeliveries(ctx context.Context, now, lease time.Time, limit int, busy []uuid.UUID) ([]Delivery, error)
	SaveDelivery(ctx context.Context, d Delivery) error
	Event(ctx context.Context, id uuid.UUID) (Event, error)
	// Subjects reads what the notifications of a page of events name, in
	// two statements whatever the page's size: of each certificate its
	// ID, Number, Scheme, GuardianID and Holder.PersonID (the rest left
	// zero), and of each contract its program's name. An id not found is
	// left out.
	Subjects(ctx context.Context, certIDs, contractIDs []uuid.UUID) (certs map[uuid.UUID]certificate.Certificate, programs map[uuid.UUID]string, err error)
}

// Feed is what the store reads outside a transaction for the feed and the
// notification lists.
type Feed interface {
	Events(ctx context.Context, f EventFilter) ([]Event, error)
	Notifications(ctx context.Context, f NotificationFilter) ([]Notification, error)
}

// ErrNoOutbox is a store that keeps no events.
var ErrNoOutbox = errors.New("the store keeps no events")

// seqKey is the counter the relay numbers the feed with: Take on it holds
// its row until the relay's transaction ends, so relays in several
// processes number one after another.
const seqKey = "events:seq"

// outbox runs fn in a transaction with the store's OutboxTx.
func (s *Service) outbox(ctx context.Context, fn func(ctx context.Context, tx Tx, ob OutboxTx) error) error {
	return s.store.InTx(ctx, func(ctx context.Context, tx Tx) error {
		ob, ok := tx.(OutboxTx)
		if !ok {
			return ErrNoOutbox
		}
		return fn(ctx, tx, ob)
	})
}

// PublishReport is what one run of Publish did.
type PublishReport struct {
	Events, Notifications, Deliveries int
	Last                              int64 // the last seq given; 0 when none
}

// Publish is the relay: it gives up to limit committed events their places
// in the feed, in the order they became visible, stores their
// notifications and queues their webhook deliveries, in one transaction.
// Run it in a loop (the reference server does, every few hundred
// milliseconds); several processes may run it at once.
func (s *Service) Publish(ctx context.Context, limit int) (PublishReport, error) {
	if limit <= 0 {
		limit = 500
	}
	var rep PublishReport
	var last uuid.UUID // the event given rep.Last
	err := s.outbox(ctx, func(ctx context.Context, tx Tx, ob OutboxTx) error {
		rep, last = PublishReport{}, uuid.Nil
		// Take the numbering's row first: a second relay waits here, then
		// sees this one's events published.
		if err := tx.EnsureCounter(ctx, seqKey, Unlimited); err != nil {
			return err
		}
		if err := tx.Take(ctx, seqKey, 0); err != nil {
			return err
		}
		from := s.relay.from()
		es, err := ob.UnpublishedEvents(ctx, from, limit)
		if err == nil && len(es) == 0 && from != uuid.Nil {
			// Nothing past the mark: read from the start, so that a run
			// that numbers nothing means that nothing is left.
			es, err = ob.UnpublishedEvents(ctx, uuid.Nil, limit)
		}
		if err != nil || len(es) == 0 {
			return err
		}
		if err := tx.Take(ctx, seqKey, int64(len(es))); err != nil {
			return err
		}
		ctr, err := tx.Counter(ctx, seqKey)
		if err != nil {
			return err
		}
		first := ctr.Used - int64(len(es)) + 1
		for i := range es {
			es[i].Seq = first + int64(i)
		}
		if err := ob.PublishEvents(ctx, es); err != nil {
			return err
		}
		subs, err := ob.ActiveSubscriptions(ctx)
		if err != nil {
			return err
		}
		w, err := newWording(ctx, ob, es)
		if err != nil {
			return err
		}
		var ns []Notification
		var ds []Delivery
		for _, e := range es {
			got, err := s.notificationsOf(ctx, w, e)
			if err != nil {
				return err
			}
			ns = append(ns, got...)
			for _, sub := range subs {
				if sub.wants(e) {
					ds = append(ds, Delivery{SubscriptionID: sub.ID, EventID: e.ID, Seq: e.Seq, NextAt: e.At})
				}
			}
		}
		if err := ob.AddNotifications(ctx, ns); err != nil {
			return err
		}
		if err := ob.AddDeliveries(ctx, ds); err != nil {
			return err
		}
		rep = PublishReport{Events: len(es), Notifications: len(ns), Deliveries: len(ds), Last: es[len(es)-1].Seq}
		last = es[len(es)-1].ID
		return nil
	})
	if err == nil {
		s.relay.published(last)
	}
	return rep, err
}

// relayMark is where the relay of one Service starts reading: events
// become visible roughly in the order of their ids (UUIDv7, made when
// they are appended), and every event the relay numbers leaves a dead
// version behind in the index of unpublished events until the table is
// vacuumed. Read from the start, that index grew by a dead entry per
// event and the relay's read with it (2.8 ms a page after 11,000 events
// on PostgreSQL, more than the rest of its work). So the relay reads from
// relayMargin before the last event it numbered, and from the start every
// relaySweep runs and whenever it finds nothing past the mark: an event of
// a transaction that committed more than relayMargin after it was
// appended is numbered by the next such read, later than the events that
// became visible meanwhile, and never lost; a run that numbers nothing
// still means that nothing is left. The margin also covers servers whose
// clocks (which make the ids) differ by less than it; an event of a
// server further behind waits for such a read too. Several relays keep
// marks of their own; their transactions number one after another
// (seqKey), so a mark only saves reading.
type relayMark struct {
	mu   sync.Mutex
	mark uuid.UUID
	runs int
}

const (
	relayMargin = 5 * time.Second
	relaySweep  = 64
)

// from is where this run reads from: the mark, or the start on a sweep.
func (m *relayMark) from() uuid.UUID {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.runs++
	if m.runs%relaySweep == 0 {
		return uuid.Nil
	}
	return m.mark
}

// published moves the mark to relayMargin before last, the last event a
// committed run numbered (none: the mark stays).
func (m *relayMark) published(last uuid.UUID) {
	if last == uuid.Nil || last.Version() != 7 {
		return
	}
	ms := int64(binary.BigEndian.Uint64(append([]byte{0, 0}, last[:6]...))) - relayMargin.Milliseconds()
	if ms <= 0 {
		return
	}
	var mark uuid.UUID
	binary.BigEndian.PutUint64(mark[:8], uint64(ms)<<16)
	m.mu.Lock()
	defer m.mu.Unlock()
	if bytes.Compare(mark[:], m.mark[:]) > 0 {
		m.mark = mark
	}
}

// feedReach is the part of the feed a caller may read, as a filter's fields:
// a provider its contracts' events, a municipality its own, an operator
// its scheme's, the auditor and the system everything. Holders read
// their notifications, not the feed.
func feedReach(by Caller) (EventFilter, error) {
	if err := by.Validate(); err != nil {
		return EventFilter{}, err
	}
	switch by.Role {
	case RoleProvider:
		id, _ := uuid.Parse(by.ID)
		return EventFilter{ProviderID: id}, nil
	case RoleMunicipality:
		return EventFilter{Municipality: by.ID}, nil
	case RoleRegional:
		return EventFilter{Scheme: certificate.Supplementary}, nil
	case RoleFederal:
		return EventFilter{Scheme: certificate.DigitalSkills}, nil
	case RoleSystem, RoleAuditor:
		return EventFilter{}, nil
	}
	return EventFilter{}, forbidden("the event feed is for the region's systems: a holder reads their notifications")
}

// within narrows f to the feed's reach fr; a filter naming what is out
// of reach matches nothing (ok false).
func within(f, fr EventFilter) (EventFilter, bool) {
	var r reach
	if fr.Municipality != "" {
		r.to(&f.Municipality, fr.Municipality)
	}
	if fr.Scheme != "" {
		r.to((*string)(&f.Scheme), string(fr.Scheme))
	}
	if fr.ProviderID != uuid.Nil {
		r.toID(&f.ProviderID, fr.ProviderID)
	}
	return f, !r.out
}

// MaxEvents is the largest page of the feed.
const MaxEvents = 500

// Events reads the feed within the caller's reach: the published events
// f selects, oldest first, after the cursor f.After.
func (s *Service) Events(ctx context.Context, by Caller, f EventFilter) ([]Event, error) {
	r, err := feedReach(by)
	if err != nil {
		return nil, err
	}
	if f.Limit <= 0 || f.Limit > MaxEvents {
		return nil, &funding.ValidationError{Field: "limit", Rule: fmt.Sprintf("must be 1 to %d", MaxEvents), Value: fmt.Sprint(f.Limit)}
	}
	if f.After < 0 {
		return nil, &funding.ValidationError{Field: "after", Rule: "must be a position of the feed (0 for its start)", Value: fmt.Sprint(f.After)}
	}
	for _, t := range f.Types {
		if !t.Known() {
			return nil, &funding.ValidationError{Field: "type", Rule: "must be an event type", Value: string(t)}
		}
	}
	f, ok := within(f, r)
	if !ok {
		return nil, nil
	}
	feed, ok := s.store.(Feed)
	if !ok {
		return nil, ErrNoOutbox
	}
	return feed.Events(ctx, f)
}

// MaxNotifications is the largest page of a notification list.
const MaxNotifications = 200

// Notifications lists the caller's own notifications, newest first.
func (s *Service) Notifications(ctx context.Context, by Caller, f NotificationFilter) ([]Notification, error) {
	if err := by.Validate(); err != nil {
		return nil, err
	}
	if f.Limit <= 0 || f.Limit > MaxNotifications {
		return nil, &funding.ValidationError{Field: "limit", Rule: fmt.Sprintf("must be 1 to %d", MaxNotifications), Value: fmt.Sprint(f.Limit)}
	}
	f.Recipient = Recipient{Role: by.Role, ID: by.ID}
	feed, ok := s.store.(Feed)
	if !ok {
		return nil, ErrNoOutbox
	}
	return feed.Notifications(ctx, f)
}

// MarkRead marks the caller's own notifications of ids read; another's
// ids are left as they are. It returns how many it marked.
func (s *Service) MarkRead(ctx context.Context, by Caller, ids []uuid.UUID) (int, error) {
	if err := by.Validate(); err != nil {
		return 0, err
	}
	if len(ids) == 0 || len(ids) > MaxNotifications {
		return 0, &funding.ValidationError{Field: "ids", Rule: fmt.Sprintf("must list 1 to %d notifications", MaxNotifications)}
	}
	var n int
	err := s.outbox(ctx, func(ctx context.Context, _ Tx, ob OutboxTx) error {
		var err error
		n, err = ob.MarkRead(ctx, Recipient{Role: by.Role, ID: by.ID}, ids, s.clock.Now().UTC())
		return err
	})
	return n, err
}

// SubscriptionRequest adds a webhook receiver.
type SubscriptionRequest struct {
	URL    string
	Secret string // at least 32 characters: the receiver's HMAC key
	Scope  Recipient
	Types  []EventType
	By     Caller
}

// Subscribe adds a webhook receiver; the regional and federal operators
// manage them for the systems of the region.
func (s *Service) Subscribe(ctx context.Context, key string, r SubscriptionRequest) (Subscription, error) {
	if err := roleMay(r.By, "manage webhook subscriptions", RoleRegional, RoleFederal); err != nil {
		return Subscription{}, err
	}
	u, err := url.Parse(r.URL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return Subscription{}, &funding.ValidationError{Field: "url", Rule: "must be an absolute http or https URL", Value: r.URL}
	}
	if len(r.Secret) < 32 {
		return Subscription{}, &funding.ValidationError{Field: "secret", Rule: "must be at least 32 characters"}
	}
	if err := (Caller{Role: r.Scope.Role, ID: r.Scope.ID, Name: "subscription"}).Validate(); err != nil || r.Scope.Role == RoleHolder {
		return Subscription{}, &funding.ValidationError{Field: "scope", Rule: "must be a provider, municipality, regional, federal or auditor reach with its id", Value: string(r.Scope.Role)}
	}
	if r.By.Role == RoleFederal && r.Scope.Role != RoleFederal || r.By.Role == RoleRegional && r.Scope.Role == RoleFederal {
		return Subscription{}, forbidden("an operator subscribes within its own scheme")
	}
	for _, t := range r.Types {
		if !t.Known() {
			return Subscription{}, &funding.ValidationError{Field: "types", Rule: "must list event types", Value: string(t)}
		}
	}
	// What is committed already is published first, so that the new
	// subscription starts after it.
	for {
		rep, err := s.Publish(ctx, 500)
		if err != nil {
			return Subscription{}, err
		}
		if rep.Events < 500 {
			break
		}
	}
	return idempotent(ctx, s, key, "subscription.add", r.By, r, func(ctx context.Context, tx Tx) (Subscription, error) {
		ob, ok := tx.(OutboxTx)
		if !ok {
			return Subscription{}, ErrNoOutbox
		}
		id, err := uuid.NewV7()
		if err != nil {
			return Subscription{}, err
		}
		sub := Subscription{ID: id, URL: r.URL, Secret: r.Secret, Scope: r.Scope, Types: slices.Clone(r.Types), Active: true,
			CreatedAt: s.clock.Now().UTC(), CreatedBy: r.By.Actor()}
		if last, err := tx.Counter(ctx, seqKey); err == nil {
			sub.FromSeq = last.Used
		} else if !errors.Is(err, ErrNotFound) {
			return Subscription{}, err
		}
		if err := ob.SaveSubscription(ctx, sub); err != nil {
			return Subscription{}, err
		}
		return sub, s.regionEvent(ctx, tx, Event{Type: SubscriptionChanged, Actor: r.By.Actor(),
			Payload: mustJSON(beforeAfter(nil, sub.public()))})
	})
}

// Unsubscribe stops a webhook receiver's deliveries.
func (s *Service) Unsubscribe(ctx context.Context, key string, id uuid.UUID, by Caller) (Subscription, error) {
	if err := roleMay(by, "manage webhook subscriptions", RoleRegional, RoleFederal); err != nil {
		return Subscription{}, err
	}
	return idempotent(ctx, s, key, "subscription.remove", by, id, func(ctx context.Context, tx Tx) (Subscription, error) {
		ob, ok := tx.(OutboxTx)
		if !ok {
			return Subscription{}, ErrNoOutbox
		}
		sub, err := ob.Subscription(ctx, id)
		if err != nil {
			return Subscription{}, notFound(err, "id", id)
		}
		before := sub.public()
		sub.Active = false
		if err := ob.SaveSubscription(ctx, sub); err != nil {
			return Subscription{}, err
		}
		return sub, s.regionEvent(ctx, tx, Event{Type: SubscriptionChanged, Actor: by.Actor(),
			Payload: mustJSON(beforeAfter(before, sub.public()))})
	})
}

// Subscriptions lists the active webhook receivers an operator manages:
// the federal operator those of the adult scheme's reach, the regional
// operator the others.
func (s *Service) Subscriptions(ctx context.Context, by Caller) ([]Subscription, error) {
	if err := roleMay(by, "manage webhook subscriptions", RoleRegional, RoleFederal, RoleAuditor); err != nil {
		return nil, err
	}
	var out []Subscription
	err := s.outbox(ctx, func(ctx context.Context, _ Tx, ob OutboxTx) error {
		subs, err := ob.ActiveSubscriptions(ctx)
		out = out[:0]
		for _, sub := range subs {
			federal := sub.Scope.Role == RoleFederal
			if by.Role == RoleFederal && !federal || by.Role == RoleRegional && federal {
				continue
			}
			out = append(out, sub)
		}
		return err
	})
	return out, err
}

// public is a subscription without its secret, for the audit trail.
func (sub Subscription) public() map[string]any {
	return map[string]any{"id": sub.ID, "url": sub.URL, "scope": string(sub.Scope.Role) + ":" + sub.Scope.ID, "types": sub.Types, "active": sub.Active}
}

// wants reports whether the subscription receives event e: its type is
// one of Types and e is within the reach of its scope.
func (sub Subscription) wants(e Event) bool {
	if !sub.Active || e.Seq <= sub.FromSeq || (len(sub.Types) > 0 && !slices.Contains(sub.Types, e.Type)) {
		return false
	}
	r, err := feedReach(Caller{Role: sub.Scope.Role, ID: sub.Scope.ID, Name: "subscription"})
	if err != nil {
		return false
	}
	return (r.ProviderID == uuid.Nil || r.ProviderID == e.ProviderID) &&
		(r.Municipality == "" || r.Municipality == e.Municipality) &&
		(r.Scheme == "" || r.Scheme == e.Scheme)
}

// DeliveryLease is how long a claimed delivery is left to its sender
// before another may try it.
const DeliveryLease = time.Minute

// MaxDeliveryAttempts is how many times a delivery is tried before it is
// given up; with Backoff's delays that is about a day and a half.
const MaxDeliveryAttempts = 12

// Backoff is the wait before attempt n+1 after n failed ones: 10 s
// doubling to at most 6 h.
func Backoff(n int) time.Duration {
	d := 10 * time.Second
	for i := 1; i < n && d < 6*time.Hour; i++ {
		d *= 2
	}
	return min(d, 6*time.Hour)
}

// ClaimDeliveries hands a sender up to limit due deliveries of
// subscriptions other than busy (those it has enough in flight for),
// leased to it for DeliveryLease.
func (s *Service) ClaimDeliveries(ctx context.Context, limit int, busy ...uuid.UUID) ([]Delivery, error) {
	var ds []Delivery
	err := s.outbox(ctx, func(ctx context.Context, _ Tx, ob OutboxTx) error {
		now := s.clock.Now().UTC()
		var err error
		ds, err = ob.ClaimDeliveries(ctx, now, now.Add(DeliveryLease), limit, busy)
		return err
	})
	return ds, err
}

// Delivered records the outcome of sending d: acknowledged when failure
// is nil, otherwise tried again after Backoff, or given up after
// MaxDeliveryAttempts.
func (s *Service) Delivered(ctx context.Context, d Delivery, failure error) error {
	return s.outbox(ctx, func(ctx context.Context, _ Tx, ob OutboxTx) error {
		now := s.clock.Now().UTC()
		d.Attempts++
		switch {
		case failure == nil:
			d.DeliveredAt, d.NextAt, d.LastError = now, time.Time{}, ""
		case d.Attempts >= MaxDeliveryAttempts:
			d.NextAt, d.LastError = time.Time{}, truncate(failure.Error(), 500)
		default:
			d.NextAt, d.LastError = now.Add(Backoff(d.Attempts)), truncate(failure.Error(), 500)
		}
		return ob.SaveDelivery(ctx, d)
	})
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "")
}
