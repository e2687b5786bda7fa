package main

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/edufund/edufund/storage"
)

// Backup, verify and restore. A region must not lose its ledger to a bad
// disk or a bad update, so a copy must be consistent (one instant of the
// database, every acknowledged write before it in), taken while the server
// runs, and checked before anyone trusts it:
//
//   - backup on SQLite is VACUUM INTO: one read transaction, which in WAL
//     mode neither waits for the server's writes nor stops them; it takes
//     no lock file, so it runs beside the server. On PostgreSQL it is
//     pg_dump -Fc, whose one REPEATABLE READ transaction is the snapshot.
//   - verify opens a copy, refuses one a newer edufund migrated, and runs
//     storage.CheckInvariants (and SQLite's integrity_check); it migrates
//     nothing.
//   - restore puts a copy in place with the servers stopped: on SQLite it
//     verifies the copy first and keeps the replaced file; on PostgreSQL it
//     runs pg_restore in one transaction and verifies what it restored.
//
// These commands open the database themselves (noDB in the commands
// table): the others migrate it and lock a SQLite file first, which a
// backup beside a running server, or a check of a copy, must not do.

// backupFlags are the flags of backup and restore.
type backupFlags struct {
	out, from string
}

// The commands, in main.go's table.
var (
	backupCmd = &command{
		name: "backup", synopsis: "-o COPY|DIR [-db DSN]",
		summary: "copy the database while the server runs: SQLite VACUUM INTO, PostgreSQL pg_dump -Fc",
		flags: func(fs *flag.FlagSet, o *options) {
			dbFlag(fs, o)
			fs.StringVar(&o.backup.out, "o", "", "the copy to write: a new file, or a directory to write edufund-TIME.db (.dump on PostgreSQL) in (required)")
		},
		noDB: true, run: runBackup,
	}
	verifyCmd = &command{
		name: "verify", synopsis: "[-db DSN]",
		summary: "check a copy of the database: its migrations and the ledger's invariants (changes no row)",
		flags:   dbFlag, noDB: true, run: runVerify, inUse: verifyInUse,
	}
	restoreCmd = &command{
		name: "restore", synopsis: "-from COPY [-db DSN]",
		summary: "put a backup in place of the database, with every server on it stopped",
		flags: func(fs *flag.FlagSet, o *options) {
			dbFlag(fs, o)
			fs.StringVar(&o.backup.from, "from", "", "the copy to restore: a SQLite file from backup, or a pg_dump -Fc file on PostgreSQL (required)")
		},
		noDB: true, run: runRestore, inUse: restoreInUse,
	}
)

// What verify and restore say while a server holds the SQLite file.
const (
	verifyInUse  = "verify a copy instead: server backup -db sqlite:FILE -o COPY, then server verify -db sqlite:COPY"
	restoreInUse = "a database is restored with its server stopped: stop it first"
)

func dbFlag(fs *flag.FlagSet, o *options) {
	fs.StringVar(&o.db, "db", "sqlite:edufund.db", "database: sqlite:PATH or postgres://… (env EDUFUND_DB)")
}

