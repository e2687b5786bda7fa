package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edufund/edufund/examples/server/api"
)

// asServer in the environment makes the test binary run main instead of
// the tests: serverProcess starts the server as a process of its own.
const asServer = "EDUFUND_TEST_RUN_SERVER"

func TestMain(m *testing.M) {
	if os.Getenv(asServer) == "1" {
		main() // exits 1 on an error
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// serverProcess runs the server with args (and env) as a process of its
// own, as an operator would, and returns its output and exit code.
func serverProcess(t *testing.T, env []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], args...)
	cmd.Env = append(append(os.Environ(), asServer+"=1"), env...)
	var out, errs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errs
	var ee *exec.ExitError
	switch err := cmd.Run(); {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		t.Fatalf("server %q: %v", args, err)
	}
	return out.String(), errs.String(), code
}

// TestHelp: -h, --help and help list every command and the flags of serve
// and exit 0; COMMAND -h and help COMMAND print that command's flags; an
// unknown command or flag exits 1 with the list or the command's flags.
func TestHelp(t *testing.T) {
	list := []string{"serve", "migrate", "demo", "close", "rollover", "token"}
	for _, c := range commands {
		list = append(list, c.name)
	}
	for i, name := range list {
		list[i] = "\n  " + name + " "
	}
	// Each case appends to list: none may write into another's array.
	list = list[:len(list):len(list)]
	serveFlags := []string{"-addr", "-batch-flushers", "-batch-linger", "-batch-max", "-db", "-demo", "-jwt-key", "-region", "-token-ttl"}
	const key = "a-signing-key-that-help-must-not-print"
	tests := []struct {
		args      []string
		code      int
		want, not []string // in stdout when code is 0, else in stderr
	}{
		{[]string{"-h"}, 0, append(list, serveFlags...), nil},
		{[]string{"--help"}, 0, append(list, serveFlags...), nil},
		{[]string{"-help"}, 0, append(list, serveFlags...), nil},
		{[]string{"help"}, 0, append(list, serveFlags...), nil},
		{[]string{"-db", "sqlite::memory:", "-h"}, 0, append(list, serveFlags...), nil},
		{[]string{"serve", "-h"}, 0, serveFlags, []string{"-month"}},
		{[]string{"close", "-h"}, 0, []string{"usage: server close -month", "-month", "-db", "-region"}, []string{"-addr", "-year"}},
		{[]string{"rollover", "--help"}, 0, []string{"-year", "-db"}, []string{"-month"}},
		{[]string{"migrate", "-h"}, 0, []string{"-db", "-region"}, []string{"-addr"}},
		{[]string{"help", "token"}, 0, []string{"-jwt-key", "-role", "-subject", "-tenant", "-ttl"}, []string{"-db", key}},
		{[]string{"token", "-h"}, 0, []string{"-jwt-key"}, []string{key}},
		{[]string{"nope"}, 1, append(list, `server: unknown command "nope"`), nil},
		{[]string{"help", "nope"}, 1, append(list, `server: unknown command "nope"`), nil},
		{[]string{"close", "-nope"}, 1, []string{"-month", "server: flag provided but not defined: -nope"}, []string{"-addr"}},
	}
	for _, tt := range tests {
		stdout, stderr, code := serverProcess(t, []string{"EDUFUND_JWT_KEY=" + key}, tt.args...)
		got := stdout
		if tt.code != 0 {
			got = stderr
		}
		if code != tt.code || (tt.code == 0 && stderr != "") {
			t.Errorf("server %q: exit code %d, want %d; stdout:\n%s\nstderr:\n%s", tt.args, code, tt.code, stdout, stderr)
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(got, w) {
				t.Errorf("server %q: no %q in:\n%s", tt.args, w, got)
			}
		}
		for _, n := range tt.not {
			if strings.Contains(got, n) {
				t.Errorf("server %q: %q in:\n%s", tt.args, n, got)
			}
		}
	}
}

