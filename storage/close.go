package storage

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/enrollment/batch"
	"github.com/edufund/edufund/funding"
	"github.com/edufund/edufund/storage/internal/schema"
)

// The batched monthly close on SQLite (batch.CloseTx): bulk statements of
// at most closeChunk rows, with the values inlined (bun sends no
// parameters anyway) by bulkWriter as a VALUES list, in a common table
// expression for UPDATE … FROM (SQLite ≥ 3.33), rather than by bun's
// reflection, several times slower on a million rows.

// sqliteCloseTx is batch.CloseTx over one of the store's transactions.
type sqliteCloseTx struct {
	*tx
}

var _ batch.CloseTx = sqliteCloseTx{}

// closeChunk bounds the rows of one bulk statement.
const closeChunk = 20000

// inCloseTx runs fn in one transaction with InTx's retries.
func (b sqliteBulk) inCloseTx(ctx context.Context, fn func(ctx context.Context, tx batch.CloseTx) error) error {
	return b.db.InTx(ctx, func(ctx context.Context, t enrollment.Tx) error {
		return fn(ctx, sqliteCloseTx{t.(*tx)})
	})
}

// lockedContractRow is a contract row with its hold's columns (NULL when
// the contract has none or it is missing), whether the month's charge is
// recorded and its lines since the previous month ("YYYY-MM kind", comma
// separated).
type lockedContractRow struct {
	schema.Contract `bun:",extend"`

	HID       *uuid.UUID   `bun:"h_id"`
	HCert     *uuid.UUID   `bun:"h_certificate_id"`
	HStart    *schema.Date `bun:"h_period_start"`
	HAmount   *int64       `bun:"h_amount"`
	HCharged  *int64       `bun:"h_charged"`
	HReleased *int64       `bun:"h_released"`
	HRefunded *int64       `bun:"h_refunded"`
	Charged   *int64       `bun:"x_charged"`
	Lines     *string      `bun:"x_lines"`
}

