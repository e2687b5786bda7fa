package schema

import (
	"database/sql"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/enrollment"
)

// Event is an events row: one entry of the outbox (migration 00025).
type Event struct {
	bun.BaseModel `bun:"table:events"`

	ID            uuid.UUID     `bun:"id,pk"`
	Seq           sql.NullInt64 `bun:"seq"`
	Type          string        `bun:"type"`
	At            Time          `bun:"at,notnull"`
	Actor         string        `bun:"actor"`
	Reason        string        `bun:"reason"`
	CertificateID NullUUID      `bun:"certificate_id"`
	ContractID    NullUUID      `bun:"contract_id"`
	ProviderID    NullUUID      `bun:"provider_id"`
	Municipality  string        `bun:"municipality"`
	Scheme        string        `bun:"scheme"`
	Payload       string        `bun:"payload"`
}

// FromEvent is e as a row; an event without a payload stores {}.
func FromEvent(e enrollment.Event) *Event {
	payload := string(e.Payload)
	if payload == "" {
		payload = "{}"
	}
	r := &Event{ID: e.ID, Type: string(e.Type), At: Time(e.At), Actor: e.Actor, Reason: e.Reason,
		CertificateID: NullUUID(e.CertificateID), ContractID: NullUUID(e.ContractID), ProviderID: NullUUID(e.ProviderID),
		Municipality: e.Municipality, Scheme: string(e.Scheme), Payload: payload}
	if e.Seq > 0 {
		r.Seq = sql.NullInt64{Int64: e.Seq, Valid: true}
	}
	return r
}

// Domain is the event the row holds.
func (r *Event) Domain() enrollment.Event {
	return enrollment.Event{ID: r.ID, Seq: r.Seq.Int64, Type: enrollment.EventType(r.Type), At: time.Time(r.At),
		Actor: r.Actor, Reason: r.Reason, CertificateID: uuid.UUID(r.CertificateID), ContractID: uuid.UUID(r.ContractID),
		ProviderID: uuid.UUID(r.ProviderID), Municipality: r.Municipality, Scheme: certificate.Scheme(r.Scheme),
		Payload: []byte(r.Payload)}
}

// Notification is a notifications row: an event worded for one recipient.
type Notification struct {
	bun.BaseModel `bun:"table:notifications"`

	ID            uuid.UUID `bun:"id,pk"`
	EventID       uuid.UUID `bun:"event_id"`
	RecipientRole string    `bun:"recipient_role"`
	RecipientID   string    `bun:"recipient_id"`
	Type          string    `bun:"type"`
	Text          string    `bun:"text"`
	CertificateID NullUUID  `bun:"certificate_id"`
	ContractID    NullUUID  `bun:"contract_id"`
	At            Time      `bun:"at,notnull"`
	ReadAt        Time      `bun:"read_at"`
}

// FromNotification is n as a row.
func FromNotification(n enrollment.Notification) *Notification {
	return &Notification{ID: n.ID, EventID: n.EventID, RecipientRole: string(n.Recipient.Role), RecipientID: n.Recipient.ID,
		Type: string(n.Type), Text: n.Text, CertificateID: NullUUID(n.CertificateID), ContractID: NullUUID(n.ContractID),
		At: Time(n.At), ReadAt: Time(n.ReadAt)}
}

// Domain is the notification the row holds.
func (r *Notification) Domain() enrollment.Notification {
	return enrollment.Notification{ID: r.ID, EventID: r.EventID,
		Recipient: enrollment.Recipient{Role: enrollment.Role(r.RecipientRole), ID: r.RecipientID},
		Type:      enrollment.EventType(r.Type), Text: r.Text, CertificateID: uuid.UUID(r.CertificateID),
		ContractID: uuid.UUID(r.ContractID), At: time.Time(r.At), ReadAt: time.Time(r.ReadAt)}
}

