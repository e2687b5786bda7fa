package main

import (
	"bufio"
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/edufund/edufund/examples/bench/internal/benchutil"
	"github.com/edufund/edufund/storage"
)

const (
	dbPgbench1  = "edufund_bench_pgb1"
	dbPgbench50 = "edufund_bench_pgb50"
	dbService   = "edufund_bench_svc"
)

func dbURL(base, name string) (string, error) {
	u, err := url.Parse(base)
	if err != nil {
		return "", err
	}
	u.Path = "/" + name
	return u.String(), nil
}

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
	fmt.Printf("- machine: %d CPUs (%s), Go %s, %s\n", runtime.NumCPU(), cpuModel(), runtime.Version(), gcSetting())
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
		m, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pgbench")
		if len(m) == 0 {
			return fmt.Errorf("pgbench not found; pass -pgbench or -skip-baseline")
		}
		pgbench = m[len(m)-1]
	}
	if fs := fsyncLatency(filepath.Dir(pgbench)); fs != "" {
		fmt.Printf("- pg_test_fsync (one 8 kB write + fdatasync): %s\n", fs)
	}
	u, err := url.Parse(o.pg)
	if err != nil {
		return err
	}
	env := pgEnv(u)

	dropAll := func() {
		for _, d := range []string{dbPgbench1, dbPgbench50, dbService} {
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
			out, err := command(env, pgbench, "-i", "-s", strconv.Itoa(s.scale), "-q", s.db)
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
					r, err := runPgbench(env, pgbench, s.db, w, o.duration, func() func() float64 { return startBackendMeter(ctx, admin, s.db).Stop })
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
			kinds := []bool{true}
			if o.unbatched {
				kinds = append(kinds, false)
			}
			for _, batch := range kinds {
				name := "service, Batcher"
				if !batch {
					name = "service, Submit"
				}
				_ = exec1("DROP DATABASE IF EXISTS " + dbService + " WITH (FORCE)")
				if err := exec1("CREATE DATABASE " + dbService); err != nil {
					return err
				}
				svcURL, err := dbURL(o.pg, dbService)
				if err != nil {
					return err
				}
				db, err := benchutil.OpenMigrated(ctx, svcURL, storage.WithMaxOpenConns(o.pool))
				if err != nil {
					return err
				}
				r, err := serviceRun(ctx, db, o, name, w, batch, commits, wal, func() func() float64 { return startBackendMeter(ctx, admin, dbService).Stop })
				db.Close()
				if err != nil {
					return err
				}
				r.round = round
				all = append(all, r)
			}
		}
	}
	printTable("PostgreSQL: enrolments (service) and transactions (pgbench) per second", all, []string{"pgbench tpcb-like s1", "pgbench tpcb-like s50"})
	return nil
}

func pgEnv(u *url.URL) []string {
	env := os.Environ()
	if h := u.Hostname(); h != "" {
		env = append(env, "PGHOST="+h)
	}
	if p := u.Port(); p != "" {
		env = append(env, "PGPORT="+p)
	}
	if u.User != nil {
		env = append(env, "PGUSER="+u.User.Username())
		if pw, ok := u.User.Password(); ok {
			env = append(env, "PGPASSWORD="+pw)
		}
	}
	if m := u.Query().Get("sslmode"); m != "" {
		env = append(env, "PGSSLMODE="+m)
	}
	return env
}

func command(env []string, name string, args ...string) (string, error) {
	cmd := exec.Command(name, args...)
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	return string(out), err
}

var tpsRe = regexp.MustCompile(`tps = ([0-9.]+) \(without initial connection time\)`)

// runPgbench runs tpcb-like with clients clients (2 threads; the simple
// protocol, pgbench's default) and reads the latencies from its
// per-transaction log.
func runPgbench(env []string, pgbench, db string, clients int, d time.Duration, meter func() func() float64) (result, error) {
	dir, err := os.MkdirTemp("", "pgbench-log-")
	if err != nil {
		return result{}, err
	}
	defer os.RemoveAll(dir)
	_, _ = command(env, pgbench, "-c", "1", "-T", "1", db) // warm the connection path
	args := []string{"-b", "tpcb-like", "-c", strconv.Itoa(clients), "-j", "2", "-T", strconv.Itoa(int(d.Seconds())),
		"-M", "simple", "-l", "--log-prefix=" + filepath.Join(dir, "pgb"), db}
	cmd := exec.Command(pgbench, args...)
	cmd.Env = env
	stop := meter()
	outb, err := cmd.CombinedOutput()
	server := stop()
	out := string(outb)
	if err != nil {
		return result{}, fmt.Errorf("pgbench %v: %w\n%s", args, err, out)
	}
	var clientCPU float64
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		clientCPU = time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
	}
	m := tpsRe.FindStringSubmatch(out)
	if m == nil {
		return result{}, fmt.Errorf("pgbench: no tps in output:\n%s", out)
	}
	tps, _ := strconv.ParseFloat(m[1], 64)
	var lat []time.Duration
	files, _ := filepath.Glob(filepath.Join(dir, "pgb.*"))
	var failed int
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(fh)
		for sc.Scan() {
			fs := strings.Fields(sc.Text())
			if len(fs) < 3 {
				continue
			}
			us, err := strconv.ParseInt(fs[2], 10, 64)
			if err != nil {
				failed++
				continue
			}
			lat = append(lat, time.Duration(us)*time.Microsecond)
		}
		fh.Close()
	}
	r := result{workers: clients, rate: tps, ok: len(lat), errs: failed}
	if r.ok > 0 {
		r.clientCPU = clientCPU * 1000 / float64(r.ok)
		r.serverCPU = server * 1000 / float64(r.ok)
	}
	r.p50, r.p99, _ = benchutil.Latencies(lat)
	return r, nil
}

func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "model name") {
			if i := strings.IndexByte(l, ':'); i >= 0 {
				return strings.TrimSpace(l[i+1:])
			}
		}
	}
	return "unknown CPU"
}

var fdatasyncRe = regexp.MustCompile(`fdatasync\s+([0-9.,]+) ops/sec\s+([0-9.,]+) usecs/op`)

// fsyncLatency runs pg_test_fsync for a second per method in the
// PostgreSQL data directory's file system when it can, and returns its
// fdatasync figure for one 8 kB write.
func fsyncLatency(bin string) string {
	tool := filepath.Join(bin, "pg_test_fsync")
	if _, err := os.Stat(tool); err != nil {
		return ""
	}
	dir := "/var/lib/postgresql"
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		dir = os.TempDir()
	}
	f := filepath.Join(dir, "edufund_bench_fsync.tmp")
	defer os.Remove(f)
	out, err := command(os.Environ(), tool, "-s", "1", "-f", f)
	if err != nil {
		return ""
	}
	m := fdatasyncRe.FindStringSubmatch(out)
	if m == nil {
		return ""
	}
	return fmt.Sprintf("%s ops/s, %s µs (file in %s)", m[1], m[2], dir)
}
