package enrollment_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/funding"
	"github.com/edufund/edufund/storage"
	"github.com/edufund/edufund/storage/storagetest"
)

// arrivalGate is a store through which applicants arrive in a known order:
// applicant i (arriving(i) in its context) begins its transaction only once
// applicant i−1's transaction has taken the counter key (a Take on it
// returned, taken or full), and so waits on that counter's lock while the
// ones after it wait their turn here. On PostgreSQL at SERIALIZABLE the
// waiter fails when the holder commits and its retry has no one to race;
// on SQLite it waits for the one connection with no one else waiting. So
// the order of arrival at the counter is the applicants' index on every
// engine, while each applicant's work before the counter overlaps the
// transaction before it.
type arrivalGate struct {
	enrollment.Store
	key   string
	turns []chan struct{} // turns[i] is closed when applicant i may begin
	once  []sync.Once
}

type applicantKey struct{}

// arriving is the context of applicant i.
func arriving(i int) context.Context {
	return context.WithValue(context.Background(), applicantKey{}, i)
}

func newArrivalGate(s enrollment.Store, key string, n int) *arrivalGate {
	g := &arrivalGate{Store: s, key: key, turns: make([]chan struct{}, n+1), once: make([]sync.Once, n)}
	for i := range g.turns {
		g.turns[i] = make(chan struct{})
	}
	close(g.turns[0])
	return g
}

// pass lets applicant i+1 begin; once per applicant.
func (g *arrivalGate) pass(i int) { g.once[i].Do(func() { close(g.turns[i+1]) }) }

func (g *arrivalGate) InTx(ctx context.Context, fn func(context.Context, enrollment.Tx) error) error {
	i, ok := ctx.Value(applicantKey{}).(int)
	if !ok {
		return g.Store.InTx(ctx, fn)
	}
	<-g.turns[i]
	defer g.pass(i) // one that never reached the counter still lets the next begin
	return g.Store.InTx(ctx, func(ctx context.Context, tx enrollment.Tx) error {
		return fn(ctx, arrivingTx{Tx: tx, key: g.key, arrived: func() { g.pass(i) }})
	})
}

type arrivingTx struct {
	enrollment.Tx
	key     string
	arrived func()
}

func (t arrivingTx) Take(ctx context.Context, key string, n int64) error {
	err := t.Tx.Take(ctx, key, n)
	if key == t.key && (err == nil || errors.Is(err, enrollment.ErrCounterFull)) {
		t.arrived()
	}
	return err
}

// skewedClock is one server's clock, off the region's by a fixed amount.
type skewedClock struct {
	base *funding.FixedClock
	off  time.Duration
}

func (c skewedClock) Now() time.Time { return c.base.T.Add(c.off) }

// arrive runs apply for applicants 0..n-1, all launched at once, each on
// a server of its own through gate, applicant i's server clock i ms behind
// the region's: a later arrival's clock reads earlier, so a queue in the
// order of the clocks would be the reverse of the order of arrival.
func arrive(t *testing.T, gate *arrivalGate, base *funding.FixedClock, cfg enrollment.Config, n int,
	apply func(ctx context.Context, svc *enrollment.Service, i int) (enrollment.IssueResult, error)) []enrollment.IssueResult {
	t.Helper()
	results := make([]enrollment.IssueResult, n)
	for i, err := range collect(n, func(i int) (err error) {
		defer gate.pass(i)
		svc := enrollment.NewService(gate, skewedClock{base: base, off: -time.Duration(i) * time.Millisecond}, cfg)
		results[i], err = apply(arriving(i), svc, i)
		return err
	}) {
		require.NoError(t, err, "applicant %d", i)
	}
	return results
}

// requireArrivalOrder checks that the first k of results were funded and
// the rest queued 1..n−k in their order of arrival, and that every one
// waiting is still where it was told; it returns the queued certificates.
func requireArrivalOrder(t *testing.T, admin *enrollment.Service, results []enrollment.IssueResult, k int) []uuid.UUID {
	t.Helper()
	var queued []uuid.UUID
	for i, res := range results {
		if i < k {
			require.False(t, res.Queued, "applicant %d arrived within the %d places: funded, not queued at %d", i, k, res.Position)
			require.Equal(t, certificate.Funded, res.Certificate.Kind, "applicant %d", i)
			continue
		}
		require.True(t, res.Queued, "applicant %d arrived past the %d places: queued", i, k)
		require.Equal(t, certificate.Accounting, res.Certificate.Kind, "applicant %d", i)
		require.Equal(t, i-k+1, res.Position, "applicant %d: the position told", i)
		queued = append(queued, res.Certificate.ID)
	}
	requirePositions(t, admin, queued, func(j int) int { return j + 1 })
	return queued
}

// requirePositions checks the position of each of queued against want(j).
func requirePositions(t *testing.T, admin *enrollment.Service, queued []uuid.UUID, want func(j int) int) {
	t.Helper()
	for j, id := range queued {
		pos, err := admin.QueuePosition(context.Background(), enrollment.AsSystem("test"), id)
		require.NoError(t, err)
		require.Equal(t, want(j), pos, "queued applicant %d of %d", j, len(queued))
	}
}

