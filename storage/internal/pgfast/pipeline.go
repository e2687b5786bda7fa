package pgfast

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/edufund/edufund/storage/internal/dberr"
)

// Pipelines: several statements sent to PostgreSQL in one round trip and
// closed by one Sync, on a pgx connection of the store's pool. Without a
// BEGIN the statements before a Sync are one implicit transaction: the
// server commits them all when it reaches the Sync, or, if one fails,
// skips the rest and rolls everything back. So one round trip carries a
// whole transaction and its commit, and a statement that raises on a
// failed check undoes all of it. The statements are prepared once per
// connection (by name), parameters and results travel in binary.

// paramBufs holds the pipelines' parameter buffers of 64 kB: a batch's
// parameters beyond them go to a buffer of their own.
var paramBufs = sync.Pool{New: func() any { b := make([]byte, 0, 64<<10); return &b }}

// pgStmt is a statement of a pipeline: a fixed text prepared once per
// connection under its name.
type pgStmt struct {
	name string
	sql  string
}

// pgQuery is one statement of a pipeline with its arguments; scan, if
// set, is called for each row of its result, or else decode, which reads
// the row's values itself (decodeRows).
type pgQuery struct {
	stmt   *pgStmt
	args   []any
	scan   func(pgx.Rows) error
	decode func(*rowReader) error
}

// pgPlanSettings is the first statement of every pipeline: for the rest of
// its implicit transaction the batch statements are planned once per
// connection (generic plans) and as key lookups. Their plans must not
// depend on the statistics of the moment a connection first ran them: a
// plan made while a table is nearly empty (a fresh region, the morning of
// a campaign) would scan it sequentially for the life of the connection
// as it grows (perf-baseline, pitfall 2). JIT compilation is off: a
// generic plan's estimates over unnest and = ANY (and the disable cost of
// a plan node the settings forbid) can pass jit_above_cost, and compiling
// costs tens of milliseconds at every execution of a statement that runs
// in one or two.
var pgPlanSettings = &pgStmt{"edufund_plan_settings", `SELECT set_config('plan_cache_mode', 'force_generic_plan', true),
	set_config('enable_seqscan', 'off', true), set_config('enable_hashjoin', 'off', true), set_config('enable_mergejoin', 'off', true),
	set_config('jit', 'off', true)`}

// errPipelineCheck is a pipeline statement's check that failed (see
// pgCheck).
var errPipelineCheck = errors.New("storage: pipeline check failed")

// checkMarker begins the text of the error a failed check raises.
const checkMarker = "edufund check failed: "

// pgCheck wraps a statement whose rows are counted: it returns '0' if
// their count equals the parameter $n and otherwise fails with an error
// naming what, which aborts the pipeline's transaction (casting the text
// to an integer fails at run time: SQLSTATE 22P02; no function of ours in
// the schema).
func pgCheck(what, rows string, n int) string {
	return fmt.Sprintf(`WITH r AS (%s) SELECT (CASE WHEN count(*) = $%d THEN '0' ELSE '%s%s: ' || count(*) || ' of ' || $%d END)::int FROM r`,
		rows, n, checkMarker, what, n)
}

// isCheckFailure tells whether err is a failed pgCheck.
func isCheckFailure(err error) bool {
	return errors.Is(err, errPipelineCheck) || dberr.SQLState(err) == "22P02" && strings.Contains(err.Error(), checkMarker)
}

