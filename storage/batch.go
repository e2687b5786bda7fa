package storage

import (
	"context"
	"database/sql"
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/enrollment/batch"
	"github.com/edufund/edufund/storage/internal/schema"
)

// The batch of submissions in plain bun statements (batch.Tx), one per
// table, for the whole batch: SQLite's, and PostgreSQL's in the portable
// profile (WithPortable). SQLite has one writer in process, so nothing
// needs a lock and an optimistic batch would gain nothing; on PostgreSQL
// the certificates, accounts and counters are locked as the fast paths
// lock them (SELECT … FOR NO KEY UPDATE, which CockroachDB and YugabyteDB
// take too), so that concurrent batches queue on the row instead of
// failing to serialize.

// sqliteBatchTx is batch.Tx over one of the store's transactions.
type sqliteBatchTx struct {
	*tx
}

var _ batch.Tx = sqliteBatchTx{}

// inBatchTx runs fn in one transaction with InTx's retries.
// SQLite's statements met in it are prepared after it (lite.go).
func (b sqliteBulk) inBatchTx(ctx context.Context, fn func(ctx context.Context, tx batch.Tx) error) error {
	err := b.db.InTx(ctx, func(ctx context.Context, t enrollment.Tx) error {
		return fn(ctx, sqliteBatchTx{t.(*tx)})
	})
	if b.db.dialect == SQLite {
		b.db.lite.preparePending(context.WithoutCancel(ctx), b.db.bun.DB)
	}
	return err
}

// batchChunk bounds the rows of one statement; bun interpolates the values
// into the text, so this only keeps statements of a reasonable size.
const batchChunk = 500

