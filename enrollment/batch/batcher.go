package batch

import (
	"context"
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/edufund/edufund/enrollment"
)

// BatcherOptions tune a Batcher.
type BatcherOptions struct {
	// MaxBatch bounds the applications of one transaction (default 128).
	MaxBatch int
	// Flushers is how many batches run at once. The default is 2 over a
	// store with optimistic batches (OptimisticStore: PostgreSQL) and
	// 1 otherwise. One flusher gives each batch every application that
	// waited meanwhile, but runs one batch's read, rules and commit after
	// another, on one database connection; a second runs two batches side
	// by side, each half the size, which costs more per application and
	// uses more of the machine. Over optimistic batches the second paid at
	// both 8 and 32 clients on 2 cores; over a store with one writer
	// (SQLite) the two batches only queue for it (storage/BENCHMARKS.md).
	// Keep it at or under the store's connection pool.
	Flushers int
	// Linger is how long a flusher that has just answered a batch waits at
	// most for those callers' next applications before it starts the next
	// transaction (default 300µs; negative: never waits). It waits only
	// while fewer applications are in hand than were waiting before that
	// answer plus the callers just answered, so a lone caller, or a batcher
	// that is not busy, is never delayed.
	Linger time.Duration
}

// ErrClosed is a submission to a closed Batcher.
var ErrClosed = errors.New("enrollment: batcher closed")

// Batcher gathers concurrent submissions into shared transactions ("smart
// batching"): a free flusher takes every application waiting at that
// moment, up to MaxBatch, and runs them as one batch (Submit); when idle it
// waits for the next one and never for a timer, so a lone application is
// not delayed. Submit has Service.Submit's contract: it returns after the
// application's transaction committed (or was refused), with its own
// result.
type Batcher struct {
	svc  *enrollment.Service
	run  *runner
	opts BatcherOptions
	in   chan *batchCall

	mu     sync.RWMutex
	closed bool
	wg     sync.WaitGroup

	busyMu    sync.Mutex
	busyCerts map[uuid.UUID]int // in a batch being run, by certificate
	busyKeys  map[string]int
	held      []*batchCall // taken, waiting for another batch to end
}

type batchCall struct {
	enq  time.Time // when it was queued (monotonic)
	ctx  context.Context
	item Item
	done chan Result
}

// NewBatcher starts the flushers of a Batcher over svc. Close stops them.
func NewBatcher(svc *enrollment.Service, opts BatcherOptions) *Batcher {
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = 128
	}
	if opts.Flushers <= 0 {
		opts.Flushers = 1
		if ob, ok := svc.Store().(OptimisticStore); ok && ob.OptimisticBatches() {
			opts.Flushers = 2
		}
	}
	if opts.Linger == 0 {
		opts.Linger = 300 * time.Microsecond
	}
	b := &Batcher{svc: svc, run: newRunner(svc), opts: opts, in: make(chan *batchCall, 4*opts.MaxBatch), busyCerts: map[uuid.UUID]int{}, busyKeys: map[string]int{}}
	for range opts.Flushers {
		b.wg.Add(1)
		go b.flusher()
	}
	return b
}

// Options are the options the Batcher runs with, defaults filled in.
func (b *Batcher) Options() BatcherOptions { return b.opts }

// Submit is Service.Submit through a shared transaction. Applications the
// batch does not run (made by a provider in the holder's presence) go to
// Service.Submit directly. If ctx ends while the application waits, Submit
// returns ctx's error; the application may still be committed by its batch,
// exactly as a request whose client gave up: send it again with the same
// key to learn its result.
func (b *Batcher) Submit(ctx context.Context, key string, r enrollment.SubmitRequest) (enrollment.Contract, error) {
	if r.ByProvider() != uuid.Nil || r.Waitlist {
		return b.svc.Submit(ctx, key, r)
	}
	call := &batchCall{enq: time.Now(), ctx: ctx, item: Item{Key: key, Request: r, At: b.svc.Now()}, done: make(chan Result, 1)}
	b.mu.RLock()
	if b.closed {
		b.mu.RUnlock()
		return enrollment.Contract{}, ErrClosed
	}
	select {
	case b.in <- call:
	case <-ctx.Done():
		b.mu.RUnlock()
		return enrollment.Contract{}, ctx.Err()
	}
	b.mu.RUnlock()
	select {
	case res := <-call.done:
		if res.Err != nil {
			b.svc.NoteRefusal(ctx, r, call.item.At, res.Err)
		}
		return res.Contract, res.Err
	case <-ctx.Done():
		return enrollment.Contract{}, ctx.Err()
	}
}

// Close stops taking applications, runs those already waiting and returns
// when every flusher has finished.
func (b *Batcher) Close() {
	b.mu.Lock()
	if !b.closed {
		b.closed = true
		close(b.in)
	}
	b.mu.Unlock()
	b.wg.Wait()
}