// runPipeline runs qs, after pgPlanSettings, as one implicit transaction
// in one round trip and scans their rows. It returns the first error: a
// statement's (the transaction was then rolled back), or the commit's.
func (s *Store) runPipeline(ctx context.Context, c *pgx.Conn, qs []pgQuery) error {
	defer s.trace("pipeline " + qs[0].stmt.name)()
	qs = append([]pgQuery{{stmt: pgPlanSettings}}, qs...)
	type built struct {
		sd             *pgconn.StatementDescription
		values         [][]byte
		formats, resFs []int16
	}
	bs := make([]built, len(qs))
	// One buffer for every parameter of the pipeline: each statement's
	// parameters start where the previous statement's end. It is reused
	// by the pipelines after this one: grown anew for each, it was a tenth
	// of the bytes an enrolment allocates.
	base := paramBufs.Get().(*[]byte)
	defer paramBufs.Put(base)
	pp := &pgParams{buf: (*base)[:0]}
	for i, q := range qs {
		sd, err := c.Prepare(ctx, q.stmt.name, q.stmt.sql)
		if err != nil {
			return fmt.Errorf("prepare %s: %w", q.stmt.name, err)
		}
		// Every parameter is encoded before anything is sent: a pipeline
		// abandoned before its Sync would cost the connection.
		vals, formats, err := pipelineParams(c.TypeMap(), sd, q.args, pp)
		if err != nil {
			return fmt.Errorf("%s: %w", q.stmt.name, err)
		}
		pp.buf, pp.ends = pp.buf[len(pp.buf):], pp.ends[:0]
		resFs := make([]int16, len(sd.Fields))
		for j, f := range sd.Fields {
			resFs[j] = c.TypeMap().FormatCodeForOID(f.DataTypeOID)
		}
		bs[i] = built{sd, vals, formats, resFs}
	}
	// The frontend's write buffer grown once to what the Bind messages
	// take, as the close's statements do (reserve): grown by doubling from
	// 1 kB, it was a fifth of the bytes an enrolment allocated.
	size := 64
	for _, b := range bs {
		size += 64 + 4*len(b.values) + 2*len(b.formats) + 2*len(b.resFs) + len(b.sd.Name)
		for _, v := range b.values {
			size += len(v)
		}
	}
	c.PgConn().Frontend().Send(reserve(size))
	p := c.PgConn().StartPipeline(ctx)
	for _, b := range bs {
		p.SendQueryStatement(b.sd, b.values, b.formats, b.resFs)
	}
	if err := p.Sync(); err != nil {
		_ = p.Close()
		return err
	}
	first := func() error {
		for _, q := range qs {
			res, err := p.GetResults()
			if err != nil {
				return fmt.Errorf("%s: %w", q.stmt.name, err)
			}
			rr, ok := res.(*pgconn.ResultReader)
			if !ok {
				return fmt.Errorf("storage: pipeline: %s: unexpected %T", q.stmt.name, res)
			}
			if q.decode != nil {
				if err := decodeRows(rr, q.decode); err != nil {
					return fmt.Errorf("%s: %w", q.stmt.name, err)
				}
				continue
			}
			rows := pgx.RowsFromResultReader(c.TypeMap(), rr)
			for rows.Next() {
				if q.scan == nil {
					continue
				}
				if err := q.scan(rows); err != nil {
					rows.Close()
					return fmt.Errorf("%s: %w", q.stmt.name, err)
				}
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return fmt.Errorf("%s: %w", q.stmt.name, err)
			}
		}
		// The Sync's answer is the commit's.
		res, err := p.GetResults()
		if err != nil {
			return fmt.Errorf("commit: %w", err)
		}
		if _, ok := res.(*pgconn.PipelineSync); !ok {
			return fmt.Errorf("storage: pipeline: unexpected %T at its end", res)
		}
		return nil
	}()
	if err := p.Close(); first == nil {
		first = err
	}
	return first
}

// decodeRows calls decode for each row of rr with a reader over its
// values, as they come (the statements' results are binary but for text,
// whose text is its binary form), and fails a row whose columns decode
// did not read to the last. The batch reads went through pgx's Scan,
// which boxes a pointer and allocates a string or a value per column: a
// quarter of the objects a batch allocated.
func decodeRows(rr *pgconn.ResultReader, decode func(*rowReader) error) error {
	for rr.NextRow() {
		r := rowReader{vals: rr.Values()}
		err := decode(&r)
		if err == nil {
			err = r.err
		}
		if err == nil && r.col != len(r.vals) {
			err = fmt.Errorf("storage: row of %d columns, %d decoded", len(r.vals), r.col)
		}
		if err != nil {
			_, _ = rr.Close()
			return err
		}
	}
	_, err := rr.Close()
	return err
}
