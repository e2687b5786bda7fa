package storage

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/uptrace/bun/schema"

	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/enrollment"
)

// The batch statements on PostgreSQL have a fixed text whatever the batch:
// the rows travel as array or JSON parameters (unnest,
// jsonb_populate_recordset), and they run through pgx's extended protocol
// with its per-connection statement cache (QueryExecModeCacheStatement
// passed as the first argument through database/sql), so each is parsed
// and planned once per connection instead of once per batch. bun's own
// statements on the same connection keep the simple protocol.

// pgCached prepends pgx's cached-statement mode to a statement's arguments.
func pgCached(args ...any) []any {
	return append([]any{pgx.QueryExecModeCacheStatement}, args...)
}

// BatchStatementHook, when set (before any batch runs), is called after
// each batch statement that bypasses bun (and so bun's query hooks) with
// its text and duration; for benchmarks and tracing.
var BatchStatementHook func(query string, d time.Duration)

// traceStatement starts timing a statement that bypasses bun's query hooks
// for BatchStatementHook; the returned func reports it.
func traceStatement(q string) func() {
	h := BatchStatementHook
	if h == nil {
		return func() {}
	}
	t0 := time.Now()
	return func() { h(q, time.Since(t0)) }
}

func (t batchTx) pgQuery(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	defer traceStatement(q)()
	return t.tx.tx.Tx.QueryContext(ctx, q, pgCached(args...)...)
}

func (t batchTx) pgExec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	defer traceStatement(q)()
	return t.tx.tx.Tx.ExecContext(ctx, q, pgCached(args...)...)
}

func uuidStrings(ids []uuid.UUID) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = id.String()
	}
	return out
}

const pgClaimSQL = `INSERT INTO idempotency (key, operation, request_hash, created_at)
	SELECT u.k, u.o, u.h, $4::timestamptz FROM unnest($1::text[], $2::text[], $3::text[]) AS u(k, o, h)
	ON CONFLICT (key) DO NOTHING RETURNING key`

func (t batchTx) claimKeysPG(ctx context.Context, recs []enrollment.IdempotencyRecord) ([]string, error) {
	ks, ops, hs := make([]string, len(recs)), make([]string, len(recs)), make([]string, len(recs))
	for i, r := range recs {
		ks[i], ops[i], hs[i] = r.Key, r.Operation, r.RequestHash
	}
	rows, err := t.pgQuery(ctx, pgClaimSQL, ks, ops, hs, time.Time(dbTimeNow()))
	if err != nil {
		return nil, t.write(err, "claim keys")
	}
	defer rows.Close()
	var claimed []string
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			return nil, t.write(err, "claim keys")
		}
		claimed = append(claimed, k)
	}
	if err := rows.Err(); err != nil {
		return nil, t.write(err, "claim keys")
	}
	return claimed, nil
}

// dbTimeNow is the time stored by the bun path (dbTime(time.Now())), as a
// time.Time in UTC with microseconds, what timestamptz keeps.
func dbTimeNow() dbTime { return dbTime(time.Now().UTC().Truncate(time.Microsecond)) }

const pgIdemRecordsSQL = `SELECT key, operation, request_hash, result FROM idempotency WHERE key = ANY($1::text[])`

