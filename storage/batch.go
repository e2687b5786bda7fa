package storage

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/funding"
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
func (t batchTx) offersSQL() string {
	return `SELECT ` + t.offerColumns() + ` FROM study_groups g
		JOIN modules m ON m.id = g.module_id
		JOIN programs p ON p.id = m.program_id
		JOIN providers v ON v.id = p.provider_id
		LEFT JOIN agreements ag ON ag.provider_id = v.id
		WHERE g.id IN (?)`
}

// Prefetch reads a batch's rows. On PostgreSQL it is one statement: the
// locking reads as CTEs (certificates first, in id order, then their
// accounts), every row returned as JSON and scanned through bun's field
// scanners; on SQLite one statement per table.
func (t batchTx) Prefetch(ctx context.Context, certIDs, groupIDs []uuid.UUID) (enrollment.BatchRows, error) {
	var out enrollment.BatchRows
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
		var docs []struct {
			Kind string `bun:"kind"`
			Doc  []byte `bun:"doc"`
		}
		err := t.tx.tx.NewRaw(`WITH c AS (SELECT * FROM certificates WHERE id IN (?) ORDER BY id FOR NO KEY UPDATE),
			a AS (SELECT * FROM accounts WHERE certificate_id IN (SELECT id FROM c) ORDER BY certificate_id, period_start FOR NO KEY UPDATE),
			k AS (SELECT * FROM contracts WHERE certificate_id IN (SELECT id FROM c)),
			o AS (`+t.offersSQL()+`)
			SELECT 'c' AS kind, to_jsonb(c)::text AS doc FROM c
			UNION ALL SELECT 'a', to_jsonb(a)::text FROM a
			UNION ALL SELECT 'k', to_jsonb(k)::text FROM k
			UNION ALL SELECT 'o', to_jsonb(o)::text FROM o`, bun.In(certIDs), bun.In(groupIDs)).Scan(ctx, &docs)
		if err != nil {
			return out, t.read(err, "batch rows", len(certIDs))
		}
		for _, d := range docs {
			var err error
			switch d.Kind {
			case "c":
				certs = append(certs, certificateRow{})
				err = t.scanJSON(&certs[len(certs)-1], d.Doc)
			case "a":
				accts = append(accts, accountRow{})
				err = t.scanJSON(&accts[len(accts)-1], d.Doc)
			case "k":
				cons = append(cons, contractRow{})
				err = t.scanJSON(&cons[len(cons)-1], d.Doc)
			case "o":
				offers = append(offers, offerJoin{})
				err = t.scanJSON(&offers[len(offers)-1], d.Doc)
			}
			if err != nil {
				return out, err
			}
		}
		sort.SliceStable(offers, func(i, j int) bool { return offerLess(&offers[i], &offers[j]) })
	} else {
		db := t.tx.tx
		if err := db.NewSelect().Model(&certs).Where("id IN (?)", bun.In(certIDs)).OrderExpr("id").Scan(ctx); err != nil {
			return out, t.read(err, "certificates", len(certIDs))
		}
		if err := db.NewSelect().Model(&accts).Where("certificate_id IN (?)", bun.In(certIDs)).OrderExpr("certificate_id, period_start").Scan(ctx); err != nil {
			return out, t.read(err, "accounts", len(certIDs))
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

// scanJSON fills a row struct from a JSON object of its columns, through
// the same bun field scanners a result set would use.
func (t batchTx) scanJSON(dst any, doc []byte) error {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(doc, &m); err != nil {
		return fmt.Errorf("storage: batch row: %w", err)
	}
	v := reflect.ValueOf(dst).Elem()
	for _, f := range t.db.bun.Table(v.Type()).Fields {
		raw, ok := m[f.Name]
		if !ok {
			continue
		}
		var src any
		switch {
		case len(raw) == 0 || string(raw) == "null":
		case raw[0] == '"':
			var s string
			if err := json.Unmarshal(raw, &s); err != nil {
				return fmt.Errorf("storage: batch row %s: %w", f.Name, err)
			}
			src = s
		case string(raw) == "true":
			src = true
		case string(raw) == "false":
			src = false
		default:
			src = string(raw) // a number, scanned from its text exactly
		}
		if err := f.ScanValue(v, src); err != nil {
			return fmt.Errorf("storage: batch row %s: %w", f.Name, err)
		}
	}
	return nil
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
func guardSQL(db bun.IDB, g enrollment.CounterGuard) string {
	q := db.NewUpdate().Model((*counterRow)(nil)).
		Set("used = used + ?", g.Add).
		Where("key = ?", g.Key).Where("used + ? <= lim", g.Add)
	if g.Exact {
		q = q.Where("used = ?", g.Used).Where("lim = ?", g.Limit)
	}
	return q.String()
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
	if len(qs) == 0 && len(w.Guards) == 0 {
		return nil
	}
	if t.pg() {
		if len(qs) > 0 {
			var b strings.Builder
			b.WriteString("WITH ")
			for i, q := range qs {
				if i > 0 {
					b.WriteString(", ")
				}
				fmt.Fprintf(&b, "w%d AS (%s)", i, q)
			}
			b.WriteString(" SELECT 1")
			if _, err := t.tx.tx.ExecContext(ctx, b.String()); err != nil {
				return t.write(err, "apply batch")
			}
		}
		if len(w.Guards) == 0 {
			return nil
		}
		// The guarded (hot) counters by one statement of their own, the
		// last before the commit, in key order: PostgreSQL runs the CTEs a
		// query reads before the others, so in the statement above they
		// would be locked during all the inserts.
		var vals []string
		for _, g := range w.Guards {
			vals = append(vals, t.db.bun.QueryGen().FormatQuery("(?, ?::bigint, ?::bigint, ?::bigint, ?::boolean)", g.Key, g.Add, g.Used, g.Limit, g.Exact))
		}
		b := `UPDATE counters AS c SET used = c.used + v.add
			FROM (VALUES ` + strings.Join(vals, ", ") + `) AS v(key, add, used, lim, exact)
			WHERE c.key = v.key AND c.used + v.add <= c.lim AND (NOT v.exact OR (c.used = v.used AND c.lim = v.lim))`
		res, err := t.tx.tx.ExecContext(ctx, b)
		if err != nil {
			return t.write(err, "apply batch guards")
		}
		n, err := res.RowsAffected()
		if err != nil {
			return t.write(err, "apply batch guards")
		}
		if int(n) != len(w.Guards) {
			return fmt.Errorf("storage: apply batch: %d of %d guarded counters held: %w", n, len(w.Guards), enrollment.ErrBatchStale)
		}
		return nil
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
			return fmt.Errorf("storage: apply batch: counter %q changed: %w", g.Key, enrollment.ErrBatchStale)
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
