package storage

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/edufund/edufund/enrollment"
)

// The optimistic batch (enrollment.OptimisticBatchStore) on PostgreSQL:
// two reads without locks, each one statement in its own snapshot, and one
// statement that writes the whole batch and commits it, so a batch costs
// three round trips and one commit instead of BEGIN, five statements and
// COMMIT, and no row is locked while Go runs the rules. The versions are
// the rows' xmin: any committed UPDATE of a row gives it a new one, and a
// row locked FOR NO KEY UPDATE (or updated) by a statement under READ
// COMMITTED is re-checked against its newest version, so a change that
// commits after the read, even while the write waits for the row, fails
// the check.

var _ enrollment.OptimisticBatchStore = (*DB)(nil)

// OptimisticBatches is enrollment.OptimisticBatchStore: PostgreSQL only;
// SQLite has one writer in process, so there is nothing to gain.
func (db *DB) OptimisticBatches() bool { return db.dialect == Postgres }

func (db *DB) pgQuery(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	defer traceStatement(q)()
	return db.bun.DB.QueryContext(ctx, q, pgCached(args...)...)
}

var (
	pgReadBatchOnce sync.Once
	pgReadBatchSQL  string
)

func (t batchTx) readBatchSQL() string {
	pgReadBatchOnce.Do(func() {
		pgReadBatchSQL = `WITH c AS (SELECT *, xmin::text AS row_version FROM certificates WHERE id = ANY($1::uuid[])),
			a AS (SELECT *, xmin::text AS row_version FROM accounts WHERE certificate_id = ANY($1::uuid[])),
			k AS (SELECT k.* FROM contracts k JOIN unnest($1::uuid[]) AS u(id) ON k.certificate_id = u.id),
			o AS (` + t.offersSQLWhere("g.id = ANY($2::uuid[])") + `)
			SELECT 'i' AS kind, json_build_array(key, operation, request_hash, encode(result, 'base64'))::text AS doc FROM idempotency WHERE key = ANY($3::text[])
			UNION ALL SELECT 'c', row_to_json(c)::text FROM c
			UNION ALL SELECT 'v', id::text || ' ' || row_version FROM c
			UNION ALL SELECT 'a', row_to_json(a)::text FROM a
			UNION ALL SELECT 'w', certificate_id::text || ' ' || period_start::text || ' ' || row_version FROM a
			UNION ALL SELECT 'k', row_to_json(k)::text FROM k
			UNION ALL SELECT 'o', row_to_json(o)::text FROM o
			UNION ALL SELECT 'n', json_build_array(n.key, n.used, n.lim)::text FROM counters n JOIN unnest($4::text[]) AS u(k) ON n.key = u.k`
	})
	return pgReadBatchSQL
}

