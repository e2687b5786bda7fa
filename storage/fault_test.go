package storage_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"math/rand/v2"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/funding"
	"github.com/edufund/edufund/storage"
	"github.com/edufund/edufund/storage/storagetest"
)

// EnvFaults switches TestFaults on. The test terminates every backend of
// the test database and stops and restarts the PostgreSQL server, so it
// must not run beside other packages' tests on the same server: CI runs it
// as a step of its own,
//
//	EDUFUND_TEST_FAULTS=1 go test ./storage -run TestFaults -count=1 -v
const envFaults = "EDUFUND_TEST_FAULTS"

const faultWorkers = 24

// TestFaults runs a bank-like workload (submissions, confirmations,
// acceptances, refusals, withdrawals, terminations, delivery reports and
// monthly closes against a small region) while it terminates the database's
// backends four times, stops and restarts PostgreSQL once, and terminates
// them twice more. Then it retries every request that got an error (other
// than a rule's refusal) with its own key until it settles, and checks that
//
//   - every invariant holds (checkInvariants);
//   - no acknowledged request is lost: its key holds the very result it
//     returned, and its contract is in that status or a later one;
//   - none is applied twice: one contract per submission key, one
//     confirmation, acceptance and ending per contract, one reserve and at
//     most one release per hold, one charge per contract and month, one
//     refund per reported month, invoices equal to their lines;
//   - a request that got an error either happened entirely (its key holds a
//     result, which its retry returns) or not at all (no key, nothing
//     claimed without a result), and a refusal leaves no key behind;
//   - no call hangs past its bound, and the same *storage.DB recovers
//     without a restart: requests succeed soon after every fault, and a
//     final round of operations succeeds.
//
// It runs once per PostgreSQL kind: the default store and the portable
// profile (storage.WithPortable), whose plain statements and serializable
// transactions must survive the same faults.
func TestFaults(t *testing.T) {
	switch os.Getenv(envFaults) {
	case "":
		t.Skipf("%s=1 runs the fault test: it terminates backends and restarts PostgreSQL, so it runs alone", envFaults)
	case "1":
	default:
		t.Fatalf("%s=%q: want 1 or unset", envFaults, os.Getenv(envFaults))
	}
	dsn := os.Getenv(storagetest.EnvPostgres)
	if dsn == "" {
		t.Fatalf("%s=1 needs %s: the fault test runs on PostgreSQL only", envFaults, storagetest.EnvPostgres)
	}
	for _, kind := range []string{storagetest.Postgres, storagetest.PostgresPortable} {
		t.Run(kind, func(t *testing.T) { faults(t, kind, dsn) })
	}
}

