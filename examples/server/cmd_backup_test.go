package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edufund/edufund/catalog"
	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/storage"
	"github.com/edufund/edufund/storage/storagetest"
)

// requirePGTools skips a test that needs pg_dump and pg_restore where
// they are not installed, and fails it under CI, where they must be.
func requirePGTools(t *testing.T) {
	t.Helper()
	for _, tool := range []string{"pg_dump", "pg_restore"} {
		if _, err := pgTool(tool); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("CI: %v", err)
			}
			t.Skip(err)
		}
	}
}

// TestBackupUnderLoad: a backup taken while applications are submitted
// concurrently restores to a database whose invariants hold, which holds
// every application acknowledged before the backup started and none
// acknowledged after it ended: on a SQLite file, and on PostgreSQL when
// EDUFUND_TEST_POSTGRES is set.
func TestBackupUnderLoad(t *testing.T) {
	for _, kind := range []string{storagetest.SQLiteFile, storagetest.Postgres} {
		t.Run(kind, func(t *testing.T) {
			dsn := storagetest.DSN(t, kind) // skips PostgreSQL without EDUFUND_TEST_POSTGRES
			copyFile := filepath.Join(t.TempDir(), "copy.db")
			if kind == storagetest.Postgres {
				requirePGTools(t)
				copyFile = strings.TrimSuffix(copyFile, ".db") + ".dump"
			}
			ctx := t.Context()
			db, err := storage.Open(ctx, dsn)
			require.NoError(t, err)
			require.NoError(t, db.Migrate(ctx))
			r := storagetest.NewRegion(t, db, storagetest.RegionOptions{Capacity: 500})
			// A child applies once to a module: three modules of 9,000.00,
			// which a certificate of 30,000.00 pays for.
			groups := []catalog.Group{r.Group}
			for i := range 2 {
				m := r.Module
				m.ID, m.Name = uuid.Nil, fmt.Sprintf("Year %d", i+2)
				m, err := r.Service.SaveModule(ctx, r.Key(), m, enrollment.AsSystem("test"))
				require.NoError(t, err)
				groups = append(groups, r.AddGroup(m, 500))
			}
			children := r.Children(60)

			type ack struct {
				id uuid.UUID
				at time.Time
			}
			var (
				mu   sync.Mutex
				acks []ack
				next atomic.Int64
				stop = make(chan struct{})
				wg   sync.WaitGroup
			)
			acked := func(after time.Time) (ids []uuid.UUID) {
				mu.Lock()
				defer mu.Unlock()
				for _, a := range acks {
					if a.at.After(after) {
						ids = append(ids, a.id)
					}
				}
				return ids
			}
			for range 4 {
				wg.Go(func() {
					for {
						select {
						case <-stop:
							return
						default:
						}
						i := int(next.Add(1) - 1)
						if i >= len(children)*len(groups) {
							return
						}
						k, err := r.Service.Submit(ctx, r.Key(), enrollment.SubmitRequest{
							CertificateID: children[i%len(children)].ID, GroupID: groups[i/len(children)].ID, By: enrollment.AsSystem("load")})
						if err != nil {
							t.Errorf("submit %d: %v", i, err)
							return
						}
						mu.Lock()
						acks = append(acks, ack{k.ID, time.Now()})
						mu.Unlock()
					}
				})
			}
			finished := make(chan struct{})
			go func() { wg.Wait(); close(finished) }()
			// halt stops the load, also when the test fails first: no
			// submission may outlive it.
			halt := sync.OnceFunc(func() { close(stop); <-finished })
			t.Cleanup(halt)
			waitFor := func(what string, n int, after time.Time) {
				for deadline := time.Now().Add(time.Minute); len(acked(after)) < n; {
					select {
					case <-finished:
						t.Fatalf("the load ended before %d applications were acknowledged %s", n, what)
					case <-time.After(5 * time.Millisecond):
					}
					if time.Now().After(deadline) {
						halt()
						t.Fatalf("fewer than %d applications acknowledged %s in a minute", n, what)
					}
				}
			}

			waitFor("before the backup", 20, time.Time{})
			started := time.Now()
			before := acked(time.Time{})
			var out, errs bytes.Buffer
			err = run(ctx, []string{"backup", "-db", dsn, "-o", copyFile}, &out, &errs)
			ended := time.Now()
			require.NoError(t, err, "backup: %s%s", out.String(), errs.String())
			during := len(acked(started)) - len(acked(ended))
			waitFor("after the backup", 5, ended)
			halt()
			after := acked(ended)
			t.Logf("%d applications acknowledged before the backup, %d while it ran (%v), %d after it",
				len(before), during, ended.Sub(started).Round(time.Millisecond), len(after))
			require.NoError(t, db.Close())

			out.Reset()
			require.NoError(t, run(ctx, []string{"restore", "-from", copyFile, "-db", dsn}, &out, &errs), "restore: %s%s", out.String(), errs.String())
			assert.Contains(t, out.String(), "verified: the database is consistent")

			restored, err := storage.Open(ctx, dsn)
			require.NoError(t, err)
			defer restored.Close()
			storagetest.CheckInvariants(t, restored)
			var ids []uuid.UUID
			require.NoError(t, restored.Bun().NewSelect().Table("contracts").Column("id").Scan(ctx, &ids))
			for _, id := range before {
				assert.True(t, slices.Contains(ids, id), "contract %s, acknowledged before the backup started, is not in the restored database", id)
			}
			for _, id := range after {
				assert.False(t, slices.Contains(ids, id), "contract %s, acknowledged after the backup ended, is in it: the database was not restored", id)
			}
		})
	}
}

