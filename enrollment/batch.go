package enrollment

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/funding"
)

// Batched submission. Many concurrent applications share one transaction,
// and so one commit (one fsync) and one pass over the hot rows, the way
// TigerBeetle batches transfers: the rows a batch touches are prefetched
// and locked with a handful of statements, every application then runs the
// unchanged submission rules (enrol itself) in arrival order against that
// state in memory, and the effects of all accepted applications are written
// with a handful of bulk statements before the single commit. Each
// application still succeeds or fails alone: a refused one changes nothing,
// and nobody is answered before the commit.

// BatchStore is a Store that can run a batch transaction. *storage.DB
// implements it; a Store that does not falls back to one transaction per
// application.
type BatchStore interface {
	InBatchTx(ctx context.Context, fn func(ctx context.Context, tx BatchTx) error) error
}

// BatchTx is a Tx with the bulk reads and writes of a batch. Locking reads
// lock their rows until the transaction ends (FOR NO KEY UPDATE / FOR
// UPDATE on PostgreSQL, in the order given or by id; SQLite serialises
// writers anyway).
type BatchTx interface {
	Tx
	// ClaimKeys inserts the idempotency records that are absent (Result is
	// ignored) and returns the keys it inserted; the others were claimed
	// before (waiting for in-flight holders to finish).
	ClaimKeys(ctx context.Context, recs []IdempotencyRecord) (claimed []string, err error)
	// IdempotencyRecords reads stored records by key.
	IdempotencyRecords(ctx context.Context, keys []string) ([]IdempotencyRecord, error)
	// Prefetch locks the certificates that exist (in id order), then every
	// account of them, and reads every contract of them and the offers of
	// the groups that exist.
	Prefetch(ctx context.Context, certificateIDs, groupIDs []uuid.UUID) (BatchRows, error)
	// LockCounters locks the counters of keys that exist, in the order of
	// keys, reads those of read without locking them, and returns them.
	LockCounters(ctx context.Context, keys, read []string) ([]Counter, error)
	// ApplyBatch writes a batch's effects.
	ApplyBatch(ctx context.Context, w BatchWrite) error
}

// BatchClaimLocker is a BatchTx that claims the keys and locks the
// certificates of the applications whose key it claimed in one round trip,
// then reads the rest of the batch's rows in a statement that starts after
// those locks are held (so that, under READ COMMITTED, it sees everything
// committed by the transactions it waited for).
type BatchClaimLocker interface {
	// ClaimKeysLock is ClaimKeys, then locks (in id order) the existing
	// certificates certs[i] whose keys[i] it claimed, and returns them (or
	// leaves them to PrefetchLocked, on a store with a single writer).
	ClaimKeysLock(ctx context.Context, recs []IdempotencyRecord, keys []string, certs []uuid.UUID) (claimed []string, locked []certificate.Certificate, err error)
	// PrefetchLocked is Prefetch for certificates already locked; it
	// returns the Certificates ClaimKeysLock did not.
	PrefetchLocked(ctx context.Context, certificateIDs, groupIDs []uuid.UUID) (BatchRows, error)
}

// BatchRows is what a batch reads before it runs its applications.
type BatchRows struct {
	Certificates []certificate.Certificate
	Accounts     []AccountState
	Contracts    []Contract
	Offers       []Offer
	// CertVersions are the store's versions of the certificate rows, read
	// by an optimistic batch (OptimisticBatchStore.ReadBatch); the versions
	// of the accounts are in AccountState.Version.
	CertVersions map[uuid.UUID]int64
	// Counters are the counters an optimistic batch asked for with its rows.
	Counters []Counter
}

