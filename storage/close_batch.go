package storage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/uptrace/bun"

	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/enrollment/batch"
	"github.com/edufund/edufund/funding"
)

// The bulk statements of the batched monthly close (batch.CloseTx),
// at most closeChunk rows per statement, with the values inlined (bun sends
// no parameters anyway) by bulkWriter rather than by bun's reflection,
// several times slower on a million rows. PostgreSQL gets one array literal
// per column, unnest(…) as the row source of INSERT … SELECT and UPDATE …
// FROM; SQLite a VALUES list, in a common table expression for UPDATE …
// FROM (SQLite ≥ 3.33).

var (
	_ batch.CloseStore = (*DB)(nil)
	_ batch.CloseTx    = (*tx)(nil)
)

// closeChunk bounds the rows of one bulk statement.
const closeChunk = 20000

// InCloseTx runs fn in one transaction, retried like InTx.
//
// On PostgreSQL the transaction runs on the pgx connection itself (taken
// from the pool with database/sql's Conn.Raw), not through database/sql:
// the rows of a page are scanned and its arrays encoded by pgx without
// database/sql's per-value conversions. It begins with the connection's
// default isolation, as InTx does.
func (db *DB) InCloseTx(ctx context.Context, fn func(ctx context.Context, tx batch.CloseTx) error) error {
	if db.dialect != Postgres {
		return db.InTx(ctx, func(ctx context.Context, t enrollment.Tx) error {
			return fn(ctx, t.(*tx))
		})
	}
	return db.withRetry(ctx, func() error {
		conn, err := db.bun.DB.Conn(ctx)
		if err != nil {
			return err
		}
		defer conn.Close()
		return conn.Raw(func(dc any) error {
			sc, ok := dc.(*stdlib.Conn)
			if !ok {
				return fmt.Errorf("storage: close: driver connection is a %T, not pgx", dc)
			}
			return db.runCloseTx(ctx, sc.Conn(), fn)
		})
	})
}

// pgCloseTx is batch.CloseTx over a pgx transaction.
type pgCloseTx struct {
	tx pgx.Tx
	// bufs is the DB's parameter buffers.
	bufs chan *pgParams
	// retry remembers the first retryable failure, as tx.retry does.
	retry error
	// holds is where LockContracts found each hold of the page: the write
	// statement updates them by tuple id.
	holds map[uuid.UUID]tid
}

// tid is a row's tuple id as tid_send writes it: the block number and the
// line pointer's offset, big-endian.
type tid [6]byte

var _ batch.CloseTx = (*pgCloseTx)(nil)

// closeBegin begins a page's transaction with the connection's default
// isolation and generic plans for its statements. A custom plan sees the
// length of the page's arrays and, on a small region, joins an array of
// 5,000 to a table by a sequential scan and a hash (for a close of 100,000
// contracts, half of its pages), replanning each time (10–25 ms a page);
// the generic plan joins by an index probe per element, in the array's
// order, which is also the order the close takes its locks in. JIT is off
// for the same transaction: once ANALYZE has seen the invoice lines and
// charges of a close, the generic plan of the lock statement costs more
// than jit_above_cost (its estimates are for any id range), and it was
// compiled at every execution: a re-run of a 1M close, which only runs the
// lock statement, took 44–57 s with JIT and 15–18 s without. Bitmap scans
// are off too: the generic plan of the lock statement probed a contract's
// invoice lines with a bitmap scan whenever lines had been added since the
// table's last ANALYZE (a close adds two per contract, and a re-run or a
// resumed close plans after them), and a bitmap heap scan rescanned
// once per contract builds a bitmap and asks the kernel for the table's
// size each time: 56 ms for a page of 5,000 against 29 ms by the index
// (psql, 1M region), and a re-run of a 1M close 16 s against 19.
const closeBegin = "BEGIN; SET LOCAL plan_cache_mode = force_generic_plan; SET LOCAL jit = off; SET LOCAL enable_bitmapscan = off"

