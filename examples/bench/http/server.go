package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
)

// server is a running reference server.
type server struct {
	cmd   *exec.Cmd
	base  string // http://host:port
	pprof string // host:port of -pprof, when asked for
	done  chan error
}

// serverEnv is this process's environment without the Go runtime's
// tuning: the server runs as a region starts it, with the defaults.
func serverEnv() []string {
	var env []string
	if serverGOGC != "" {
		env = append(env, "GOGC="+serverGOGC)
	}
	for _, e := range os.Environ() {
		name, _, _ := strings.Cut(e, "=")
		switch name {
		case "GOGC", "GOMEMLIMIT", "GODEBUG", "GOMAXPROCS", "EDUFUND_DB", "EDUFUND_JWT_KEY", "EDUFUND_REGION", "EDUFUND_OIDC", "EDUFUND_MAX_TOKEN_TTL":
			continue
		}
		env = append(env, e)
	}
	return env
}

// buildServer builds the reference server into dir.
func buildServer(dir string) (string, error) {
	bin := filepath.Join(dir, "server")
	cmd := exec.Command("go", "build", "-o", bin, "./examples/server")
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go build ./examples/server (run the bench from the module's root): %w", err)
	}
	return bin, nil
}

// loadDemo runs the server's own demo command on dsn.
func loadDemo(bin, dsn string) error {
	cmd := exec.Command(bin, "demo", "-db", dsn)
	cmd.Env = serverEnv()
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("server demo: %w\n%s", err, out)
	}
	return nil
}

// serverGOGC, when set (-server-gogc), is the GOGC the server is started
// with, in place of its own collector policy: to measure both.
var serverGOGC string

// startServer starts bin serving dsn on a free port with the key and the
// extra flags, its log in logFile, and waits for its address.
func startServer(bin, dsn, key, logFile string, extra ...string) (*server, error) {
	args := append([]string{"-db", dsn, "-addr", "127.0.0.1:0", "-jwt-key", key}, extra...)
	cmd := exec.Command(bin, args...)
	cmd.Env = serverEnv()
	lf, err := os.OpenFile(logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	cmd.Stderr = lf
	out, err := cmd.StdoutPipe()
	if err != nil {
		lf.Close()
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		lf.Close()
		return nil, err
	}
	s := &server{cmd: cmd, done: make(chan error, 1)}
	withPprof := slices.Contains(extra, "-pprof")
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		signalled := false
		var base, pp string
		for sc.Scan() {
			line := sc.Text()
			fmt.Fprintln(lf, line)
			if rest, ok := strings.CutPrefix(line, "edufund listening on "); ok && base == "" {
				base, _, _ = strings.Cut(rest, " ")
			}
			if _, rest, ok := strings.Cut(line, "pprof (for profiling; never expose): http://"); ok {
				pp, _, _ = strings.Cut(rest, "/")
			}
			if !signalled && base != "" && (pp != "" || !withPprof) {
				s.base, s.pprof = base, pp
				signalled = true
				close(ready)
			}
		}
		_, _ = io.Copy(io.Discard, out)
		if !signalled {
			close(ready)
		}
		s.done <- cmd.Wait()
		lf.Close()
	}()
	select {
	case <-ready:
	case <-time.After(2 * time.Minute):
	}
	if s.base == "" {
		s.stop()
		return nil, fmt.Errorf("the server printed no address (its log: %s)", logFile)
	}
	// The address is printed before the listener serves.
	for range 100 {
		resp, err := http.Get(s.base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s, nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	s.stop()
	return nil, fmt.Errorf("the server at %s is not healthy (its log: %s)", s.base, logFile)
}

// stop ends the server as a region's service manager does (SIGTERM) and
// waits for it.
func (s *server) stop() {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(45 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
}

// profileSummary fetches a CPU profile and the allocations of d from the
// server's -pprof listener while load runs, and returns pprof's top
// functions by cumulative and by flat time, and by objects allocated.
func profileSummary(ctx context.Context, s *server, bin, dir string, d time.Duration, load func()) (string, error) {
	profiles := []struct{ kind, file string }{
		{"profile", filepath.Join(dir, "server.cpu.pprof")},
		{"allocs", filepath.Join(dir, "server.allocs.pprof")},
	}
	errc := make(chan error, len(profiles))
	for _, p := range profiles {
		go func() {
			errc <- fetch(ctx, fmt.Sprintf("http://%s/debug/pprof/%s?seconds=%d", s.pprof, p.kind, int(d.Seconds())), p.file)
		}()
	}
	load()
	var err error
	for range profiles {
		err = errors.Join(err, <-errc)
	}
	if err != nil {
		return "", err
	}
	var b strings.Builder
	for _, v := range []struct{ file, what string }{
		{profiles[0].file, "-cum"}, {profiles[0].file, "-flat"}, {profiles[1].file, "-sample_index=alloc_objects"},
	} {
		out, err := exec.Command("go", "tool", "pprof", "-top", v.what, "-nodecount=12", bin, v.file).CombinedOutput()
		if err != nil {
			return "", fmt.Errorf("go tool pprof: %w\n%s", err, out)
		}
		fmt.Fprintf(&b, "\n```\n# go tool pprof -top %s -nodecount=12 (server, %s under load)\n%s```\n", v.what, d, out)
	}
	return b.String(), nil
}

// fetch writes what url answers into file.
func fetch(ctx context.Context, url, file string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("fetch profile: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("fetch profile: %s", resp.Status)
	}
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
