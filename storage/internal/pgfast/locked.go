package pgfast

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/enrollment/batch"
	"github.com/edufund/edufund/storage/internal/dberr"
	"github.com/edufund/edufund/storage/internal/schema"
)

// The batch under locks (batch.Tx) on PostgreSQL, the path of a batch
// whose optimistic write found a change, runs in the store's (bun's)
// transaction. Its statements have a fixed text whatever the batch: the
// rows travel as binary array parameters (args.go, unnest) and come back as
// columns scanned by scan.go's scanners, through pgx's extended protocol
// with its per-connection statement cache (QueryExecModeCacheStatement
// passed as the first argument through database/sql), so each is parsed
// and planned once per connection instead of once per batch. bun's own
// statements on the same connection keep the simple protocol.

// Locked is the bulk reads and writes of a batch under locks (those of
// batch.Tx beyond enrollment.Tx, and batch.ClaimLocker) in one
// transaction of the store.
type Locked struct {
	store *Store
	tx    *sql.Tx
	check func(error) error
}

var _ batch.ClaimLocker = (*Locked)(nil)

// Locked runs a batch's statements in tx; check is told of each failure
// and returns it (the store's transaction remembers a retryable one, to
// retry the transaction whatever its closure returns).
func (s *Store) Locked(tx *sql.Tx, check func(error) error) *Locked {
	return &Locked{store: s, tx: tx, check: check}
}

// pgCached prepends pgx's cached-statement mode to a statement's arguments.
func pgCached(args ...any) []any {
	return append([]any{pgx.QueryExecModeCacheStatement}, args...)
}

func (t *Locked) pgQuery(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	defer t.store.trace(q)()
	return t.tx.QueryContext(ctx, q, pgCached(args...)...)
}

func (t *Locked) pgExec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	defer t.store.trace(q)()
	return t.tx.ExecContext(ctx, q, pgCached(args...)...)
}

func (t *Locked) read(err error, what string, key any) error {
	return dberr.Read(t.check(err), what, key)
}

func (t *Locked) write(err error, what string) error {
	return dberr.Write(t.check(err), what)
}

// pgClaimSQL inserts the idempotency records that are absent.
var pgClaimSQL, _ = idempotencyCodec.insert(1, "ON CONFLICT (key) DO NOTHING RETURNING key")

