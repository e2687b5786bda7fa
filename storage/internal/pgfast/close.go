package pgfast

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/enrollment/batch"
	"github.com/edufund/edufund/funding"
	"github.com/edufund/edufund/storage/internal/dberr"
	"github.com/edufund/edufund/storage/internal/schema"
)

// The batched close's PostgreSQL statements run on the extended
// protocol with their parameters and results in binary, encoded and decoded
// here rather than through pgx's type map: a page is some thirty arrays of
// thousands of elements going out and 5,000 rows of 44 columns coming back,
// and pgx's reflection-driven encode and scan plans, with their per-value
// allocations, were about a fifth of the close's client CPU. Each statement
// is prepared once per connection under a fixed name (pgx.Conn.Prepare is
// idempotent), and its parameter types, as the server inferred them from
// the casts, are checked against the encoders before the first use.

// pgCloseTx is batch.CloseTx over a pgx transaction.
type pgCloseTx struct {
	tx    pgx.Tx
	store *Store // its parameter buffers and statement hook
	// retry remembers the first retryable failure, as the store's
	// transactions do, so that the error of a later statement still
	// retries the page.
	retry error
	// holds is where LockContracts found each hold of the page: the write
	// statement updates them by tuple id.
	holds map[uuid.UUID]tid
}

// tid is a row's tuple id as tid_send writes it: the block number and the
// line pointer's offset, big-endian.
type tid [6]byte

var _ batch.CloseTx = (*pgCloseTx)(nil)

// closeBegin begins a page's transaction with the connection's default
// isolation and generic plans for its statements. A custom plan sees the
// length of the page's arrays and, on a small region, joins an array of
// 5,000 to a table by a sequential scan and a hash (for a close of 100,000
// contracts, half of its pages), replanning each time (10–25 ms a page);
// the generic plan joins by an index probe per element, in the array's
// order, which is also the order the close takes its locks in. JIT is off
// for the same transaction: once ANALYZE has seen the invoice lines and
// charges of a close, the generic plan of the lock statement costs more
// than jit_above_cost (its estimates are for any id range), and it was
// compiled at every execution: a re-run of a 1M close, which only runs the
// lock statement, took 44–57 s with JIT and 15–18 s without. Bitmap scans
// are off too: the generic plan of the lock statement probed a contract's
// invoice lines with a bitmap scan whenever lines had been added since the
// table's last ANALYZE (a close adds two per contract, and a re-run or a
// resumed close plans after them), and a bitmap heap scan rescanned
// once per contract builds a bitmap and asks the kernel for the table's
// size each time: 56 ms for a page of 5,000 against 29 ms by the index
// (psql, 1M region), and a re-run of a 1M close 16 s against 19.
// Sequential scans are off as in the batches' pipeline: a generic plan
// made on a small region (a first close, a few hundred holds) updated the
// page's holds by a sequential scan of them all, and kept it until an
// ANALYZE of the table replanned it (TestPlansAreKeyed).
const closeBegin = "BEGIN; " + closeSettings

// closeSettings are the planner settings of a page's transaction.
const closeSettings = "SET LOCAL plan_cache_mode = force_generic_plan; SET LOCAL jit = off; SET LOCAL enable_bitmapscan = off; SET LOCAL enable_seqscan = off"

// CloseTx runs fn in one transaction of a pgx connection of the pool
// (taken with database/sql's Conn.Raw), not through database/sql: the rows
// of a page are scanned and its arrays encoded without database/sql's
// per-value conversions. It begins with the connection's default
// isolation, as the store's transactions do, and is one attempt: the
// caller retries it.
func (s *Store) CloseTx(ctx context.Context, fn func(ctx context.Context, tx batch.CloseTx) error) error {
	return s.withConn(ctx, func(c *pgx.Conn) error { return s.runCloseTx(ctx, c, fn) })
}

func (s *Store) runCloseTx(ctx context.Context, c *pgx.Conn, fn func(ctx context.Context, tx batch.CloseTx) error) error {
	opts := pgx.TxOptions{}
	if v, _ := strconv.Atoi(strings.SplitN(c.PgConn().ParameterStatus("server_version"), ".", 2)[0]); v >= 12 {
		opts.BeginQuery = closeBegin // plan_cache_mode is PostgreSQL 12's
	}
	ptx, err := c.BeginTx(ctx, opts)
	if err != nil {
		return err
	}
	t := &pgCloseTx{tx: ptx, store: s}
	if err := fn(ctx, t); err != nil {
		_ = ptx.Rollback(context.WithoutCancel(ctx))
		if t.retry != nil && !dberr.Retryable(err) {
			err = fmt.Errorf("%w (after: %w)", err, t.retry)
		}
		return err
	}
	return ptx.Commit(ctx)
}