// OptimisticBatchStore is a BatchStore that can also run a batch without
// holding a lock between its statements: ReadBatch and ReadCounters read,
// each in one snapshot and outside any transaction, and ApplyOptimistic
// writes the whole batch in one atomic statement that first checks that
// nothing the accepted applications depend on changed in between (the
// certificates and accounts by version, the counters as CounterGuards). A
// batch whose check fails runs again under locks (BatchStore.InBatchTx).
// On PostgreSQL that is three round trips and one commit per batch instead
// of seven.
type OptimisticBatchStore interface {
	BatchStore
	// OptimisticBatches reports whether the optimistic path is available
	// (it is worth nothing where writers are serialised anyway).
	OptimisticBatches() bool
	// ReadBatch reads the stored idempotency records of keys, the
	// certificates and every account and contract of them, and the offers
	// of the groups, in one snapshot, with the certificates' and accounts'
	// versions.
	// ReadBatch also reads the counters of counterKeys (into
	// BatchRows.Counters; a key without a row has no counter yet).
	ReadBatch(ctx context.Context, keys []string, certificateIDs, groupIDs []uuid.UUID, counterKeys []string) ([]IdempotencyRecord, BatchRows, error)
	// ReadCounters reads counters without locking them.
	ReadCounters(ctx context.Context, keys []string) ([]Counter, error)
	// ApplyOptimistic writes w in one transaction of its own if every
	// certificate of w.Check still has its version, every account of
	// w.Accounts with a Version still has it (and those without one do not
	// exist yet), every guard holds, no key of w.Results is stored yet and
	// no counter of w.Counters exists yet; otherwise it writes nothing and
	// returns an error wrapping ErrBatchStale.
	ApplyOptimistic(ctx context.Context, w BatchWrite) error
}

// CertificateVersion is a certificate's row version as an optimistic batch
// read it.
type CertificateVersion struct {
	ID      uuid.UUID
	Version int64
}

// BatchWrite is everything a batch changes.
type BatchWrite struct {
	Contracts []Contract      // new contracts
	Holds     []BatchHold     // new or changed holds
	Postings  []PostingRecord // appended postings
	Accounts  []AccountState  // final states of the changed accounts (insert or update)
	// Counters add Add to used; a counter absent from the store is created
	// with Limit.
	Counters []CounterDelta
	// Results stores the result of each claimed key that succeeded.
	Results []IdempotencyRecord
	// Release deletes the claimed keys that did not succeed, so that they
	// can be sent again.
	Release []string
	// Guards are the hot counters read without a lock; they are changed
	// last, each by one conditional update. If any guard's condition fails
	// ApplyBatch returns ErrBatchStale and writes nothing.
	Guards []CounterGuard
	// Check lists the certificates whose applications were accepted, with
	// the versions an optimistic batch read (ApplyOptimistic locks them
	// and checks the versions; ApplyBatch, under locks, ignores it).
	Check []CertificateVersion
}

// CounterGuard adds Add to a counter read without a lock if used + Add +
// Room stays within its limit and, when Exact, the counter still holds the
// Used and Limit the batch read.
//
// Room is what the batch's refused applications need to stay refused for
// the reason they were given: one refused after passing a count check (a
// duplicate module, say) would have been refused by that count instead had
// it been full. Every count check is monotone in used, so used + Add +
// Room <= limit at the commit keeps each of those checks passing whatever
// other batches committed meanwhile; a refusal by a counter's own check
// needs it Exact.
type CounterGuard struct {
	Key         string
	Add         int64
	Room        int64
	Exact       bool
	Used, Limit int64
}

// ErrBatchStale is a batch whose unlocked reads of hot counters no longer
// hold; it runs again with those counters locked.
var ErrBatchStale = errors.New("enrollment: batch: hot counter changed")

// BatchHold is a hold with the account it belongs to.
type BatchHold struct {
	CertificateID uuid.UUID
	Period        funding.Period
	Hold          funding.Hold
}

// CounterDelta is an increment of a counter.
type CounterDelta struct {
	Key   string
	Add   int64
	Limit int64
}

// BatchItem is one application of a batch.
type BatchItem struct {
	Key     string
	Request SubmitRequest
	// At is when it was received; zero means the batch's time.
	At time.Time
}

// BatchResult is one application's answer, as Service.Submit would give it.
type BatchResult struct {
	Contract Contract
	Err      error
	// Alone is set when the application ran through Submit on its own
	// instead of in the shared transaction.
	Alone bool
}

const submitOp = "contract.submit"

// errDefer marks an application the batch does not run in memory; it runs
// through Service.Submit after the batch's commit.
var errDefer = errors.New("enrollment: batch: run alone")