func (db *DB) runCloseTx(ctx context.Context, c *pgx.Conn, fn func(ctx context.Context, tx batch.CloseTx) error) error {
	opts := pgx.TxOptions{}
	if v, _ := strconv.Atoi(strings.SplitN(c.PgConn().ParameterStatus("server_version"), ".", 2)[0]); v >= 12 {
		opts.BeginQuery = closeBegin // plan_cache_mode is PostgreSQL 12's
	}
	ptx, err := c.BeginTx(ctx, opts)
	if err != nil {
		return err
	}
	t := &pgCloseTx{tx: ptx, bufs: db.closeParams}
	if err := fn(ctx, t); err != nil {
		_ = ptx.Rollback(context.WithoutCancel(ctx))
		if t.retry != nil && !isRetryable(err) {
			err = fmt.Errorf("%w (after: %w)", err, t.retry)
		}
		return err
	}
	return ptx.Commit(ctx)
}

// fail maps a statement's error like tx.write.
func (t *pgCloseTx) fail(err error, what string) error {
	if t.retry == nil && isRetryable(err) {
		t.retry = err
	}
	return mapWrite(err, what)
}

// lockedContractRow is a contract row with its hold's columns (NULL when
// the contract has none or it is missing), whether the month's charge is
// recorded and its lines since the previous month ("YYYY-MM kind", comma
// separated).
type lockedContractRow struct {
	contractRow `bun:",extend"`

	HID       *uuid.UUID `bun:"h_id"`
	HCert     *uuid.UUID `bun:"h_certificate_id"`
	HStart    *dbDate    `bun:"h_period_start"`
	HAmount   *int64     `bun:"h_amount"`
	HCharged  *int64     `bun:"h_charged"`
	HReleased *int64     `bun:"h_released"`
	HRefunded *int64     `bun:"h_refunded"`
	Charged   *int64     `bun:"x_charged"`
	Lines     *string    `bun:"x_lines"`
}

func (t *tx) LockContracts(ctx context.Context, statuses []enrollment.Status, after, through uuid.UUID, limit int, m funding.Month) ([]batch.LockedContract, error) {
	if len(statuses) == 0 || limit <= 0 {
		return nil, nil
	}
	ss := make([]string, len(statuses))
	for i, s := range statuses {
		ss[i] = string(s)
	}
	if t.pg() {
		return nil, errPGCloseTx
	}
	// One statement reads the page, its holds, charges and lines (SQLite
	// serialises the writers instead of locking rows).
	rows := make([]lockedContractRow, 0, min(limit, closeChunk))
	err := t.tx.NewRaw(`SELECT c.*, h.id AS h_id, h.certificate_id AS h_certificate_id, h.period_start AS h_period_start,
		h.amount AS h_amount, h.charged AS h_charged, h.released AS h_released, h.refunded AS h_refunded,
		(SELECT 1 FROM contract_charges x WHERE x.contract_id = c.id AND x.month = ?) AS x_charged,
		(SELECT group_concat(l.month || ' ' || l.kind, ',') FROM invoice_lines l WHERE l.contract_id = c.id AND l.month >= ?) AS x_lines
		FROM contracts c LEFT JOIN holds h ON h.id = c.hold_id
		WHERE c.status IN (?) AND c.id > ? AND c.id <= ? ORDER BY c.id LIMIT ?`,
		m.String(), m.Prev().String(), bun.In(ss), after, through, limit).Scan(ctx, &rows)
	if err != nil {
		return nil, t.read(err, "contracts after", after)
	}
	out := make([]batch.LockedContract, len(rows))
	for i := range rows {
		r := &rows[i]
		out[i].Contract = r.contractRow.domain()
		if r.HID != nil {
			h := holdRow{
				ID: *r.HID, CertificateID: deref(r.HCert), PeriodStart: deref(r.HStart), Amount: deref(r.HAmount),
				Charged: deref(r.HCharged), Released: deref(r.HReleased), Refunded: deref(r.HRefunded),
			}
			out[i].Hold = h.domain()
		}
		out[i].Charged = r.Charged != nil
		if r.Lines != nil {
			for l := range strings.SplitSeq(*r.Lines, ",") {
				k, err := parseLineKey(l)
				if err != nil {
					return nil, err
				}
				out[i].Lines = append(out[i].Lines, k)
			}
		}
	}
	return out, nil
}

