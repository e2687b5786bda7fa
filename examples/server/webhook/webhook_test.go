package webhook_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/examples/server/webhook"
	"github.com/edufund/edufund/storage"
	"github.com/edufund/edufund/storage/storagetest"
)

const secret = "a-receiver's-secret-of-32-chars!!"

// receiver is a system of the region: it checks each delivery's
// signature, answers 500 to the first fail attempts, and applies each
// event once by its id.
type receiver struct {
	mu       sync.Mutex
	fail     int
	attempts int
	bad      int
	applied  map[uuid.UUID]int
	order    []uuid.UUID
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.attempts++
	if err := webhook.Verify(secret, r.Header, body, time.Now(), 5*time.Minute); err != nil {
		rc.bad++
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	if rc.fail > 0 {
		rc.fail--
		http.Error(w, "down for maintenance", http.StatusInternalServerError)
		return
	}
	var e webhook.Event
	if err := json.Unmarshal(body, &e); err != nil || e.ID.String() != r.Header.Get(webhook.HeaderID) {
		rc.bad++
		http.Error(w, "bad body", http.StatusBadRequest)
		return
	}
	if rc.applied[e.ID] == 0 {
		rc.order = append(rc.order, e.ID)
	}
	rc.applied[e.ID]++
	w.WriteHeader(http.StatusNoContent)
}

// TestDelivery: events reach a subscriber signed, within its scope; a
// failing receiver gets them again after the backoff; a repeat is told
// apart by the event id; a removed subscription gets nothing more.
func TestDelivery(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		r := storagetest.NewRegion(t, db, storagetest.RegionOptions{})
		rc := &receiver{fail: 1, applied: map[uuid.UUID]int{}}
		srv := httptest.NewServer(rc)
		defer srv.Close()
		regional := enrollment.AsRegional("op")
		sub, err := r.Service.Subscribe(ctx, r.Key(), enrollment.SubscriptionRequest{URL: srv.URL, Secret: secret,
			Scope: enrollment.Recipient{Role: enrollment.RoleProvider, ID: r.Provider.ID.String()}, By: regional})
		require.NoError(t, err)
		_, err = r.Service.Subscribe(ctx, r.Key(), enrollment.SubscriptionRequest{URL: "ftp://x", Secret: secret,
			Scope: enrollment.Recipient{Role: enrollment.RoleRegional}, By: regional})
		require.Error(t, err, "a URL that is not http")
		_, err = r.Service.Subscribe(ctx, r.Key(), enrollment.SubscriptionRequest{URL: srv.URL, Secret: secret,
			Scope: enrollment.Recipient{Role: enrollment.RoleRegional}, By: enrollment.AsProvider(r.Provider.ID)})
		require.ErrorIs(t, err, enrollment.ErrForbidden, "a provider manages no subscriptions")

		kids := r.Children(2)
		var contracts []uuid.UUID
		for _, k := range kids {
			c, err := r.Service.Submit(ctx, r.Key(), enrollment.SubmitRequest{CertificateID: k.ID, GroupID: r.Group.ID, By: enrollment.AsHolder("parent-1")})
			require.NoError(t, err)
			contracts = append(contracts, c.ID)
		}
		_, err = r.Service.Publish(ctx, 100)
		require.NoError(t, err)
		s := &webhook.Sender{Service: r.Service}
		n, err := s.SendDue(ctx)
		require.NoError(t, err)
		require.Equal(t, 2, n, "the provider's two applications, not the certificates' events")
		require.Len(t, rc.applied, 1, "one of them met the receiver down")
		n, err = s.SendDue(ctx)
		require.NoError(t, err)
		require.Zero(t, n, "the failed one waits for its backoff")
		r.Clock.T = r.Clock.T.Add(enrollment.Backoff(1))
		n, err = s.SendDue(ctx)
		require.NoError(t, err)
		require.Equal(t, 1, n)
		require.Len(t, rc.applied, 2)
		require.Zero(t, rc.bad, "every signature held")
		require.Equal(t, 3, rc.attempts)

		// What the receiver applied is the feed's events of the provider,
		// each once.
		es, err := r.Service.Events(ctx, enrollment.AsProvider(r.Provider.ID), enrollment.EventFilter{Types: []enrollment.EventType{enrollment.ContractRequested}, Limit: 10})
		require.NoError(t, err)
		var want, got []uuid.UUID
		for _, e := range es {
			want = append(want, e.ID)
			require.Contains(t, contracts, e.ContractID)
		}
		for id, times := range rc.applied {
			require.Equal(t, 1, times)
			got = append(got, id)
		}
		sort.Slice(want, func(i, j int) bool { return want[i].String() < want[j].String() })
		sort.Slice(got, func(i, j int) bool { return got[i].String() < got[j].String() })
		require.Equal(t, want, got)

		// Removed: nothing more is queued for it.
		_, err = r.Service.Unsubscribe(ctx, r.Key(), sub.ID, regional)
		require.NoError(t, err)
		_, err = r.Service.Withdraw(ctx, r.Key(), enrollment.ContractRequest{ContractID: contracts[0], By: enrollment.AsHolder("parent-1")})
		require.NoError(t, err)
		_, err = r.Service.Publish(ctx, 100)
		require.NoError(t, err)
		n, err = s.SendDue(ctx)
		require.NoError(t, err)
		require.Zero(t, n)
	})
}

