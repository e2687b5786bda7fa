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

// The batched monthly close in plain statements (batch.CloseTx): SQLite's,
// and PostgreSQL's in the portable profile (WithPortable). Bulk statements
// of at most closeChunk rows, with the values inlined (bun sends no
// parameters anyway) by bulkWriter as a VALUES list, in a common table
// expression for UPDATE … FROM (SQLite ≥ 3.33), rather than by bun's
// reflection, several times slower on a million rows. On PostgreSQL the
// list's columns are cast to their types (typedCTE), the page's contracts
// are locked, and the lines are aggregated with string_agg.

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

// lockedContractRow is a contract row with its hold's (zero when the
// contract has none or it is missing), whether the month's charge is
// recorded and its lines of the previous month and the month ("YYYY-MM
// kind", comma separated).
type lockedContractRow struct {
	schema.Contract `bun:",extend"`

	Hold    schema.Hold `bun:"embed:h_"`
	Charged *int64      `bun:"x_charged"`
	Lines   *string     `bun:"x_lines"`
}

// lockContractsSQL is the page's read with agg, the dialect's string
// aggregate, and lock, its row lock; with written, it reads the month's
// charge and lines too (batch.CloseTx.LockContracts).
func lockContractsSQL(agg, lock string, written bool) string {
	charged, lines := "NULL", "NULL"
	if written {
		charged = `(SELECT 1 FROM contract_charges x WHERE x.contract_id = c.id AND x.month = ?)`
		lines = `(SELECT ` + agg + `(l.month || ' ' || l.kind, ',') FROM invoice_lines l
		WHERE l.month IN (?, ?) AND l.provider_id = c.provider_id AND l.contract_id = c.id)`
	}
	return `SELECT ` + schema.Contracts.List("c") + `, ` + schema.Holds.Aliased("h") + `,
	` + charged + ` AS x_charged, ` + lines + ` AS x_lines
	FROM contracts c LEFT JOIN holds h ON h.id = c.hold_id
	WHERE c.status IN (?) AND c.id > ? AND c.id <= ? ORDER BY c.id LIMIT ?` + lock
}

