// Command close benchmarks the night of the monthly close on PostgreSQL:
// a region of -contracts active contracts (default 1,000,000) closed with
// enrollment/batch.CloseMonth, against the floor of writing the
// same charge postings with one INSERT … SELECT.
//
//	go run ./examples/bench/close -pg 'postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable' -contracts 1000000
//
// It generates the region once, with set-based SQL, into a database of its
// own (-db with _region: certificates, accounts, holds, contracts active
// since January, their January and February charges, the postings behind
// every account, and the invoice lines and totals February's close
// issued), and then runs -rounds rounds (default 3), each on a fresh copy
// of that database (CREATE DATABASE … TEMPLATE, a file copy):
//
//  1. the floor: one INSERT INTO postings … SELECT writing the March charge
//     posting of every contract, timed, then rolled back and vacuumed away;
//  2. the batched close of March (time, CPU, peak RSS of this process);
//  3. the same close again: it must charge nothing;
//  4. the floor again (the machine's speed drifts; the close is compared
//     with the floor before it, after it and their mean);
//  5. the invariants of the design over the whole database.
//
// It ends with a table of the rounds and the median of the close's time over
// the mean of its floors: this machine's speed moves by tens of percent
// within minutes, so one round is not a figure. -keep keeps the databases;
// -reuse closes a region kept by an earlier run instead of generating it
// again, so that two builds can be run in turn on the same region.
// -history N gives every contract N earlier months of invoice lines, as a
// region has them by a later month of a school year.
//
// -wal-compression off|pglz|lz4|zstd sets wal_compression on every connection of
// the bench (floor and close alike) through the DSN's options parameter; the
// bench shows it on each pooled connection before the floor and after the close.
//
// See README.md in this directory for figures and what limits the rate.
package main

import (
	"bufio"
	"cmp"
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"net/url"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/enrollment/batch"
	"github.com/edufund/edufund/examples/bench/internal/benchutil"
	"github.com/edufund/edufund/funding"
	"github.com/edufund/edufund/storage"
)