// parseLineKey reads "YYYY-MM kind".
func parseLineKey(s string) (batch.LineKey, error) {
	ms, kind, ok := strings.Cut(s, " ")
	m, err := funding.ParseMonth(ms)
	if !ok || err != nil {
		return batch.LineKey{}, fmt.Errorf("storage: invoice line key %q", s)
	}
	return batch.LineKey{Month: m, Kind: enrollment.InvoiceKind(kind)}, nil
}

func deref[T any](p *T) T {
	var z T
	if p == nil {
		return z
	}
	return *p
}

// errUncovered fails a page whose holds do not cover its charges (a broken
// invariant or a concurrent change): the page's transaction rolls back and
// the page is closed contract by contract.
var errUncovered = errors.New("storage: charges not covered by their holds")

var chargeCols = []string{"contract_id", "month", "amount", "hold_id", "certificate_id", "period_start", "period_end", "id", "at", "actor", "rule", "params"}
var chargeTypes = []string{"uuid", "text", "bigint", "uuid", "uuid", "date", "date", "uuid", "timestamptz", "text", "text", "text"}

// writeCharge writes p as a row of chargeCols.
func writeCharge(w *bulkWriter, p *enrollment.PostingRecord) {
	if p.Posting.Kind != funding.Charge && w.err == nil {
		w.err = fmt.Errorf("storage: apply charges: posting %s is a %s", p.ID, p.Posting.Kind)
	}
	if p.At.IsZero() && w.err == nil {
		w.err = fmt.Errorf("storage: posting %s has no time", p.ID)
	}
	w.uuid(p.ContractID)
	w.text(p.Month.String())
	w.money("amount", p.Posting.Amount)
	w.uuid(p.Posting.HoldID)
	w.uuid(p.CertificateID)
	w.date(p.Period.Start)
	w.date(p.Period.End)
	w.uuid(p.ID)
	w.time(p.At)
	w.text(p.Actor)
	w.text(p.Rule)
	params, err := paramsJSON(p.Params)
	if err != nil && w.err == nil {
		w.err = err
	}
	w.text(params)
}

// ClosePage on SQLite: the charges in four statements, the lines in two;
// a charge or line recorded already fails the page.
func (t *tx) ClosePage(ctx context.Context, ps []enrollment.PostingRecord, ls []enrollment.InvoiceLine) error {
	if t.pg() {
		return errPGCloseTx
	}
	skipped, err := t.applyCharges(ctx, ps)
	if err != nil {
		return err
	}
	if len(skipped) > 0 {
		return fmt.Errorf("storage: close page: %d charges recorded already: %w", len(skipped), enrollment.ErrExists)
	}
	n, err := t.addInvoiceLines(ctx, ls)
	if err != nil {
		return err
	}
	if n != len(ls) {
		return fmt.Errorf("storage: close page: %d of %d invoice lines added already: %w", len(ls)-n, len(ls), enrollment.ErrExists)
	}
	return nil
}

// applyCharges applies the charges not recorded yet and returns the
// contracts of the others.
func (t *tx) applyCharges(ctx context.Context, ps []enrollment.PostingRecord) (map[uuid.UUID]bool, error) {
	recorded := make(map[uuid.UUID]bool, len(ps))
	for _, part := range chunkOf(ps, closeChunk) {
		w := t.bulk(chargeCols, chargeTypes, len(part), func(w *bulkWriter, i int) { writeCharge(w, &part[i]) })
		if w.err != nil {
			return nil, w.err
		}
		if err := t.applyChargesSQLite(ctx, part, w, recorded); err != nil {
			return nil, err
		}
	}
	skipped := map[uuid.UUID]bool{}
	for _, p := range ps {
		if !recorded[p.ContractID] {
			skipped[p.ContractID] = true
		}
	}
	return skipped, nil
}