// TestSignature: a receiver refuses a changed body, another secret and an
// old timestamp.
func TestSignature(t *testing.T) {
	body := []byte(`{"id":"x"}`)
	at := time.Unix(1_800_000_000, 0)
	h := http.Header{}
	h.Set(webhook.HeaderID, "evt-1")
	h.Set(webhook.HeaderTimestamp, "1800000000")
	h.Set(webhook.HeaderSignature, webhook.Sign(secret, "evt-1", at, body))
	require.NoError(t, webhook.Verify(secret, h, body, at.Add(time.Minute), 5*time.Minute))
	require.ErrorIs(t, webhook.Verify(secret, h, []byte(`{"id":"y"}`), at, 5*time.Minute), webhook.ErrBadSignature)
	require.ErrorIs(t, webhook.Verify(secret+"?", h, body, at, 5*time.Minute), webhook.ErrBadSignature)
	require.ErrorIs(t, webhook.Verify(secret, h, body, at.Add(time.Hour), 5*time.Minute), webhook.ErrBadSignature)
}

// TestDeadReceiver: a receiver that never answers holds up neither the
// changes that produce events nor the deliveries to the others. The
// applications are timed with and without it, and the figures logged.
func TestDeadReceiver(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		r := storagetest.NewRegion(t, db, storagetest.RegionOptions{Capacity: 200})
		hang := make(chan struct{})
		dead := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-hang }))
		defer dead.Close()
		defer close(hang)
		live := &receiver{applied: map[uuid.UUID]int{}}
		alive := httptest.NewServer(live)
		defer alive.Close()
		regional := enrollment.AsRegional("op")
		apply := func(n int) time.Duration {
			kids := r.Children(n)
			var ds []time.Duration
			for _, k := range kids {
				start := time.Now()
				_, err := r.Service.Submit(ctx, r.Key(), enrollment.SubmitRequest{CertificateID: k.ID, GroupID: r.Group.ID, By: enrollment.AsHolder("parent-1")})
				require.NoError(t, err)
				ds = append(ds, time.Since(start))
			}
			slices.Sort(ds)
			return ds[len(ds)/2]
		}
		subscribe := func(url string) {
			_, err := r.Service.Subscribe(ctx, r.Key(), enrollment.SubscriptionRequest{URL: url, Secret: secret,
				Scope: enrollment.Recipient{Role: enrollment.RoleRegional}, Types: []enrollment.EventType{enrollment.ContractRequested}, By: regional})
			require.NoError(t, err)
		}
		subscribe(alive.URL)
		sctx, stop := context.WithCancel(ctx)
		defer stop()
		go webhook.Relay(sctx, r.Service, 20*time.Millisecond, nil)
		s := &webhook.Sender{Service: r.Service, Client: &http.Client{Timeout: 2 * time.Second}, Every: 20 * time.Millisecond}
		go s.Run(sctx)
		base := apply(30)
		subscribe(dead.URL)
		with := apply(30)
		t.Logf("%s: median application %v with a live receiver, %v with a receiver that hangs too", db.Dialect(), base, with)
		require.Eventually(t, func() bool {
			live.mu.Lock()
			defer live.mu.Unlock()
			return len(live.applied) == 60
		}, 10*time.Second, 20*time.Millisecond, "the live receiver gets every application although the other hangs")
	})
}

// TestRelayAgainOnAFullPage: the relay runs again at once while a run
// numbers a full page (a backlog of 1,100 events is published in three runs
// with an interval of an hour), and waits for its interval after a run
// that numbers less (ten more events stay unpublished meanwhile: a relay
// that ran again after any run would spin on an idle region).
func TestRelayAgainOnAFullPage(t *testing.T) {
	ctx := context.Background()
	db := storagetest.Open(t, storagetest.SQLiteMemory)
	r := storagetest.NewRegion(t, db, storagetest.RegionOptions{})
	appendEvents := func(n int) {
		require.NoError(t, db.InTx(ctx, func(ctx context.Context, tx enrollment.Tx) error {
			for range n {
				id, err := uuid.NewV7()
				if err != nil {
					return err
				}
				e := enrollment.Event{ID: id, Type: enrollment.ContractRequested, At: r.Clock.Now(), Actor: "test",
					ProviderID: r.Provider.ID, Municipality: "mo-1"}
				if err := tx.AppendEvent(ctx, e); err != nil {
					return err
				}
			}
			return nil
		}))
	}
	unpublished := func() int {
		var n int
		require.NoError(t, db.Bun().NewRaw("SELECT count(*) FROM events WHERE seq IS NULL").Scan(ctx, &n))
		return n
	}
	appendEvents(1100)
	sctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	defer func() { stop(); <-done }()
	go func() { defer close(done); webhook.Relay(sctx, r.Service, time.Hour, nil) }()
	require.Eventually(t, func() bool { return unpublished() == 0 }, 20*time.Second, 10*time.Millisecond,
		"the backlog is published without waiting for the interval")
	appendEvents(10)
	time.Sleep(300 * time.Millisecond)
	require.Equal(t, 10, unpublished(), "after a page that was not full the relay waits for its interval")
}
