package api

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/examples/server/webhook"
)

// The outbox at the edge: the event feed for the region's systems (GET
// /v1/events, by cursor, long-polled with wait), each caller's stored
// notifications (GET /v1/notifications, POST /v1/notifications/read) and
// the webhook subscriptions the operators manage (/v1/admin/subscriptions).

// MaxEventWait is the longest a feed request waits for an event.
const MaxEventWait = 30 * time.Second

// eventPoll is how often a waiting feed request looks again.
const eventPoll = 200 * time.Millisecond

type eventPageOut struct {
	Items []webhook.Event `json:"items"`
	// Next is the after of the next request: the last item's seq, or the
	// request's own after when there was none.
	Next int64 `json:"next"`
}

// events reads the feed within the caller's reach after the cursor; with
// wait, an empty page waits up to that long for the next event.
func (h *Handler) events(w http.ResponseWriter, r *http.Request, c call) error {
	q := r.URL.Query()
	if err := onlyParams(q, "after", "limit", "type", "certificate_id", "contract_id", "provider_id", "municipality", "scheme", "from", "to", "wait"); err != nil {
		return err
	}
	var p parser
	f := enrollment.EventFilter{
		After:         p.int64("after", q.Get("after"), 0, 1<<62),
		Limit:         int(p.int64("limit", q.Get("limit"), 1, enrollment.MaxEvents)),
		CertificateID: p.uuid("certificate_id", q.Get("certificate_id"), false),
		ContractID:    p.uuid("contract_id", q.Get("contract_id"), false),
		ProviderID:    p.uuid("provider_id", q.Get("provider_id"), false),
		Municipality:  p.text("municipality", q.Get("municipality"), 40, false),
		Scheme:        certificate.Scheme(q.Get("scheme")),
		From:          p.instant("from", q.Get("from")),
		To:            p.instant("to", q.Get("to")),
	}
	if f.Limit == 0 {
		f.Limit = 100
	}
	if s := q.Get("scheme"); s != "" && s != string(certificate.Supplementary) && s != string(certificate.DigitalSkills) {
		p.fail("scheme", "must be supplementary or digital_skills")
	}
	if t := q.Get("type"); t != "" {
		for _, v := range strings.Split(t, ",") {
			if !enrollment.EventType(v).Known() {
				p.fail("type", "must list event types separated by commas, such as contract.requested")
				break
			}
			f.Types = append(f.Types, enrollment.EventType(v))
		}
	}
	wait := time.Duration(p.int64("wait", q.Get("wait"), 0, int64(MaxEventWait/time.Second))) * time.Second
	if p.err != nil {
		return p.err
	}
	ctx, cancel := context.WithTimeout(r.Context(), wait)
	defer cancel()
	for {
		es, err := h.cfg.Service.Events(r.Context(), c.p.Caller(), f)
		if err != nil {
			return err
		}
		if len(es) > 0 || wait == 0 {
			out := eventPageOut{Items: make([]webhook.Event, len(es)), Next: f.After}
			for i, e := range es {
				out.Items[i] = webhook.Wire(e)
				out.Next = e.Seq
			}
			writeJSON(w, http.StatusOK, out)
			return nil
		}
		select {
		case <-ctx.Done():
			wait = 0 // answer the empty page
		case <-time.After(eventPoll):
		}
	}
}

type notificationItemOut struct {
	ID            uuid.UUID  `json:"id"`
	Type          string     `json:"type"`
	Text          string     `json:"text"`
	CertificateID *uuid.UUID `json:"certificate_id,omitempty"`
	ContractID    *uuid.UUID `json:"contract_id,omitempty"`
	At            time.Time  `json:"at"`
	Read          bool       `json:"read"`
}