// TestVerify: verify passes a sound copy and fails, naming what is wrong,
// a copy whose ledger does not balance, one a newer edufund migrated, a
// damaged file and a file that is not edufund's; it fails with exit code 1
// as a process.
func TestVerify(t *testing.T) {
	live := demoFile(t)
	sound := filepath.Join(t.TempDir(), "sound.db")
	require.NoError(t, run(t.Context(), []string{"backup", "-db", live, "-o", sound}, new(bytes.Buffer), new(bytes.Buffer)))
	raw, err := os.ReadFile(sound)
	require.NoError(t, err)

	sql := func(stmt string) func(t *testing.T, file string) {
		return func(t *testing.T, file string) {
			db, err := storage.Open(t.Context(), "sqlite:"+file)
			require.NoError(t, err)
			defer db.Close()
			_, err = db.Bun().ExecContext(t.Context(), stmt)
			require.NoError(t, err)
		}
	}
	tests := []struct {
		name  string
		spoil func(t *testing.T, file string)
		want  string // in the error; "" for none
	}{
		{"sound", func(*testing.T, string) {}, ""},
		{"unbalanced", sql("UPDATE counters SET used = used + 1 WHERE key LIKE 'seats:%' AND used < lim"), "seat counters that differ from live contracts"},
		{"newer", sql("INSERT INTO bun_migrations (name, group_id) VALUES ('99999', 99)"), "migrated by a newer edufund (migrations 99999"},
		{"not edufund", func(t *testing.T, file string) {
			require.NoError(t, os.Remove(file))
			sql("CREATE TABLE x (y INTEGER)")(t, file)
		}, "is this an edufund database?"},
		{"damaged", func(t *testing.T, file string) {
			b := slices.Clone(raw)
			for i := 8192; i < len(b) && i < 8192+4*4096; i++ { // pages 3 to 6: tables' pages, not the header
				b[i] ^= 0x5a
			}
			require.NoError(t, os.WriteFile(file, b, 0o600))
		}, "integrity_check"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "copy.db")
			require.NoError(t, os.WriteFile(file, raw, 0o600))
			tt.spoil(t, file)
			var out bytes.Buffer
			err := run(t.Context(), []string{"verify", "-db", "sqlite:" + file}, &out, new(bytes.Buffer))
			if tt.want == "" {
				require.NoError(t, err)
				for _, w := range []string{"integrity_check ok", "none newer than this server", "accounts that do not balance", "verified"} {
					assert.Contains(t, out.String(), w)
				}
				return
			}
			require.Error(t, err, "verify passed a spoilt copy:\n%s", out.String())
			assert.Contains(t, err.Error(), tt.want)
			if tt.name == "unbalanced" {
				_, stderr, code := serverProcess(t, nil, "verify", "-db", "sqlite:"+file)
				assert.Equal(t, 1, code, "exit code of verify on a broken ledger")
				assert.Contains(t, stderr, tt.want)
			}
		})
	}
}

