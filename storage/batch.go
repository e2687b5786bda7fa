package storage

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/enrollment"
)

// batchTx is enrollment.BatchTx: the bulk reads and writes of a batch of
// submissions, a handful of statements for the whole batch.
type batchTx struct {
	*tx
}

var (
	_ enrollment.BatchStore = (*DB)(nil)
	_ enrollment.BatchTx    = batchTx{}
)

// InBatchTx runs fn in one transaction with InTx's retries.
func (db *DB) InBatchTx(ctx context.Context, fn func(ctx context.Context, tx enrollment.BatchTx) error) error {
	return db.InTx(ctx, func(ctx context.Context, t enrollment.Tx) error {
		return fn(ctx, batchTx{t.(*tx)})
	})
}

// batchChunk bounds the rows of one statement; bun interpolates the values
// into the text, so this only keeps statements of a reasonable size.
const batchChunk = 500

func chunked[T any](xs []T, fn func([]T) error) error {
	for len(xs) > 0 {
		n := min(len(xs), batchChunk)
		if err := fn(xs[:n]); err != nil {
			return err
		}
		xs = xs[n:]
	}
	return nil
}

func (t batchTx) ClaimKeys(ctx context.Context, recs []enrollment.IdempotencyRecord) ([]string, error) {
	var claimed []string
	now := dbTime(time.Now())
	err := chunked(recs, func(recs []enrollment.IdempotencyRecord) error {
		rows := make([]idempotencyRow, len(recs))
		for i, r := range recs {
			rows[i] = idempotencyRow{Key: r.Key, Operation: r.Operation, RequestHash: r.RequestHash, CreatedAt: now}
		}
		var keys []string
		err := t.tx.tx.NewInsert().Model(&rows).On("CONFLICT (key) DO NOTHING").Returning("key").Scan(ctx, &keys)
		if err != nil {
			return t.write(err, "claim keys")
		}
		claimed = append(claimed, keys...)
		return nil
	})
	return claimed, err
}

func (t batchTx) IdempotencyRecords(ctx context.Context, keys []string) ([]enrollment.IdempotencyRecord, error) {
	var out []enrollment.IdempotencyRecord
	err := chunked(keys, func(keys []string) error {
		var rows []idempotencyRow
		if err := t.tx.tx.NewSelect().Model(&rows).Where("key IN (?)", bun.In(keys)).Scan(ctx); err != nil {
			return t.read(err, "idempotency keys", len(keys))
		}
		for _, r := range rows {
			out = append(out, enrollment.IdempotencyRecord{Key: r.Key, Operation: r.Operation, RequestHash: r.RequestHash, Result: r.Result})
		}
		return nil
	})
	return out, err
}

func (t batchTx) LockCertificates(ctx context.Context, ids []uuid.UUID) ([]certificate.Certificate, error) {
	var out []certificate.Certificate
	err := chunked(ids, func(ids []uuid.UUID) error {
		var rows []certificateRow
		q := t.tx.tx.NewSelect().Model(&rows).Where("id IN (?)", bun.In(ids)).OrderExpr("id")
		if err := t.forUpdate(q).Scan(ctx); err != nil {
			return t.read(err, "certificates", len(ids))
		}
		for i := range rows {
			out = append(out, rows[i].domain())
		}
		return nil
	})
	return out, err
}

// offerJoin is one row of the offers query: a group with its module,
// program, provider and one of the provider's agreements (if any).
type offerJoin struct {
	G       groupRow    `bun:"embed:g_"`
	M       moduleRow   `bun:"embed:m_"`
	P       programRow  `bun:"embed:p_"`
	V       providerRow `bun:"embed:v_"`
	AgMun   *string     `bun:"ag_municipality"`
	AgStart dbDate      `bun:"ag_period_start"`
	AgEnd   dbDate      `bun:"ag_period_end"`
}

var (
	offerColsOnce sync.Once
	offerCols     string
)

// offerColumns lists every column of the four tables, prefixed as offerJoin embeds them.
func (t batchTx) offerColumns() string {
	offerColsOnce.Do(func() {
		var cols []string
		for _, x := range []struct {
			alias string
			typ   reflect.Type
		}{
			{"g", reflect.TypeFor[groupRow]()}, {"m", reflect.TypeFor[moduleRow]()},
			{"p", reflect.TypeFor[programRow]()}, {"v", reflect.TypeFor[providerRow]()},
		} {
			for _, f := range t.db.bun.Table(x.typ).Fields {
				cols = append(cols, x.alias+"."+f.Name+" AS "+x.alias+"_"+f.Name)
			}
		}
		cols = append(cols, "ag.municipality AS ag_municipality", "ag.period_start AS ag_period_start", "ag.period_end AS ag_period_end")
		offerCols = strings.Join(cols, ", ")
	})
	return offerCols
}