// LockContracts reads the page, its holds, charges and lines in one
// statement.
func (t sqliteCloseTx) LockContracts(ctx context.Context, statuses []enrollment.Status, after, through uuid.UUID, limit int, m funding.Month, written bool) ([]batch.LockedContract, error) {
	if len(statuses) == 0 || limit <= 0 {
		return nil, nil
	}
	ss := make([]string, len(statuses))
	for i, s := range statuses {
		ss[i] = string(s)
	}
	rows := make([]lockedContractRow, 0, min(limit, closeChunk))
	// SQLite's one writer needs no lock; on PostgreSQL the contracts are
	// locked as the per-contract paths lock them, which keeps their holds
	// still too.
	agg, lock := "group_concat", ""
	if t.pg() {
		agg, lock = "string_agg", " FOR NO KEY UPDATE OF c"
	}
	args := []any{bun.In(ss), after, through, limit}
	if written {
		args = append([]any{m.String(), m.Prev().String(), m.String()}, args...)
	}
	err := t.tx.tx.NewRaw(lockContractsSQL(agg, lock, written), args...).Scan(ctx, &rows)
	if err != nil {
		return nil, t.read(err, "contracts after", after)
	}
	out := make([]batch.LockedContract, len(rows))
	for i := range rows {
		r := &rows[i]
		out[i].Contract = r.Contract.Domain()
		if r.Hold.ID != uuid.Nil {
			out[i].Hold = r.Hold.Domain()
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
		rows := make([]*schema.Posting, len(part))
		for i, p := range part {
			if p.Posting.Kind != funding.Charge {
				return nil, fmt.Errorf("storage: apply charges: posting %s is a %s", p.ID, p.Posting.Kind)
			}
			r, err := schema.FromPosting(p)
			if err != nil {
				return nil, err
			}
			rows[i] = r
		}
		if err := t.applyChunk(ctx, rows, recorded); err != nil {
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

// The statements of applyChunk, over d, the chunk's charges as rows of
// postings.
var (
	recordChargesSQL = ` INSERT INTO contract_charges (` + schema.ContractCharges.List("") + `) SELECT ` + schema.ContractCharges.List("d") +
		` FROM d WHERE true ON CONFLICT DO NOTHING RETURNING contract_id`
	appendPostingsSQL = ` INSERT INTO postings (` + schema.Postings.List("") + `) SELECT ` + schema.Postings.List("d") + ` FROM d`
)

// applyChunk applies a chunk of charges in three statements (SQLite has
// no data-modifying common table expressions): record, holds, postings.
// The accounts are not touched: a charge moves money from reserved to
// spent, both derived from the holds (schema.AccountSelect). It adds the
// contracts whose charges it recorded to out.
func (t sqliteCloseTx) applyChunk(ctx context.Context, part []*schema.Posting, out map[uuid.UUID]bool) error {
	d, err := t.typedCTE(schema.Postings, part)
	if err != nil {
		return err
	}
	var ids []uuid.UUID
	if err := t.queryScan(ctx, d+recordChargesSQL, &ids); err != nil {
		return t.write(err, "record charges")
	}
	if len(ids) == 0 {
		return nil
	}
	recorded := make(map[uuid.UUID]bool, len(ids))
	for _, id := range ids {
		recorded[id] = true
	}
	var news []*schema.Posting
	for _, p := range part {
		if recorded[uuid.UUID(p.ContractID)] {
			news = append(news, p)
		}
	}
	q, err := t.updateSQL("holds", []string{"id", "amount", "certificate_id", "period_start"}, len(news),
		func(w *bulkWriter, i int) {
			w.uuid(uuid.UUID(news[i].HoldID))
			w.int(news[i].Amount)
			w.uuid(news[i].CertificateID)
			w.date(funding.Date(news[i].PeriodStart))
		}, "charged = holds.charged + v.amount", t.holdsMatch())
	if err != nil {
		return err
	}
	if err := t.execCovered(ctx, q, len(news), "charge holds"); err != nil {
		return err
	}
	if d, err = t.typedCTE(schema.Postings, news); err != nil {
		return err
	}
	if err := t.execCovered(ctx, d+appendPostingsSQL, len(news), "append postings"); err != nil {
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
	lines := make([]*schema.InvoiceLine, len(ls))
	for i, l := range ls {
		r, err := schema.FromInvoiceLine(l)
		if err != nil {
			return 0, err
		}
		lines[i] = r
	}
	added := 0
	sums := map[schema.InvoiceKey]*schema.Invoice{}
	var keys []schema.InvoiceKey
	for _, part := range chunkOf(lines, closeChunk) {
		q, err := t.insertSQL(schema.InvoiceLines, part, " ON CONFLICT DO NOTHING RETURNING "+schema.InvoiceLines.List(""))
		if err != nil {
			return added, err
		}
		rows, err := t.tx.tx.QueryContext(ctx, q)
		if err != nil {
			return added, t.write(err, "add invoice lines")
		}
		for rows.Next() {
			var l schema.InvoiceLine
			if err := rows.Scan(schema.InvoiceLines.Dest(&l)...); err != nil {
				_ = rows.Close()
				return added, t.write(err, "add invoice lines")
			}
			k := l.Invoice()
			r := sums[k]
			if r == nil {
				r = &schema.Invoice{Scheme: l.Scheme, Municipality: l.Municipality, ProviderID: l.ProviderID, Month: l.Month, Kind: l.Kind}
				sums[k] = r
				keys = append(keys, k)
			}
			r.Amount += l.Amount
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
	invoices := make([]*schema.Invoice, len(keys))
	for i, k := range keys {
		invoices[i] = sums[k]
	}
	for _, part := range chunkOf(invoices, closeChunk) {
		q, err := t.insertSQL(schema.Invoices, part, " ON CONFLICT ("+strings.Join(schema.Invoices.Keys(), ", ")+") DO UPDATE SET "+
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

// typedCTE is valuesCTE with, on PostgreSQL, each column cast to its
// type: there a VALUES list of quoted literals is text, which neither
// compares with nor is assigned to a uuid, date or timestamptz column.
func (t sqliteCloseTx) typedCTE(tb *schema.Table, rows any) (string, error) {
	if !t.pg() {
		return t.valuesCTE(tb, rows)
	}
	w := t.rows(tb, rows)
	if w.err != nil {
		return "", w.err
	}
	cols := tb.List("")
	var b strings.Builder
	b.Grow(len(w.values) + 64*len(tb.Columns))
	b.WriteString("WITH d (" + cols + ") AS (SELECT ")
	for i, c := range tb.Columns {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("CAST(v." + c.Name + " AS " + c.Type + ")")
	}
	b.WriteString(" FROM (VALUES ")
	b.Write(w.values)
	b.WriteString(") AS v (" + cols + "))")
	return b.String(), nil
}

// holdsMatch is the condition of the charge of a hold by a row of v (id,
// amount, certificate_id, period_start), its text cast on PostgreSQL as
// in typedCTE.
func (t sqliteCloseTx) holdsMatch() string {
	id, cert, start := "v.id", "v.certificate_id", "v.period_start"
	if t.pg() {
		id, cert, start = "CAST(v.id AS uuid)", "CAST(v.certificate_id AS uuid)", "CAST(v.period_start AS date)"
	}
	return "holds.id = " + id + " AND holds.certificate_id = " + cert + " AND holds.period_start = " + start +
		" AND holds.amount - holds.charged - holds.released >= v.amount"
}
