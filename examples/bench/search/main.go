// Command search benchmarks the navigator's search (issue 27): a
// catalogue of -programs realistic Russian programs (catalog/catalogtest,
// default 100,000) built through the store's transactions into a fresh
// database, then -searchers concurrent searchers (default 32) calling
// storage.DB.SearchCatalog with a realistic mix of queries and filters
// while -writers clients (default 8) enrol through Service.Submit, against
// two baselines under the same writers, through the same pool (floor.go):
// the floor, the same searches as the cheapest raw SQL on the same index
// rows, and, with -fts (the default), the engine's own full-text search
// (PostgreSQL's tsvector with a GIN index, SQLite's FTS5) on a side table
// of the same programs. They run in turn, -duration each, for -rounds
// interleaved rounds (the order rotating), then each alone with one
// searcher and no writers (-serial); it prints p50, p99 and the mean of
// each run, their medians over the rounds, the ratios p99(navigator) /
// p99(baseline), by kind of query, and the targets met or missed.
//
//	go run ./examples/bench/search                      # SQLite, a file in a temporary directory
//	go run ./examples/bench/search -pg 'postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable'
//	go run ./examples/bench/search -quick               # 2,000 programs, 2 s, one round: a smoke run
//
// With -pg it creates the database -db (default edufund_bench_search)
// afresh and drops it at the end; -keep keeps it (or the SQLite file, at
// -db), and -reuse measures a kept one again without building it.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/edufund/edufund/catalog"
	"github.com/edufund/edufund/catalog/catalogtest"
	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/examples/bench/internal/benchutil"
	"github.com/edufund/edufund/funding"
	"github.com/edufund/edufund/storage"
)

type options struct {
	pg        string
	db        string
	programs  int
	seed      int64
	duration  time.Duration
	rounds    int
	searchers int
	writers   int
	certs     int
	groups    int
	searches  int
	pool      int
	batch     int
	keep      bool
	reuse     bool
	buildOnly bool
	serial    bool
	fts       bool
	slowest   int
}

// The targets.
const (
	targetPG     = 20 * time.Millisecond
	targetSQLite = 30 * time.Millisecond
	targetRatio  = 1.3
)

