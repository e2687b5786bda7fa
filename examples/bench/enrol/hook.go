package main

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/uptrace/bun"
)

// queryStats is a bun query hook (-trace) that sums the time of each kind
// of statement.
type queryStats struct {
	mu sync.Mutex
	d  map[string]time.Duration
	n  map[string]int
}

func newQueryStats() *queryStats {
	return &queryStats{d: map[string]time.Duration{}, n: map[string]int{}}
}

func (q *queryStats) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context { return ctx }

func (q *queryStats) AfterQuery(_ context.Context, e *bun.QueryEvent) {
	q.add(e.Query, time.Since(e.StartTime))
}

// add counts one statement (also storage.BatchStatementHook: the batch
// statements on PostgreSQL go through pgx directly, not bun).
func (q *queryStats) add(k string, d time.Duration) {
	if len(k) > 40 {
		k = k[:40]
	}
	k = strings.Join(strings.Fields(k), " ")
	q.mu.Lock()
	q.d[k] += d
	q.n[k]++
	q.mu.Unlock()
}

func (q *queryStats) print() {
	q.mu.Lock()
	defer q.mu.Unlock()
	var ks []string
	for k := range q.d {
		ks = append(ks, k)
	}
	sort.Slice(ks, func(i, j int) bool { return q.d[ks[i]] > q.d[ks[j]] })
	for _, k := range ks {
		fmt.Fprintf(os.Stderr, "    %8d × %7.3f ms  %s\n", q.n[k], float64(q.d[k])/float64(q.n[k])/1e6, k)
	}
	q.d, q.n = map[string]time.Duration{}, map[string]int{}
}
