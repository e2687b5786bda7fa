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
//
// # A portable profile
//
// WithPortable opens PostgreSQL as a PostgreSQL-compatible distributed
// engine (CockroachDB, YugabyteDB) would need it: the bulk paths run the
// plain statements of batch.go and close.go (no pgfast: no binary
// parameters or pipelines, no optimistic batches versioned by ctid and
// xmin, no set_config or SET LOCAL planner settings, no jit setting), and
// every transaction, InTx's, the batch's, the close's and a single
// statement's own, runs SERIALIZABLE with InTx's retries. Its row locks
// are those both engines take: SELECT … FOR NO KEY UPDATE (CockroachDB's
// syntax accepts it, as an exclusive lock; YugabyteDB has PostgreSQL's
// four strengths). The kind postgres-portable of storagetest runs the
// whole suite and the bank tests under it, and TestFaults runs on it as on
// the default store. On SQLite the option changes nothing.
//
// What the profile still uses of PostgreSQL, and what the engines'
// documentation says of it (a migration to one of them changes these):
//
//   - plpgsql triggers (00023: the append-only tables refuse UPDATE,
//     DELETE and TRUNCATE). YugabyteDB runs PostgreSQL's triggers.
//     CockroachDB has row-level triggers in PL/pgSQL (from v24.3, still
//     in preview in v25.4's documentation) and no statement-level ones
//     (cockroach#126362): the TRUNCATE triggers would go, leaving TRUNCATE
//     to privileges.
//   - fillfactor (00005, 00008): room on PostgreSQL's heap pages for the
//     close's updates of holds, accounts and invoices to stay on their
//     page; a matter of speed, which no statement relies on. Drop it on an
//     engine that refuses it.
//   - bigserial (parameters.version, 00015): CockroachDB's SERIAL is
//     unique_rowid(), unique but not guaranteed to increase; the versions
//     would need serial_normalization = sql_sequence, or an explicit
//     version taken from the previous one in the same transaction.
//   - SKIP LOCKED (Dequeue, ClaimDeliveries): CockroachDB supports it
//     from v22.2 (cockroach#85720); YugabyteDB added it for REPEATABLE
//     READ (yugabyte-db#9929): to check under SERIALIZABLE. Without it
//     concurrent dequeuers wait for each other instead of taking distinct
//     rows: slower, still correct.
//   - ON CONFLICT … DO NOTHING / DO UPDATE … RETURNING (claims, counters,
//     unique rules, invoices): both engines support them; CockroachDB
//     takes no expression as the conflict target (none is used) and
//     limits DO UPDATE to one arbiter index (each DO UPDATE here names
//     its key).
//   - savepoints (guarded, around a unique rule): both engines support
//     nested savepoints; CockroachDB keeps a row lock taken after a
//     savepoint rolled back to, which only makes a lock last longer.
//   - partial unique indexes (contracts_live_key): both engines have
//     them. INCLUDE columns of an index (00020) are CockroachDB's STORING,
//     which accepts INCLUDE; the primary key's INCLUDE is meaningless
//     where the primary index holds every column, and would go.
//   - string_agg, GREATEST, row_number() OVER, COLLATE "C" (00018): not
//     checked against the engines' documentation here. (The account reads
//     use scalar subqueries, not LATERAL.)
//   - migrations mix DDL and DML in one transaction (.tx.up.sql);
//     CockroachDB's known limitations restrict schema changes inside
//     transactions: the migrations may need splitting.
//
// Not used anywhere: advisory locks, LISTEN/NOTIFY, sequences beyond the
// bigserial above, VACUUM, COPY. unnest, = ANY(…), ctid, xmin, set_config
// and SET LOCAL are in internal/pgfast only, which the profile turns off.
//
// # Outgrowing one machine: sharding on the municipality
//
// A region whose enrolments outgrow one server partitions the tables by
// the certificate's municipality (CockroachDB: PARTITION BY LIST or
// REGIONAL BY ROW on a municipality column leading the primary key;
// YugabyteDB: tablespaces per partition). An enrolment then touches one
// shard for everything keyed by its certificate: the certificate, its
// accounts, holds, postings and contracts, and its idempotency key once
// that table carries the municipality. Its counters (enrollment
// SubmitCounters) are:
//
//   - budget:MUN:PERIOD and direction:MUN:DIR:PERIOD: per municipality,
//     on the certificate's shard;
//   - seats:GROUP: per group, on the shard of the group's municipality:
//     the same one unless a child enrols with a provider of another
//     municipality (the agreements allow it), then the transaction spans
//     two shards;
//   - program:PROGRAM and provider:PROVIDER: NOT per municipality. A
//     provider with agreements in several municipalities has one row that
//     every one of their enrolments writes (the count is kept even when
//     uncapped). They need a row per municipality (provider:ID:MUN), summed
//     for reads, with a cap, where there is one, shared out as below.
//
// Off the enrolment path, category:CODE (a category's funded
// certificates, taken when a certificate is issued or moved) is regional,
// not per municipality, and adult_quota:YEAR is national. Both are capped
// counters that are hot only at issuance. The national adult quota, at a
// scale where one row is a bottleneck, needs either a counter split in
// sub-rows (adult_quota:YEAR:N, N of a few per shard; a take tries its
// shard's sub-row and moves to another when it is full, the cap is the
// sum of the sub-rows' limits) or a per-shard allocation refilled from a
// central row (each shard takes a block of, say, 100 from the national
// counter in its own short transaction and hands it out locally; a
// refusal is final only when the central row and the shard's block are
// both empty, and an unused block goes back at the year's end).
//
// The statements that change: the counter guards (UPDATE counters … WHERE
// used + n <= lim, tx.Take, guardSQL) and EnsureCounter by the split keys;
// the counter reads of admin lists sum sub-rows; every table keyed by a
// certificate gains the municipality in its primary key, so the inserts
// of batchWrites, ClaimKeys and the close carry it and the lookups by id
// add it (or go through a global secondary index); the statements of the
// portable list above by what the chosen engine lacks.
package storage