// Offers reads the groups with their module, program, provider and the
// provider's agreements in one statement.
func (t batchTx) Offers(ctx context.Context, groupIDs []uuid.UUID) ([]enrollment.Offer, error) {
	var out []enrollment.Offer
	err := chunked(groupIDs, func(ids []uuid.UUID) error {
		var rows []offerJoin
		err := t.tx.tx.NewRaw(`SELECT `+t.offerColumns()+` FROM study_groups g
			JOIN modules m ON m.id = g.module_id
			JOIN programs p ON p.id = m.program_id
			JOIN providers v ON v.id = p.provider_id
			LEFT JOIN agreements ag ON ag.provider_id = v.id
			WHERE g.id IN (?) ORDER BY g.id, ag.period_start, ag.municipality`, bun.In(ids)).Scan(ctx, &rows)
		if err != nil {
			return t.read(err, "offers", len(ids))
		}
		for i := 0; i < len(rows); {
			j := i
			var ags []agreementRow
			for ; j < len(rows) && rows[j].G.ID == rows[i].G.ID; j++ {
				if rows[j].AgMun != nil {
					ags = append(ags, agreementRow{ProviderID: rows[j].V.ID, Municipality: *rows[j].AgMun, PeriodStart: rows[j].AgStart, PeriodEnd: rows[j].AgEnd})
				}
			}
			r := &rows[i]
			out = append(out, enrollment.Offer{Group: r.G.domain(), Module: r.M.domain(), Program: r.P.domain(), Provider: r.V.domain(ags)})
			i = j
		}
		return nil
	})
	return out, err
}

func (t batchTx) LockAccounts(ctx context.Context, certIDs []uuid.UUID) ([]enrollment.AccountState, error) {
	var out []enrollment.AccountState
	err := chunked(certIDs, func(ids []uuid.UUID) error {
		var rows []accountRow
		q := t.tx.tx.NewSelect().Model(&rows).Where("certificate_id IN (?)", bun.In(ids)).OrderExpr("certificate_id, period_start")
		if err := t.forUpdate(q).Scan(ctx); err != nil {
			return t.read(err, "accounts", len(ids))
		}
		for i := range rows {
			out = append(out, rows[i].domain())
		}
		return nil
	})
	return out, err
}

func (t batchTx) ContractsOf(ctx context.Context, certIDs []uuid.UUID) ([]enrollment.Contract, error) {
	var out []enrollment.Contract
	err := chunked(certIDs, func(ids []uuid.UUID) error {
		var rows []contractRow
		if err := t.tx.tx.NewSelect().Model(&rows).Where("certificate_id IN (?)", bun.In(ids)).Scan(ctx); err != nil {
			return t.read(err, "contracts", len(ids))
		}
		for i := range rows {
			out = append(out, rows[i].domain())
		}
		return nil
	})
	return out, err
}

// LockCounters locks in the order of keys: ORDER BY the key's position in
// the list on PostgreSQL (LockRows sits above the sort, so rows are locked
// in that order); SQLite has a single writer.
func (t batchTx) LockCounters(ctx context.Context, keys []string) ([]enrollment.Counter, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	if len(keys) > 4*batchChunk {
		return nil, fmt.Errorf("storage: lock counters: %d keys in one batch", len(keys))
	}
	var rows []counterRow
	q := t.tx.tx.NewSelect().Model(&rows).Where("key IN (?)", bun.In(keys))
	if t.pg() {
		q = q.OrderExpr("array_position(?::text[], key)", pgdialect.Array(keys)).For("UPDATE")
	}
	if err := q.Scan(ctx); err != nil {
		return nil, t.read(err, "counters", len(keys))
	}
	out := make([]enrollment.Counter, len(rows))
	for i, r := range rows {
		out[i] = enrollment.Counter{Key: r.Key, Used: r.Used, Limit: r.Lim}
	}
	return out, nil
}