// errPGCloseTx is a CloseTx method called on a PostgreSQL *tx: the close
// runs on PostgreSQL through InCloseTx's pgCloseTx.
var errPGCloseTx = errors.New("storage: the batched close on PostgreSQL runs through InCloseTx")

// applyChargesSQLite is ApplyCharges in three statements (SQLite has no
// data-modifying common table expressions): record, holds, postings. The
// accounts are not touched: see pgClosePage.
func (t *tx) applyChargesSQLite(ctx context.Context, part []enrollment.PostingRecord, all *bulkWriter, out map[uuid.UUID]bool) error {
	var ids []uuid.UUID
	q := "WITH d (" + strings.Join(chargeCols, ", ") + ") AS (VALUES " + string(all.values) +
		") INSERT INTO contract_charges (contract_id, month, amount) SELECT contract_id, month, amount FROM d WHERE true" +
		" ON CONFLICT DO NOTHING RETURNING contract_id"
	if err := t.queryScan(ctx, q, &ids); err != nil {
		return t.write(err, "record charges")
	}
	if len(ids) == 0 {
		return nil
	}
	recorded := make(map[uuid.UUID]bool, len(ids))
	for _, id := range ids {
		recorded[id] = true
	}
	var news []enrollment.PostingRecord
	for _, p := range part {
		if recorded[p.ContractID] {
			news = append(news, p)
		}
	}
	q, err := t.updateSQL("holds", []string{"id", "amount", "certificate_id", "period_start"}, []string{"uuid", "bigint", "uuid", "date"}, len(news),
		func(w *bulkWriter, i int) {
			w.uuid(news[i].Posting.HoldID)
			w.money("amount", news[i].Posting.Amount)
			w.uuid(news[i].CertificateID)
			w.date(news[i].Period.Start)
		}, "charged = holds.charged + v.amount",
		"holds.id = v.id AND holds.certificate_id = v.certificate_id AND holds.period_start = v.period_start AND holds.amount - holds.charged - holds.released >= v.amount")
	if err != nil {
		return err
	}
	if err := t.execCovered(ctx, q, len(news), "charge holds"); err != nil {
		return err
	}
	w := t.bulk(chargeCols, chargeTypes, len(news), func(w *bulkWriter, i int) { writeCharge(w, &news[i]) })
	if w.err != nil {
		return w.err
	}
	q = "WITH d (" + strings.Join(chargeCols, ", ") + ") AS (VALUES " + string(w.values) + ") " +
		"INSERT INTO postings (id, certificate_id, period_start, period_end, kind, amount, hold_id, contract_id, month, at, actor, rule, params) " +
		"SELECT d.id, d.certificate_id, d.period_start, d.period_end, 'charge', d.amount, d.hold_id, d.contract_id, d.month, d.at, d.actor, d.rule, d.params FROM d"
	if err := t.execCovered(ctx, q, len(news), "append postings"); err != nil {
		return err
	}
	for _, id := range ids {
		out[id] = true
	}
	return nil
}

// execCovered runs a guarded statement that must touch n rows.
func (t *tx) execCovered(ctx context.Context, q string, n int, what string) error {
	res, err := t.tx.ExecContext(ctx, q)
	if err != nil {
		return t.write(err, what)
	}
	got, err := res.RowsAffected()
	if err != nil {
		return t.write(err, what)
	}
	if got != int64(n) {
		return fmt.Errorf("%w: %s: %d of %d rows", errUncovered, what, got, n)
	}
	return nil
}

