package enrollment_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/edufund/edufund/catalog"
	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/enrollment/batch"
	"github.com/edufund/edufund/funding"
	"github.com/edufund/edufund/storage"
	"github.com/edufund/edufund/storage/storagetest"
)

// collect runs fn(0..n-1) in n goroutines released at the same moment and
// returns their errors by index.
func collect(n int, fn func(i int) error) []error {
	errs := make([]error, n)
	storagetest.Concurrently(n, func(i int) { errs[i] = fn(i) })
	return errs
}

// submitTogether submits every certificate to the region's group at the
// same moment, each with its own key.
func submitTogether(r *storagetest.Region, prefix string, certs []certificate.Certificate) []error {
	return collect(len(certs), func(i int) error {
		_, err := r.Service.Submit(context.Background(), prefix+"-"+strconv.Itoa(i), enrollment.SubmitRequest{CertificateID: certs[i].ID, GroupID: r.Group.ID, By: enrollment.AsSystem("test")})
		return err
	})
}

// count splits errs into successes and refusals matching want; any other
// error fails the test.
func count(t *testing.T, errs []error, want error) (ok, refused int) {
	t.Helper()
	for i, err := range errs {
		switch {
		case err == nil:
			ok++
		case errors.Is(err, want):
			refused++
		default:
			t.Errorf("request %d: %v", i, err)
		}
	}
	return ok, refused
}

// TestSeatsRace sends 200 concurrent submissions to a 15-seat group: exactly
// 15 live contracts result, the rest are refused as group_full.
func TestSeatsRace(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		r := storagetest.NewRegion(t, db, storagetest.RegionOptions{Capacity: 15})
		const n = 200
		certs := r.Children(n)
		errs := submitTogether(r, "seat", certs)
		ok, full := count(t, errs, enrollment.ErrGroupFull)
		require.Equal(t, 15, ok)
		require.Equal(t, n-15, full)
		var live int
		require.NoError(t, db.Bun().NewRaw(`SELECT COUNT(*) FROM contracts WHERE status = 'requested'`).Scan(context.Background(), &live))
		require.Equal(t, 15, live)
		storagetest.CheckInvariants(t, db)
	})
}

// TestBudgetRace sends concurrent submissions of different prices against a
// municipal budget: it is never exceeded by a kopeck, and the refusals are
// budget_limit_reached.
func TestBudgetRace(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		limit := money("20000.00") // fits four 4021.98 reserves, not five
		r := storagetest.NewRegion(t, db, storagetest.RegionOptions{Capacity: 100, Budget: limit})
		const n = 40
		certs := r.Children(n)
		errs := submitTogether(r, "budget", certs)
		ok, refused := count(t, errs, enrollment.ErrBudgetLimit)
		require.Equal(t, 4, ok)
		require.Equal(t, n-4, refused)
		var used int64
		require.NoError(t, db.Bun().NewRaw(`SELECT used FROM counters WHERE key = ?`, "budget:"+storagetest.Municipality+":"+storagetest.Autumn.Start.String()).Scan(context.Background(), &used))
		require.Equal(t, money("4021.98").Kopecks()*4, used)
		require.LessOrEqual(t, used, limit.Kopecks())
		// The cabinet of a certificate in the municipality shows the notice
		// only when the limit is reached; here 3912.08 is left, so it shows money.
		cab, err := r.Service.Cabinet(context.Background(), enrollment.AsSystem("test"), certs[0].ID)
		require.NoError(t, err)
		require.NotNil(t, cab.Money)
		storagetest.CheckInvariants(t, db)
	})
}

// TestAdultQuotaRace: concurrent adult applicants against a quota of 5 get
// exactly 5 certificates; the rest are queued with distinct positions, and
// cancelling a holder past the documents deadline promotes the queue's head.
func TestAdultQuotaRace(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		r := storagetest.NewRegion(t, db, storagetest.RegionOptions{})
		const n = 30
		results := make([]enrollment.IssueResult, n)
		for i, err := range collect(n, func(i int) (err error) {
			results[i], err = r.Service.ApplyAdult(context.Background(), "adult-"+strconv.Itoa(i), enrollment.AdultApplication{Holder: adultHolder(i), By: enrollment.AsSystem("test")})
			return err
		}) {
			require.NoError(t, err, "applicant %d", i)
		}
		issued, positions := 0, map[int]bool{}
		var first enrollment.IssueResult
		for _, res := range results {
			if res.Queued {
				require.False(t, positions[res.Position], "position %d given twice", res.Position)
				positions[res.Position] = true
				require.Equal(t, certificate.Accounting, res.Certificate.Kind)
				continue
			}
			issued++
			first = res
			require.Equal(t, certificate.Funded, res.Certificate.Kind)
		}
		require.Equal(t, 5, issued)
		require.Len(t, positions, n-5)
		for p := 1; p <= n-5; p++ {
			require.True(t, positions[p], "queue position %d missing", p)
		}
		// Cancelling an issued holder past the deadline promotes the head.
		r.Clock.T = r.Clock.T.AddDate(0, 0, 31)
		_, err := r.Service.CancelOverdue(context.Background(), r.Key(), first.Certificate.ID, enrollment.AsSystem("operator"))
		require.NoError(t, err)
		var funded int
		require.NoError(t, db.Bun().NewRaw(`SELECT COUNT(*) FROM certificates WHERE scheme = 'digital_skills' AND kind = 'funded' AND status <> 'cancelled'`).Scan(context.Background(), &funded))
		require.Equal(t, 5, funded)
		var queued int
		require.NoError(t, db.Bun().NewRaw(`SELECT COUNT(*) FROM queue`).Scan(context.Background(), &queued))
		require.Equal(t, n-6, queued)
	})
}

