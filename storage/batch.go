package storage

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/enrollment/batch"
	"github.com/edufund/edufund/storage/internal/schema"
)

// The batch of submissions on SQLite (batch.Tx): bun statements, one per
// table, for the whole batch. SQLite has one writer in process, so nothing
// needs a lock and an optimistic batch would gain nothing.

// sqliteBatchTx is batch.Tx over one of the store's transactions.
type sqliteBatchTx struct {
	*tx
}

var _ batch.Tx = sqliteBatchTx{}

// inBatchTx runs fn in one transaction with InTx's retries.
func (b sqliteBulk) inBatchTx(ctx context.Context, fn func(ctx context.Context, tx batch.Tx) error) error {
	return b.db.InTx(ctx, func(ctx context.Context, t enrollment.Tx) error {
		return fn(ctx, sqliteBatchTx{t.(*tx)})
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

func (t sqliteBatchTx) ClaimKeys(ctx context.Context, recs []enrollment.IdempotencyRecord) ([]string, error) {
	var claimed []string
	now := schema.Time(time.Now())
	err := chunked(recs, func(recs []enrollment.IdempotencyRecord) error {
		rows := make([]schema.Idempotency, len(recs))
		for i, r := range recs {
			rows[i] = schema.Idempotency{Key: r.Key, Operation: r.Operation, RequestHash: r.RequestHash, CreatedAt: now}
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

func (t sqliteBatchTx) IdempotencyRecords(ctx context.Context, keys []string) ([]enrollment.IdempotencyRecord, error) {
	var out []enrollment.IdempotencyRecord
	err := chunked(keys, func(keys []string) error {
		var rows []schema.Idempotency
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

// offersSQL selects the groups IN (?) with their module, program,
// provider and the provider's agreements, one row per agreement.
var offersSQL = sync.OnceValue(func() string {
	return `SELECT ` + schema.OfferColumns() + ` FROM study_groups g
		JOIN modules m ON m.id = g.module_id
		JOIN programs p ON p.id = m.program_id
		JOIN providers v ON v.id = p.provider_id
		LEFT JOIN agreements ag ON ag.provider_id = v.id
		WHERE g.id IN (?)`
})

// Prefetch reads a batch's rows, one statement per table (one writer:
// nothing needs a lock).
func (t sqliteBatchTx) Prefetch(ctx context.Context, certIDs, groupIDs []uuid.UUID) (batch.Rows, error) {
	var out batch.Rows
	if len(certIDs) > batchChunk || len(groupIDs) > batchChunk {
		return out, fmt.Errorf("storage: batch of %d certificates, %d groups: at most %d", len(certIDs), len(groupIDs), batchChunk)
	}
	var (
		certs  []schema.Certificate
		accts  []schema.Account
		cons   []schema.Contract
		offers []schema.Offer
	)
	{
		db := t.tx.tx
		if err := db.NewSelect().Model(&certs).Where("id IN (?)", bun.In(certIDs)).OrderExpr("id").Scan(ctx); err != nil {
			return out, t.read(err, "certificates", len(certIDs))
		}
		// One writer: the accounts and their holds are read in one state.
		if err := db.NewRaw(`SELECT `+schema.AccountSelect+` FROM `+schema.AccountFrom+` WHERE a.certificate_id IN (?) ORDER BY a.certificate_id, a.period_start`,
			bun.In(certIDs)).Scan(ctx, &accts); err != nil {
			return out, t.read(err, "accounts", len(certIDs))
		}
		if err := schema.Unsettled(accts); err != nil {
			return out, err
		}
		if err := db.NewSelect().Model(&cons).Where("certificate_id IN (?)", bun.In(certIDs)).Scan(ctx); err != nil {
			return out, t.read(err, "contracts", len(certIDs))
		}
		if err := db.NewRaw(offersSQL()+" ORDER BY g.id, ag.period_start, ag.municipality", bun.In(groupIDs)).Scan(ctx, &offers); err != nil {
			return out, t.read(err, "offers", len(groupIDs))
		}
	}
	for i := range certs {
		out.Certificates = append(out.Certificates, certs[i].Domain())
	}
	for i := range accts {
		out.Accounts = append(out.Accounts, accts[i].Domain())
	}
	for i := range cons {
		out.Contracts = append(out.Contracts, cons[i].Domain())
	}
	out.Offers = schema.JoinOffers(offers)
	return out, nil
}

// LockCounters reads the counters of keys and read in one statement (one
// writer: reading them is locking them).
func (t sqliteBatchTx) LockCounters(ctx context.Context, keys, read []string) ([]enrollment.Counter, error) {
	all, err := counterKeys(keys, read)
	if len(all) == 0 || err != nil {
		return nil, err
	}
	var rows []schema.Counter
	if err := t.tx.tx.NewSelect().Model(&rows).Where("key IN (?)", bun.In(all)).Scan(ctx); err != nil {
		return nil, t.read(err, "counters", len(all))
	}
	out := make([]enrollment.Counter, len(rows))
	for i, r := range rows {
		out[i] = enrollment.Counter{Key: r.Key, Used: r.Used, Limit: r.Lim}
	}
	return out, nil
}

// counterKeys bounds the counters a batch locks and reads: at most
// 4*batchChunk in all, which it returns.
func counterKeys(keys, read []string) ([]string, error) {
	if n := len(keys) + len(read); n > 4*batchChunk {
		return nil, fmt.Errorf("storage: lock counters: %d keys in one batch", n)
	}
	return append(append([]string{}, keys...), read...), nil
}

// guardSQL is the conditional update of one guarded counter.
func guardSQL(db bun.IDB, g batch.CounterGuard) string {
	q := db.NewUpdate().Model((*schema.Counter)(nil)).
		Set("used = used + ?", g.Add).
		Where("key = ?", g.Key).Where("used + ? <= lim", g.Add+g.Room)
	if g.Exact {
		q = q.Where("used = ?", g.Used).Where("lim = ?", g.Limit)
	}
	return q.String()
}

// ApplyBatch writes a batch's effects: one statement per table, then each
// guard.
func (t sqliteBatchTx) ApplyBatch(ctx context.Context, w batch.Write) error {
	qs, err := t.batchWrites(w)
	if err != nil {
		return err
	}
	for _, q := range qs {
		if _, err := t.tx.tx.ExecContext(ctx, q); err != nil {
			return t.write(err, "apply batch")
		}
	}
	for _, g := range w.Guards {
		res, err := t.tx.tx.ExecContext(ctx, guardSQL(t.tx.tx, g))
		if err != nil {
			return t.write(err, "apply batch")
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			return fmt.Errorf("storage: apply batch: counter %q changed: %w", g.Key, batch.ErrStale)
		}
	}
	return nil
}

// batchRowSet is a batch's writes as rows of the tables.
type batchRowSet struct {
	contracts []*schema.Contract
	holds     []*schema.Hold
	postings  []*schema.Posting
	accounts  []*schema.Account
	counters  []*schema.Counter // Used is the delta
	results   []*schema.Idempotency
	release   []string
}

func batchRows(w batch.Write) (*batchRowSet, error) {
	rs := &batchRowSet{release: w.Release}
	for _, c := range w.Contracts {
		r, err := schema.FromContract(c)
		if err != nil {
			return nil, err
		}
		rs.contracts = append(rs.contracts, r)
	}
	for _, h := range w.Holds {
		r, err := schema.FromHold(h.CertificateID, h.Period, h.Hold)
		if err != nil {
			return nil, err
		}
		rs.holds = append(rs.holds, r)
	}
	for _, p := range w.Postings {
		r, err := schema.FromPosting(p)
		if err != nil {
			return nil, err
		}
		rs.postings = append(rs.postings, r)
	}
	for _, a := range w.Accounts {
		r, err := schema.FromAccount(a)
		if err != nil {
			return nil, err
		}
		rs.accounts = append(rs.accounts, r)
	}
	for _, c := range w.Counters {
		if c.Add < 0 || c.Add > c.Limit {
			return nil, fmt.Errorf("storage: batch counter %q: add %d past limit %d", c.Key, c.Add, c.Limit)
		}
		// The proposed row carries the delta; an existing row adds it
		// (the CHECK used <= lim is the backstop).
		rs.counters = append(rs.counters, &schema.Counter{Key: c.Key, Used: c.Add, Lim: c.Limit})
	}
	if len(w.Results) > 0 {
		now := schema.Time(time.Now())
		for _, r := range w.Results {
			res := r.Result
			if res == nil {
				res = []byte{}
			}
			rs.results = append(rs.results, &schema.Idempotency{Key: r.Key, Operation: r.Operation, RequestHash: r.RequestHash, Result: res, CreatedAt: now})
		}
	}
	return rs, nil
}

// batchWrites renders the statements of a batch's writes.
func (t sqliteBatchTx) batchWrites(w batch.Write) ([]string, error) {
	db := t.tx.tx
	rs, err := batchRows(w)
	if err != nil {
		return nil, err
	}
	var qs []string
	for _, part := range chunkOf(rs.contracts, batchChunk) {
		qs = append(qs, db.NewInsert().Model(&part).String())
	}
	for _, part := range chunkOf(rs.holds, batchChunk) {
		qs = append(qs, db.NewInsert().Model(&part).On("CONFLICT (id) DO UPDATE").
			Set("amount = EXCLUDED.amount").Set("charged = EXCLUDED.charged").
			Set("released = EXCLUDED.released").Set("refunded = EXCLUDED.refunded").String())
	}
	for _, part := range chunkOf(rs.postings, batchChunk) {
		qs = append(qs, db.NewInsert().Model(&part).String())
	}
	for _, part := range chunkOf(rs.accounts, batchChunk) {
		qs = append(qs, db.NewInsert().Model(&part).On("CONFLICT (certificate_id, period_start) DO UPDATE").String())
	}
	for _, part := range chunkOf(rs.counters, batchChunk) {
		qs = append(qs, db.NewInsert().Model(&part).On("CONFLICT (key) DO UPDATE").
			Set("used = ?TableAlias.used + EXCLUDED.used").String())
	}
	for _, part := range chunkOf(rs.results, batchChunk) {
		qs = append(qs, db.NewInsert().Model(&part).On("CONFLICT (key) DO UPDATE").
			Set("result = EXCLUDED.result").String())
	}
	for _, part := range chunkOf(rs.release, batchChunk) {
		qs = append(qs, db.NewDelete().Model((*schema.Idempotency)(nil)).Where("key IN (?)", bun.In(part)).String())
	}
	return qs, nil
}
