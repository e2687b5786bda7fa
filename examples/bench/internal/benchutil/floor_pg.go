package benchutil

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/shopspring/decimal"
	"github.com/uptrace/bun"

	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/funding"
	"github.com/edufund/edufund/storage"
)

// PGFloor is the PostgreSQL raw-SQL floor of an enrolment: the rows one
// application writes (its contract, hold, posting, event and idempotency
// record, the account's and the counters' updates) written by
// hand-written batched SQL, one multi-row INSERT per table and one UPDATE
// for the accounts and one for the counters per transaction (each locked
// in key order first, as the service locks them), with no reads and no
// rules. It is what the writes alone cost, the bound the service's
// rules approach.
//
// The rows are copies of those one real application made (NewPGFloor
// submits it through the library): every column as it wrote it, the ids
// fresh, the certificate, group, module, program and provider those of the
// row's pair.
type PGFloor struct {
	db       *storage.DB
	tables   []floorTable
	accounts []floorDelta // the account's columns the application changed
	period   string       // the account's period_start
	counters []floorCounter
	shared   map[string]int // template id → which of the pair's ids
	certs    []uuid.UUID
	groups   [][4]string // group, module, program, provider
	pairs    atomic.Uint64
	keys     atomic.Uint64
}

type floorTable struct {
	name  string
	cols  []string
	types []string
	rows  [][]sql.NullString // the template's rows
}

type floorDelta struct {
	col, typ string
	delta    decimal.Decimal
}

type floorCounter struct {
	key   string // the template's key
	delta int64
}

// The ids of a pair that a template row's value may be.
const (
	idCert = iota
	idGroup
	idModule
	idProgram
	idProvider
)

// floorTemplateKey is the idempotency key of the template application.
const floorTemplateKey = "floor-template"

// FloorRun is one measured run of the floor.
type FloorRun struct {
	Rate       float64 // enrolments per second
	OK         int     // enrolments committed
	Errors     int     // enrolments whose batch failed
	Retries    int     // batches run again after a deadlock or serialization failure
	P50, P99   time.Duration
	FirstError string
}

// NewPGFloor opens dsn, a copy of a region holding certs (each held by the
// guardian of the same index) and groups, submits one application through
// the library with cfg to learn the rows it writes, and makes every
// counter the floor's rows update; clock is the region's.
func NewPGFloor(ctx context.Context, dsn string, cfg enrollment.Config, clock funding.Clock, certs []uuid.UUID, guardians []string, groups []uuid.UUID) (*PGFloor, error) {
	db, err := storage.Open(ctx, dsn, storage.WithMaxOpenConns(64))
	if err != nil {
		return nil, err
	}
	f := &PGFloor{db: db, certs: certs[1:]}
	if err := f.learn(ctx, cfg, clock, certs[0], guardians[0], groups); err != nil {
		db.Close()
		return nil, err
	}
	return f, nil
}

// Close closes the floor's database.
func (f *PGFloor) Close() { f.db.Close() }

// Describe says what one enrolment of the floor writes.
func (f *PGFloor) Describe(batch int) string {
	var parts []string
	for _, t := range f.tables {
		parts = append(parts, fmt.Sprintf("%d %s", len(t.rows), t.name))
	}
	return fmt.Sprintf("%s inserted, 1 account and %d counters updated an enrolment; %d enrolments a transaction, each table one multi-row statement, the accounts and counters locked in key order before their updates",
		strings.Join(parts, ", "), len(f.counters), batch)
}

