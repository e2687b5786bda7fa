//go:build unix && !aix && !solaris

package main

import (
	"errors"
	"io"
	"os"
	"strings"
	"syscall"
)

// flock takes an exclusive lock on path without waiting and writes owner
// into the file, for the processes refused while it holds the lock. When
// another process holds the lock, release is nil and holder is what that
// process wrote.
func flock(path, owner string) (release func(), holder string, err error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, "", err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		b, _ := io.ReadAll(io.LimitReader(f, 256))
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, strings.TrimSpace(string(b)), nil
		}
		return nil, "", err
	}
	// The owner only informs a refused process: failing to write it is no
	// reason to refuse this one.
	if f.Truncate(0) == nil {
		_, _ = f.WriteAt([]byte(owner+"\n"), 0)
	}
	return func() { f.Close() }, "", nil
}
