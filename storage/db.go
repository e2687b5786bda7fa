package storage

import (
	"context"
	"crypto/rand"
	"database/sql"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
	"github.com/uptrace/bun/dialect/sqlitedialect"
	"github.com/uptrace/bun/migrate"
	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/storage/internal/dberr"
)

// Dialect names returned by (*DB).Dialect.
const (
	Postgres = "pg"
	SQLite   = "sqlite"
)

const (
	defaultMaxRetries   = 10
	defaultMaxOpenConns = 8
)

// DB is an opened edufund store. It implements enrollment.Store and
// enrollment.Pager and is safe for concurrent use.
type DB struct {
	bun          *bun.DB
	dialect      string
	maxRetries   int
	log          *slog.Logger
	baseBackoff  time.Duration
	maxBackoff   time.Duration
	txOpts       *sql.TxOptions
	migrationsFS fs.FS
	// bulk is the dialect's paths of batches and of the batched close.
	bulk bulk
	// sizeCap is how far the navigator counts a word's postings
	// (storage/search.go).
	sizeCap int
	// portable is WithPortable on PostgreSQL.
	portable bool
	// lite is SQLite's prepared batch statements (lite.go).
	lite liteStmts
}

var (
	_ enrollment.Store = (*DB)(nil)
	_ enrollment.Pager = (*DB)(nil)
)

// Option configures Open.
type Option func(*config)

type config struct {
	maxRetries   int
	maxOpenConns int
	log          *slog.Logger
	portable     bool
}

// WithMaxRetries bounds how many times InTx runs a transaction again after a
// retryable failure (default 10; 0 runs it once).
func WithMaxRetries(n int) Option {
	return func(c *config) {
		if n >= 0 {
			c.maxRetries = n
		}
	}
}

// WithMaxOpenConns caps the PostgreSQL connection pool (default 8). SQLite
// always uses one connection: it has one writer anyway.
func WithMaxOpenConns(n int) Option {
	return func(c *config) {
		if n > 0 {
			c.maxOpenConns = n
		}
	}
}

// WithLogger receives a debug record for every retried transaction, and
// from Migrate a warning for every row a migration leaves to an operator
// (canonicalPersonIDs).
func WithLogger(l *slog.Logger) Option {
	return func(c *config) { c.log = l }
}

//go:embed migrations/pg/*.sql migrations/sqlite/*.sql
var migrationFiles embed.FS

// Open connects to the database the DSN names and checks that it answers:
//
//   - postgres://… or postgresql://… : PostgreSQL through pgx;
//   - sqlite:PATH, file:PATH[?…] or a path ending in .db : a SQLite file
//     in WAL mode;
//   - sqlite::memory: : a fresh in-memory SQLite database, private to this
//     DB (a unique shared-cache name per Open).
//
// A database that cannot be reached gives an error matching
// enrollment.ErrUnavailable. Open does not migrate; call Migrate.
func Open(ctx context.Context, dsn string, opts ...Option) (*DB, error) {
	cfg := config{maxRetries: defaultMaxRetries, maxOpenConns: defaultMaxOpenConns}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.log == nil {
		cfg.log = slog.New(slog.DiscardHandler)
	}

	db := &DB{
		maxRetries:  cfg.maxRetries,
		log:         cfg.log,
		baseBackoff: 2 * time.Millisecond,
		sizeCap:     defaultSizeCap,
		maxBackoff:  100 * time.Millisecond,
	}

	switch {
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		pcfg, err := pgx.ParseConfig(dsn)
		if err != nil {
			return nil, fmt.Errorf("storage: postgres dsn: %w", err)
		}
		// bun interpolates arguments into the SQL text itself; the simple
		// protocol keeps pgx from preparing and caching every distinct text.
		pcfg.DefaultQueryExecMode = pgx.QueryExecModeSimpleProtocol
		if _, set := pcfg.RuntimeParams["jit"]; !set && !cfg.portable {
			// The store's statements are short; compiling one costs more
			// than it saves (16 ms of a 445 ms search of the navigator
			// went to JIT). A DSN's options may still turn it on. The
			// portable profile leaves out this setting of PostgreSQL's own.
			pcfg.RuntimeParams["jit"] = "off"
		}
		if pcfg.ConnectTimeout == 0 {
			// A server that is shutting down may accept a connection and
			// never answer it: bound each dial so that the retries, not one
			// stuck connect, decide how long a request waits.
			pcfg.ConnectTimeout = 3 * time.Second
		}
		if _, set := pcfg.RuntimeParams["default_transaction_isolation"]; cfg.portable && !set {
			// WithPortable: the single statements outside InTx (the lists,
			// the migrations) run serializable too, as they do on the
			// distributed engines.
			pcfg.RuntimeParams["default_transaction_isolation"] = "serializable"
		}
		sqldb := stdlib.OpenDB(*pcfg)
		sqldb.SetMaxOpenConns(cfg.maxOpenConns)
		sqldb.SetMaxIdleConns(cfg.maxOpenConns)
		sqldb.SetConnMaxIdleTime(5 * time.Minute)
		db.bun = bun.NewDB(sqldb, pgdialect.New())
		db.dialect = Postgres
		db.bulk = newPGBulk(db)
		if cfg.portable {
			db.portable = true
			db.txOpts = &sql.TxOptions{Isolation: sql.LevelSerializable}
			db.bulk = sqliteBulk{db}
		}
	default:
		name, err := sqliteDSN(dsn)
		if err != nil {
			return nil, err
		}
		sqldb, err := sql.Open("sqlite", name)
		if err != nil {
			return nil, fmt.Errorf("storage: sqlite: %w", err)
		}
		// One connection: SQLite has one writer, BEGIN IMMEDIATE would queue
		// writers anyway, and busy handling works poorly with a shared cache.
		// A transaction in progress makes the others wait for the connection.
		sqldb.SetMaxOpenConns(1)
		sqldb.SetMaxIdleConns(1)
		sqldb.SetConnMaxIdleTime(0)
		sqldb.SetConnMaxLifetime(0)
		db.bun = bun.NewDB(sqldb, sqlitedialect.New())
		db.dialect = SQLite
		db.bulk = sqliteBulk{db}
	}

	sub, err := fs.Sub(migrationFiles, "migrations/"+db.dialect)
	if err != nil {
		_ = db.bun.Close()
		return nil, err
	}
	db.migrationsFS = sub

	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := db.bun.PingContext(pingCtx); err != nil {
		_ = db.bun.Close()
		return nil, fmt.Errorf("storage: open %s: %w: %w", redact(dsn), enrollment.ErrUnavailable, err)
	}
	return db, nil
}