func adultHolder(i int) certificate.Holder {
	return certificate.Holder{
		PersonID: fmt.Sprintf("adult-%d-%s", i, uuid.NewString()[:8]), FullName: fmt.Sprintf("Петрова Анна %d", i),
		BirthDate: funding.MustDate(1990, time.May, 5), Sex: certificate.Female, Citizenship: "RU",
		Education: certificate.EducationHigher, Region: "reg-1", Municipality: storagetest.Municipality, Registration: certificate.Permanent,
	}
}

// TestSameKeyConcurrently sends one idempotency key from many goroutines:
// one effect, one result for all.
func TestSameKeyConcurrently(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		r := storagetest.NewRegion(t, db, storagetest.RegionOptions{})
		cert := r.Child(1)
		const n = 20
		ids := make([]uuid.UUID, n)
		for i, err := range collect(n, func(i int) error {
			c, err := r.Service.Submit(context.Background(), "same-key", enrollment.SubmitRequest{CertificateID: cert.ID, GroupID: r.Group.ID, By: enrollment.AsSystem("test")})
			ids[i] = c.ID
			return err
		}) {
			require.NoError(t, err, "submission %d", i)
		}
		for _, id := range ids {
			require.Equal(t, ids[0], id)
		}
		var count int
		require.NoError(t, db.Bun().NewRaw(`SELECT COUNT(*) FROM contracts`).Scan(context.Background(), &count))
		require.Equal(t, 1, count)
		require.Equal(t, "4021.98", r.Money(cert.ID).Reserved.String())
		storagetest.CheckInvariants(t, db)
	})
}