// fail maps a statement's error like tx.write.
func (t *pgCloseTx) fail(err error, what string) error {
	if t.retry == nil && dberr.Retryable(err) {
		t.retry = err
	}
	return dberr.Write(err, what)
}

// pgStatement is a prepared statement of the close.
type pgStatement struct {
	name, sql string
	params    []uint32 // the OIDs the parameters are encoded as
	err       error    // why the statement could not be built
}

// PostgreSQL type OIDs of the values the close sends and reads.
const (
	oidBool        = 16
	oidInt8        = 20
	oidInt4        = 23
	oidText        = 25
	oidDate        = 1082
	oidTimestamptz = 1184
	oidUUID        = 2950
	oidTID         = 27
	oidTIDArray    = 1010
	oidTextArray   = 1009
	oidInt4Array   = 1007
	oidInt8Array   = 1016
	oidDateArray   = 1182
	oidUUIDArray   = 2951
)

// pgEpochDays is 2000-01-01, PostgreSQL's epoch, in days since 1970-01-01;
// pgEpochMicros the same in microseconds.
const (
	pgEpochDays   = 10957
	pgEpochMicros = pgEpochDays * 86400 * 1000000
)

var binaryFormats = [...]int16{1}

// exec runs st with the binary parameters in ps and asks for binary
// results. The parameters are copied into the connection's write buffer, so
// ps may be reused once exec returns.
func (t *pgCloseTx) exec(ctx context.Context, st *pgStatement, ps *pgParams) (*pgconn.ResultReader, error) {
	if st.err != nil {
		return nil, st.err
	}
	c := t.tx.Conn()
	sd, err := c.Prepare(ctx, st.name, st.sql)
	if err != nil {
		return nil, err
	}
	params := ps.values()
	if len(sd.ParamOIDs) != len(st.params) || len(params) != len(st.params) {
		return nil, fmt.Errorf("storage: statement %s has %d parameters, the close sends %d", st.name, len(sd.ParamOIDs), len(params))
	}
	for i, oid := range sd.ParamOIDs {
		if oid != st.params[i] {
			return nil, fmt.Errorf("storage: statement %s: parameter $%d is of type %d, the close encodes %d", st.name, i+1, oid, st.params[i])
		}
	}
	pc := c.PgConn()
	// The Bind message is appended to the frontend's write buffer, which
	// starts at 1 kB after every flush: a page's 2–3 MB would grow it by
	// doubling, a third of the close's allocations. Grow it once.
	pc.Frontend().Send(reserve(len(ps.buf) + 4*len(params) + len(st.name) + 64))
	return pc.ExecStatement(ctx, sd, params, binaryFormats[:], binaryFormats[:]), nil
}

// reserve is a frontend "message" of no bytes that grows the frontend's
// write buffer by its capacity: pgproto3.Frontend.Send appends a message's
// encoding to that buffer, and this one appends nothing.
type reserve int

func (reserve) Frontend()           {}
func (reserve) Decode([]byte) error { return fmt.Errorf("storage: reserve is not a protocol message") }
func (n reserve) Encode(dst []byte) ([]byte, error) {
	return slices.Grow(dst, int(n)), nil
}

// Binary parameters (the formats of the types' send functions).

// pgParams encodes the parameters of one statement, one after another,
// into one buffer; values cuts it into the parameters. A page's buffer is
// taken from its Store's (pgCloseTx.params) and given back once the
// statement is sent (pgCloseTx.release).
type pgParams struct {
	buf  []byte
	ends []int // where each parameter ends in buf
}

// closeParamBuffers is how many parameter buffers a Store keeps for reuse:
// two per page in flight, for as many workers as a close on two to four
// cores runs.
const closeParamBuffers = 8

// params takes a parameter buffer for reuse, or a new one.
func (t *pgCloseTx) params() *pgParams {
	select {
	case p := <-t.store.closeParams:
		p.reset()
		return p
	default:
		return new(pgParams)
	}
}

// release keeps p for reuse, unless enough are kept or it is larger than
// any default page needs (a close with a very large page size).
func (t *pgCloseTx) release(p *pgParams) {
	if cap(p.buf) > 64<<20 {
		return
	}
	select {
	case t.store.closeParams <- p:
	default:
	}
}

func (p *pgParams) end() { p.ends = append(p.ends, len(p.buf)) }

