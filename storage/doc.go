// Package storage is edufund's system of record: it implements
// enrollment.Store, enrollment.Tx and enrollment.Pager on uptrace/bun with
// two dialects, PostgreSQL (pgx) for production and SQLite (the pure-Go
// modernc.org/sqlite driver) as the embedded default for the reference
// server and fast tests.
//
// Open picks the dialect from the DSN:
//
//	postgres://user@host:5432/db?sslmode=disable   PostgreSQL
//	sqlite:/var/lib/edufund.db, file:x.db, x.db     a SQLite file (WAL)
//	sqlite::memory:                                  a private in-memory SQLite database
//
// Migrate applies the embedded, per-dialect schema (storage/migrations/pg,
// storage/migrations/sqlite); it is safe to run again. A migration whose
// rows need Go (00010 canonicalises person identifiers, which SQLite's SQL
// cannot) has a Go step run in its transaction before its SQL; what it
// leaves to an operator is logged at Warn to the WithLogger logger.
//
// Every use case runs inside InTx. The closure may run more than once: a
// transaction that fails on a serialization failure or deadlock
// (PostgreSQL SQLSTATE 40001, 40P01), a busy or locked SQLite database, or a
// lost connection is retried a bounded number of times with jittered
// exponential backoff. Past the bound InTx returns an error matching
// enrollment.ErrContention; a database out of reach gives
// enrollment.ErrUnavailable. Errors of the closure itself pass through.
//
// Money is stored as BIGINT kopecks, so that conditional updates of the
// contended counters (one UPDATE … WHERE used + n <= lim RETURNING used) and
// the CHECK constraints of accounts and holds are exact in both engines.
// LockCertificate, LockContract and Account lock their row on PostgreSQL
// (SELECT … FOR NO KEY UPDATE: exclusive against other writers, but not
// against the foreign-key checks of rows that reference it). Account locks
// because every caller reads it to write it back. Unique rules refused with
// enrollment.ErrExists (ON CONFLICT DO NOTHING, or a savepoint for updates)
// and counters refused with enrollment.ErrCounterFull leave the transaction
// usable, so a service may handle the refusal and go on.
//
// Queue entries are ordered by arrival, not by enqueued_at: an enqueue bumps
// the queue's sequence row, which numbers the entries and also makes
// concurrent enqueuers of one queue take turns, so positions are distinct
// and only fall. SQLite has one writer at a time: the pool is one connection and
// every transaction begins IMMEDIATE, so transactions simply queue; that is
// the right trade for one embedded process, not for many concurrent writers.
//
// Where to look: tx.go and its tx_*.go siblings are enrollment.Tx, one bun
// statement per method; pager.go is enrollment.Pager; the tables' row
// structs, their conversions and column map are in internal/schema. The
// bulk paths of enrollment/batch (a batch of submissions, a page of the
// monthly close) are bulk.go's: SQLite's in batch.go and close.go, with
// bun; PostgreSQL's in internal/pgfast (pipelines, binary parameters and
// results), entered through bulk_pg.go.
package storage
