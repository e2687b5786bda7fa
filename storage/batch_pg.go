package storage

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/enrollment/batch"
)

// The batch under locks (batch.Tx) on PostgreSQL, the path of a
// batch whose optimistic write found a change, runs in a bun transaction.
// Its statements have a fixed text whatever the batch: the rows travel as
// binary array parameters (pgargs.go, unnest) and come back as columns
// scanned by pgrows.go's scanners, through pgx's extended protocol with
// its per-connection statement cache (QueryExecModeCacheStatement passed
// as the first argument through database/sql), so each is parsed and
// planned once per connection instead of once per batch. bun's own
// statements on the same connection keep the simple protocol.

// pgCached prepends pgx's cached-statement mode to a statement's arguments.
func pgCached(args ...any) []any {
	return append([]any{pgx.QueryExecModeCacheStatement}, args...)
}

// BatchStatementHook, when set (before any batch runs), is called after
// each batch statement that bypasses bun (and so bun's query hooks) with
// its text and duration; for benchmarks and tracing.
var BatchStatementHook func(query string, d time.Duration)

// traceStatement starts timing a statement that bypasses bun's query hooks
// for BatchStatementHook; the returned func reports it.
func traceStatement(q string) func() {
	h := BatchStatementHook
	if h == nil {
		return func() {}
	}
	t0 := time.Now()
	return func() { h(q, time.Since(t0)) }
}

func (t batchTx) pgQuery(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	defer traceStatement(q)()
	return t.tx.tx.Tx.QueryContext(ctx, q, pgCached(args...)...)
}

func (t batchTx) pgExec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	defer traceStatement(q)()
	return t.tx.tx.Tx.ExecContext(ctx, q, pgCached(args...)...)
}

const pgClaimSQL = `INSERT INTO idempotency (key, operation, request_hash, created_at)
	SELECT u.k, u.o, u.h, $4::timestamptz FROM unnest($1::text[], $2::text[], $3::text[]) AS u(k, o, h)
	ON CONFLICT (key) DO NOTHING RETURNING key`

func (t batchTx) claimKeysPG(ctx context.Context, recs []enrollment.IdempotencyRecord) ([]string, error) {
	ks, ops, hs := make([]string, len(recs)), make([]string, len(recs)), make([]string, len(recs))
	for i, r := range recs {
		ks[i], ops[i], hs[i] = r.Key, r.Operation, r.RequestHash
	}
	rows, err := t.pgQuery(ctx, pgClaimSQL, ks, ops, hs, time.Time(dbTimeNow()))
	if err != nil {
		return nil, t.write(err, "claim keys")
	}
	defer rows.Close()
	var claimed []string
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			return nil, t.write(err, "claim keys")
		}
		claimed = append(claimed, k)
	}
	if err := rows.Err(); err != nil {
		return nil, t.write(err, "claim keys")
	}
	return claimed, nil
}

// dbTimeNow is the time stored by the bun path (dbTime(time.Now())), as a
// time.Time in UTC with microseconds, what timestamptz keeps.
func dbTimeNow() dbTime { return dbTime(time.Now().UTC().Truncate(time.Microsecond)) }

const pgIdemRecordsSQL = `SELECT key, operation, request_hash, result FROM idempotency WHERE key = ANY($1::text[])`