func main() {
	var o options
	flag.StringVar(&o.pg, "pg", "", "PostgreSQL server URL (an admin database, for CREATE DATABASE); empty: SQLite")
	flag.StringVar(&o.db, "db", "", "the database: with -pg its name (default edufund_bench_search), else the SQLite file (default: one in a temporary directory)")
	flag.IntVar(&o.programs, "programs", 100_000, "programs in the catalogue")
	flag.Int64Var(&o.seed, "seed", 1, "seed of the catalogue and of the searches")
	flag.DurationVar(&o.duration, "duration", 10*time.Second, "length of each measured run")
	flag.IntVar(&o.rounds, "rounds", 3, "interleaved rounds of floor and navigator; the summary is the median")
	flag.IntVar(&o.searchers, "searchers", 32, "concurrent searchers")
	flag.IntVar(&o.writers, "writers", 8, "concurrent enrolling clients (Service.Submit) during every run; 0: none")
	flag.IntVar(&o.certs, "certs", 500, "certificates the enrolling clients enrol")
	flag.IntVar(&o.groups, "groups", 100, "groups the enrolling clients enrol in")
	flag.IntVar(&o.searches, "searches", 4000, "distinct searches in the mix (each searcher goes through them from its own place)")
	flag.IntVar(&o.pool, "pool", 0, "PostgreSQL connection pool (0: the store's default, 8); SQLite always has one connection")
	flag.IntVar(&o.batch, "batch", 500, "programs per transaction while building the catalogue")
	flag.BoolVar(&o.keep, "keep", false, "keep the database at the end")
	flag.BoolVar(&o.reuse, "reuse", false, "measure a database kept by an earlier run with the same -programs and -seed, without building it")
	flag.BoolVar(&o.fts, "fts", true, "also measure the engine's own full-text search on the same data (a side table the bench builds: floor.go)")
	flag.BoolVar(&o.buildOnly, "build-only", false, "build the catalogue, keep the database and stop (then measure it with -reuse)")
	flag.BoolVar(&o.serial, "serial", true, "after the rounds, run the searches one at a time with no writers for -duration each (the cost of a search without queueing)")
	flag.IntVar(&o.slowest, "slowest", 0, "after the runs, time each of the mix's searches once alone with each run and list the N slowest navigator searches (where the time goes)")
	quick := flag.Bool("quick", false, "a smoke run: 2,000 programs, 2 s runs, one round (flags given explicitly still win)")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the measured runs to this file")
	flag.Parse()
	if *quick {
		set := map[string]bool{}
		flag.Visit(func(f *flag.Flag) { set[f.Name] = true })
		if !set["programs"] {
			o.programs = 2000
		}
		if !set["duration"] {
			o.duration = 2 * time.Second
		}
		if !set["rounds"] {
			o.rounds = 1
		}
		if !set["searches"] {
			o.searches = 500
		}
	}
	if o.buildOnly {
		o.keep = true
	}
	if err := run(context.Background(), o, *cpuprofile); err != nil {
		fmt.Fprintln(os.Stderr, "search bench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options, cpuprofile string) error {
	db, engine, cleanup, err := open(ctx, o)
	if err != nil {
		return err
	}
	defer cleanup()

	fmt.Printf("# navigator search, %s\n\n", engine)
	fmt.Printf("- machine: %d CPUs (%s), Go %s, %s\n", runtime.NumCPU(), benchutil.CPUModel(), runtime.Version(), gcSetting())
	if engine == "PostgreSQL" {
		var version string
		_ = db.Bun().NewRaw("SHOW server_version").Scan(ctx, &version)
		fmt.Printf("- PostgreSQL %s, pool %s\n", version, poolText(o.pool))
	}
	fmt.Printf("- command: %s\n", strings.Join(os.Args, " "))

	c, chosen := catalogue(o.seed, o.programs, o.groups)
	t0 := time.Now()
	if !o.reuse {
		if err := build(ctx, db, c, o.batch); err != nil {
			return err
		}
	}
	built := time.Since(t0)
	if engine == "PostgreSQL" {
		for _, t := range []string{"search_terms", "search_trigrams", "programs", "providers", "modules", "study_groups", "counters", "agreements"} {
			if _, err := db.Bun().ExecContext(ctx, "VACUUM ANALYZE "+t); err != nil {
				return err
			}
		}
	}
	var nProg, nTerms, nTri int
	_ = db.Bun().NewRaw("SELECT COUNT(*) FROM programs").Scan(ctx, &nProg)
	_ = db.Bun().NewRaw("SELECT COUNT(*) FROM search_terms").Scan(ctx, &nTerms)
	_ = db.Bun().NewRaw("SELECT COUNT(*) FROM search_trigrams").Scan(ctx, &nTri)
	if nProg < o.programs {
		return fmt.Errorf("the database holds %d programs, want %d (a -reuse of another catalogue?)", nProg, o.programs)
	}
	how := fmt.Sprintf("built in %.0f s through the store's transactions, %d programs each", built.Seconds(), o.batch)
	if o.reuse {
		how = "reused"
	}
	fmt.Printf("- catalogue: %d programs of %d providers (catalogtest, seed %d) in %d municipalities; %d index terms, %d title trigrams; %s\n",
		nProg, len(c.Providers), o.seed, len(catalogtest.DefaultMunicipalities), nTerms, nTri, how)
	if o.buildOnly {
		return nil
	}
	runs := []string{"floor", "navigator"}
	if o.fts {
		t := time.Now()
		if err := buildFTS(ctx, db); err != nil {
			return err
		}
		fmt.Printf("- the engine's full-text search: a side table of the same programs (floor.go), ready in %.0f s\n", time.Since(t).Seconds())
		runs = []string{"floor", "fts", "navigator"}
	}

	svc := enrollment.NewService(db, &funding.FixedClock{T: now}, serviceConfig(catalogtest.DefaultMunicipalities))
	var w *writers
	if o.writers > 0 {
		if w, err = setupWriters(ctx, svc, o.certs, chosen); err != nil {
			return err
		}
	}
	searches := mix(c, o.seed, o.searches)
	fmt.Printf("- load: %d searchers with no pause, %d distinct searches (%s); %s; %s per run, %d rounds of %s in turn (the order rotating)\n",
		o.searchers, len(searches), mixText(searches), writersText(o, len(chosen)), o.duration, o.rounds, strings.Join(runs, ", "))

	// The navigator and the floor must agree: each id the floor finds is
	// one the navigator counts.
	if err := agree(ctx, db, searches, 200, 30*time.Second); err != nil {
		return err
	}

	// Warm the caches with both.
	warm := min(2*time.Second, o.duration/2)
	for _, kind := range runs {
		measure(ctx, db, o, w, searches, kind, warm)
	}

	if cpuprofile != "" {
		f, err := os.Create(cpuprofile)
		if err != nil {
			return err
		}
		_ = pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	var all []result
	for round := 1; round <= o.rounds; round++ {
		for i := range runs {
			kind := runs[(i+round-1)%len(runs)]
			r := measure(ctx, db, o, w, searches, kind, o.duration)
			r.round = round
			fmt.Fprintf(os.Stderr, "  round %d %s: %.0f searches/s, p50 %s ms, p99 %s ms; %s\n", round, kind, r.rate, benchutil.Ms(r.p50), benchutil.Ms(r.p99), r.writes)
			all = append(all, r)
		}
	}
	var serial []result
	if o.serial {
		solo := o
		solo.searchers, solo.writers = 1, 0
		for _, kind := range runs {
			r := measure(ctx, db, solo, nil, searches, kind, o.duration)
			fmt.Fprintf(os.Stderr, "  alone %s: %.0f searches/s, p50 %s ms, p99 %s ms\n", kind, r.rate, benchutil.Ms(r.p50), benchutil.Ms(r.p99))
			serial = append(serial, r)
		}
	}
	report(engine, o, runs, all, serial)
	if o.slowest > 0 {
		return slowest(ctx, db, runs, searches, o.slowest)
	}
	return nil
}

// slowest times every search of the mix once with each run, one at a
// time, and prints the n slowest navigator searches with the others'
// times for the same search.
func slowest(ctx context.Context, db *storage.DB, runs []string, ss []search, n int) error {
	type timed struct {
		s  search
		el map[string]time.Duration
	}
	all := make([]timed, 0, len(ss))
	for _, s := range ss {
		t := timed{s: s, el: map[string]time.Duration{}}
		for _, kind := range runs {
			start := time.Now()
			if err := searchWith(ctx, db, kind, s.Search); err != nil {
				return fmt.Errorf("%s %q: %w", kind, s.Text, err)
			}
			t.el[kind] = time.Since(start)
		}
		all = append(all, t)
	}
	slices.SortFunc(all, func(a, b timed) int { return int(b.el["navigator"] - a.el["navigator"]) })
	fmt.Printf("\nThe %d slowest of %d searches, each run once alone, ms:\n\n| query | municipality | age | direction |", n, len(ss))
	for _, kind := range runs {
		fmt.Printf(" %s |", kind)
	}
	fmt.Print("\n|---|---|---|---|")
	for range runs {
		fmt.Print("---|")
	}
	fmt.Println()
	for _, t := range all[:min(n, len(all))] {
		fmt.Printf("| %s | %s | %d | %s |", t.s.Text, t.s.Municipality, t.s.Age, t.s.Direction)
		for _, kind := range runs {
			fmt.Printf(" %s |", benchutil.Ms(t.el[kind]))
		}
		fmt.Println()
	}
	return nil
}

// open opens (and, unless -reuse, creates afresh) the benchmark's
// database; cleanup closes it and drops it unless -keep.
func open(ctx context.Context, o options) (*storage.DB, string, func(), error) {
	if o.pg == "" {
		path, dir := o.db, ""
		if path == "" {
			if o.reuse || o.keep {
				return nil, "", nil, errors.New("-keep and -reuse need -db PATH with SQLite")
			}
			var err error
			if dir, err = os.MkdirTemp("", "edufund-bench-search-"); err != nil {
				return nil, "", nil, err
			}
			path = filepath.Join(dir, "search.db")
		} else if !o.reuse {
			for _, f := range []string{path, path + "-wal", path + "-shm"} {
				_ = os.Remove(f)
			}
		}
		db, err := benchutil.OpenMigrated(ctx, "sqlite:"+path)
		if err != nil {
			return nil, "", nil, err
		}
		return db, "SQLite", func() {
			db.Close()
			if dir != "" {
				os.RemoveAll(dir)
			}
		}, nil
	}
	name := o.db
	if name == "" {
		name = "edufund_bench_search"
	}
	admin, err := storage.Open(ctx, o.pg, storage.WithMaxOpenConns(1))
	if err != nil {
		return nil, "", nil, err
	}
	if !o.reuse {
		if _, err := admin.Bun().ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			admin.Close()
			return nil, "", nil, err
		}
		if _, err := admin.Bun().ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
			admin.Close()
			return nil, "", nil, err
		}
	}
	u, err := url.Parse(o.pg)
	if err != nil {
		admin.Close()
		return nil, "", nil, err
	}
	u.Path = "/" + name
	var opts []storage.Option
	if o.pool > 0 {
		opts = append(opts, storage.WithMaxOpenConns(o.pool))
	}
	db, err := benchutil.OpenMigrated(ctx, u.String(), opts...)
	if err != nil {
		admin.Close()
		return nil, "", nil, err
	}
	return db, "PostgreSQL", func() {
		db.Close()
		if !o.keep {
			_, _ = admin.Bun().ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
		}
		admin.Close()
	}, nil
}

// search is one search of the mix.
type search struct {
	catalog.Search
	kind catalogtest.QueryKind
}

// mix is n searches: the catalogtest queries, each with the filters a
// parent sets: a municipality (three in five, the larger ones more often,
// as their parents are more), a child's age (one in two), the query's
// direction (one in seven); a page of 20.
func mix(c catalogtest.Catalogue, seed int64, n int) []search {
	r := rand.New(rand.NewPCG(uint64(seed), 42))
	out := make([]search, 0, n)
	for _, q := range catalogtest.Queries(seed, n) {
		s := search{Search: catalog.Search{Text: q.Text, Limit: 20}, kind: q.Kind}
		if r.IntN(5) < 3 {
			s.Municipality = c.Programs[r.IntN(len(c.Programs))].Municipality
		}
		if r.IntN(2) == 0 {
			s.Age = 5 + r.IntN(12)
		}
		if q.Direction != "" && r.IntN(7) == 0 {
			s.Direction = q.Direction
		}
		out = append(out, s)
	}
	return out
}

var kinds = []catalogtest.QueryKind{catalogtest.QueryWord, catalogtest.QueryPrefix, catalogtest.QueryPhrase, catalogtest.QueryTypo, catalogtest.QueryName}

func mixText(ss []search) string {
	n := map[catalogtest.QueryKind]int{}
	var mun, age, dir int
	for _, s := range ss {
		n[s.kind]++
		if s.Municipality != "" {
			mun++
		}
		if s.Age > 0 {
			age++
		}
		if s.Direction != "" {
			dir++
		}
	}
	var parts []string
	for _, k := range kinds {
		parts = append(parts, fmt.Sprintf("%d%% %s", n[k]*100/len(ss), k))
	}
	return fmt.Sprintf("%s; filtered by municipality %d%%, age %d%%, direction %d%%; limit 20", strings.Join(parts, ", "), mun*100/len(ss), age*100/len(ss), dir*100/len(ss))
}

func writersText(o options, groups int) string {
	if o.writers == 0 {
		return "no enrolling clients"
	}
	return fmt.Sprintf("%d enrolling clients with no pause (Service.Submit, one transaction each: a random certificate of %d × a random group of %d; a second application of a certificate to a module is refused)", o.writers, o.certs, groups)
}

// agree checks that the floor answers what the navigator does: each id
// the floor finds is counted by the navigator (which also forgives
// misspelt title words, so it may find more).
func agree(ctx context.Context, db *storage.DB, ss []search, n int, d time.Duration) error {
	more, done := 0, 0
	deadline := time.Now().Add(d)
	for _, s := range ss[:min(n, len(ss))] {
		if done > 0 && time.Now().After(deadline) {
			break
		}
		done++
		ids, err := floor(ctx, db, s.Search)
		if err != nil {
			return fmt.Errorf("floor %q: %w", s.Text, err)
		}
		all := s.Search
		all.Limit = catalog.MaxSearchLimit
		res, err := db.SearchCatalog(ctx, all)
		if err != nil {
			return fmt.Errorf("navigator %q: %w", s.Text, err)
		}
		if res.Total < len(ids) {
			return fmt.Errorf("%q: the floor finds %d programs, the navigator %d", s.Text, len(ids), res.Total)
		}
		if res.Total <= catalog.MaxSearchLimit {
			found := map[uuid.UUID]bool{}
			for _, h := range res.Hits {
				found[h.ProgramID] = true
			}
			for _, id := range ids {
				if !found[id] {
					return fmt.Errorf("%q: the floor finds %v, the navigator does not", s.Text, id)
				}
			}
		}
		if len(ids) < s.Limit && res.Total > len(ids) {
			more++
		}
	}
	fmt.Printf("- check: on the first %d searches every program the floor finds the navigator finds too; on %d the navigator finds more (misspelt title words)\n", done, more)
	return nil
}

// result is one measured run.
type result struct {
	kind           string
	round          int
	n              int
	rate           float64
	p50, p99, mean time.Duration
	byKind         map[catalogtest.QueryKind][]time.Duration
	errs           int
	firstErr       error
	writes         string
	wOK, wRefused  int
	wErrs          int
	wp50, wp99     time.Duration
	wFirst         error // the first refusal or error of an enrolment
}

// searchWith runs s as the run kind does: the navigator, the engine's
// full-text search or the floor.
func searchWith(ctx context.Context, db *storage.DB, kind string, s catalog.Search) error {
	var err error
	switch kind {
	case "navigator":
		_, err = db.SearchCatalog(ctx, s)
	case "fts":
		_, err = fts(ctx, db, s)
	default:
		_, err = floor(ctx, db, s)
	}
	return err
}

// measure runs the searchers (the navigator's or the floor's) and the
// writers for d.
func measure(ctx context.Context, db *storage.DB, o options, w *writers, ss []search, kind string, d time.Duration) result {
	deadline := time.Now().Add(d)
	var mu sync.Mutex
	res := result{kind: kind, byKind: map[catalogtest.QueryKind][]time.Duration{}}
	var lat []time.Duration
	var wlat []time.Duration
	var wg sync.WaitGroup
	start := time.Now()
	for i := range o.searchers {
		wg.Go(func() {
			my := map[catalogtest.QueryKind][]time.Duration{}
			var errs int
			var first error
			for j := i * len(ss) / o.searchers; time.Now().Before(deadline); j++ {
				s := ss[j%len(ss)]
				t := time.Now()
				err := searchWith(ctx, db, kind, s.Search)
				el := time.Since(t)
				if err != nil {
					errs++
					if first == nil {
						first = err
					}
					continue
				}
				my[s.kind] = append(my[s.kind], el)
			}
			mu.Lock()
			defer mu.Unlock()
			for k, ls := range my {
				res.byKind[k] = append(res.byKind[k], ls...)
				lat = append(lat, ls...)
			}
			res.errs += errs
			if res.firstErr == nil {
				res.firstErr = first
			}
		})
	}
	nonce := strconv.FormatInt(time.Now().UnixNano(), 36)
	for i := range o.writers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(i), uint64(time.Now().UnixNano())))
			var my []time.Duration
			var ok, refused, errs int
			var first error
			for j := 0; time.Now().Before(deadline); j++ {
				key := nonce + "-" + strconv.Itoa(i) + "-" + strconv.Itoa(j)
				t := time.Now()
				_, err := w.svc.Submit(ctx, key, enrollment.SubmitRequest{CertificateID: w.certs[rng.IntN(len(w.certs))], GroupID: w.groups[rng.IntN(len(w.groups))], By: enrollment.AsHolder("parent")})
				el := time.Since(t)
				var re *funding.RuleError
				switch {
				case err == nil:
					ok++
					my = append(my, el)
				case errors.As(err, &re):
					refused++
				default:
					errs++
				}
				if err != nil && first == nil {
					first = err
				}
			}
			mu.Lock()
			defer mu.Unlock()
			wlat = append(wlat, my...)
			res.wOK, res.wRefused, res.wErrs = res.wOK+ok, res.wRefused+refused, res.wErrs+errs
			if res.wFirst == nil {
				res.wFirst = first
			}
		})
	}
	wg.Wait()
	el := time.Since(start)
	res.n = len(lat)
	res.rate = float64(len(lat)) / el.Seconds()
	res.p50, res.p99, res.mean = benchutil.Latencies(lat)
	res.wp50, res.wp99, _ = benchutil.Latencies(wlat)
	if o.writers > 0 {
		res.writes = fmt.Sprintf("enrolments %.0f/s (p50 %s ms, p99 %s ms), %d refused, %d errors", float64(res.wOK)/el.Seconds(), benchutil.Ms(res.wp50), benchutil.Ms(res.wp99), res.wRefused, res.wErrs)
	} else {
		res.writes = "no enrolments"
	}
	return res
}