func main() {
	pg := flag.String("pg", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable", "PostgreSQL server URL (a database to connect to for CREATE DATABASE)")
	n := flag.Int("contracts", 1_000_000, "active contracts in the region (two per certificate)")
	history := flag.Int("history", 0, "months of earlier invoice lines per contract, two a month, before the region's year (at most 12): a later month's close")
	page := flag.Int("page", batch.DefaultClosePage, "contracts per transaction of the batched close")
	flag.IntVar(&workers, "workers", 2, "pages of the batched close in flight at once")
	dbName := flag.String("db", "edufund_bench_close", "name of the scratch database (dropped and created)")
	keep := flag.Bool("keep", false, "keep the scratch database (the last round's) and the region's database at the end")
	reuse := flag.Bool("reuse", false, "reuse the region's database (-db with _region) of an earlier run with -keep and the same -contracts, and keep it")
	rounds := flag.Int("rounds", 3, "rounds of floor, close and floor, each on a fresh copy of the region")
	flag.BoolVar(&profile, "profile", false, "print the time spent per kind of statement in the first close")
	flag.StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of the first close to this file")
	flag.StringVar(&memProfile, "memprofile", "", "write the allocations of the first close (the allocs profile, counted from its start) to this file")
	flag.BoolVar(&generateOnly, "generate-only", false, "generate the region, copy it to -db, keep both and stop (for EXPLAIN)")
	flag.StringVar(&walCompression, "wal-compression", "", "set wal_compression (off, pglz, lz4, zstd) on every connection of the bench, floor and close alike, as a connection option; empty: the server's setting")
	flag.Parse()
	if err := run(context.Background(), *pg, *dbName, *n, *history, *page, *rounds, *keep, *reuse); err != nil {
		fmt.Fprintln(os.Stderr, "close bench:", err)
		os.Exit(1)
	}
}

var month = funding.Month{Year: 2026, Month: time.March}

// poolSize is the bench store's pool: the size perf-baseline.md recommends
// on this 2-core machine.
const poolSize = 4

var (
	profile      bool
	generateOnly bool
	workers      int
	cpuProfile   string
	memProfile   string
	// walCompression is the -wal-compression flag: when set, every
	// connection of the bench starts with -c wal_compression=… (a
	// superuser-settable parameter, so the server's own configuration is
	// left as it is).
	walCompression string
)

// withWALCompression adds -c wal_compression=… to the DSN's options
// parameter, which pgx sends in the startup message of every connection.
func withWALCompression(u *url.URL) error {
	if walCompression == "" {
		return nil
	}
	switch walCompression {
	case "off", "pglz", "lz4", "zstd", "on":
	default:
		return fmt.Errorf("-wal-compression %q: want off, pglz, lz4 or zstd", walCompression)
	}
	q := u.Query()
	opt := strings.TrimSpace(q.Get("options") + " -c wal_compression=" + walCompression)
	q.Set("options", opt)
	// Spaces as %20: pgx does not read + in a URL's query as a space.
	u.RawQuery = strings.ReplaceAll(q.Encode(), "+", "%20")
	return nil
}

// showEveryConn holds n connections of the store's pool at once and runs
// SHOW name on each through the pgx connection itself (as the close's
// InCloseTx does), so that every pooled connection the close can use is
// seen; it returns the distinct values.
func showEveryConn(ctx context.Context, db *storage.DB, n int, name string) ([]string, error) {
	seen := map[string]int{}
	err := benchutil.EachConn(ctx, db, n, func(c *pgx.Conn) error {
		var v string
		if err := c.QueryRow(ctx, "SHOW "+name).Scan(&v); err != nil {
			return err
		}
		var pid int
		if err := c.QueryRow(ctx, "SELECT pg_backend_pid()").Scan(&pid); err != nil {
			return err
		}
		seen[fmt.Sprintf("%s (pid %d)", v, pid)]++
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(seen))
	for k := range seen {
		out = append(out, k)
	}
	sort.Strings(out)
	return out, nil
}

// showPlanCache prints, for each pooled connection, how many generic and
// custom plans its prepared statements (pgx's statement cache) were run
// with: a custom plan is planned again at every execution.
func showPlanCache(ctx context.Context, db *storage.DB, n int) error {
	return benchutil.EachConn(ctx, db, n, func(c *pgx.Conn) error {
		rows, err := c.Query(ctx, `SELECT left(regexp_replace(statement, '\s+', ' ', 'g'), 50), generic_plans, custom_plans
			FROM pg_prepared_statements WHERE generic_plans + custom_plans > 1 ORDER BY 1`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var q string
			var g, cu int64
			if err := rows.Scan(&q, &g, &cu); err != nil {
				return err
			}
			fmt.Printf("  plans: %4d generic %4d custom  %s\n", g, cu, q)
		}
		return rows.Err()
	})
}

func run(ctx context.Context, base, dbName string, n, history, page, rounds int, keep, reuse bool) error {
	if history < 0 || history > 12 {
		return fmt.Errorf("-history %d: want 0 to 12 months", history)
	}
	if n < 2 || n%2 != 0 {
		return fmt.Errorf("-contracts must be even and positive")
	}
	if rounds < 1 {
		return fmt.Errorf("-rounds must be at least 1")
	}
	u, err := url.Parse(base)
	if err != nil {
		return err
	}
	if err := withWALCompression(u); err != nil {
		return err
	}
	admin, err := storage.Open(ctx, u.String(), storage.WithMaxOpenConns(1))
	if err != nil {
		return err
	}
	defer admin.Close()
	region := dbName + "_region"
	at := func(name string) string {
		v := *u
		v.Path = "/" + name
		return v.String()
	}

	var version, walComp, fpw string
	for q, v := range map[string]*string{"server_version": &version, "wal_compression": &walComp, "full_page_writes": &fpw} {
		if err := admin.Bun().NewRaw("SHOW "+q).Scan(ctx, v); err != nil {
			return err
		}
	}
	how := "the server's setting"
	if walCompression != "" {
		how = "set per connection by -wal-compression"
	}
	fmt.Printf("PostgreSQL %s, %d CPUs, GOMAXPROCS %d, %s, GOGC %s; %d contracts, %d certificates, %d months of earlier lines, page %d, workers %d, %d rounds\n",
		version, runtime.NumCPU(), runtime.GOMAXPROCS(0), runtime.Version(), cmp.Or(os.Getenv("GOGC"), "100"), n, n/2, history, page, workers, rounds)
	fmt.Printf("wal_compression %s (%s), full_page_writes %s\n", walComp, how, fpw)

	// The region is generated once into its own database, which every
	// round copies (CREATE DATABASE … TEMPLATE, a file copy): each round
	// closes the same region from the same state.
	have := false
	if reuse {
		have, err = regionHas(ctx, at(region), n, history)
		if err != nil {
			return err
		}
	}
	if have {
		// A region kept by an earlier build may be behind this build's
		// migrations: bring it up to date once, not in every round's copy.
		if err := migrateRegion(ctx, at(region)); err != nil {
			return err
		}
		fmt.Printf("region: %s, reused\n", region)
	} else if err := generateRegion(ctx, admin, at(region), region, n, history); err != nil {
		return err
	}
	if !keep && !reuse && !generateOnly {
		defer func() { _ = execAll(ctx, admin, "DROP DATABASE IF EXISTS "+region+" WITH (FORCE)") }()
	}
	copyRegion := func() error {
		return execAll(ctx, admin, "DROP DATABASE IF EXISTS "+dbName+" WITH (FORCE)",
			"CREATE DATABASE "+dbName+" TEMPLATE "+region+" STRATEGY FILE_COPY")
	}
	if generateOnly {
		return copyRegion()
	}

	var results []roundResult
	for i := range rounds {
		fmt.Printf("\nround %d of %d\n", i+1, rounds)
		if err := copyRegion(); err != nil {
			return err
		}
		res, err := runRound(ctx, at(dbName), n, page, i == 0)
		if err != nil {
			return fmt.Errorf("round %d: %w", i+1, err)
		}
		results = append(results, res)
	}
	if !keep {
		if err := execAll(ctx, admin, "DROP DATABASE IF EXISTS "+dbName+" WITH (FORCE)"); err != nil {
			return err
		}
	}

	var maxrss syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &maxrss)
	fmt.Println()
	fmt.Println("| round | contracts | floor before / after s | close s | ratio to before / after / mean | CPU µs per contract: client + server (floor's server) | peak RSS MB (sampled) | second run s | second-run charged |")
	fmt.Println("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	ratios := make([]float64, len(results))
	for i, r := range results {
		mean := (r.floor + r.floor2).Seconds() / 2
		ratios[i] = r.close.Seconds() / mean
		fmt.Printf("| %d | %d | %.2f / %.2f | %.2f | %.2f / %.2f / **%.2f** | %.1f + %.1f (%.1f) | %.0f | %.2f | %d |\n",
			i+1, n, r.floor.Seconds(), r.floor2.Seconds(), r.close.Seconds(),
			r.close.Seconds()/r.floor.Seconds(), r.close.Seconds()/r.floor2.Seconds(), ratios[i],
			r.client/float64(n)*1e6, r.server/float64(n)*1e6, r.floorServer/float64(n)*1e6,
			r.rss, r.again.Seconds(), r.againCharged)
	}
	slices.Sort(ratios)
	fmt.Printf("\nclose / mean floor: median %.2f, range %.2f–%.2f over %d rounds; peak RSS of the process %.0f MB (VmHWM)\n",
		median(ratios), ratios[0], ratios[len(ratios)-1], len(ratios), float64(maxrss.Maxrss)/1024)
	return nil
}

func median(sorted []float64) float64 {
	k := len(sorted)
	if k%2 == 1 {
		return sorted[k/2]
	}
	return (sorted[k/2-1] + sorted[k/2]) / 2
}

// regionShape numbers what generate writes, so that -reuse does not close a
// region kept by a bench that generated something else. 2: with February's
// invoice lines and totals (and -history's, recorded beside it).
const regionShape = 2

// regionHas tells whether the database at dsn is a region of n contracts
// generated by this bench, in the shape it generates now.
func regionHas(ctx context.Context, dsn string, n, history int) (bool, error) {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return false, err
	}
	defer db.Close()
	var got, shape, hist int
	err = db.QueryRowContext(ctx, "SELECT contracts, shape, history FROM bench_region").Scan(&got, &shape, &hist)
	if err != nil {
		var pe *pgconn.PgError
		if errors.As(err, &pe) && (pe.Code == "3D000" || pe.Code == "42P01" || pe.Code == "42703") { // no such database, table, column
			return false, nil
		}
		return false, err
	}
	return got == n && shape == regionShape && hist == history, nil
}

// migrateRegion applies this build's migrations to the region at dsn.
func migrateRegion(ctx context.Context, dsn string) error {
	db, err := benchutil.OpenMigrated(ctx, dsn, storage.WithMaxOpenConns(1))
	if err != nil {
		return err
	}
	return db.Close()
}

// generateRegion creates the database name at dsn, migrates it and
// generates a region of n contracts in it.
func generateRegion(ctx context.Context, admin *storage.DB, dsn, name string, n, history int) error {
	if err := execAll(ctx, admin, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)", "CREATE DATABASE "+name); err != nil {
		return err
	}
	db, err := benchutil.OpenMigrated(ctx, dsn, storage.WithMaxOpenConns(1))
	if err != nil {
		return err
	}
	defer db.Close()
	t0 := time.Now()
	if err := execAll(ctx, db, append(generate(n, history), fmt.Sprintf("CREATE TABLE bench_region AS SELECT %d AS contracts, %d AS shape, %d AS history", n, regionShape, history))...); err != nil {
		return err
	}
	fmt.Printf("region: %s, generated in %.1fs\n", name, time.Since(t0).Seconds())
	return nil
}

