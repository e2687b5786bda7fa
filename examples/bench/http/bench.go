package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/examples/bench/internal/benchutil"
	"github.com/edufund/edufund/examples/server/api"
	"github.com/edufund/edufund/examples/server/demo"
	"github.com/edufund/edufund/funding"
	"github.com/edufund/edufund/storage"
)

const (
	dbService   = "edufund_http_svc"
	dbFloor     = "edufund_http_floor"
	dbPgbench50 = "edufund_http_pgb50"

	namePgbench = "pgbench tpcb-like s50"
	nameFloor   = "raw SQL floor"
	nameService = "HTTP server"
)

// result is one measured run.
type result struct {
	name     string
	workers  int
	round    int
	rate     float64
	p50, p99 time.Duration
	ok       int
	refused  map[string]int
	errs     int
	// CPU milliseconds per request (enrolment, transaction): this process
	// (or pgbench), the server process, PostgreSQL's backends.
	clientCPU, serverCPU, pgCPU float64
	allocs                      float64 // the server's mallocs per request
	note                        string
}

func (r result) refusals() int {
	n := 0
	for _, c := range r.refused {
		n += c
	}
	return n
}

// bench is one bench's state: the database, the region, the server.
type bench struct {
	o       options
	dir     string
	bin     string
	dsn     string
	db      *storage.DB // the library's view of the service database
	admin   *storage.DB // PostgreSQL only
	region  *region
	tokens  []string
	key     string
	pairs   *pairs
	runs    int
	logFile string
}

func run(ctx context.Context, o options) error {
	dir, err := os.MkdirTemp("", "edufund-bench-http-")
	if err != nil {
		return err
	}
	if !o.keep {
		defer os.RemoveAll(dir)
	}
	b := &bench{o: o, dir: dir, logFile: filepath.Join(dir, "server.log")}
	if b.bin = o.server; b.bin == "" {
		if b.bin, err = buildServer(dir); err != nil {
			return err
		}
	}
	kb := make([]byte, 32)
	_, _ = rand.Read(kb)
	b.key = hex.EncodeToString(kb)
	if o.sqlite {
		return b.runSQLite(ctx)
	}
	return b.runPostgres(ctx)
}

// setup loads the region into b.dsn: the server's demo command, then the
// bench's certificates, groups and history through the library.
func (b *bench) setup(ctx context.Context) error {
	t0 := time.Now()
	if err := loadDemo(b.bin, b.dsn); err != nil {
		return err
	}
	db, err := storage.Open(ctx, b.dsn)
	if err != nil {
		return err
	}
	b.db = db
	// The service as the server builds it for the demo region.
	svc := enrollment.NewService(db, funding.SystemClock{}, demo.Config(enrollment.DefaultConfig()))
	nHistory := b.o.history
	if b.region, err = addRegion(ctx, db, svc, b.o.certs, b.o.groups, nHistory); err != nil {
		return fmt.Errorf("region: %w", err)
	}
	fmt.Fprintf(os.Stderr, "region: demo + %d certificates, %d groups in %.1fs\n", b.o.certs, b.o.groups+nHistory, time.Since(t0).Seconds())
	t1 := time.Now()
	if err := addHistory(ctx, svc, b.region, b.o.history, 32); err != nil {
		return err
	}
	if b.o.history > 0 {
		fmt.Fprintf(os.Stderr, "history: %d contracts in %.1fs\n", b.o.history*b.o.certs, time.Since(t1).Seconds())
	}
	auth, err := api.NewAuth([]byte(b.key), 24*time.Hour, api.DefaultMaxTokenTTL)
	if err != nil {
		return err
	}
	for _, g := range b.region.guardians {
		t, err := auth.Issue(api.Principal{Role: api.RoleHolder, Subject: g, Tenant: g})
		if err != nil {
			return err
		}
		b.tokens = append(b.tokens, t)
	}
	b.pairs = newPairs(len(b.region.certs), len(b.region.groups))
	return nil
}

