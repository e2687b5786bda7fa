package main

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/edufund/edufund/examples/bench/internal/benchutil"
	"github.com/edufund/edufund/storage"
)

const (
	dbPgbench1  = "edufund_bench_pgb1"
	dbPgbench50 = "edufund_bench_pgb50"
	dbService   = "edufund_bench_svc"
	dbFloor     = "edufund_bench_floor"

	floorName = "raw SQL floor, batched"
	// floorInFlightName is the floor with the service's load: one
	// enrolment in flight a client (benchutil.PGFloor.RunInFlight).
	floorInFlightName = "raw SQL floor, one in flight a client"
	floorBatch        = 32
)

func runPostgres(ctx context.Context, o options) error {
	admin, err := storage.Open(ctx, o.pg, storage.WithMaxOpenConns(2))
	if err != nil {
		return err
	}
	defer admin.Close()
	exec1 := func(q string) error {
		_, err := admin.Bun().ExecContext(ctx, q)
		return err
	}
	var version string
	_ = admin.Bun().NewRaw("SHOW server_version").Scan(ctx, &version)
	var settings []struct{ Name, Setting string }
	_ = admin.Bun().NewRaw(`SELECT name, setting FROM pg_settings WHERE name IN ('fsync','synchronous_commit','wal_sync_method','shared_buffers','max_connections','commit_delay','full_page_writes') ORDER BY name`).Scan(ctx, &settings)
	fmt.Printf("# enrolment throughput, PostgreSQL\n\n")
	fmt.Printf("- machine: %d CPUs (%s), Go %s, %s\n", runtime.NumCPU(), benchutil.CPUModel(), runtime.Version(), gcSetting())
	fmt.Printf("- PostgreSQL %s:", version)
	for _, s := range settings {
		fmt.Printf(" %s=%s", s.Name, s.Setting)
	}
	fmt.Println()
	fmt.Printf("- command: %s\n", strings.Join(os.Args, " "))
	fmt.Printf("- region: %d funded certificates, %d groups, one municipal budget; service pool %d, batcher max %d, flushers %s, linger %s; %s per run\n",
		o.certs, o.groups, o.pool, o.maxBatch, flushersText(o.flushers), lingerText(o.linger), o.duration)

	pgbench := o.pgbench
	if pgbench == "" && !o.skipBase {
		if pgbench, err = benchutil.FindPgbench(); err != nil {
			return err
		}
	}
	if fs := benchutil.FsyncLatency(filepath.Dir(pgbench)); fs != "" {
		fmt.Printf("- pg_test_fsync (one 8 kB write + fdatasync): %s\n", fs)
	}
	u, err := url.Parse(o.pg)
	if err != nil {
		return err
	}
	env := benchutil.PgEnv(u)

	dropAll := func() {
		for _, d := range []string{dbPgbench1, dbPgbench50, dbService, dbFloor} {
			_ = exec1("DROP DATABASE IF EXISTS " + d + " WITH (FORCE)")
		}
	}
	dropAll()
	if !o.keep {
		defer dropAll()
	}
	if !o.skipBase {
		for _, s := range []struct {
			db    string
			scale int
		}{{dbPgbench1, 1}, {dbPgbench50, 50}} {
			if err := exec1("CREATE DATABASE " + s.db); err != nil {
				return err
			}
			t0 := time.Now()
			out, err := benchutil.Command(env, pgbench, "-i", "-s", strconv.Itoa(s.scale), "-q", s.db)
			if err != nil {
				return fmt.Errorf("pgbench -i -s %d: %w\n%s", s.scale, err, out)
			}
			fmt.Fprintf(os.Stderr, "pgbench -i -s %d: %.1fs\n", s.scale, time.Since(t0).Seconds())
		}
	}

	commits := func() int64 {
		time.Sleep(1500 * time.Millisecond) // idle backends flush their statistics within a second
		var n int64
		_ = admin.Bun().NewRaw("SELECT xact_commit FROM pg_stat_database WHERE datname = ?", dbService).Scan(ctx, &n)
		return n
	}
	// wal is the server's WAL position in bytes: the WAL written per
	// enrolment (or pgbench transaction) is the work every commit must
	// make durable, a measure that does not depend on what else the
	// machine does.
	wal := func() int64 {
		var n int64
		_ = admin.Bun().NewRaw("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint").Scan(ctx, &n)
		return n
	}
	var all []result
	for round := 1; round <= o.rounds; round++ {
		for _, w := range o.workers {
			if !o.skipBase {
				for _, s := range []struct {
					name, db string
				}{{"pgbench tpcb-like s1", dbPgbench1}, {"pgbench tpcb-like s50", dbPgbench50}} {
					w0 := wal()
					r, err := runPgbench(env, pgbench, s.db, w, o.duration, func() func() float64 { return benchutil.StartBackendMeter(ctx, admin, s.db).Stop })
					if err != nil {
						return err
					}
					if n := r.rate * o.duration.Seconds(); n > 0 {
						r.walPerOp = float64(wal()-w0) / n
					}
					r.name, r.round = s.name, round
					fmt.Fprintf(os.Stderr, "  %s c=%d: %.0f tps\n", s.name, w, r.rate)
					all = append(all, r)
				}
			}
			if !o.skipBase && !o.noFloor {
				rs, err := floorRun(ctx, o, admin, exec1, w)
				if err != nil {
					return fmt.Errorf("floor: %w", err)
				}
				for _, r := range rs {
					r.round = round
					fmt.Fprintf(os.Stderr, "  %s c=%d: %.0f/s\n", r.name, w, r.rate)
					all = append(all, r)
				}
			}
			type kind struct {
				name            string
				batch, portable bool
			}
			kinds := []kind{{"service, Batcher", true, false}}
			if o.portable {
				kinds = append(kinds, kind{"service, Batcher, portable profile", true, true})
			}
			if o.unbatched {
				kinds = append(kinds, kind{"service, Submit", false, false})
			}
			for _, k := range kinds {
				name, batch := k.name, k.batch
				_ = exec1("DROP DATABASE IF EXISTS " + dbService + " WITH (FORCE)")
				if err := exec1("CREATE DATABASE " + dbService); err != nil {
					return err
				}
				svcURL, err := benchutil.DBURL(o.pg, dbService)
				if err != nil {
					return err
				}
				opts := []storage.Option{storage.WithMaxOpenConns(o.pool)}
				if k.portable {
					opts = append(opts, storage.WithPortable())
				}
				db, err := benchutil.OpenMigrated(ctx, svcURL, opts...)
				if err != nil {
					return err
				}
				r, err := serviceRun(ctx, db, o, name, w, batch, commits, wal, func() func() float64 { return benchutil.StartBackendMeter(ctx, admin, dbService).Stop })
				db.Close()
				if err != nil {
					return err
				}
				r.round = round
				all = append(all, r)
			}
		}
	}
	baselines := []string{"pgbench tpcb-like s1", "pgbench tpcb-like s50", floorName}
	if o.inFlight {
		baselines = append(baselines, floorInFlightName)
	}
	printTable("PostgreSQL: enrolments (service) and transactions (pgbench) per second", all, baselines)
	return nil
}

