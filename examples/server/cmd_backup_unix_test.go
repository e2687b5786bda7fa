//go:build unix && !aix && !solaris

package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestBackupNextToServer: while a server runs on a SQLite file (holding
// its lock), backup, a process of its own, copies it and the copy
// verifies; verify and restore of the file itself are refused with what
// to do instead; once the server stops, the copy restores.
func TestBackupNextToServer(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "edufund.db")
	db := "sqlite:" + file
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "-db", db, "-addr", "127.0.0.1:0"}, out, io.Discard) // loads the demo
	}()
	for deadline := time.Now().Add(time.Minute); !strings.Contains(out.String(), "edufund listening"); {
		select {
		case err := <-done:
			t.Fatalf("serve stopped: %v\n%s", err, out.String())
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("the server did not start:\n%s", out.String())
		}
	}

	copyFile := filepath.Join(dir, "copy.db")
	stdout, stderr, code := serverProcess(t, nil, "backup", "-db", db, "-o", copyFile)
	require.Equal(t, 0, code, "backup next to a running server:\n%s%s", stdout, stderr)
	assert.Contains(t, stdout, "backup written to "+copyFile)
	stdout, stderr, code = serverProcess(t, nil, "verify", "-db", "sqlite:"+copyFile)
	require.Equal(t, 0, code, "verify the copy:\n%s%s", stdout, stderr)
	assert.Contains(t, stdout, "certificates 8") // the demo's
	_, err := os.Stat(copyFile + ".lock")
	assert.ErrorIs(t, err, os.ErrNotExist, "verify left a lock file beside a backup")

	for _, tt := range []struct {
		args []string
		hint string
	}{
		{[]string{"verify", "-db", db}, verifyInUse},
		{[]string{"restore", "-db", db, "-from", copyFile}, restoreInUse},
	} {
		stdout, stderr, code := serverProcess(t, nil, tt.args...)
		assert.Equal(t, 1, code, "%q next to a running server:\n%s%s", tt.args, stdout, stderr)
		assert.Contains(t, stderr, "is in use by another edufund process")
		assert.Contains(t, stderr, tt.hint)
	}

	cancel()
	require.NoError(t, <-done)
	stdout, stderr, code = serverProcess(t, nil, "restore", "-db", db, "-from", copyFile)
	require.Equal(t, 0, code, "restore after the server stopped:\n%s%s", stdout, stderr)
	assert.Contains(t, stdout, "restored "+file)
	matches, err := filepath.Glob(file + ".before-restore-*")
	require.NoError(t, err)
	assert.NotEmpty(t, matches, "the replaced database is kept")
}