// SubmitBatch runs the applications as Submit would, sharing one
// transaction: first optimistically when the store offers it
// (OptimisticBatchStore: read without locks, write and commit in one
// checked statement), and, if that write finds a change, again under
// locks. Results are in the order of items. Applications made by a
// provider in the holder's presence, and those on adult certificates, run
// one by one through Submit after the batch. When the batch transaction
// fails for good, every application is run alone through Submit, so that
// one bad application never fails the others.
func (s *Service) SubmitBatch(ctx context.Context, items []BatchItem) []BatchResult {
	out := make([]BatchResult, len(items))
	bs, ok := s.store.(BatchStore)
	if !ok {
		for i, it := range items {
			out[i].Contract, out[i].Err = s.Submit(ctx, it.Key, it.Request)
			out[i].Alone = true
		}
		return out
	}
	now := s.clock.Now().UTC()
	prep := make([]batchPrepared, len(items))
	var run []int // items that enter the transaction
	for i, it := range items {
		p := &prep[i]
		p.at = it.At
		if p.at.IsZero() {
			p.at = now
		}
		p.at = p.at.UTC()
		if it.Request.byProvider() != uuid.Nil {
			p.deferred = true
			continue
		}
		p.hash, p.err = requestHash(it.Key, submitOp, it.Request)

		if p.err != nil {
			continue
		}
		run = append(run, i)
	}
	if len(run) > 0 {
		var res []batchOutcome
		err := errNotTried
		if ob, ok := bs.(OptimisticBatchStore); ok && ob.OptimisticBatches() {
			// Whatever stops the optimistic attempt (a row changed under
			// it, a row it cannot serve, a failed statement), the batch
			// runs again under locks, which settles it: nothing of the
			// attempt was written unless it all was, and then its keys
			// replay.
			res, err = s.runOptimistic(ctx, ob, items, prep, run)
			if err != nil && ctx.Err() != nil {
				res = nil
			}
		}
		if err != nil && ctx.Err() == nil {
			err = bs.InBatchTx(ctx, func(ctx context.Context, tx BatchTx) error {
				var err error
				res, err = s.runBatch(ctx, tx, items, prep, run, false)
				return err
			})
		}
		if errors.Is(err, ErrBatchStale) {
			// Another transaction changed the budget in a way this batch's
			// answers depend on: run it again with the budget locked.
			err = bs.InBatchTx(ctx, func(ctx context.Context, tx BatchTx) error {
				var err error
				res, err = s.runBatch(ctx, tx, items, prep, run, true)
				return err
			})
		}
		if err != nil {
			// Running the applications alone cannot help a caller out of
			// time or a database out of reach; each caller retries with its
			// key, which settles whether its application happened.
			if ctx.Err() != nil || errors.Is(err, ErrUnavailable) {
				for _, i := range run {
					prep[i].err = err
				}
			} else {
				// Run them alone: each gets its own answer.
				for _, i := range run {
					prep[i].deferred = true
				}
			}
		} else {
			for k, i := range run {
				prep[i].contract, prep[i].err, prep[i].deferred = res[k].contract, res[k].err, res[k].deferred
			}
		}
	}
	var unavailable error
	for i := range items {
		p := &prep[i]
		switch {
		case p.deferred && unavailable != nil:
			p.err = unavailable // the next would wait out the same retries
		case p.deferred:
			p.contract, p.err = s.Submit(ctx, items[i].Key, items[i].Request)
			if errors.Is(p.err, ErrUnavailable) {
				unavailable = p.err
			}
		}
		out[i] = BatchResult{Contract: p.contract, Err: p.err, Alone: p.deferred}
	}
	return out
}

type batchPrepared struct {
	at       time.Time
	hash     string
	contract Contract
	err      error
	deferred bool
}

type batchOutcome struct {
	contract Contract
	err      error
	deferred bool
}

// requestHash validates the key and hashes the request as idempotent does.
func requestHash(key, op string, req any) (string, error) {
	if key == "" {
		return "", &funding.ValidationError{Field: "idempotency_key", Rule: "must be set on every change"}
	}
	if len(key) > 200 {
		return "", &funding.ValidationError{Field: "idempotency_key", Rule: "must be at most 200 characters"}
	}
	body, err := json.Marshal(req)
	if err != nil {
		return "", fmt.Errorf("%s: encode request: %w", op, err)
	}
	sum := sha256.Sum256(append([]byte(op+"\x00"), body...))
	return hex.EncodeToString(sum[:]), nil
}