// sqliteDSN turns the accepted SQLite DSN forms into a modernc.org/sqlite
// DSN carrying the pragmas the store relies on.
func sqliteDSN(dsn string) (string, error) {
	params := "_txlock=immediate&_pragma=busy_timeout(5000)&_pragma=foreign_keys(1)"
	if sqliteMemory(dsn) {
		var b [8]byte
		_, _ = rand.Read(b[:])
		return "file:edufund-" + hex.EncodeToString(b[:]) + "?mode=memory&cache=shared&" + params, nil
	}
	// synchronous(FULL): a commit is on disk before it is acknowledged,
	// which an acknowledged enrolment or charge needs; NORMAL could lose the
	// last commits on a power cut.
	params += "&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)"
	path, query, err := sqlitePath(dsn)
	if err != nil {
		return "", err
	}
	// cache_size: 64 MiB of pages rather than SQLite's 2 MiB, which a
	// region's hot pages (its indexes' upper levels, the counters, the
	// offers) outgrow at once: every read of a page beyond it went to the
	// operating system, a tenth of the server's CPU under load. A DSN
	// that sets its own keeps it.
	if !strings.Contains(query, "cache_size") {
		params += "&_pragma=cache_size(-65536)"
	}
	if query != "" {
		// Keep the caller's own parameters; ours come after them.
		query += "&"
	}
	// In a file: URI '#' starts a fragment and '%' an escape: a path with
	// them (a subtest named "x#01") must not be cut or decoded.
	path = strings.NewReplacer("%", "%25", "#", "%23").Replace(path)
	return "file:" + path + "?" + query + params, nil
}

func sqliteMemory(dsn string) bool { return dsn == "sqlite::memory:" || dsn == ":memory:" }

// sqlitePath splits a SQLite file DSN into the file's path and the
// caller's own URI parameters.
func sqlitePath(dsn string) (path, query string, err error) {
	switch {
	case strings.HasPrefix(dsn, "sqlite:"):
		path = strings.TrimPrefix(dsn, "sqlite:")
		path = strings.TrimPrefix(path, "//")
	case strings.HasPrefix(dsn, "file:"):
		path = strings.TrimPrefix(dsn, "file:")
	case strings.HasSuffix(dsn, ".db"), strings.HasSuffix(dsn, ".sqlite"), strings.HasSuffix(dsn, ".sqlite3"):
		path = dsn
	default:
		return "", "", fmt.Errorf("storage: unrecognised dsn %q: want postgres://…, sqlite:PATH, file:PATH, PATH.db or sqlite::memory:", redact(dsn))
	}
	if path == "" {
		return "", "", fmt.Errorf("storage: dsn %q names no file", dsn)
	}
	path, query, _ = strings.Cut(path, "?")
	return path, query, nil
}