func (f *PGFloor) learn(ctx context.Context, cfg enrollment.Config, clock funding.Clock, cert uuid.UUID, guardian string, groups []uuid.UUID) error {
	bdb := f.db.Bun()
	var gs []struct{ ID, ModuleID, ProgramID, ProviderID uuid.UUID }
	if err := bdb.NewRaw(`SELECT g.id, g.module_id, m.program_id, p.provider_id FROM study_groups g
		JOIN modules m ON m.id = g.module_id JOIN programs p ON p.id = m.program_id WHERE g.id IN (?)`, bun.In(groups)).Scan(ctx, &gs); err != nil {
		return err
	}
	for _, g := range gs {
		f.groups = append(f.groups, [4]string{g.ID.String(), g.ModuleID.String(), g.ProgramID.String(), g.ProviderID.String()})
	}
	if len(f.groups) != len(groups) {
		return fmt.Errorf("%d of %d groups found", len(f.groups), len(groups))
	}
	type kv struct {
		Key  string
		Used int64
	}
	counters := func() (map[string]int64, error) {
		var rows []kv
		err := bdb.NewRaw("SELECT key, used FROM counters").Scan(ctx, &rows)
		m := map[string]int64{}
		for _, r := range rows {
			m[r.Key] = r.Used
		}
		return m, err
	}
	account := func() (map[string]string, error) {
		var row map[string]any
		err := bdb.NewRaw("SELECT * FROM accounts WHERE certificate_id = ?", cert).Scan(ctx, &row)
		m := map[string]string{}
		for k, v := range row {
			if t, ok := v.(time.Time); ok {
				m[k] = t.Format(time.DateOnly)
			} else {
				m[k] = fmt.Sprint(v)
			}
		}
		return m, err
	}
	// The first application on an account of the year also depletes the
	// months gone by; the template is a second one, as most are.
	svc := enrollment.NewService(f.db, clock, cfg)
	if _, err := svc.Submit(ctx, "floor-warm-up", enrollment.SubmitRequest{CertificateID: cert, GroupID: groups[1], By: enrollment.AsHolder(guardian)}); err != nil {
		return fmt.Errorf("the warm-up application: %w", err)
	}
	c0, err := counters()
	if err != nil {
		return err
	}
	a0, err := account()
	if err != nil {
		return err
	}
	c, err := svc.Submit(ctx, floorTemplateKey, enrollment.SubmitRequest{CertificateID: cert, GroupID: groups[0], By: enrollment.AsHolder(guardian)})
	if err != nil {
		return fmt.Errorf("the template application: %w", err)
	}
	c1, err := counters()
	if err != nil {
		return err
	}
	a1, err := account()
	if err != nil {
		return err
	}
	for k, v := range c1 {
		if d := v - c0[k]; d != 0 {
			f.counters = append(f.counters, floorCounter{key: k, delta: d})
		}
	}
	var acctTypes []struct{ Name, Type string }
	if err := bdb.NewRaw(`SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type FROM pg_attribute a
		WHERE a.attrelid = 'accounts'::regclass AND a.attnum > 0 AND NOT a.attisdropped`).Scan(ctx, &acctTypes); err != nil {
		return err
	}
	for _, col := range acctTypes {
		if col.Name == "period_start" {
			f.period = a1[col.Name]
		}
		if a0[col.Name] == a1[col.Name] {
			continue
		}
		x, err1 := decimal.NewFromString(a0[col.Name])
		y, err2 := decimal.NewFromString(a1[col.Name])
		if err1 != nil || err2 != nil {
			continue // a flag the first application sets; later ones leave it
		}
		f.accounts = append(f.accounts, floorDelta{col: col.Name, typ: col.Type, delta: y.Sub(x)})
	}
	if f.period == "" || len(f.accounts) == 0 {
		return errors.New("the template application changed no account column")
	}
	f.shared = map[string]int{cert.String(): idCert, gs0(gs, groups[0]).ID.String(): idGroup}
	g0 := gs0(gs, groups[0])
	f.shared[g0.ModuleID.String()] = idModule
	f.shared[g0.ProgramID.String()] = idProgram
	f.shared[g0.ProviderID.String()] = idProvider

	for _, name := range []string{"contracts", "holds", "postings", "events", "idempotency"} {
		t, err := f.template(ctx, name, c.ID.String(), c.HoldID.String())
		if err != nil {
			return err
		}
		f.tables = append(f.tables, t)
	}
	// The counters of every group the floor enrols in, as the service
	// creates them on a group's first application.
	var lims []struct {
		Key string
		Lim int64
	}
	if err := bdb.NewRaw("SELECT key, lim FROM counters WHERE key IN (?)", bun.In(slices.Collect(maps.Keys(keySet(f.counters))))).Scan(ctx, &lims); err != nil {
		return err
	}
	for _, l := range lims {
		for _, g := range f.groups {
			k := f.counterKey(l.Key, g)
			if _, err := bdb.ExecContext(ctx, "INSERT INTO counters (key, used, lim) VALUES (?, 0, ?) ON CONFLICT (key) DO NOTHING", k, l.Lim); err != nil {
				return fmt.Errorf("counters: %w", err)
			}
		}
	}
	_, err = bdb.ExecContext(ctx, "VACUUM ANALYZE counters")
	return err
}