// storedNotifications lists the caller's own notifications, newest first.
func (h *Handler) storedNotifications(w http.ResponseWriter, r *http.Request, c call) error {
	q := r.URL.Query()
	if err := onlyParams(q, "unread", "after", "limit"); err != nil {
		return err
	}
	var p parser
	f := enrollment.NotificationFilter{
		Before: p.uuid("after", q.Get("after"), false),
		Limit:  int(p.int64("limit", q.Get("limit"), 1, enrollment.MaxNotifications)),
	}
	switch q.Get("unread") {
	case "", "false":
	case "true":
		f.UnreadOnly = true
	default:
		p.fail("unread", "must be true or false")
	}
	if f.Limit == 0 {
		f.Limit = 50
	}
	if p.err != nil {
		return p.err
	}
	ns, err := h.cfg.Service.Notifications(r.Context(), c.p.Caller(), f)
	if err != nil {
		return err
	}
	out := pageOut[notificationItemOut]{Items: []notificationItemOut{}}
	for _, n := range ns {
		out.Items = append(out.Items, notificationItemOut{ID: n.ID, Type: string(n.Type), Text: n.Text,
			CertificateID: optID(n.CertificateID), ContractID: optID(n.ContractID), At: n.At.UTC(), Read: !n.ReadAt.IsZero()})
	}
	if len(ns) == f.Limit {
		out.Next = ns[len(ns)-1].ID.String()
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func optID(id uuid.UUID) *uuid.UUID {
	if id == uuid.Nil {
		return nil
	}
	return &id
}

type markReadIn struct {
	IDs []string `json:"ids"`
}

// markRead marks the caller's own notifications read.
func (h *Handler) markRead(w http.ResponseWriter, r *http.Request, c call) error {
	var in markReadIn
	if err := decode(w, r, &in, false); err != nil {
		return err
	}
	var p parser
	ids := make([]uuid.UUID, 0, len(in.IDs))
	for _, s := range in.IDs {
		ids = append(ids, p.uuid("ids", s, true))
	}
	if p.err != nil {
		return p.err
	}
	n, err := h.cfg.Service.MarkRead(r.Context(), c.p.Caller(), ids)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]int{"marked": n})
	return nil
}

type subscriptionIn struct {
	URL    string   `json:"url"`
	Secret string   `json:"secret"`
	Role   string   `json:"role"`
	Tenant string   `json:"tenant"`
	Types  []string `json:"types"`
}

type subscriptionOut struct {
	ID        uuid.UUID `json:"id"`
	URL       string    `json:"url"`
	Role      string    `json:"role"`
	Tenant    string    `json:"tenant,omitempty"`
	Types     []string  `json:"types"`
	Active    bool      `json:"active"`
	CreatedAt time.Time `json:"created_at"`
	CreatedBy string    `json:"created_by"`
}

func subscriptionDTO(s enrollment.Subscription) subscriptionOut {
	out := subscriptionOut{ID: s.ID, URL: s.URL, Role: string(s.Scope.Role), Tenant: s.Scope.ID, Types: []string{},
		Active: s.Active, CreatedAt: s.CreatedAt.UTC(), CreatedBy: s.CreatedBy}
	for _, t := range s.Types {
		out.Types = append(out.Types, string(t))
	}
	return out
}

// subscribe adds a webhook receiver; its secret is not shown again.
func (h *Handler) subscribe(w http.ResponseWriter, r *http.Request, c call) error {
	var in subscriptionIn
	if err := decode(w, r, &in, false); err != nil {
		return err
	}
	var p parser
	req := enrollment.SubscriptionRequest{
		URL:    p.text("url", in.URL, 500, true),
		Secret: p.secret("secret", in.Secret, 200),
		Scope:  enrollment.Recipient{Role: Role(p.text("role", in.Role, 20, true)), ID: p.text("tenant", in.Tenant, 80, false)},
		By:     c.p.Caller(),
	}
	for _, t := range in.Types {
		req.Types = append(req.Types, enrollment.EventType(t))
	}
	if p.err != nil {
		return p.err
	}
	sub, err := h.cfg.Service.Subscribe(r.Context(), c.key, req)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, subscriptionDTO(sub))
	return nil
}

// subscriptions lists the active receivers the operator manages, without
// their secrets.
func (h *Handler) subscriptions(w http.ResponseWriter, r *http.Request, c call) error {
	if err := onlyParams(r.URL.Query()); err != nil {
		return err
	}
	subs, err := h.cfg.Service.Subscriptions(r.Context(), c.p.Caller())
	if err != nil {
		return err
	}
	out := pageOut[subscriptionOut]{Items: []subscriptionOut{}}
	for _, s := range subs {
		out.Items = append(out.Items, subscriptionDTO(s))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// unsubscribe stops a receiver's deliveries.
func (h *Handler) unsubscribe(w http.ResponseWriter, r *http.Request, c call) error {
	id, err := h.pathID(r)
	if err != nil {
		return err
	}
	sub, err := h.cfg.Service.Unsubscribe(r.Context(), c.key, id, c.p.Caller())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, subscriptionDTO(sub))
	return nil
}

// int64 reads a whole number within [lo, hi]; absent is 0.
func (p *parser) int64(field, s string, lo, hi int64) int64 {
	if s == "" {
		return 0
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < lo || n > hi {
		p.fail(field, "must be a whole number from "+strconv.FormatInt(lo, 10)+" to "+strconv.FormatInt(hi, 10))
		return 0
	}
	return n
}

// instant reads an RFC 3339 instant; absent is the zero time.
func (p *parser) instant(field, s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		p.fail(field, "must be an instant such as 2026-03-01T00:00:00+03:00")
	}
	return t
}