func (t batchTx) idempotencyRecordsPG(ctx context.Context, keys []string) ([]enrollment.IdempotencyRecord, error) {
	rows, err := t.pgQuery(ctx, pgIdemRecordsSQL, keys)
	if err != nil {
		return nil, t.read(err, "idempotency keys", len(keys))
	}
	defer rows.Close()
	var out []enrollment.IdempotencyRecord
	for rows.Next() {
		var r enrollment.IdempotencyRecord
		if err := rows.Scan(&r.Key, &r.Operation, &r.RequestHash, &r.Result); err != nil {
			return nil, t.read(err, "idempotency keys", len(keys))
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, t.read(err, "idempotency keys", len(keys))
	}
	return out, nil
}

const pgLockCountersSQL = `WITH l AS (SELECT key, used, lim FROM counters WHERE key = ANY($1::text[])
		ORDER BY array_position($1::text[], key) FOR UPDATE)
	SELECT key, used, lim FROM l UNION ALL SELECT key, used, lim FROM counters WHERE key = ANY($2::text[])`

func (t batchTx) lockCountersPG(ctx context.Context, keys, read []string) ([]enrollment.Counter, error) {
	if keys == nil {
		keys = []string{}
	}
	if read == nil {
		read = []string{}
	}
	out, err := scanCounters(t.pgQuery(ctx, pgLockCountersSQL, keys, read))
	if err != nil {
		return nil, t.read(err, "counters", len(keys)+len(read))
	}
	return out, nil
}

// scanCounters reads (key, used, lim) rows.
func scanCounters(rows *sql.Rows, err error) ([]enrollment.Counter, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []enrollment.Counter
	for rows.Next() {
		var c enrollment.Counter
		if err := rows.Scan(&c.Key, &c.Used, &c.Limit); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// pgGuardsSQL locks the guarded counters in the order of $1 (Submit's
// order) before it changes them, so that two batches, or a batch and an
// optimistic batch (ApplyOptimistic), cannot deadlock on them.
const pgGuardsSQL = `WITH lk AS (SELECT key FROM counters WHERE key = ANY($1::text[]) ORDER BY array_position($1::text[], key) FOR NO KEY UPDATE)
	UPDATE counters AS c SET used = c.used + v.add
	FROM lk, unnest($1::text[], $2::bigint[], $3::bigint[], $4::bigint[], $5::boolean[], $6::bigint[]) AS v(key, add, used, lim, exact, room)
	WHERE c.key = lk.key AND c.key = v.key AND c.used + v.add + v.room <= c.lim AND (NOT v.exact OR (c.used = v.used AND c.lim = v.lim))`

// pgApplyBatchSQL is the whole of a locked batch's writes but its guards,
// in one statement: the new rows (holds and results upserted: a batch may
// change a hold, and a claimed key gets its result), the accounts
// upserted, the counters created or moved by their deltas, and the keys
// released. The parameters are those of pgRowsCTEs, then accountArgs,
// the counters (key, delta, limit) and the released keys.
var pgApplyBatchSQL = func() string {
	q, n := pgRowsCTEs("ON CONFLICT (id) DO UPDATE SET amount = EXCLUDED.amount, charged = EXCLUDED.charged, released = EXCLUDED.released, refunded = EXCLUDED.refunded",
		"ON CONFLICT (key) DO UPDATE SET result = EXCLUDED.result")
	a := unnestOf(n, pgAccountTypes...)
	n += len(pgAccountTypes)
	return q + `, a AS (INSERT INTO accounts (` + pgAccountCols + `) SELECT * FROM ` + a + `
			ON CONFLICT (certificate_id, period_start) DO UPDATE SET period_end = EXCLUDED.period_end, nominal = EXCLUDED.nominal,
				balance = EXCLUDED.balance, held = EXCLUDED.held, depleted = EXCLUDED.depleted,
				expired = EXCLUDED.expired, fixed = EXCLUDED.fixed),
		n AS (INSERT INTO counters (key, used, lim) SELECT * FROM ` + unnestOf(n, "text", "bigint", "bigint") + `
			ON CONFLICT (key) DO UPDATE SET used = counters.used + EXCLUDED.used),
		d AS (DELETE FROM idempotency WHERE key = ANY($` + fmt.Sprint(n+3) + `::text[]))
		SELECT 1`
}()

// applyBatchPG writes a batch's effects in one statement, then the guarded
// (hot) counters by one statement of their own, the last before the
// commit: PostgreSQL runs the CTEs a query reads before the others, so in
// the statement of the writes they would be locked during all the inserts.
func (t batchTx) applyBatchPG(ctx context.Context, w batch.Write) error {
	if len(w.Contracts)+len(w.Holds)+len(w.Postings)+len(w.Accounts)+len(w.Counters)+len(w.Results)+len(w.Release) > 0 {
		var k kopecks
		args, err := contractArgs(w.Contracts, &k)
		if err != nil {
			return err
		}
		args = append(args, holdArgs(w.Holds, &k)...)
		ps, err := postingArgs(w.Postings, &k)
		if err != nil {
			return err
		}
		args = append(append(append(args, ps...), resultArgs(w.Results)...), accountArgs(w.Accounts, &k)...)
		n := len(w.Counters)
		ks, adds, lims := make([]string, n), make([]int64, n), make([]int64, n)
		for i, c := range w.Counters {
			if c.Add < 0 || c.Add > c.Limit {
				return fmt.Errorf("storage: batch counter %q: add %d past limit %d", c.Key, c.Add, c.Limit)
			}
			// The proposed row carries the delta; an existing row adds it
			// (the CHECK used <= lim is the backstop).
			ks[i], adds[i], lims[i] = c.Key, c.Add, c.Limit
		}
		args = append(args, ks, adds, lims, nonNil(w.Release))
		if k.err != nil {
			return k.err
		}
		if _, err := t.pgExec(ctx, pgApplyBatchSQL, args...); err != nil {
			return t.write(err, "apply batch")
		}
	}
	if len(w.Guards) == 0 {
		return nil
	}
	res, err := t.pgExec(ctx, pgGuardsSQL, guardArgs(sortGuards(w.Guards))...)
	if err != nil {
		return t.write(err, "apply batch guards")
	}
	got, err := res.RowsAffected()
	if err != nil {
		return t.write(err, "apply batch guards")
	}
	if n := len(w.Guards); int(got) != n {
		return fmt.Errorf("storage: apply batch: %d of %d guarded counters held: %w", got, n, batch.ErrStale)
	}
	return nil
}

var _ batch.ClaimLocker = batchTx{}

// The locked batch's reads on PostgreSQL. The claim comes first, then the
// certificates of the claimed keys are locked in id order (the order
// Submit takes them in), then the rest is read by statements that start
// after those locks are held, so that under READ COMMITTED they see
// everything the transactions they waited for committed.
const (
	pgLockCertificatesSQL = `SELECT ` + pgCertificateCols + ` FROM certificates WHERE id = ANY($1::uuid[]) ORDER BY id FOR NO KEY UPDATE`
	pgLockAccountsSQL     = `SELECT ` + pgAccountSelect + ` FROM ` + pgAccountFrom + ` WHERE a.certificate_id = ANY($1::uuid[]) ORDER BY a.certificate_id, a.period_start FOR NO KEY UPDATE OF a`
	pgContractsSQL        = `SELECT ` + pgContractCols + ` FROM contracts WHERE certificate_id = ANY($1::uuid[])`
	pgOffersSQL           = `SELECT ` + pgOfferCols + pgOffersFrom + ` WHERE g.id = ANY($1::uuid[])`
)

// ClaimKeysLock is batch.ClaimLocker: on PostgreSQL the claim,
// then the certificates of the claimed keys locked; on SQLite ClaimKeys,
// the certificates being read by PrefetchLocked.
func (t batchTx) ClaimKeysLock(ctx context.Context, recs []enrollment.IdempotencyRecord, keys []string, certs []uuid.UUID) ([]string, []certificate.Certificate, error) {
	if !t.pg() {
		// One writer: PrefetchLocked reads the certificates.
		claimed, err := t.ClaimKeys(ctx, recs)
		return claimed, nil, err
	}
	// The batch's lookups are planned as in the pipelines (pgPlanSettings).
	if _, err := t.pgExec(ctx, pgPlanSettings.sql); err != nil {
		return nil, nil, t.write(err, "claim keys")
	}
	claimed, err := t.claimKeysPG(ctx, recs)
	if err != nil {
		return nil, nil, err
	}
	mine := make(map[string]bool, len(claimed))
	for _, k := range claimed {
		mine[k] = true
	}
	var ids []uuid.UUID
	for i, k := range keys {
		if mine[k] {
			ids = append(ids, certs[i])
		}
	}
	var out []certificate.Certificate
	err = t.scanAll(ctx, "certificates", pgLockCertificatesSQL, func(rows rowScanner) error {
		r, err := scanCertificate(rows)
		out = append(out, r.domain())
		return err
	}, pgUUIDs(ids))
	return claimed, out, err
}

// PrefetchLocked is batch.ClaimLocker: the accounts (locked),
// contracts and offers.
func (t batchTx) PrefetchLocked(ctx context.Context, certIDs, groupIDs []uuid.UUID) (batch.Rows, error) {
	if !t.pg() {
		return t.Prefetch(ctx, certIDs, groupIDs) // one writer: certificates included
	}
	var out batch.Rows
	var offers []offerJoin
	certs := pgUUIDs(certIDs)
	accts, err := readSettled(func() ([]accountRow, error) {
		var rs []accountRow
		err := t.scanAll(ctx, "accounts", pgLockAccountsSQL, func(rows rowScanner) error {
			r, err := scanAccount(rows)
			rs = append(rs, r)
			return err
		}, certs)
		return rs, err
	})
	for i := range accts {
		out.Accounts = append(out.Accounts, accts[i].domain())
	}
	if err == nil {
		err = t.scanAll(ctx, "contracts", pgContractsSQL, func(rows rowScanner) error {
			r, err := scanContract(rows)
			out.Contracts = append(out.Contracts, r.domain())
			return err
		}, certs)
	}
	if err == nil {
		err = t.scanAll(ctx, "offers", pgOffersSQL, func(rows rowScanner) error {
			o, err := scanOffer(rows)
			offers = append(offers, o)
			return err
		}, pgUUIDs(groupIDs))
	}
	if err != nil {
		return batch.Rows{}, err
	}
	out.Offers = joinOffers(sortOffers(offers))
	return out, nil
}

// scanAll runs a statement of the batch and calls scan for each row.
func (t batchTx) scanAll(ctx context.Context, what, q string, scan func(rowScanner) error, args ...any) error {
	rows, err := t.pgQuery(ctx, q, args...)
	if err != nil {
		return t.read(err, what, 0)
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return t.read(err, what, 0)
		}
	}
	if err := rows.Err(); err != nil {
		return t.read(err, what, 0)
	}
	return nil
}
