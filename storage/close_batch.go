package storage

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
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
const closeChunk = 5000

// InCloseTx runs fn in one transaction, retried like InTx.
func (db *DB) InCloseTx(ctx context.Context, fn func(ctx context.Context, tx enrollment.CloseTx) error) error {
	return db.InTx(ctx, func(ctx context.Context, t enrollment.Tx) error {
		return fn(ctx, t.(*tx))
	})
}

func (t *tx) LockContracts(ctx context.Context, statuses []enrollment.Status, after, through uuid.UUID, limit int) ([]enrollment.Contract, error) {
	if len(statuses) == 0 || limit <= 0 {
		return nil, nil
	}
	ss := make([]string, len(statuses))
	for i, s := range statuses {
		ss[i] = string(s)
	}
	rows := make([]contractRow, 0, limit)
	q := t.tx.NewSelect().Model(&rows).
		Where("status IN (?)", bun.In(ss)).Where("id > ?", after).Where("id <= ?", through).
		OrderExpr("id").Limit(int64(limit))
	if err := t.forUpdate(q).Scan(ctx); err != nil {
		return nil, t.read(err, "contracts after", after)
	}
	out := make([]enrollment.Contract, len(rows))
	for i := range rows {
		out[i] = rows[i].domain()
	}
	return out, nil
}

func (t *tx) HoldsByID(ctx context.Context, ids []uuid.UUID) (map[uuid.UUID]funding.Hold, error) {
	out := make(map[uuid.UUID]funding.Hold, len(ids))
	for _, part := range chunkOf(ids, closeChunk) {
		var rows []holdRow
		if err := t.tx.NewSelect().Model(&rows).Where("id IN (?)", bun.In(part)).Scan(ctx); err != nil {
			return nil, t.read(err, "holds", len(part))
		}
		for i := range rows {
			out[rows[i].ID] = rows[i].domain()
		}
	}
	return out, nil
}

func (t *tx) LockAccounts(ctx context.Context, keys []enrollment.AccountKey) (map[enrollment.AccountKey]enrollment.AccountState, error) {
	want := make(map[enrollment.AccountKey]bool, len(keys))
	var certs []uuid.UUID
	var starts []dbDate
	for _, k := range keys {
		if want[k] {
			continue
		}
		want[k] = true
		certs = append(certs, k.CertificateID)
		if !slices.Contains(starts, dbDate(k.PeriodStart)) {
			starts = append(starts, dbDate(k.PeriodStart))
		}
	}
	// Lock in key order, one statement per chunk of certificates taken in
	// that same order, so that two closes never wait on each other in a
	// cycle.
	slices.SortFunc(certs, func(a, b uuid.UUID) int { return slices.Compare(a[:], b[:]) })
	certs = slices.Compact(certs)
	out := make(map[enrollment.AccountKey]enrollment.AccountState, len(want))
	for _, part := range chunkOf(certs, closeChunk) {
		var rows []accountRow
		q := t.tx.NewSelect().Model(&rows).
			Where("certificate_id IN (?)", bun.In(part)).Where("period_start IN (?)", bun.In(starts)).
			OrderExpr("certificate_id, period_start")
		if err := t.forUpdate(q).Scan(ctx); err != nil {
			return nil, t.read(err, "accounts", len(part))
		}
		for i := range rows {
			a := rows[i].domain()
			k := enrollment.AccountKey{CertificateID: a.CertificateID, PeriodStart: a.Period.Start}
			if want[k] {
				out[k] = a
			}
		}
	}
	return out, nil
}

func (t *tx) RecordCharges(ctx context.Context, charges []enrollment.Charge) (map[uuid.UUID]bool, error) {
	out := make(map[uuid.UUID]bool, len(charges))
	for _, part := range chunkOf(charges, closeChunk) {
		q, err := t.insertSQL("contract_charges", []string{"contract_id", "month", "amount"}, []string{"uuid", "text", "bigint"},
			len(part), func(w *bulkWriter, i int) {
				c := part[i]
				w.uuid(c.ContractID)
				w.text(c.Month.String())
				w.money("amount", c.Amount)
			}, " ON CONFLICT DO NOTHING RETURNING contract_id")
		if err != nil {
			return nil, err
		}
		var ids []uuid.UUID
		if err := t.queryScan(ctx, q, &ids); err != nil {
			return nil, t.write(err, "record charges")
		}
		for _, id := range ids {
			out[id] = true
		}
	}
	return out, nil
}