func median(rs []result, f func(result) time.Duration) time.Duration {
	v := make([]time.Duration, len(rs))
	for i, r := range rs {
		v[i] = f(r)
	}
	slices.Sort(v)
	return v[len(v)/2]
}

// report prints every run, the medians, the ratios and the targets.
func report(engine string, o options, runs []string, all, serial []result) {
	fmt.Printf("\n## %s: search latency, %d searchers, %d enrolling clients\n\n", engine, o.searchers, o.writers)
	fmt.Println("| round | run | searches | searches/s | p50 ms | p99 ms | mean ms | errors | enrolments/s | enrol p50 / p99 ms | refused |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|---|---|")
	for _, r := range all {
		fmt.Printf("| %d | %s | %d | %.0f | %s | %s | %s | %d | %.0f | %s / %s | %d |\n", r.round, r.kind, r.n, r.rate, benchutil.Ms(r.p50), benchutil.Ms(r.p99), benchutil.Ms(r.mean), r.errs,
			float64(r.wOK)/o.duration.Seconds(), benchutil.Ms(r.wp50), benchutil.Ms(r.wp99), r.wRefused)
	}
	for _, r := range all {
		if r.firstErr != nil || r.wErrs > 0 || r.wRefused > r.wOK {
			fmt.Printf("\nnote (%s, round %d): %d search errors, first: %v; %d enrolments refused, %d errors, first: %v\n", r.kind, r.round, r.errs, r.firstErr, r.wRefused, r.wErrs, r.wFirst)
		}
	}
	by := map[string][]result{}
	for _, r := range all {
		by[r.kind] = append(by[r.kind], r)
	}
	p99 := func(r result) time.Duration { return r.p99 }
	p50 := func(r result) time.Duration { return r.p50 }
	mean := func(r result) time.Duration { return r.mean }
	rate := func(rs []result) float64 {
		v := make([]float64, len(rs))
		for i, r := range rs {
			v[i] = r.rate
		}
		slices.Sort(v)
		return v[len(v)/2]
	}
	fmt.Printf("\nMedians of %d rounds:\n\n", o.rounds)
	fmt.Println("| run | p50 ms | p99 ms | mean ms | searches/s |")
	fmt.Println("|---|---|---|---|---|")
	for _, k := range runs {
		rs := by[k]
		fmt.Printf("| %s | %s | %s | %s | %.0f |\n", k, benchutil.Ms(median(rs, p50)), benchutil.Ms(median(rs, p99)), benchutil.Ms(median(rs, mean)), rate(rs))
	}
	// The ratios per round (each against the baseline of its own round)
	// and their median.
	ratio := map[string]float64{}
	fmt.Println()
	for _, base := range runs {
		if base == "navigator" {
			continue
		}
		nav, bs := by["navigator"], by[base]
		var rs []float64
		var parts []string
		for i := range nav {
			if i < len(bs) && bs[i].p99 > 0 {
				x := float64(nav[i].p99) / float64(bs[i].p99)
				rs = append(rs, x)
				parts = append(parts, fmt.Sprintf("%.2f", x))
			}
		}
		slices.Sort(rs)
		if len(rs) > 0 {
			ratio[base] = rs[len(rs)/2]
		}
		fmt.Printf("ratio p99(navigator) / p99(%s): per round %s; median %.2f×\n", base, strings.Join(parts, ", "), ratio[base])
	}

	fmt.Println("\nBy kind of query, p50 / p99 ms, all rounds together:")
	fmt.Println()
	fmt.Print("| kind |")
	for _, k := range runs {
		fmt.Printf(" %s |", k)
	}
	fmt.Print("\n|---|")
	for range runs {
		fmt.Print("---|")
	}
	fmt.Println()
	for _, q := range kinds {
		fmt.Printf("| %s |", q)
		for _, k := range runs {
			var ls []time.Duration
			for _, r := range by[k] {
				ls = append(ls, r.byKind[q]...)
			}
			a, b, _ := benchutil.Latencies(ls)
			fmt.Printf(" %s / %s |", benchutil.Ms(a), benchutil.Ms(b))
		}
		fmt.Println()
	}

	if len(serial) > 0 {
		fmt.Printf("\nOne searcher alone, no enrolling clients, %s each (what a search costs without queueing):\n\n", o.duration)
		fmt.Println("| run | searches | p50 ms | p99 ms | mean ms |")
		fmt.Println("|---|---|---|---|---|")
		for _, r := range serial {
			fmt.Printf("| %s | %d | %s | %s | %s |\n", r.kind, r.n, benchutil.Ms(r.p50), benchutil.Ms(r.p99), benchutil.Ms(r.mean))
		}
	}

	target := targetSQLite
	if engine == "PostgreSQL" {
		target = targetPG
	}
	navP99 := median(by["navigator"], p99)
	fmt.Println("\nTargets (the ratio's is the issue's for PostgreSQL; shown for SQLite too):")
	fmt.Println()
	fmt.Printf("- p99 ≤ %d ms on %s: %s ms, %s\n", target.Milliseconds(), engine, benchutil.Ms(navP99), verdict(float64(navP99), float64(target)))
	for _, base := range runs {
		if base == "navigator" {
			continue
		}
		fmt.Printf("- p99 ≤ %.1f× the %s's: %.2f×, %s\n", targetRatio, base, ratio[base], verdict(ratio[base], targetRatio))
	}
}

func verdict(got, target float64) string {
	if got <= target {
		return fmt.Sprintf("met (%.0f%% of the target)", 100*got/target)
	}
	return fmt.Sprintf("missed by %.0f%% (%.2f× the target)", 100*(got/target-1), got/target)
}

func poolText(n int) string {
	if n <= 0 {
		return "8 (the store's default)"
	}
	return strconv.Itoa(n)
}

func gcSetting() string {
	if v := os.Getenv("GOGC"); v != "" {
		return "GOGC=" + v
	}
	return "GOGC=100 (default)"
}