// runBatch is one attempt of the batch transaction.
//
// The municipal budget and the program, provider and direction counts are
// the hot rows: unless lockBudget, they are read without a lock and changed
// last by conditional updates that hold when the batch's answers stay right
// at their current values (see CounterGuard), so that their locks are held
// only for that statement and the commit. The seats of a group, and counts
// with a limit on a catalogue row, are locked when read.
func (s *Service) runBatch(ctx context.Context, tx BatchTx, items []BatchItem, prep []batchPrepared, run []int, lockBudget bool) ([]batchOutcome, error) {
	// (1) Claim every key in one statement, in key order.
	var claims []IdempotencyRecord
	seenKey := map[string]bool{}
	for _, i := range run {
		k := items[i].Key
		if !seenKey[k] {
			seenKey[k] = true
			claims = append(claims, IdempotencyRecord{Key: k, Operation: submitOp, RequestHash: prep[i].hash})
		}
	}
	slices.SortFunc(claims, func(a, b IdempotencyRecord) int { return strings.Compare(a.Key, b.Key) })
	var (
		claimedKeys []string
		locked      []certificate.Certificate
		err         error
	)
	cl, preLock := tx.(BatchClaimLocker)
	if preLock {
		ks, cs := make([]string, len(run)), make([]uuid.UUID, len(run))
		for n, i := range run {
			ks[n], cs[n] = items[i].Key, items[i].Request.CertificateID
		}
		claimedKeys, locked, err = cl.ClaimKeysLock(ctx, claims, ks, cs)
	} else {
		claimedKeys, err = tx.ClaimKeys(ctx, claims)
	}
	if err != nil {
		return nil, err
	}
	claimed := make(map[string]bool, len(claimedKeys))
	for _, k := range claimedKeys {
		claimed[k] = true
	}
	stored := map[string]IdempotencyRecord{}
	if len(claimedKeys) < len(claims) {
		var others []string
		for _, c := range claims {
			if !claimed[c.Key] {
				others = append(others, c.Key)
			}
		}
		recs, err := tx.IdempotencyRecords(ctx, others)
		if err != nil {
			return nil, err
		}
		for _, r := range recs {
			stored[r.Key] = r
		}
		for _, k := range others {
			if _, ok := stored[k]; !ok {
				return nil, fmt.Errorf("enrollment: batch: idempotency key %q vanished", k)
			}
		}
	}

	// (2)–(5) Prefetch and lock what the fresh applications touch.
	st := newBatchState()
	var certIDs, groupIDs []uuid.UUID
	for _, i := range run {
		if claimed[items[i].Key] {
			certIDs = append(certIDs, items[i].Request.CertificateID)
			groupIDs = append(groupIDs, items[i].Request.GroupID)
		}
	}
	certIDs, groupIDs = uniqIDs(certIDs), uniqIDs(groupIDs)
	if len(certIDs) > 0 {
		var rows BatchRows
		if preLock {
			rows, err = cl.PrefetchLocked(ctx, certIDs, groupIDs)
			rows.Certificates = append(rows.Certificates, locked...)
		} else {
			rows, err = tx.Prefetch(ctx, certIDs, groupIDs)
		}
		if err != nil {
			return nil, err
		}
		if err := s.prefetch(ctx, tx.LockCounters, st, rows, items, prep, run, func(k string) bool { return claimed[k] }, certIDs, groupIDs, lockBudget); err != nil {
			return nil, err
		}
	}

	// (6) The rules, in arrival order, in memory.
	out, results, keys, err := s.runRules(ctx, tx, st, items, prep, run, func(k string) bool { return claimed[k] }, stored)
	if err != nil {
		return nil, err
	}

	// (7) Write it all.
	w := st.writes()
	w.Results = results
	for _, c := range claims {
		if claimed[c.Key] && !keys[c.Key] {
			w.Release = append(w.Release, c.Key)
		}
	}
	if err := tx.ApplyBatch(ctx, w); err != nil {
		return nil, err
	}
	return out, nil
}