// Subscription is a subscriptions row: a webhook receiver.
type Subscription struct {
	bun.BaseModel `bun:"table:subscriptions"`

	ID        uuid.UUID `bun:"id,pk"`
	URL       string    `bun:"url"`
	Secret    string    `bun:"secret"`
	Role      string    `bun:"role"`
	Tenant    string    `bun:"tenant"`
	Types     Tags      `bun:"types"`
	CreatedAt Time      `bun:"created_at,notnull"`
	FromSeq   int64     `bun:"from_seq"`
	CreatedBy string    `bun:"created_by"`
	Active    bool      `bun:"active"`
}

// FromSubscription is s as a row.
func FromSubscription(s enrollment.Subscription) *Subscription {
	types := make(Tags, len(s.Types))
	for i, t := range s.Types {
		types[i] = string(t)
	}
	return &Subscription{ID: s.ID, URL: s.URL, Secret: s.Secret, Role: string(s.Scope.Role), Tenant: s.Scope.ID,
		Types: types, CreatedAt: Time(s.CreatedAt), FromSeq: s.FromSeq, CreatedBy: s.CreatedBy, Active: s.Active}
}

// Domain is the subscription the row holds.
func (r *Subscription) Domain() enrollment.Subscription {
	var types []enrollment.EventType
	for _, t := range r.Types {
		types = append(types, enrollment.EventType(t))
	}
	return enrollment.Subscription{ID: r.ID, URL: r.URL, Secret: r.Secret,
		Scope: enrollment.Recipient{Role: enrollment.Role(r.Role), ID: r.Tenant}, Types: types,
		CreatedAt: time.Time(r.CreatedAt), FromSeq: r.FromSeq, CreatedBy: r.CreatedBy, Active: r.Active}
}

// Delivery is a deliveries row: an event on its way to a subscription.
type Delivery struct {
	bun.BaseModel `bun:"table:deliveries"`

	SubscriptionID uuid.UUID `bun:"subscription_id,pk"`
	EventID        uuid.UUID `bun:"event_id,pk"`
	Seq            int64     `bun:"seq"`
	Attempts       int       `bun:"attempts"`
	NextAt         Time      `bun:"next_at"`
	DeliveredAt    Time      `bun:"delivered_at"`
	LastError      string    `bun:"last_error"`
}

// FromDelivery is d as a row.
func FromDelivery(d enrollment.Delivery) *Delivery {
	return &Delivery{SubscriptionID: d.SubscriptionID, EventID: d.EventID, Seq: d.Seq, Attempts: d.Attempts,
		NextAt: Time(d.NextAt), DeliveredAt: Time(d.DeliveredAt), LastError: d.LastError}
}

// Domain is the delivery the row holds (without its event and subscription).
func (r *Delivery) Domain() enrollment.Delivery {
	return enrollment.Delivery{SubscriptionID: r.SubscriptionID, EventID: r.EventID, Seq: r.Seq, Attempts: r.Attempts,
		NextAt: time.Time(r.NextAt), DeliveredAt: time.Time(r.DeliveredAt), LastError: r.LastError}
}

// NewEvent is an events row as appended, before the relay gives it a seq:
// the columns the batches' binary inserts write (NULL seq is the default).
type NewEvent struct {
	bun.BaseModel `bun:"table:events"`

	ID            uuid.UUID `bun:"id,pk"`
	Type          string    `bun:"type"`
	At            Time      `bun:"at,notnull"`
	Actor         string    `bun:"actor"`
	Reason        string    `bun:"reason"`
	CertificateID NullUUID  `bun:"certificate_id"`
	ContractID    NullUUID  `bun:"contract_id"`
	ProviderID    NullUUID  `bun:"provider_id"`
	Municipality  string    `bun:"municipality"`
	Scheme        string    `bun:"scheme"`
	Payload       string    `bun:"payload"`
}

// NewEvents is the columns of NewEvent.
var NewEvents = tableOf[NewEvent]()

// Appended is r as a NewEvent.
func (r *Event) Appended() NewEvent {
	return NewEvent{ID: r.ID, Type: r.Type, At: r.At, Actor: r.Actor, Reason: r.Reason, CertificateID: r.CertificateID,
		ContractID: r.ContractID, ProviderID: r.ProviderID, Municipality: r.Municipality, Scheme: r.Scheme, Payload: r.Payload}
}
