// Command enrol measures enrolment throughput: the real submit-application
// service (every check, reserve, budget, seats, contract, postings and the
// idempotency record) through the batching batch.Batcher, and one
// transaction per application through Service.Submit, against pgbench's
// tpcb-like script at the same client count on the same PostgreSQL, run
// interleaved. With -sqlite it measures the embedded SQLite store against
// raw database/sql transactions doing the same writes.
//
//	go run ./examples/bench/enrol -pg 'postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable' -duration 20s
//	go run ./examples/bench/enrol -sqlite -duration 20s
//
// It creates and drops its own databases (edufund_bench_*).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/enrollment/batch"
	"github.com/edufund/edufund/examples/bench/internal/benchutil"
	"github.com/edufund/edufund/funding"
	"github.com/edufund/edufund/storage"
)

type options struct {
	pg        string
	sqlite    bool
	keep      bool
	duration  time.Duration
	workers   []int
	rounds    int
	certs     int
	groups    int
	pool      int
	maxBatch  int
	flushers  int
	linger    time.Duration
	pgbench   string
	skipBase  bool
	unbatched bool
	trace     bool
	portable  bool
	noFloor   bool
	inFlight  bool
}

func main() {
	var o options
	var workers string
	flag.StringVar(&o.pg, "pg", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable", "PostgreSQL server (an admin database); the benchmark creates and drops edufund_bench_* databases")
	flag.BoolVar(&o.sqlite, "sqlite", false, "measure the embedded SQLite store (a file in a temporary directory) instead of PostgreSQL")
	flag.DurationVar(&o.duration, "duration", 20*time.Second, "length of each measured run")
	flag.StringVar(&workers, "workers", "8,32", "concurrent clients, comma separated")
	flag.IntVar(&o.rounds, "rounds", 1, "interleaved rounds; the summary is the median")
	flag.IntVar(&o.certs, "certs", 10000, "funded certificates")
	flag.IntVar(&o.groups, "groups", 200, "groups (one program and module each)")
	flag.IntVar(&o.pool, "pool", 8, "PostgreSQL connection pool of the service")
	flag.IntVar(&o.maxBatch, "max-batch", 128, "applications per batch transaction at most")
	flag.IntVar(&o.flushers, "flushers", 0, "batches at once (0: the Batcher's default, 2 on PostgreSQL and 1 on SQLite)")
	flag.DurationVar(&o.linger, "linger", 0, "Batcher linger (0: its default; negative: none)")
	flag.StringVar(&o.pgbench, "pgbench", "", "pgbench binary (default: /usr/lib/postgresql/*/bin/pgbench)")
	flag.BoolVar(&o.skipBase, "skip-baseline", false, "do not run the baseline (pgbench, or raw SQLite)")
	flag.BoolVar(&o.unbatched, "unbatched", true, "also run one transaction per application (Service.Submit)")
	flag.BoolVar(&o.portable, "portable", false, "PostgreSQL: also run the Batcher on the store's portable profile (storage.WithPortable: no fast paths, every transaction serializable)")
	flag.BoolVar(&o.noFloor, "no-floor", false, "PostgreSQL: skip the raw-SQL floor (the rows an enrolment writes, batched, no reads, no rules)")
	flag.BoolVar(&o.inFlight, "floor-in-flight", false, "PostgreSQL: run the raw-SQL floor a second time with the service's load, one enrolment in flight a client, grouped by as many flushers, each transaction one pipelined round trip")
	flag.BoolVar(&o.trace, "trace", false, "print the mean time of each kind of statement (adds overhead)")
	flag.BoolVar(&o.keep, "keep", false, "keep the databases after the run (to look at plans)")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
	memprofile := flag.String("memprofile", "", "write the allocations of the whole run to this file (go tool pprof -sample_index=alloc_space)")
	flag.Parse()
	if *memprofile != "" {
		runtime.MemProfileRate = 64 << 10
		defer func() {
			f, err := os.Create(*memprofile)
			if err == nil {
				err = pprof.Lookup("allocs").WriteTo(f, 0)
				f.Close()
			}
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
			}
		}()
	}
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		_ = pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	for _, w := range strings.Split(workers, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(w))
		if err != nil || n <= 0 {
			fmt.Fprintf(os.Stderr, "bad -workers %q\n", workers)
			os.Exit(2)
		}
		o.workers = append(o.workers, n)
	}
	ctx := context.Background()
	var err error
	if o.sqlite {
		err = runSQLite(ctx, o)
	} else {
		err = runPostgres(ctx, o)
	}
	if err != nil {
		pprof.StopCPUProfile()
		fmt.Fprintln(os.Stderr, "enrol:", err)
		os.Exit(1)
	}
}