func gs0(gs []struct{ ID, ModuleID, ProgramID, ProviderID uuid.UUID }, id uuid.UUID) struct{ ID, ModuleID, ProgramID, ProviderID uuid.UUID } {
	for _, g := range gs {
		if g.ID == id {
			return g
		}
	}
	return gs[0]
}

func keySet(cs []floorCounter) map[string]bool {
	m := map[string]bool{}
	for _, c := range cs {
		m[c.key] = true
	}
	return m
}

// template reads the rows of table the template application wrote: those
// whose text names its contract or hold.
func (f *PGFloor) template(ctx context.Context, table, contract, hold string) (floorTable, error) {
	t := floorTable{name: table}
	var cols []struct{ Name, Type string }
	// Generated ids (a sequence, an identity) are left to their defaults.
	if err := f.db.Bun().NewRaw(`SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type FROM pg_attribute a
		LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
		WHERE a.attrelid = ?::regclass AND a.attnum > 0 AND NOT a.attisdropped AND a.attidentity = '' AND a.attgenerated = ''
		AND coalesce(pg_get_expr(d.adbin, d.adrelid), '') NOT LIKE 'nextval(%' ORDER BY a.attnum`, table).Scan(ctx, &cols); err != nil {
		return t, err
	}
	sel := make([]string, len(cols))
	for i, c := range cols {
		t.cols = append(t.cols, c.Name)
		t.types = append(t.types, c.Type)
		sel[i] = `t."` + c.Name + `"::text`
	}
	rows, err := f.db.Bun().DB.QueryContext(ctx, `SELECT `+strings.Join(sel, ", ")+` FROM `+table+` t WHERE t::text LIKE '%' || $1 || '%' OR t::text LIKE '%' || $2 || '%' OR t::text LIKE '%' || $3 || '%'`, contract, hold, floorTemplateKey)
	if err != nil {
		return t, fmt.Errorf("%s: %w", table, err)
	}
	defer rows.Close()
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		dest := make([]any, len(cols))
		for i := range vals {
			dest[i] = &vals[i]
		}
		if err := rows.Scan(dest...); err != nil {
			return t, err
		}
		t.rows = append(t.rows, vals)
	}
	if err := rows.Err(); err != nil {
		return t, err
	}
	if len(t.rows) == 0 {
		return t, fmt.Errorf("the template application wrote no row to %s", table)
	}
	return t, nil
}

// counterKey is a template counter's key for group g.
func (f *PGFloor) counterKey(key string, g [4]string) string {
	for id, which := range f.shared {
		if which != idCert {
			key = strings.ReplaceAll(key, id, g[which-idGroup])
		}
	}
	return key
}

// Run writes enrolments from workers goroutines, batch a transaction, for
// d. Each enrolment is a (certificate, group) pair never used before by
// this floor.
func (f *PGFloor) Run(ctx context.Context, workers, batch int, d time.Duration) (FloorRun, error) {
	return drive(workers, d, func() (int, int, int, error) {
		n, r, err := f.batch(ctx, batch, false)
		if err != nil {
			return 0, batch, r, err
		}
		return n, 0, r, nil
	})
}

// drive runs step from workers goroutines until d has passed, a worker
// stopping early when the floor has used every pair; step returns the
// enrolments it committed, those that failed, the transactions retried
// and the error, and its latency is counted for each step that committed.
func drive(workers int, d time.Duration, step func() (ok, failed, retries int, err error)) (FloorRun, error) {
	var mu sync.Mutex
	var out FloorRun
	var lat []time.Duration
	deadline := time.Now().Add(d)
	start := time.Now()
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			var my []time.Duration
			var ok, errs, retries int
			var first string
			for time.Now().Before(deadline) {
				t0 := time.Now()
				n, failed, r, err := step()
				retries += r
				if err != nil {
					errs += failed
					if first == "" {
						first = err.Error()
					}
					if errors.Is(err, errFloorExhausted) {
						break
					}
					continue
				}
				ok += n
				my = append(my, time.Since(t0))
			}
			mu.Lock()
			defer mu.Unlock()
			lat = append(lat, my...)
			out.OK += ok
			out.Errors += errs
			out.Retries += retries
			if out.FirstError == "" {
				out.FirstError = first
			}
		})
	}
	wg.Wait()
	out.Rate = float64(out.OK) / time.Since(start).Seconds()
	out.P50, out.P99, _ = Latencies(lat)
	if out.OK == 0 && out.FirstError != "" {
		return out, errors.New(out.FirstError)
	}
	return out, nil
}

