package pgfast

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/enrollment/batch"
	"github.com/edufund/edufund/storage/internal/dberr"
	"github.com/edufund/edufund/storage/internal/schema"
)

// The optimistic batch (batch.OptimisticStore) on PostgreSQL: a
// batch costs two round trips and one commit, and no row is locked while
// Go runs the rules. ReadBatch is one pipeline of reads without locks;
// ApplyOptimistic is one pipeline (see pipeline.go) that locks and checks
// what the accepted applications depend on, writes everything and commits
// at its Sync. The versions are the rows' xmin: any committed UPDATE of a
// row gives it a new one, and a row locked FOR NO KEY UPDATE (or updated)
// by a statement under READ COMMITTED is re-checked against its newest
// version, so a change that commits after the read, even while the write
// waits for the row, fails the check and undoes the whole write.

// The reads of ReadBatch. Each statement of the pipeline reads its own
// snapshot under READ COMMITTED; the order makes that enough: the
// accounts are read before the contracts, and every accepted submission
// changes its account, so a contract committed after the accounts were
// read comes with an account version the write will find changed.
var (
	pgReadKeys         = &pgStmt{"edufund_read_keys", `SELECT key, operation, request_hash, result FROM idempotency WHERE key = ANY($1::text[])`}
	pgReadCertificates = &pgStmt{"edufund_read_certificates", `SELECT ` + pgCertificateCols + `, xmin::text::bigint FROM certificates WHERE id = ANY($1::uuid[])`}
	pgReadAccounts     = &pgStmt{"edufund_read_accounts", `SELECT ` + schema.PGAccountSelect + `, a.xmin::text::bigint FROM ` + schema.PGAccountFrom + ` WHERE a.certificate_id = ANY($1::uuid[])`}
	pgReadContracts    = &pgStmt{"edufund_read_contracts", `SELECT ` + pgContractCols + ` FROM contracts WHERE certificate_id = ANY($1::uuid[])`}
	pgReadOffers       = &pgStmt{"edufund_read_offers", `SELECT ` + pgOfferCols + pgOffersFrom + ` WHERE g.id = ANY($1::uuid[])`}
	pgReadCounters     = &pgStmt{"edufund_read_counters", `SELECT key, used, lim FROM counters WHERE key = ANY($1::text[])`}
)

func pgUUIDs(ids []uuid.UUID) []pgtype.UUID {
	out := make([]pgtype.UUID, len(ids))
	for i, id := range ids {
		out[i] = pgtype.UUID{Bytes: id, Valid: true}
	}
	return out
}

func nonNil[T any](xs []T) []T {
	if xs == nil {
		return []T{}
	}
	return xs
}

// ReadBatch is batch.OptimisticStore.ReadBatch.
func (s *Store) ReadBatch(ctx context.Context, keys []string, certIDs, groupIDs []uuid.UUID, counterKeys []string) ([]enrollment.IdempotencyRecord, batch.Rows, error) {
	var out batch.Rows
	var (
		recs   []enrollment.IdempotencyRecord
		offers []schema.Offer
	)
	out.CertVersions = map[uuid.UUID]int64{}
	certs := pgUUIDs(certIDs)
	qs := []pgQuery{
		{stmt: pgReadKeys, args: []any{nonNil(keys)}, scan: func(rows pgx.Rows) error {
			var r enrollment.IdempotencyRecord
			if err := rows.Scan(&r.Key, &r.Operation, &r.RequestHash, &r.Result); err != nil {
				return err
			}
			recs = append(recs, r)
			return nil
		}},
		{stmt: pgReadCertificates, args: []any{certs}, scan: func(rows pgx.Rows) error {
			var v int64
			r, err := scanCertificate(rows, &v)
			if err != nil {
				return err
			}
			out.Certificates = append(out.Certificates, r.Domain())
			out.CertVersions[r.ID] = v
			return nil
		}},
		{stmt: pgReadAccounts, args: []any{certs}, scan: func(rows pgx.Rows) error {
			var v int64
			r, err := scanAccount(rows, &v)
			if err != nil {
				return err
			}
			// No lock, one snapshot: an schema.Unsettled account is a broken ledger.
			if err := r.Settled(); err != nil {
				return err
			}
			a := r.Domain()
			a.Version = v
			out.Accounts = append(out.Accounts, a)
			return nil
		}},
		{stmt: pgReadContracts, args: []any{certs}, scan: func(rows pgx.Rows) error {
			r, err := scanContract(rows)
			if err != nil {
				return err
			}
			out.Contracts = append(out.Contracts, r.Domain())
			return nil
		}},
		{stmt: pgReadOffers, args: []any{pgUUIDs(groupIDs)}, scan: func(rows pgx.Rows) error {
			o, err := scanOffer(rows)
			if err != nil {
				return err
			}
			offers = append(offers, o)
			return nil
		}},
		{stmt: pgReadCounters, args: []any{nonNil(counterKeys)}, scan: func(rows pgx.Rows) error {
			var c enrollment.Counter
			if err := rows.Scan(&c.Key, &c.Used, &c.Limit); err != nil {
				return err
			}
			out.Counters = append(out.Counters, c)
			return nil
		}},
	}
	if err := s.withConn(ctx, func(c *pgx.Conn) error { return s.runPipeline(ctx, c, qs) }); err != nil {
		return nil, batch.Rows{}, fmt.Errorf("storage: read batch: %w", err)
	}
	out.Offers = schema.JoinOffers(schema.SortOffers(offers))
	return recs, out, nil
}