func (t batchTx) idempotencyRecordsPG(ctx context.Context, keys []string) ([]enrollment.IdempotencyRecord, error) {
	rows, err := t.pgQuery(ctx, pgIdemRecordsSQL, keys)
	if err != nil {
		return nil, t.read(err, "idempotency keys", len(keys))
	}
	defer rows.Close()
	var out []enrollment.IdempotencyRecord
	for rows.Next() {
		var r enrollment.IdempotencyRecord
		if err := rows.Scan(&r.Key, &r.Operation, &r.RequestHash, &r.Result); err != nil {
			return nil, t.read(err, "idempotency keys", len(keys))
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, t.read(err, "idempotency keys", len(keys))
	}
	return out, nil
}

var (
	pgPrefetchOnce sync.Once
	pgPrefetchSQL  string
)

// prefetchSQL is the one statement of Prefetch: the locking reads as CTEs
// (certificates first, in id order, then their accounts), every row
// returned as JSON.
func (t batchTx) prefetchSQL() string {
	pgPrefetchOnce.Do(func() {
		pgPrefetchSQL = `WITH c AS (SELECT * FROM certificates WHERE id = ANY($1::uuid[]) ORDER BY id FOR NO KEY UPDATE),
			a AS (SELECT * FROM accounts WHERE certificate_id IN (SELECT id FROM c) ORDER BY certificate_id, period_start FOR NO KEY UPDATE),
			k AS (SELECT * FROM contracts WHERE certificate_id IN (SELECT id FROM c)),
			o AS (` + t.offersSQLWhere("g.id = ANY($2::uuid[])") + `)
			SELECT 'c' AS kind, row_to_json(c)::text AS doc FROM c
			UNION ALL SELECT 'a', row_to_json(a)::text FROM a
			UNION ALL SELECT 'k', row_to_json(k)::text FROM k
			UNION ALL SELECT 'o', row_to_json(o)::text FROM o`
	})
	return pgPrefetchSQL
}

type prefetchDoc struct {
	Kind string
	Doc  []byte
}

// docsPG runs a statement of (kind, JSON row) over the certificate and
// group ids.
func (t batchTx) docsPG(ctx context.Context, q string, certIDs, groupIDs []uuid.UUID) ([]prefetchDoc, error) {
	rows, err := t.pgQuery(ctx, q, uuidStrings(certIDs), uuidStrings(groupIDs))
	if err != nil {
		return nil, t.read(err, "batch rows", len(certIDs))
	}
	defer rows.Close()
	var docs []prefetchDoc
	for rows.Next() {
		var d prefetchDoc
		if err := rows.Scan(&d.Kind, &d.Doc); err != nil {
			return nil, t.read(err, "batch rows", len(certIDs))
		}
		docs = append(docs, d)
	}
	if err := rows.Err(); err != nil {
		return nil, t.read(err, "batch rows", len(certIDs))
	}
	return docs, nil
}

// batchRowsOf scans the rows of docsPG.
func (t batchTx) batchRowsOf(docs []prefetchDoc) (enrollment.BatchRows, error) {
	var out enrollment.BatchRows
	var offers []offerJoin
	for _, d := range docs {
		var err error
		switch d.Kind {
		case "c":
			var r certificateRow
			if err = t.scanJSON(&r, d.Doc); err == nil {
				out.Certificates = append(out.Certificates, r.domain())
			}
		case "a":
			var r accountRow
			if err = t.scanJSON(&r, d.Doc); err == nil {
				out.Accounts = append(out.Accounts, r.domain())
			}
		case "k":
			var r contractRow
			if err = t.scanJSON(&r, d.Doc); err == nil {
				out.Contracts = append(out.Contracts, r.domain())
			}
		case "o":
			offers = append(offers, offerJoin{})
			err = t.scanJSON(&offers[len(offers)-1], d.Doc)
		}
		if err != nil {
			return out, err
		}
	}
	sort.SliceStable(offers, func(i, j int) bool { return offerLess(&offers[i], &offers[j]) })
	out.Offers = joinOffers(offers)
	return out, nil
}

const pgLockCountersSQL = `WITH l AS (SELECT key, used, lim FROM counters WHERE key = ANY($1::text[])
		ORDER BY array_position($1::text[], key) FOR UPDATE)
	SELECT key, used, lim FROM l UNION ALL SELECT key, used, lim FROM counters WHERE key = ANY($2::text[])`

func (t batchTx) lockCountersPG(ctx context.Context, keys, read []string) ([]enrollment.Counter, error) {
	if keys == nil {
		keys = []string{}
	}
	if read == nil {
		read = []string{}
	}
	out, err := scanCounters(t.pgQuery(ctx, pgLockCountersSQL, keys, read))
	if err != nil {
		return nil, t.read(err, "counters", len(keys)+len(read))
	}
	return out, nil
}

// scanCounters reads (key, used, lim) rows.
func scanCounters(rows *sql.Rows, err error) ([]enrollment.Counter, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []enrollment.Counter
	for rows.Next() {
		var c enrollment.Counter
		if err := rows.Scan(&c.Key, &c.Used, &c.Limit); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// pgTable is how a row type travels as JSON: its columns and the JSON of
// a list of rows for jsonb_populate_recordset.
type pgTable struct {
	name   string
	fields []*schema.Field
	cols   string // "a, b, c"
	pks    []string
}

var (
	pgTablesMu sync.Mutex
	pgTables   = map[reflect.Type]*pgTable{}
)

func (t batchTx) pgTableOf(typ reflect.Type) *pgTable {
	pgTablesMu.Lock()
	defer pgTablesMu.Unlock()
	if pt, ok := pgTables[typ]; ok {
		return pt
	}
	tbl := t.db.bun.Table(typ)
	pt := &pgTable{name: string(tbl.SQLName), fields: tbl.Fields}
	var cols []string
	for _, f := range tbl.Fields {
		cols = append(cols, f.Name)
	}
	for _, f := range tbl.PKs {
		pt.pks = append(pt.pks, f.Name)
	}
	pt.cols = strings.Join(cols, ", ")
	pgTables[typ] = pt
	return pt
}

// insertSQL inserts the rows of parameter $n (a JSON array of objects).
func (pt *pgTable) insertSQL(n int, suffix string) string {
	return fmt.Sprintf("INSERT INTO %s (%s) SELECT %s FROM jsonb_populate_recordset(NULL::%s, $%d::jsonb) %s",
		pt.name, pt.cols, pt.cols, pt.name, n, suffix)
}

// updateAllSet is "SET col = EXCLUDED.col" for every column but the key.
func (pt *pgTable) updateAllSet() string {
	var sets []string
	for _, f := range pt.fields {
		if !f.IsPK {
			sets = append(sets, f.Name+" = EXCLUDED."+f.Name)
		}
	}
	return strings.Join(sets, ", ")
}

// jsonRows renders rows (pointers to one row type) as a JSON array of
// objects whose values are the text bun would put into the SQL: the same
// values, read by the column types' input functions.
func jsonRows[T any](t batchTx, pt *pgTable, rows []*T) (string, error) {
	gen := t.db.bun.QueryGen()
	var b bytes.Buffer
	b.WriteByte('[')
	var lit []byte
	for i, r := range rows {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('{')
		v := reflect.ValueOf(r).Elem()
		for j, f := range pt.fields {
			if j > 0 {
				b.WriteByte(',')
			}
			b.WriteByte('"')
			b.WriteString(f.Name)
			b.WriteString(`":`)
			lit = f.AppendValue(gen, lit[:0], v)
			if err := appendJSONLiteral(&b, lit); err != nil {
				return "", fmt.Errorf("storage: batch %s.%s: %w", pt.name, f.Name, err)
			}
		}
		b.WriteByte('}')
	}
	b.WriteByte(']')
	return b.String(), nil
}

// appendJSONLiteral turns an SQL literal as bun writes it (quoted text with
// each quote doubled, NULL, a number, TRUE/FALSE) into a JSON value: null, or the
// literal's text as a JSON string.
func appendJSONLiteral(b *bytes.Buffer, lit []byte) error {
	var s string
	switch {
	case string(lit) == "NULL":
		b.WriteString("null")
		return nil
	case len(lit) >= 2 && lit[0] == '\'' && lit[len(lit)-1] == '\'':
		s = strings.ReplaceAll(string(lit[1:len(lit)-1]), "''", "'")
	case len(lit) > 0 && (lit[0] == '-' || lit[0] >= '0' && lit[0] <= '9' || string(lit) == "TRUE" || string(lit) == "FALSE"):
		s = string(lit)
	default:
		return fmt.Errorf("unexpected literal %.40q", lit)
	}
	appendJSONString(b, s)
	return nil
}

// appendJSONString writes s as a JSON string.
func appendJSONString(b *bytes.Buffer, s string) {
	const hex = "0123456789abcdef"
	b.WriteByte('"')
	last := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		b.WriteString(s[last:i])
		switch c {
		case '"', '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		default:
			b.WriteString(`\u00`)
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&0xf])
		}
		last = i + 1
	}
	b.WriteString(s[last:])
	b.WriteByte('"')
}