// RunInFlight is Run with the load of a service's clients: workers
// goroutines, each with one enrolment in flight at a time, and flushers
// goroutines that each take every enrolment waiting (up to max) into one
// transaction of the same statements as Run's, as the library's Batcher
// groups its clients' applications (without its linger). Run keeps batch
// enrolments in flight a worker, which no service's clients can: at 8
// clients its 8 workers write 256 at once. Latencies are an enrolment's,
// from its submission to its commit.
func (f *PGFloor) RunInFlight(ctx context.Context, workers, flushers, max int, d time.Duration) (FloorRun, error) {
	type request struct{ done chan error }
	queue := make(chan request, workers)
	var retries atomic.Int64
	var flush sync.WaitGroup
	for range flushers {
		flush.Go(func() {
			for first := range queue {
				group := Waiting(first, queue, max)
				_, r, err := f.batch(ctx, len(group), true)
				retries.Add(int64(r))
				for _, q := range group {
					q.done <- err
				}
			}
		})
	}
	out, err := drive(workers, d, func() (int, int, int, error) {
		done := make(chan error, 1)
		queue <- request{done}
		if err := <-done; err != nil {
			return 0, 1, 0, err
		}
		return 1, 0, 0, nil
	})
	close(queue)
	flush.Wait()
	out.Retries = int(retries.Load())
	return out, err
}

var errFloorExhausted = errors.New("the floor used every (certificate, group) pair")

