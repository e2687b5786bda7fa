package enrollment

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/funding"
)

// Events are the outbox of the region's changes. Every status change of a
// certificate or a contract, every invoice issued, a budget limit reached
// and every change an administrator makes is appended as an Event in the
// transaction that makes the change, so an event exists exactly when its
// change committed: a rolled-back transaction leaves none, and no change
// is ever missing from the feed. The relay (Service.Publish) later gives
// committed events their place in the feed, in the order they became
// visible, derives the recipients' notifications from them and queues
// their deliveries to the region's other systems; nothing the relay or a
// subscriber does can slow or fail the change itself.

// EventType names what happened, as "subject.what".
type EventType string

// The certificate's events.
const (
	CertificateIssued    EventType = "certificate.issued"
	CertificateFunded    EventType = "certificate.funded"   // granted a funded place on issue or on request
	CertificateQueued    EventType = "certificate.queued"   // waits for a funded place (payload: queue, position)
	CertificatePromoted  EventType = "certificate.promoted" // funded from the queue when a place freed
	CertificateActivated EventType = "certificate.activated"
	CertificateSuspended EventType = "certificate.suspended"
	CertificateResumed   EventType = "certificate.resumed"
	CertificateCancelled EventType = "certificate.cancelled" // Reason documents_overdue for an adult's overdue documents
	CertificateExpired   EventType = "certificate.expired"
	// DocumentsDue is an adult certificate's deadline for the provider's
	// documents, set when it takes its place of the quota (payload: due).
	DocumentsDue EventType = "certificate.documents_due"
)

// The contract's events, one per status change.
const (
	ContractRequested           EventType = "contract.requested"            // → requested: the application
	ContractOffered             EventType = "contract.offered"              // requested → accepted: the provider confirmed
	ContractProlongationOffered EventType = "contract.prolongation_offered" // requested → accepted of a prolongation
	ContractRefused             EventType = "contract.refused"              // Reason: the provider's
	ContractWithdrawn           EventType = "contract.withdrawn"
	ContractActivated           EventType = "contract.activated"           // accepted → active: the holder signed
	ContractAcceptedBySilence   EventType = "contract.accepted_by_silence" // accepted → active of a prolongation left unanswered
	ContractTerminating         EventType = "contract.terminating"
	ContractClosed              EventType = "contract.closed"
)

// The region's other events.
const (
	InvoiceIssued       EventType = "invoice.issued"       // a month's invoice, when its close finished
	InvoiceAccepted     EventType = "invoice.accepted"     // by its payer (payload: the invoice as accepted)
	InvoicePaid         EventType = "invoice.paid"         // by its payer (payload: the invoice as paid)
	BudgetLimitReached  EventType = "budget.limit_reached" // a municipality's budget refused an application
	ParameterAdded      EventType = "parameter.added"      // a parameter version
	CategorySaved       EventType = "admin.category_saved" // payload: before, after
	BudgetSet           EventType = "admin.budget_set"     // payload: before, after
	DirectionLimitSet   EventType = "admin.direction_limit_set"
	ProviderSaved       EventType = "admin.provider_saved"
	SubscriptionChanged EventType = "admin.subscription_changed"
)

// The certification's events, one per move of a program's certification
// (catalog.Certification); ProviderID is the program's provider and the
// payload names the program (program_id, name).
const (
	ProgramSubmitted EventType = "program.submitted" // payload content_changed: a certified program's reviewed content changed
	ProgramCertified EventType = "program.certified"
	ProgramDenied    EventType = "program.denied" // Reason: the regional operator's
	ProgramWithdrawn EventType = "program.withdrawn"
)

// EventTypes lists every type, for validation of subscriptions and filters.
var EventTypes = []EventType{
	CertificateIssued, CertificateFunded, CertificateQueued, CertificatePromoted, CertificateActivated,
	CertificateSuspended, CertificateResumed, CertificateCancelled, CertificateExpired, DocumentsDue,
	CertificateProtectionChanged, CertificatePassphraseRotated, CertificateGuardianAdded, AdultReviewRequested, AdultReviewApproved,
	ContractRequested, ContractOffered, ContractProlongationOffered, ContractRefused, ContractWithdrawn,
	ContractActivated, ContractAcceptedBySilence, ContractTerminating, ContractClosed,
	InvoiceIssued, InvoiceAccepted, InvoicePaid, BudgetLimitReached, ParameterAdded, CategorySaved, BudgetSet, DirectionLimitSet,
	ProviderSaved, SubscriptionChanged,
	ProgramSubmitted, ProgramCertified, ProgramDenied, ProgramWithdrawn,
	WaitlistJoined, WaitlistOffered, WaitlistLeft,
	AuthorisationGranted, AuthorisationRevoked,
}

// Known reports whether t is one of EventTypes.
func (t EventType) Known() bool {
	for _, k := range EventTypes {
		if t == k {
			return true
		}
	}
	return false
}