func (b *bench) header(store string) {
	fmt.Printf("# enrolment over HTTP, %s\n\n", store)
	fmt.Printf("- machine: %d CPUs (%s), Go %s; the server runs without GOGC, GOMEMLIMIT, GODEBUG, GOMAXPROCS\n", runtime.NumCPU(), benchutil.CPUModel(), runtime.Version())
	fmt.Printf("- command: %s\n", strings.Join(os.Args, " "))
	fmt.Printf("- region: the demo region + %d funded, active certificates (a guardian each), %d groups open in %s; %d contracts of history a certificate; %s per run\n",
		b.o.certs, b.o.groups, demo.MunCity, b.o.history, b.o.duration)
	fmt.Printf("- server: `server -db DSN -addr 127.0.0.1:0 -jwt-key KEY`, default flags; clients: one keep-alive http.Client, a holder token per certificate, distinct Idempotency-Keys, no (certificate, group) pair twice\n")
}

// serviceRun measures the server for one client count and checks the
// database afterwards.
func (b *bench) serviceRun(ctx context.Context, s *server, workers int, meter func() func() float64) (result, error) {
	b.runs++
	var before int
	if err := b.db.Bun().NewRaw("SELECT COUNT(*) FROM contracts").Scan(ctx, &before); err != nil {
		return result{}, err
	}
	m0, err := mallocs(s.base)
	if err != nil {
		return result{}, err
	}
	_, srv0, _ := benchutil.ProcCPU(s.cmd.Process.Pid)
	var stop func() float64
	if meter != nil {
		stop = meter()
	}
	cpu0 := benchutil.SelfCPU()
	l := drive(ctx, s.base, b.region, b.tokens, b.pairs, "run"+strconv.Itoa(b.runs), workers, b.o.duration)
	cpu1 := benchutil.SelfCPU()
	var pg float64
	if stop != nil {
		pg = stop()
	}
	_, srv1, _ := benchutil.ProcCPU(s.cmd.Process.Pid)
	m1, err := mallocs(s.base)
	if err != nil {
		return result{}, err
	}
	r := result{name: nameService, workers: workers, rate: l.rate, p50: l.p50, p99: l.p99, ok: l.ok, refused: l.refused, errs: l.errs, note: l.firstErr}
	if n := float64(l.ok + l.refusals()); n > 0 {
		r.clientCPU = (cpu1 - cpu0) * 1000 / n
		r.serverCPU = (srv1 - srv0) * 1000 / n
		r.pgCPU = pg * 1000 / n
		r.allocs = (m1 - m0) / n
	}
	t0 := time.Now()
	if err := storage.CheckInvariants(ctx, b.db); err != nil {
		return r, fmt.Errorf("after the run of %d clients: %w", workers, err)
	}
	var after int
	if err := b.db.Bun().NewRaw("SELECT COUNT(*) FROM contracts").Scan(ctx, &after); err != nil {
		return r, err
	}
	if after-before != l.ok {
		return r, fmt.Errorf("after the run of %d clients: %d contracts stored, %d acknowledged with 201", workers, after-before, l.ok)
	}
	fmt.Fprintf(os.Stderr, "  %s c=%d: %.0f/s, p99 %s ms, %d refused, %d errors (invariants ok in %.1fs)\n",
		nameService, workers, r.rate, benchutil.Ms(r.p99), r.refusals(), r.errs, time.Since(t0).Seconds())
	return r, nil
}