// reset empties p for another statement's parameters.
func (p *pgParams) reset() { p.buf, p.ends = p.buf[:0], p.ends[:0] }

// values is the parameters, each a slice of the buffer.
func (p *pgParams) values() [][]byte {
	out := make([][]byte, len(p.ends))
	start := 0
	for i, e := range p.ends {
		out[i] = p.buf[start:e:e]
		if out[i] == nil {
			out[i] = []byte{} // empty, not NULL
		}
		start = e
	}
	return out
}

// array starts a one-dimensional array of n elements of type oid
// (array_send: dimensions, null flag, element type, then length and lower
// bound of the dimension) and makes room for size bytes of elements with
// their length words.
func (p *pgParams) array(oid uint32, n, size int) { p.arrayNulls(oid, n, size, false) }

// arrayNulls is array with the flag that some elements are NULL.
func (p *pgParams) arrayNulls(oid uint32, n, size int, nulls bool) {
	p.buf = slices.Grow(p.buf, 20+size)
	b := p.buf
	if n == 0 {
		b = binary.BigEndian.AppendUint32(b, 0) // no dimensions
		b = binary.BigEndian.AppendUint32(b, 0)
		p.buf = binary.BigEndian.AppendUint32(b, oid)
		return
	}
	flag := uint32(0)
	if nulls {
		flag = 1
	}
	b = binary.BigEndian.AppendUint32(b, 1)
	b = binary.BigEndian.AppendUint32(b, flag)
	b = binary.BigEndian.AppendUint32(b, oid)
	b = binary.BigEndian.AppendUint32(b, uint32(n))
	p.buf = binary.BigEndian.AppendUint32(b, 1)
}

// fixed encodes an array of n elements of type oid whose send format is
// size bytes, each appended to b by put.
func (p *pgParams) fixed(oid uint32, size, n int, put func(b []byte, i int) []byte) {
	p.array(oid, n, (4+size)*n)
	b := p.buf
	for i := range n {
		b = binary.BigEndian.AppendUint32(b, uint32(size))
		b = put(b, i)
	}
	p.buf = b
	p.end()
}

func (p *pgParams) uuids(n int, id func(i int) uuid.UUID) {
	p.fixed(oidUUID, 16, n, func(b []byte, i int) []byte { u := id(i); return append(b, u[:]...) })
}

// tids encodes an array of tuple ids (tid_send: block number, then the
// line pointer's offset).
func (p *pgParams) tids(n int, t func(i int) tid) {
	p.fixed(oidTID, 6, n, func(b []byte, i int) []byte { v := t(i); return append(b, v[:]...) })
}

func (p *pgParams) int8s(n int, v func(i int) int64) {
	p.fixed(oidInt8, 8, n, func(b []byte, i int) []byte { return binary.BigEndian.AppendUint64(b, uint64(v(i))) })
}

func (p *pgParams) int4s(n int, v func(i int) int32) {
	p.fixed(oidInt4, 4, n, func(b []byte, i int) []byte { return binary.BigEndian.AppendUint32(b, uint32(v(i))) })
}

func (p *pgParams) dates(n int, d func(i int) funding.Date) {
	p.fixed(oidDate, 4, n, func(b []byte, i int) []byte { return binary.BigEndian.AppendUint32(b, uint32(pgDays(d(i)))) })
}

func (p *pgParams) texts(n int, s func(i int) string) {
	size := 0
	for i := range n {
		size += 4 + len(s(i))
	}
	p.array(oidText, n, size)
	b := p.buf
	for i := range n {
		v := s(i)
		b = binary.BigEndian.AppendUint32(b, uint32(len(v)))
		b = append(b, v...)
	}
	p.buf = b
	p.end()
}

func (p *pgParams) text(s string) {
	p.buf = append(p.buf, s...)
	p.end()
}

func (p *pgParams) uuid(id uuid.UUID) {
	p.buf = append(p.buf, id[:]...)
	p.end()
}

func (p *pgParams) int8(n int64) {
	p.buf = binary.BigEndian.AppendUint64(p.buf, uint64(n))
	p.end()
}

func (p *pgParams) timestamptz(t time.Time) {
	p.buf = binary.BigEndian.AppendUint64(p.buf, uint64(t.UnixMicro()-pgEpochMicros))
	p.end()
}

// pgDays is d in days since 2000-01-01.
func pgDays(d funding.Date) int32 {
	return int32(d.Time().Unix()/86400) - pgEpochDays
}

// Binary results.

