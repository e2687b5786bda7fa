// Package pgfast is the store's PostgreSQL fast paths: a batch of
// submissions under locks (Locked) and optimistically (ReadBatch,
// ApplyOptimistic), and the pages of the batched monthly close (CloseTx).
// They bypass bun: fixed statements prepared once per connection, rows
// sent as one binary array per column and read back in binary, several
// statements to a round trip in pipelines. Package storage calls them
// through Store; the rows and their columns are package schema's.
package pgfast

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// Store is the fast paths over a pgx pool opened through database/sql.
type Store struct {
	db *sql.DB
	// hook, when *hook is set, is called after each statement that
	// bypasses bun (and so bun's query hooks) with its text and duration.
	hook *func(query string, d time.Duration)
	// closeParams holds the parameter buffers of the batched close's pages
	// for reuse (a page's are 2–3 MB; a sync.Pool would lose them to the
	// garbage collections between two pages of a worker).
	closeParams chan *pgParams
}

// New returns the fast paths over db, a pool of pgx connections, reporting
// their statements to *hook when it is set.
func New(db *sql.DB, hook *func(query string, d time.Duration)) *Store {
	if hook == nil {
		hook = new(func(string, time.Duration))
	}
	return &Store{db: db, hook: hook, closeParams: make(chan *pgParams, closeParamBuffers)}
}

// withConn runs fn on a pgx connection of the pool.
func (s *Store) withConn(ctx context.Context, fn func(c *pgx.Conn) error) error {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error {
		sc, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("storage: driver connection is a %T, not pgx", dc)
		}
		return fn(sc.Conn())
	})
}

// trace starts timing statement q for the hook; the returned func reports it.
func (s *Store) trace(q string) func() {
	h := *s.hook
	if h == nil {
		return func() {}
	}
	t0 := time.Now()
	return func() { h(q, time.Since(t0)) }
}
