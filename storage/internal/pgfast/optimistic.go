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
	pgReadKeys         = &pgStmt{"edufund_read_keys", pgIdemRecordsSQL}
	pgReadCertificates = &pgStmt{"edufund_read_certificates", `SELECT ` + schema.Certificates.List("") + `, xmin::text::bigint FROM certificates WHERE id = ANY($1::uuid[])`}
	pgReadAccounts     = &pgStmt{"edufund_read_accounts", `SELECT ` + schema.PGAccountSelect + `, a.xmin::text::bigint FROM ` + schema.AccountFrom + ` WHERE a.certificate_id = ANY($1::uuid[])`}
	pgReadContracts    = &pgStmt{"edufund_read_contracts", pgContractsSQL}
	pgReadOffers       = &pgStmt{"edufund_read_offers", pgOffersSQL}
	pgReadCounters     = &pgStmt{"edufund_read_counters", `SELECT ` + schema.Counters.List("") + ` FROM counters WHERE key = ANY($1::text[])`}
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
	// Each statement decodes its rows into one row struct, through the
	// pointers its decoder took once, and keeps what Domain makes of it.
	var (
		key     schema.IdempotencyKey
		cert    schema.Certificate
		acct    schema.Account
		ctr     schema.Contract
		offer   schema.Offer
		counter schema.Counter
		keyDec  = idempotencyCodec.decoder(&key)
		certDec = certificateCodec.decoder(&cert)
		acctDec = accountCodec.decoder(&acct)
		ctrDec  = contractCodec.decoder(&ctr)
		cntDec  = counterCodec.decoder(&counter)
		offDecs = [...]rowDecoder{groupCodec.decoder(&offer.G), moduleCodec.decoder(&offer.M), programCodec.decoder(&offer.P), providerCodec.decoder(&offer.V)}
		agDec   = agreementCodec.decoder(&offer.Ag)
	)
	qs := []pgQuery{
		{stmt: pgReadKeys, args: []any{nonNil(keys)}, decode: func(r *rowReader) error {
			keyDec.decode(r, false)
			recs = append(recs, key.Domain())
			return nil
		}},
		{stmt: pgReadCertificates, args: []any{certs}, decode: func(r *rowReader) error {
			certDec.decode(r, false)
			v := r.int8()
			out.Certificates = append(out.Certificates, cert.Domain())
			out.CertVersions[cert.ID] = v
			return nil
		}},
		{stmt: pgReadAccounts, args: []any{certs}, decode: func(r *rowReader) error {
			acctDec.decode(r, false)
			acct.Reserved = r.int8()
			v := r.int8()
			if r.err != nil {
				return r.err
			}
			if err := acct.Check(); err != nil {
				return err
			}
			a := acct.Domain()
			a.Version = v
			out.Accounts = append(out.Accounts, a)
			return nil
		}},
		{stmt: pgReadContracts, args: []any{certs, pgUUIDs(groupIDs)}, decode: func(r *rowReader) error {
			ctrDec.decode(r, false)
			out.Contracts = append(out.Contracts, ctr.Domain())
			return nil
		}},
		{stmt: pgReadOffers, args: []any{pgUUIDs(groupIDs)}, decode: func(r *rowReader) error {
			offer = schema.Offer{} // the agreement's columns are NULL without one
			for _, d := range offDecs {
				d.decode(r, false)
			}
			agDec.decode(r, true)
			offers = append(offers, offer)
			return nil
		}},
		{stmt: pgReadCounters, args: []any{nonNil(counterKeys)}, decode: func(r *rowReader) error {
			cntDec.decode(r, false)
			out.Counters = append(out.Counters, counter.Domain())
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
			k, err := scanCounter(rows)
			out = append(out, k)
			return err
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
	pgUpdateAccounts = &pgStmt{"edufund_opt_update_accounts", updateAccountsSQL()}
	pgInsertAccounts = &pgStmt{"edufund_opt_insert_accounts", func() string { q, _ := accountCodec.insert(1, ""); return q }()}
	pgInsertCounters = &pgStmt{"edufund_opt_insert_counters", func() string { q, _ := counterCodec.insert(1, ""); return q }()}
	pgLockCounters   = &pgStmt{"edufund_opt_lock_counters", `SELECT count(*) FROM (SELECT 1 FROM unnest($1::text[]) WITH ORDINALITY AS u(k, ord)
		JOIN counters c ON c.key = u.k ORDER BY u.ord FOR NO KEY UPDATE OF c) l`}
	pgGuardCounters = &pgStmt{"edufund_opt_guard_counters", pgCheck("counters",
		`UPDATE counters c SET used = c.used + v.add
			FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::bigint[], $5::boolean[], $6::bigint[]) AS v(key, add, used, lim, exact, room)
			WHERE c.key = v.key AND c.used + v.add + v.room <= c.lim AND (NOT v.exact OR (c.used = v.used AND c.lim = v.lim)) RETURNING 1`, 7)}
)

// updateAccountsSQL updates the accounts whose rows still have the
// versions read: the parameters are the accounts' column arrays, their
// versions and their number (pgCheck).
func updateAccountsSQL() string {
	var set, where []string
	for _, c := range schema.Accounts.Columns {
		if c.PK {
			where = append(where, "a."+c.Name+" = v."+c.Name)
		} else {
			set = append(set, c.Name+" = v."+c.Name)
		}
	}
	n := len(schema.Accounts.Columns)
	return pgCheck("accounts", `UPDATE accounts a SET `+strings.Join(set, ", ")+`
		FROM `+unnestOf(1, append(schema.Accounts.Types(), "text")...)+` AS v(`+schema.Accounts.List("")+`, version)
		WHERE `+strings.Join(where, " AND ")+` AND a.xmin = v.version::xid RETURNING 1`, n+2)
}

// pgRowsCTEs inserts the new rows of a batch as data-modifying CTEs of
// one statement (its inserts then share one executor start and one round
// of trigger and index setup): contracts, holds, postings and idempotency
// records, the parameters of rowsArgs. holds and results end their inserts
// (ON CONFLICT clauses, or nothing). It returns the SQL and the next
// parameter's number.
func pgRowsCTEs(holds, results string) (string, int) {
	k, n := contractCodec.insert(1, "")
	h, n := holdCodec.insert(n, holds)
	p, n := postingCodec.insert(n, "")
	e, n := eventCodec.insert(n, "")
	r, n := idempotencyCodec.insert(n, results)
	return `WITH k AS (` + k + `), h AS (` + h + `), p AS (` + p + `), e AS (` + e + `), r AS (` + r + `)`, n
}

// rowsArgs are the parameters of pgRowsCTEs.
func rowsArgs(rs *schema.Writes) []any {
	args := contractCodec.args(rs.Contracts)
	args = append(args, holdCodec.args(rs.Holds)...)
	args = append(args, postingCodec.args(rs.Postings)...)
	events := make([]schema.NewEvent, len(rs.Events))
	for i, e := range rs.Events {
		events[i] = e.Appended()
	}
	args = append(args, eventCodec.args(events)...)
	return append(args, idempotencyCodec.args(rs.Results)...)
}

// ApplyOptimistic is batch.OptimisticStore.ApplyOptimistic.
func (s *Store) ApplyOptimistic(ctx context.Context, w batch.Write) error {
	if len(w.Release) > 0 {
		return errors.New("storage: an optimistic batch claims no key, so it releases none")
	}
	if len(w.Contracts)+len(w.Holds)+len(w.Postings)+len(w.Events)+len(w.Accounts)+len(w.Counters)+len(w.Results)+len(w.Guards)+len(w.Check) == 0 {
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
	var qs []pgQuery
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
	rs, err := schema.WritesOf(w)
	if err != nil {
		return nil, err
	}
	var upd, ins []*schema.Account
	var vers []string
	for i, a := range w.Accounts {
		if a.Version == 0 {
			ins = append(ins, rs.Accounts[i])
		} else {
			upd = append(upd, rs.Accounts[i])
			vers = append(vers, strconv.FormatInt(a.Version, 10))
		}
	}
	add(pgUpdateAccounts, len(upd), append(append(accountCodec.args(upd), vers), len(upd))...)
	add(pgInsertAccounts, len(ins), accountCodec.args(ins)...)
	add(pgInsertRows, len(rs.Contracts)+len(rs.Holds)+len(rs.Postings)+len(rs.Events)+len(rs.Results), rowsArgs(rs)...)
	add(pgInsertCounters, len(rs.Counters), counterCodec.args(rs.Counters)...)
	// The counters are locked in the one global order (seats first, as a
	// batch under locks takes them when it reads them, the rest by its
	// guards at the end; Submit and the releases take them so too).
	gs := guardArgs(sortGuards(w.Guards))
	add(pgLockCounters, len(w.Guards), gs[0])
	add(pgGuardCounters, len(w.Guards), append(gs, len(w.Guards))...)
	return qs, nil
}

// sortGuards orders counters as they are locked: in the order of
// enrollment.SortCounterKeys, the one every transaction takes them in.
func sortGuards(gs []batch.CounterGuard) []batch.CounterGuard {
	out := slices.Clone(gs)
	slices.SortStableFunc(out, func(a, b batch.CounterGuard) int { return enrollment.CompareCounterKeys(a.Key, b.Key) })
	return out
}
