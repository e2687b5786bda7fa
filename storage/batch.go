package storage

import (
	"context"
	"fmt"
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

func (t sqliteBatchTx) ClaimKeys(ctx context.Context, recs []enrollment.IdempotencyRecord) ([]string, error) {
	var claimed []string
	for _, part := range chunkOf(schema.Claims(recs, time.Now()), batchChunk) {
		var keys []string
		err := t.tx.tx.NewInsert().Model(&part).On("CONFLICT (key) DO NOTHING").Returning("key").Scan(ctx, &keys)
		if err != nil {
			return claimed, t.write(err, "claim keys")
		}
		claimed = append(claimed, keys...)
	}
	return claimed, nil
}

func (t sqliteBatchTx) IdempotencyRecords(ctx context.Context, keys []string) ([]enrollment.IdempotencyRecord, error) {
	var out []enrollment.IdempotencyRecord
	for _, part := range chunkOf(keys, batchChunk) {
		var rows []schema.IdempotencyKey
		if err := t.tx.tx.NewSelect().Model(&rows).Where("key IN (?)", bun.In(part)).Scan(ctx); err != nil {
			return out, t.read(err, "idempotency keys", len(part))
		}
		for i := range rows {
			out = append(out, rows[i].Domain())
		}
	}
	return out, nil
}

// offersSQL selects the groups IN (?) with their module, program,
// provider and the provider's agreements, one row per agreement.
var offersSQL = `SELECT ` + schema.OfferColumns + schema.OfferFrom + ` WHERE g.id IN (?)`

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
	if err := db.NewRaw(offersSQL+" ORDER BY g.id, ag.period_start, ag.municipality", bun.In(groupIDs)).Scan(ctx, &offers); err != nil {
		return out, t.read(err, "offers", len(groupIDs))
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

// batchWrites renders the statements of a batch's writes.
func (t sqliteBatchTx) batchWrites(w batch.Write) ([]string, error) {
	db := t.tx.tx
	rs, err := schema.WritesOf(w)
	if err != nil {
		return nil, err
	}
	var qs []string
	for _, part := range chunkOf(rs.Contracts, batchChunk) {
		qs = append(qs, db.NewInsert().Model(&part).String())
	}
	for _, part := range chunkOf(rs.Holds, batchChunk) {
		qs = append(qs, db.NewInsert().Model(&part).On("CONFLICT (id) DO UPDATE").Set(schema.HoldUpdate).String())
	}
	for _, part := range chunkOf(rs.Postings, batchChunk) {
		qs = append(qs, db.NewInsert().Model(&part).String())
	}
	for _, part := range chunkOf(rs.Events, batchChunk) {
		qs = append(qs, db.NewInsert().Model(&part).String())
	}
	for _, part := range chunkOf(rs.Accounts, batchChunk) {
		qs = append(qs, db.NewInsert().Model(&part).On("CONFLICT (certificate_id, period_start) DO UPDATE").String())
	}
	for _, part := range chunkOf(rs.Counters, batchChunk) {
		qs = append(qs, db.NewInsert().Model(&part).On("CONFLICT (key) DO UPDATE").
			Set("used = ?TableAlias.used + EXCLUDED.used").String())
	}
	for _, part := range chunkOf(rs.Results, batchChunk) {
		qs = append(qs, db.NewInsert().Model(&part).On("CONFLICT (key) DO UPDATE").
			Set("result = EXCLUDED.result").String())
	}
	for _, part := range chunkOf(rs.Release, batchChunk) {
		qs = append(qs, db.NewDelete().Model((*schema.IdempotencyKey)(nil)).Where("key IN (?)", bun.In(part)).String())
	}
	return qs, nil
}