// ReadBatch is enrollment.OptimisticBatchStore.
func (db *DB) ReadBatch(ctx context.Context, keys []string, certIDs, groupIDs []uuid.UUID, counterKeys []string) ([]enrollment.IdempotencyRecord, enrollment.BatchRows, error) {
	var out enrollment.BatchRows
	if !db.OptimisticBatches() {
		return nil, out, errors.New("storage: optimistic batches need PostgreSQL")
	}
	if len(certIDs) > batchChunk || len(groupIDs) > batchChunk || len(keys) > batchChunk {
		return nil, out, fmt.Errorf("storage: batch of %d keys, %d certificates, %d groups: at most %d", len(keys), len(certIDs), len(groupIDs), batchChunk)
	}
	bt := batchTx{&tx{db: db}}
	if keys == nil {
		keys = []string{}
	}
	if counterKeys == nil {
		counterKeys = []string{}
	}
	rows, err := db.pgQuery(ctx, bt.readBatchSQL(), uuidStrings(certIDs), uuidStrings(groupIDs), keys, counterKeys)
	if err != nil {
		return nil, out, fmt.Errorf("storage: read batch: %w", err)
	}
	defer rows.Close()
	var docs []prefetchDoc
	var recs []enrollment.IdempotencyRecord
	var counters []enrollment.Counter
	certV := map[uuid.UUID]int64{}
	type akey struct {
		id    uuid.UUID
		start string
	}
	acctV := map[akey]int64{}
	for rows.Next() {
		var d prefetchDoc
		if err := rows.Scan(&d.Kind, &d.Doc); err != nil {
			return nil, out, fmt.Errorf("storage: read batch: %w", err)
		}
		switch d.Kind {
		case "i":
			var f [4]*string
			if err := json.Unmarshal(d.Doc, &f); err != nil || f[0] == nil || f[1] == nil || f[2] == nil {
				return nil, out, fmt.Errorf("storage: read batch: idempotency record %s: %v", d.Doc, err)
			}
			r := enrollment.IdempotencyRecord{Key: *f[0], Operation: *f[1], RequestHash: *f[2]}
			if f[3] != nil {
				// base64 in PostgreSQL breaks lines every 76 characters.
				if r.Result, err = base64.StdEncoding.DecodeString(strings.ReplaceAll(*f[3], "\n", "")); err != nil {
					return nil, out, fmt.Errorf("storage: read batch: idempotency result: %w", err)
				}
			}
			recs = append(recs, r)
		case "n":
			var c enrollment.Counter
			f := []any{&c.Key, &c.Used, &c.Limit}
			if err := json.Unmarshal(d.Doc, &f); err != nil {
				return nil, out, fmt.Errorf("storage: read batch: counter %s: %w", d.Doc, err)
			}
			counters = append(counters, c)
		case "v", "w":
			fs := strings.Fields(string(d.Doc))
			if len(fs) != 2 && len(fs) != 3 {
				return nil, out, fmt.Errorf("storage: read batch: version %q", d.Doc)
			}
			id, err := uuid.Parse(fs[0])
			if err != nil {
				return nil, out, fmt.Errorf("storage: read batch: version %q: %w", d.Doc, err)
			}
			v, err := strconv.ParseInt(fs[len(fs)-1], 10, 64)
			if err != nil {
				return nil, out, fmt.Errorf("storage: read batch: version %q: %w", d.Doc, err)
			}
			if d.Kind == "v" {
				certV[id] = v
			} else {
				acctV[akey{id, fs[1]}] = v
			}
		default:
			docs = append(docs, d)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, out, fmt.Errorf("storage: read batch: %w", err)
	}
	out, err = bt.batchRowsOf(docs)
	if err != nil {
		return nil, out, err
	}
	out.CertVersions = certV
	out.Counters = counters
	for i := range out.Accounts {
		a := &out.Accounts[i]
		a.Version = acctV[akey{a.CertificateID, a.Period.Start.String()}]
	}
	return recs, out, nil
}

const pgReadCountersSQL = `SELECT key, used, lim FROM counters WHERE key = ANY($1::text[])`

// ReadCounters is enrollment.OptimisticBatchStore.
func (db *DB) ReadCounters(ctx context.Context, keys []string) ([]enrollment.Counter, error) {
	if keys == nil {
		keys = []string{}
	}
	out, err := scanCounters(db.pgQuery(ctx, pgReadCountersSQL, keys))
	if err != nil {
		return nil, fmt.Errorf("storage: read counters: %w", err)
	}
	return out, nil
}

var (
	pgApplyOptOnce sync.Once
	pgApplyOptSQL  string
)

// staleMarker is the text of the error the optimistic write raises when a
// check fails: casting it to an integer fails at run time (SQLSTATE 22P02),
// which aborts the statement and so its implicit transaction, with no
// function of our own in the schema.
const staleMarker = "edufund: optimistic batch stale"

// applyOptSQL is the one statement of an optimistic batch. The certificates
// are locked first (by the first element of the final array), then the
// rows are written, then the counters are locked in Submit's order and
// changed: their CTE reads the counts of every write (a barrier), so the
// hot rows are locked only for the end of the statement and its commit.
// Every write returns its rows; the final CASE compares their counts with
// the expected ones and raises if any differs.
func (t batchTx) applyOptSQL() string {
	pgApplyOptOnce.Do(func() {
		con := t.pgTableOf(reflect.TypeFor[contractRow]())
		hold := t.pgTableOf(reflect.TypeFor[holdRow]())
		post := t.pgTableOf(reflect.TypeFor[postingRow]())
		acct := t.pgTableOf(reflect.TypeFor[accountRow]())
		var sets []string
		for _, f := range acct.fields {
			if !f.IsPK {
				sets = append(sets, f.Name+" = v."+f.Name)
			}
		}
		pgApplyOptSQL = `WITH lc AS (SELECT c.id FROM certificates c JOIN unnest($1::uuid[], $2::text[]) AS v(id, x) ON c.id = v.id
				WHERE c.xmin = v.x::xid ORDER BY c.id FOR NO KEY UPDATE OF c),
			w0 AS (` + con.insertSQL(3, "RETURNING 1") + `),
			w1 AS (` + hold.insertSQL(4, "RETURNING 1") + `),
			w2 AS (` + post.insertSQL(5, "RETURNING 1") + `),
			au AS (UPDATE accounts a SET ` + strings.Join(sets, ", ") + `
				FROM jsonb_populate_recordset(NULL::accounts, $6::jsonb) AS v, unnest($7::uuid[], $8::date[], $9::text[]) AS x(c, s, ver)
				WHERE a.certificate_id = v.certificate_id AND a.period_start = v.period_start
					AND x.c = v.certificate_id AND x.s = v.period_start AND a.xmin = x.ver::xid RETURNING 1),
			ai AS (` + acct.insertSQL(10, "ON CONFLICT DO NOTHING RETURNING 1") + `),
			wi AS (INSERT INTO idempotency (key, operation, request_hash, result, created_at)
				SELECT u.k, u.o, u.h, u.r, $14::timestamptz FROM unnest($11::text[], $12::text[], $13::text[], $15::bytea[]) AS u(k, o, h, r)
				ON CONFLICT (key) DO NOTHING RETURNING 1),
			done AS (SELECT (SELECT count(*) FROM w0) + (SELECT count(*) FROM w1) + (SELECT count(*) FROM w2)
				+ (SELECT count(*) FROM au) + (SELECT count(*) FROM ai) + (SELECT count(*) FROM wi) AS n),
			lk AS (SELECT c.key FROM counters c JOIN unnest($16::text[]) WITH ORDINALITY AS u(k, ord) ON c.key = u.k, done WHERE done.n >= 0
				ORDER BY u.ord FOR NO KEY UPDATE OF c),
			g AS (UPDATE counters c SET used = c.used + v.add
				FROM lk, unnest($16::text[], $17::bigint[], $18::bigint[], $19::bigint[], $20::boolean[]) AS v(key, add, used, lim, exact)
				WHERE c.key = lk.key AND c.key = v.key AND c.used + v.add <= c.lim AND (NOT v.exact OR (c.used = v.used AND c.lim = v.lim))
				RETURNING 1),
			gn AS (INSERT INTO counters (key, used, lim) SELECT u.k, u.a, u.l FROM unnest($21::text[], $22::bigint[], $23::bigint[]) AS u(k, a, l), done
				WHERE done.n >= 0 ON CONFLICT (key) DO NOTHING RETURNING 1),
			got AS (SELECT ARRAY[(SELECT count(*) FROM lc), (SELECT count(*) FROM w0), (SELECT count(*) FROM w1), (SELECT count(*) FROM w2),
				(SELECT count(*) FROM au), (SELECT count(*) FROM ai), (SELECT count(*) FROM wi), (SELECT count(*) FROM g), (SELECT count(*) FROM gn)] AS n)
			SELECT (CASE WHEN got.n = $24::bigint[] THEN '0' ELSE '` + staleMarker + ` ' || got.n::text || ' <> ' || $24::bigint[]::text END)::int FROM got`
	})
	return pgApplyOptSQL
}

// ApplyOptimistic is enrollment.OptimisticBatchStore.
func (db *DB) ApplyOptimistic(ctx context.Context, w enrollment.BatchWrite) error {
	if !db.OptimisticBatches() {
		return errors.New("storage: optimistic batches need PostgreSQL")
	}
	if len(w.Release) > 0 {
		return errors.New("storage: an optimistic batch claims no key, so it releases none")
	}
	if len(w.Contracts)+len(w.Holds)+len(w.Postings)+len(w.Accounts)+len(w.Counters)+len(w.Results)+len(w.Guards)+len(w.Check) == 0 {
		return nil // every application was refused by what the snapshot showed
	}
	bt := batchTx{&tx{db: db}}
	rs, err := batchRows(w)
	if err != nil {
		return err
	}
	var args [24]any
	certs, cvers := make([]string, len(w.Check)), make([]string, len(w.Check))
	for i, c := range w.Check {
		certs[i], cvers[i] = c.ID.String(), strconv.FormatInt(c.Version, 10)
	}
	args[0], args[1] = certs, cvers
	if args[2], err = jsonOf(bt, rs.contracts); err != nil {
		return err
	}
	if args[3], err = jsonOf(bt, rs.holds); err != nil {
		return err
	}
	if args[4], err = jsonOf(bt, rs.postings); err != nil {
		return err
	}
	var upd, ins []*accountRow
	uc, us, uv := []string{}, []string{}, []string{}
	for i, a := range w.Accounts {
		if a.Version == 0 {
			ins = append(ins, rs.accounts[i])
			continue
		}
		upd = append(upd, rs.accounts[i])
		uc, us, uv = append(uc, a.CertificateID.String()), append(us, a.Period.Start.String()), append(uv, strconv.FormatInt(a.Version, 10))
	}
	if args[5], err = jsonOf(bt, upd); err != nil {
		return err
	}
	args[6], args[7], args[8] = uc, us, uv
	if args[9], err = jsonOf(bt, ins); err != nil {
		return err
	}
	rk, ro, rh, rr := []string{}, []string{}, []string{}, [][]byte{}
	for _, r := range rs.results {
		rk, ro, rh, rr = append(rk, r.Key), append(ro, r.Operation), append(rh, r.RequestHash), append(rr, r.Result)
	}
	args[10], args[11], args[12], args[13], args[14] = rk, ro, rh, time.Time(dbTimeNow()), rr
	n := len(w.Guards)
	gk, ga, gu, gl, ge := make([]string, n), make([]int64, n), make([]int64, n), make([]int64, n), make([]bool, n)
	// The counters are locked in this order: the groups' seats first, then
	// the others in Submit's order, as a batch under locks takes them (its
	// seats when it reads them, the rest by its guards at the end), so that
	// the two kinds of batch cannot deadlock.
	for i, g := range sortGuards(w.Guards, true) {
		gk[i], ga[i], gu[i], gl[i], ge[i] = g.Key, g.Add, g.Used, g.Limit, g.Exact
	}
	args[15], args[16], args[17], args[18], args[19] = gk, ga, gu, gl, ge
	nk, na, nl := []string{}, []int64{}, []int64{}
	for _, c := range rs.counters {
		nk, na, nl = append(nk, c.Key), append(na, c.Used), append(nl, c.Lim)
	}
	args[20], args[21], args[22] = nk, na, nl
	args[23] = []int64{int64(len(w.Check)), int64(len(rs.contracts)), int64(len(rs.holds)), int64(len(rs.postings)),
		int64(len(upd)), int64(len(ins)), int64(len(rs.results)), int64(n), int64(len(nk))}
	rows, err := db.pgQuery(ctx, bt.applyOptSQL(), args[:]...)
	if err == nil {
		for rows.Next() {
		}
		err = rows.Err()
		if cerr := rows.Close(); err == nil {
			err = cerr
		}
	}
	switch {
	case err == nil:
		return nil
	case sqlState(err) == "22P02" && strings.Contains(err.Error(), staleMarker):
		return fmt.Errorf("storage: optimistic batch: %w (%v)", enrollment.ErrBatchStale, err)
	case isUnique(err) || isRetryable(err):
		return fmt.Errorf("storage: optimistic batch: %w (%v)", enrollment.ErrBatchStale, err)
	}
	return fmt.Errorf("storage: optimistic batch: %w", err)
}

// sortGuards orders counters as they are locked: in Submit's order
// (enrollment.SortCounterKeys), the groups' seats first when seatsFirst (an
// optimistic batch locks all its counters at the end; a batch under locks
// has locked its seats when it read them, before its guards).
func sortGuards(gs []enrollment.CounterGuard, seatsFirst bool) []enrollment.CounterGuard {
	keys := make([]string, len(gs))
	for i, g := range gs {
		keys[i] = g.Key
	}
	enrollment.SortCounterKeys(keys)
	pos := make(map[string]int, len(keys))
	for i, k := range keys {
		if seatsFirst && strings.HasPrefix(k, "seats:") {
			i -= len(keys)
		}
		pos[k] = i
	}
	out := slices.Clone(gs)
	slices.SortStableFunc(out, func(a, b enrollment.CounterGuard) int { return pos[a.Key] - pos[b.Key] })
	return out
}