// Event is one thing that happened, with the ids of what it is about and
// the tenants it belongs to: the certificate's municipality and scheme,
// the contract's provider. Its holder is the certificate's, resolved by
// the relay for the notifications.
type Event struct {
	ID uuid.UUID // UUIDv7: the de-duplication key a subscriber keeps
	// Seq is the event's place in the feed, given by the relay once the
	// event is committed; 0 until then. Seqs only grow, in the order
	// events became visible (an event whose transaction committed long
	// after it was appended comes a few runs of the relay later), so a
	// cursor never skips one.
	Seq    int64
	Type   EventType
	At     time.Time
	Actor  string // Caller.Actor of who made the change
	Reason string // a refusal's or a cancellation's reason; empty otherwise

	CertificateID uuid.UUID
	ContractID    uuid.UUID
	ProviderID    uuid.UUID
	Municipality  string
	Scheme        certificate.Scheme
	// Payload is the event's own data as a JSON object: a queue position,
	// a deadline, an invoice's amount, an admin change's before and after.
	Payload json.RawMessage
}

// EventTx appends events in the transaction of the change they record.
type EventTx interface {
	AppendEvent(ctx context.Context, e Event) error // ErrExists for a second event with an id
}

// newEvent is an event of type t at the service's now.
func (s *Service) newEvent(t EventType, actor string, payload map[string]any) (Event, error) {
	id, err := uuid.NewV7()
	if err != nil {
		return Event{}, err
	}
	e := Event{ID: id, Type: t, At: s.clock.Now().UTC(), Actor: actor}
	if len(payload) > 0 {
		if e.Payload, err = json.Marshal(payload); err != nil {
			return Event{}, fmt.Errorf("event %s: payload: %w", t, err)
		}
	}
	return e, nil
}

// contractEvent appends the event of contract c's move to its status.
func (s *Service) contractEvent(ctx context.Context, tx Tx, t EventType, c Contract, actor string, payload map[string]any) error {
	e, err := s.newEvent(t, actor, payload)
	if err != nil {
		return err
	}
	e.CertificateID, e.ContractID, e.ProviderID = c.CertificateID, c.ID, c.ProviderID
	e.Municipality, e.Scheme = c.Municipality, c.Scheme
	if t == ContractRefused {
		e.Reason = c.Reason
	}
	return tx.AppendEvent(ctx, e)
}

// certificateEvent appends an event of certificate c.
func (s *Service) certificateEvent(ctx context.Context, tx Tx, t EventType, c certificate.Certificate, actor, reason string, payload map[string]any) error {
	e, err := s.newEvent(t, actor, payload)
	if err != nil {
		return err
	}
	e.CertificateID, e.Municipality, e.Scheme, e.Reason = c.ID, c.Municipality, c.Scheme, reason
	return tx.AppendEvent(ctx, e)
}

// regionEvent appends an event about no certificate or contract: an
// invoice, a budget, an administrator's change.
func (s *Service) regionEvent(ctx context.Context, tx Tx, e Event) error {
	base, err := s.newEvent(e.Type, e.Actor, nil)
	if err != nil {
		return err
	}
	e.ID, e.At = base.ID, base.At
	return tx.AppendEvent(ctx, e)
}

// beforeAfter is an administrator's change of one record: what it was (nil
// when it is new) and what it is now, for the audit trail.
func beforeAfter(before, after any) map[string]any {
	return map[string]any{"before": before, "after": after}
}

// NoteRefusal records what an application's refusal tells the region: a
// refusal by the municipal budget is the budget limit reached, announced
// once per municipality, period and limit. The refusal rolled its own
// transaction back, so this runs in one of its own; it is best effort and
// never changes the answer the applicant gets. Batch runners call it as
// Submit does.
func (s *Service) NoteRefusal(ctx context.Context, r SubmitRequest, at time.Time, refusal error) {
	var re *funding.RuleError
	if !errors.As(refusal, &re) || re.Code != CodeBudgetLimit {
		return
	}
	_ = s.inTx(ctx, func(ctx context.Context, tx Tx) error {
		cert, err := tx.Certificate(ctx, r.CertificateID)
		if err != nil {
			if cert, err = tx.CertificateByNumber(ctx, r.Number); err != nil {
				return err
			}
		}
		period := s.cfg.PeriodOf(s.dateOf(at))
		key := budgetKey(cert.Municipality, period)
		b, err := tx.Counter(ctx, key)
		if err != nil {
			return err
		}
		e := Event{ID: uuid.NewSHA1(budgetEvents, []byte(fmt.Sprintf("%s:%d", key, b.Limit))), Type: BudgetLimitReached,
			At: s.clock.Now().UTC(), Actor: r.By.Actor(), Municipality: cert.Municipality, Scheme: certificate.Supplementary,
			Payload: mustJSON(map[string]any{"period": period.String(), "limit": funding.Kopecks(b.Limit).String(), "used": funding.Kopecks(b.Used).String()})}
		return tx.AppendEvent(ctx, e)
	})
}

// budgetEvents is the namespace of the budget events' ids: one id per
// budget and limit, so the store's key refuses a second announcement.
var budgetEvents = uuid.MustParse("0193f1a2-7c4e-7b8a-9d2e-5f6a7b8c9d0e")