var (
	pgApplyOnce sync.Once
	pgApplySQL  string
)

// applySQL is the one statement of a batch's writes: every table's rows
// as a data-modifying CTE over a JSON or array parameter (empty ones are
// no-ops), so the text never changes.
func (t batchTx) applySQL() string {
	pgApplyOnce.Do(func() {
		con := t.pgTableOf(reflect.TypeFor[contractRow]())
		hold := t.pgTableOf(reflect.TypeFor[holdRow]())
		post := t.pgTableOf(reflect.TypeFor[postingRow]())
		acct := t.pgTableOf(reflect.TypeFor[accountRow]())
		pgApplySQL = `WITH w0 AS (` + con.insertSQL(1, "") + `),
			w1 AS (` + hold.insertSQL(2, "ON CONFLICT (id) DO UPDATE SET amount = EXCLUDED.amount, charged = EXCLUDED.charged, released = EXCLUDED.released, refunded = EXCLUDED.refunded") + `),
			w2 AS (` + post.insertSQL(3, "") + `),
			w3 AS (` + acct.insertSQL(4, "ON CONFLICT ("+strings.Join(acct.pks, ", ")+") DO UPDATE SET "+acct.updateAllSet()) + `),
			w4 AS (INSERT INTO counters (key, used, lim) SELECT u.k, u.a, u.l FROM unnest($5::text[], $6::bigint[], $7::bigint[]) AS u(k, a, l)
				ON CONFLICT (key) DO UPDATE SET used = counters.used + EXCLUDED.used),
			w5 AS (INSERT INTO idempotency (key, operation, request_hash, result, created_at)
				SELECT u.k, u.o, u.h, u.r, $12::timestamptz FROM unnest($8::text[], $10::text[], $11::text[], $13::bytea[]) AS u(k, o, h, r)
				ON CONFLICT (key) DO UPDATE SET result = EXCLUDED.result),
			w6 AS (DELETE FROM idempotency WHERE key = ANY($9::text[]))
			SELECT 1`
	})
	return pgApplySQL
}

