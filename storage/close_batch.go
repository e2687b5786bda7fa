package storage

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/funding"
)

// The bulk statements of the batched monthly close (enrollment.CloseTx).
// Rows go as multi-row VALUES lists built here with the dialect's own
// quoting (bun would build the same text by reflection, several times
// slower on a million rows), at most closeChunk rows per statement. Updates
// use a VALUES common table expression joined with UPDATE … FROM, which
// PostgreSQL and SQLite (≥ 3.33) both run; PostgreSQL gets explicit casts.

var (
	_ enrollment.CloseBatcher = (*DB)(nil)
	_ enrollment.CloseTx      = (*tx)(nil)
)

// closeChunk bounds the rows of one bulk statement.
const closeChunk = 2500

// InCloseTx runs fn in one transaction, retried like InTx.
func (db *DB) InCloseTx(ctx context.Context, fn func(ctx context.Context, tx enrollment.CloseTx) error) error {
	return db.InTx(ctx, func(ctx context.Context, t enrollment.Tx) error {
		return fn(ctx, t.(*tx))
	})
}

func (t *tx) LockContractsAfter(ctx context.Context, statuses []enrollment.Status, after uuid.UUID, limit int) ([]enrollment.Contract, error) {
	if len(statuses) == 0 || limit <= 0 {
		return nil, nil
	}
	ss := make([]string, len(statuses))
	for i, s := range statuses {
		ss[i] = string(s)
	}
	rows := make([]contractRow, 0, limit)
	q := t.tx.NewSelect().Model(&rows).
		Where("status IN (?)", bun.In(ss)).Where("id > ?", after).
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
		b := t.newSQL(64 * len(part))
		b.raw("INSERT INTO contract_charges (contract_id, month, amount) VALUES ")
		for i, c := range part {
			if i > 0 {
				b.raw(",")
			}
			b.raw("(")
			b.uuid(c.ContractID)
			b.raw(",")
			b.str(c.Month.String())
			b.raw(",")
			b.money("amount", c.Amount)
			b.raw(")")
		}
		b.raw(" ON CONFLICT DO NOTHING RETURNING contract_id")
		if b.err != nil {
			return nil, b.err
		}
		var ids []uuid.UUID
		if err := t.queryScan(ctx, b.String(), &ids); err != nil {
			return nil, t.write(err, "record charges")
		}
		for _, id := range ids {
			out[id] = true
		}
	}
	return out, nil
}

func (t *tx) AppendPostings(ctx context.Context, ps []enrollment.PostingRecord) error {
	for _, part := range chunkOf(ps, closeChunk) {
		b := t.newSQL(400 * len(part))
		b.raw("INSERT INTO postings (id, certificate_id, period_start, period_end, kind, amount, hold_id, contract_id, month, at, actor, rule, params) VALUES ")
		for i, p := range part {
			if p.At.IsZero() {
				return fmt.Errorf("storage: posting %s has no time", p.ID)
			}
			params := "{}"
			if len(p.Params) > 0 {
				j, err := json.Marshal(p.Params)
				if err != nil {
					return fmt.Errorf("storage: posting params: %w", err)
				}
				params = string(j)
			}
			if i > 0 {
				b.raw(",")
			}
			b.raw("(")
			b.uuid(p.ID)
			b.raw(",")
			b.uuid(p.CertificateID)
			b.raw(",")
			b.date(p.Period.Start)
			b.raw(",")
			b.date(p.Period.End)
			b.raw(",")
			b.str(string(p.Posting.Kind))
			b.raw(",")
			b.money("amount", p.Posting.Amount)
			b.raw(",")
			b.nullUUID(p.Posting.HoldID)
			b.raw(",")
			b.nullUUID(p.ContractID)
			b.raw(",")
			if p.Month.IsZero() {
				b.raw("NULL")
			} else {
				b.str(p.Month.String())
			}
			b.raw(",")
			b.buf = t.db.bun.Dialect().AppendTime(b.buf, p.At.UTC())
			b.raw(",")
			b.str(p.Actor)
			b.raw(",")
			b.str(p.Rule)
			b.raw(",")
			b.str(params)
			b.raw(")")
		}
		if b.err != nil {
			return b.err
		}
		if _, err := t.tx.ExecContext(ctx, b.String()); err != nil {
			return t.write(err, "append postings")
		}
	}
	return nil
}