// roundResult is what one round measured.
type roundResult struct {
	floor, close, again, floor2 time.Duration
	client, server, floorServer float64 // CPU seconds
	rss                         float64 // peak VmRSS during the close, MB
	againCharged                int
}

// runRound runs the floor, the close, the close again, the floor again and
// the invariant checks on the database at dsn, a fresh copy of the region;
// first says whether the profiles asked for are taken in this round.
func runRound(ctx context.Context, dsn string, n, page int, first bool) (roundResult, error) {
	var res roundResult
	// A pool of 4, the size perf-baseline.md recommends on this 2-core
	// machine; the close uses one connection per worker.
	db, err := benchutil.OpenMigrated(ctx, dsn, storage.WithMaxOpenConns(poolSize))
	if err != nil {
		return res, err
	}
	defer db.Close()
	exec := func(q string) error { return execAll(ctx, db, q) }

	// Every connection of the pool, which the floor and the close use, must
	// have the requested wal_compression.
	if err := checkWALCompression(ctx, db, "before the floor"); err != nil {
		return res, err
	}

	// 1. The floor, inside a transaction that is rolled back; VACUUM then
	// removes its dead rows so that the close meets the table as it was.
	if err := exec("CHECKPOINT"); err != nil {
		return res, err
	}
	floorCPU := startCPU()
	floor, floorWAL, err := floorRun(ctx, db)
	if err != nil {
		return res, err
	}
	_, res.floorServer = floorCPU.stop()
	res.floor = floor
	if err := exec("VACUUM postings"); err != nil {
		return res, err
	}
	if err := exec("CHECKPOINT"); err != nil {
		return res, err
	}
	fmt.Printf("floor: INSERT … SELECT of %d postings in %.2fs, %.0f MB of WAL (server-wide), server CPU %.2fs\n", n, floor.Seconds(), float64(floorWAL)/1e6, res.floorServer)

	// 2. The batched close.
	clock := &funding.FixedClock{T: time.Date(2026, time.March, 1, 3, 0, 0, 0, time.UTC)}
	svc := enrollment.NewService(db, clock, enrollment.DefaultConfig())
	var fallbacks int
	opts := batch.CloseOptions{PageSize: page, Workers: workers, OnFallback: func(_ uuid.UUID, err error) {
		fallbacks++
		fmt.Fprintln(os.Stderr, "page fell back to the per-contract path:", err)
	}}
	prof := profile && first
	times := benchutil.NewStatements(60)
	storage.BatchStatementHook = nil
	if prof {
		db.Bun().AddQueryHook(times)
		storage.BatchStatementHook = times.Add
	}
	peak := startPeakSampler()
	if cpuProfile != "" && first {
		f, err := os.Create(cpuProfile)
		if err != nil {
			return res, err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return res, err
		}
	}
	lsn0, err := walLSN(ctx, db)
	if err != nil {
		return res, err
	}
	if memProfile != "" && first {
		// The allocs profile counts from the start of the process: write
		// the close's own allocations, the difference from a profile taken
		// now (pprof -base).
		if err := writeProfile("allocs", memProfile+".base"); err != nil {
			return res, err
		}
	}
	closeCPU := startCPU()
	t1 := time.Now()
	rep, err := batch.CloseMonth(ctx, svc, month, opts)
	res.close = time.Since(t1)
	res.client, res.server = closeCPU.stop()
	if cpuProfile != "" && first {
		pprof.StopCPUProfile()
	}
	if memProfile != "" && first {
		if err := writeProfile("allocs", memProfile); err != nil {
			return res, err
		}
	}
	times.Stop()
	if prof {
		for _, st := range times.Take() {
			fmt.Printf("  %7.2fs %6d  %s\n", st.Total.Seconds(), st.Count, st.Query)
		}
	}
	if err != nil {
		return res, err
	}
	res.rss = peak()
	closeWAL, err := walSince(ctx, db, lsn0)
	if err != nil {
		return res, err
	}
	lsn1, err := walLSN(ctx, db)
	if err != nil {
		return res, err
	}
	// The range lets pg_waldump --stats break the close's WAL down by record
	// kind (with wal_keep_size raised so that its segments are kept).
	fmt.Printf("close WAL: %s to %s\n", lsn0, lsn1)
	fmt.Printf("close: %d contracts, %d charged (%s), %d invoice lines, %d failed, %d fallbacks in %.2fs, %.0f MB of WAL (server-wide)\n",
		rep.Contracts, rep.Charged, rep.Amount, rep.Lines, len(rep.Failed), fallbacks, res.close.Seconds(), float64(closeWAL)/1e6)
	fmt.Printf("close CPU: client %.2fs, server %.2fs (all postgres processes), %.1f µs per contract; %.2fx the floor's server CPU\n",
		res.client, res.server, (res.client+res.server)/float64(n)*1e6, (res.client+res.server)/res.floorServer)
	if err := checkWALCompression(ctx, db, "after the close"); err != nil {
		return res, err
	}
	if prof {
		if err := showPlanCache(ctx, db, poolSize); err != nil {
			return res, err
		}
	}
	if rep.Charged != n || len(rep.Failed) != 0 {
		return res, fmt.Errorf("the close charged %d of %d contracts (%d failed)", rep.Charged, n, len(rep.Failed))
	}

	// 3. The same close again.
	againCPU := startCPU()
	t2 := time.Now()
	rep2, err := batch.CloseMonth(ctx, svc, month, opts)
	res.again = time.Since(t2)
	if err != nil {
		return res, err
	}
	againClient, againServer := againCPU.stop()
	res.againCharged = rep2.Charged
	fmt.Printf("second run: %d contracts, %d charged, %d lines in %.2fs, CPU client %.2fs, server %.2fs\n",
		rep2.Contracts, rep2.Charged, rep2.Lines, res.again.Seconds(), againClient, againServer)

	// 4. The floor again: this machine's speed drifts by tens of percent
	// over minutes, so the close is compared with the floor on either side
	// of it and with their mean.
	if err := exec("CHECKPOINT"); err != nil {
		return res, err
	}
	if res.floor2, _, err = floorRun(ctx, db); err != nil {
		return res, err
	}
	if err := exec("VACUUM postings"); err != nil {
		return res, err
	}
	fmt.Printf("floor after the close: %.2fs\n", res.floor2.Seconds())

	// 5. Invariants over the whole database.
	t3 := time.Now()
	if err := checkInvariants(ctx, db, n); err != nil {
		return res, err
	}
	fmt.Printf("invariants hold (checked in %.1fs)\n", time.Since(t3).Seconds())
	return res, nil
}