// rowReader decodes the columns of one binary row in order; the first
// error sticks.
type rowReader struct {
	vals  [][]byte
	col   int
	err   error
	dates map[int32]funding.Date // the few dates of a page, converted once (nil: none kept)
	strs  map[string]string      // the few distinct statuses, schemes, … (nil: none kept)
}

func (r *rowReader) next(size int) []byte {
	if r.err != nil {
		return nil
	}
	if r.col >= len(r.vals) {
		r.err = fmt.Errorf("storage: row of %d columns, column %d read", len(r.vals), r.col+1)
		return nil
	}
	v := r.vals[r.col]
	r.col++
	if v != nil && size >= 0 && len(v) != size {
		r.err = fmt.Errorf("storage: column %d has %d bytes, want %d", r.col, len(v), size)
		return nil
	}
	return v
}

// uuid reads a uuid; NULL is uuid.Nil.
func (r *rowReader) uuid() uuid.UUID {
	var id uuid.UUID
	copy(id[:], r.next(16))
	return id
}

// tid reads a tuple id; NULL is the zero tid, which no row has.
func (r *rowReader) tid() tid {
	var t tid
	copy(t[:], r.next(6))
	return t
}

func (r *rowReader) int8() int64 {
	v := r.next(8)
	if v == nil {
		r.notNull()
		return 0
	}
	return int64(binary.BigEndian.Uint64(v))
}

func (r *rowReader) int4() int32 {
	v := r.next(4)
	if v == nil {
		r.notNull()
		return 0
	}
	return int32(binary.BigEndian.Uint32(v))
}

func (r *rowReader) bool() bool {
	v := r.next(1)
	if v == nil {
		r.notNull()
		return false
	}
	return v[0] != 0
}

func (r *rowReader) notNull() {
	if r.err == nil {
		r.err = fmt.Errorf("storage: column %d is NULL", r.col)
	}
}

// text reads a string, interned: the close's text columns take a few
// values each.
func (r *rowReader) text() string {
	v := r.next(-1)
	if s, ok := r.strs[string(v)]; ok {
		return s
	}
	s := string(v)
	if r.strs != nil && len(r.strs) < 4096 {
		r.strs[s] = s
	}
	return s
}

// date reads a date; NULL is the zero Date.
func (r *rowReader) date() schema.Date {
	v := r.next(4)
	if v == nil {
		return schema.Date{}
	}
	n := int32(binary.BigEndian.Uint32(v))
	if n == math.MaxInt32 || n == math.MinInt32 {
		if r.err == nil {
			r.err = fmt.Errorf("storage: column %d is an infinite date", r.col)
		}
		return schema.Date{}
	}
	d, ok := r.dates[n]
	if !ok {
		d = funding.DateOf(time.Unix((int64(n)+pgEpochDays)*86400, 0).UTC())
		if r.dates != nil {
			r.dates[n] = d
		}
	}
	return schema.Date(d)
}

func (r *rowReader) timestamptz() time.Time {
	v := r.next(8)
	if v == nil {
		return time.Time{}
	}
	return time.UnixMicro(int64(binary.BigEndian.Uint64(v)) + pgEpochMicros).UTC()
}

// textArray reads a one-dimensional text[] without NULLs, calling f on
// each element (valid only during the call).
func (r *rowReader) textArray(f func([]byte)) {
	v := r.next(-1)
	if r.err != nil {
		return
	}
	bad := func() { r.err = fmt.Errorf("storage: column %d is not a text array", r.col) }
	if len(v) < 12 {
		bad()
		return
	}
	ndim := binary.BigEndian.Uint32(v)
	if ndim == 0 {
		return
	}
	if ndim != 1 || len(v) < 20 || binary.BigEndian.Uint32(v[8:]) != oidText {
		bad()
		return
	}
	n := int(binary.BigEndian.Uint32(v[12:]))
	v = v[20:]
	for range n {
		if len(v) < 4 {
			bad()
			return
		}
		l := int32(binary.BigEndian.Uint32(v))
		if l < 0 || int(l) > len(v)-4 {
			bad()
			return
		}
		f(v[4 : 4+l])
		v = v[4+l:]
	}
}

// The lock statement.

// pgLockContracts reads and locks a page of contracts with their holds;
// pgLockWritten also reads whether the month's charge is recorded, and the
// invoice lines of the previous month and the month; the contract's lock
// covers them, as in the per-contract path. The charge and the lines are
// read by correlated subqueries (index probes per contract, whatever the
// planner thinks of the month): the lines by their key (month, provider,
// contract, kind), a probe for each of the two months. The first reads the
// same columns, the last two constant.
var (
	pgLockContracts = lockStatement("edufund_close_lock", "false", "'{}'::text[]")
	pgLockWritten   = lockStatement("edufund_close_lock_written",
		"coalesce((SELECT true FROM contract_charges x WHERE x.contract_id = c.id AND x.month = $5::text), false)",
		`ARRAY(SELECT l.month || ' ' || l.kind FROM invoice_lines l
			WHERE l.month = ANY(ARRAY[$6::text, $5::text]) AND l.provider_id = c.provider_id AND l.contract_id = c.id)`,
		oidText, oidText)
)