func (t *tx) UpdateHolds(ctx context.Context, hs []funding.Hold) error {
	for _, part := range chunkOf(hs, closeChunk) {
		b := t.newSQL(100 * len(part))
		b.raw("WITH v (id, amount, charged, released, refunded) AS (VALUES ")
		for i, h := range part {
			if i > 0 {
				b.raw(",")
			}
			b.raw("(")
			b.uuid(h.ID)
			b.cast("uuid")
			b.raw(",")
			b.money("amount", h.Amount)
			b.cast("bigint")
			b.raw(",")
			b.money("charged", h.Charged)
			b.cast("bigint")
			b.raw(",")
			b.money("released", h.Released)
			b.cast("bigint")
			b.raw(",")
			b.money("refunded", h.Refunded)
			b.cast("bigint")
			b.raw(")")
		}
		b.raw(") UPDATE holds SET amount = v.amount, charged = v.charged, released = v.released, refunded = v.refunded FROM v WHERE holds.id = v.id")
		if err := t.execAll(ctx, b, len(part), "update holds"); err != nil {
			return err
		}
	}
	return nil
}

func (t *tx) UpdateAccounts(ctx context.Context, as []enrollment.AccountState) error {
	for _, part := range chunkOf(as, closeChunk) {
		b := t.newSQL(160 * len(part))
		b.raw("WITH v (certificate_id, period_start, nominal, balance, reserved, spent, depleted, expired) AS (VALUES ")
		for i, a := range part {
			if i > 0 {
				b.raw(",")
			}
			b.raw("(")
			b.uuid(a.CertificateID)
			b.cast("uuid")
			b.raw(",")
			b.date(a.Period.Start)
			b.cast("date")
			for _, f := range []struct {
				name string
				v    funding.Money
			}{
				{"nominal", a.Account.Nominal}, {"balance", a.Account.Balance}, {"reserved", a.Account.Reserved},
				{"spent", a.Account.Spent}, {"depleted", a.Account.Depleted}, {"expired", a.Account.Expired},
			} {
				b.raw(",")
				b.money(f.name, f.v)
				b.cast("bigint")
			}
			b.raw(")")
		}
		b.raw(") UPDATE accounts SET nominal = v.nominal, balance = v.balance, reserved = v.reserved, spent = v.spent, " +
			"depleted = v.depleted, expired = v.expired FROM v " +
			"WHERE accounts.certificate_id = v.certificate_id AND accounts.period_start = v.period_start")
		if err := t.execAll(ctx, b, len(part), "update accounts"); err != nil {
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
	for _, part := range chunkOf(ls, closeChunk) {
		b := t.newSQL(128 * len(part))
		b.raw("INSERT INTO invoice_lines (contract_id, month, kind, municipality, provider_id, amount) VALUES ")
		for i, l := range part {
			if i > 0 {
				b.raw(",")
			}
			b.raw("(")
			b.uuid(l.ContractID)
			b.raw(",")
			b.str(l.Month.String())
			b.raw(",")
			b.str(string(l.Kind))
			b.raw(",")
			b.str(l.Municipality)
			b.raw(",")
			b.uuid(l.ProviderID)
			b.raw(",")
			b.money("amount", l.Amount)
			b.raw(")")
		}
		b.raw(" ON CONFLICT DO NOTHING RETURNING municipality, provider_id, month, kind, amount")
		if b.err != nil {
			return added, b.err
		}
		rows, err := t.tx.QueryContext(ctx, b.String())
		if err != nil {
			return added, t.write(err, "add invoice lines")
		}
		sums := map[invoiceKey]*invoiceRow{}
		var keys []invoiceKey
		for rows.Next() {
			var k invoiceKey
			var amount int64
			if err := rows.Scan(&k.municipality, &k.provider, &k.month, &k.kind, &amount); err != nil {
				_ = rows.Close()
				return added, t.write(err, "add invoice lines")
			}
			r := sums[k]
			if r == nil {
				r = &invoiceRow{Municipality: k.municipality, ProviderID: k.provider, Kind: k.kind}
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
		if len(keys) == 0 {
			continue
		}
		// The totals are hot rows shared by every page: take them in key
		// order.
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
		ib := t.newSQL(128 * len(keys))
		ib.raw("INSERT INTO invoices (municipality, provider_id, month, kind, amount, lines) VALUES ")
		for i, k := range keys {
			r := sums[k]
			if i > 0 {
				ib.raw(",")
			}
			ib.raw("(")
			ib.str(k.municipality)
			ib.raw(",")
			ib.uuid(k.provider)
			ib.raw(",")
			ib.str(k.month)
			ib.raw(",")
			ib.str(k.kind)
			ib.raw(",")
			ib.int(r.Amount)
			ib.raw(",")
			ib.int(int64(r.Lines))
			ib.raw(")")
		}
		ib.raw(" ON CONFLICT (municipality, provider_id, month, kind) DO UPDATE SET " +
			"amount = invoices.amount + EXCLUDED.amount, lines = invoices.lines + EXCLUDED.lines")
		if _, err := t.tx.ExecContext(ctx, ib.String()); err != nil {
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
func (t *tx) execAll(ctx context.Context, b *sqlText, n int, what string) error {
	if b.err != nil {
		return b.err
	}
	res, err := t.tx.ExecContext(ctx, b.String())
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

// sqlText builds one statement with the values inlined, quoted the way the
// dialect quotes them. Ids, dates and months are formatted here; text goes
// through the dialect's string quoting.
type sqlText struct {
	buf []byte
	pg  bool
	d   interface{ AppendString([]byte, string) []byte }
	err error
}

func (t *tx) newSQL(capacity int) *sqlText {
	return &sqlText{buf: make([]byte, 0, capacity+256), pg: t.pg(), d: t.db.bun.Dialect()}
}

func (b *sqlText) String() string { return string(b.buf) }
func (b *sqlText) raw(s string)   { b.buf = append(b.buf, s...) }
func (b *sqlText) str(s string)   { b.buf = b.d.AppendString(b.buf, s) }
func (b *sqlText) int(n int64)    { b.buf = strconv.AppendInt(b.buf, n, 10) }

func (b *sqlText) uuid(id uuid.UUID) {
	b.buf = append(b.buf, '\'')
	var s [36]byte
	hexUUID(s[:], id)
	b.buf = append(b.buf, s[:]...)
	b.buf = append(b.buf, '\'')
}

func (b *sqlText) nullUUID(id uuid.UUID) {
	if id == uuid.Nil {
		b.raw("NULL")
		return
	}
	b.uuid(id)
}

func (b *sqlText) date(d funding.Date) {
	if d.IsZero() {
		b.raw("NULL")
		return
	}
	b.buf = append(b.buf, '\'')
	b.buf = append(b.buf, d.String()...)
	b.buf = append(b.buf, '\'')
}

func (b *sqlText) money(field string, m funding.Money) {
	var k kopecks
	n := k.of(field, m)
	if k.err != nil && b.err == nil {
		b.err = k.err
	}
	b.int(n)
}

// cast types a VALUES column on PostgreSQL, where a common table
// expression's literals are otherwise text; SQLite needs no cast.
func (b *sqlText) cast(typ string) {
	if b.pg {
		b.raw("::")
		b.raw(typ)
	}
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
