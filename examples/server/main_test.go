package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edufund/edufund/examples/server/api"
)

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