func jsonOf[T any](t batchTx, rows []*T) (string, error) {
	return jsonRows(t, t.pgTableOf(reflect.TypeFor[T]()), rows)
}

// pgGuardsSQL locks the guarded counters in the order of $1 (Submit's
// order) before it changes them, so that two batches, or a batch and an
// optimistic batch (ApplyOptimistic), cannot deadlock on them.
const pgGuardsSQL = `WITH lk AS (SELECT key FROM counters WHERE key = ANY($1::text[]) ORDER BY array_position($1::text[], key) FOR NO KEY UPDATE)
	UPDATE counters AS c SET used = c.used + v.add
	FROM lk, unnest($1::text[], $2::bigint[], $3::bigint[], $4::bigint[], $5::boolean[], $6::bigint[]) AS v(key, add, used, lim, exact, room)
	WHERE c.key = lk.key AND c.key = v.key AND c.used + v.add + v.room <= c.lim AND (NOT v.exact OR (c.used = v.used AND c.lim = v.lim))`

// applyBatchPG writes a batch's effects in one statement, then the guarded
// (hot) counters by one statement of their own, the last before the
// commit: PostgreSQL runs the CTEs a query reads before the others, so in
// the statement of the writes they would be locked during all the inserts.
func (t batchTx) applyBatchPG(ctx context.Context, w enrollment.BatchWrite) error {
	rs, err := batchRows(w)
	if err != nil {
		return err
	}
	if !rs.empty() {
		var args [13]any
		if args[0], err = jsonOf(t, rs.contracts); err != nil {
			return err
		}
		if args[1], err = jsonOf(t, rs.holds); err != nil {
			return err
		}
		if args[2], err = jsonOf(t, rs.postings); err != nil {
			return err
		}
		if args[3], err = jsonOf(t, rs.accounts); err != nil {
			return err
		}
		ks, adds, lims := []string{}, []int64{}, []int64{}
		for _, c := range rs.counters {
			ks, adds, lims = append(ks, c.Key), append(adds, c.Used), append(lims, c.Lim)
		}
		args[4], args[5], args[6] = ks, adds, lims
		// The results (contracts as JSON, ~1 kB each) as bytea[], not hex
		// inside JSON.
		rk, ro, rh, rr := []string{}, []string{}, []string{}, [][]byte{}
		for _, r := range rs.results {
			rk, ro, rh, rr = append(rk, r.Key), append(ro, r.Operation), append(rh, r.RequestHash), append(rr, r.Result)
		}
		args[7], args[9], args[10], args[12] = rk, ro, rh, rr
		args[11] = time.Time(dbTimeNow())
		rel := w.Release
		if rel == nil {
			rel = []string{}
		}
		args[8] = rel
		if _, err := t.pgExec(ctx, t.applySQL(), args[:]...); err != nil {
			return t.write(err, "apply batch")
		}
	}
	if len(w.Guards) == 0 {
		return nil
	}
	n := len(w.Guards)
	ks, adds, used, lims, exact, room := make([]string, n), make([]int64, n), make([]int64, n), make([]int64, n), make([]bool, n), make([]int64, n)
	for i, g := range sortGuards(w.Guards, false) {
		ks[i], adds[i], used[i], lims[i], exact[i], room[i] = g.Key, g.Add, g.Used, g.Limit, g.Exact, g.Room
	}
	res, err := t.pgExec(ctx, pgGuardsSQL, ks, adds, used, lims, exact, room)
	if err != nil {
		return t.write(err, "apply batch guards")
	}
	got, err := res.RowsAffected()
	if err != nil {
		return t.write(err, "apply batch guards")
	}
	if int(got) != n {
		return fmt.Errorf("storage: apply batch: %d of %d guarded counters held: %w", got, n, enrollment.ErrBatchStale)
	}
	return nil
}

