// Package webhook delivers the region's events to its other systems: the
// event's wire form (the same JSON the feed GET /v1/events answers with),
// its signature, and a Sender that sends the deliveries the relay queued.
//
// Delivery is at least once: a receiver may get an event twice (a lost
// acknowledgement, a restart) and keeps the webhook-id it has seen. The
// signature follows the Standard Webhooks scheme (standardwebhooks.com):
// HMAC-SHA256 over "{webhook-id}.{webhook-timestamp}.{body}" with the
// subscription's secret (its bytes as given, not base64), sent as
// "webhook-signature: v1,{base64}". A receiver refuses a timestamp more
// than a few minutes off its clock, so a captured request cannot be played
// again later.
//
// Nothing here runs in the transaction that produced an event: a slow or
// dead receiver delays only its own deliveries, which are retried with
// enrollment.Backoff and given up after enrollment.MaxDeliveryAttempts.
package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/edufund/edufund/enrollment"
)

// Event is an event on the wire.
type Event struct {
	ID            uuid.UUID       `json:"id"`
	Seq           int64           `json:"seq"`
	Type          string          `json:"type"`
	At            time.Time       `json:"at"`
	Actor         string          `json:"actor"`
	Reason        string          `json:"reason,omitempty"`
	CertificateID *uuid.UUID      `json:"certificate_id,omitempty"`
	ContractID    *uuid.UUID      `json:"contract_id,omitempty"`
	ProviderID    *uuid.UUID      `json:"provider_id,omitempty"`
	Municipality  string          `json:"municipality,omitempty"`
	Scheme        string          `json:"scheme,omitempty"`
	Payload       json.RawMessage `json:"payload"`
}

// Wire is e on the wire.
func Wire(e enrollment.Event) Event {
	id := func(u uuid.UUID) *uuid.UUID {
		if u == uuid.Nil {
			return nil
		}
		return &u
	}
	payload := e.Payload
	if len(payload) == 0 {
		payload = json.RawMessage("{}")
	}
	return Event{ID: e.ID, Seq: e.Seq, Type: string(e.Type), At: e.At.UTC(), Actor: e.Actor, Reason: e.Reason,
		CertificateID: id(e.CertificateID), ContractID: id(e.ContractID), ProviderID: id(e.ProviderID),
		Municipality: e.Municipality, Scheme: string(e.Scheme), Payload: payload}
}

// The headers of a delivery.
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
)