// result is one measured run.
type result struct {
	name     string
	workers  int
	round    int
	rate     float64 // successful enrolments (or transactions) per second
	p50, p99 time.Duration
	ok       int
	refused  int
	errs     int
	perTx    float64 // enrolments per commit, when known
	walPerOp float64 // WAL bytes per enrolment (or transaction), when known
	// CPU milliseconds per successful operation: the client process and
	// the database's backends (0 when not measured).
	clientCPU, serverCPU float64
	note                 string
}

// drive runs workers that each submit until the duration is over.
func drive(ctx context.Context, workers int, d time.Duration, certs, groups int, submit func(ctx context.Context, key string, cert, group int) error) result {
	var mu sync.Mutex
	var lat []time.Duration
	var ok, refused, errs int
	var firstErr error
	deadline := time.Now().Add(d)
	start := time.Now()
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), uint64(time.Now().UnixNano())))
			var my []time.Duration
			var o, r, e int
			var fe error
			for i := 0; time.Now().Before(deadline); i++ {
				key := "w" + strconv.Itoa(w) + "-" + strconv.Itoa(i)
				t0 := time.Now()
				err := submit(ctx, key, rng.IntN(certs), rng.IntN(groups))
				el := time.Since(t0)
				var re *funding.RuleError
				switch {
				case err == nil:
					o++
					my = append(my, el)
				case errors.As(err, &re):
					r++
				default:
					e++
					if fe == nil {
						fe = err
					}
				}
			}
			mu.Lock()
			lat = append(lat, my...)
			ok, refused, errs = ok+o, refused+r, errs+e
			if firstErr == nil {
				firstErr = fe
			}
			mu.Unlock()
		})
	}
	wg.Wait()
	el := time.Since(start)
	res := result{workers: workers, ok: ok, refused: refused, errs: errs, rate: float64(ok) / el.Seconds()}
	res.p50, res.p99, _ = benchutil.Latencies(lat)
	if firstErr != nil {
		res.note = "first error: " + firstErr.Error()
	}
	return res
}

// printTable prints every run and, per client count, the median of each
// kind with its ratios to the baselines.
func printTable(title string, all []result, baselines []string) {
	fmt.Printf("\n## %s\n\n", title)
	fmt.Println("| round | run | clients | rate /s | p50 ms | p99 ms | ok | refused | errors | enrolments/commit | WAL kB/op | CPU ms/op client + server |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|---|---|---|")
	for _, r := range all {
		per := ""
		if r.perTx > 0 {
			per = fmt.Sprintf("%.1f", r.perTx)
		}
		walKB := ""
		if r.walPerOp > 0 {
			walKB = fmt.Sprintf("%.2f", r.walPerOp/1024)
		}
		cpu := ""
		if r.clientCPU > 0 || r.serverCPU > 0 {
			cpu = fmt.Sprintf("%.3f + %.3f = %.3f", r.clientCPU, r.serverCPU, r.clientCPU+r.serverCPU)
		}
		fmt.Printf("| %d | %s | %d | %.0f | %s | %s | %d | %d | %d | %s | %s | %s |\n", r.round, r.name, r.workers, r.rate, benchutil.Ms(r.p50), benchutil.Ms(r.p99), r.ok, r.refused, r.errs, per, walKB, cpu)
	}
	for _, r := range all {
		if r.note != "" {
			fmt.Printf("\nnote (%s, %d clients, round %d): %s\n", r.name, r.workers, r.round, r.note)
		}
	}
	// Medians.
	type k struct {
		name    string
		workers int
	}
	med := map[k]result{}
	var order []k
	groups := map[k][]result{}
	for _, r := range all {
		key := k{r.name, r.workers}
		if _, ok := groups[key]; !ok {
			order = append(order, key)
		}
		groups[key] = append(groups[key], r)
	}
	for key, rs := range groups {
		sort.Slice(rs, func(i, j int) bool { return rs[i].rate < rs[j].rate })
		med[key] = rs[len(rs)/2]
	}
	sort.SliceStable(order, func(i, j int) bool { return order[i].workers < order[j].workers })
	fmt.Printf("\nMedians (rounds: %d)", len(groups[order[0]]))
	fmt.Print(", ratio = rate / baseline rate at the same client count\n\n")
	fmt.Print("| run | clients | rate /s | p50 ms | p99 ms | CPU ms/op |")
	for _, b := range baselines {
		fmt.Printf(" vs %s |", b)
	}
	fmt.Print("\n|---|---|---|---|---|---|")
	for range baselines {
		fmt.Print("---|")
	}
	fmt.Println()
	for _, key := range order {
		r := med[key]
		cpu := "–"
		if c := r.clientCPU + r.serverCPU; c > 0 {
			cpu = fmt.Sprintf("%.3f", c)
		}
		fmt.Printf("| %s | %d | %.0f | %s | %s | %s |", key.name, key.workers, r.rate, benchutil.Ms(r.p50), benchutil.Ms(r.p99), cpu)
		for _, b := range baselines {
			base, ok := med[k{b, key.workers}]
			if !ok || base.rate == 0 {
				fmt.Print(" – |")
				continue
			}
			fmt.Printf(" %.2f× |", r.rate/base.rate)
		}
		fmt.Println()
	}
}