// TestBank runs 32 workers doing random submissions, confirmations,
// acceptances, refusals, withdrawals, terminations, delivery reports,
// changes of the category's nominal and monthly closes against a small
// region for a while, then checks every
// invariant. EDUFUND_BANK_SECONDS sets how long (default 20 s; 2 s with -short).
func TestBank(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		secs := 20
		if v, err := strconv.Atoi(os.Getenv("EDUFUND_BANK_SECONDS")); err == nil {
			secs = v
		}
		if testing.Short() {
			secs = 2
		}
		r := storagetest.NewRegion(t, db, storagetest.RegionOptions{Capacity: 6, Budget: money("60000.00")})
		ctx := context.Background()
		// A quarter of the certificates hold 4+2 weekly hours instead of
		// money; a group's module takes 3 hours a week of them.
		sys := enrollment.AsSystem("test")
		_, err := r.Service.SaveCategory(ctx, r.Key(), certificate.Category{Code: "hours", HoursBase: 4, HoursExtra: 2}, sys)
		require.NoError(t, err)
		_, err = r.Service.SetParameter(ctx, r.Key(), enrollment.ParameterRequest{Name: "child_hour_cost", From: r.Service.Today(), Value: "120.00", Reason: "bank", By: sys})
		require.NoError(t, err)
		// The region lets the cost, not the normative, set what a
		// certificate pays: the weekly module, priced above its normative,
		// takes no co-payment.
		_, err = r.Service.SetParameter(ctx, r.Key(), enrollment.ParameterRequest{Name: "normative_cap", From: r.Service.Today(), Value: "false", Reason: "bank", By: sys})
		require.NoError(t, err)
		weekly, err := r.Service.SaveModule(ctx, r.Key(), catalog.Module{ProgramID: r.Program.ID, Name: "Weekly", Price: money("9500.00"),
			NormativePrice: money("9000.00"), Hours: 72, WeeklyHours: 3}, sys)
		require.NoError(t, err)
		groups := []uuid.UUID{r.Group.ID, r.NewGroup(4).ID, r.NewGroup(8).ID, r.AddGroup(weekly, 8).ID}
		certs := make([]uuid.UUID, 24)
		var inHours []uuid.UUID
		for i := range certs {
			if i >= 18 {
				certs[i] = r.ChildIn(i, "hours").ID
				inHours = append(inHours, certs[i])
				continue
			}
			certs[i] = r.Child(i).ID
		}
		// A third of the certificates start the run with contracts active
		// since September, so that the October closes have months to charge.
		for i, cert := range certs[:8] {
			c, err := r.Service.Submit(ctx, r.Key(), enrollment.SubmitRequest{CertificateID: cert, GroupID: groups[i%len(groups)], By: enrollment.AsSystem("test")})
			require.NoError(t, err)
			_, err = r.Service.Confirm(ctx, r.Key(), enrollment.ContractRequest{ContractID: c.ID, By: enrollment.AsSystem("test")})
			require.NoError(t, err)
			_, err = r.Service.Accept(ctx, r.Key(), enrollment.ContractRequest{ContractID: c.ID, By: enrollment.AsSystem("test")})
			require.NoError(t, err)
		}
		r.At(2025, time.October, 15)
		batcher := batch.NewBatcher(r.Service, batch.BatcherOptions{})
		defer batcher.Close()
		// The default: two batches at once over optimistic batches, one
		// where a single writer would only queue them.
		flushers := 1
		if db.OptimisticBatches() {
			flushers = 2
		}
		require.Equal(t, flushers, batcher.Options().Flushers)
		deadline := time.Now().Add(time.Duration(secs) * time.Second)
		var ops, okOps, contended, charged atomic.Int64
		unexpected := make(chan error, 64)
		var wg sync.WaitGroup
		for w := range 32 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rng := rand.New(rand.NewPCG(uint64(w), 42))
				for time.Now().Before(deadline) {
					err := bankStep(ctx, r, db, batcher, rng, certs, groups, fmt.Sprintf("w%d-%d", w, ops.Add(1)), &charged)
					switch {
					case err == nil:
						okOps.Add(1)
					case storagetest.IsRefusal(err):
					case errors.Is(err, enrollment.ErrContention):
						// At serializable a transaction can lose every
						// retry to its neighbours on a 24-certificate
						// region; the caller gets a clean "try again"
						// (503 at the edge) and nothing was written.
						contended.Add(1)
					default:
						select {
						case unexpected <- err:
						default:
						}
					}
				}
			}()
		}
		wg.Wait()
		close(unexpected)
		for err := range unexpected {
			t.Errorf("unexpected error: %v", err)
		}
		t.Logf("%s: %d operations in %ds, %d succeeded, %d gave up on contention, %d months charged by closes", db.Dialect(), ops.Load(), secs, okOps.Load(), contended.Load(), charged.Load())
		require.Greater(t, okOps.Load(), int64(50))
		require.LessOrEqual(t, contended.Load()*100, ops.Load(), "more than 1%% of the operations gave up on contention")
		require.Positive(t, charged.Load(), "the closes charged something")
		storagetest.CheckInvariants(t, db)
		checkEvents(t, r, certs)
		// An hours account holds exactly what its live contracts hold.
		var heldHours int
		for _, id := range inHours {
			cs, err := r.Contracts(id)
			require.NoError(t, err)
			var want funding.HoursHold
			for _, c := range cs {
				if c.Status.Live() && c.Period == storagetest.Autumn {
					want.Base += c.Hours.Base
					want.Extra += c.Hours.Extra
				}
			}
			require.NoError(t, db.InTx(ctx, func(ctx context.Context, tx enrollment.Tx) error {
				a, err := tx.HoursAccount(ctx, id, storagetest.Autumn)
				require.NoError(t, err)
				require.Equal(t, want, funding.HoursHold{Base: a.UsedBase, Extra: a.UsedExtra}, "certificate %s", id)
				return nil
			}))
			heldHours += want.Hours()
		}
		t.Logf("%d weekly hours held by live contracts of certificates in hours", heldHours)
	})
}