func lockStatement(name, charged, lines string, params ...uint32) *pgStatement {
	return &pgStatement{
		name: name,
		sql: `SELECT ` + schema.Contracts.List("c") + `, ` + schema.Holds.List("h") + `, h.ctid, ` + charged + `, ` + lines + `
	FROM contracts c LEFT JOIN holds h ON h.id = c.hold_id
	WHERE c.status = ANY($1::text[]) AND c.id > $2::uuid AND c.id <= $3::uuid
	ORDER BY c.id LIMIT $4::bigint FOR NO KEY UPDATE OF c`,
		params: append([]uint32{oidTextArray, oidUUID, oidUUID, oidInt8}, params...),
	}
}

// pageAlloc bounds the rows a page's result is allocated for up front.
const pageAlloc = 20000

// lockColumns is the number of columns pgLockContracts returns: a
// contract's, its hold's, the hold's tuple id, the charge and the lines.
var lockColumns = len(schema.Contracts.Columns) + len(schema.Holds.Columns) + 3

func (t *pgCloseTx) LockContracts(ctx context.Context, statuses []enrollment.Status, after, through uuid.UUID, limit int, m funding.Month, written bool) ([]batch.LockedContract, error) {
	if len(statuses) == 0 || limit <= 0 {
		return nil, nil
	}
	what := fmt.Sprintf("contracts after %s", after)
	params := t.params()
	defer t.release(params)
	params.texts(len(statuses), func(i int) string { return string(statuses[i]) })
	params.uuid(after)
	params.uuid(through)
	params.int8(int64(limit))
	st := pgLockContracts
	if written {
		st = pgLockWritten
		params.text(monthStrings.of(m))
		params.text(monthStrings.of(m.Prev()))
	}
	done := t.store.trace(st.sql)
	rr, err := t.exec(ctx, st, params)
	if err != nil {
		done()
		return nil, t.fail(err, what)
	}
	out := make([]batch.LockedContract, 0, min(limit, pageAlloc))
	r := rowReader{dates: map[int32]funding.Date{}, strs: map[string]string{}}
	lr := newLockedReader()
	t.holds = make(map[uuid.UUID]tid, cap(out))
	first := true
	for rr.NextRow() {
		if first {
			done()
			first = false
		}
		if r.err != nil {
			continue // drain the rows
		}
		r.vals, r.col = rr.Values(), 0
		if len(r.vals) != lockColumns {
			r.err = fmt.Errorf("storage: %s: %d columns, want %d", what, len(r.vals), lockColumns)
			continue
		}
		lc, at, err := lr.readLocked(&r)
		if err != nil {
			r.err = err
			continue
		}
		if lc.Hold.ID != uuid.Nil {
			t.holds[lc.Hold.ID] = at
		}
		out = append(out, lc)
	}
	if first {
		done()
	}
	if _, err := rr.Close(); err != nil {
		return nil, t.fail(err, what)
	}
	if r.err != nil {
		return nil, fmt.Errorf("%s: %w", what, r.err)
	}
	return out, nil
}

// lockedReader decodes the rows of pgLockContracts into a contract and a
// hold it reuses.
type lockedReader struct {
	c              schema.Contract
	h              schema.Hold // zero when the contract has none or it is missing
	contract, hold rowDecoder
}

func newLockedReader() *lockedReader {
	lr := &lockedReader{}
	lr.contract, lr.hold = contractCodec.decoder(&lr.c), holdCodec.decoder(&lr.h)
	return lr
}

// readLocked decodes one row of pgLockContracts: the contract and where
// its hold is.
func (lr *lockedReader) readLocked(r *rowReader) (batch.LockedContract, tid, error) {
	lr.c, lr.h = schema.Contract{}, schema.Hold{}
	lr.contract.decode(r, false)
	lr.hold.decode(r, true)
	c, h := &lr.c, &lr.h
	at := r.tid()
	lc := batch.LockedContract{Charged: r.bool()}
	var lerr error
	r.textArray(func(b []byte) {
		k, err := schema.ParseLineKey(string(b))
		if err != nil && lerr == nil {
			lerr = err
		}
		lc.Lines = append(lc.Lines, k)
	})
	if r.err != nil {
		return lc, at, r.err
	}
	if lerr != nil {
		return lc, at, lerr
	}
	if c.ID == uuid.Nil || c.CertificateID == uuid.Nil {
		return lc, at, fmt.Errorf("storage: contract row without id or certificate")
	}
	lc.Contract = c.Domain()
	if h.ID != uuid.Nil {
		lc.Hold = h.Domain()
	}
	return lc, at, nil
}

