package benchutil

import (
	"bufio"
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/edufund/edufund/storage"
)

// The PostgreSQL baseline the benchmarks share: pgbench's tpcb-like script
// run beside the measured service, and the CPU of the backends serving a
// database.

// DBURL is base (a PostgreSQL URL) naming the database name instead.
func DBURL(base, name string) (string, error) {
	u, err := url.Parse(base)
	if err != nil {
		return "", err
	}
	u.Path = "/" + name
	return u.String(), nil
}

// FindPgbench is the newest installed PostgreSQL's pgbench.
func FindPgbench() (string, error) {
	m, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pgbench")
	if len(m) == 0 {
		return "", fmt.Errorf("pgbench not found; pass -pgbench or -skip-baseline")
	}
	return m[len(m)-1], nil
}

// PgEnv is this process's environment with the libpq variables that point
// pgbench and psql at the server of u.
func PgEnv(u *url.URL) []string {
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

// Command runs name with env and returns its combined output.
func Command(env []string, name string, args ...string) (string, error) {
	cmd := exec.Command(name, args...)
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// PgbenchRun is one measured pgbench run.
type PgbenchRun struct {
	Clients  int
	Rate     float64 // transactions per second
	OK       int     // transactions logged with a latency
	Failed   int     // transactions logged without one
	P50, P99 time.Duration
	// CPU milliseconds per transaction: pgbench itself and the backends.
	ClientCPU, ServerCPU float64
}

var tpsRe = regexp.MustCompile(`tps = ([0-9.]+) \(without initial connection time\)`)

// RunPgbench runs tpcb-like with clients clients (2 threads; the simple
// protocol, pgbench's default) on db for d and reads the latencies from its
// per-transaction log. meter starts measuring the backends' CPU and
// returns what stops it with their CPU seconds.
func RunPgbench(env []string, pgbench, db string, clients int, d time.Duration, meter func() func() float64) (PgbenchRun, error) {
	dir, err := os.MkdirTemp("", "pgbench-log-")
	if err != nil {
		return PgbenchRun{}, err
	}
	defer os.RemoveAll(dir)
	_, _ = Command(env, pgbench, "-c", "1", "-T", "1", db) // warm the connection path
	args := []string{"-b", "tpcb-like", "-c", strconv.Itoa(clients), "-j", "2", "-T", strconv.Itoa(int(d.Seconds())),
		"-M", "simple", "-l", "--log-prefix=" + filepath.Join(dir, "pgb"), db}
	cmd := exec.Command(pgbench, args...)
	cmd.Env = env
	stop := meter()
	outb, err := cmd.CombinedOutput()
	server := stop()
	out := string(outb)
	if err != nil {
		return PgbenchRun{}, fmt.Errorf("pgbench %v: %w\n%s", args, err, out)
	}
	var clientCPU float64
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		clientCPU = time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
	}
	m := tpsRe.FindStringSubmatch(out)
	if m == nil {
		return PgbenchRun{}, fmt.Errorf("pgbench: no tps in output:\n%s", out)
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
	r := PgbenchRun{Clients: clients, Rate: tps, OK: len(lat), Failed: failed}
	if r.OK > 0 {
		r.ClientCPU = clientCPU * 1000 / float64(r.OK)
		r.ServerCPU = server * 1000 / float64(r.OK)
	}
	r.P50, r.P99, _ = Latencies(lat)
	return r, nil
}

// CPUModel is the machine's CPU as /proc/cpuinfo names it.
func CPUModel() string {
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

// FsyncLatency runs pg_test_fsync (in bin) for a second per method in the
// PostgreSQL data directory's file system when it can, and returns its
// fdatasync figure for one 8 kB write.
func FsyncLatency(bin string) string {
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
	out, err := Command(os.Environ(), tool, "-s", "1", "-f", f)
	if err != nil {
		return ""
	}
	m := fdatasyncRe.FindStringSubmatch(out)
	if m == nil {
		return ""
	}
	return fmt.Sprintf("%s ops/s, %s µs (file in %s)", m[1], m[2], dir)
}

// BackendMeter samples the CPU of the PostgreSQL backends of one database
// from /proc while a run lasts: a backend's counters are lost when it
// exits, so the last sample counts.
type BackendMeter struct {
	stop  chan struct{}
	done  sync.WaitGroup
	mu    sync.Mutex
	first map[int]float64 // at the first sample (0 for backends started later)
	last  map[int]float64
}

// StartBackendMeter samples the backends of db, found through admin (a
// connection to any database of the server), every 100 ms until Stop.
func StartBackendMeter(ctx context.Context, admin *storage.DB, db string) *BackendMeter {
	m := &BackendMeter{stop: make(chan struct{}), first: map[int]float64{}, last: map[int]float64{}}
	sample := func(initial bool) {
		var pids []int
		if err := admin.Bun().NewRaw("SELECT pid FROM pg_stat_activity WHERE datname = ? AND pid <> pg_backend_pid()", db).Scan(ctx, &pids); err != nil {
			return
		}
		m.mu.Lock()
		defer m.mu.Unlock()
		for _, pid := range pids {
			_, c, ok := ProcCPU(pid)
			if !ok {
				continue
			}
			if _, seen := m.last[pid]; !seen {
				if initial {
					m.first[pid] = c
				}
			}
			m.last[pid] = c
		}
	}
	sample(true)
	m.done.Add(1)
	go func() {
		defer m.done.Done()
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-m.stop:
				sample(false)
				return
			case <-t.C:
				sample(false)
			}
		}
	}()
	return m
}

// Stop ends the sampling and returns the backends' CPU seconds.
func (m *BackendMeter) Stop() float64 {
	close(m.stop)
	m.done.Wait()
	var s float64
	for pid, c := range m.last {
		s += c - m.first[pid]
	}
	return s
}