// ClaimKeys is batch.Tx.ClaimKeys.
func (t *Locked) ClaimKeys(ctx context.Context, recs []enrollment.IdempotencyRecord) ([]string, error) {
	rows, err := t.pgQuery(ctx, pgClaimSQL, idempotencyCodec.args(schema.Claims(recs, time.Now()))...)
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

var pgIdemRecordsSQL = `SELECT ` + schema.Idempotency.List("") + ` FROM idempotency WHERE key = ANY($1::text[])`

// IdempotencyRecords is batch.Tx.IdempotencyRecords.
func (t *Locked) IdempotencyRecords(ctx context.Context, keys []string) ([]enrollment.IdempotencyRecord, error) {
	var out []enrollment.IdempotencyRecord
	err := t.scanAll(ctx, "idempotency keys", pgIdemRecordsSQL, func(rows rowScanner) error {
		var r schema.IdempotencyKey
		err := rows.Scan(schema.Idempotency.Dest(&r)...)
		out = append(out, r.Domain())
		return err
	}, keys)
	return out, err
}

var pgLockCountersSQL = `WITH l AS (SELECT ` + schema.Counters.List("") + ` FROM counters WHERE key = ANY($1::text[])
		ORDER BY array_position($1::text[], key) FOR UPDATE)
	SELECT * FROM l UNION ALL SELECT ` + schema.Counters.List("") + ` FROM counters WHERE key = ANY($2::text[])`

// LockCounters is batch.Tx.LockCounters: the counters of keys are locked
// in their order (ORDER BY the key's position in the list; LockRows sits
// above the sort, so rows are locked in that order), those of read read
// without a lock, in the same statement.
func (t *Locked) LockCounters(ctx context.Context, keys, read []string) ([]enrollment.Counter, error) {
	var out []enrollment.Counter
	err := t.scanAll(ctx, "counters", pgLockCountersSQL, func(rows rowScanner) error {
		c, err := scanCounter(rows)
		out = append(out, c)
		return err
	}, nonNil(keys), nonNil(read))
	return out, err
}

// scanCounter reads a row of counters.
func scanCounter(rows rowScanner) (enrollment.Counter, error) {
	var r schema.Counter
	err := rows.Scan(schema.Counters.Dest(&r)...)
	return r.Domain(), err
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
// released. The parameters are those of pgRowsCTEs, then the column
// arrays of the accounts and of the counters, and the released keys.
var pgApplyBatchSQL = func() string {
	q, n := pgRowsCTEs("ON CONFLICT (id) DO UPDATE SET "+schema.HoldUpdate, "ON CONFLICT (key) DO UPDATE SET result = EXCLUDED.result")
	a, n := accountCodec.insert(n, "ON CONFLICT ("+strings.Join(schema.Accounts.Keys(), ", ")+") DO UPDATE SET "+schema.Accounts.Set())
	c, n := counterCodec.insert(n, "ON CONFLICT (key) DO UPDATE SET used = counters.used + EXCLUDED.used")
	return q + `, a AS (` + a + `), n AS (` + c + `),
		d AS (DELETE FROM idempotency WHERE key = ANY($` + fmt.Sprint(n) + `::text[]))
		SELECT 1`
}()

// ApplyBatch is batch.Tx.ApplyBatch: a batch's effects in one statement,
// then the guarded (hot) counters by one statement of their own, the last
// before the commit: PostgreSQL runs the CTEs a query reads before the
// others, so in the statement of the writes they would be locked during
// all the inserts.
func (t *Locked) ApplyBatch(ctx context.Context, w batch.Write) error {
	if len(w.Contracts)+len(w.Holds)+len(w.Postings)+len(w.Events)+len(w.Accounts)+len(w.Counters)+len(w.Results)+len(w.Release) > 0 {
		rs, err := schema.WritesOf(w)
		if err != nil {
			return err
		}
		args := append(rowsArgs(rs), accountCodec.args(rs.Accounts)...)
		args = append(append(args, counterCodec.args(rs.Counters)...), nonNil(rs.Release))
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

// The locked batch's reads on PostgreSQL. The claim comes first, then the
// certificates of the claimed keys are locked in id order (the order
// Submit takes them in), then the rest is read by statements that start
// after those locks are held, so that under READ COMMITTED they see
// everything the transactions they waited for committed.
var (
	pgLockCertificatesSQL = `SELECT ` + schema.Certificates.List("") + ` FROM certificates WHERE id = ANY($1::uuid[]) ORDER BY id FOR NO KEY UPDATE`
	// The accounts are locked by one statement and read by the next
	// (schema.AccountSelect says why).
	pgLockAccountsSQL = `SELECT 1 FROM accounts WHERE certificate_id = ANY($1::uuid[]) ORDER BY certificate_id, period_start FOR NO KEY UPDATE`
	pgAccountsSQL     = schema.AccountRead(true) + ` WHERE a.certificate_id = ANY($1::uuid[]) ORDER BY a.certificate_id, a.period_start`
	// The contracts of schema.BatchContracts (batch.Rows.Contracts),
	// looked up a certificate at a time through the partial index
	// contracts_live_key: the subquery is run for each certificate
	// (LATERAL; OFFSET 0 keeps the planner from flattening it into a join
	// it may turn round). Under "certificate_id = ANY($1)", or a plain join,
	// a generic plan made while the table is small and not analyzed (a
	// region's first minutes; the plan lasts until an ANALYZE of the table
	// replans it) reads every live contract, through contracts_status_idx
	// or the whole of contracts_live_key, to keep the batch's
	// certificates': the whole region a batch (TestPlansAreKeyed).
	pgContractsSQL = `SELECT ` + schema.Contracts.List("c") + ` FROM (SELECT DISTINCT unnest($1::uuid[])) AS u(id)
		CROSS JOIN LATERAL (SELECT * FROM contracts WHERE certificate_id = u.id AND ` + fmt.Sprintf(schema.BatchContracts, `= ANY($2::uuid[])`) + ` OFFSET 0) c`
	pgOffersSQL = `SELECT ` + schema.OfferList + schema.OfferFrom + ` WHERE g.id = ANY($1::uuid[])`
)

// ClaimKeysLock is batch.ClaimLocker: the claim, then the certificates
// of the claimed keys locked.
func (t *Locked) ClaimKeysLock(ctx context.Context, recs []enrollment.IdempotencyRecord, keys []string, certs []uuid.UUID) ([]string, []certificate.Certificate, error) {
	// The batch's lookups are planned as in the pipelines (pgPlanSettings).
	if _, err := t.pgExec(ctx, pgPlanSettings.sql); err != nil {
		return nil, nil, t.write(err, "claim keys")
	}
	claimed, err := t.ClaimKeys(ctx, recs)
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
		var r schema.Certificate
		err := rows.Scan(schema.Certificates.Dest(&r)...)
		out = append(out, r.Domain())
		return err
	}, pgUUIDs(ids))
	return claimed, out, err
}

// Prefetch is batch.Tx.Prefetch for certificates ClaimKeysLock locked:
// their accounts (locked), contracts and offers.
func (t *Locked) Prefetch(ctx context.Context, certIDs, groupIDs []uuid.UUID) (batch.Rows, error) {
	var out batch.Rows
	var offers []schema.Offer
	certs := pgUUIDs(certIDs)
	err := t.scanAll(ctx, "accounts", pgLockAccountsSQL, func(rows rowScanner) error { return nil }, certs)
	if err == nil {
		err = t.scanAll(ctx, "accounts", pgAccountsSQL, func(rows rowScanner) error {
			var r schema.Account
			if err := rows.Scan(schema.AccountDest(&r)...); err != nil {
				return err
			}
			out.Accounts = append(out.Accounts, r.Domain())
			return r.Check()
		}, certs)
	}
	if err == nil {
		err = t.scanAll(ctx, "contracts", pgContractsSQL, func(rows rowScanner) error {
			var r schema.Contract
			err := rows.Scan(schema.Contracts.Dest(&r)...)
			out.Contracts = append(out.Contracts, r.Domain())
			return err
		}, certs, pgUUIDs(groupIDs))
	}
	if err == nil {
		err = t.scanAll(ctx, "offers", pgOffersSQL, func(rows rowScanner) error {
			var o schema.Offer
			err := rows.Scan(schema.OfferDest(&o)...)
			offers = append(offers, o)
			return err
		}, pgUUIDs(groupIDs))
	}
	if err != nil {
		return batch.Rows{}, err
	}
	out.Offers = schema.JoinOffers(schema.SortOffers(offers))
	return out, nil
}

// scanAll runs a statement of the batch and calls scan for each row.
func (t *Locked) scanAll(ctx context.Context, what, q string, scan func(rowScanner) error, args ...any) error {
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