// faults is TestFaults on a store of kind.
func faults(t *testing.T, kind, dsn string) {
	began := time.Now()
	pg := newPGServer(t, dsn)
	var txRetries atomic.Int64
	db := storagetest.Open(t, kind, storage.WithLogger(slog.New(retryCounter{&txRetries})))
	r := newRegion(t, db, regionOpts{capacity: 12, budget: m("10000000.00")})
	groups := []uuid.UUID{r.group.ID, r.newGroup(12).ID, r.newGroup(12).ID}
	certs := make([]uuid.UUID, 32)
	for i := range certs {
		certs[i] = r.child(i).ID
	}
	// Twelve contracts active since 1 September give October's close
	// something to charge and September something to report delivery of;
	// the workload then runs on 15 October.
	ctx := context.Background()
	for i := range 12 {
		c, err := r.svc.Submit(ctx, r.key(), enrollment.SubmitRequest{CertificateID: certs[i], GroupID: groups[i%len(groups)], By: enrollment.AsSystem("setup")})
		require.NoError(t, err)
		req := enrollment.ContractRequest{ContractID: c.ID, By: enrollment.AsSystem("setup")}
		_, err = r.svc.Confirm(ctx, r.key(), req)
		require.NoError(t, err)
		_, err = r.svc.Accept(ctx, r.key(), req)
		require.NoError(t, err)
	}
	r.at(2025, time.October, 15)

	// A second store on the same schema that never retries a transaction:
	// its workers see every fault, so that many requests fail mid-way
	// (some after their commit) and must be settled by their retries.
	var schema string
	require.NoError(t, db.Bun().NewRaw(`SELECT current_schema()`).Scan(ctx, &schema))
	u, err := url.Parse(dsn)
	require.NoError(t, err)
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	raw, err := storage.Open(ctx, u.String(), append(storagetest.Options(kind), storage.WithMaxRetries(0))...)
	require.NoError(t, err)
	t.Cleanup(func() { _ = raw.Close() })
	rawSvc := enrollment.NewService(raw, r.clock, r.svc.Config())
	t.Logf("fault test on %s, %d workers (%d on a store that does not retry)", pg, faultWorkers, faultWorkers/4)

	// A checkpoint now, so that the restart below does not wait for one
	// begun before this test: after the rest of the suite (a schema per
	// test, some 20,000 files to fsync) a fast shutdown once waited 38 s
	// for the running checkpoint's sync phase, past every call's deadline.
	_, err = db.Bun().ExecContext(ctx, "CHECKPOINT")
	require.NoError(t, err)

	flog := newFaultLog()
	var stop atomic.Bool
	var wg sync.WaitGroup
	for w := range faultWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			fw := &faultWorker{r: r, svc: r.svc, log: flog, rng: rand.New(rand.NewPCG(uint64(w), 7)), id: w, certs: certs, groups: groups}
			if w%4 == 3 {
				fw.svc, fw.noRetry = rawSvc, true
			}
			for !stop.Load() {
				if !fw.step() {
					time.Sleep(20 * time.Millisecond)
				}
			}
		}()
	}
	stopWorkers := sync.OnceFunc(func() { stop.Store(true); wg.Wait() })
	// Registered after the store's cleanups, so it runs before them.
	t.Cleanup(stopWorkers)

	// recovered waits for a request started after since to succeed.
	recovered := func(what string, since time.Time) time.Duration {
		t.Helper()
		for flog.lastOKStart.Load() <= since.UnixNano() {
			if time.Since(since) > 30*time.Second {
				t.Fatalf("no request succeeded within 30s after %s: the store did not recover", what)
			}
			time.Sleep(5 * time.Millisecond)
		}
		return time.Since(since)
	}
	terminations, ended := 0, 0
	terminate := func() {
		t.Helper()
		n, err := pg.terminate()
		require.NoError(t, err)
		at := time.Now()
		terminations++
		ended += n
		t.Logf("terminate %d: %d backends ended; first success %s after", terminations, n, recovered("pg_terminate_backend", at).Round(time.Millisecond))
	}

	time.Sleep(2 * time.Second)
	for range 4 {
		terminate()
		time.Sleep(1200 * time.Millisecond)
	}

	stopAt := time.Now()
	require.NoError(t, pg.stop(), "stop PostgreSQL")
	stopTook := time.Since(stopAt)
	time.Sleep(2 * time.Second) // down: every request meets a database out of reach
	startAt := time.Now()
	if err := pg.start(); err != nil {
		t.Fatalf("PostgreSQL did not start again: %v", err)
	}
	if _, err := pg.waitReady(30 * time.Second); err != nil {
		t.Fatalf("PostgreSQL did not come back: %v", err)
	}
	readyAt := time.Now()
	recovery := recovered("the restart", readyAt)
	t.Logf("stop took %s, down %s, start+ready %s; first success %s after ready (%s after the stop began)",
		stopTook.Round(time.Millisecond), startAt.Sub(stopAt).Round(time.Millisecond), readyAt.Sub(startAt).Round(time.Millisecond),
		recovery.Round(time.Millisecond), time.Since(stopAt).Round(time.Millisecond))

	time.Sleep(1 * time.Second)
	for range 2 {
		terminate()
		time.Sleep(1200 * time.Millisecond)
	}
	stopWorkers()
	workloadTook := time.Since(began)

	// The workers are done: the log is read without its lock from here on.
	ops := flog.ops
	acked, refused := 0, 0
	var errored []*faultOp
	for _, o := range ops {
		switch {
		case o.acked:
			acked++
		case o.refused:
			refused++
		default:
			errored = append(errored, o)
		}
	}
	t.Logf("workload: %d keyed requests (%s), %d monthly closes (%d contracts or closes failed), %d failed cabinet reads; %d transaction retries in the store; slowest request %s, slowest close %s",
		len(ops), counts(flog.classes), flog.closes, flog.closeErrs, flog.readErrs, txRetries.Load(),
		flog.slowest.Round(time.Millisecond), flog.slowestClose.Round(time.Millisecond))
	t.Logf("refusals: %s", counts(flog.refusals))
	t.Logf("monthly close failures: %s", counts(flog.closeClasses))
	if n := flog.closeClasses["close:other"]; n > 0 {
		// The close's page reads retry like transactions: a lost
		// connection is retried or reported as ErrUnavailable, never untyped.
		t.Errorf("%d monthly closes on the retrying store failed with an untyped error, e.g. %s", n, flog.samples["close:other"])
	}
	for class, s := range flog.samples {
		t.Logf("  e.g. %s: %s", class, s)
	}
	// No request or close hangs past its context's deadline: the store's
	// retries are bounded and every call carries a deadline. (How close to
	// the deadline a request gets while the server restarts depends on the
	// machine's load, so only the deadline itself is asserted.)
	if flog.slowest > callBound+2*time.Second {
		t.Errorf("a request took %s: past its deadline of %s", flog.slowest, callBound)
	}
	if flog.slowestClose > callBound+2*time.Second {
		t.Errorf("a monthly close took %s: past its deadline of %s", flog.slowestClose, callBound)
	}
	for class, n := range flog.classes {
		if strings.HasSuffix(class, "timeout") || strings.HasSuffix(class, "other") || strings.HasSuffix(class, "misclassified") {
			t.Errorf("%d requests failed with %s errors (want ErrUnavailable, or ErrContention for conflicts), e.g. %s", n, class, flog.samples[class])
		}
	}
	require.Greater(t, acked, 100, "too few requests acknowledged")
	require.NotEmpty(t, errored, "the faults failed no request: the test tested nothing")

	// Settle: every errored request again with its own key and request.
	before := idempotencyRows(t, db)
	happened, appliedNow, refusedNow, calls := 0, 0, 0, 0
	for _, o := range errored {
		row, ok := before[o.key]
		o.existed = ok
		if ok {
			happened++
		}
		for attempt := 1; ; attempt++ {
			cctx, cancel := context.WithTimeout(ctx, callBound)
			res, err := o.call(cctx)
			cancel()
			o.retries++
			calls++
			if err == nil {
				o.acked, o.result = true, res
				break
			}
			if isRefusal(err) {
				o.refused = true
				break
			}
			if attempt >= 20 {
				t.Errorf("%s %s: not settled after %d retries: %v", o.op, o.key, attempt, err)
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		switch {
		case o.existed:
			if !o.acked {
				t.Errorf("%s %s: the first call failed (%v) but happened; its retry did not return the stored result", o.op, o.key, o.first)
				continue
			}
			require.Equal(t, row.contract.ID, o.result.ID, "%s %s: retry of a request that happened returned another contract", o.op, o.key)
			require.Equal(t, row.contract.Status, o.result.Status, "%s %s: retry of a request that happened returned another status", o.op, o.key)
		case o.acked:
			appliedNow++
		case o.refused:
			refusedNow++
		}
	}
	t.Logf("settled %d errored requests with %d calls: %d had happened (the retry returned the stored result), %d happened at the retry, %d were refused at the retry",
		len(errored), calls, happened, appliedNow, refusedNow)

	// The monthly close is not keyed: rerun until it has nothing left.
	oct := funding.Month{Year: 2025, Month: time.October}
	for i := 1; ; i++ {
		rep, err := r.svc.CloseMonth(ctx, oct, nil)
		failed := 0
		for _, e := range rep.Failed {
			if !isRefusal(e) {
				failed++
			}
		}
		if err == nil && failed == 0 {
			break
		}
		if i >= 5 {
			t.Fatalf("the monthly close still fails after %d reruns: %v, %d contracts failed", i, err, failed)
		}
	}

	checkFaultOutcome(t, db, ops)
	checkInvariants(t, db)

	// The same *storage.DB still works: a final round of operations.
	finalAt := time.Now()
	_, err = r.svc.SetBudget(ctx, r.key(), enrollment.BudgetRequest{Municipality: mun, Period: autumn, Limit: m("1000000.00"), By: enrollment.AsSystem("test")})
	require.NoError(t, err)
	cert := r.child(1000)
	g := r.newGroup(2)
	c, err := r.svc.Submit(ctx, r.key(), enrollment.SubmitRequest{CertificateID: cert.ID, GroupID: g.ID, By: enrollment.AsSystem("final")})
	require.NoError(t, err)
	req := enrollment.ContractRequest{ContractID: c.ID, By: enrollment.AsSystem("final")}
	c, err = r.svc.Confirm(ctx, r.key(), req)
	require.NoError(t, err)
	require.Equal(t, enrollment.Accepted, c.Status)
	c, err = r.svc.Accept(ctx, r.key(), req)
	require.NoError(t, err)
	require.Equal(t, enrollment.Active, c.Status)
	rep, err := r.svc.CloseMonth(ctx, oct, nil)
	require.NoError(t, err)
	require.Empty(t, rep.Failed)
	c, err = rawSvc.Terminate(ctx, r.key(), req) // the store without retries works again too
	require.NoError(t, err)
	require.Equal(t, enrollment.Terminating, c.Status)
	checkFaultOutcome(t, db, ops)
	checkInvariants(t, db)
	t.Logf("final round on the same store: ok in %s; workload %s, whole test %s",
		time.Since(finalAt).Round(time.Millisecond), workloadTook.Round(time.Millisecond), time.Since(began).Round(time.Millisecond))
	t.Logf("totals: %d keyed requests, %d acknowledged at once, %d refused at once, %d errored and retried (%d retry calls), %d terminations ending %d backends, 1 restart; recovery after the restart %s",
		len(ops), acked, refused, len(errored), calls, terminations, ended, recovery.Round(time.Millisecond))
}

type idemRecord struct {
	Key       string `bun:"key"`
	Operation string `bun:"operation"`
	Result    []byte `bun:"result"`
	contract  enrollment.Contract
}

// idempotencyRows is the stored record of every contract.* key, its result
// decoded; a key claimed without a result is a failure.
func idempotencyRows(t *testing.T, db *storage.DB) map[string]idemRecord {
	t.Helper()
	var rows []idemRecord
	require.NoError(t, db.Bun().NewRaw(`SELECT key, operation, result FROM idempotency WHERE operation LIKE 'contract.%'`).Scan(context.Background(), &rows))
	out := make(map[string]idemRecord, len(rows))
	for _, row := range rows {
		if row.Result == nil {
			t.Errorf("key %s (%s) is claimed without a result: half a request was committed", row.Key, row.Operation)
			continue
		}
		require.NoError(t, json.Unmarshal(row.Result, &row.contract), "key %s", row.Key)
		// The store keeps a key scoped to its caller and operation
		// (enrollment.StoredKey): the caller's key follows the scope.
		_, key, ok := strings.Cut(row.Key, ":")
		require.True(t, ok, "key %s has no caller scope", row.Key)
		out[key] = row
	}
	return out
}

// checkFaultOutcome checks that no acknowledged request was lost and none
// applied twice.
func checkFaultOutcome(t *testing.T, db *storage.DB, ops []*faultOp) {
	t.Helper()
	ctx := context.Background()
	b := db.Bun()
	recs := idempotencyRows(t, db)

	var nulls int
	require.NoError(t, b.NewRaw(`SELECT COUNT(*) FROM idempotency WHERE result IS NULL`).Scan(ctx, &nulls))
	require.Zero(t, nulls, "keys claimed without a result")

	var contracts []struct {
		ID     uuid.UUID `bun:"id"`
		Status string    `bun:"status"`
	}
	require.NoError(t, b.NewRaw(`SELECT id, status FROM contracts`).Scan(ctx, &contracts))
	status := make(map[uuid.UUID]enrollment.Status, len(contracts))
	for _, c := range contracts {
		status[c.ID] = enrollment.Status(c.Status)
	}

	// Every acknowledged request's key holds the result it returned; every
	// refused one left no key.
	for _, o := range ops {
		rec, ok := recs[o.key]
		switch {
		case o.acked:
			if !ok {
				t.Errorf("%s %s: acknowledged (%s %s) but its key is lost", o.op, o.key, o.result.ID, o.result.Status)
				continue
			}
			require.Equal(t, o.op, rec.Operation, "key %s", o.key)
			require.Equal(t, o.result.ID, rec.contract.ID, "%s %s: the stored result names another contract", o.op, o.key)
			require.Equal(t, o.result.Status, rec.contract.Status, "%s %s: the stored result has another status", o.op, o.key)
		case o.refused:
			require.False(t, ok, "%s %s: refused, yet its key was stored", o.op, o.key)
		}
	}

	// One contract per submission key and a key for every contract; each
	// stored move is reflected in its contract's status; a contract is
	// confirmed, accepted and ended at most once.
	submitted := map[uuid.UUID]string{}
	moves := map[string]int{}
	for key, rec := range recs {
		c := rec.contract
		if rec.Operation == opSubmit {
			if other, dup := submitted[c.ID]; dup {
				t.Errorf("contract %s is the result of two submission keys, %s and %s", c.ID, other, key)
			}
			submitted[c.ID] = key
		}
		want, moves1 := resultStatus[rec.Operation]
		if !moves1 {
			continue
		}
		require.Equal(t, want, c.Status, "%s %s: stored result", rec.Operation, key)
		got, ok := status[c.ID]
		if !ok {
			t.Errorf("%s %s: acknowledged contract %s does not exist", rec.Operation, key, c.ID)
			continue
		}
		if !laterStatuses(c.Status)[got] {
			t.Errorf("%s %s: contract %s is %s, not %s or later: the move was lost", rec.Operation, key, c.ID, got, c.Status)
		}
		kind := rec.Operation
		switch kind {
		case opRefuse, opWithdraw, opTerminate:
			kind = "end"
		case opSubmit:
			continue
		}
		moves[kind+" "+c.ID.String()]++
	}
	for k, n := range moves {
		if n > 1 {
			t.Errorf("%s: applied by %d keys", k, n)
		}
	}
	require.Len(t, submitted, len(contracts), "contracts and submission keys")
	for id := range status {
		if _, ok := submitted[id]; !ok {
			t.Errorf("contract %s has no submission key", id)
		}
	}

	// The ledger applied each effect once.
	once := map[string]string{
		"holds with other than one reserve": `
			SELECT k.id::text FROM contracts k WHERE k.hold_id IS NOT NULL
			AND (SELECT COUNT(*) FROM postings p WHERE p.hold_id = k.hold_id AND p.kind = 'reserve') <> 1`,
		"holds of no contract": `
			SELECT h.id::text FROM holds h WHERE NOT EXISTS (SELECT 1 FROM contracts k WHERE k.hold_id = h.id)`,
		"holds released twice": `
			SELECT hold_id::text FROM postings WHERE kind = 'release' GROUP BY hold_id HAVING COUNT(*) > 1`,
		"months charged twice": `
			SELECT contract_id || ' ' || month FROM postings WHERE kind = 'charge' GROUP BY contract_id, month HAVING COUNT(*) > 1`,
		"charges without their posting": `
			SELECT c.contract_id || ' ' || c.month FROM contract_charges c
			WHERE (SELECT COUNT(*) FROM postings p WHERE p.contract_id = c.contract_id AND p.month = c.month
				AND p.kind = 'charge' AND p.amount = c.amount) <> 1`,
		"charge postings without their charge": `
			SELECT p.id::text FROM postings p WHERE p.kind = 'charge'
			AND NOT EXISTS (SELECT 1 FROM contract_charges c WHERE c.contract_id = p.contract_id AND c.month = p.month)`,
		"months refunded twice or without their line": `
			SELECT p.contract_id || ' ' || p.month FROM postings p WHERE p.kind = 'refund'
			GROUP BY p.contract_id, p.month HAVING COUNT(*) <> 1 OR NOT EXISTS (SELECT 1 FROM invoice_lines l
				WHERE l.contract_id = p.contract_id AND l.month = p.month AND l.kind = 'refund')`,
		"accounts depleted twice": `
			SELECT certificate_id || ' ' || period_start FROM postings WHERE kind = 'deplete'
			GROUP BY certificate_id, period_start HAVING COUNT(*) > 1`,
		"invoices other than the sum of their lines": `
			SELECT i.provider_id || ' ' || i.month || ' ' || i.kind FROM invoices i
			LEFT JOIN (SELECT municipality, provider_id, month, kind, SUM(amount) AS amount, COUNT(*) AS n
				FROM invoice_lines GROUP BY municipality, provider_id, month, kind) l
			ON l.municipality = i.municipality AND l.provider_id = i.provider_id AND l.month = i.month AND l.kind = i.kind
			WHERE l.amount IS NULL OR l.amount <> i.amount OR l.n <> i.lines`,
		"invoice lines without their invoice": `
			SELECT l.contract_id || ' ' || l.month || ' ' || l.kind FROM invoice_lines l
			WHERE NOT EXISTS (SELECT 1 FROM invoices i WHERE i.municipality = l.municipality
				AND i.provider_id = l.provider_id AND i.month = l.month AND i.kind = l.kind)`,
	}
	for what, q := range once {
		var bad []string
		require.NoError(t, b.NewRaw(q).Scan(ctx, &bad), what)
		require.Empty(t, bad, what)
	}
}