// paramsJSON is json.Marshal of a posting's params, written directly when
// every key and value is made of characters JSON does not escape (ids,
// months, amounts): sorted keys, as json.Marshal writes a map.
func paramsJSON(params map[string]string) (string, error) {
	if len(params) == 0 {
		return "{}", nil
	}
	plain := func(s string) bool {
		for i := 0; i < len(s); i++ {
			c := s[i]
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '.' || c == '-' || c == '_' || c == ':' || c == ' ') {
				return false
			}
		}
		return true
	}
	keys := make([]string, 0, len(params))
	fast := true
	for k, v := range params {
		keys = append(keys, k)
		fast = fast && plain(k) && plain(v)
	}
	if !fast {
		j, err := json.Marshal(params)
		if err != nil {
			return "", fmt.Errorf("storage: posting params: %w", err)
		}
		return string(j), nil
	}
	slices.Sort(keys)
	b := make([]byte, 0, 64)
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '"')
		b = append(b, k...)
		b = append(b, `":"`...)
		b = append(b, params[k]...)
		b = append(b, '"')
	}
	b = append(b, '}')
	return string(b), nil
}

type invoiceKey struct {
	scheme       string
	municipality string
	provider     uuid.UUID
	month        string
	kind         string
}

// addInvoiceLines adds the lines not added yet, and exactly those to their
// invoices; it returns how many it added.
func (t *tx) addInvoiceLines(ctx context.Context, ls []enrollment.InvoiceLine) (int, error) {
	added := 0
	sums := map[invoiceKey]*invoiceRow{}
	var keys []invoiceKey
	for _, part := range chunkOf(ls, closeChunk) {
		q, err := t.insertSQL("invoice_lines", []string{"contract_id", "month", "kind", "scheme", "municipality", "provider_id", "amount"},
			[]string{"uuid", "text", "text", "text", "text", "uuid", "bigint"}, len(part), func(w *bulkWriter, i int) {
				l := part[i]
				w.uuid(l.ContractID)
				w.text(l.Month.String())
				w.text(string(l.Kind))
				w.text(string(l.Scheme))
				w.text(l.Municipality)
				w.uuid(l.ProviderID)
				w.money("amount", l.Amount)
			}, " ON CONFLICT DO NOTHING RETURNING scheme, municipality, provider_id, month, kind, amount")
		if err != nil {
			return added, err
		}
		rows, err := t.tx.QueryContext(ctx, q)
		if err != nil {
			return added, t.write(err, "add invoice lines")
		}
		for rows.Next() {
			var k invoiceKey
			var amount int64
			if err := rows.Scan(&k.scheme, &k.municipality, &k.provider, &k.month, &k.kind, &amount); err != nil {
				_ = rows.Close()
				return added, t.write(err, "add invoice lines")
			}
			r := sums[k]
			if r == nil {
				r = &invoiceRow{}
				sums[k] = r
				keys = append(keys, k)
			}
			r.Amount += amount
			r.Lines++
			added++
		}
		if err := rows.Err(); err != nil {
			_ = rows.Close()
			return added, t.write(err, "add invoice lines")
		}
		if err := rows.Close(); err != nil {
			return added, t.write(err, "add invoice lines")
		}
	}
	if len(keys) == 0 {
		return added, nil
	}
	// The totals are hot rows shared by every page: one upsert per page of
	// the sums of its new lines, taken in key order.
	slices.SortFunc(keys, compareInvoiceKeys)
	for _, part := range chunkOf(keys, closeChunk) {
		q, err := t.insertSQL("invoices", []string{"scheme", "municipality", "provider_id", "month", "kind", "amount", "lines"},
			[]string{"text", "text", "uuid", "text", "text", "bigint", "integer"}, len(part), func(w *bulkWriter, i int) {
				k := part[i]
				r := sums[k]
				w.text(k.scheme)
				w.text(k.municipality)
				w.uuid(k.provider)
				w.text(k.month)
				w.text(k.kind)
				w.int(r.Amount)
				w.int(int64(r.Lines))
			}, " ON CONFLICT (scheme, municipality, provider_id, month, kind) DO UPDATE SET "+
				"amount = invoices.amount + EXCLUDED.amount, lines = invoices.lines + EXCLUDED.lines")
		if err != nil {
			return added, err
		}
		if _, err := t.tx.ExecContext(ctx, q); err != nil {
			return added, t.write(err, "add invoices")
		}
	}
	return added, nil
}