var _ enrollment.BatchClaimLocker = batchTx{}

// pgClaimLockSQL claims the keys (in the order given), then locks the
// certificates of the claimed keys in id order: LockRows sits above the
// sort, which reads every claim first, and the claims come first in the
// output, so no certificate is locked before every key is claimed (the
// order Submit takes them in).
const pgClaimLockSQL = `WITH ins AS (INSERT INTO idempotency (key, operation, request_hash, created_at)
		SELECT u.k, u.o, u.h, $4::timestamptz FROM unnest($1::text[], $2::text[], $3::text[]) AS u(k, o, h)
		ON CONFLICT (key) DO NOTHING RETURNING key),
	c AS (SELECT * FROM certificates WHERE id IN (SELECT p.c FROM unnest($5::text[], $6::uuid[]) AS p(k, c) JOIN ins ON ins.key = p.k)
		ORDER BY id FOR NO KEY UPDATE)
	SELECT 'i' AS kind, key AS doc FROM ins
	UNION ALL SELECT 'c', row_to_json(c)::text FROM c
	UNION ALL SELECT 'g', set_config('plan_cache_mode', 'force_generic_plan', true)`

// ClaimKeysLock is enrollment.BatchClaimLocker: one statement on
// PostgreSQL; on SQLite ClaimKeys, the certificates being read by
// PrefetchLocked.
func (t batchTx) ClaimKeysLock(ctx context.Context, recs []enrollment.IdempotencyRecord, keys []string, certs []uuid.UUID) ([]string, []certificate.Certificate, error) {
	if !t.pg() {
		// One writer: PrefetchLocked reads the certificates.
		claimed, err := t.ClaimKeys(ctx, recs)
		return claimed, nil, err
	}
	ks, ops, hs := make([]string, len(recs)), make([]string, len(recs)), make([]string, len(recs))
	for i, r := range recs {
		ks[i], ops[i], hs[i] = r.Key, r.Operation, r.RequestHash
	}
	rows, err := t.pgQuery(ctx, pgClaimLockSQL, ks, ops, hs, time.Time(dbTimeNow()), keys, uuidStrings(certs))
	if err != nil {
		return nil, nil, t.write(err, "claim keys")
	}
	defer rows.Close()
	var claimed []string
	var out []certificate.Certificate
	for rows.Next() {
		var d prefetchDoc
		if err := rows.Scan(&d.Kind, &d.Doc); err != nil {
			return nil, nil, t.write(err, "claim keys")
		}
		switch d.Kind {
		case "i":
			claimed = append(claimed, string(d.Doc))
		case "c":
			var r certificateRow
			if err := t.scanJSON(&r, d.Doc); err != nil {
				return nil, nil, err
			}
			out = append(out, r.domain())
		}
	}
	if err := rows.Err(); err != nil {
		return nil, nil, t.write(err, "claim keys")
	}
	return claimed, out, nil
}

var (
	pgPrefetchLockedOnce sync.Once
	pgPrefetchLockedSQL  string
)

// PrefetchLocked is enrollment.BatchClaimLocker: the accounts (locked),
// contracts and offers in one statement, whose snapshot is taken after the
// certificates were locked.
func (t batchTx) PrefetchLocked(ctx context.Context, certIDs, groupIDs []uuid.UUID) (enrollment.BatchRows, error) {
	if !t.pg() {
		return t.Prefetch(ctx, certIDs, groupIDs) // one writer: certificates included
	}
	pgPrefetchLockedOnce.Do(func() {
		pgPrefetchLockedSQL = `WITH a AS (SELECT * FROM accounts WHERE certificate_id = ANY($1::uuid[]) ORDER BY certificate_id, period_start FOR NO KEY UPDATE),
			k AS (SELECT * FROM contracts WHERE certificate_id = ANY($1::uuid[])),
			o AS (` + t.offersSQLWhere("g.id = ANY($2::uuid[])") + `)
			SELECT 'a' AS kind, row_to_json(a)::text AS doc FROM a
			UNION ALL SELECT 'k', row_to_json(k)::text FROM k
			UNION ALL SELECT 'o', row_to_json(o)::text FROM o
			UNION ALL SELECT 'g', set_config('plan_cache_mode', 'auto', true)`
	})
	docs, err := t.docsPG(ctx, pgPrefetchLockedSQL, certIDs, groupIDs)
	if err != nil {
		return enrollment.BatchRows{}, err
	}
	return t.batchRowsOf(docs)
}