// isPostgres reports whether dsn names a PostgreSQL database.
func isPostgres(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// sqliteFileOf is the existing SQLite file dsn names; a DSN naming no
// file, or a file that is not there, is an error rather than a new, empty
// database.
func sqliteFileOf(dsn string) (string, error) {
	file := storage.SQLiteFile(dsn)
	if file == "" {
		return "", fmt.Errorf("-db %q: want sqlite:PATH of a database file or postgres://… (an in-memory database has nothing to copy)", dsn)
	}
	st, err := os.Stat(file)
	if err != nil {
		return "", fmt.Errorf("-db: %w", err)
	}
	if !st.Mode().IsRegular() {
		return "", fmt.Errorf("-db: %s is not a file", file)
	}
	return file, nil
}

// ---- backup ----

func runBackup(ctx context.Context, s *session) error {
	if s.o.backup.out == "" {
		return errors.New("-o: the copy to write is required (a new file, or a directory)")
	}
	start := time.Now()
	var (
		dest string
		err  error
	)
	if isPostgres(s.o.db) {
		dest, err = backupPostgres(ctx, s.o.db, s.o.backup.out, start, s.stdout)
	} else {
		dest, err = backupSQLite(ctx, s.o.db, s.o.backup.out, start)
	}
	if err != nil {
		return err
	}
	st, err := os.Stat(dest)
	if err != nil {
		return err
	}
	fmt.Fprintf(s.stdout, "backup written to %s (%s bytes) in %s\n", dest, strconv.FormatInt(st.Size(), 10), time.Since(start).Round(time.Millisecond))
	if isPostgres(s.o.db) {
		fmt.Fprintf(s.stdout, "restore it with: server restore -from %s -db postgres://… (servers stopped)\n", dest)
	} else {
		fmt.Fprintf(s.stdout, "check it with: server verify -db sqlite:%s\n", dest)
	}
	return nil
}

// destination is the file a backup writes: out itself, which must not
// exist (a backup never overwrites one), or a new name in out when it is
// a directory.
func destination(out, ext string, at time.Time) (string, error) {
	if st, err := os.Stat(out); err == nil && st.IsDir() {
		out = filepath.Join(out, "edufund-"+at.UTC().Format("20060102T150405Z")+ext)
	}
	if _, err := os.Lstat(out); err == nil {
		return "", fmt.Errorf("-o: %s exists: a backup never overwrites a file; name a new one", out)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("-o: %w", err)
	}
	return out, nil
}

// backupSQLite copies the database dsn names into a new file with VACUUM
// INTO. The copy is written under a temporary name, synced (VACUUM INTO
// does not sync) and renamed, so that a backup cut short never leaves a
// file that looks whole.
func backupSQLite(ctx context.Context, dsn, out string, at time.Time) (string, error) {
	if _, err := sqliteFileOf(dsn); err != nil {
		return "", err
	}
	dest, err := destination(out, ".db", at)
	if err != nil {
		return "", err
	}
	db, err := storage.Open(ctx, dsn)
	if err != nil {
		return "", err
	}
	defer db.Close()
	part := dest + ".partial"
	// A .partial of a backup cut short is ours to replace.
	if err := os.Remove(part); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	if _, err := db.Bun().ExecContext(ctx, "VACUUM INTO ?", part); err != nil {
		_ = os.Remove(part)
		return "", fmt.Errorf("backup: VACUUM INTO %s: %w", part, err)
	}
	if err := commitFile(part, dest); err != nil {
		_ = os.Remove(part)
		return "", err
	}
	return dest, nil
}

// commitFile syncs the file at part, renames it to dest and syncs the
// directory, so that dest is whole on disk once it exists.
func commitFile(part, dest string) error {
	f, err := os.OpenFile(part, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if err := os.Rename(part, dest); err != nil {
		return err
	}
	if d, err := os.Open(filepath.Dir(dest)); err == nil {
		_ = d.Sync() // not every system syncs a directory; the rename is done
		d.Close()
	}
	return nil
}

// backupPostgres runs pg_dump in its custom format (compressed, restored
// by pg_restore, table by table if need be).
func backupPostgres(ctx context.Context, dsn, out string, at time.Time, stdout io.Writer) (string, error) {
	pgDump, err := pgTool("pg_dump")
	if err != nil {
		return "", err
	}
	conn, err := libpq(dsn)
	if err != nil {
		return "", err
	}
	dest, err := destination(out, ".dump", at)
	if err != nil {
		return "", err
	}
	part := dest + ".partial"
	args := []string{"--format=custom", "--file=" + part, "--dbname=" + conn.uri}
	for _, s := range conn.schemas {
		args = append(args, "--schema="+s)
	}
	fmt.Fprintf(stdout, "running %s %s\n", pgDump, strings.Join(args, " "))
	if err := runPG(ctx, pgDump, args, conn.env); err != nil {
		_ = os.Remove(part)
		return "", err
	}
	if err := commitFile(part, dest); err != nil {
		_ = os.Remove(part)
		return "", err
	}
	return dest, nil
}

// runPG runs a PostgreSQL client tool; its own message is the error's.
func runPG(ctx context.Context, tool string, args, env []string) error {
	cmd := exec.CommandContext(ctx, tool, args...)
	cmd.Env = append(os.Environ(), env...)
	var errs bytes.Buffer
	cmd.Stdout, cmd.Stderr = io.Discard, &errs
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s: %w: %s", filepath.Base(tool), err, strings.TrimSpace(errs.String()))
	}
	return nil
}

// pgInstalls is where Debian and Ubuntu install each major version of
// PostgreSQL (N/bin), whose tools are not all on PATH.
var pgInstalls = "/usr/lib/postgresql"

// pgTool finds a PostgreSQL client tool: on PATH, else the newest of
// Debian's and Ubuntu's /usr/lib/postgresql/N/bin. Its major version must
// be the server's or newer, which pg_dump checks itself.
func pgTool(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	found, _ := filepath.Glob(filepath.Join(pgInstalls, "*", "bin", name))
	version := func(p string) int {
		n, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(p))))
		return n
	}
	slices.SortFunc(found, func(a, b string) int { return cmp.Compare(version(b), version(a)) })
	if len(found) == 0 {
		return "", fmt.Errorf("%s is not on PATH nor in %s/*/bin: install the PostgreSQL client tools of the server's major version or newer (Debian: apt-get install postgresql-client)", name, pgInstalls)
	}
	return found[0], nil
}