// queryScan runs a query whose one column scans into dest's elements.
func (t *tx) queryScan(ctx context.Context, query string, dest *[]uuid.UUID) error {
	rows, err := t.tx.QueryContext(ctx, query)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id uuid.UUID
		if err := rows.Scan(&id); err != nil {
			return err
		}
		*dest = append(*dest, id)
	}
	return rows.Err()
}

func chunkOf[T any](s []T, n int) [][]T {
	var out [][]T
	for len(s) > n {
		out = append(out, s[:n:n])
		s = s[n:]
	}
	if len(s) > 0 {
		out = append(out, s)
	}
	return out
}

// insertSQL is INSERT INTO table (cols) with n rows that fill writes, then
// suffix: on PostgreSQL SELECT * FROM unnest of one array literal per
// column (parsed by the array input functions, far cheaper than a VALUES
// list of n×cols constants), on SQLite a VALUES list.
func (t *tx) insertSQL(table string, cols, types []string, n int, fill func(w *bulkWriter, i int), suffix string) (string, error) {
	w := t.bulk(cols, types, n, fill)
	if w.err != nil {
		return "", w.err
	}
	b := make([]byte, 0, w.size()+len(suffix)+128)
	b = append(b, "INSERT INTO "...)
	b = append(b, table...)
	b = append(b, " ("...)
	b = append(b, strings.Join(cols, ", ")...)
	b = append(b, ") "...)
	if w.pg {
		b = append(b, "SELECT * FROM "...)
		b = w.appendUnnest(b)
	} else {
		b = append(b, "VALUES "...)
		b = append(b, w.values...)
	}
	b = append(b, suffix...)
	return string(b), nil
}

// updateSQL is UPDATE table SET set FROM the n rows fill writes, named v
// with cols, WHERE where.
func (t *tx) updateSQL(table string, cols, types []string, n int, fill func(w *bulkWriter, i int), set, where string) (string, error) {
	w := t.bulk(cols, types, n, fill)
	if w.err != nil {
		return "", w.err
	}
	b := make([]byte, 0, w.size()+len(set)+len(where)+128)
	if w.pg {
		b = append(b, "UPDATE "...)
		b = append(b, table...)
		b = append(b, " SET "...)
		b = append(b, set...)
		b = append(b, " FROM "...)
		b = w.appendUnnest(b)
		b = append(b, " AS v ("...)
	} else {
		b = append(b, "WITH v ("...)
	}
	b = append(b, strings.Join(cols, ", ")...)
	if w.pg {
		b = append(b, ") WHERE "...)
	} else {
		b = append(b, ") AS (VALUES "...)
		b = append(b, w.values...)
		b = append(b, ") UPDATE "...)
		b = append(b, table...)
		b = append(b, " SET "...)
		b = append(b, set...)
		b = append(b, " FROM v WHERE "...)
	}
	b = append(b, where...)
	return string(b), nil
}

// bulkWriter collects rows: on PostgreSQL as one array literal per column,
// on SQLite as a VALUES list. Ids, dates, numbers and months are formatted
// here; text goes through the array quoting and then the dialect's string
// quoting (PostgreSQL) or the dialect's string quoting (SQLite).
type bulkWriter struct {
	pg     bool
	d      interface{ AppendString([]byte, string) []byte }
	types  []string
	arrays [][]byte // PostgreSQL: the elements of each column, comma-separated
	values []byte   // SQLite: (…),(…)
	col    int
	rows   int
	err    error
}