// The write statement.

// pgClosePage is ClosePage but for the invoice totals (pgCloseInvoices) in
// one statement. Every charge and line is new (or ought to be: see
// batch.CloseTx): the charges are recorded and the postings and lines
// appended by plain inserts, a unique violation failing the page with
// enrollment.ErrExists; the holds move by deltas guarded by the ledger's
// rule and by the account the posting names. The accounts are not touched: a charge
// moves money from reserved to spent, both derived from the holds (see
// schema.AccountSelect). The number of holds updated comes back, to be compared
// with what was sent. A posting's period ends where its contract's does,
// which is its account's: an account's period does not change once it is
// granted.
//
// The holds are found by the tuple ids the lock statement read (a TID scan
// instead of a probe of holds_pkey): the contract's lock covers its hold, so
// it cannot have moved since. A hold moved anyway is not found at its old
// place, so the count of holds updated falls short and the page falls back,
// as for a missing hold.
//
// The arrays are unnested in select lists (a ProjectSet node, which hands
// the executor one row at a time), not in FROM: a function scan in FROM
// first copies every element of every array into a tuplestore (10,000 rows
// of six columns: 13–20 ms against 8 ms in a psql test).
var pgClosePage = func() *pgStatement {
	st := &pgStatement{
		name: "edufund_close_page",
		params: []uint32{
			oidUUIDArray, oidInt8Array, oidUUIDArray, oidUUIDArray, oidDateArray, oidDateArray, oidUUIDArray, oidTextArray,
			oidText, oidTimestamptz, oidText, oidText,
			oidUUIDArray, oidTextArray, oidTextArray, oidTextArray, oidUUIDArray, oidInt8Array,
			oidTIDArray, oidTextArray, oidInt8,
		},
	}
	st.sql = `WITH r AS (` + st.insert(schema.ContractCharges, map[string]string{
		"contract_id": "unnest($1::uuid[])", "month": "$9::text", "amount": "unnest($2::bigint[])",
	}) + `),
	h AS (UPDATE holds SET charged = holds.charged + v.a
		FROM (SELECT unnest($19::tid[]) AS t, unnest($3::uuid[]) AS id, unnest($2::bigint[]) AS a, unnest($4::uuid[]) AS c, unnest($5::date[]) AS st) AS v
		WHERE holds.ctid = v.t AND holds.id = v.id AND holds.certificate_id = v.c AND holds.period_start = v.st
			AND holds.amount - holds.charged - holds.released >= v.a RETURNING 1),
	p AS (` + st.insert(schema.Postings, map[string]string{
		"id": "unnest($7::uuid[])", "certificate_id": "unnest($4::uuid[])", "period_start": "unnest($5::date[])",
		"period_end": "unnest($6::date[])", "kind": "'charge'", "amount": "unnest($2::bigint[])", "hold_id": "unnest($3::uuid[])",
		"contract_id": "unnest($1::uuid[])", "month": "$9::text", "at": "$10::timestamptz", "actor": "$11::text", "rule": "$12::text",
		"params": "unnest($8::text[])", "rules": "$21::bigint",
	}) + `),
	l AS (` + st.insert(schema.InvoiceLines, map[string]string{
		"contract_id": "unnest($13::uuid[])", "month": "unnest($14::text[])", "kind": "unnest($15::text[])",
		"municipality": "unnest($16::text[])", "provider_id": "unnest($17::uuid[])", "amount": "unnest($18::bigint[])",
		"scheme": "unnest($20::text[])",
	}) + `)
	SELECT count(*) FROM h`
	return st
}()