// profile restarts the server with -pprof and summarises a CPU profile
// taken under the largest client count; the run is not measured, but its
// database is checked like the others.
func (b *bench) profile(ctx context.Context) error {
	if b.o.profile <= 0 {
		return nil
	}
	s, err := startServer(b.bin, b.dsn, b.key, b.logFile, "-pprof", "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer s.stop()
	workers := slices.Max(b.o.workers)
	var l loadRun
	sum, err := profileSummary(ctx, s, b.bin, b.dir, b.o.profile, func() {
		l = drive(ctx, s.base, b.region, b.tokens, b.pairs, "profile", workers, b.o.profile+time.Second)
	})
	if err != nil {
		return err
	}
	fmt.Printf("\n## Where the server's time goes (%d clients, %.0f/s while profiled)\n%s", workers, l.rate, sum)
	return storage.CheckInvariants(ctx, b.db)
}

func (b *bench) runPostgres(ctx context.Context) error {
	o := b.o
	admin, err := storage.Open(ctx, o.pg, storage.WithMaxOpenConns(2))
	if err != nil {
		return err
	}
	defer admin.Close()
	b.admin = admin
	exec1 := func(q string) error {
		_, err := admin.Bun().ExecContext(ctx, q)
		return err
	}
	dropAll := func() {
		for _, d := range []string{dbService, dbFloor, dbPgbench50} {
			_ = exec1("DROP DATABASE IF EXISTS " + d + " WITH (FORCE)")
		}
	}
	dropAll()
	if !o.keep {
		defer dropAll()
	}
	if err := exec1("CREATE DATABASE " + dbService); err != nil {
		return err
	}
	if b.dsn, err = benchutil.DBURL(o.pg, dbService); err != nil {
		return err
	}
	if err := b.setup(ctx); err != nil {
		return err
	}
	defer func() { b.db.Close() }()

	u, err := url.Parse(o.pg)
	if err != nil {
		return err
	}
	env := benchutil.PgEnv(u)
	var pgbench string
	var floor *benchutil.PGFloor
	if !o.skipBase {
		if pgbench = o.pgbench; pgbench == "" {
			if pgbench, err = benchutil.FindPgbench(); err != nil {
				return err
			}
		}
		if err := exec1("CREATE DATABASE " + dbPgbench50); err != nil {
			return err
		}
		t0 := time.Now()
		if out, err := benchutil.Command(env, pgbench, "-i", "-s", "50", "-q", dbPgbench50); err != nil {
			return fmt.Errorf("pgbench -i -s 50: %w\n%s", err, out)
		}
		fmt.Fprintf(os.Stderr, "pgbench -i -s 50: %.1fs\n", time.Since(t0).Seconds())
		// The floor writes into a copy of the region, so that its rows
		// never meet the service's invariants.
		b.db.Close()
		if err := exec1("CREATE DATABASE " + dbFloor + " TEMPLATE " + dbService); err != nil {
			return err
		}
		if b.db, err = storage.Open(ctx, b.dsn); err != nil {
			return err
		}
		floorDSN, err := benchutil.DBURL(o.pg, dbFloor)
		if err != nil {
			return err
		}
		if floor, err = benchutil.NewPGFloor(ctx, floorDSN, demo.Config(enrollment.DefaultConfig()), funding.SystemClock{}, b.region.certs, b.region.guardians, b.region.groups); err != nil {
			return fmt.Errorf("floor: %w", err)
		}
		defer floor.Close()
	}
	if err := exec1("CHECKPOINT"); err != nil {
		return err
	}

	var version string
	_ = admin.Bun().NewRaw("SHOW server_version").Scan(ctx, &version)
	b.header("PostgreSQL " + version)
	if pgbench != "" {
		if fs := benchutil.FsyncLatency(filepath.Dir(pgbench)); fs != "" {
			fmt.Printf("- pg_test_fsync (one 8 kB write + fdatasync): %s\n", fs)
		}
	}
	if floor != nil {
		fmt.Printf("- raw SQL floor: %s\n", floor.Describe(o.floorBatch))
	}

	s, err := startServer(b.bin, b.dsn, b.key, b.logFile)
	if err != nil {
		return err
	}
	defer func() {
		if s != nil {
			s.stop()
		}
	}()
	meter := func(db string) func() func() float64 {
		return func() func() float64 { return benchutil.StartBackendMeter(ctx, admin, db).Stop }
	}
	var all []result
	for round := 1; round <= o.rounds; round++ {
		for _, w := range o.workers {
			if !o.skipBase {
				p, err := benchutil.RunPgbench(env, pgbench, dbPgbench50, w, o.duration, meter(dbPgbench50))
				if err != nil {
					return err
				}
				all = append(all, result{name: namePgbench, workers: w, round: round, rate: p.Rate, p50: p.P50, p99: p.P99, ok: p.OK, errs: p.Failed, clientCPU: p.ClientCPU, pgCPU: p.ServerCPU})
				fmt.Fprintf(os.Stderr, "  %s c=%d: %.0f tps\n", namePgbench, w, p.Rate)
				stop := meter(dbFloor)()
				cpu0 := benchutil.SelfCPU()
				f, err := floor.Run(ctx, w, o.floorBatch, o.duration)
				cpu1 := benchutil.SelfCPU()
				pg := stop()
				if err != nil {
					return fmt.Errorf("floor: %w", err)
				}
				r := result{name: nameFloor, workers: w, round: round, rate: f.Rate, p50: f.P50, p99: f.P99, ok: f.OK, errs: f.Errors, note: f.FirstError}
				if r.note == "" {
					r.note = fmt.Sprintf("p50 and p99 are a transaction's (%d enrolments); %d retried after a deadlock", o.floorBatch, f.Retries)
				}
				if f.OK > 0 {
					r.clientCPU, r.pgCPU = (cpu1-cpu0)*1000/float64(f.OK), pg*1000/float64(f.OK)
				}
				all = append(all, r)
				fmt.Fprintf(os.Stderr, "  %s c=%d: %.0f/s\n", nameFloor, w, f.Rate)
			}
			r, err := b.serviceRun(ctx, s, w, meter(dbService))
			r.round = round
			all = append(all, r)
			if err != nil {
				printTable(all, []string{namePgbench, nameFloor})
				return err
			}
		}
	}
	printTable(all, []string{namePgbench, nameFloor})
	s.stop()
	s = nil
	return b.profile(ctx)
}

func (b *bench) runSQLite(ctx context.Context) error {
	b.dsn = "sqlite:" + filepath.Join(b.dir, "region.db")
	if err := b.setup(ctx); err != nil {
		return err
	}
	defer func() { b.db.Close() }()
	b.header("SQLite (file in " + b.dir + ")")
	var floor func(ctx context.Context, key string, c, g int) error
	var floorPairs *pairs
	if !b.o.skipBase {
		// The floor writes into a copy of the region, so that its rows
		// never meet the service's invariants.
		file := filepath.Join(b.dir, "floor.db")
		if _, err := b.db.Bun().ExecContext(ctx, "VACUUM INTO ?", file); err != nil {
			return err
		}
		fdb, err := storage.Open(ctx, "sqlite:"+file)
		if err != nil {
			return err
		}
		defer fdb.Close()
		var done func()
		floor, done, err = benchutil.RawSQLite(ctx, fdb, benchutil.RawRegion{
			Certs: b.region.certs, Groups: b.region.groups, Municipality: demo.MunCity, Period: b.region.period, End: b.region.period.End, Now: time.Now(),
		}, true, 128)
		if err != nil {
			return fmt.Errorf("floor: %w", err)
		}
		defer done()
		floorPairs = newPairs(len(b.region.certs), len(b.region.groups))
		fmt.Printf("- raw SQL floor: the enrol bench's (benchutil.RawSQLite), batched: up to 128 enrolments a transaction, each under a savepoint, on a copy of the region\n")
	}
	s, err := startServer(b.bin, b.dsn, b.key, b.logFile)
	if err != nil {
		return err
	}
	defer func() {
		if s != nil {
			s.stop()
		}
	}()
	var all []result
	for round := 1; round <= b.o.rounds; round++ {
		for _, w := range b.o.workers {
			if floor != nil {
				cpu0 := benchutil.SelfCPU()
				l := driveFloor(ctx, floor, floorPairs, w, b.o.duration)
				f := result{name: nameFloor, workers: w, round: round, rate: l.rate, p50: l.p50, p99: l.p99, ok: l.ok, refused: l.refused, errs: l.errs, note: l.firstErr}
				if n := l.ok + l.refusals(); n > 0 {
					f.clientCPU = (benchutil.SelfCPU() - cpu0) * 1000 / float64(n)
				}
				all = append(all, f)
				fmt.Fprintf(os.Stderr, "  %s c=%d: %.0f/s\n", nameFloor, w, f.rate)
			}
			r, err := b.serviceRun(ctx, s, w, nil)
			r.round = round
			all = append(all, r)
			if err != nil {
				printTable(all, []string{nameFloor})
				return err
			}
		}
	}
	printTable(all, []string{nameFloor})
	s.stop()
	s = nil
	return b.profile(ctx)
}

// printTable prints every run, then per client count the median of each
// kind and the median of the service's ratios to each baseline of the same
// round.
func printTable(all []result, baselines []string) {
	fmt.Println()
	fmt.Println("| run | clients | round | rate /s | p50 ms | p99 ms | CPU ms/req client | server | PG | allocs/req | refused | errors | ratio vs baseline |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
	cpu := func(v float64) string {
		if v == 0 {
			return "–"
		}
		return fmt.Sprintf("%.3f", v)
	}
	for _, r := range all {
		allocs := "–"
		if r.allocs > 0 {
			allocs = fmt.Sprintf("%.0f", r.allocs)
		}
		var ratios []string
		for _, x := range all {
			if r.name == nameService && slices.Contains(baselines, x.name) && x.workers == r.workers && x.round == r.round && x.rate > 0 {
				ratios = append(ratios, fmt.Sprintf("%.2f× %s", r.rate/x.rate, x.name))
			}
		}
		fmt.Printf("| %s | %d | %d | %.0f | %s | %s | %s | %s | %s | %s | %s | %d | %s |\n", r.name, r.workers, r.round, r.rate, benchutil.Ms(r.p50), benchutil.Ms(r.p99),
			cpu(r.clientCPU), cpu(r.serverCPU), cpu(r.pgCPU), allocs, refusedText(r), r.errs, strings.Join(ratios, ", "))
	}
	for _, r := range all {
		if r.note != "" {
			fmt.Printf("\nnote (%s, %d clients, round %d): %s\n", r.name, r.workers, r.round, r.note)
		}
	}
	var clients []int
	for _, r := range all {
		if !slices.Contains(clients, r.workers) {
			clients = append(clients, r.workers)
		}
	}
	fmt.Print("\nMedians per client count; a ratio is the service's rate over the baseline's of the same round\n\n| run | clients | rate /s | p50 ms | p99 ms | CPU ms/req client + server + PG |")
	for _, b := range baselines {
		fmt.Printf(" vs %s |", b)
	}
	fmt.Print("\n|---|---|---|---|---|---|")
	for range baselines {
		fmt.Print("---|")
	}
	fmt.Println()
	for _, c := range clients {
		for _, name := range append([]string{nameService}, baselines...) {
			var rs []result
			for _, r := range all {
				if r.name == name && r.workers == c {
					rs = append(rs, r)
				}
			}
			if len(rs) == 0 {
				continue
			}
			rate := median(rs, func(r result) float64 { return r.rate })
			p50 := median(rs, func(r result) float64 { return float64(r.p50) })
			p99 := median(rs, func(r result) float64 { return float64(r.p99) })
			cpuAll := median(rs, func(r result) float64 { return r.clientCPU + r.serverCPU + r.pgCPU })
			fmt.Printf("| %s | %d | %.0f | %s | %s | %.3f |", name, c, rate, benchutil.Ms(time.Duration(p50)), benchutil.Ms(time.Duration(p99)), cpuAll)
			for _, base := range baselines {
				if name != nameService {
					fmt.Print(" |")
					continue
				}
				var ratios []float64
				for _, r := range rs {
					for _, x := range all {
						if x.name == base && x.workers == c && x.round == r.round && x.rate > 0 {
							ratios = append(ratios, r.rate/x.rate)
						}
					}
				}
				if len(ratios) == 0 {
					fmt.Print(" – |")
					continue
				}
				sort.Float64s(ratios)
				fmt.Printf(" %.2f× (%.2f–%.2f) |", ratios[len(ratios)/2], ratios[0], ratios[len(ratios)-1])
			}
			fmt.Println()
		}
	}
}

func median(rs []result, f func(result) float64) float64 {
	vs := make([]float64, len(rs))
	for i, r := range rs {
		vs[i] = f(r)
	}
	sort.Float64s(vs)
	return vs[len(vs)/2]
}

// refusedText is the refusals of a run, with their problem codes.
func refusedText(r result) string {
	n := r.refusals()
	if n == 0 {
		return "0"
	}
	codes := make([]string, 0, len(r.refused))
	for c, k := range r.refused {
		codes = append(codes, fmt.Sprintf("%s %d", c, k))
	}
	sort.Strings(codes)
	return fmt.Sprintf("%d (%.2f %%: %s)", n, 100*float64(n)/float64(n+r.ok), strings.Join(codes, ", "))
}