func (t *tx) bulk(cols, types []string, n int, fill func(w *bulkWriter, i int)) *bulkWriter {
	w := &bulkWriter{pg: t.pg(), d: t.db.bun.Dialect(), types: types}
	if w.pg {
		w.arrays = make([][]byte, len(cols))
		for i := range w.arrays {
			w.arrays[i] = make([]byte, 0, 40*n)
		}
	} else {
		w.values = make([]byte, 0, 48*n*len(cols))
	}
	for i := range n {
		w.col = 0
		if !w.pg {
			if i > 0 {
				w.values = append(w.values, ',')
			}
			w.values = append(w.values, '(')
		}
		fill(w, i)
		if !w.pg {
			w.values = append(w.values, ')')
		}
		if w.col != len(cols) && w.err == nil {
			w.err = fmt.Errorf("storage: bulk row %d has %d of %d columns", i, w.col, len(cols))
		}
		w.rows++
	}
	return w
}

func (w *bulkWriter) size() int {
	n := len(w.values)
	for _, a := range w.arrays {
		n += len(a) + 32
	}
	return n
}

// appendUnnest appends unnest('{…}'::type[], …).
func (w *bulkWriter) appendUnnest(b []byte) []byte {
	b = append(b, "unnest("...)
	for i, a := range w.arrays {
		if i > 0 {
			b = append(b, ", "...)
		}
		lit := make([]byte, 0, len(a)+2)
		lit = append(lit, '{')
		lit = append(lit, a...)
		lit = append(lit, '}')
		b = w.d.AppendString(b, string(lit))
		b = append(b, "::"...)
		b = append(b, w.types[i]...)
		b = append(b, "[]"...)
	}
	return append(b, ')')
}

// next starts the next column's element and returns the buffer to append it to.
func (w *bulkWriter) next() *[]byte {
	i := w.col
	w.col++
	if w.pg {
		if w.rows > 0 {
			w.arrays[i] = append(w.arrays[i], ',')
		}
		return &w.arrays[i]
	}
	if i > 0 {
		w.values = append(w.values, ',')
	}
	return &w.values
}

func (w *bulkWriter) null() {
	b := w.next()
	*b = append(*b, "NULL"...)
}

// plain appends an element that needs no quoting in an array (hex ids,
// digits, ISO dates) and single quotes in SQL.
func (w *bulkWriter) plain(s []byte) {
	b := w.next()
	if w.pg {
		*b = append(*b, s...)
		return
	}
	*b = append(*b, '\'')
	*b = append(*b, s...)
	*b = append(*b, '\'')
}

func (w *bulkWriter) uuid(id uuid.UUID) {
	if id == uuid.Nil {
		w.null()
		return
	}
	var s [36]byte
	hexUUID(s[:], id)
	w.plain(s[:])
}

func (w *bulkWriter) date(d funding.Date) {
	if d.IsZero() {
		w.null()
		return
	}
	w.plain([]byte(d.String()))
}

func (w *bulkWriter) int(n int64) {
	b := w.next()
	*b = strconv.AppendInt(*b, n, 10)
}

func (w *bulkWriter) money(field string, m funding.Money) {
	var k kopecks
	n := k.of(field, m)
	if k.err != nil && w.err == nil {
		w.err = k.err
	}
	w.int(n)
}

func (w *bulkWriter) time(tm time.Time) {
	if tm.IsZero() {
		w.null()
		return
	}
	w.text(tm.UTC().Format("2006-01-02 15:04:05.999999-07:00"))
}

func (w *bulkWriter) text(s string) {
	if strings.IndexByte(s, 0) >= 0 && w.err == nil {
		w.err = fmt.Errorf("storage: text with a NUL byte")
	}
	b := w.next()
	if !w.pg {
		*b = w.d.AppendString(*b, s)
		return
	}
	// An array element in double quotes, with backslash and quote escaped;
	// the dialect's string quoting of the whole literal comes later.
	*b = append(*b, '"')
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '"' || c == '\\' {
			*b = append(*b, '\\')
		}
		*b = append(*b, s[i])
	}
	*b = append(*b, '"')
}

