package batch

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/enrollment"
)

// Item is one application of a batch.
type Item struct {
	Key     string
	Request enrollment.SubmitRequest
	// At is when it was received; zero means the batch's time.
	At time.Time
}

// Result is one application's answer, as Service.Submit would give it.
type Result struct {
	Contract enrollment.Contract
	Err      error
	// Alone is set when the application ran through Submit on its own
	// instead of in the shared transaction.
	Alone bool
}

// errDefer marks an application the batch does not run in memory; it runs
// through Service.Submit after the batch's commit.
var errDefer = errors.New("enrollment: batch: run alone")

// Submit runs the applications as svc.Submit would, sharing one
// transaction: first optimistically when the store offers it
// (OptimisticStore: read without locks, write and commit in one checked
// statement), and, if that write finds a change, again under locks.
// Results are in the order of items. Applications made by a provider in
// the holder's presence, and those on adult certificates, run one by one
// through svc.Submit after the batch. When the batch transaction fails for
// good, every application is run alone through svc.Submit, so that one bad
// application never fails the others. Over a store that is not a Store,
// every application runs through svc.Submit.
func Submit(ctx context.Context, svc *enrollment.Service, items []Item) []Result {
	return newRunner(svc).submit(ctx, items)
}

// runner runs batches of applications over one service. seen remembers
// offers and municipalities for optimistic batches to predict which
// counters to read with their rows.
type runner struct {
	svc  *enrollment.Service
	seen *keyPredictor
}

func newRunner(svc *enrollment.Service) *runner {
	return &runner{svc: svc, seen: newKeyPredictor()}
}

// work is a batch being run: its items, what was prepared for each, and
// the indexes of those that enter the transaction.
type work struct {
	items []Item
	prep  []prepared
	run   []int
}

type prepared struct {
	at       time.Time
	claim    enrollment.IdempotencyRecord // what the item's key is claimed with
	contract enrollment.Contract
	err      error
	deferred bool
}

type outcome struct {
	contract enrollment.Contract
	err      error
	deferred bool
}