// batch writes n enrolments in one transaction, again after a deadlock or
// serialization failure; it returns the enrolments written and the retries.
// Pipelined, the transaction's statements go in one round trip (a pgx
// batch, one implicit transaction), as the service's do: with a few
// enrolments a transaction, a round trip a statement would be most of its
// time.
func (f *PGFloor) batch(ctx context.Context, n int, pipelined bool) (int, int, error) {
	type enrolment struct {
		cert  string
		group [4]string
		ids   map[string]string // the template's fresh ids → this enrolment's
		key   string
	}
	es := make([]enrolment, n)
	total := uint64(len(f.certs) * len(f.groups))
	// A batch's pairs are consecutive, so that batches at once hold
	// different certificates' accounts.
	first := f.pairs.Add(uint64(n)) - uint64(n)
	for i := range es {
		k := first + uint64(i)
		if k >= total {
			return 0, 0, errFloorExhausted
		}
		es[i] = enrolment{cert: f.certs[k%uint64(len(f.certs))].String(), group: f.groups[k/uint64(len(f.certs))], ids: map[string]string{},
			key: "floor-" + strconv.FormatUint(f.keys.Add(1), 10)}
	}
	var stmts []struct {
		q    string
		args []any
	}
	for _, t := range f.tables {
		var vals []string
		var args []any
		for _, e := range es {
			for _, row := range t.rows {
				ph := make([]string, len(row))
				for c, v := range row {
					args = append(args, f.value(t, c, v, e.cert, e.group, e.ids, e.key))
					ph[c] = "$" + strconv.Itoa(len(args)) + "::text::" + t.types[c]
				}
				vals = append(vals, "("+strings.Join(ph, ", ")+")")
			}
		}
		stmts = append(stmts, struct {
			q    string
			args []any
		}{`INSERT INTO ` + t.name + ` ("` + strings.Join(t.cols, `", "`) + `") VALUES ` + strings.Join(vals, ", "), args})
	}
	// One UPDATE of the accounts and one of the counters, each row once
	// with the sum of its enrolments, in key order.
	perCert := map[string]int64{}
	for _, e := range es {
		perCert[e.cert]++
	}
	{
		var set, vals []string
		var args []any
		for i, a := range f.accounts {
			set = append(set, a.col+" = a."+a.col+" + v.d"+strconv.Itoa(i))
		}
		cols := []string{"id"}
		for i := range f.accounts {
			cols = append(cols, "d"+strconv.Itoa(i))
		}
		for _, c := range slices.Sorted(maps.Keys(perCert)) {
			args = append(args, c)
			ph := []string{"$" + strconv.Itoa(len(args)) + "::uuid"}
			for _, a := range f.accounts {
				args = append(args, a.delta.Mul(decimal.NewFromInt(perCert[c])).String())
				ph = append(ph, "$"+strconv.Itoa(len(args))+"::text::"+a.typ)
			}
			vals = append(vals, "("+strings.Join(ph, ", ")+")")
		}
		args = append(args, f.period)
		// Locked in id order first: batches at once may share a
		// certificate when the pairs wrap round.
		stmts = append(stmts, struct {
			q    string
			args []any
		}{`SELECT count(*) FROM (SELECT 1 FROM accounts WHERE certificate_id = ANY($1::uuid[]) AND period_start = $2::text::date
			ORDER BY certificate_id FOR NO KEY UPDATE) l`, []any{slices.Sorted(maps.Keys(perCert)), f.period}}, struct {
			q    string
			args []any
		}{`UPDATE accounts a SET ` + strings.Join(set, ", ") + ` FROM (VALUES ` + strings.Join(vals, ", ") + `) AS v(` + strings.Join(cols, ", ") +
			`) WHERE a.certificate_id = v.id AND a.period_start = $` + strconv.Itoa(len(args)) + `::text::date`, args})
	}
	{
		perKey := map[string]int64{}
		for _, e := range es {
			for _, c := range f.counters {
				perKey[f.counterKey(c.key, e.group)] += c.delta
			}
		}
		var vals []string
		var args []any
		keys := slices.Sorted(maps.Keys(perKey))
		for _, k := range keys {
			args = append(args, k, perKey[k])
			vals = append(vals, fmt.Sprintf("($%d::text, $%d::bigint)", len(args)-1, len(args)))
		}
		// Batches share the hot counters (the budget, a direction, a
		// provider): they are locked in key order first, as the service
		// locks them, or two batches would deadlock.
		stmts = append(stmts, struct {
			q    string
			args []any
		}{`SELECT count(*) FROM (SELECT 1 FROM counters WHERE key = ANY($1::text[]) ORDER BY key FOR NO KEY UPDATE) l`, []any{keys}}, struct {
			q    string
			args []any
		}{`UPDATE counters c SET used = c.used + v.n FROM (VALUES ` + strings.Join(vals, ", ") + `) AS v(k, n) WHERE c.key = v.k`, args})
	}
	for retries := 0; ; retries++ {
		var err error
		if pipelined {
			err = f.pipeline(ctx, func(b *pgx.Batch) {
				for _, s := range stmts {
					b.Queue(s.q, s.args...)
				}
			})
		} else {
			err = f.tx(ctx, func(tx *sql.Tx) error {
				for _, s := range stmts {
					if _, err := tx.ExecContext(ctx, s.q, s.args...); err != nil {
						return err
					}
				}
				return nil
			})
		}
		var pe *pgconn.PgError
		if err != nil && errors.As(err, &pe) && (pe.Code == "40P01" || pe.Code == "40001") && retries < 10 {
			continue
		}
		return n, retries, err
	}
}

// pipeline sends the statements queue adds as one pgx batch on a
// connection of the pool: one round trip, one implicit transaction.
func (f *PGFloor) pipeline(ctx context.Context, queue func(b *pgx.Batch)) error {
	return EachConn(ctx, f.db, 1, func(c *pgx.Conn) error {
		b := &pgx.Batch{}
		queue(b)
		return c.SendBatch(ctx, b).Close()
	})
}

func (f *PGFloor) tx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := f.db.Bun().DB.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

// value is column c of a template row for one enrolment: the pair's ids
// where the template has its own pair's, a fresh id where it has any other
// UUID, the enrolment's key where it has the template's.
func (f *PGFloor) value(t floorTable, c int, v sql.NullString, cert string, g [4]string, ids map[string]string, key string) any {
	if !v.Valid {
		return nil
	}
	s := v.String
	if which, ok := f.shared[s]; ok {
		if which == idCert {
			return cert
		}
		return g[which-idGroup]
	}
	if strings.Contains(s, floorTemplateKey) {
		return strings.ReplaceAll(s, floorTemplateKey, key) // the key, perhaps scoped by its caller
	}
	if t.types[c] == "uuid" {
		if n, ok := ids[s]; ok {
			return n
		}
		n := uuid.Must(uuid.NewV7()).String()
		ids[s] = n
		return n
	}
	return s
}