// ApplyBatch writes a batch's effects. On PostgreSQL it is one statement,
// the writes chained as data-modifying CTEs, so that the hot counters'
// locks are held for one round trip and the commit; on SQLite (in process)
// one statement per table.
func (t batchTx) ApplyBatch(ctx context.Context, w enrollment.BatchWrite) error {
	qs, err := t.batchWrites(w)
	if err != nil {
		return err
	}
	if len(qs) == 0 {
		return nil
	}
	if t.pg() {
		var b strings.Builder
		b.WriteString("WITH ")
		for i, q := range qs {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "w%d AS (%s)", i, q)
		}
		b.WriteString(" SELECT 1")
		_, err := t.tx.tx.ExecContext(ctx, b.String())
		return t.write(err, "apply batch")
	}
	for _, q := range qs {
		if _, err := t.tx.tx.ExecContext(ctx, q); err != nil {
			return t.write(err, "apply batch")
		}
	}
	return nil
}

// batchWrites renders the statements of a batch's writes.
func (t batchTx) batchWrites(w enrollment.BatchWrite) ([]string, error) {
	db := t.tx.tx
	var qs []string
	if len(w.Contracts) > 0 {
		rows := make([]*contractRow, len(w.Contracts))
		for i, c := range w.Contracts {
			r, err := toContractRow(c)
			if err != nil {
				return nil, err
			}
			rows[i] = r
		}
		for _, part := range split(rows) {
			qs = append(qs, db.NewInsert().Model(&part).String())
		}
	}
	if len(w.Holds) > 0 {
		rows := make([]*holdRow, len(w.Holds))
		for i, h := range w.Holds {
			r, err := toHoldRow(h.CertificateID, h.Period, h.Hold)
			if err != nil {
				return nil, err
			}
			rows[i] = r
		}
		for _, part := range split(rows) {
			qs = append(qs, db.NewInsert().Model(&part).On("CONFLICT (id) DO UPDATE").
				Set("amount = EXCLUDED.amount").Set("charged = EXCLUDED.charged").
				Set("released = EXCLUDED.released").Set("refunded = EXCLUDED.refunded").String())
		}
	}
	if len(w.Postings) > 0 {
		rows := make([]*postingRow, len(w.Postings))
		for i, p := range w.Postings {
			r, err := toPostingRow(p)
			if err != nil {
				return nil, err
			}
			rows[i] = r
		}
		for _, part := range split(rows) {
			qs = append(qs, db.NewInsert().Model(&part).String())
		}
	}
	if len(w.Accounts) > 0 {
		rows := make([]*accountRow, len(w.Accounts))
		for i, a := range w.Accounts {
			r, err := toAccountRow(a)
			if err != nil {
				return nil, err
			}
			rows[i] = r
		}
		for _, part := range split(rows) {
			qs = append(qs, db.NewInsert().Model(&part).On("CONFLICT (certificate_id, period_start) DO UPDATE").String())
		}
	}
	if len(w.Counters) > 0 {
		rows := make([]*counterRow, len(w.Counters))
		for i, c := range w.Counters {
			if c.Add < 0 || c.Add > c.Limit {
				return nil, fmt.Errorf("storage: batch counter %q: add %d past limit %d", c.Key, c.Add, c.Limit)
			}
			rows[i] = &counterRow{Key: c.Key, Used: c.Add, Lim: c.Limit}
		}
		// The proposed row carries the delta; an existing row adds it
		// (the CHECK used <= lim is the backstop).
		for _, part := range split(rows) {
			qs = append(qs, db.NewInsert().Model(&part).On("CONFLICT (key) DO UPDATE").
				Set("used = ?TableAlias.used + EXCLUDED.used").String())
		}
	}
	if len(w.Results) > 0 {
		now := dbTime(time.Now())
		rows := make([]*idempotencyRow, len(w.Results))
		for i, r := range w.Results {
			res := r.Result
			if res == nil {
				res = []byte{}
			}
			rows[i] = &idempotencyRow{Key: r.Key, Operation: r.Operation, RequestHash: r.RequestHash, Result: res, CreatedAt: now}
		}
		for _, part := range split(rows) {
			qs = append(qs, db.NewInsert().Model(&part).On("CONFLICT (key) DO UPDATE").
				Set("result = EXCLUDED.result").String())
		}
	}
	for _, part := range split(w.Release) {
		qs = append(qs, db.NewDelete().Model((*idempotencyRow)(nil)).Where("key IN (?)", bun.In(part)).String())
	}
	return qs, nil
}

func split[T any](xs []T) [][]T {
	var out [][]T
	for len(xs) > 0 {
		n := min(len(xs), batchChunk)
		out = append(out, xs[:n])
		xs = xs[n:]
	}
	return out
}
