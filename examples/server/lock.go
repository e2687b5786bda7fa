package main

import (
	"cmp"
	"fmt"
	"os"
)

// lockDatabase keeps the SQLite file to this process while cmd runs: a
// second server, or a one-shot command next to a running server, is
// refused with a message naming the file, the process holding it and what
// to do instead. SQLite alone would keep each transaction whole, but a
// second writing process waits for the file at most its busy timeout (5 s)
// before its transaction fails, where the server's own requests queue on
// its one connection; and an operator who starts a second server on the
// file has most likely left the first one running. PostgreSQL is made for
// many servers on one database and takes no lock.
//
// The lock is flock(2) on FILE.lock, which the kernel releases however the
// process ends. The file stays when it does: removing it would let a third
// process lock a new file while a second still holds the old one. On
// systems without flock there is no lock.
func lockDatabase(file string, cmd *command) (release func(), err error) {
	lockFile := file + ".lock"
	release, holder, err := flock(lockFile, fmt.Sprintf("pid %d, server %s", os.Getpid(), cmd.name))
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", lockFile, err)
	}
	if release == nil {
		return nil, fmt.Errorf("%s is in use by another edufund process (%s; lock file %s): %s",
			file, cmp.Or(holder, "which one is not recorded yet"), lockFile, cmp.Or(cmd.inUse, "wait for it to end or stop it first"))
	}
	return release, nil
}