func hexUUID(dst []byte, u uuid.UUID) {
	const hexd = "0123456789abcdef"
	j := 0
	for i, c := range u {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			dst[j] = '-'
			j++
		}
		dst[j] = hexd[c>>4]
		dst[j+1] = hexd[c&0xf]
		j += 2
	}
}

// pgUUID and pgDate are pgx's values of an id and a date (NULL when zero);
// the batch enrolment uses them too.
func pgUUID(id uuid.UUID) pgtype.UUID { return pgtype.UUID{Bytes: id, Valid: id != uuid.Nil} }

func pgDate(d funding.Date) pgtype.Date { return pgtype.Date{Time: d.Time(), Valid: !d.IsZero()} }

// checkPage checks a page's charge postings: charges of one month, time,
// actor and rule, each complete.
func checkPage(ps []enrollment.PostingRecord) error {
	for i := range ps {
		p := &ps[i]
		switch {
		case p.Posting.Kind != funding.Charge:
			return fmt.Errorf("storage: close page: posting %s is a %s", p.ID, p.Posting.Kind)
		case p.At.IsZero():
			return fmt.Errorf("storage: posting %s has no time", p.ID)
		case p.ContractID == uuid.Nil || p.Posting.HoldID == uuid.Nil || p.CertificateID == uuid.Nil || p.ID == uuid.Nil ||
			p.Period.Start.IsZero() || p.Period.End.IsZero():
			return fmt.Errorf("storage: close page: posting %s lacks its contract, hold, certificate, id or period", p.ID)
		case p.Month != ps[0].Month || !p.At.Equal(ps[0].At) || p.Actor != ps[0].Actor || p.Rule != ps[0].Rule:
			return fmt.Errorf("storage: close page: posting %s is not of the page's month, time, actor and rule", p.ID)
		}
	}
	return nil
}

// invoiceSums sums a page's lines per invoice, in key order.
func invoiceSums(ls []enrollment.InvoiceLine, amounts []int64) []invoiceSum {
	idx := make(map[invoiceKey]int, 64)
	var sums []invoiceSum
	for i := range ls {
		l := &ls[i]
		k := invoiceKey{scheme: string(l.Scheme), municipality: l.Municipality, provider: l.ProviderID, month: monthStrings.of(l.Month), kind: string(l.Kind)}
		j, ok := idx[k]
		if !ok {
			j = len(sums)
			idx[k] = j
			sums = append(sums, invoiceSum{invoiceKey: k})
		}
		sums[j].amount += amounts[i]
		sums[j].lines++
	}
	slices.SortFunc(sums, func(a, b invoiceSum) int { return compareInvoiceKeys(a.invoiceKey, b.invoiceKey) })
	return sums
}

type invoiceSum struct {
	invoiceKey
	amount int64
	lines  int32
}

func compareInvoiceKeys(a, b invoiceKey) int {
	if c := strings.Compare(a.scheme, b.scheme); c != 0 {
		return c
	}
	if c := strings.Compare(a.municipality, b.municipality); c != 0 {
		return c
	}
	if c := slices.Compare(a.provider[:], b.provider[:]); c != 0 {
		return c
	}
	if c := strings.Compare(a.month, b.month); c != 0 {
		return c
	}
	return strings.Compare(a.kind, b.kind)
}

// monthStrings caches Month.String (fmt.Sprintf) for the few months a
// close writes, once per charge and invoice line otherwise.
var monthStrings = monthCache{m: map[funding.Month]string{}}

type monthCache struct {
	mu sync.RWMutex
	m  map[funding.Month]string
}

func (c *monthCache) of(m funding.Month) string {
	c.mu.RLock()
	s, ok := c.m[m]
	c.mu.RUnlock()
	if ok {
		return s
	}
	s = m.String()
	c.mu.Lock()
	if len(c.m) > 256 {
		clear(c.m)
	}
	c.m[m] = s
	c.mu.Unlock()
	return s
}