// TestBackupRefusals: bad flags are named, a backup never overwrites a
// file, an in-memory or missing database is refused rather than copied
// as a new, empty one, and a restore refuses a copy that does not verify,
// leaving the database as it was.
func TestBackupRefusals(t *testing.T) {
	live := demoFile(t)
	dir := t.TempDir()
	exists := filepath.Join(dir, "exists.db")
	require.NoError(t, os.WriteFile(exists, []byte("x"), 0o600))
	bad := filepath.Join(dir, "bad.db")
	require.NoError(t, os.WriteFile(bad, []byte("not a database"), 0o600))
	before := state(t, live)
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"backup", "-db", live}, "-o: the copy to write is required"},
		{[]string{"backup", "-db", live, "-o", exists}, "never overwrites"},
		{[]string{"backup", "-db", "sqlite::memory:", "-o", filepath.Join(dir, "m.db")}, "in-memory"},
		{[]string{"backup", "-db", "sqlite:" + filepath.Join(dir, "missing.db"), "-o", filepath.Join(dir, "m.db")}, "no such file"},
		{[]string{"verify", "-db", "sqlite:" + filepath.Join(dir, "missing.db")}, "no such file"},
		{[]string{"restore", "-db", live}, "-from: the copy to restore is required"},
		{[]string{"restore", "-db", live, "-from", filepath.Join(dir, "missing.db")}, "no such file"},
		{[]string{"restore", "-db", live, "-from", bad}, "is not restored"},
	}
	for _, tt := range tests {
		err := run(t.Context(), tt.args, new(bytes.Buffer), new(bytes.Buffer))
		if assert.Error(t, err, "%q", tt.args) {
			assert.Contains(t, err.Error(), tt.want, "%q", tt.args)
		}
	}
	_, err := os.Stat(filepath.Join(dir, "missing.db"))
	assert.ErrorIs(t, err, os.ErrNotExist, "a refused command made the database it was given")
	assert.Equal(t, before, state(t, live), "a refused restore changed the database")
}

// TestLibpq: the DSN the server takes becomes one pg_dump takes: the
// password in the environment, not on the command line; search_path the
// schemas to copy; pgx's session settings dropped; libpq's own kept.
func TestLibpq(t *testing.T) {
	tests := []struct {
		dsn, uri string
		env      []string
		schemas  []string
	}{
		{"postgres://u@h:5432/db?sslmode=disable", "postgres://u@h:5432/db?sslmode=disable", nil, nil},
		{"postgres://u:s%40cret@h/db?sslmode=require&jit=off&default_transaction_isolation=serializable",
			"postgres://u@h/db?sslmode=require", []string{"PGPASSWORD=s@cret"}, nil},
		{`postgresql://u@h/db?search_path=edufund,"$user"&password=pw&application_name=x`,
			"postgresql://u@h/db?application_name=x", []string{"PGPASSWORD=pw"}, []string{"edufund"}},
	}
	for _, tt := range tests {
		c, err := libpq(tt.dsn)
		require.NoError(t, err)
		assert.Equal(t, tt.uri, c.uri, tt.dsn)
		assert.Equal(t, tt.env, c.env, tt.dsn)
		assert.Equal(t, tt.schemas, c.schemas, tt.dsn)
	}
}

// TestPGToolMissing: without pg_dump anywhere, backup says what to
// install instead of failing obscurely.
func TestPGToolMissing(t *testing.T) {
	was := pgInstalls
	pgInstalls = t.TempDir()
	t.Cleanup(func() { pgInstalls = was })
	t.Setenv("PATH", t.TempDir())
	_, err := exec.LookPath("pg_dump")
	require.Error(t, err)
	err = run(context.Background(), []string{"backup", "-db", "postgres://u@127.0.0.1:1/db", "-o", filepath.Join(t.TempDir(), "x.dump")}, new(bytes.Buffer), new(bytes.Buffer))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "pg_dump is not on PATH")
}