// generate is the region: n/2 certificates in 20 municipalities, each with
// two contracts on different modules of 1000 providers, active from 12
// January to 31 May 2026 in the calendar-year period, January charged at
// activation and February by February's close; the ids are UUIDv7-shaped
// and ascending like the service's.
func generate(n, history int) []string {
	c := n / 2
	r := strings.NewReplacer("$N", strconv.Itoa(n), "$C", strconv.Itoa(c), "$H", strconv.Itoa(history),
		"$SHARE", enrollment.DefaultConfig().AdvanceShare.String())
	qs := []string{
		`CREATE FUNCTION bench_id(tag int, i bigint) RETURNS uuid LANGUAGE sql IMMUTABLE AS
		$$ SELECT (lpad(to_hex(tag), 8, '0') || '-0000-7000-8000-' || lpad(to_hex(i), 12, '0'))::uuid $$`,
		`CREATE FUNCTION bench_money(k bigint) RETURNS text LANGUAGE sql IMMUTABLE AS
		$$ SELECT (k / 100)::text || '.' || lpad((k % 100)::text, 2, '0') $$`,
		`INSERT INTO certificates (id, number, scheme, person_id, full_name, birth_date, sex, citizenship, education, region,
			holder_municipality, registration, guardian_id, municipality, category, kind, status, issued_on, valid_until,
			protection_mode, passphrase_hash, failed_attempts, locked_until, documents_uploaded_on, documents_valid_reason, uniq_year)
		SELECT bench_id(1, i), lpad(i::text, 10, '0'), 'supplementary', 'person-' || i, 'Child ' || i, date '2015-03-10', 'male',
			'RU', 'general', 'reg-1', 'mun-' || lpad((i % 20)::text, 2, '0'), 'permanent', 'parent-' || i,
			'mun-' || lpad((i % 20)::text, 2, '0'), 'city', 'funded', 'active', date '2025-08-20', date '2033-03-09',
			'forbidden', '', 0, NULL, NULL, '', 0
		FROM generate_series(0, $C - 1) i`,
		`CREATE TEMP TABLE bench_price AS
		SELECT i, oth + (i % 97) AS fst, oth FROM (SELECT i, 100000 + (i::bigint * 7919) % 100000 AS oth FROM generate_series(0, $N - 1) i) s`,
		`INSERT INTO contracts (id, certificate_id, group_id, module_id, program_id, provider_id, municipality, period_start, period_end,
			status, start_on, end_on, price_start, price_end, price_days, price_months, price_total, price_normative, price_cert,
			price_copay, price_first, price_other, price_cert_first, price_cert_other, price_copay_first, price_copay_other,
			hold_id, created_at, closed_on, prolonged_from, registry, direction, offered_on, activated_on, terminated_on)
		SELECT bench_id(3, i), bench_id(1, i % $C), bench_id(5, i % 5000 + 5000 * (i / $C)), bench_id(6, i % 5000 + 5000 * (i / $C)),
			bench_id(7, i % 1000), bench_id(8, i % 1000), 'mun-' || lpad(((i % $C) % 20)::text, 2, '0'),
			date '2026-01-01', date '2026-12-31', 'active', date '2026-01-12', date '2026-05-31', date '2026-01-12', date '2026-05-31',
			140, 5, fst + 4 * oth, fst + 4 * oth, fst + 4 * oth, 0, fst, oth, fst, oth, 0, 0,
			bench_id(4, i), timestamptz '2026-01-10 10:00:00+00', NULL, NULL, 'certified', 'technical_robotics',
			date '2026-01-11', date '2026-01-12', NULL
		FROM bench_price`,
		`INSERT INTO holds (id, certificate_id, period_start, amount, charged, released, refunded)
		SELECT bench_id(4, i), bench_id(1, i % $C), date '2026-01-01', fst + 4 * oth, fst + oth, 0, 0 FROM bench_price`,
		`INSERT INTO accounts (certificate_id, period_start, period_end, nominal, balance, held, depleted, expired, fixed)
		SELECT certificate_id, date '2026-01-01', date '2026-12-31', 3000000, 3000000 - sum(amount), sum(amount), 0, 0, true
		FROM holds GROUP BY certificate_id`,
		`INSERT INTO contract_charges (contract_id, month, amount)
		SELECT bench_id(3, i), '2026-01', fst FROM bench_price
		UNION ALL SELECT bench_id(3, i), '2026-02', oth FROM bench_price`,
		`INSERT INTO postings (id, certificate_id, period_start, period_end, kind, amount, hold_id, contract_id, month, at, actor, rule, params)
		SELECT bench_id(9, i), bench_id(1, i), date '2026-01-01', date '2026-12-31', 'grant', 3000000, NULL, NULL, NULL,
			timestamptz '2026-01-01 00:00:00+00', 'rollover:2025', 'period_grant', '{}' FROM generate_series(0, $C - 1) i`,
		`INSERT INTO postings (id, certificate_id, period_start, period_end, kind, amount, hold_id, contract_id, month, at, actor, rule, params)
		SELECT bench_id(10 + k, i), bench_id(1, i % $C), date '2026-01-01', date '2026-12-31',
			CASE k WHEN 0 THEN 'reserve' ELSE 'charge' END,
			CASE k WHEN 0 THEN fst + 4 * oth WHEN 1 THEN fst ELSE oth END,
			bench_id(4, i), bench_id(3, i), CASE k WHEN 0 THEN NULL WHEN 1 THEN '2026-01' ELSE '2026-02' END,
			timestamptz '2026-01-12 10:00:00+00' + k * interval '20 days', 'bench', CASE k WHEN 0 THEN 'submitted' ELSE 'monthly_charge' END,
			CASE k WHEN 0 THEN '{}' ELSE '{"first":"' || bench_money(fst) || '","month":"2026-0' || k || '","other":"' || bench_money(oth) || '"}' END
		FROM bench_price, generate_series(0, 2) k`,
		// What February's close left besides the charges: January's final
		// line (charged at activation, so invoiced in full) and February's
		// advance (the default share, 80 %: oth*4/5 never ends in exactly half a kopeck), with
		// their invoice totals. March's close reads the February line under
		// each contract's lock and adds its own next to both. In contract
		// order, as that close wrote them.
		`INSERT INTO invoice_lines (contract_id, month, kind, municipality, provider_id, amount)
		SELECT id, '2026-01', 'final', municipality, provider_id, price_cert_first FROM contracts
		UNION ALL SELECT id, '2026-02', 'advance', municipality, provider_id, round(price_cert_other * $SHARE)::bigint FROM contracts
		ORDER BY 1, 2, 3`,
		// -history: earlier months' lines, as a contract has by a later
		// month of a school year. They lie before the region's year (a
		// contract's lines of its own year would need its charges too), so
		// the close neither reads nor issues them; they are there for the
		// keys the close adds to.
		`INSERT INTO invoice_lines (contract_id, month, kind, municipality, provider_id, amount)
		SELECT id, to_char(date '2025-12-01' - k * interval '1 month', 'YYYY-MM'), kd, municipality, provider_id, 100
		FROM contracts, generate_series(0, $H - 1) k, unnest(ARRAY['advance', 'final']) kd
		ORDER BY 1, 2, 3`,
		`INSERT INTO invoices (municipality, provider_id, month, kind, amount, lines)
		SELECT municipality, provider_id, month, kind, sum(amount), count(*) FROM invoice_lines GROUP BY 1, 2, 3, 4`,
		`DROP TABLE bench_price`,
		// Statistics and visibility as autovacuum would leave them.
		`VACUUM ANALYZE certificates`,
		`VACUUM ANALYZE accounts`,
		`VACUUM ANALYZE holds`,
		`VACUUM ANALYZE contracts`,
		`VACUUM ANALYZE contract_charges`,
		`VACUUM ANALYZE postings`,
		`VACUUM ANALYZE invoice_lines`,
		`VACUUM ANALYZE invoices`,
	}
	for i := range qs {
		qs[i] = r.Replace(qs[i])
	}
	return qs
}

