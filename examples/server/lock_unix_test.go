//go:build unix && !aix && !solaris

package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestSecondProcessOnSQLiteFile: while a server runs on a SQLite file, a
// second server on it, and the one-shot commands, each a process of its
// own, are refused with a message naming the file, the server's pid and
// what to do instead; once the server stops, the file is free again.
func TestSecondProcessOnSQLiteFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "edufund.db")
	db := "sqlite:" + file
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "-db", db, "-addr", "127.0.0.1:0", "-demo=false"}, out, io.Discard)
	}()
	for deadline := time.Now().Add(30 * time.Second); !strings.Contains(out.String(), "edufund listening"); {
		select {
		case err := <-done:
			t.Fatalf("serve stopped: %v\n%s", err, out.String())
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("the server did not start:\n%s", out.String())
		}
	}

	held := fmt.Sprintf("server: %s is in use by another edufund process (pid %d, server serve; lock file %s.lock): ", file, os.Getpid(), file)
	tests := []struct {
		env  []string
		args []string
		hint string
	}{
		{nil, []string{"-db", db, "-addr", "127.0.0.1:0", "-demo=false"}, "give this server another -db"},
		{nil, []string{"close", "-db", "sqlite://" + file, "-month", "2026-01"}, "POST /v1/admin/close"},
		{nil, []string{"rollover", "-db", file, "-year", "2025"}, "POST /v1/admin/rollover"},
		{[]string{"EDUFUND_DB=" + db}, []string{"migrate"}, "stop the server and start it again"},
		{nil, []string{"demo", "-db", "file:" + file + "?mode=rw"}, "stop the server first"},
	}
	for _, tt := range tests {
		stdout, stderr, code := serverProcess(t, tt.env, tt.args...)
		if code != 1 || !strings.Contains(stderr, held) || !strings.Contains(stderr, tt.hint) {
			t.Errorf("server %q next to a running server: exit code %d, want 1 and %q…%q; stdout:\n%s\nstderr:\n%s", tt.args, code, held, tt.hint, stdout, stderr)
		}
	}

	cancel()
	if err := <-done; err != nil {
		t.Fatalf("serve: %v", err)
	}
	if _, stderr, code := serverProcess(t, nil, "migrate", "-db", db); code != 0 {
		t.Fatalf("migrate after the server stopped: exit code %d: %s", code, stderr)
	}
}