// floorRun loads the region into a fresh database and writes into it, for
// workers clients, the rows the region's enrolments write, by hand-written
// batched SQL with no reads and no rules (benchutil.PGFloor): what the
// service's rate is against the cost of its writes alone, floorBatch
// enrolments a transaction for each worker. With -floor-in-flight it runs
// again on fresh pairs of the same region with the load the service's
// clients give it: one enrolment in flight a worker, grouped by as many
// flushers as the service's Batcher runs and at most as many a
// transaction.
func floorRun(ctx context.Context, o options, admin *storage.DB, exec1 func(string) error, workers int) ([]result, error) {
	_ = exec1("DROP DATABASE IF EXISTS " + dbFloor + " WITH (FORCE)")
	if err := exec1("CREATE DATABASE " + dbFloor); err != nil {
		return nil, err
	}
	url, err := benchutil.DBURL(o.pg, dbFloor)
	if err != nil {
		return nil, err
	}
	db, err := benchutil.OpenMigrated(ctx, url)
	if err != nil {
		return nil, err
	}
	r, err := loadRegion(ctx, db, o.certs, o.groups)
	db.Close()
	if err != nil {
		return nil, err
	}
	guardians := make([]string, len(r.certs))
	for i := range guardians {
		guardians[i] = benchGuardian
	}
	f, err := benchutil.NewPGFloor(ctx, url, benchConfig(), benchClock(), r.certs, guardians, r.groups)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	flushers := o.flushers
	if flushers <= 0 {
		flushers = 2 // the Batcher's default over PostgreSQL
	}
	type floorKind struct {
		name, note string
		run        func() (benchutil.FloorRun, error)
	}
	kinds := []floorKind{{floorName, fmt.Sprintf("%d per transaction; p50/p99 per transaction", floorBatch),
		func() (benchutil.FloorRun, error) { return f.Run(ctx, workers, floorBatch, o.duration) }}}
	if o.inFlight {
		kinds = append(kinds, floorKind{floorInFlightName,
			fmt.Sprintf("one enrolment in flight a client, %d flushers, at most %d a transaction, one round trip each; p50/p99 per enrolment", flushers, o.maxBatch),
			func() (benchutil.FloorRun, error) {
				return f.RunInFlight(ctx, workers, flushers, o.maxBatch, o.duration)
			}})
	}
	var out []result
	for _, run := range kinds {
		_ = exec1("CHECKPOINT")
		meter := benchutil.StartBackendMeter(ctx, admin, dbFloor)
		cpu0 := benchutil.SelfCPU()
		fr, err := run.run()
		if err != nil {
			return nil, err
		}
		res := result{name: run.name, workers: workers, rate: fr.Rate, ok: fr.OK, errs: fr.Errors, p50: fr.P50, p99: fr.P99, note: run.note}
		if fr.OK > 0 {
			res.clientCPU = (benchutil.SelfCPU() - cpu0) * 1000 / float64(fr.OK)
			res.serverCPU = meter.Stop() * 1000 / float64(fr.OK)
		} else {
			meter.Stop()
		}
		out = append(out, res)
	}
	return out, nil
}

// runPgbench is benchutil.RunPgbench as one of this benchmark's results.
func runPgbench(env []string, pgbench, db string, clients int, d time.Duration, meter func() func() float64) (result, error) {
	p, err := benchutil.RunPgbench(env, pgbench, db, clients, d, meter)
	if err != nil {
		return result{}, err
	}
	return result{workers: p.Clients, rate: p.Rate, ok: p.OK, errs: p.Failed, p50: p.P50, p99: p.P99, clientCPU: p.ClientCPU, serverCPU: p.ServerCPU}, nil
}