// ReadCounters is batch.OptimisticStore.ReadCounters.
func (s *Store) ReadCounters(ctx context.Context, keys []string) ([]enrollment.Counter, error) {
	var out []enrollment.Counter
	err := s.withConn(ctx, func(c *pgx.Conn) error {
		return s.runPipeline(ctx, c, []pgQuery{{stmt: pgReadCounters, args: []any{nonNil(keys)}, scan: func(rows pgx.Rows) error {
			var k enrollment.Counter
			if err := rows.Scan(&k.Key, &k.Used, &k.Limit); err != nil {
				return err
			}
			out = append(out, k)
			return nil
		}}})
	})
	if err != nil {
		return nil, fmt.Errorf("storage: read counters: %w", err)
	}
	return out, nil
}

// The statements of ApplyOptimistic, in the order they run: the
// certificates are locked first (in id order) and checked, the rows are
// written, and the counters are locked (in the order given) and changed
// last, so that the hot rows are held only for the end of the pipeline and
// its commit. The new rows are plain INSERTs: one that exists meanwhile (a
// key stored, an account or counter created, a second live contract on a
// module) fails on its unique index, which undoes the batch like a failed
// check.
var (
	pgLockCertificates = &pgStmt{"edufund_opt_lock_certificates", pgCheck("certificates",
		`SELECT c.id FROM unnest($1::uuid[], $2::text[]) AS v(id, x) JOIN certificates c ON c.id = v.id
			WHERE c.xmin = v.x::xid ORDER BY c.id FOR NO KEY UPDATE OF c`, 3)}
	// The new rows of the batch in one statement: its inserts share one
	// executor start and one round of trigger and index setup.
	pgInsertRows     = &pgStmt{"edufund_opt_insert_rows", func() string { q, _ := pgRowsCTEs("", ""); return q + " SELECT 1" }()}
	pgUpdateAccounts = &pgStmt{"edufund_opt_update_accounts", pgCheck("accounts",
		`UPDATE accounts a SET period_end = v.pe, nominal = v.nom, balance = v.bal, held = v.held, depleted = v.dep, expired = v.exp, fixed = v.fx
			FROM unnest($1::uuid[], $2::date[], $3::text[], $4::date[], $5::bigint[], $6::bigint[], $7::bigint[], $8::bigint[], $9::bigint[], $10::boolean[])
				AS v(c, s, x, pe, nom, bal, held, dep, exp, fx)
			WHERE a.certificate_id = v.c AND a.period_start = v.s AND a.xmin = v.x::xid RETURNING 1`, 11)}
	pgInsertAccounts = &pgStmt{"edufund_opt_insert_accounts", `INSERT INTO accounts (` + pgAccountCols + `) SELECT * FROM ` + unnestOf(1, pgAccountTypes...)}
	pgInsertCounters = &pgStmt{"edufund_opt_insert_counters", `INSERT INTO counters (key, used, lim) SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[])`}
	pgLockCounters   = &pgStmt{"edufund_opt_lock_counters", `SELECT count(*) FROM (SELECT 1 FROM unnest($1::text[]) WITH ORDINALITY AS u(k, ord)
		JOIN counters c ON c.key = u.k ORDER BY u.ord FOR NO KEY UPDATE OF c) l`}
	pgGuardCounters = &pgStmt{"edufund_opt_guard_counters", pgCheck("counters",
		`UPDATE counters c SET used = c.used + v.add
			FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::bigint[], $5::boolean[], $6::bigint[]) AS v(key, add, used, lim, exact, room)
			WHERE c.key = v.key AND c.used + v.add + v.room <= c.lim AND (NOT v.exact OR (c.used = v.used AND c.lim = v.lim)) RETURNING 1`, 7)}
)

// pgRowsCTEs inserts the new rows of a batch as data-modifying CTEs of
// one statement (its inserts then share one executor start and one round
// of trigger and index setup): contracts, holds, postings and idempotency
// records, the parameters of contractArgs, holdArgs, postingArgs and
// resultArgs in that order. holds and results end their inserts (ON
// CONFLICT clauses, or nothing). It returns the SQL and the next
// parameter's number.
func pgRowsCTEs(holds, results string) (string, int) {
	n := 1
	next := func(types ...string) string {
		u := unnestOf(n, types...)
		n += len(types)
		return u
	}
	k := `WITH k AS (INSERT INTO contracts (` + pgContractCols + `) SELECT * FROM ` + next(pgContractTypes...) + `)`
	h := `, h AS (INSERT INTO holds (` + pgHoldCols + `) SELECT * FROM ` + next(pgHoldTypes...) + ` ` + holds + `)`
	p := `, p AS (INSERT INTO postings (` + pgPostingCols + `) SELECT * FROM ` + next(pgPostingTypes...) + `)`
	u := next("text", "text", "text", "bytea")
	r := fmt.Sprintf(`, r AS (INSERT INTO idempotency (key, operation, request_hash, result, created_at) SELECT u.*, $%d::timestamptz FROM %s AS u %s)`, n, u, results)
	return k + h + p + r, n + 1
}