// Sign is the signature header's value for a delivery of body with id at ts.
func Sign(secret, id string, ts time.Time, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(mac, "%s.%d.", id, ts.Unix())
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// ErrBadSignature is a delivery whose signature or timestamp does not hold.
var ErrBadSignature = errors.New("webhook: bad signature")

// Verify checks a received delivery as a receiver must: one of the
// signatures is the secret's, and the timestamp is within tolerance of now.
func Verify(secret string, h http.Header, body []byte, now time.Time, tolerance time.Duration) error {
	id, tsText := h.Get(HeaderID), h.Get(HeaderTimestamp)
	ts, err := strconv.ParseInt(tsText, 10, 64)
	if id == "" || err != nil {
		return fmt.Errorf("%w: missing id or timestamp", ErrBadSignature)
	}
	at := time.Unix(ts, 0)
	if d := now.Sub(at); d > tolerance || d < -tolerance {
		return fmt.Errorf("%w: timestamp %s is off by %s", ErrBadSignature, at.UTC().Format(time.RFC3339), d)
	}
	want := Sign(secret, id, at, body)
	for _, sig := range strings.Fields(h.Get(HeaderSignature)) {
		if hmac.Equal([]byte(sig), []byte(want)) {
			return nil
		}
	}
	return fmt.Errorf("%w: no signature matches", ErrBadSignature)
}

// Sender sends the due deliveries of a service: Run claims them, posts
// each with its signature and records the outcome.
type Sender struct {
	Service *enrollment.Service
	Client  *http.Client // a 10 s timeout when nil
	Logger  *slog.Logger
	// Workers is how many deliveries are in flight at once (8 when zero).
	Workers int
	// PerSubscription is how many of one subscription's deliveries are in
	// flight at once (2 when zero): a receiver that hangs holds that many
	// workers at most, and the others' deliveries go on.
	PerSubscription int
	// Every is how often due deliveries are looked for (500 ms when zero).
	Every time.Duration
	// Now is the clock of the signatures' timestamps (time.Now when nil).
	Now func() time.Time

	mu     sync.Mutex
	flying map[uuid.UUID]int // in-flight deliveries by subscription
	total  int
}

func (s *Sender) limits() (workers, per int, every time.Duration) {
	workers, per, every = s.Workers, s.PerSubscription, s.Every
	if workers <= 0 {
		workers = 8
	}
	if per <= 0 {
		per = 2
	}
	if every <= 0 {
		every = 500 * time.Millisecond
	}
	return workers, per, every
}

// Run sends deliveries until ctx ends, claiming more as workers free up.
func (s *Sender) Run(ctx context.Context) {
	_, _, every := s.limits()
	t := time.NewTicker(every)
	defer t.Stop()
	done := make(chan struct{}, 1)
	for {
		n, err := s.dispatch(ctx, func() {
			select {
			case done <- struct{}{}:
			default:
			}
		})
		if err != nil && ctx.Err() == nil && s.Logger != nil {
			s.Logger.Warn("webhook deliveries", "err", err)
		}
		if n > 0 {
			continue
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-done:
		}
	}
}

// SendDue claims what the free workers can take, sends it and waits for
// the outcomes; it returns how many deliveries it tried.
func (s *Sender) SendDue(ctx context.Context) (int, error) {
	var wg sync.WaitGroup
	n, err := s.dispatchWith(ctx, &wg, nil)
	wg.Wait()
	return n, err
}

func (s *Sender) dispatch(ctx context.Context, finished func()) (int, error) {
	return s.dispatchWith(ctx, nil, finished)
}

// dispatchWith claims due deliveries for the free workers, leaving out
// the subscriptions at their cap, and sends each on a goroutine of its own.
func (s *Sender) dispatchWith(ctx context.Context, wg *sync.WaitGroup, finished func()) (int, error) {
	workers, per, _ := s.limits()
	s.mu.Lock()
	if s.flying == nil {
		s.flying = map[uuid.UUID]int{}
	}
	free := workers - s.total
	var busy []uuid.UUID
	for id, n := range s.flying {
		if n >= per {
			busy = append(busy, id)
		}
	}
	s.mu.Unlock()
	if free <= 0 {
		return 0, nil
	}
	ds, err := s.Service.ClaimDeliveries(ctx, free, busy...)
	if err != nil || len(ds) == 0 {
		return 0, err
	}
	s.mu.Lock()
	for _, d := range ds {
		s.flying[d.SubscriptionID]++
		s.total++
	}
	s.mu.Unlock()
	for _, d := range ds {
		if wg != nil {
			wg.Add(1)
		}
		go func() {
			if wg != nil {
				defer wg.Done()
			}
			failure := s.send(ctx, d)
			if failure != nil && s.Logger != nil {
				s.Logger.Info("webhook delivery failed", "subscription", d.SubscriptionID, "event", d.EventID, "attempt", d.Attempts+1, "err", failure)
			}
			if err := s.Service.Delivered(context.WithoutCancel(ctx), d, failure); err != nil && s.Logger != nil {
				s.Logger.Warn("webhook delivery outcome", "subscription", d.SubscriptionID, "event", d.EventID, "err", err)
			}
			s.mu.Lock()
			if s.flying[d.SubscriptionID]--; s.flying[d.SubscriptionID] == 0 {
				delete(s.flying, d.SubscriptionID)
			}
			s.total--
			s.mu.Unlock()
			if finished != nil {
				finished()
			}
		}()
	}
	return len(ds), nil
}

// send posts one delivery; any answer but 2xx is a failure.
func (s *Sender) send(ctx context.Context, d enrollment.Delivery) error {
	body, err := json.Marshal(Wire(d.Event))
	if err != nil {
		return err
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	ts := now()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.Subscription.URL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	id := d.EventID.String()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "edufund-webhook/1")
	req.Header.Set(HeaderID, id)
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(ts.Unix(), 10))
	req.Header.Set(HeaderSignature, Sign(d.Subscription.Secret, id, ts, body))
	client := s.Client
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("receiver answered %s", resp.Status)
	}
	return nil
}

// Relay runs the service's relay every interval until ctx ends, at once
// again while it finds full pages (a backlog). Under steady load a run
// numbers what came in over the interval: a run's fixed cost (a dozen
// statements) is paid a few times a second, not once for every handful of
// events, which made the relay a fifth of the server's CPU.
func Relay(ctx context.Context, svc *enrollment.Service, every time.Duration, logger *slog.Logger) {
	const page = 500
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		rep, err := svc.Publish(ctx, page)
		if err != nil && ctx.Err() == nil && logger != nil {
			logger.Warn("event relay", "err", err)
		}
		if err == nil && rep.Events == page {
			continue
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