// pgConn is how a PostgreSQL client tool reaches the database a DSN names.
type pgConn struct {
	// uri is the DSN with only the parameters libpq knows and without the
	// password, which env carries (PGPASSWORD): a command line is readable
	// by every user of the machine.
	uri string
	env []string
	// schemas are the DSN's search_path: the schemas edufund's tables are
	// in, and all a backup copies. Empty: the whole database.
	schemas []string
}

// libpqParams are the URI parameters libpq accepts; pgx treats the others
// as settings of the session (jit, default_transaction_isolation…), which
// a dump does without.
var libpqParams = map[string]bool{
	"host": true, "hostaddr": true, "port": true, "dbname": true, "user": true, "passfile": true,
	"channel_binding": true, "connect_timeout": true, "client_encoding": true, "options": true,
	"application_name": true, "fallback_application_name": true, "keepalives": true, "keepalives_idle": true,
	"keepalives_interval": true, "keepalives_count": true, "tcp_user_timeout": true, "gssencmode": true,
	"sslmode": true, "requiressl": true, "sslcompression": true, "sslcert": true, "sslkey": true, "sslpassword": true,
	"sslrootcert": true, "sslcrl": true, "sslcrldir": true, "sslsni": true, "requirepeer": true,
	"ssl_min_protocol_version": true, "ssl_max_protocol_version": true, "krbsrvname": true, "gsslib": true,
	"service": true, "target_session_attrs": true, "load_balance_hosts": true, "require_auth": true,
}

// libpq turns a DSN the server accepts into what pg_dump and pg_restore
// accept.
func libpq(dsn string) (pgConn, error) {
	u, err := url.Parse(dsn)
	if err != nil {
		return pgConn{}, fmt.Errorf("-db: not a postgres:// URL: %w", err)
	}
	var c pgConn
	if pw, ok := u.User.Password(); ok {
		c.env = append(c.env, "PGPASSWORD="+pw)
		u.User = url.User(u.User.Username())
	}
	q := url.Values{}
	for k, vs := range u.Query() {
		switch {
		case k == "password":
			c.env = append(c.env, "PGPASSWORD="+vs[len(vs)-1])
		case k == "search_path":
			for _, s := range strings.Split(vs[len(vs)-1], ",") {
				if s = strings.Trim(strings.TrimSpace(s), `"`); s != "" && s != "$user" {
					c.schemas = append(c.schemas, s)
				}
			}
		case libpqParams[k]:
			q[k] = vs
		}
	}
	u.RawQuery = q.Encode()
	c.uri = u.String()
	return c, nil
}

