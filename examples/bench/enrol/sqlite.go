package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/edufund/edufund/examples/bench/internal/benchutil"
	"github.com/edufund/edufund/funding"
	"github.com/edufund/edufund/storage"
)

// runSQLite measures the embedded store: the service through the Batcher
// and through Submit, against raw database/sql doing the same writes per
// enrolment, one transaction each and many per transaction, on a file with
// the store's own pragmas (WAL, synchronous=FULL, one connection).
func runSQLite(ctx context.Context, o options) error {
	dir, err := os.MkdirTemp("", "edufund-bench-sqlite-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	fmt.Printf("# enrolment throughput, embedded SQLite\n\n")
	fmt.Printf("- machine: %d CPUs (%s), Go %s, %s\n", runtime.NumCPU(), cpuModel(), runtime.Version(), gcSetting())
	fmt.Printf("- command: %s\n", joinArgs())
	fmt.Printf("- region: %d funded certificates, %d groups, one municipal budget; batcher max %d, flushers %s; %s per run; file in %s\n",
		o.certs, o.groups, o.maxBatch, flushersText(o.flushers), o.duration, dir)
	var all []result
	n := 0
	fresh := func() (*storage.DB, error) {
		n++
		return benchutil.OpenMigrated(ctx, "sqlite:"+filepath.Join(dir, "bench-"+strconv.Itoa(n)+".db"))
	}
	for round := 1; round <= o.rounds; round++ {
		for _, w := range o.workers {
			kinds := []string{"service, Batcher"}
			if o.unbatched {
				kinds = append(kinds, "service, Submit")
			}
			if !o.skipBase {
				kinds = append(kinds, "raw SQL, 1 tx each", "raw SQL, batched")
			}
			for _, k := range kinds {
				db, err := fresh()
				if err != nil {
					return err
				}
				var r result
				switch k {
				case "service, Batcher", "service, Submit":
					r, err = serviceRun(ctx, db, o, k, w, k == "service, Batcher", func() int64 { return 0 }, nil, nil)
				default:
					r, err = rawRun(ctx, db, o, w, k == "raw SQL, batched")
					r.name = k
				}
				db.Close()
				if err != nil {
					return err
				}
				r.round = round
				all = append(all, r)
			}
		}
	}
	printTable("SQLite: enrolments per second", all, []string{"raw SQL, 1 tx each", "raw SQL, batched"})
	return nil
}

func joinArgs() string {
	s := ""
	for i, a := range os.Args {
		if i > 0 {
			s += " "
		}
		s += a
	}
	return s
}

// rawRun loads the same region and enrols with hand-written statements:
// the idempotency claim, the conditional account update, hold, posting,
// contract, the four counters and the budget last, the stored result.
func rawRun(ctx context.Context, db *storage.DB, o options, workers int, batched bool) (result, error) {
	r, err := loadRegion(ctx, db, o.certs, o.groups)
	if err != nil {
		return result{}, err
	}
	type groupInfo struct {
		ID, ModuleID, ProgramID, ProviderID uuid.UUID
		Direction, Registry                 string
		Price                               int64
	}
	var gs []groupInfo
	if err := db.Bun().NewRaw(`SELECT g.id, g.module_id, p.id AS program_id, p.provider_id, p.direction, p.registry, m.price
		FROM study_groups g JOIN modules m ON m.id = g.module_id JOIN programs p ON p.id = m.program_id ORDER BY g.id`).Scan(ctx, &gs); err != nil {
		return result{}, err
	}
	byID := map[uuid.UUID]groupInfo{}
	for _, g := range gs {
		byID[g.ID] = g
	}
	year := schoolYear(funding.MustDate(2025, time.September, 1))
	ps, pe := year.Start.String(), year.End.String()
	now := time.Date(2025, time.September, 1, 9, 0, 0, 0, time.UTC).Format("2006-01-02 15:04:05.000000")
	sqldb := db.Bun().DB
	enrol := func(ctx context.Context, tx *sql.Tx, key string, cert uuid.UUID, g groupInfo) error {
		id, hold, post := uuid.Must(uuid.NewV7()), uuid.Must(uuid.NewV7()), uuid.Must(uuid.NewV7())
		amt := g.Price
		steps := []struct {
			q    string
			args []any
			must bool
		}{
			{`INSERT INTO idempotency (key, operation, request_hash, created_at) VALUES (?, 'contract.submit', 'h', ?)`, []any{key, now}, true},
			{`UPDATE accounts SET balance = balance - ?, held = held + ?, fixed = 1 WHERE certificate_id = ? AND period_start = ? AND balance >= ?`, []any{amt, amt, cert.String(), ps, amt}, true},
			{`INSERT INTO holds (id, certificate_id, period_start, amount, charged, released, refunded) VALUES (?, ?, ?, ?, 0, 0, 0)`, []any{hold.String(), cert.String(), ps, amt}, true},
			{`INSERT INTO postings (id, certificate_id, period_start, period_end, kind, amount, hold_id, contract_id, at, actor, rule, params)
				VALUES (?, ?, ?, ?, 'reserve', ?, ?, ?, ?, 'bench', 'reserve_on_submit', '{}')`, []any{post.String(), cert.String(), ps, pe, amt, hold.String(), id.String(), now}, true},
			{`INSERT INTO contracts (id, certificate_id, group_id, module_id, program_id, provider_id, municipality, period_start, period_end, status,
				start_on, end_on, price_start, price_end, price_days, price_months, price_total, price_normative, price_cert, price_copay,
				price_first, price_other, price_cert_first, price_cert_other, price_copay_first, price_copay_other, hold_id, created_at, registry, direction)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'requested', ?, ?, ?, ?, 273, 9, ?, ?, ?, 0, ?, 0, ?, 0, 0, 0, ?, ?, ?, ?)`,
				[]any{id.String(), cert.String(), g.ID.String(), g.ModuleID.String(), g.ProgramID.String(), g.ProviderID.String(), benchMun, ps, pe,
					ps, "2026-05-31", ps, "2026-05-31", amt, amt, amt, amt, amt, hold.String(), now, g.Registry, g.Direction}, true},
			{`UPDATE counters SET used = used + 1 WHERE key = ? AND used + 1 <= lim`, []any{"program:" + g.ProgramID.String()}, false},
			{`UPDATE counters SET used = used + 1 WHERE key = ? AND used + 1 <= lim`, []any{"provider:" + g.ProviderID.String()}, false},
			{`UPDATE counters SET used = used + 1 WHERE key = ? AND used + 1 <= lim`, []any{"direction:" + benchMun + ":" + g.Direction + ":" + ps}, false},
			{`UPDATE counters SET used = used + 1 WHERE key = ? AND used + 1 <= lim`, []any{"seats:" + g.ID.String()}, true},
			{`UPDATE counters SET used = used + ? WHERE key = ? AND used + ? <= lim`, []any{amt, "budget:" + benchMun + ":" + ps, amt}, true},
			{`UPDATE idempotency SET result = ? WHERE key = ?`, []any{[]byte(`{"id":"` + id.String() + `"}`), key}, true},
		}
		for _, s := range steps {
			res, err := tx.ExecContext(ctx, s.q, s.args...)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 0 && s.must {
				return errRefused
			}
		}
		return nil
	}
	// The counters the raw path only counts start at zero, as the service
	// creates them.
	if _, err := sqldb.ExecContext(ctx, `INSERT OR IGNORE INTO counters (key, used, lim)
		SELECT 'program:' || p.id, 0, ? FROM programs p UNION ALL SELECT 'provider:' || v.id, 0, ? FROM providers v
		UNION ALL SELECT DISTINCT 'direction:' || ? || ':' || p.direction || ':' || ?, 0, ? FROM programs p`, int64(1)<<60, int64(1)<<60, benchMun, ps, int64(1)<<60); err != nil {
		return result{}, err
	}
	var submit func(ctx context.Context, key string, c, g int) error
	done := func() {}
	if batched {
		type call struct {
			key  string
			c, g int
			done chan error
		}
		in := make(chan call, 1024)
		stop := make(chan struct{})
		go func() {
			defer close(stop)
			for first := range in {
				calls := []call{first}
			more:
				for len(calls) < o.maxBatch {
					select {
					case c, ok := <-in:
						if !ok {
							break more
						}
						calls = append(calls, c)
					default:
						break more
					}
				}
				errs := make([]error, len(calls))
				tx, err := sqldb.BeginTx(ctx, nil)
				if err == nil {
					for i, c := range calls {
						if _, err = tx.ExecContext(ctx, "SAVEPOINT item"); err != nil {
							break
						}
						errs[i] = enrol(ctx, tx, c.key, r.certs[c.c], byID[r.groups[c.g]])
						if errs[i] != nil {
							_, err = tx.ExecContext(ctx, "ROLLBACK TO item")
						} else {
							_, err = tx.ExecContext(ctx, "RELEASE item")
						}
						if err != nil {
							break
						}
					}
					if err == nil {
						err = tx.Commit()
					} else {
						_ = tx.Rollback()
					}
				}
				for i, c := range calls {
					if err != nil {
						errs[i] = err
					}
					c.done <- errs[i]
				}
			}
		}()
		submit = func(ctx context.Context, key string, c, g int) error {
			ch := make(chan error, 1)
			in <- call{key, c, g, ch}
			return <-ch
		}
		done = func() { close(in); <-stop }
	} else {
		submit = func(ctx context.Context, key string, c, g int) error {
			tx, err := sqldb.BeginTx(ctx, nil)
			if err != nil {
				return err
			}
			if err := enrol(ctx, tx, key, r.certs[c], byID[r.groups[g]]); err != nil {
				_ = tx.Rollback()
				return err
			}
			return tx.Commit()
		}
	}
	res := drive(ctx, workers, o.duration, len(r.certs), len(r.groups), func(ctx context.Context, key string, c, g int) error {
		err := submit(ctx, key, c, g)
		if errors.Is(err, errRefused) || (err != nil && isUniqueErr(err)) {
			return funding.Refuse(errRefused, "refused", "%v", err)
		}
		return err
	})
	done()
	fmt.Fprintf(os.Stderr, "  raw batched=%v w=%d: %.0f/s\n", batched, workers, res.rate)
	return res, nil
}

var errRefused = errors.New("refused by a condition")

func isUniqueErr(err error) bool {
	s := err.Error()
	return contains(s, "UNIQUE constraint failed") || contains(s, "constraint failed")
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}