// TestRegionFlag: -region loads a region file (naming the wrong field when
// it is invalid), EDUFUND_REGION does the same, and the demo data is refused
// outside the built-in demo region.
func TestRegionFlag(t *testing.T) {
	ctx := context.Background()
	var out, errs bytes.Buffer
	if err := run(ctx, []string{"migrate", "-db", "sqlite::memory:", "-region", "region.example.json"}, &out, &errs); err != nil {
		t.Fatalf("migrate with the example region: %v (%s)", err, errs.String())
	}
	bad := filepath.Join(t.TempDir(), "region.json")
	if err := os.WriteFile(bad, []byte(`{"name":"x","time_zone":"Europe/Moscow","children":{"municipalities":["a",""]}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	err := run(ctx, []string{"migrate", "-db", "sqlite::memory:", "-region", bad}, &out, &errs)
	if err == nil || !strings.Contains(err.Error(), "children.municipalities[1]") {
		t.Fatalf("invalid region file: %v", err)
	}
	t.Setenv("EDUFUND_REGION", bad)
	if err := run(ctx, []string{"migrate", "-db", "sqlite::memory:"}, &out, &errs); err == nil || !strings.Contains(err.Error(), "children.municipalities[1]") {
		t.Fatalf("EDUFUND_REGION: %v", err)
	}
	if err := run(ctx, []string{"demo", "-db", "sqlite::memory:", "-region", "region.example.json"}, &out, &errs); err == nil || !strings.Contains(err.Error(), "demo region") {
		t.Fatalf("demo data in a real region: %v", err)
	}
}

// TestTokenCommand prints a token the server's Auth accepts.
func TestTokenCommand(t *testing.T) {
	var out, errs bytes.Buffer
	key := "a-signing-key-of-at-least-32-bytes-long"
	if err := run(context.Background(), []string{"token", "-jwt-key", key, "-role", "municipality", "-subject", "officer", "-tenant", "novosibirsk"}, &out, &errs); err != nil {
		t.Fatal(err)
	}
	auth, err := api.NewAuth([]byte(key), time.Hour, api.DefaultMaxTokenTTL)
	if err != nil {
		t.Fatal(err)
	}
	p, err := auth.Verify(context.Background(), strings.TrimSpace(out.String()))
	if err != nil || p.Role != api.RoleMunicipality || p.Tenant != "novosibirsk" {
		t.Fatalf("token: %+v, %v", p, err)
	}
	if err := run(context.Background(), []string{"token", "-jwt-key", key, "-role", "provider", "-subject", "x", "-tenant", "not-a-uuid"}, &out, &errs); err == nil {
		t.Fatal("a provider token without a provider id was issued")
	}
}

// syncBuffer is a bytes.Buffer safe for the server's goroutine and the
// test's.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestServeBatchFlags: the -batch-* flags reach the server's Batcher (it
// prints what it runs with), and a negative count is refused by name.
func TestServeBatchFlags(t *testing.T) {
	var errs bytes.Buffer
	for flag, want := range map[string]string{"-batch-flushers": "-batch-flushers: -1: must be 0", "-batch-max": "-batch-max: -1: must be 0"} {
		err := run(context.Background(), []string{"serve", "-db", "sqlite::memory:", flag, "-1"}, io.Discard, &errs)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s -1: %v, want %q", flag, err, want)
		}
	}

	serveUntil(t, "applications: batches of up to 64, 3 at once, linger 1ms",
		"-batch-flushers", "3", "-batch-linger", "1ms", "-batch-max", "64")
}

// serveUntil runs serve on an in-memory database, without demo data, with
// the extra args, until its output holds want; then it stops the server
// and returns the output.
func serveUntil(t *testing.T, want string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"serve", "-db", "sqlite::memory:", "-addr", "127.0.0.1:0", "-demo=false"}, args...), out, io.Discard)
	}()
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(out.String(), want); {
		select {
		case err := <-done:
			t.Fatalf("serve stopped: %v\n%s", err, out.String())
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %q in:\n%s", want, out.String())
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("serve: %v", err)
	}
	return out.String()
}