// pgCloseInvoices adds a page's lines to their invoice totals, in the key
// order the client sorted them in. It runs after pgClosePage, right before
// the commit: the totals are rows every page in flight shares, and a page
// waits on another's until that one commits. Inside pgClosePage, whose
// data-modifying CTEs run in an order PostgreSQL leaves open, the totals
// were locked for most of the statement: pages waited on each other for a
// third of their write (pg_stat_activity, 200,000 contracts, 2 workers).
var pgCloseInvoices = func() *pgStatement {
	st := &pgStatement{
		name:   "edufund_close_invoices",
		params: []uint32{oidTextArray, oidUUIDArray, oidTextArray, oidTextArray, oidInt8Array, oidInt4Array, oidTextArray},
	}
	st.sql = st.insert(schema.Invoices, map[string]string{
		"municipality": "unnest($1::text[])", "provider_id": "unnest($2::uuid[])", "month": "unnest($3::text[])",
		"kind": "unnest($4::text[])", "amount": "unnest($5::bigint[])", "lines": "unnest($6::integer[])", "scheme": "unnest($7::text[])",
	}) + `
		ON CONFLICT (` + strings.Join(schema.Invoices.Keys(), ", ") + `) DO UPDATE SET amount = invoices.amount + EXCLUDED.amount, lines = invoices.lines + EXCLUDED.lines`
	return st
}()

// insert is INSERT INTO t … SELECT of the values of t's columns, by name;
// the column map gives the order, and a column without a value fails the
// statement.
func (st *pgStatement) insert(t *schema.Table, values map[string]string) string {
	sel, err := t.Exprs(values)
	if err != nil && st.err == nil {
		st.err = err
	}
	return `INSERT INTO ` + t.Name + ` (` + t.List("") + `) SELECT ` + sel
}

func (t *pgCloseTx) ClosePage(ctx context.Context, ps []enrollment.PostingRecord, ls []enrollment.InvoiceLine) error {
	if len(ps) == 0 && len(ls) == 0 {
		return nil
	}
	var k schema.Kopecks
	n := len(ps)
	amounts := make([]int64, n)
	params := make([]string, n)
	for i := range ps {
		p := &ps[i]
		amounts[i] = k.Of("amount", p.Posting.Amount)
		j, err := schema.ParamsJSON(p.Params)
		if err != nil {
			return err
		}
		params[i] = j
	}
	if k.Err != nil {
		return k.Err
	}
	if err := checkPage(ps); err != nil {
		return err
	}
	lAmounts := make([]int64, len(ls))
	for i := range ls {
		l := &ls[i]
		if l.ContractID == uuid.Nil || l.ProviderID == uuid.Nil {
			return fmt.Errorf("storage: invoice line of contract %s lacks its contract or provider", l.ContractID)
		}
		lAmounts[i] = k.Of("amount", l.Amount)
	}
	if k.Err != nil {
		return k.Err
	}
	inv := invoiceSums(ls, lAmounts)

	var at time.Time
	var month, actor, rule string
	var rules int64
	if n > 0 {
		month, actor, rule, at, rules = monthStrings.of(ps[0].Month), ps[0].Actor, ps[0].Rule, ps[0].At, ps[0].Rules
	} else {
		at = time.Unix(0, 0)
	}
	args := t.params()
	defer t.release(args)
	args.uuids(n, func(i int) uuid.UUID { return ps[i].ContractID })
	args.int8s(n, func(i int) int64 { return amounts[i] })
	args.uuids(n, func(i int) uuid.UUID { return ps[i].Posting.HoldID })
	args.uuids(n, func(i int) uuid.UUID { return ps[i].CertificateID })
	args.dates(n, func(i int) funding.Date { return ps[i].Period.Start })
	args.dates(n, func(i int) funding.Date { return ps[i].Period.End })
	args.uuids(n, func(i int) uuid.UUID { return ps[i].ID })
	args.texts(n, func(i int) string { return params[i] })
	args.text(month)
	args.timestamptz(at)
	args.text(actor)
	args.text(rule)
	args.uuids(len(ls), func(i int) uuid.UUID { return ls[i].ContractID })
	args.texts(len(ls), func(i int) string { return monthStrings.of(ls[i].Month) })
	args.texts(len(ls), func(i int) string { return string(ls[i].Kind) })
	args.texts(len(ls), func(i int) string { return ls[i].Municipality })
	args.uuids(len(ls), func(i int) uuid.UUID { return ls[i].ProviderID })
	args.int8s(len(ls), func(i int) int64 { return lAmounts[i] })
	args.tids(n, func(i int) tid { return t.holds[ps[i].Posting.HoldID] })
	args.texts(len(ls), func(i int) string { return string(ls[i].Scheme) })
	args.int8(rules)
	if err := t.writePage(ctx, args, n); err != nil {
		return err
	}
	if len(inv) == 0 {
		return nil
	}
	args.reset()
	args.texts(len(inv), func(i int) string { return inv[i].Municipality })
	args.uuids(len(inv), func(i int) uuid.UUID { return inv[i].Provider })
	args.texts(len(inv), func(i int) string { return inv[i].Month })
	args.texts(len(inv), func(i int) string { return inv[i].Kind })
	args.int8s(len(inv), func(i int) int64 { return inv[i].amount })
	args.int4s(len(inv), func(i int) int32 { return inv[i].lines })
	args.texts(len(inv), func(i int) string { return inv[i].Scheme })
	defer t.store.trace(pgCloseInvoices.sql)()
	rr, err := t.exec(ctx, pgCloseInvoices, args)
	if err != nil {
		return t.fail(err, "close page: invoices")
	}
	for rr.NextRow() {
	}
	if _, err := rr.Close(); err != nil {
		return t.fail(err, "close page: invoices")
	}
	return nil
}