// LockContracts reads the page, its holds, charges and lines in one
// statement (one writer: reading them is locking them).
func (t sqliteCloseTx) LockContracts(ctx context.Context, statuses []enrollment.Status, after, through uuid.UUID, limit int, m funding.Month) ([]batch.LockedContract, error) {
	if len(statuses) == 0 || limit <= 0 {
		return nil, nil
	}
	ss := make([]string, len(statuses))
	for i, s := range statuses {
		ss[i] = string(s)
	}
	rows := make([]lockedContractRow, 0, min(limit, closeChunk))
	err := t.tx.tx.NewRaw(`SELECT c.*, h.id AS h_id, h.certificate_id AS h_certificate_id, h.period_start AS h_period_start,
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
		out[i].Contract = r.Contract.Domain()
		if r.HID != nil {
			h := schema.Hold{
				ID: *r.HID, CertificateID: deref(r.HCert), PeriodStart: deref(r.HStart), Amount: deref(r.HAmount),
				Charged: deref(r.HCharged), Released: deref(r.HReleased), Refunded: deref(r.HRefunded),
			}
			out[i].Hold = h.Domain()
		}
		out[i].Charged = r.Charged != nil
		if r.Lines != nil {
			for l := range strings.SplitSeq(*r.Lines, ",") {
				k, err := schema.ParseLineKey(l)
				if err != nil {
					return nil, err
				}
				out[i].Lines = append(out[i].Lines, k)
			}
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

var chargeCols = []string{"contract_id", "month", "amount", "hold_id", "certificate_id", "period_start", "period_end", "id", "at", "actor", "rule", "params"}

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
	params, err := schema.ParamsJSON(p.Params)
	if err != nil && w.err == nil {
		w.err = err
	}
	w.text(params)
}

// ClosePage writes the charges in three statements, the lines in two; a
// charge or line recorded already fails the page.
func (t sqliteCloseTx) ClosePage(ctx context.Context, ps []enrollment.PostingRecord, ls []enrollment.InvoiceLine) error {
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
func (t sqliteCloseTx) applyCharges(ctx context.Context, ps []enrollment.PostingRecord) (map[uuid.UUID]bool, error) {
	recorded := make(map[uuid.UUID]bool, len(ps))
	for _, part := range chunkOf(ps, closeChunk) {
		w := t.bulk(chargeCols, len(part), func(w *bulkWriter, i int) { writeCharge(w, &part[i]) })
		if w.err != nil {
			return nil, w.err
		}
		if err := t.applyChunk(ctx, part, w, recorded); err != nil {
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

// applyChunk applies a chunk of charges, all written by all, in three
// statements (SQLite has no data-modifying common table expressions):
// record, holds, postings. The accounts are not touched: a charge moves
// money from reserved to spent, both derived from the holds
// (schema.AccountSelect).
func (t sqliteCloseTx) applyChunk(ctx context.Context, part []enrollment.PostingRecord, all *bulkWriter, out map[uuid.UUID]bool) error {
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
	q, err := t.updateSQL("holds", []string{"id", "amount", "certificate_id", "period_start"}, len(news),
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
	w := t.bulk(chargeCols, len(news), func(w *bulkWriter, i int) { writeCharge(w, &news[i]) })
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
func (t sqliteCloseTx) execCovered(ctx context.Context, q string, n int, what string) error {
	res, err := t.tx.tx.ExecContext(ctx, q)
	if err != nil {
		return t.write(err, what)
	}
	got, err := res.RowsAffected()
	if err != nil {
		return t.write(err, what)
	}
	if got != int64(n) {
		return fmt.Errorf("%w: %s: %d of %d rows", schema.ErrUncovered, what, got, n)
	}
	return nil
}

// addInvoiceLines adds the lines not added yet, and exactly those to their
// invoices; it returns how many it added.
func (t sqliteCloseTx) addInvoiceLines(ctx context.Context, ls []enrollment.InvoiceLine) (int, error) {
	added := 0
	sums := map[schema.InvoiceKey]*schema.Invoice{}
	var keys []schema.InvoiceKey
	for _, part := range chunkOf(ls, closeChunk) {
		q, err := t.insertSQL("invoice_lines", []string{"contract_id", "month", "kind", "scheme", "municipality", "provider_id", "amount"},
			len(part), func(w *bulkWriter, i int) {
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
		rows, err := t.tx.tx.QueryContext(ctx, q)
		if err != nil {
			return added, t.write(err, "add invoice lines")
		}
		for rows.Next() {
			var k schema.InvoiceKey
			var amount int64
			if err := rows.Scan(&k.Scheme, &k.Municipality, &k.Provider, &k.Month, &k.Kind, &amount); err != nil {
				_ = rows.Close()
				return added, t.write(err, "add invoice lines")
			}
			r := sums[k]
			if r == nil {
				r = &schema.Invoice{}
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
	slices.SortFunc(keys, schema.CompareInvoiceKeys)
	for _, part := range chunkOf(keys, closeChunk) {
		q, err := t.insertSQL("invoices", []string{"scheme", "municipality", "provider_id", "month", "kind", "amount", "lines"},
			len(part), func(w *bulkWriter, i int) {
				k := part[i]
				r := sums[k]
				w.text(k.Scheme)
				w.text(k.Municipality)
				w.uuid(k.Provider)
				w.text(k.Month)
				w.text(k.Kind)
				w.int(r.Amount)
				w.int(int64(r.Lines))
			}, " ON CONFLICT (scheme, municipality, provider_id, month, kind) DO UPDATE SET "+
				"amount = invoices.amount + EXCLUDED.amount, lines = invoices.lines + EXCLUDED.lines")
		if err != nil {
			return added, err
		}
		if _, err := t.tx.tx.ExecContext(ctx, q); err != nil {
			return added, t.write(err, "add invoices")
		}
	}
	return added, nil
}

// queryScan runs a query whose one column scans into dest's elements.
func (t sqliteCloseTx) queryScan(ctx context.Context, query string, dest *[]uuid.UUID) error {
	rows, err := t.tx.tx.QueryContext(ctx, query)
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