// floorRun writes the March charge posting of every active contract with
// one INSERT … SELECT into the real postings table (its indexes and foreign
// key), the same columns and values as the close, ids ascending; then rolls
// back.
func floorRun(ctx context.Context, db *storage.DB) (time.Duration, int64, error) {
	tx, err := db.Bun().BeginTx(ctx, nil)
	if err != nil {
		return 0, 0, err
	}
	defer func() { _ = tx.Rollback() }()
	var lsn0 string
	if err := tx.NewRaw("SELECT pg_current_wal_lsn()::text").Scan(ctx, &lsn0); err != nil {
		return 0, 0, err
	}
	t := time.Now()
	_, err = tx.ExecContext(ctx, `
		INSERT INTO postings (id, certificate_id, period_start, period_end, kind, amount, hold_id, contract_id, month, at, actor, rule, params)
		SELECT bench_id(13, row_number() OVER ()), c.certificate_id, c.period_start, c.period_end, 'charge', c.price_cert_other,
			c.hold_id, c.id, '2026-03', now(), 'monthly_close:2026-03', 'monthly_charge',
			'{"first":"' || bench_money(c.price_cert_first) || '","month":"2026-03","other":"' || bench_money(c.price_cert_other) || '"}'
		FROM contracts c WHERE c.status = 'active'`)
	if err != nil {
		return 0, 0, fmt.Errorf("floor: %w", err)
	}
	d := time.Since(t)
	var wal int64
	if err := tx.NewRaw("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), ?::pg_lsn)::bigint", lsn0).Scan(ctx, &wal); err != nil {
		return 0, 0, err
	}
	return d, wal, nil
}