// ---- verify ----

func runVerify(ctx context.Context, s *session) error {
	if !isPostgres(s.o.db) {
		file, err := sqliteFileOf(s.o.db)
		if err != nil {
			return err
		}
		// A copy is nobody's; the file a server runs on is the server's, and
		// checks made while it writes would not see one instant. A file no
		// server ever locked (a backup) is left without a lock file.
		if _, err := os.Stat(file + ".lock"); err == nil {
			release, err := lockDatabase(file, &command{name: "verify", inUse: verifyInUse})
			if err != nil {
				return err
			}
			defer release()
		}
	}
	return verify(ctx, s.o.db, s.stdout)
}

// verify checks the database dsn names and says what it checked; an error
// names what failed.
func verify(ctx context.Context, dsn string, out io.Writer) error {
	db, err := storage.Open(ctx, dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	fmt.Fprintf(out, "verifying %s database %s\n", db.Dialect(), redactDSN(dsn))
	if db.Dialect() == storage.SQLite {
		var res []string
		if err := db.Bun().NewRaw("PRAGMA integrity_check").Scan(ctx, &res); err != nil {
			return fmt.Errorf("integrity_check: %w", err)
		}
		if len(res) != 1 || res[0] != "ok" {
			return fmt.Errorf("integrity_check: the file is damaged: %s", strings.Join(res, "; "))
		}
		fmt.Fprintln(out, "  file: integrity_check ok")
	}
	st, err := db.Migrations(ctx)
	if err != nil {
		return err
	}
	if st.Newer() {
		return fmt.Errorf("migrations: the database was migrated by a newer edufund (migrations %s are unknown to this server): "+
			"verify it, and run on it, with that version", strings.Join(st.Unknown, ", "))
	}
	newest := "none"
	if len(st.Applied) > 0 {
		newest = st.Applied[len(st.Applied)-1]
	}
	fmt.Fprintf(out, "  migrations: %d applied, the newest %s; none newer than this server\n", len(st.Applied), newest)
	if len(st.Pending) > 0 {
		fmt.Fprintf(out, "  migrations: %d of this server not applied yet (%s): serve and migrate apply them when they start on it\n",
			len(st.Pending), strings.Join(st.Pending, ", "))
	}
	var counts []string
	for _, table := range []string{"certificates", "contracts", "postings", "invoices"} {
		n, err := db.Bun().NewSelect().Table(table).Count(ctx)
		if err != nil {
			return fmt.Errorf("count %s: %w", table, err)
		}
		counts = append(counts, fmt.Sprintf("%s %d", table, n))
	}
	fmt.Fprintf(out, "  rows: %s\n", strings.Join(counts, ", "))
	names := storage.InvariantNames()
	if err := storage.CheckInvariants(ctx, db); err != nil {
		return err
	}
	fmt.Fprintf(out, "  invariants: none of these found (%d checks): %s\n", len(names), strings.Join(names, "; "))
	fmt.Fprintln(out, "verified: the database is consistent")
	return nil
}

// redactDSN leaves a DSN's password out of what verify prints.
func redactDSN(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil || u.User == nil {
		return dsn
	}
	u.User = url.User(u.User.Username())
	q := u.Query()
	if q.Has("password") {
		q.Del("password")
		u.RawQuery = q.Encode()
	}
	return u.String()
}

// ---- restore ----

func runRestore(ctx context.Context, s *session) error {
	from := s.o.backup.from
	if from == "" {
		return errors.New("-from: the copy to restore is required")
	}
	if st, err := os.Stat(from); err != nil {
		return fmt.Errorf("-from: %w", err)
	} else if !st.Mode().IsRegular() {
		return fmt.Errorf("-from: %s is not a file", from)
	}
	if isPostgres(s.o.db) {
		return restorePostgres(ctx, s.o.db, from, s.stdout)
	}
	return restoreSQLite(ctx, s.o.db, from, s.stdout)
}

// restoreSQLite puts the copy from in place of the file dsn names: the
// copy is verified under a temporary name beside it first, the file it
// replaces (with its -wal, which may hold the last commits) is kept
// under a .before-restore name, and the rename is the one step a crash
// could interrupt.
func restoreSQLite(ctx context.Context, dsn, from string, out io.Writer) error {
	file := storage.SQLiteFile(dsn)
	if file == "" {
		return fmt.Errorf("-db %q: want sqlite:PATH or postgres://…", dsn)
	}
	release, err := lockDatabase(file, &command{name: "restore", inUse: restoreInUse})
	if err != nil {
		return err
	}
	defer release()
	part, mode := file+".restoring", fs.FileMode(0o600)
	if st, err := os.Stat(file); err == nil {
		mode = st.Mode().Perm() // who may read the database stays as it was
	}
	if err := copyFile(from, part, mode); err != nil {
		return err
	}
	defer os.Remove(part) // gone once renamed
	fmt.Fprintf(out, "checking %s before it replaces %s\n", from, file)
	if err := verify(ctx, "sqlite:"+part, out); err != nil {
		return fmt.Errorf("%s is not restored: %w", from, err)
	}
	if _, err := os.Stat(file); err == nil {
		kept := file + ".before-restore-" + time.Now().UTC().Format("20060102T150405Z")
		for _, suffix := range []string{"", "-wal", "-shm"} {
			if err := os.Rename(file+suffix, kept+suffix); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return err
			}
		}
		fmt.Fprintf(out, "the replaced database is kept as %s\n", kept)
	}
	if err := commitFile(part, file); err != nil {
		return err
	}
	fmt.Fprintf(out, "restored %s from %s\n", file, from)
	return nil
}