func (r *runner) submit(ctx context.Context, items []Item) []Result {
	svc := r.svc
	out := make([]Result, len(items))
	bs, ok := svc.Store().(Store)
	if !ok {
		for i, it := range items {
			out[i].Contract, out[i].Err = svc.Submit(ctx, it.Key, it.Request)
			out[i].Alone = true
		}
		return out
	}
	if err := svc.Refresh(ctx); err != nil {
		for i := range out {
			out[i].Err = err
		}
		return out
	}
	now := svc.Now().UTC()
	// The batch claims, replays and answers by the keys Submit stores
	// requests by; an application run alone is sent with its own (items).
	w := &work{items: slices.Clone(items), prep: make([]prepared, len(items))}
	for i, it := range items {
		p := &w.prep[i]
		p.at = it.At
		if p.at.IsZero() {
			p.at = now
		}
		p.at = p.at.UTC()
		if it.Request.ByProvider() != uuid.Nil {
			p.deferred = true
			continue
		}
		p.claim, p.err = enrollment.SubmitClaim(it.Key, it.Request)
		if p.err != nil {
			continue
		}
		w.items[i].Key = p.claim.Key
		w.run = append(w.run, i)
	}
	prep := w.prep
	if len(w.run) > 0 {
		var res []outcome
		err := errNotTried
		if ob, ok := bs.(OptimisticStore); ok && ob.OptimisticBatches() {
			// Whatever stops the optimistic attempt (a row changed under
			// it, a row it cannot serve, a failed statement), the batch
			// runs again under locks, which settles it: nothing of the
			// attempt was written unless it all was, and then its keys
			// replay.
			res, err = r.runOptimistic(ctx, ob, w)
			if err != nil && ctx.Err() != nil {
				res = nil
			}
		}
		if err != nil && ctx.Err() == nil {
			err = bs.InBatchTx(ctx, func(ctx context.Context, tx Tx) error {
				var err error
				res, err = r.runBatch(ctx, tx, w, false)
				return err
			})
		}
		if errors.Is(err, ErrStale) {
			// Another transaction changed the budget in a way this batch's
			// answers depend on: run it again with the budget locked.
			err = bs.InBatchTx(ctx, func(ctx context.Context, tx Tx) error {
				var err error
				res, err = r.runBatch(ctx, tx, w, true)
				return err
			})
		}
		if err != nil {
			// Running the applications alone cannot help a caller out of
			// time or a database out of reach; each caller retries with its
			// key, which settles whether its application happened.
			if ctx.Err() != nil || errors.Is(err, enrollment.ErrUnavailable) {
				for _, i := range w.run {
					prep[i].err = err
				}
			} else {
				// Run them alone: each gets its own answer.
				for _, i := range w.run {
					prep[i].deferred = true
				}
			}
		} else {
			for k, i := range w.run {
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
			p.contract, p.err = svc.Submit(ctx, items[i].Key, items[i].Request)
			if errors.Is(p.err, enrollment.ErrUnavailable) {
				unavailable = p.err
			}
		}
		out[i] = Result{Contract: p.contract, Err: p.err, Alone: p.deferred}
	}
	return out
}

// runBatch is one attempt of the batch transaction.
//
// The municipal budget and the program, provider and direction counts are
// the hot rows: unless lockBudget, they are read without a lock and changed
// last by conditional updates that hold when the batch's answers stay right
// at their current values (see CounterGuard), so that their locks are held
// only for that statement and the commit. The seats of a group, and counts
// with a limit on a catalogue row, are locked when read.
func (r *runner) runBatch(ctx context.Context, tx Tx, w *work, lockBudget bool) ([]outcome, error) {
	items := w.items
	// (1) Claim every key in one statement, in key order.
	var claims []enrollment.IdempotencyRecord
	seenKey := map[string]bool{}
	for _, i := range w.run {
		k := items[i].Key
		if !seenKey[k] {
			seenKey[k] = true
			claims = append(claims, w.prep[i].claim)
		}
	}
	slices.SortFunc(claims, func(a, b enrollment.IdempotencyRecord) int { return strings.Compare(a.Key, b.Key) })
	var (
		claimedKeys []string
		locked      []certificate.Certificate
		err         error
	)
	cl, preLock := tx.(ClaimLocker)
	if preLock {
		ks, cs := make([]string, len(w.run)), make([]uuid.UUID, len(w.run))
		for n, i := range w.run {
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
	fresh := func(k string) bool { return claimed[k] }
	stored := map[string]enrollment.IdempotencyRecord{}
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
	st := newState()
	var certIDs, groupIDs []uuid.UUID
	for _, i := range w.run {
		if claimed[items[i].Key] {
			certIDs = append(certIDs, items[i].Request.CertificateID)
			groupIDs = append(groupIDs, items[i].Request.GroupID)
		}
	}
	certIDs, groupIDs = uniqIDs(certIDs), uniqIDs(groupIDs)
	if len(certIDs) > 0 {
		rows, err := tx.Prefetch(ctx, certIDs, groupIDs)
		if err != nil {
			return nil, err
		}
		rows.Certificates = append(rows.Certificates, locked...)
		if err := r.prefetch(ctx, tx.LockCounters, st, rows, w, fresh, certIDs, groupIDs, lockBudget); err != nil {
			return nil, err
		}
	}

	// (6) The rules, in arrival order, in memory.
	out, results, keys, err := r.runRules(ctx, tx, st, w, fresh, stored)
	if err != nil {
		return nil, err
	}

	// (7) Write it all.
	wr := st.writes()
	wr.Results = results
	for _, c := range claims {
		if claimed[c.Key] && !keys[c.Key] {
			wr.Release = append(wr.Release, c.Key)
		}
	}
	if err := tx.ApplyBatch(ctx, wr); err != nil {
		return nil, err
	}
	return out, nil
}

// runRules runs the fresh applications of a batch (fresh reports whether
// an application's key is not stored yet; stored has the records of the
// others) in arrival order against st, each in an overlay merged only if
// it succeeds. It returns the answers, the idempotency records of the
// accepted applications and which keys succeeded.
func (r *runner) runRules(ctx context.Context, tx enrollment.Tx, st *state, w *work, fresh func(string) bool, stored map[string]enrollment.IdempotencyRecord) ([]outcome, []enrollment.IdempotencyRecord, map[string]bool, error) {
	out := make([]outcome, len(w.run))
	type keyState struct {
		done     bool                         // succeeded in this batch
		rec      enrollment.IdempotencyRecord // its record, once done
		deferred bool
	}
	keys := map[string]*keyState{}
	var results []enrollment.IdempotencyRecord
	for k, i := range w.run {
		it := w.items[i]
		hash := w.prep[i].claim.RequestHash
		ks := keys[it.Key]
		if ks == nil {
			ks = &keyState{}
			keys[it.Key] = ks
		}
		if !fresh(it.Key) {
			out[k].contract, out[k].err = enrollment.SubmitReplay(stored[it.Key], hash)
			continue
		}
		if ks.deferred {
			out[k].deferred = true
			continue
		}
		if ks.done {
			// The same key again in the same batch: what Submit would
			// find once the first had committed.
			out[k].contract, out[k].err = enrollment.SubmitReplay(ks.rec, hash)
			continue
		}
		mt := &memTx{Tx: tx, st: st, ov: newOverlay()}
		c, err := r.svc.Enrol(ctx, mt, it.Request, w.prep[i].at)
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
			out[k].err = fmt.Errorf("%s: encode result: %w", w.prep[i].claim.Operation, err)
			continue
		}
		st.merge(mt.ov)
		rec := w.prep[i].claim
		rec.Result = result
		ks.done, ks.rec = true, rec
		results = append(results, rec)
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
func (r *runner) prefetch(ctx context.Context, lockCounters func(ctx context.Context, keys, read []string) ([]enrollment.Counter, error), st *state, rows Rows, w *work, fresh func(string) bool, certIDs, groupIDs []uuid.UUID, lockBudget bool) error {
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
	// The counters the applications will look at, predicted as Enrol
	// computes them; a key it did not predict sends that application
	// through Submit.
	keySet := map[string]bool{}
	mustLock := map[string]bool{}
	for _, i := range w.run {
		req := w.items[i].Request
		if !fresh(w.items[i].Key) {
			continue
		}
		cert, ok1 := st.certs[req.CertificateID]
		o, ok2 := st.offers[req.GroupID]
		if !ok1 || !ok2 {
			continue
		}
		for _, k := range r.svc.SubmitCounters(cert.Municipality, o, req, w.prep[i].at) {
			keySet[k] = true
			// A count checked against a limit kept on a catalogue row is
			// read under its lock; the others are guarded.
			switch c := enrollment.ClassOf(k); {
			case c == enrollment.ProgramCounter && o.Program.EnrolmentLimit > 0,
				c == enrollment.ProviderCounter && o.Provider.EnrolmentLimit > 0:
				mustLock[k] = true
			}
		}
	}
	keys := make([]string, 0, len(keySet))
	for k := range keySet {
		keys = append(keys, k)
	}
	enrollment.SortCounterKeys(keys)
	var lock, read []string
	for _, k := range keys {
		if c := enrollment.ClassOf(k); st.optimistic || !lockBudget && !mustLock[k] && c != enrollment.SeatsCounter && c != enrollment.OtherCounter {
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

func sortNewestFirst(cs []enrollment.Contract) {
	slices.SortStableFunc(cs, func(a, b enrollment.Contract) int {
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