// walLSN and walSince measure the WAL written meanwhile, by the whole server
// (other databases' work included).
func walLSN(ctx context.Context, db *storage.DB) (string, error) {
	var lsn string
	err := db.Bun().NewRaw("SELECT pg_current_wal_lsn()::text").Scan(ctx, &lsn)
	return lsn, err
}

func walSince(ctx context.Context, db *storage.DB, lsn string) (int64, error) {
	var d int64
	err := db.Bun().NewRaw("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), ?::pg_lsn)::bigint", lsn).Scan(ctx, &d)
	return d, err
}

// checkWALCompression shows wal_compression on every connection of the
// store's pool (held at once, through pgx as the close's transactions run)
// and fails if -wal-compression was given and one of them differs.
func checkWALCompression(ctx context.Context, db *storage.DB, when string) error {
	vals, err := showEveryConn(ctx, db, poolSize, "wal_compression")
	if err != nil {
		return fmt.Errorf("SHOW wal_compression %s: %w", when, err)
	}
	fmt.Printf("wal_compression on the %d pool connections %s: %s\n", poolSize, when, strings.Join(vals, ", "))
	if walCompression == "" {
		return nil
	}
	want := walCompression
	if want == "on" {
		want = "pglz"
	}
	for _, v := range vals {
		if got, _, _ := strings.Cut(v, " "); got != want {
			return fmt.Errorf("wal_compression is %s on a pool connection %s, want %s", got, when, want)
		}
	}
	return nil
}

