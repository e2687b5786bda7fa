package storage_test

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// pgServer controls the PostgreSQL server a fault test runs against: it
// terminates the backends of the test database through an admin connection
// of its own and stops and starts the cluster with pg_ctlcluster. It must
// run as root (or the cluster's owner) on the machine of the server.
type pgServer struct {
	t          testing.TB
	dsn        string
	host, port string
	// version and cluster name the cluster for pg_ctlcluster.
	version, cluster string

	mu    sync.Mutex
	admin *pgx.Conn
}

// newPGServer finds the cluster that listens on the DSN's port and, at
// cleanup, starts it again if a failed test left it down.
func newPGServer(t testing.TB, dsn string) *pgServer {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatalf("fault test: dsn: %v", err)
	}
	s := &pgServer{t: t, dsn: dsn, host: u.Hostname(), port: u.Port()}
	if s.host == "" {
		s.host = "127.0.0.1"
	}
	if s.port == "" {
		s.port = "5432"
	}
	s.version, s.cluster = findCluster(t, s.port)
	if !s.ready() {
		t.Fatalf("fault test: PostgreSQL cluster %s/%s on %s:%s is not accepting connections", s.version, s.cluster, s.host, s.port)
	}
	t.Cleanup(func() {
		s.mu.Lock()
		if s.admin != nil {
			_ = s.admin.Close(context.Background())
			s.admin = nil
		}
		s.mu.Unlock()
		if s.ready() {
			return
		}
		t.Logf("fault test: PostgreSQL is down at cleanup; starting cluster %s/%s", s.version, s.cluster)
		if err := s.start(); err != nil {
			t.Errorf("fault test: %v", err)
		}
		if _, err := s.waitReady(60 * time.Second); err != nil {
			t.Errorf("fault test: PostgreSQL left down: %v", err)
		}
	})
	return s
}

// findCluster is the pg_lsclusters line whose port is port; failing that,
// the only version under /etc/postgresql and its cluster "main".
func findCluster(t testing.TB, port string) (version, cluster string) {
	t.Helper()
	if out, err := exec.Command("pg_lsclusters", "--no-header").Output(); err == nil {
		for _, line := range strings.Split(string(out), "\n") {
			f := strings.Fields(line)
			if len(f) >= 3 && f[2] == port {
				return f[0], f[1]
			}
		}
	}
	entries, err := os.ReadDir("/etc/postgresql")
	if err != nil || len(entries) == 0 {
		t.Fatalf("fault test: no PostgreSQL cluster found for port %s (pg_lsclusters, /etc/postgresql): %v", port, err)
	}
	return entries[0].Name(), "main"
}

func (s *pgServer) String() string {
	return fmt.Sprintf("cluster %s/%s on %s:%s", s.version, s.cluster, s.host, s.port)
}

func (s *pgServer) ctl(action string, extra ...string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	args := append([]string{"--skip-systemctl-redirect", s.version, s.cluster, action}, extra...)
	out, err := exec.CommandContext(ctx, "pg_ctlcluster", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("pg_ctlcluster %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// stop shuts the cluster down in fast mode: open transactions are rolled
// back and their connections closed.
func (s *pgServer) stop() error { return s.ctl("stop", "-m", "fast") }

func (s *pgServer) start() error { return s.ctl("start") }

// ready is pg_isready answering yes.
func (s *pgServer) ready() bool {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return exec.CommandContext(ctx, "pg_isready", "-q", "-h", s.host, "-p", s.port).Run() == nil
}

// waitReady polls pg_isready until it answers yes or bound passes.
func (s *pgServer) waitReady(bound time.Duration) (time.Duration, error) {
	begin := time.Now()
	for {
		if s.ready() {
			return time.Since(begin), nil
		}
		if time.Since(begin) > bound {
			return time.Since(begin), fmt.Errorf("%s not ready after %s", s, bound)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// terminate ends every other backend of the test database and returns how
// many it ended. The admin connection is opened again when it was lost.
func (s *pgServer) terminate() (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var last error
	for range 5 {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		n, err := s.terminateOnce(ctx)
		cancel()
		if err == nil {
			return n, nil
		}
		last = err
		if s.admin != nil {
			_ = s.admin.Close(context.Background())
			s.admin = nil
		}
		time.Sleep(200 * time.Millisecond)
	}
	return 0, fmt.Errorf("terminate backends: %w", last)
}

func (s *pgServer) terminateOnce(ctx context.Context) (int, error) {
	if s.admin == nil || s.admin.IsClosed() {
		c, err := pgx.Connect(ctx, s.dsn)
		if err != nil {
			return 0, err
		}
		s.admin = c
	}
	var n int
	err := s.admin.QueryRow(ctx, `
		SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE datname = current_database() AND pid <> pg_backend_pid()`).Scan(&n)
	return n, err
}