func (b *Batcher) flusher() {
	defer b.wg.Done()
	calls := make([]*batchCall, 0, b.opts.MaxBatch)
	items := make([]Item, 0, b.opts.MaxBatch)
	var answered int // callers answered by the last batch
	var answeredAt time.Time
	for {
		calls = b.takeHeld(calls[:0])
		if len(calls) == 0 {
			first, ok := <-b.in
			if !ok {
				if b.drained() {
					return
				}
				time.Sleep(100 * time.Microsecond) // held calls wait for another flusher's batch
				continue
			}
			calls = b.admit(calls, first)
		}
	take:
		for len(calls) < b.opts.MaxBatch {
			select {
			case c, ok := <-b.in:
				if !ok {
					break take
				}
				calls = b.admit(calls, c)
			default:
				break take
			}
		}
		if answered > 0 && b.opts.Linger > 0 && len(calls) > 0 && len(calls) < b.opts.MaxBatch {
			// Those just answered are likely to send again at once: give
			// them a moment to join this batch.
			old := 0
			for _, c := range calls {
				if c.enq.Before(answeredAt) {
					old++
				}
			}
			if want := min(old+answered, b.opts.MaxBatch); len(calls) < want {
				t := time.NewTimer(b.opts.Linger)
			linger:
				for len(calls) < want {
					select {
					case c, ok := <-b.in:
						if !ok {
							break linger
						}
						calls = b.admit(calls, c)
					case <-t.C:
						break linger
					}
				}
				t.Stop()
			}
		}
		if len(calls) == 0 {
			continue // everything taken was held back
		}
		items = items[:0]
		live := calls[:0:0]
		for _, c := range calls {
			if err := c.ctx.Err(); err != nil {
				// Its caller is gone and nothing was done yet.
				c.done <- Result{Err: err}
				continue
			}
			live = append(live, c)
			items = append(items, c.item)
		}
		if len(items) == 0 {
			b.release(calls)
			answered = 0
			continue
		}
		// The batch serves many callers: one caller's cancellation must not
		// abort the others' transaction.
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		res := b.run.submit(ctx, items)
		cancel()
		b.release(calls)
		answeredAt = time.Now()
		for i, c := range live {
			c.done <- res[i]
		}
		answered = len(live)
	}
}

// Concurrent batches (Flushers > 1) never share a certificate or a key: an
// application whose certificate or key is in another flusher's batch is
// held back until that batch is answered, so that an optimistic batch
// never reads a row another batch is about to change (which would fail
// its write and send it through the locked path).

// admit adds c to the batch being gathered (calls), or holds it back.
func (b *Batcher) admit(calls []*batchCall, c *batchCall) []*batchCall {
	if b.opts.Flushers == 1 {
		return append(calls, c)
	}
	b.busyMu.Lock()
	defer b.busyMu.Unlock()
	if !b.claim(calls, c) {
		b.held = append(b.held, c)
		return calls
	}
	return append(calls, c)
}

// takeHeld moves the held calls that no other batch conflicts with any
// more into calls.
func (b *Batcher) takeHeld(calls []*batchCall) []*batchCall {
	if b.opts.Flushers == 1 {
		return calls
	}
	b.busyMu.Lock()
	defer b.busyMu.Unlock()
	kept := b.held[:0]
	for _, c := range b.held {
		if len(calls) < b.opts.MaxBatch && b.claim(calls, c) {
			calls = append(calls, c)
		} else {
			kept = append(kept, c)
		}
	}
	clear(b.held[len(kept):])
	b.held = kept
	return calls
}

// claim marks c's certificate and key busy for the batch of calls, unless
// another batch has them (busyMu held).
func (b *Batcher) claim(calls []*batchCall, c *batchCall) bool {
	cert, key := c.item.Request.CertificateID, c.item.Key
	if b.busyCerts[cert] > 0 && !slices.ContainsFunc(calls, func(o *batchCall) bool { return o.item.Request.CertificateID == cert }) ||
		b.busyKeys[key] > 0 && !slices.ContainsFunc(calls, func(o *batchCall) bool { return o.item.Key == key }) {
		return false
	}
	b.busyCerts[cert]++
	b.busyKeys[key]++
	return true
}

// release frees the certificates and keys of an answered batch.
func (b *Batcher) release(calls []*batchCall) {
	if b.opts.Flushers == 1 {
		return
	}
	b.busyMu.Lock()
	defer b.busyMu.Unlock()
	for _, c := range calls {
		cert, key := c.item.Request.CertificateID, c.item.Key
		if b.busyCerts[cert]--; b.busyCerts[cert] == 0 {
			delete(b.busyCerts, cert)
		}
		if b.busyKeys[key]--; b.busyKeys[key] == 0 {
			delete(b.busyKeys, key)
		}
	}
}

// drained tells a flusher whose input is closed whether calls are still held.
func (b *Batcher) drained() bool {
	b.busyMu.Lock()
	defer b.busyMu.Unlock()
	return len(b.held) == 0
}
