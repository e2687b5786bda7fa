package storage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/enrollment/batch"
	"github.com/edufund/edufund/funding"
)

// batchTx is batch.Tx: the bulk reads and writes of a batch of
// submissions, a handful of statements for the whole batch.
type batchTx struct {
	*tx
}

var (
	_ batch.Store = (*DB)(nil)
	_ batch.Tx    = batchTx{}
)

// InBatchTx runs fn in one transaction with InTx's retries.
func (db *DB) InBatchTx(ctx context.Context, fn func(ctx context.Context, tx batch.Tx) error) error {
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
	if t.pg() {
		return t.claimKeysPG(ctx, recs)
	}
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
	if t.pg() {
		return t.idempotencyRecordsPG(ctx, keys)
	}
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

// offersSQL selects the groups IN (?) with their module, program,
// provider and the provider's agreements, one row per agreement.
func (t batchTx) offersSQL() string { return t.offersSQLWhere("g.id IN (?)") }

// offersSQLWhere is offersSQL with another condition on the groups.
func (t batchTx) offersSQLWhere(where string) string {
	return `SELECT ` + t.offerColumns() + ` FROM study_groups g
		JOIN modules m ON m.id = g.module_id
		JOIN programs p ON p.id = m.program_id
		JOIN providers v ON v.id = p.provider_id
		LEFT JOIN agreements ag ON ag.provider_id = v.id
		WHERE ` + where
}

// Prefetch reads a batch's rows, one statement per table (SQLite has one
// writer, so nothing needs a lock). On PostgreSQL the batch claims its
// keys and locks its certificates first (ClaimKeysLock) and reads the rest
// with PrefetchLocked.
func (t batchTx) Prefetch(ctx context.Context, certIDs, groupIDs []uuid.UUID) (batch.Rows, error) {
	var out batch.Rows
	if len(certIDs) > batchChunk || len(groupIDs) > batchChunk {
		return out, fmt.Errorf("storage: batch of %d certificates, %d groups: at most %d", len(certIDs), len(groupIDs), batchChunk)
	}
	var (
		certs  []certificateRow
		accts  []accountRow
		cons   []contractRow
		offers []offerJoin
	)
	if t.pg() {
		return out, errors.New("storage: Prefetch is SQLite's; PostgreSQL batches use ClaimKeysLock and PrefetchLocked")
	}
	{
		db := t.tx.tx
		if err := db.NewSelect().Model(&certs).Where("id IN (?)", bun.In(certIDs)).OrderExpr("id").Scan(ctx); err != nil {
			return out, t.read(err, "certificates", len(certIDs))
		}
		// One writer: the accounts and their holds are read in one state.
		if err := db.NewRaw(`SELECT `+accountSelect+` FROM `+accountFrom+` WHERE a.certificate_id IN (?) ORDER BY a.certificate_id, a.period_start`,
			bun.In(certIDs)).Scan(ctx, &accts); err != nil {
			return out, t.read(err, "accounts", len(certIDs))
		}
		if err := unsettled(accts); err != nil {
			return out, err
		}
		if err := db.NewSelect().Model(&cons).Where("certificate_id IN (?)", bun.In(certIDs)).Scan(ctx); err != nil {
			return out, t.read(err, "contracts", len(certIDs))
		}
		if err := db.NewRaw(t.offersSQL()+" ORDER BY g.id, ag.period_start, ag.municipality", bun.In(groupIDs)).Scan(ctx, &offers); err != nil {
			return out, t.read(err, "offers", len(groupIDs))
		}
	}
	for i := range certs {
		out.Certificates = append(out.Certificates, certs[i].domain())
	}
	for i := range accts {
		out.Accounts = append(out.Accounts, accts[i].domain())
	}
	for i := range cons {
		out.Contracts = append(out.Contracts, cons[i].domain())
	}
	out.Offers = joinOffers(offers)
	return out, nil
}

func offerLess(a, b *offerJoin) bool {
	if c := bytes.Compare(a.G.ID[:], b.G.ID[:]); c != 0 {
		return c < 0
	}
	as, bs := funding.Date(a.AgStart), funding.Date(b.AgStart)
	if !as.Equal(bs) {
		return as.Before(bs)
	}
	var am, bm string
	if a.AgMun != nil {
		am = *a.AgMun
	}
	if b.AgMun != nil {
		bm = *b.AgMun
	}
	return am < bm
}

// joinOffers folds the rows of one group (one per agreement) into its offer.
func joinOffers(rows []offerJoin) []enrollment.Offer {
	var out []enrollment.Offer
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
	return out
}

// LockCounters locks the counters of keys in their order: ORDER BY the
// key's position in the list on PostgreSQL (LockRows sits above the sort,
// so rows are locked in that order), and reads those of read without a
// lock, in the same statement; SQLite has a single writer.
func (t batchTx) LockCounters(ctx context.Context, keys, read []string) ([]enrollment.Counter, error) {
	if len(keys)+len(read) == 0 {
		return nil, nil
	}
	if len(keys)+len(read) > 4*batchChunk {
		return nil, fmt.Errorf("storage: lock counters: %d keys in one batch", len(keys)+len(read))
	}
	if t.pg() {
		return t.lockCountersPG(ctx, keys, read)
	}
	all := append(append([]string{}, keys...), read...)
	var rows []counterRow
	var err error
	switch {
	case !t.pg():
		err = t.tx.tx.NewSelect().Model(&rows).Where("key IN (?)", bun.In(all)).Scan(ctx)
	case len(read) == 0:
		err = t.tx.tx.NewSelect().Model(&rows).Where("key IN (?)", bun.In(keys)).
			OrderExpr("array_position(?::text[], key)", pgdialect.Array(keys)).For("UPDATE").Scan(ctx)
	case len(keys) == 0:
		err = t.tx.tx.NewSelect().Model(&rows).Where("key IN (?)", bun.In(read)).Scan(ctx)
	default:
		err = t.tx.tx.NewRaw(`WITH l AS (SELECT key, used, lim FROM counters WHERE key IN (?)
				ORDER BY array_position(?::text[], key) FOR UPDATE)
			SELECT key, used, lim FROM l UNION ALL SELECT key, used, lim FROM counters WHERE key IN (?)`,
			bun.In(keys), pgdialect.Array(keys), bun.In(read)).Scan(ctx, &rows)
	}
	if err != nil {
		return nil, t.read(err, "counters", len(all))
	}
	out := make([]enrollment.Counter, len(rows))
	for i, r := range rows {
		out[i] = enrollment.Counter{Key: r.Key, Used: r.Used, Limit: r.Lim}
	}
	return out, nil
}

// guardSQL is the conditional update of one guarded counter.
func guardSQL(db bun.IDB, g batch.CounterGuard) string {
	q := db.NewUpdate().Model((*counterRow)(nil)).
		Set("used = used + ?", g.Add).
		Where("key = ?", g.Key).Where("used + ? <= lim", g.Add+g.Room)
	if g.Exact {
		q = q.Where("used = ?", g.Used).Where("lim = ?", g.Limit)
	}
	return q.String()
}

// ApplyBatch writes a batch's effects. On PostgreSQL it is two statements
// of fixed text (applyBatchPG); on SQLite (in process) one statement per
// table, then each guard.
func (t batchTx) ApplyBatch(ctx context.Context, w batch.Write) error {
	if t.pg() {
		return t.applyBatchPG(ctx, w)
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

// batchRowSet is a batch's writes as rows of the tables.
type batchRowSet struct {
	contracts []*contractRow
	holds     []*holdRow
	postings  []*postingRow
	accounts  []*accountRow
	counters  []*counterRow // Used is the delta
	results   []*idempotencyRow
	release   []string
}

func (rs *batchRowSet) empty() bool {
	return len(rs.contracts)+len(rs.holds)+len(rs.postings)+len(rs.accounts)+len(rs.counters)+len(rs.results)+len(rs.release) == 0
}

func batchRows(w batch.Write) (*batchRowSet, error) {
	rs := &batchRowSet{release: w.Release}
	for _, c := range w.Contracts {
		r, err := toContractRow(c)
		if err != nil {
			return nil, err
		}
		rs.contracts = append(rs.contracts, r)
	}
	for _, h := range w.Holds {
		r, err := toHoldRow(h.CertificateID, h.Period, h.Hold)
		if err != nil {
			return nil, err
		}
		rs.holds = append(rs.holds, r)
	}
	for _, p := range w.Postings {
		r, err := toPostingRow(p)
		if err != nil {
			return nil, err
		}
		rs.postings = append(rs.postings, r)
	}
	for _, a := range w.Accounts {
		r, err := toAccountRow(a)
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
		rs.counters = append(rs.counters, &counterRow{Key: c.Key, Used: c.Add, Lim: c.Limit})
	}
	if len(w.Results) > 0 {
		now := dbTime(time.Now())
		for _, r := range w.Results {
			res := r.Result
			if res == nil {
				res = []byte{}
			}
			rs.results = append(rs.results, &idempotencyRow{Key: r.Key, Operation: r.Operation, RequestHash: r.RequestHash, Result: res, CreatedAt: now})
		}
	}
	return rs, nil
}

// batchWrites renders the statements of a batch's writes (SQLite).
func (t batchTx) batchWrites(w batch.Write) ([]string, error) {
	db := t.tx.tx
	rs, err := batchRows(w)
	if err != nil {
		return nil, err
	}
	var qs []string
	for _, part := range split(rs.contracts) {
		qs = append(qs, db.NewInsert().Model(&part).String())
	}
	for _, part := range split(rs.holds) {
		qs = append(qs, db.NewInsert().Model(&part).On("CONFLICT (id) DO UPDATE").
			Set("amount = EXCLUDED.amount").Set("charged = EXCLUDED.charged").
			Set("released = EXCLUDED.released").Set("refunded = EXCLUDED.refunded").String())
	}
	for _, part := range split(rs.postings) {
		qs = append(qs, db.NewInsert().Model(&part).String())
	}
	for _, part := range split(rs.accounts) {
		qs = append(qs, db.NewInsert().Model(&part).On("CONFLICT (certificate_id, period_start) DO UPDATE").String())
	}
	for _, part := range split(rs.counters) {
		qs = append(qs, db.NewInsert().Model(&part).On("CONFLICT (key) DO UPDATE").
			Set("used = ?TableAlias.used + EXCLUDED.used").String())
	}
	for _, part := range split(rs.results) {
		qs = append(qs, db.NewInsert().Model(&part).On("CONFLICT (key) DO UPDATE").
			Set("result = EXCLUDED.result").String())
	}
	for _, part := range split(rs.release) {
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