// unnestOf is unnest($first::types[0][], $first+1::types[1][], …).
func unnestOf(first int, types ...string) string {
	var b strings.Builder
	b.WriteString("unnest(")
	for i, t := range types {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "$%d::%s[]", first+i, t)
	}
	b.WriteString(")")
	return b.String()
}

// ApplyOptimistic is batch.OptimisticStore.ApplyOptimistic.
func (s *Store) ApplyOptimistic(ctx context.Context, w batch.Write) error {
	if len(w.Release) > 0 {
		return errors.New("storage: an optimistic batch claims no key, so it releases none")
	}
	if len(w.Contracts)+len(w.Holds)+len(w.Postings)+len(w.Accounts)+len(w.Counters)+len(w.Results)+len(w.Guards)+len(w.Check) == 0 {
		return nil // every application was refused by what the snapshot showed
	}
	qs, err := optimisticWrites(w)
	if err != nil {
		return err
	}
	err = s.withConn(ctx, func(c *pgx.Conn) error { return s.runPipeline(ctx, c, qs) })
	switch {
	case err == nil:
		return nil
	case isCheckFailure(err) || dberr.Unique(err) || dberr.Retryable(err):
		return fmt.Errorf("storage: optimistic batch: %w (%v)", batch.ErrStale, err)
	}
	return fmt.Errorf("storage: optimistic batch: %w", err)
}

// optimisticWrites are the statements of w, those with rows.
func optimisticWrites(w batch.Write) ([]pgQuery, error) {
	var (
		qs []pgQuery
		k  schema.Kopecks
	)
	add := func(s *pgStmt, n int, args ...any) {
		if n > 0 {
			qs = append(qs, pgQuery{stmt: s, args: args})
		}
	}
	{
		n := len(w.Check)
		ids, vers := make([]pgtype.UUID, n), make([]string, n)
		for i, c := range w.Check {
			ids[i], vers[i] = pgUUID(c.ID), strconv.FormatInt(c.Version, 10)
		}
		add(pgLockCertificates, n, ids, vers, n)
	}
	var upd, ins []enrollment.AccountState
	for _, a := range w.Accounts {
		if a.Version == 0 {
			ins = append(ins, a)
		} else {
			upd = append(upd, a)
		}
	}
	if n := len(upd); n > 0 {
		a := accountArgs(upd, &k)
		vers := make([]string, n)
		for i, u := range upd {
			vers[i] = strconv.FormatInt(u.Version, 10)
		}
		add(pgUpdateAccounts, n, append(append([]any{a[0], a[1], vers}, a[2:]...), n)...)
	}
	add(pgInsertAccounts, len(ins), accountArgs(ins, &k)...)
	rows, err := contractArgs(w.Contracts, &k)
	if err != nil {
		return nil, err
	}
	rows = append(rows, holdArgs(w.Holds, &k)...)
	ps, err := postingArgs(w.Postings, &k)
	if err != nil {
		return nil, err
	}
	rows = append(append(rows, ps...), resultArgs(w.Results)...)
	add(pgInsertRows, len(w.Contracts)+len(w.Holds)+len(w.Postings)+len(w.Results), rows...)
	{
		n := len(w.Counters)
		ks, used, lims := make([]string, n), make([]int64, n), make([]int64, n)
		for i, c := range w.Counters {
			if c.Add < 0 || c.Add > c.Limit {
				return nil, fmt.Errorf("storage: batch counter %q: add %d past limit %d", c.Key, c.Add, c.Limit)
			}
			ks[i], used[i], lims[i] = c.Key, c.Add, c.Limit
		}
		add(pgInsertCounters, n, ks, used, lims)
	}
	// The counters are locked in the one global order (seats first, as a
	// batch under locks takes them when it reads them, the rest by its
	// guards at the end; Submit and the releases take them so too).
	gs := guardArgs(sortGuards(w.Guards))
	add(pgLockCounters, len(w.Guards), gs[0])
	add(pgGuardCounters, len(w.Guards), append(gs, len(w.Guards))...)
	if k.Err != nil {
		return nil, k.Err
	}
	return qs, nil
}

// sortGuards orders counters as they are locked: in the order of
// enrollment.SortCounterKeys, the one every transaction takes them in.
func sortGuards(gs []batch.CounterGuard) []batch.CounterGuard {
	out := slices.Clone(gs)
	slices.SortStableFunc(out, func(a, b batch.CounterGuard) int { return enrollment.CompareCounterKeys(a.Key, b.Key) })
	return out
}