func (t sqliteBatchTx) ClaimKeys(ctx context.Context, recs []enrollment.IdempotencyRecord) ([]string, error) {
	var claimed []string
	if !t.pg() {
		for _, part := range chunkOf(schema.Claims(recs, time.Now()), liteRowsPer(schema.Idempotency)) {
			args, err := liteArgs(schema.Idempotency, part, nil)
			if err != nil {
				return claimed, err
			}
			err = t.liteQuery(ctx, liteInsert(schema.Idempotency, len(part), " ON CONFLICT (key) DO NOTHING RETURNING key"), args, func(rows *sql.Rows) error {
				var k string
				err := rows.Scan(&k)
				claimed = append(claimed, k)
				return err
			})
			if err != nil {
				return claimed, t.write(err, "claim keys")
			}
		}
		return claimed, nil
	}
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
		if !t.pg() {
			err := t.liteQuery(ctx, "SELECT "+schema.Idempotency.List("")+" FROM idempotency WHERE key IN "+liteIn(len(part)), liteList(part), func(rows *sql.Rows) error {
				var r schema.IdempotencyKey
				err := rows.Scan(schema.Idempotency.Dest(&r)...)
				out = append(out, r.Domain())
				return err
			})
			if err != nil {
				return out, t.read(err, "idempotency keys", len(part))
			}
			continue
		}
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

// Prefetch reads a batch's rows, one statement per table, the
// certificates and accounts locked on PostgreSQL (SQLite's one writer
// needs no lock).
func (t sqliteBatchTx) Prefetch(ctx context.Context, certIDs, groupIDs []uuid.UUID) (batch.Rows, error) {
	var out batch.Rows
	if len(certIDs) > batchChunk || len(groupIDs) > batchChunk {
		return out, fmt.Errorf("storage: batch of %d certificates, %d groups: at most %d", len(certIDs), len(groupIDs), batchChunk)
	}
	if !t.pg() {
		return t.prefetchLite(ctx, certIDs, groupIDs)
	}
	var (
		certs  []schema.Certificate
		accts  []schema.Account
		cons   []schema.Contract
		offers []schema.Offer
	)
	db := t.tx.tx
	if err := t.forUpdate(db.NewSelect().Model(&certs).Where("id IN (?)", bun.In(certIDs)).OrderExpr("id")).Scan(ctx); err != nil {
		return out, t.read(err, "certificates", len(certIDs))
	}
	// One writer, or one serializable snapshot: the accounts and their
	// holds are read in one state.
	accountsSQL := schema.AccountRead(t.pg()) + ` WHERE a.certificate_id IN (?) ORDER BY a.certificate_id, a.period_start`
	if t.pg() {
		accountsSQL += ` FOR NO KEY UPDATE OF a`
	}
	if err := db.NewRaw(accountsSQL, bun.In(certIDs)).Scan(ctx, &accts); err != nil {
		return out, t.read(err, "accounts", len(certIDs))
	}
	for i := range accts {
		if err := accts[i].Check(); err != nil {
			return out, err
		}
	}
	// The contracts of schema.BatchContracts (batch.Rows.Contracts).
	if err := db.NewRaw("SELECT "+schema.Contracts.List("")+" FROM "+t.tx.liveContractsFrom()+" WHERE certificate_id IN (?) AND "+fmt.Sprintf(schema.BatchContracts, "IN (?)"),
		bun.In(certIDs), bun.In(groupIDs)).Scan(ctx, &cons); err != nil {
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

// LockCounters reads the counters of keys and read: on SQLite in one
// statement (one writer: reading them is locking them), on PostgreSQL
// those of keys locked in the order of keys, then those of read.
func (t sqliteBatchTx) LockCounters(ctx context.Context, keys, read []string) ([]enrollment.Counter, error) {
	all, err := counterKeys(keys, read)
	if len(all) == 0 || err != nil {
		return nil, err
	}
	if !t.pg() {
		return t.counters(ctx, all, false)
	}
	out, err := t.counters(ctx, keys, true)
	if err != nil {
		return nil, err
	}
	rest, err := t.counters(ctx, read, false)
	return append(out, rest...), err
}

// counters reads the counters of keys, locked in the order of keys if
// lock: the order (enrollment.SortCounterKeys) every path takes counters
// in, so that a batch and a single request cannot deadlock on them.
func (t sqliteBatchTx) counters(ctx context.Context, keys []string, lock bool) ([]enrollment.Counter, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	var rows []schema.Counter
	var err error
	switch {
	case !t.pg():
		err = t.liteQuery(ctx, "SELECT "+schema.Counters.List("")+" FROM counters WHERE key IN "+liteIn(len(keys)), liteList(keys), func(rs *sql.Rows) error {
			var r schema.Counter
			err := rs.Scan(schema.Counters.Dest(&r)...)
			rows = append(rows, r)
			return err
		})
	case lock:
		// Joined to the keys numbered, sorted by that number: the rows
		// are locked above the sort, in its order.
		order := make([]byte, 0, 10*len(keys))
		args := make([]any, 0, 2*len(keys))
		for i, k := range keys {
			if i > 0 {
				order = append(order, ", "...)
			}
			order = append(order, "(?, ?)"...)
			args = append(args, k, i)
		}
		err = t.tx.tx.NewRaw(`SELECT `+schema.Counters.List("c")+` FROM counters c JOIN (VALUES `+string(order)+`) AS o (key, n)
			ON c.key = o.key ORDER BY o.n FOR NO KEY UPDATE OF c`, args...).Scan(ctx, &rows)
	default:
		err = t.tx.tx.NewSelect().Model(&rows).Where("key IN (?)", bun.In(keys)).Scan(ctx)
	}
	if err != nil {
		return nil, t.read(err, "counters", len(keys))
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
	if !t.pg() {
		return t.applyLite(ctx, w)
	}
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

// applyLite is ApplyBatch on SQLite: the statements of batchWrites with
// their values as parameters, prepared once (lite.go).
func (t sqliteBatchTx) applyLite(ctx context.Context, w batch.Write) error {
	rs, err := schema.WritesOf(w)
	if err != nil {
		return err
	}
	for _, s := range []struct {
		tb     *schema.Table
		rows   any
		n      int
		suffix string
	}{
		{schema.Contracts, rs.Contracts, len(rs.Contracts), ""},
		{schema.Holds, rs.Holds, len(rs.Holds), " ON CONFLICT (id) DO UPDATE SET " + schema.HoldUpdate},
		{schema.Postings, rs.Postings, len(rs.Postings), ""},
		{schema.Events, rs.Events, len(rs.Events), ""},
		{schema.Accounts, rs.Accounts, len(rs.Accounts), " ON CONFLICT (certificate_id, period_start) DO UPDATE SET " + schema.Accounts.Set()},
		{schema.Counters, rs.Counters, len(rs.Counters), " ON CONFLICT (key) DO UPDATE SET used = counters.used + EXCLUDED.used"},
		{schema.Idempotency, rs.Results, len(rs.Results), " ON CONFLICT (key) DO UPDATE SET result = EXCLUDED.result"},
	} {
		per := liteRowsPer(s.tb)
		rv := reflect.ValueOf(s.rows)
		for start := 0; start < s.n; start += per {
			end := min(start+per, s.n)
			args, err := liteArgs(s.tb, rv.Slice(start, end).Interface(), make([]any, 0, (end-start)*len(s.tb.Columns)))
			if err != nil {
				return err
			}
			if _, err := t.liteExec(ctx, liteInsert(s.tb, end-start, s.suffix), args...); err != nil {
				return t.write(err, "apply batch")
			}
		}
	}
	for _, part := range chunkOf(rs.Release, batchChunk) {
		args := make([]any, len(part))
		for i, k := range part {
			args[i] = k
		}
		q := "DELETE FROM idempotency WHERE key IN (" + strings.Repeat("?, ", len(part)-1) + "?)"
		if _, err := t.liteExec(ctx, q, args...); err != nil {
			return t.write(err, "apply batch")
		}
	}
	for _, g := range w.Guards {
		q, args := "UPDATE counters SET used = used + ? WHERE key = ? AND used + ? <= lim", []any{g.Add, g.Key, g.Add + g.Room}
		if g.Exact {
			q, args = q+" AND used = ? AND lim = ?", append(args, g.Used, g.Limit)
		}
		res, err := t.liteExec(ctx, q, args...)
		if err != nil {
			return t.write(err, "apply batch")
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			return fmt.Errorf("storage: apply batch: counter %q changed: %w", g.Key, batch.ErrStale)
		}
	}
	return nil
}

// prefetchLite is Prefetch on SQLite, its statements prepared once
// (lite.go).
func (t sqliteBatchTx) prefetchLite(ctx context.Context, certIDs, groupIDs []uuid.UUID) (batch.Rows, error) {
	var out batch.Rows
	certs, groups := liteList(certIDs), liteList(groupIDs)
	err := t.liteQuery(ctx, "SELECT "+schema.Certificates.List("")+" FROM certificates WHERE id IN "+liteIn(len(certIDs))+" ORDER BY id", certs, func(rows *sql.Rows) error {
		var r schema.Certificate
		err := rows.Scan(schema.Certificates.Dest(&r)...)
		out.Certificates = append(out.Certificates, r.Domain())
		return err
	})
	if err != nil {
		return out, t.read(err, "certificates", len(certIDs))
	}
	err = t.liteQuery(ctx, schema.AccountRead(false)+" WHERE a.certificate_id IN "+liteIn(len(certIDs))+" ORDER BY a.certificate_id, a.period_start", certs, func(rows *sql.Rows) error {
		var r schema.Account
		if err := rows.Scan(schema.AccountDest(&r)...); err != nil {
			return err
		}
		if err := r.Check(); err != nil {
			return err
		}
		out.Accounts = append(out.Accounts, r.Domain())
		return nil
	})
	if err != nil {
		return out, t.read(err, "accounts", len(certIDs))
	}
	// The contracts of schema.BatchContracts (batch.Rows.Contracts).
	q := "SELECT " + schema.Contracts.List("") + " FROM " + t.tx.liveContractsFrom() + " WHERE certificate_id IN " + liteIn(len(certIDs)) +
		" AND " + fmt.Sprintf(schema.BatchContracts, "IN "+liteIn(len(groupIDs)))
	err = t.liteQuery(ctx, q, append(append([]any{}, certs...), groups...), func(rows *sql.Rows) error {
		var r schema.Contract
		err := rows.Scan(schema.Contracts.Dest(&r)...)
		out.Contracts = append(out.Contracts, r.Domain())
		return err
	})
	if err != nil {
		return out, t.read(err, "contracts", len(certIDs))
	}
	var offers []schema.Offer
	err = t.liteQuery(ctx, "SELECT "+schema.OfferList+schema.OfferFrom+" WHERE g.id IN "+liteIn(len(groupIDs))+" ORDER BY g.id, ag.period_start, ag.municipality", groups, func(rows *sql.Rows) error {
		var o schema.Offer
		err := rows.Scan(schema.OfferDest(&o)...)
		offers = append(offers, o)
		return err
	})
	if err != nil {
		return out, t.read(err, "offers", len(groupIDs))
	}
	out.Offers = schema.JoinOffers(offers)
	return out, nil
}
