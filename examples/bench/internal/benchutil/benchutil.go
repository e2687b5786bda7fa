// Package benchutil is what the benchmarks (examples/bench/enrol,
// examples/bench/close and examples/bench/search) share: opening a migrated
// store, latency figures, the CPU time of processes, the time of each kind
// of statement, and the pool's pgx connections.
package benchutil

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/uptrace/bun"

	"github.com/edufund/edufund/storage"
)

// OpenMigrated opens the store at dsn and applies this build's migrations.
func OpenMigrated(ctx context.Context, dsn string, opts ...storage.Option) (*storage.DB, error) {
	db, err := storage.Open(ctx, dsn, opts...)
	if err != nil {
		return nil, err
	}
	if err := db.Migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// SelfCPU is this process's user+system CPU in seconds.
func SelfCPU() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// clockTicks is USER_HZ, the unit of /proc/<pid>/stat's times: 100 on
// Linux.
const clockTicks = 100

// ProcCPU is a process's command and its utime+stime in seconds, read
// from /proc.
func ProcCPU(pid int) (comm string, seconds float64, ok bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return "", 0, false
	}
	s := string(b)
	i, j := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if i < 0 || j < i {
		return "", 0, false
	}
	f := strings.Fields(s[j+1:])
	// After the command: state(0) ... utime(11) stime(12).
	if len(f) < 13 {
		return "", 0, false
	}
	u, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return "", 0, false
	}
	return s[i+1 : j], float64(u+st) / clockTicks, true
}

// Statements sums the time of each kind of statement, named by its first
// characters (spaces collapsed): bun's as a query hook, the fast paths'
// (which bypass bun) through storage.BatchStatementHook = Add.
type Statements struct {
	width int
	mu    sync.Mutex
	off   bool
	total map[string]time.Duration
	count map[string]int
}

// NewStatements names statements by their first width characters.
func NewStatements(width int) *Statements {
	return &Statements{width: width, total: map[string]time.Duration{}, count: map[string]int{}}
}

// BeforeQuery is bun.QueryHook.
func (s *Statements) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context { return ctx }

// AfterQuery is bun.QueryHook.
func (s *Statements) AfterQuery(_ context.Context, e *bun.QueryEvent) {
	s.Add(e.Query, time.Since(e.StartTime))
}

// Add counts one statement that took d.
func (s *Statements) Add(query string, d time.Duration) {
	q := strings.Join(strings.Fields(query), " ")
	if len(q) > s.width {
		q = q[:s.width]
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.off {
		return
	}
	s.total[q] += d
	s.count[q]++
}

// Stop counts nothing more.
func (s *Statements) Stop() {
	s.mu.Lock()
	s.off = true
	s.mu.Unlock()
}

// Stat is one kind of statement: how often it ran and its total time.
type Stat struct {
	Query string
	Count int
	Total time.Duration
}

// Take returns the kinds counted, the most time first, and starts afresh.
func (s *Statements) Take() []Stat {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Stat, 0, len(s.total))
	for q, d := range s.total {
		out = append(out, Stat{Query: q, Count: s.count[q], Total: d})
	}
	slices.SortFunc(out, func(a, b Stat) int { return cmp.Compare(b.Total, a.Total) })
	s.total, s.count = map[string]time.Duration{}, map[string]int{}
	return out
}

// EachConn holds n connections of db's pool at once, so that each is a
// different one, and runs fn on the pgx connection of each.
func EachConn(ctx context.Context, db *storage.DB, n int, fn func(c *pgx.Conn) error) error {
	conns := make([]*sql.Conn, 0, n)
	defer func() {
		for _, c := range conns {
			_ = c.Close()
		}
	}()
	for range n {
		c, err := db.Bun().DB.Conn(ctx)
		if err != nil {
			return err
		}
		conns = append(conns, c)
		err = c.Raw(func(dc any) error {
			sc, ok := dc.(*stdlib.Conn)
			if !ok {
				return fmt.Errorf("driver connection is a %T, not pgx", dc)
			}
			return fn(sc.Conn())
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// Waiting is first and what in holds at this moment, up to max in all: a
// batch of what waited, as the library's Batcher takes one, never waiting
// for more.
func Waiting[T any](first T, in <-chan T, max int) []T {
	group := []T{first}
	for len(group) < max {
		select {
		case v, ok := <-in:
			if !ok {
				return group
			}
			group = append(group, v)
		default:
			return group
		}
	}
	return group
}

// Latencies are the median, the 99th percentile and the mean of lat, which
// it sorts; zero for none.
func Latencies(lat []time.Duration) (p50, p99, mean time.Duration) {
	if len(lat) == 0 {
		return 0, 0, 0
	}
	slices.Sort(lat)
	var sum time.Duration
	for _, l := range lat {
		sum += l
	}
	return lat[len(lat)*50/100], lat[min(len(lat)-1, len(lat)*99/100)], sum / time.Duration(len(lat))
}

// Ms is d in milliseconds with two decimals, as the benchmarks print it.
func Ms(d time.Duration) string { return fmt.Sprintf("%.2f", float64(d)/float64(time.Millisecond)) }