// requireServed checks that a cancellation moved the queue as it must: the
// head (queued[0]) funded, a cancelled waiter out, and each of the others
// one place up: no position ever rises.
func requireServed(t *testing.T, admin *enrollment.Service, queued []uuid.UUID) {
	t.Helper()
	ctx, sys := context.Background(), enrollment.AsSystem("operator")
	cab, err := admin.Cabinet(ctx, sys, queued[0])
	require.NoError(t, err)
	require.Equal(t, certificate.Funded, cab.Certificate.Kind, "the head takes the freed place")
	requirePositions(t, admin, queued, func(j int) int { return j })

	// A waiter who leaves moves up only those behind them.
	const gone = 2
	_, err = admin.ChangeStatus(ctx, "leave-"+queued[gone].String(), queued[gone], enrollment.CancelCertificate, sys)
	require.NoError(t, err)
	requirePositions(t, admin, queued, func(j int) int {
		switch {
		case j == 0 || j == gone:
			return 0
		case j < gone:
			return j
		}
		return j - 1
	})
}

// TestAdultQuotaArrivalOrder: ten adults arrive one after another, all in
// flight together, for a quota of three, through servers whose clocks
// disagree. The first three are funded and the rest queued 1..7 in their
// order of arrival, in every run; no position told rises: a cancelled
// holder's place goes to the head and the others move up by one.
func TestAdultQuotaArrivalOrder(t *testing.T) {
	const n, k, runs = 10, 3, 3
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		r := storagetest.NewRegion(t, db, storagetest.RegionOptions{})
		cfg := r.Service.Config()
		cfg.AdultQuota = func(int) int64 { return k }
		for run := range runs {
			year := 2026 + run // a quota of its own
			base := &funding.FixedClock{T: time.Date(year, time.February, 2, 9, 0, 0, 0, time.UTC)}
			admin := enrollment.NewService(db, base, cfg)
			gate := newArrivalGate(db, "adult_quota:"+strconv.Itoa(year), n)
			results := arrive(t, gate, base, cfg, n, func(ctx context.Context, svc *enrollment.Service, i int) (enrollment.IssueResult, error) {
				return svc.ApplyAdult(ctx, fmt.Sprintf("apply-%d-%d", run, i), enrollment.AdultApplication{Holder: adultHolder(i), By: enrollment.AsSystem("test")})
			})
			queued := requireArrivalOrder(t, admin, results, k)

			_, err := admin.ChangeStatus(context.Background(), fmt.Sprintf("cancel-%d", run), results[0].Certificate.ID, enrollment.CancelCertificate, enrollment.AsSystem("operator"))
			require.NoError(t, err)
			requireServed(t, admin, queued)
		}
		storagetest.CheckInvariants(t, db)
	})
}

// TestCategoryQueueArrivalOrder is TestAdultQuotaArrivalOrder for the
// children's category queue: ten children asking for a funded place in a
// category of three.
func TestCategoryQueueArrivalOrder(t *testing.T) {
	const n, k, runs = 10, 3, 3
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		r := storagetest.NewRegion(t, db, storagetest.RegionOptions{})
		cfg := r.Service.Config()
		for run := range runs {
			code := "q" + strconv.Itoa(run) // a category of its own
			_, err := r.Service.SaveCategory(context.Background(), r.Key(), certificate.Category{Code: code, Nominal: funding.MustMoney("30000.00"), MaxCount: k}, enrollment.AsSystem("test"))
			require.NoError(t, err)
			base := &funding.FixedClock{T: r.Clock.T}
			admin := enrollment.NewService(db, base, cfg)
			gate := newArrivalGate(db, "category:"+code, n)
			results := arrive(t, gate, base, cfg, n, func(ctx context.Context, svc *enrollment.Service, i int) (enrollment.IssueResult, error) {
				return svc.Issue(ctx, fmt.Sprintf("issue-%d-%d", run, i), enrollment.IssueRequest{
					Holder: certificate.Holder{
						PersonID: fmt.Sprintf("child-%d-%s", i, uuid.NewString()[:8]), FullName: fmt.Sprintf("Иванов Пётр %d", i),
						BirthDate: funding.MustDate(2015, time.March, 10), Sex: certificate.Male, Citizenship: "RU",
						Region: "reg-1", Municipality: storagetest.Municipality, Registration: certificate.Permanent,
					},
					GuardianID: "parent-1", Category: code, Funded: true, By: enrollment.AsSystem("test"),
				})
			})
			queued := requireArrivalOrder(t, admin, results, k)

			// Asking again keeps a waiter's place.
			again, err := admin.RequestFunding(context.Background(), fmt.Sprintf("again-%d", run), queued[1], enrollment.AsSystem("test"))
			require.NoError(t, err)
			require.True(t, again.Queued)
			require.Equal(t, 2, again.Position)

			_, err = admin.ChangeStatus(context.Background(), fmt.Sprintf("cancel-%d", run), results[0].Certificate.ID, enrollment.CancelCertificate, enrollment.AsSystem("operator"))
			require.NoError(t, err)
			requireServed(t, admin, queued)
		}
		storagetest.CheckInvariants(t, db)
	})
}