var postingCols = []string{"id", "certificate_id", "period_start", "period_end", "kind", "amount", "hold_id", "contract_id", "month", "at", "actor", "rule", "params"}
var postingTypes = []string{"uuid", "uuid", "date", "date", "text", "bigint", "uuid", "uuid", "text", "timestamptz", "text", "text", "text"}

func (t *tx) AppendPostings(ctx context.Context, ps []enrollment.PostingRecord) error {
	for _, part := range chunkOf(ps, closeChunk) {
		var perr error
		q, err := t.insertSQL("postings", postingCols, postingTypes, len(part), func(w *bulkWriter, i int) {
			p := part[i]
			params := "{}"
			if len(p.Params) > 0 {
				j, err := json.Marshal(p.Params)
				if err != nil && perr == nil {
					perr = fmt.Errorf("storage: posting params: %w", err)
				}
				params = string(j)
			}
			if p.At.IsZero() && perr == nil {
				perr = fmt.Errorf("storage: posting %s has no time", p.ID)
			}
			w.uuid(p.ID)
			w.uuid(p.CertificateID)
			w.date(p.Period.Start)
			w.date(p.Period.End)
			w.text(string(p.Posting.Kind))
			w.money("amount", p.Posting.Amount)
			w.uuid(p.Posting.HoldID)
			w.uuid(p.ContractID)
			if p.Month.IsZero() {
				w.null()
			} else {
				w.text(p.Month.String())
			}
			w.time(p.At)
			w.text(p.Actor)
			w.text(p.Rule)
			w.text(params)
		}, "")
		if perr != nil {
			return perr
		}
		if err != nil {
			return err
		}
		if _, err := t.tx.ExecContext(ctx, q); err != nil {
			return t.write(err, "append postings")
		}
	}
	return nil
}

func (t *tx) UpdateHolds(ctx context.Context, hs []funding.Hold) error {
	for _, part := range chunkOf(hs, closeChunk) {
		q, err := t.updateSQL("holds", []string{"id", "amount", "charged", "released", "refunded"},
			[]string{"uuid", "bigint", "bigint", "bigint", "bigint"}, len(part), func(w *bulkWriter, i int) {
				h := part[i]
				w.uuid(h.ID)
				w.money("amount", h.Amount)
				w.money("charged", h.Charged)
				w.money("released", h.Released)
				w.money("refunded", h.Refunded)
			},
			"amount = v.amount, charged = v.charged, released = v.released, refunded = v.refunded",
			"holds.id = v.id")
		if err != nil {
			return err
		}
		if err := t.execAll(ctx, q, len(part), "update holds"); err != nil {
			return err
		}
	}
	return nil
}

func (t *tx) UpdateAccounts(ctx context.Context, as []enrollment.AccountState) error {
	for _, part := range chunkOf(as, closeChunk) {
		q, err := t.updateSQL("accounts",
			[]string{"certificate_id", "period_start", "nominal", "balance", "reserved", "spent", "depleted", "expired"},
			[]string{"uuid", "date", "bigint", "bigint", "bigint", "bigint", "bigint", "bigint"}, len(part), func(w *bulkWriter, i int) {
				a := part[i]
				w.uuid(a.CertificateID)
				w.date(a.Period.Start)
				w.money("nominal", a.Account.Nominal)
				w.money("balance", a.Account.Balance)
				w.money("reserved", a.Account.Reserved)
				w.money("spent", a.Account.Spent)
				w.money("depleted", a.Account.Depleted)
				w.money("expired", a.Account.Expired)
			},
			"nominal = v.nominal, balance = v.balance, reserved = v.reserved, spent = v.spent, depleted = v.depleted, expired = v.expired",
			"accounts.certificate_id = v.certificate_id AND accounts.period_start = v.period_start")
		if err != nil {
			return err
		}
		if err := t.execAll(ctx, q, len(part), "update accounts"); err != nil {
			return err
		}
	}
	return nil
}

type invoiceKey struct {
	municipality string
	provider     uuid.UUID
	month        string
	kind         string
}

func (t *tx) AddInvoiceLines(ctx context.Context, ls []enrollment.InvoiceLine) (int, error) {
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

// execAll runs an update that must touch n rows: fewer means a row the
// caller read is gone.
func (t *tx) execAll(ctx context.Context, q string, n int, what string) error {
	res, err := t.tx.ExecContext(ctx, q)
	if err != nil {
		return t.write(err, what)
	}
	got, err := res.RowsAffected()
	if err != nil {
		return t.write(err, what)
	}
	if got != int64(n) {
		return fmt.Errorf("storage: %s: %d of %d rows: %w", what, got, n, enrollment.ErrNotFound)
	}
	return nil
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
