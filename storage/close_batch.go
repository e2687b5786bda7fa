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
	"github.com/edufund/edufund/funding"
)

// The bulk statements of the batched monthly close (enrollment.CloseTx),
// at most closeChunk rows per statement, with the values inlined (bun sends
// no parameters anyway) by bulkWriter rather than by bun's reflection,
// several times slower on a million rows. PostgreSQL gets one array literal
// per column, unnest(…) as the row source of INSERT … SELECT and UPDATE …
// FROM; SQLite a VALUES list, in a common table expression for UPDATE …
// FROM (SQLite ≥ 3.33).

var (
	_ enrollment.CloseBatcher = (*DB)(nil)
	_ enrollment.CloseTx      = (*tx)(nil)
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
func (db *DB) InCloseTx(ctx context.Context, fn func(ctx context.Context, tx enrollment.CloseTx) error) error {
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

// pgCloseTx is enrollment.CloseTx over a pgx transaction.
type pgCloseTx struct {
	tx pgx.Tx
	// retry remembers the first retryable failure, as tx.retry does.
	retry error
}

var _ enrollment.CloseTx = (*pgCloseTx)(nil)

func (db *DB) runCloseTx(ctx context.Context, c *pgx.Conn, fn func(ctx context.Context, tx enrollment.CloseTx) error) error {
	ptx, err := c.Begin(ctx)
	if err != nil {
		return err
	}
	t := &pgCloseTx{tx: ptx}
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

// query runs a fixed-text statement through pgx's statement cache: parsed
// and planned once per connection, parameters and results in binary.
func (t *pgCloseTx) query(ctx context.Context, q string, args ...any) (pgx.Rows, error) {
	defer traceStatement(q)()
	return t.tx.Query(ctx, q, pgCached(args...)...)
}

// lockedContractRow is a contract row with its hold's columns (NULL when
// the contract has none or it is missing).
type lockedContractRow struct {
	contractRow `bun:",extend"`

	HID       *uuid.UUID `bun:"h_id"`
	HCert     *uuid.UUID `bun:"h_certificate_id"`
	HStart    *dbDate    `bun:"h_period_start"`
	HAmount   *int64     `bun:"h_amount"`
	HCharged  *int64     `bun:"h_charged"`
	HReleased *int64     `bun:"h_released"`
	HRefunded *int64     `bun:"h_refunded"`
}

func (t *tx) LockContracts(ctx context.Context, statuses []enrollment.Status, after, through uuid.UUID, limit int) ([]enrollment.LockedContract, error) {
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
	// One statement reads the page and its holds (SQLite serialises the
	// writers instead of locking rows).
	rows := make([]lockedContractRow, 0, min(limit, closeChunk))
	err := t.tx.NewRaw(`SELECT c.*, h.id AS h_id, h.certificate_id AS h_certificate_id, h.period_start AS h_period_start,
		h.amount AS h_amount, h.charged AS h_charged, h.released AS h_released, h.refunded AS h_refunded
		FROM contracts c LEFT JOIN holds h ON h.id = c.hold_id
		WHERE c.status IN (?) AND c.id > ? AND c.id <= ? ORDER BY c.id LIMIT ?`,
		bun.In(ss), after, through, limit).Scan(ctx, &rows)
	if err != nil {
		return nil, t.read(err, "contracts after", after)
	}
	out := make([]enrollment.LockedContract, len(rows))
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
	}
	return out, nil
}

func deref[T any](p *T) T {
	var z T
	if p == nil {
		return z
	}
	return *p
}

// errUncovered fails a page whose holds or accounts do not cover its
// charges (a broken invariant or a concurrent change): the page's
// transaction rolls back and the page is closed contract by contract.
var errUncovered = errors.New("storage: charges not covered by their holds or accounts")

var chargeCols = []string{"contract_id", "month", "amount", "hold_id", "certificate_id", "period_start", "id", "at", "actor", "rule", "params"}
var chargeTypes = []string{"uuid", "text", "bigint", "uuid", "uuid", "date", "uuid", "timestamptz", "text", "text", "text"}

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

func (t *tx) ApplyCharges(ctx context.Context, ps []enrollment.PostingRecord) (map[uuid.UUID]bool, error) {
	if t.pg() {
		return nil, errPGCloseTx
	}
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

// applyChargesSQLite is ApplyCharges in four statements (SQLite has no
// data-modifying common table expressions): record, holds, accounts (the
// deltas summed per account here), postings.
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
	type acct struct {
		cert  uuid.UUID
		start funding.Date
	}
	sums := map[acct]int64{}
	var keys []acct
	for _, p := range part {
		if !recorded[p.ContractID] {
			continue
		}
		news = append(news, p)
		k := acct{p.CertificateID, p.Period.Start}
		if _, ok := sums[k]; !ok {
			keys = append(keys, k)
		}
		var kk kopecks
		sums[k] += kk.of("amount", p.Posting.Amount)
		if kk.err != nil {
			return kk.err
		}
	}
	q, err := t.updateSQL("holds", []string{"id", "amount"}, []string{"uuid", "bigint"}, len(news), func(w *bulkWriter, i int) {
		w.uuid(news[i].Posting.HoldID)
		w.money("amount", news[i].Posting.Amount)
	}, "charged = holds.charged + v.amount", "holds.id = v.id AND holds.amount - holds.charged - holds.released >= v.amount")
	if err != nil {
		return err
	}
	if err := t.execCovered(ctx, q, len(news), "charge holds"); err != nil {
		return err
	}
	q, err = t.updateSQL("accounts", []string{"certificate_id", "period_start", "amount"}, []string{"uuid", "date", "bigint"}, len(keys),
		func(w *bulkWriter, i int) {
			w.uuid(keys[i].cert)
			w.date(keys[i].start)
			w.int(sums[keys[i]])
		}, "reserved = accounts.reserved - v.amount, spent = accounts.spent + v.amount",
		"accounts.certificate_id = v.certificate_id AND accounts.period_start = v.period_start AND accounts.reserved >= v.amount")
	if err != nil {
		return err
	}
	if err := t.execCovered(ctx, q, len(keys), "charge accounts"); err != nil {
		return err
	}
	w := t.bulk(chargeCols, chargeTypes, len(news), func(w *bulkWriter, i int) { writeCharge(w, &news[i]) })
	if w.err != nil {
		return w.err
	}
	q = "WITH d (" + strings.Join(chargeCols, ", ") + ") AS (VALUES " + string(w.values) + ") " +
		"INSERT INTO postings (id, certificate_id, period_start, period_end, kind, amount, hold_id, contract_id, month, at, actor, rule, params) " +
		"SELECT d.id, d.certificate_id, d.period_start, a.period_end, 'charge', d.amount, d.hold_id, d.contract_id, d.month, d.at, d.actor, d.rule, d.params " +
		"FROM d JOIN accounts a ON a.certificate_id = d.certificate_id AND a.period_start = d.period_start"
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
	municipality string
	provider     uuid.UUID
	month        string
	kind         string
}

func (t *tx) AddInvoiceLines(ctx context.Context, ls []enrollment.InvoiceLine) (int, error) {
	if t.pg() {
		return 0, errPGCloseTx
	}
	added := 0
	sums := map[invoiceKey]*invoiceRow{}
	var keys []invoiceKey
	for _, part := range chunkOf(ls, closeChunk) {
		q, err := t.insertSQL("invoice_lines", []string{"contract_id", "month", "kind", "municipality", "provider_id", "amount"},
			[]string{"uuid", "text", "text", "text", "uuid", "bigint"}, len(part), func(w *bulkWriter, i int) {
				l := part[i]
				w.uuid(l.ContractID)
				w.text(l.Month.String())
				w.text(string(l.Kind))
				w.text(l.Municipality)
				w.uuid(l.ProviderID)
				w.money("amount", l.Amount)
			}, " ON CONFLICT DO NOTHING RETURNING municipality, provider_id, month, kind, amount")
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
			if err := rows.Scan(&k.municipality, &k.provider, &k.month, &k.kind, &amount); err != nil {
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
	slices.SortFunc(keys, func(a, b invoiceKey) int {
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
	})
	for _, part := range chunkOf(keys, closeChunk) {
		q, err := t.insertSQL("invoices", []string{"municipality", "provider_id", "month", "kind", "amount", "lines"},
			[]string{"text", "uuid", "text", "text", "bigint", "integer"}, len(part), func(w *bulkWriter, i int) {
				k := part[i]
				r := sums[k]
				w.text(k.municipality)
				w.uuid(k.provider)
				w.text(k.month)
				w.text(k.kind)
				w.int(r.Amount)
				w.int(int64(r.Lines))
			}, " ON CONFLICT (municipality, provider_id, month, kind) DO UPDATE SET "+
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

var lineCols = []string{"contract_id", "month", "kind", "municipality", "provider_id", "amount"}
var lineTypes = []string{"uuid", "text", "text", "text", "uuid", "bigint"}

// pgAddInvoiceLinesSQL is AddInvoiceLines in one statement: the new lines
// and, from exactly those, the sums upserted into their invoices in key
// order, without the lines coming back to the client. Lines, like charges,
// are only added under their contract's lock, so a plain INSERT after the
// NOT EXISTS check suffices.
const pgAddInvoiceLinesSQL = `WITH v AS (SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::uuid[], $6::bigint[])
		AS v (contract_id, month, kind, municipality, provider_id, amount)),
	l AS (INSERT INTO invoice_lines (contract_id, month, kind, municipality, provider_id, amount)
		SELECT * FROM v WHERE NOT EXISTS (SELECT 1 FROM invoice_lines x WHERE x.contract_id = v.contract_id AND x.month = v.month AND x.kind = v.kind)
		ORDER BY contract_id, month, kind
		RETURNING municipality, provider_id, month, kind, amount),
	i AS (INSERT INTO invoices (municipality, provider_id, month, kind, amount, lines)
		SELECT municipality, provider_id, month, kind, sum(amount), count(*) FROM l GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
		ON CONFLICT (municipality, provider_id, month, kind) DO UPDATE SET amount = invoices.amount + EXCLUDED.amount, lines = invoices.lines + EXCLUDED.lines)
	SELECT count(*) FROM l`

func (t *pgCloseTx) AddInvoiceLines(ctx context.Context, ls []enrollment.InvoiceLine) (int, error) {
	added := 0
	for _, part := range chunkOf(ls, closeChunk) {
		n := len(part)
		var (
			contracts, providers = make([]pgtype.UUID, n), make([]pgtype.UUID, n)
			months, kinds, munis = make([]string, n), make([]string, n), make([]string, n)
			amounts              = make([]int64, n)
			k                    kopecks
		)
		for i := range part {
			l := &part[i]
			if l.ContractID == uuid.Nil || l.ProviderID == uuid.Nil {
				return added, fmt.Errorf("storage: invoice line of contract %s lacks its contract or provider", l.ContractID)
			}
			contracts[i], providers[i] = pgUUID(l.ContractID), pgUUID(l.ProviderID)
			months[i], kinds[i], munis[i] = monthStrings.of(l.Month), string(l.Kind), l.Municipality
			amounts[i] = k.of("amount", l.Amount)
		}
		if k.err != nil {
			return added, k.err
		}
		var got int64
		err := t.queryRow(ctx, pgAddInvoiceLinesSQL, contracts, months, kinds, munis, providers, amounts).Scan(&got)
		if err != nil {
			return added, t.fail(err, "add invoice lines")
		}
		added += int(got)
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

// The PostgreSQL statements of the close have a fixed text: the page's
// rows travel as array parameters in pgx's binary format and each
// statement is parsed and planned once per connection (pgx's statement
// cache, as in batch_pg.go). Ids come back as uuid_send bytea, which
// uuid.UUID scans without parsing text, and the rows are scanned by hand
// rather than by bun's reflection.

// pgLockContractsSQL reads and locks a page of contracts with their holds;
// the contract's lock covers its hold, as in the per-contract path.
const pgLockContractsSQL = `SELECT c.id, c.certificate_id, c.group_id, c.module_id, c.program_id, c.provider_id, c.municipality, c.period_start, c.period_end, c.status,
		c.start_on, c.end_on, c.price_start, c.price_end, c.price_days, c.price_months, c.price_total, c.price_normative,
		c.price_cert, c.price_copay, c.price_first, c.price_other, c.price_cert_first, c.price_cert_other,
		c.price_copay_first, c.price_copay_other, c.hold_id, c.created_at, c.closed_on, c.prolonged_from,
		c.registry, c.direction, c.offered_on, c.activated_on, c.terminated_on, c.scheme,
		h.id, coalesce(h.amount, 0), coalesce(h.charged, 0), coalesce(h.released, 0), coalesce(h.refunded, 0)
	FROM contracts c LEFT JOIN holds h ON h.id = c.hold_id
	WHERE c.status = ANY($1::text[]) AND c.id > $2::uuid AND c.id <= $3::uuid
	ORDER BY c.id LIMIT $4 FOR NO KEY UPDATE OF c`

func (t *pgCloseTx) LockContracts(ctx context.Context, statuses []enrollment.Status, after, through uuid.UUID, limit int) ([]enrollment.LockedContract, error) {
	if len(statuses) == 0 || limit <= 0 {
		return nil, nil
	}
	ss := make([]string, len(statuses))
	for i, st := range statuses {
		ss[i] = string(st)
	}
	rows, err := t.query(ctx, pgLockContractsSQL, ss, pgtype.UUID{Bytes: after, Valid: true}, pgtype.UUID{Bytes: through, Valid: true}, limit)
	if err != nil {
		return nil, t.fail(err, fmt.Sprintf("contracts after %s", after))
	}
	defer rows.Close()
	out := make([]enrollment.LockedContract, 0, min(limit, closeChunk))
	var (
		r                                                                  contractRow
		id, cert, group, module, program, provider, holdID, prolonged, hid pgtype.UUID
		periodStart, periodEnd, start, end, priceStart, priceEnd           pgtype.Date
		closedOn, offeredOn, activatedOn, terminatedOn                     pgtype.Date
		createdAt                                                          pgtype.Timestamptz
		days, months                                                       int32
		hAmount, hCharged, hReleased, hRefunded                            int64
	)
	for rows.Next() {
		err := rows.Scan(&id, &cert, &group, &module, &program, &provider, &r.Municipality, &periodStart, &periodEnd, &r.Status,
			&start, &end, &priceStart, &priceEnd, &days, &months, &r.PriceTotal, &r.PriceNormative,
			&r.PriceCert, &r.PriceCoPay, &r.PriceFirst, &r.PriceOther, &r.PriceCertFirst, &r.PriceCertOther,
			&r.PriceCoPayFirst, &r.PriceCoPayOther, &holdID, &createdAt, &closedOn, &prolonged,
			&r.Registry, &r.Direction, &offeredOn, &activatedOn, &terminatedOn, &r.Scheme,
			&hid, &hAmount, &hCharged, &hReleased, &hRefunded)
		if err != nil {
			return nil, t.fail(err, fmt.Sprintf("contracts after %s", after))
		}
		r.ID, r.CertificateID, r.GroupID, r.ModuleID = id.Bytes, cert.Bytes, group.Bytes, module.Bytes
		r.ProgramID, r.ProviderID = program.Bytes, provider.Bytes
		r.HoldID, r.ProlongedFrom = nullUUID(holdID.Bytes), nullUUID(prolonged.Bytes)
		r.PriceDays, r.PriceMonths = int(days), int(months)
		r.CreatedAt = dbTime(createdAt.Time.UTC())
		var derr error
		for _, d := range [...]struct {
			dst *dbDate
			src pgtype.Date
		}{
			{&r.PeriodStart, periodStart}, {&r.PeriodEnd, periodEnd}, {&r.Start, start}, {&r.End, end},
			{&r.PriceStart, priceStart}, {&r.PriceEnd, priceEnd}, {&r.ClosedOn, closedOn},
			{&r.OfferedOn, offeredOn}, {&r.ActivatedOn, activatedOn}, {&r.TerminatedOn, terminatedOn},
		} {
			*d.dst = dbDate{}
			if d.src.Valid {
				if d.src.InfinityModifier != pgtype.Finite {
					derr = fmt.Errorf("storage: contract %s has an infinite date", uuid.UUID(id.Bytes))
					continue
				}
				*d.dst = dbDate(funding.DateOf(d.src.Time))
			}
		}
		if derr != nil {
			return nil, derr
		}
		if !id.Valid || !cert.Valid {
			return nil, fmt.Errorf("storage: contract row without id or certificate")
		}
		lc := enrollment.LockedContract{Contract: r.domain()}
		if hid.Valid {
			h := holdRow{ID: hid.Bytes, Amount: hAmount, Charged: hCharged, Released: hReleased, Refunded: hRefunded}
			lc.Hold = h.domain()
		}
		out = append(out, lc)
	}
	if err := rows.Err(); err != nil {
		return nil, t.fail(err, fmt.Sprintf("contracts after %s", after))
	}
	return out, nil
}

// pgApplyChargesSQL is the whole of ApplyCharges in one statement. The new
// charges are those without a recorded (contract, month): charges are only
// ever recorded under the contract's lock, which the page holds, so a plain
// INSERT after the NOT EXISTS check suffices (no speculative insertion; a
// unique violation would fail the page into the per-contract path). They
// move their holds and accounts by deltas guarded by the ledger's rules and
// get their postings; the counts tell whether every guard held. The
// columns every posting of a run shares (time, actor, rule) are scalars,
// not arrays; the month stays an array column: as a constant it let the
// planner estimate no charges of the month and choose sequential scans of
// contract_charges and accounts (a page took 10x longer). One row comes back: whether every guard held, and
// the contracts skipped because their charge was recorded already.
const pgApplyChargesSQL = `WITH d AS (SELECT * FROM unnest($1::uuid[], $2::bigint[], $3::uuid[], $4::uuid[], $5::date[], $6::uuid[], $7::text[], $8::text[])
		AS d (contract_id, amount, hold_id, certificate_id, period_start, id, params, month)),
	n AS (SELECT * FROM d WHERE NOT EXISTS (SELECT 1 FROM contract_charges x WHERE x.contract_id = d.contract_id AND x.month = d.month)),
	r AS (INSERT INTO contract_charges (contract_id, month, amount) SELECT contract_id, month, amount FROM n ORDER BY contract_id, month RETURNING 1),
	h AS (UPDATE holds SET charged = holds.charged + n.amount FROM n
		WHERE holds.id = n.hold_id AND holds.amount - holds.charged - holds.released >= n.amount RETURNING 1),
	s AS (SELECT certificate_id, period_start, sum(amount)::bigint AS amount FROM n GROUP BY 1, 2 ORDER BY 1, 2),
	a AS (UPDATE accounts SET reserved = accounts.reserved - s.amount, spent = accounts.spent + s.amount FROM s
		WHERE accounts.certificate_id = s.certificate_id AND accounts.period_start = s.period_start AND accounts.reserved >= s.amount
		RETURNING accounts.certificate_id, accounts.period_start, accounts.period_end),
	p AS (INSERT INTO postings (id, certificate_id, period_start, period_end, kind, amount, hold_id, contract_id, month, at, actor, rule, params)
		SELECT n.id, n.certificate_id, n.period_start, a.period_end, 'charge', n.amount, n.hold_id, n.contract_id, n.month, $9::timestamptz, $10::text, $11::text, n.params
		FROM n JOIN a USING (certificate_id, period_start) ORDER BY n.id RETURNING 1)
	SELECT (SELECT count(*) FROM n) = (SELECT count(*) FROM r) AND (SELECT count(*) FROM n) = (SELECT count(*) FROM h)
		AND (SELECT count(*) FROM s) = (SELECT count(*) FROM a) AND (SELECT count(*) FROM n) = (SELECT count(*) FROM p),
		(SELECT count(*) FROM d) - (SELECT count(*) FROM n),
		ARRAY(SELECT contract_id FROM d EXCEPT ALL SELECT contract_id FROM n)`

func pgUUID(id uuid.UUID) pgtype.UUID { return pgtype.UUID{Bytes: id, Valid: id != uuid.Nil} }

func pgDate(d funding.Date) pgtype.Date { return pgtype.Date{Time: d.Time(), Valid: !d.IsZero()} }

// applyCharges runs pgApplyChargesSQL over ps, postings that share their
// month, time, actor and rule.
func (t *pgCloseTx) applyCharges(ctx context.Context, ps []enrollment.PostingRecord, skipped map[uuid.UUID]bool) error {
	n := len(ps)
	var (
		contracts, holds, certs, ids = make([]pgtype.UUID, n), make([]pgtype.UUID, n), make([]pgtype.UUID, n), make([]pgtype.UUID, n)
		params, months               = make([]string, n), make([]string, n)
		amounts                      = make([]int64, n)
		starts                       = make([]pgtype.Date, n)
		k                            kopecks
	)
	for i := range ps {
		p := &ps[i]
		switch {
		case p.Posting.Kind != funding.Charge:
			return fmt.Errorf("storage: apply charges: posting %s is a %s", p.ID, p.Posting.Kind)
		case p.At.IsZero():
			return fmt.Errorf("storage: posting %s has no time", p.ID)
		case p.ContractID == uuid.Nil || p.Posting.HoldID == uuid.Nil || p.CertificateID == uuid.Nil || p.ID == uuid.Nil || p.Period.Start.IsZero():
			return fmt.Errorf("storage: apply charges: posting %s lacks its contract, hold, certificate, id or period", p.ID)
		case !sameRun(p, &ps[0]):
			return fmt.Errorf("storage: apply charges: posting %s is not of its run", p.ID)
		}
		contracts[i], holds[i], certs[i], ids[i] = pgUUID(p.ContractID), pgUUID(p.Posting.HoldID), pgUUID(p.CertificateID), pgUUID(p.ID)
		amounts[i] = k.of("amount", p.Posting.Amount)
		starts[i] = pgDate(p.Period.Start)
		months[i] = monthStrings.of(p.Month)
		j, err := paramsJSON(p.Params)
		if err != nil {
			return err
		}
		params[i] = j
	}
	if k.err != nil {
		return k.err
	}
	p0 := &ps[0]
	var (
		covered bool
		nSkip   int64
		skip    []pgtype.UUID
	)
	err := t.queryRow(ctx, pgApplyChargesSQL, contracts, amounts, holds, certs, starts, ids, params,
		months, pgtype.Timestamptz{Time: p0.At, Valid: true}, p0.Actor, p0.Rule).Scan(&covered, &nSkip, &skip)
	if err != nil {
		return t.fail(err, "apply charges")
	}
	if !covered {
		return errUncovered
	}
	if int(nSkip) != len(skip) {
		return fmt.Errorf("storage: apply charges: %d skipped, %d listed", nSkip, len(skip))
	}
	for _, id := range skip {
		skipped[id.Bytes] = true
	}
	return nil
}

// sameRun tells whether two charge postings share the columns a run of
// pgApplyChargesSQL passes once.
func sameRun(a, b *enrollment.PostingRecord) bool {
	return a.Month == b.Month && a.At.Equal(b.At) && a.Actor == b.Actor && a.Rule == b.Rule
}

func (t *pgCloseTx) ApplyCharges(ctx context.Context, ps []enrollment.PostingRecord) (map[uuid.UUID]bool, error) {
	skipped := map[uuid.UUID]bool{}
	for len(ps) > 0 {
		// The longest run of postings of one month, time, actor and rule
		// (a whole page in the close), at most closeChunk.
		n := 1
		for n < len(ps) && n < closeChunk && sameRun(&ps[n], &ps[0]) {
			n++
		}
		if err := t.applyCharges(ctx, ps[:n], skipped); err != nil {
			return nil, err
		}
		ps = ps[n:]
	}
	return skipped, nil
}

// queryRow is query for a statement of one row.
func (t *pgCloseTx) queryRow(ctx context.Context, q string, args ...any) pgx.Row {
	defer traceStatement(q)()
	return t.tx.QueryRow(ctx, q, pgCached(args...)...)
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
