package batch

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"

	"github.com/google/uuid"

	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/funding"
)

// errNotTried is a batch not yet run.
var errNotTried = errors.New("enrollment: batch: not run")

// runOptimistic is one optimistic attempt of a batch: read without locks,
// run the rules in memory exactly as runBatch does, then write everything
// with one statement that checks the reads still hold. The answers are
// kept only if that statement committed.
//
// What an accepted application depends on is checked at the write: its
// certificate (locked there, by version), its account (by version), its
// counters (guards: the room taken must still be there) and its key (not
// stored meanwhile). A refused application writes nothing, and its answer
// was true of the snapshot read, unless it depends on the counters: a
// refusal by the seats or the limits, or by a check after them, needs the
// counters that application read to hold exactly the values read; one by
// the budget, the registry quota or after the checks needs every counter
// of the batch to (see runRules).
func (r *runner) runOptimistic(ctx context.Context, ob OptimisticStore, w *work) ([]outcome, error) {
	items, run := w.items, w.run
	var keys []string
	certIDs, groupIDs := make([]uuid.UUID, 0, len(run)), make([]uuid.UUID, 0, len(run))
	seen := map[string]bool{}
	for _, i := range run {
		if k := items[i].Key; !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
		certIDs = append(certIDs, items[i].Request.CertificateID)
		groupIDs = append(groupIDs, items[i].Request.GroupID)
	}
	slices.Sort(keys)
	certIDs, groupIDs = uniqIDs(certIDs), uniqIDs(groupIDs)
	predicted := r.seen.predict(r.svc, w)
	recs, rows, err := ob.ReadBatch(ctx, keys, certIDs, groupIDs, predicted)
	if err != nil {
		return nil, err
	}
	r.seen.remember(rows)
	stored := make(map[string]enrollment.IdempotencyRecord, len(recs))
	for _, rec := range recs {
		stored[rec.Key] = rec
	}
	fresh := func(k string) bool { _, ok := stored[k]; return !ok }
	var freshCerts, freshGroups []uuid.UUID
	for _, i := range run {
		if fresh(items[i].Key) {
			freshCerts = append(freshCerts, items[i].Request.CertificateID)
			freshGroups = append(freshGroups, items[i].Request.GroupID)
		}
	}
	st := newState()
	st.optimistic = true
	// The counters come with the rows when they were predicted; the rest
	// (an offer or a municipality not seen before) take one more read.
	readCounters := func(ctx context.Context, lock, read []string) ([]enrollment.Counter, error) {
		have := make(map[string]bool, len(predicted))
		for _, k := range predicted {
			have[k] = true
		}
		var out []enrollment.Counter
		for _, c := range rows.Counters {
			if have[c.Key] {
				out = append(out, c)
			}
		}
		var missing []string
		for _, k := range append(lock, read...) {
			if !have[k] {
				missing = append(missing, k)
			}
		}
		if len(missing) == 0 {
			return out, nil
		}
		more, err := ob.ReadCounters(ctx, missing)
		return append(out, more...), err
	}
	if err := r.prefetch(ctx, readCounters, st, rows, w, fresh, uniqIDs(freshCerts), uniqIDs(freshGroups), false); err != nil {
		return nil, err
	}
	out, results, _, err := r.runRules(ctx, noTx{}, st, w, fresh, stored)
	if err != nil {
		return nil, err
	}
	wr := st.writes()
	wr.Results = results
	checked := map[uuid.UUID]bool{}
	for _, c := range wr.Contracts {
		if !checked[c.CertificateID] {
			checked[c.CertificateID] = true
			wr.Check = append(wr.Check, CertificateVersion{ID: c.CertificateID, Version: rows.CertVersions[c.CertificateID]})
		}
	}
	slices.SortFunc(wr.Check, func(a, b CertificateVersion) int { return strings.Compare(string(a.ID[:]), string(b.ID[:])) })
	if err := ob.ApplyOptimistic(ctx, wr); err != nil {
		return nil, err
	}
	return out, nil
}

// errNoTx is a read an optimistic batch does not serve from its snapshot.
var errNoTx = errors.New("enrollment: batch: not in the optimistic snapshot")

// noTx is the Tx behind an optimistic batch's memTx: there is no
// transaction to read through, so any read the snapshot does not serve
// fails the attempt, and the batch runs again under locks.
type noTx struct{ enrollment.Tx }

// The reads memTx passes through to its Tx; every other method of Tx is
// served or refused by memTx itself.

func (noTx) Certificate(context.Context, uuid.UUID) (certificate.Certificate, error) {
	return certificate.Certificate{}, errNoTx
}
func (noTx) CertificateByNumber(context.Context, certificate.Number) (certificate.Certificate, error) {
	return certificate.Certificate{}, errNoTx
}
func (noTx) PersonCertificates(context.Context, certificate.Scheme, string) ([]certificate.Certificate, error) {
	return nil, errNoTx
}
func (noTx) IsGuardian(context.Context, string, string) (bool, error) { return false, errNoTx }
func (noTx) Category(context.Context, string) (certificate.Category, error) {
	return certificate.Category{}, errNoTx
}
func (noTx) Categories(context.Context) ([]certificate.Category, error) { return nil, errNoTx }
func (noTx) HoursAccount(context.Context, uuid.UUID, funding.Period) (funding.HoursAccount, error) {
	return funding.HoursAccount{}, errNoTx
}
func (noTx) QueuePosition(context.Context, string, uuid.UUID) (int, error) { return 0, errNoTx }
func (noTx) Hold(context.Context, uuid.UUID) (funding.Hold, error)         { return funding.Hold{}, errNoTx }

// keyPredictor remembers the offers and municipalities optimistic batches
// have read, so that a batch can read the counters its applications will
// take with its rows, in the same round trip: a group's program, provider
// and direction rarely change, and a region has few municipalities. It
// only predicts what to read; the rules always run on what was read.
type keyPredictor struct {
	mu     sync.Mutex
	offers map[uuid.UUID]enrollment.Offer
	muns   []string // most recent first
}

const (
	predictorOffers = 1 << 14
	predictorMuns   = 8
)

func newKeyPredictor() *keyPredictor {
	return &keyPredictor{offers: map[uuid.UUID]enrollment.Offer{}}
}

func (p *keyPredictor) remember(rows Rows) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.offers)+len(rows.Offers) > predictorOffers {
		clear(p.offers)
	}
	for _, o := range rows.Offers {
		p.offers[o.Group.ID] = o
	}
	for _, c := range rows.Certificates {
		if i := slices.Index(p.muns, c.Municipality); i != 0 {
			if i > 0 {
				p.muns = slices.Delete(p.muns, i, i+1)
			}
			p.muns = slices.Insert(p.muns, 0, c.Municipality)
			if len(p.muns) > predictorMuns {
				p.muns = p.muns[:predictorMuns]
			}
		}
	}
}

// predict lists the counters the applications are likely to take.
func (p *keyPredictor) predict(svc *enrollment.Service, w *work) []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	set := map[string]bool{}
	for _, i := range w.run {
		r := w.items[i].Request
		o, ok := p.offers[r.GroupID]
		if !ok {
			set[enrollment.SeatsKey(r.GroupID)] = true
			continue
		}
		for _, mun := range p.muns {
			for _, k := range svc.SubmitCounters(mun, o, r, w.prep[i].at) {
				set[k] = true
			}
		}
	}
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