// runRules runs the fresh applications of a batch (fresh reports whether
// an application's key is not stored yet; stored has the records of the
// others) in arrival order against st, each in an overlay merged only if
// it succeeds. It returns the answers, the idempotency records of the
// accepted applications and which keys succeeded.
func (s *Service) runRules(ctx context.Context, tx Tx, st *batchState, items []BatchItem, prep []batchPrepared, run []int, fresh func(string) bool, stored map[string]IdempotencyRecord) ([]batchOutcome, []IdempotencyRecord, map[string]bool, error) {
	out := make([]batchOutcome, len(run))
	type keyState struct {
		done     bool // succeeded in this batch
		hash     string
		result   []byte
		deferred bool
	}
	keys := map[string]*keyState{}
	var results []IdempotencyRecord
	for k, i := range run {
		it := items[i]
		ks := keys[it.Key]
		if ks == nil {
			ks = &keyState{}
			keys[it.Key] = ks
		}
		if !fresh(it.Key) {
			rec := stored[it.Key]
			if rec.Operation != submitOp || rec.RequestHash != prep[i].hash {
				out[k].err = funding.Refuse(ErrIdempotencyConflict, CodeIdempotencyConflict, "key %q was first used for %s with another request", it.Key, rec.Operation)
				continue
			}
			out[k].contract, out[k].err = replay(rec.Result)
			continue
		}
		if ks.deferred {
			out[k].deferred = true
			continue
		}
		if ks.done {
			// The same key again in the same batch: what Submit would
			// find once the first had committed.
			if ks.hash != prep[i].hash {
				out[k].err = funding.Refuse(ErrIdempotencyConflict, CodeIdempotencyConflict, "key %q was first used for %s with another request", it.Key, submitOp)
				continue
			}
			out[k].contract, out[k].err = replay(ks.result)
			continue
		}
		mt := &memTx{Tx: tx, st: st, ov: newOverlay()}
		at := prep[i].at
		c, err := s.enrol(ctx, mt, it.Request, at, s.dateOf(at))
		if mt.fatal != nil {
			return nil, nil, nil, mt.fatal
		}
		if errors.Is(err, errDefer) || mt.deferred {
			ks.deferred = true
			out[k].deferred = true
			continue
		}
		if err != nil {
			st.refused(mt, err)
			out[k].err = err
			continue
		}
		result, err := json.Marshal(c)
		if err != nil {
			out[k].err = fmt.Errorf("%s: encode result: %w", submitOp, err)
			continue
		}
		st.merge(mt.ov)
		ks.done, ks.hash, ks.result = true, prep[i].hash, result
		results = append(results, IdempotencyRecord{Key: it.Key, Operation: submitOp, RequestHash: prep[i].hash, Result: result})
		out[k].contract = c
	}
	done := make(map[string]bool, len(keys))
	for k, ks := range keys {
		done[k] = ks.done
	}
	return out, results, done, nil
}