// flushersText is the -flushers flag as the report's header shows it.
func flushersText(n int) string {
	if n <= 0 {
		return "the Batcher's default"
	}
	return strconv.Itoa(n)
}

// lingerText is the -linger flag as the report's header shows it.
func lingerText(d time.Duration) string {
	if d == 0 {
		return "the Batcher's default"
	}
	return d.String()
}

// submitters of the service.
func batched(svc *enrollment.Service, r *region, o options) (func(ctx context.Context, key string, c, g int) error, func()) {
	b := batch.NewBatcher(svc, batch.BatcherOptions{MaxBatch: o.maxBatch, Flushers: o.flushers, Linger: o.linger})
	bo := b.Options()
	fmt.Printf("  batcher: %d flushers, at most %d per batch, linger %v\n", bo.Flushers, bo.MaxBatch, bo.Linger)
	return func(ctx context.Context, key string, c, g int) error {
		_, err := b.Submit(ctx, key, enrollment.SubmitRequest{CertificateID: r.certs[c], GroupID: r.groups[g], By: enrollment.AsHolder(benchGuardian)})
		return err
	}, b.Close
}

func unbatched(svc *enrollment.Service, r *region) func(ctx context.Context, key string, c, g int) error {
	return func(ctx context.Context, key string, c, g int) error {
		_, err := svc.Submit(ctx, key, enrollment.SubmitRequest{CertificateID: r.certs[c], GroupID: r.groups[g], By: enrollment.AsHolder(benchGuardian)})
		return err
	}
}

// serviceRun loads a fresh region into db, measures one submitter and
// checks the invariants afterwards.
func serviceRun(ctx context.Context, db *storage.DB, o options, name string, workers int, batch bool, commits, wal func() int64, meter func() func() float64) (result, error) {
	t0 := time.Now()
	r, err := loadRegion(ctx, db, o.certs, o.groups)
	if err != nil {
		return result{}, fmt.Errorf("load region: %w", err)
	}
	load := time.Since(t0)
	var submit func(ctx context.Context, key string, c, g int) error
	done := func() {}
	if batch {
		submit, done = batched(r.svc, r, o)
	} else {
		submit = unbatched(r.svc, r)
	}
	var qs *benchutil.Statements
	if o.trace {
		qs = benchutil.NewStatements(40)
		db.Bun().AddQueryHook(qs)
		storage.BatchStatementHook = qs.Add
		defer func() { storage.BatchStatementHook = nil }()
	}
	c0 := commits()
	var w0 int64
	if wal != nil {
		w0 = wal()
	}
	var stopMeter func() float64
	if meter != nil {
		stopMeter = meter()
	}
	cpu0 := benchutil.SelfCPU()
	res := drive(ctx, workers, o.duration, len(r.certs), len(r.groups), submit)
	done()
	if res.ok > 0 {
		res.clientCPU = (benchutil.SelfCPU() - cpu0) * 1000 / float64(res.ok)
		if stopMeter != nil {
			res.serverCPU = stopMeter() * 1000 / float64(res.ok)
		}
	}
	if wal != nil && res.ok > 0 {
		res.walPerOp = float64(wal()-w0) / float64(res.ok)
	}
	if qs != nil {
		for _, st := range qs.Take() {
			fmt.Fprintf(os.Stderr, "    %8d × %7.3f ms  %s\n", st.Count, float64(st.Total)/float64(st.Count)/1e6, st.Query)
		}
	}
	if c1 := commits(); c1 > c0 {
		res.perTx = float64(res.ok+res.refused) / float64(c1-c0)
	}
	res.name = name
	t1 := time.Now()
	if err := storage.CheckInvariants(ctx, db); err != nil {
		return res, fmt.Errorf("%s, %d workers: %w", name, workers, err)
	}
	var contracts int
	if err := db.Bun().NewRaw("SELECT COUNT(*) FROM contracts").Scan(ctx, &contracts); err != nil {
		return res, err
	}
	if contracts != res.ok {
		return res, fmt.Errorf("%s: %d contracts stored, %d acknowledged", name, contracts, res.ok)
	}
	fmt.Fprintf(os.Stderr, "  %s w=%d: %.0f/s (load %.1fs, invariants ok in %.1fs, %d contracts)\n", name, workers, res.rate, load.Seconds(), time.Since(t1).Seconds(), contracts)
	return res, nil
}
