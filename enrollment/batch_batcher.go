package enrollment

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/google/uuid"
)

// BatcherOptions tune a Batcher.
type BatcherOptions struct {
	// MaxBatch bounds the applications of one transaction (default 128).
	MaxBatch int
	// Flushers is how many batches run at once (default 1). One flusher
	// gives each batch every application that waited meanwhile; a second
	// overlaps one batch's reads with another's commit, but halves the
	// batches, and a batch's fixed cost (planning, round trips) then costs
	// more than the overlap gains: measured on 2 cores, PostgreSQL and
	// SQLite, 8 and 32 clients (storage/BENCHMARKS.md). Keep it at or under
	// the store's connection pool.
	Flushers int
	// Linger is how long a flusher that has just answered a batch waits at
	// most for those callers' next applications before it starts the next
	// transaction (default 300µs; negative: never waits). It waits only
	// while fewer applications are in hand than were waiting before that
	// answer plus the callers just answered, so a lone caller, or a batcher
	// that is not busy, is never delayed.
	Linger time.Duration
}

// ErrBatcherClosed is a submission to a closed Batcher.
var ErrBatcherClosed = errors.New("enrollment: batcher closed")

// Batcher gathers concurrent submissions into shared transactions ("smart
// batching"): a free flusher takes every application waiting at that
// moment, up to MaxBatch, and runs them as one SubmitBatch; when idle it
// waits for the next one and never for a timer, so a lone application is
// not delayed. Submit has Service.Submit's contract: it returns after the
// application's transaction committed (or was refused), with its own
// result.
type Batcher struct {
	svc  *Service
	opts BatcherOptions
	in   chan *batchCall

	mu     sync.RWMutex
	closed bool
	wg     sync.WaitGroup
}

type batchCall struct {
	enq  time.Time // when it was queued (monotonic)
	ctx  context.Context
	item BatchItem
	done chan BatchResult
}

// NewBatcher starts the flushers of a Batcher over svc. Close stops them.
func NewBatcher(svc *Service, opts BatcherOptions) *Batcher {
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = 128
	}
	if opts.Flushers <= 0 {
		opts.Flushers = 1
	}
	if opts.Linger == 0 {
		opts.Linger = 300 * time.Microsecond
	}
	b := &Batcher{svc: svc, opts: opts, in: make(chan *batchCall, 4*opts.MaxBatch)}
	for range opts.Flushers {
		b.wg.Add(1)
		go b.flusher()
	}
	return b
}

// Submit is Service.Submit through a shared transaction. Applications the
// batch does not run (made by a provider in the holder's presence) go to
// Service.Submit directly. If ctx ends while the application waits, Submit
// returns ctx's error; the application may still be committed by its batch,
// exactly as a request whose client gave up: send it again with the same
// key to learn its result.
func (b *Batcher) Submit(ctx context.Context, key string, r SubmitRequest) (Contract, error) {
	if r.ByProvider != uuid.Nil {
		return b.svc.Submit(ctx, key, r)
	}
	call := &batchCall{enq: time.Now(), ctx: ctx, item: BatchItem{Key: key, Request: r, At: b.svc.clock.Now()}, done: make(chan BatchResult, 1)}
	b.mu.RLock()
	if b.closed {
		b.mu.RUnlock()
		return Contract{}, ErrBatcherClosed
	}
	select {
	case b.in <- call:
	case <-ctx.Done():
		b.mu.RUnlock()
		return Contract{}, ctx.Err()
	}
	b.mu.RUnlock()
	select {
	case res := <-call.done:
		return res.Contract, res.Err
	case <-ctx.Done():
		return Contract{}, ctx.Err()
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
	items := make([]BatchItem, 0, b.opts.MaxBatch)
	var answered int // callers answered by the last batch
	var answeredAt time.Time
	for {
		first, ok := <-b.in
		if !ok {
			return
		}
		calls = append(calls[:0], first)
	take:
		for len(calls) < b.opts.MaxBatch {
			select {
			case c, ok := <-b.in:
				if !ok {
					break take
				}
				calls = append(calls, c)
			default:
				break take
			}
		}
		if answered > 0 && b.opts.Linger > 0 && len(calls) < b.opts.MaxBatch {
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
						calls = append(calls, c)
					case <-t.C:
						break linger
					}
				}
				t.Stop()
			}
		}
		items = items[:0]
		live := calls[:0:0]
		for _, c := range calls {
			if err := c.ctx.Err(); err != nil {
				// Its caller is gone and nothing was done yet.
				c.done <- BatchResult{Err: err}
				continue
			}
			live = append(live, c)
			items = append(items, c.item)
		}
		if len(items) == 0 {
			answered = 0
			continue
		}
		// The batch serves many callers: one caller's cancellation must not
		// abort the others' transaction.
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		res := b.svc.SubmitBatch(ctx, items)
		cancel()
		answeredAt = time.Now()
		for i, c := range live {
			c.done <- res[i]
		}
		answered = len(live)
	}
}