// copyFile copies from into a new file to of the given mode.
func copyFile(from, to string, mode fs.FileMode) error {
	src, err := os.Open(from)
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, mode)
	if err != nil {
		return err
	}
	// Chmod too: a stale file of an interrupted restore keeps its mode.
	if err := dst.Chmod(mode); err != nil {
		dst.Close()
		return err
	}
	if _, err := io.Copy(dst, src); err != nil {
		dst.Close()
		return err
	}
	return dst.Close()
}

// restorePostgres runs pg_restore into the database dsn names, in one
// transaction: it drops the objects the dump holds and creates them
// again with their rows, or changes nothing. Objects are owned by the
// role that restores (--no-owner) and the dump's grants are left out
// (--no-privileges): the roles of the database backed up need not exist
// here. Then it verifies what it restored.
func restorePostgres(ctx context.Context, dsn, from string, out io.Writer) error {
	pgRestore, err := pgTool("pg_restore")
	if err != nil {
		return err
	}
	conn, err := libpq(dsn)
	if err != nil {
		return err
	}
	args := []string{"--clean", "--if-exists", "--no-owner", "--no-privileges", "--single-transaction", "--exit-on-error",
		"--dbname=" + conn.uri, from}
	fmt.Fprintf(out, "running %s %s\n", pgRestore, strings.Join(args, " "))
	if err := runPG(ctx, pgRestore, args, conn.env); err != nil {
		return fmt.Errorf("nothing restored: %w", err)
	}
	fmt.Fprintf(out, "restored from %s\n", from)
	return verify(ctx, dsn, out)
}