// checkInvariants is storage.CheckInvariants over the whole database, plus
// the close's own result: every contract charged its three months, once.
func checkInvariants(ctx context.Context, db *storage.DB, n int) error {
	if err := storage.CheckInvariants(ctx, db); err != nil {
		return err
	}
	checks := []struct{ what, q string }{
		{"holds charged other than three months", `SELECT count(*) FROM holds h JOIN contracts c ON c.hold_id = h.id
			WHERE h.charged <> c.price_cert_first + 2 * c.price_cert_other`},
		{"March charges missing (want one per contract)", `SELECT ` + strconv.Itoa(n) + ` - count(*) FROM contract_charges WHERE month = '2026-03'`},
		{"March charge postings other than one per contract", `SELECT abs(` + strconv.Itoa(n) + ` - count(*)) FROM postings WHERE kind = 'charge' AND month = '2026-03'`},
	}
	for _, c := range checks {
		var bad int64
		if err := db.Bun().NewRaw(c.q).Scan(ctx, &bad); err != nil {
			return fmt.Errorf("%s: %w", c.what, err)
		}
		if bad != 0 {
			return fmt.Errorf("invariant broken: %d %s", bad, c.what)
		}
	}
	return nil
}

// startPeakSampler samples this process's resident set (VmRSS) every 50 ms
// until the returned function is called; it returns the peak in MB.
func startPeakSampler() func() float64 {
	stop := make(chan struct{})
	done := make(chan float64)
	go func() {
		peak := 0.0
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			if v := vmRSS(); v > peak {
				peak = v
			}
			select {
			case <-stop:
				done <- peak
				return
			case <-tick.C:
			}
		}
	}()
	return func() float64 { close(stop); return <-done }
}

func vmRSS() float64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if rest, ok := strings.CutPrefix(s.Text(), "VmRSS:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			return kb / 1024
		}
	}
	return 0
}

// execAll runs the statements in order, naming the first line of the one
// that fails.
func execAll(ctx context.Context, db *storage.DB, qs ...string) error {
	for _, q := range qs {
		if _, err := db.Bun().ExecContext(ctx, q); err != nil {
			return fmt.Errorf("%s: %w", firstLine(q), err)
		}
	}
	return nil
}

func firstLine(q string) string {
	q = strings.TrimSpace(q)
	if i := strings.IndexByte(q, '\n'); i >= 0 {
		return q[:i]
	}
	return q
}

// writeProfile writes the named runtime profile to file.
func writeProfile(name, file string) error {
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	if err := pprof.Lookup(name).WriteTo(f, 0); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