// prefetch takes in the rows read for the applications (certificates,
// their accounts, their contracts, the offers), then reads and locks the
// counters in the order Submit takes them (seats, program, provider,
// direction, budget, each by key), so that batches and single submissions
// lock in one global order.
func (s *Service) prefetch(ctx context.Context, lockCounters func(ctx context.Context, keys, read []string) ([]Counter, error), st *batchState, rows BatchRows, items []BatchItem, prep []batchPrepared, run []int, fresh func(string) bool, certIDs, groupIDs []uuid.UUID, lockBudget bool) error {
	for _, c := range rows.Certificates {
		st.certs[c.ID] = c
	}
	for _, id := range certIDs {
		st.certLoaded[id] = true
	}
	for _, o := range rows.Offers {
		st.offers[o.Group.ID] = o
	}
	for _, id := range groupIDs {
		st.groupLoaded[id] = true
	}
	for _, a := range rows.Accounts {
		st.accounts[acctKey{a.CertificateID, a.Period.Start}] = a
	}
	for _, c := range rows.Contracts {
		st.contracts[c.CertificateID] = append(st.contracts[c.CertificateID], c)
	}
	for id := range st.contracts {
		sortNewestFirst(st.contracts[id])
	}
	// The counters the applications will look at, predicted as enrol
	// computes them; a key it did not predict sends that application
	// through Submit.
	keySet := map[string]bool{}
	mustLock := map[string]bool{}
	for _, i := range run {
		r := items[i].Request
		if !fresh(items[i].Key) {
			continue
		}
		cert, ok1 := st.certs[r.CertificateID]
		o, ok2 := st.offers[r.GroupID]
		if !ok1 || !ok2 {
			continue
		}
		// A count checked against a limit kept on a catalogue row is read
		// under its lock; the others are guarded.
		if o.Program.EnrolmentLimit > 0 {
			mustLock[programKey(o.Program.ID)] = true
		}
		if o.Provider.EnrolmentLimit > 0 {
			mustLock[providerKey(o.Provider.ID)] = true
		}
		for _, k := range s.counterKeys(cert.Municipality, o, r, prep[i].at) {
			keySet[k] = true
		}
	}
	keys := make([]string, 0, len(keySet))
	for k := range keySet {
		keys = append(keys, k)
	}
	SortCounterKeys(keys)
	var lock, read []string
	for _, k := range keys {
		if r := counterRank(k); st.optimistic || !lockBudget && !mustLock[k] && r != rankSeats && r != rankOther {
			read = append(read, k)
		} else {
			lock = append(lock, k)
		}
	}
	counters, err := lockCounters(ctx, lock, read)
	if err != nil {
		return err
	}
	for _, k := range keys {
		st.counterLoaded[k] = true
	}
	for _, c := range counters {
		st.counters[c.Key] = c
		st.initial[c.Key] = c
	}
	for _, k := range read {
		if _, ok := st.counters[k]; ok {
			st.guarded[k] = true
			st.exact[k] = mustLock[k]
		}
	}
	return nil
}

// counterKeys are the counters enrol takes for an application of a
// certificate of municipality mun to offer o received at.
func (s *Service) counterKeys(mun string, o Offer, r SubmitRequest, at time.Time) []string {
	on := s.dateOf(at)
	start := r.Start
	if start.IsZero() {
		start = o.Group.Start
		if start.Before(on) {
			start = on
		}
	}
	period := s.cfg.PeriodOf(start)
	return []string{
		programKey(o.Program.ID), providerKey(o.Provider.ID),
		directionKey(mun, string(o.Program.Direction), period),
		seatsKey(o.Group.ID), budgetKey(mun, period),
	}
}

// SortCounterKeys sorts counter keys into the order every transaction
// takes them in: seats, program, provider, direction, then budget, each
// class by key. The seats come first because a batch under locks locks its
// groups' seats when it reads them and the other counts only at its end;
// with the seats anywhere else, a batch and a single submission or release
// could each hold what the other waits for (deadlocks, which PostgreSQL
// breaks only after deadlock_timeout, one second by default).
func SortCounterKeys(keys []string) {
	slices.SortFunc(keys, CompareCounterKeys)
}

// CompareCounterKeys orders two counter keys as SortCounterKeys does.
func CompareCounterKeys(a, b string) int {
	if ra, rb := counterRank(a), counterRank(b); ra != rb {
		return ra - rb
	}
	return strings.Compare(a, b)
}

// The ranks of SortCounterKeys.
const (
	rankSeats = iota
	rankProgram
	rankProvider
	rankDirection
	rankBudget
	rankOther
)

func counterRank(k string) int {
	for i, p := range []string{"seats:", "program:", "provider:", "direction:", "budget:"} {
		if strings.HasPrefix(k, p) {
			return rankSeats + i
		}
	}
	return rankOther
}

func sortNewestFirst(cs []Contract) {
	slices.SortStableFunc(cs, func(a, b Contract) int {
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		return bytes.Compare(b.ID[:], a.ID[:])
	})
}

func uniqIDs(ids []uuid.UUID) []uuid.UUID {
	out := slices.Clone(ids)
	slices.SortFunc(out, func(a, b uuid.UUID) int { return bytes.Compare(a[:], b[:]) })
	return slices.Compact(out)
}

// replay decodes a stored result as idempotent does.
func replay(result []byte) (Contract, error) {
	var c Contract
	if err := json.Unmarshal(result, &c); err != nil {
		return Contract{}, err
	}
	return c, nil
}