// SQLiteFile returns the path of the SQLite file a DSN names, as Open
// opens it, and "" for an in-memory database, PostgreSQL or a DSN Open
// refuses. Open lets several processes share a file (SQLite's own locks
// keep each transaction whole); a program that wants the file to itself,
// as the reference server does, locks a file beside it.
func SQLiteFile(dsn string) string {
	if sqliteMemory(dsn) || strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		return ""
	}
	path, _, err := sqlitePath(dsn)
	if err != nil {
		return ""
	}
	return path
}

// redact hides a password in a URL-shaped DSN.
func redact(dsn string) string {
	at := strings.LastIndexByte(dsn, '@')
	scheme := strings.Index(dsn, "://")
	if at < 0 || scheme < 0 || at < scheme {
		return dsn
	}
	userinfo := dsn[scheme+3 : at]
	if i := strings.IndexByte(userinfo, ':'); i >= 0 {
		return dsn[:scheme+3] + userinfo[:i] + ":***" + dsn[at:]
	}
	return dsn
}

// Close closes the connection pool.
func (db *DB) Close() error {
	db.lite.close()
	return db.bun.Close()
}

// Dialect is "pg" or "sqlite".
func (db *DB) Dialect() string { return db.dialect }

// Bun exposes the underlying bun.DB for tests and tools. Services use InTx.
func (db *DB) Bun() *bun.DB { return db.bun }

// Migrate applies the embedded migrations of the dialect that are not
// applied yet; running it again is a no-op. It holds bun's migration lock
// while it runs; a process that crashed mid-migration leaves that lock
// behind, and the error says how to clear it.
// ErrNewerSchema is a database migrated by a newer edufund than this one.
var ErrNewerSchema = errors.New("storage: database schema is newer than this build")

func (db *DB) Migrate(ctx context.Context) error {
	ms := migrate.NewMigrations()
	if err := ms.Discover(db.migrationsFS); err != nil {
		return fmt.Errorf("storage: migrations: %w", err)
	}
	m := migrate.NewMigrator(db.bun, ms, migrate.WithMarkAppliedOnSuccess(true), migrate.BeforeMigration(db.goStep))
	if err := m.Init(ctx); err != nil {
		return fmt.Errorf("storage: migrate init: %w", classifyOpen(err))
	}
	if err := m.Lock(ctx); err != nil {
		return fmt.Errorf("storage: migrate: %w; if no other migration is running, a crashed one left its lock: "+
			"clear it with DELETE FROM bun_migration_locks WHERE table_name = 'bun_migrations'", err)
	}
	// A database a newer edufund migrated is not this build's to run on:
	// its rules would miss what the newer schema holds.
	st, err := db.Migrations(ctx)
	if err == nil && st.Newer() {
		err = fmt.Errorf("%w: the database has migrations this build does not know (%s): a newer edufund migrated it; run that version, or restore a backup taken before the upgrade", ErrNewerSchema, strings.Join(st.Unknown, ", "))
	}
	if err == nil {
		_, err = m.Migrate(ctx)
	}
	// Unlock even when the request was cancelled.
	uerr := m.Unlock(context.WithoutCancel(ctx))
	if err != nil {
		return fmt.Errorf("storage: migrate: %w", err)
	}
	if uerr != nil {
		return fmt.Errorf("storage: migrate unlock: %w", uerr)
	}
	return nil
}

// goSteps are the parts of migrations that SQL cannot do in both dialects,
// by migration name. Each runs in its migration's transaction, before the
// migration's statements.
var goSteps = map[string]func(context.Context, bun.IDB, *slog.Logger) error{
	"00010": canonicalPersonIDs,
	"00019": indexAllPrograms,
}

func (db *DB) goStep(ctx context.Context, conn bun.IConn, m *migrate.Migration) error {
	step := goSteps[m.Name]
	if step == nil {
		return nil
	}
	tx, ok := conn.(bun.Tx)
	if !ok {
		return fmt.Errorf("storage: migration %s has a Go step and must run in a transaction (.tx.up.sql)", m.Name)
	}
	return step(ctx, tx, db.log)
}

// classifyOpen marks connection failures as ErrUnavailable.
func classifyOpen(err error) error {
	if dberr.Unreachable(err) {
		return fmt.Errorf("%w: %w", enrollment.ErrUnavailable, err)
	}
	return err
}

var errRetriesExhausted = errors.New("retries exhausted")