func bankStep(ctx context.Context, r *storagetest.Region, db *storage.DB, batcher *batch.Batcher, rng *rand.Rand, certs, groups []uuid.UUID, key string, charged *atomic.Int64) error {
	cert := certs[rng.IntN(len(certs))]
	pick := func() (enrollment.Contract, bool) {
		cab, err := r.Service.Cabinet(ctx, enrollment.AsSystem("test"), cert)
		if err != nil || len(cab.Contracts) == 0 {
			return enrollment.Contract{}, false
		}
		return cab.Contracts[rng.IntN(len(cab.Contracts))], true
	}
	switch op := rng.IntN(100); {
	case op < 35:
		req := enrollment.SubmitRequest{CertificateID: cert, GroupID: groups[rng.IntN(len(groups))], By: enrollment.AsSystem("test")}
		if rng.IntN(2) == 0 {
			_, err := batcher.Submit(ctx, key, req)
			return err
		}
		_, err := r.Service.Submit(ctx, key, req)
		return err
	case op < 97:
		c, ok := pick()
		if !ok {
			return nil
		}
		req := enrollment.ContractRequest{ContractID: c.ID, By: enrollment.AsSystem("bank")}
		var err error
		switch rng.IntN(7) {
		case 0, 1:
			_, err = r.Service.Confirm(ctx, key, req)
		case 2, 3:
			_, err = r.Service.Accept(ctx, key, req)
		case 4:
			_, err = r.Service.Refuse(ctx, key, req)
		case 5:
			_, err = r.Service.Withdraw(ctx, key, req)
		case 6:
			if rng.IntN(2) == 0 {
				_, err = r.Service.Terminate(ctx, key, req)
			} else {
				_, err = r.Service.ReportDelivery(ctx, key, enrollment.DeliveryReport{ContractRequest: req, Month: funding.Month{Year: 2025, Month: time.September}, Percent: 10 * rng.IntN(11)})
			}
		}
		return err
	case op < 99 && rng.IntN(4) == 0:
		// The category's nominal moves mid-period, up or down; a cut a
		// balance does not cover is refused as a whole.
		nominal := []string{"29000.00", "30000.00", "31000.00"}[rng.IntN(3)]
		_, err := r.Service.SaveCategory(ctx, key, certificate.Category{Code: "city", Nominal: funding.MustMoney(nominal)}, enrollment.AsRegional("bank"))
		return err
	case op < 99:
		oct := funding.Month{Year: 2025, Month: time.October}
		var rep enrollment.CloseReport
		var err error
		if rng.IntN(2) == 0 {
			rep, err = r.Service.CloseMonth(ctx, oct, nil)
		} else {
			rep, err = batch.CloseMonth(ctx, r.Service, oct, batch.CloseOptions{PageSize: 4, Workers: 2})
		}
		if err != nil {
			return err
		}
		charged.Add(int64(rep.Charged))
		for _, e := range rep.Failed {
			if !storagetest.IsRefusal(e) {
				return e
			}
		}
		return nil
	default:
		rep, err := r.Service.Rollover(ctx, storagetest.Autumn, nil)
		if err != nil {
			return err
		}
		for _, e := range rep.Failed {
			if !storagetest.IsRefusal(e) {
				return e
			}
		}
		return nil
	}
}

// eventStatus is the status each contract event moves its contract to.
var eventStatus = map[enrollment.EventType]enrollment.Status{
	enrollment.ContractRequested: enrollment.Requested, enrollment.ContractOffered: enrollment.Accepted,
	enrollment.ContractProlongationOffered: enrollment.Accepted, enrollment.ContractActivated: enrollment.Active,
	enrollment.ContractAcceptedBySilence: enrollment.Active, enrollment.ContractRefused: enrollment.Refused,
	enrollment.ContractWithdrawn: enrollment.Withdrawn, enrollment.ContractTerminating: enrollment.Terminating,
	enrollment.ContractClosed: enrollment.Closed,
}

// checkEvents holds the outbox against the contracts: each contract's
// events, replayed from nothing through the state machine, are exactly its
// status changes and end in its status; the feed numbers every event once.
func checkEvents(t *testing.T, r *storagetest.Region, certs []uuid.UUID) {
	t.Helper()
	all := published(t, r, enrollment.EventFilter{})
	byContract := map[uuid.UUID][]enrollment.Event{}
	for i, e := range all {
		require.Equal(t, int64(i+1), e.Seq, "the feed numbers every event once, with no gap")
		if e.ContractID != uuid.Nil {
			byContract[e.ContractID] = append(byContract[e.ContractID], e)
		}
	}
	n := 0
	for _, cert := range certs {
		cs, err := r.Contracts(cert)
		require.NoError(t, err)
		for _, c := range cs {
			es := byContract[c.ID]
			require.NotEmpty(t, es, "contract %s has no event", c.ID)
			var at enrollment.Status
			for i, e := range es {
				to, ok := eventStatus[e.Type]
				require.True(t, ok, "contract %s: %s is not a contract event", c.ID, e.Type)
				if i == 0 {
					require.Equal(t, enrollment.Requested, to, "contract %s starts with its application", c.ID)
				} else {
					require.NoError(t, enrollment.Transition(at, to), "contract %s: event %d", c.ID, i)
				}
				at = to
			}
			require.Equal(t, c.Status, at, "contract %s: its events end in its status", c.ID)
			n += len(es)
			delete(byContract, c.ID)
		}
	}
	require.Empty(t, byContract, "events of contracts that do not exist")
	t.Logf("%d events in the feed, %d of them status changes of contracts", len(all), n)
}