// writePage runs pgClosePage and checks that it moved all n holds.
func (t *pgCloseTx) writePage(ctx context.Context, args *pgParams, n int) error {
	defer t.store.trace(pgClosePage.sql)()
	rr, err := t.exec(ctx, pgClosePage, args)
	if err != nil {
		return t.fail(err, "close page")
	}
	var gotHolds int64
	r := rowReader{}
	rows := 0
	for rr.NextRow() {
		r.vals, r.col = rr.Values(), 0
		gotHolds = r.int8()
		rows++
	}
	if _, err := rr.Close(); err != nil {
		return t.fail(err, "close page")
	}
	if r.err != nil || rows != 1 {
		return fmt.Errorf("storage: close page: %d result rows: %v", rows, r.err)
	}
	if gotHolds != int64(n) {
		return fmt.Errorf("%w: %d of %d holds", schema.ErrUncovered, gotHolds, n)
	}
	return nil
}

// checkPage checks a page's charge postings: charges of one month, time,
// actor, rule and rules version, each complete.
func checkPage(ps []enrollment.PostingRecord) error {
	for i := range ps {
		p := &ps[i]
		switch {
		case p.Posting.Kind != funding.Charge:
			return fmt.Errorf("storage: close page: posting %s is a %s", p.ID, p.Posting.Kind)
		case p.At.IsZero():
			return fmt.Errorf("storage: posting %s has no time", p.ID)
		case p.ContractID == uuid.Nil || p.Posting.HoldID == uuid.Nil || p.CertificateID == uuid.Nil || p.ID == uuid.Nil ||
			p.Period.Start.IsZero() || p.Period.End.IsZero():
			return fmt.Errorf("storage: close page: posting %s lacks its contract, hold, certificate, id or period", p.ID)
		case p.Month != ps[0].Month || !p.At.Equal(ps[0].At) || p.Actor != ps[0].Actor || p.Rule != ps[0].Rule || p.Rules != ps[0].Rules:
			return fmt.Errorf("storage: close page: posting %s is not of the page's month, time, actor, rule and rules version", p.ID)
		}
	}
	return nil
}

// invoiceSums sums a page's lines per invoice, in key order.
func invoiceSums(ls []enrollment.InvoiceLine, amounts []int64) []invoiceSum {
	idx := make(map[schema.InvoiceKey]int, 64)
	var sums []invoiceSum
	for i := range ls {
		l := &ls[i]
		k := schema.InvoiceKey{Scheme: string(l.Scheme), Municipality: l.Municipality, Provider: l.ProviderID, Month: monthStrings.of(l.Month), Kind: string(l.Kind)}
		j, ok := idx[k]
		if !ok {
			j = len(sums)
			idx[k] = j
			sums = append(sums, invoiceSum{InvoiceKey: k})
		}
		sums[j].amount += amounts[i]
		sums[j].lines++
	}
	slices.SortFunc(sums, func(a, b invoiceSum) int { return schema.CompareInvoiceKeys(a.InvoiceKey, b.InvoiceKey) })
	return sums
}

type invoiceSum struct {
	schema.InvoiceKey
	amount int64
	lines  int32
}

// monthStrings caches Month.String (fmt.Sprintf) for the few months a
// close writes, once per charge and invoice line otherwise.
var monthStrings = monthCache{m: map[funding.Month]string{}}

type monthCache struct {
	mu sync.RWMutex
	m  map[funding.Month]string
}

func (c *monthCache) of(m funding.Month) string {
	c.mu.RLock()
	s, ok := c.m[m]
	c.mu.RUnlock()
	if ok {
		return s
	}
	s = m.String()
	c.mu.Lock()
	if len(c.m) > 256 {
		clear(c.m)
	}
	c.m[m] = s
	c.mu.Unlock()
	return s
}
