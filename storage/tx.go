package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/edufund/edufund/catalog"
	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/funding"
	"github.com/edufund/edufund/storage/internal/dberr"
	"github.com/edufund/edufund/storage/internal/schema"
)

// tx is enrollment.Tx over one bun transaction.
type tx struct {
	db *DB
	tx bun.Tx
	// retry remembers the first retryable failure of a statement so that
	// InTx retries even when fn swallowed it or returned a later error (on
	// PostgreSQL the transaction is aborted after it anyway).
	retry error
}

var _ enrollment.Tx = (*tx)(nil)

// check notes retryable failures; it returns err unchanged.
func (t *tx) check(err error) error {
	if err != nil && t.retry == nil && dberr.Retryable(err) {
		t.retry = err
	}
	return err
}

// read maps a query's error: no rows → enrollment.ErrNotFound.
func (t *tx) read(err error, what string, key any) error {
	return dberr.Read(t.check(err), what, key)
}

// write maps a statement's error: unique violation → enrollment.ErrExists.
func (t *tx) write(err error, what string) error {
	return dberr.Write(t.check(err), what)
}

// affected is a statement that must touch exactly one row.
func (t *tx) affected(res sql.Result, err error, what string, key any) error {
	if err != nil {
		return t.write(err, what)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return t.write(err, what)
	}
	if n == 0 {
		return fmt.Errorf("storage: %s %v: %w", what, key, enrollment.ErrNotFound)
	}
	return nil
}

func (t *tx) pg() bool { return t.db.dialect == Postgres }

// insertNew inserts a row that a unique rule may refuse, without aborting
// the transaction on PostgreSQL: ON CONFLICT DO NOTHING (any unique index,
// partial ones included), and no row inserted means enrollment.ErrExists.
// Callers may go on using the transaction after ErrExists.
func (t *tx) insertNew(ctx context.Context, model any, what string) error {
	res, err := t.tx.NewInsert().Model(model).On("CONFLICT DO NOTHING").Exec(ctx)
	if err != nil {
		return t.write(err, what)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return t.write(err, what)
	}
	if n == 0 {
		return fmt.Errorf("storage: %s: %w", what, enrollment.ErrExists)
	}
	return nil
}

// guarded runs a statement that may break a unique rule in a savepoint on
// PostgreSQL, so that ErrExists leaves the transaction usable. SQLite rolls
// back only the failing statement anyway.
func (t *tx) guarded(ctx context.Context, fn func(ctx context.Context, db bun.IDB) error) error {
	if !t.pg() {
		return fn(ctx, t.tx)
	}
	return t.tx.RunInTx(ctx, nil, func(ctx context.Context, sp bun.Tx) error { return fn(ctx, sp) })
}

// forUpdate locks the selected row on PostgreSQL only (bun emits FOR on any
// dialect; SQLite serialises writers instead). NO KEY UPDATE excludes the
// other writers and lockers of the row like FOR UPDATE does, but not the
// foreign-key checks of rows that reference it (postings, holds and
// accounts of a locked certificate), which would otherwise deadlock.
func (t *tx) forUpdate(q *bun.SelectQuery) *bun.SelectQuery {
	if t.pg() {
		return q.For("NO KEY UPDATE")
	}
	return q
}

// ---- Idempotency ----

func (t *tx) ClaimKey(ctx context.Context, key, operation, requestHash string) (enrollment.IdempotencyRecord, bool, error) {
	row := &schema.IdempotencyKey{Key: key, Operation: operation, RequestHash: requestHash, CreatedAt: schema.Time(time.Now())}
	res, err := t.tx.NewInsert().Model(row).On("CONFLICT (key) DO NOTHING").Exec(ctx)
	if err != nil {
		return enrollment.IdempotencyRecord{}, false, t.write(err, "claim key")
	}
	if n, err := res.RowsAffected(); err != nil {
		return enrollment.IdempotencyRecord{}, false, t.write(err, "claim key")
	} else if n == 1 {
		return enrollment.IdempotencyRecord{Key: key, Operation: operation, RequestHash: requestHash}, true, nil
	}
	got := new(schema.IdempotencyKey)
	if err := t.tx.NewSelect().Model(got).Where("key = ?", key).Scan(ctx); err != nil {
		return enrollment.IdempotencyRecord{}, false, t.read(err, "idempotency key", key)
	}
	return got.Domain(), false, nil
}

func (t *tx) SaveResult(ctx context.Context, key string, result []byte) error {
	if result == nil {
		result = []byte{}
	}
	res, err := t.tx.NewUpdate().Model((*schema.IdempotencyKey)(nil)).
		Set("result = ?", result).Where("key = ?", key).Exec(ctx)
	return t.affected(res, err, "idempotency key", key)
}

// ---- Certificates ----

func (t *tx) InsertCertificate(ctx context.Context, c certificate.Certificate) error {
	return t.insertNew(ctx, schema.FromCertificate(c), "insert certificate")
}

func (t *tx) certificate(ctx context.Context, lock bool, where string, arg any) (certificate.Certificate, error) {
	row := new(schema.Certificate)
	q := t.tx.NewSelect().Model(row).Where(where, arg)
	if lock {
		q = t.forUpdate(q)
	}
	if err := q.Scan(ctx); err != nil {
		return certificate.Certificate{}, t.read(err, "certificate", arg)
	}
	return row.Domain(), nil
}

func (t *tx) Certificate(ctx context.Context, id uuid.UUID) (certificate.Certificate, error) {
	return t.certificate(ctx, false, "id = ?", id)
}

func (t *tx) LockCertificate(ctx context.Context, id uuid.UUID) (certificate.Certificate, error) {
	return t.certificate(ctx, true, "id = ?", id)
}

func (t *tx) CertificateByNumber(ctx context.Context, n certificate.Number) (certificate.Certificate, error) {
	return t.certificate(ctx, false, "number = ?", string(n))
}

func (t *tx) UpdateCertificate(ctx context.Context, c certificate.Certificate) error {
	// The number or the holder may change, and with them a unique rule.
	return t.guarded(ctx, func(ctx context.Context, db bun.IDB) error {
		res, err := db.NewUpdate().Model(schema.FromCertificate(c)).WherePK().Exec(ctx)
		return t.affected(res, err, "update certificate", c.ID)
	})
}

func (t *tx) PersonCertificates(ctx context.Context, scheme certificate.Scheme, personID string) ([]certificate.Certificate, error) {
	var rows []schema.Certificate
	err := t.tx.NewSelect().Model(&rows).
		Where("scheme = ?", string(scheme)).Where("person_id = ?", personID).
		OrderExpr("issued_on, id").Scan(ctx)
	if err != nil {
		return nil, t.read(err, "person certificates", personID)
	}
	out := make([]certificate.Certificate, len(rows))
	for i := range rows {
		out[i] = rows[i].Domain()
	}
	return out, nil
}

// ---- Categories and queues ----

func (t *tx) Category(ctx context.Context, code string) (certificate.Category, error) {
	row := new(schema.Category)
	if err := t.tx.NewSelect().Model(row).Where("code = ?", code).Scan(ctx); err != nil {
		return certificate.Category{}, t.read(err, "category", code)
	}
	return row.Domain(), nil
}

func (t *tx) Categories(ctx context.Context) ([]certificate.Category, error) {
	var rows []schema.Category
	if err := t.tx.NewSelect().Model(&rows).Order("code").Scan(ctx); err != nil {
		return nil, t.read(err, "categories", "")
	}
	out := make([]certificate.Category, len(rows))
	for i := range rows {
		out[i] = rows[i].Domain()
	}
	return out, nil
}

func (t *tx) Enqueue(ctx context.Context, e enrollment.QueueEntry) error {
	if e.EnqueuedAt.IsZero() {
		return fmt.Errorf("storage: enqueue %s on %q: no time", e.CertificateID, e.Queue)
	}
	// Bumping the queue's sequence locks its row until the end of the
	// transaction: enqueuers of one queue take turns, so each sees the ones
	// before it and positions are distinct. The sequence is the order of
	// arrival the queue is served in; the time is a record, not the order
	// (clocks of two servers, or one clock stepped back, disagree).
	var seq int64
	err := t.tx.NewRaw("INSERT INTO queues (name, seq) VALUES (?, 1) ON CONFLICT (name) DO UPDATE SET seq = queues.seq + 1 RETURNING seq",
		e.Queue).Scan(ctx, &seq)
	if err != nil {
		return t.write(err, "enqueue")
	}
	row := &schema.QueueEntry{Queue: e.Queue, CertificateID: e.CertificateID, EnqueuedAt: schema.Time(e.EnqueuedAt), Seq: seq}
	return t.insertNew(ctx, row, "enqueue")
}

func (t *tx) Dequeue(ctx context.Context, queue string) (enrollment.QueueEntry, error) {
	// The first arrival no other transaction is taking: concurrent
	// dequeuers on PostgreSQL get distinct entries instead of waiting for
	// each other.
	pick := "SELECT certificate_id FROM queue WHERE queue = ? ORDER BY seq, enqueued_at, certificate_id LIMIT 1"
	if t.pg() {
		pick += " FOR UPDATE SKIP LOCKED"
	}
	var rows []schema.QueueEntry
	err := t.tx.NewRaw("DELETE FROM queue WHERE queue = ? AND certificate_id = ("+pick+") RETURNING "+schema.Queue.List(""),
		queue, queue).Scan(ctx, &rows)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return enrollment.QueueEntry{}, t.read(err, "dequeue", queue)
	}
	if len(rows) == 0 {
		return enrollment.QueueEntry{}, fmt.Errorf("storage: queue %q is empty: %w", queue, enrollment.ErrNotFound)
	}
	r := rows[0]
	return enrollment.QueueEntry{Queue: r.Queue, CertificateID: r.CertificateID, EnqueuedAt: time.Time(r.EnqueuedAt)}, nil
}

func (t *tx) QueuePosition(ctx context.Context, queue string, certificateID uuid.UUID) (int, error) {
	// In the order of arrival (seq): an entry enqueued later never goes
	// ahead, whatever its time, so a position only falls. Entries from
	// before migration 00002 share seq 0 and keep the order of their times.
	var pos int
	err := t.tx.NewRaw(`SELECT COUNT(*) FROM queue q JOIN queue me ON me.queue = q.queue
WHERE me.queue = ? AND me.certificate_id = ?
  AND (q.seq < me.seq OR (q.seq = me.seq
       AND (q.enqueued_at < me.enqueued_at OR (q.enqueued_at = me.enqueued_at AND q.certificate_id <= me.certificate_id))))`,
		queue, certificateID).Scan(ctx, &pos)
	if err != nil {
		return 0, t.read(err, "queue position", certificateID)
	}
	if pos == 0 {
		return 0, fmt.Errorf("storage: %s is not in queue %q: %w", certificateID, queue, enrollment.ErrNotFound)
	}
	return pos, nil
}

func (t *tx) RemoveFromQueue(ctx context.Context, queue string, certificateID uuid.UUID) error {
	res, err := t.tx.NewDelete().Model((*schema.QueueEntry)(nil)).
		Where("queue = ?", queue).Where("certificate_id = ?", certificateID).Exec(ctx)
	return t.affected(res, err, "remove from queue "+queue, certificateID)
}

// ---- Accounts and ledger ----

// The account of a certificate and period start, locked on PostgreSQL.
var (
	accountByKeySQL   = schema.AccountRead(false) + ` WHERE a.certificate_id = ? AND a.period_start = ?`
	pgAccountByKeySQL = schema.AccountRead(true) + ` WHERE a.certificate_id = ? AND a.period_start = ?`
	// pgLockAccountSQL locks the account before accountByKeySQL reads it
	// (schema.AccountSelect says why not in one statement).
	pgLockAccountSQL = `SELECT 1 FROM accounts WHERE certificate_id = ? AND period_start = ? FOR NO KEY UPDATE`
)

func (t *tx) Account(ctx context.Context, certificateID uuid.UUID, period funding.Period) (enrollment.AccountState, error) {
	// Every use of an account is a read-modify-write, and not every path
	// holds the certificate's lock (the contract paths lock the contract):
	// lock the account row itself so that no update is lost.
	what := certificateID.String() + "@" + period.Start.String()
	q := accountByKeySQL
	if t.pg() {
		q = pgAccountByKeySQL
		var one int
		if err := t.tx.NewRaw(pgLockAccountSQL, certificateID, schema.Date(period.Start)).Scan(ctx, &one); err != nil {
			return enrollment.AccountState{}, t.read(err, "account", what)
		}
	}
	row := new(schema.Account)
	if err := t.tx.NewRaw(q, certificateID, schema.Date(period.Start)).Scan(ctx, row); err != nil {
		return enrollment.AccountState{}, t.read(err, "account", what)
	}
	if err := row.Check(); err != nil {
		return enrollment.AccountState{}, err
	}
	return row.Domain(), nil
}

func (t *tx) SaveAccount(ctx context.Context, a enrollment.AccountState) error {
	row, err := schema.FromAccount(a)
	if err != nil {
		return err
	}
	return t.upsert(ctx, row, "certificate_id, period_start", "save account")
}

func (t *tx) Hold(ctx context.Context, id uuid.UUID) (funding.Hold, error) {
	row := new(schema.Hold)
	if err := t.tx.NewSelect().Model(row).Where("id = ?", id).Scan(ctx); err != nil {
		return funding.Hold{}, t.read(err, "hold", id)
	}
	return row.Domain(), nil
}

func (t *tx) SaveHold(ctx context.Context, certificateID uuid.UUID, period funding.Period, h funding.Hold) error {
	row, err := schema.FromHold(certificateID, period, h)
	if err != nil {
		return err
	}
	_, err = t.tx.NewInsert().Model(row).On("CONFLICT (id) DO UPDATE").Set(schema.HoldUpdate).Exec(ctx)
	return t.write(err, "save hold")
}

func (t *tx) AppendPosting(ctx context.Context, p enrollment.PostingRecord) error {
	row, err := schema.FromPosting(p)
	if err != nil {
		return err
	}
	return t.insertNew(ctx, row, "append posting")
}

func (t *tx) Postings(ctx context.Context, certificateID uuid.UUID, period funding.Period) ([]enrollment.PostingRecord, error) {
	var rows []schema.Posting
	err := t.tx.NewSelect().Model(&rows).
		Where("certificate_id = ?", certificateID).Where("period_start = ?", schema.Date(period.Start)).
		OrderExpr("at, id").Scan(ctx)
	if err != nil {
		return nil, t.read(err, "postings", certificateID)
	}
	out := make([]enrollment.PostingRecord, len(rows))
	for i := range rows {
		if out[i], err = rows[i].Domain(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// ---- Counters ----

// EnsureCounter creates the counter with used = 0, or sets the limit of an
// existing one. A limit below the counter's current use is refused with an
// error matching enrollment.ErrCounterFull (the CHECK used <= lim).
func (t *tx) EnsureCounter(ctx context.Context, key string, limit int64) error {
	if limit < 0 {
		return fmt.Errorf("storage: counter %q: negative limit %d", key, limit)
	}
	// Conditional, so that a refusal does not abort the transaction.
	res, err := t.tx.NewInsert().Model(&schema.Counter{Key: key, Used: 0, Lim: limit}).
		On("CONFLICT (key) DO UPDATE").Set("lim = EXCLUDED.lim").
		Where("?TableAlias.used <= EXCLUDED.lim").Exec(ctx)
	if err != nil {
		return t.write(err, "ensure counter")
	}
	if n, err := res.RowsAffected(); err != nil {
		return t.write(err, "ensure counter")
	} else if n == 0 {
		return fmt.Errorf("storage: counter %q: limit %d is below its use: %w", key, limit, enrollment.ErrCounterFull)
	}
	return nil
}

// Take is one conditional UPDATE: it holds the counter's row lock from here
// to the end of the transaction, so services call it last.
func (t *tx) Take(ctx context.Context, key string, n int64) error {
	if n < 0 {
		return fmt.Errorf("storage: take %d from counter %q: negative", n, key)
	}
	var used []int64
	err := t.tx.NewRaw("UPDATE counters SET used = used + ? WHERE key = ? AND used + ? <= lim RETURNING used",
		n, key, n).Scan(ctx, &used)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return t.write(err, "take "+key)
	}
	if len(used) == 1 {
		return nil
	}
	if _, err := t.Counter(ctx, key); err != nil {
		return err
	}
	return fmt.Errorf("storage: counter %q cannot take %d: %w", key, n, enrollment.ErrCounterFull)
}

// Give subtracts n; giving back more than is used floors at zero rather
// than failing, as the interface asks.
func (t *tx) Give(ctx context.Context, key string, n int64) error {
	if n < 0 {
		return fmt.Errorf("storage: give %d to counter %q: negative", n, key)
	}
	res, err := t.tx.NewRaw("UPDATE counters SET used = CASE WHEN used >= ? THEN used - ? ELSE 0 END WHERE key = ?",
		n, n, key).Exec(ctx)
	return t.affected(res, err, "counter", key)
}

func (t *tx) Counter(ctx context.Context, key string) (enrollment.Counter, error) {
	row := new(schema.Counter)
	if err := t.tx.NewSelect().Model(row).Where("key = ?", key).Scan(ctx); err != nil {
		return enrollment.Counter{}, t.read(err, "counter", key)
	}
	return enrollment.Counter{Key: row.Key, Used: row.Used, Limit: row.Lim}, nil
}

// ---- Catalog ----

func (t *tx) SaveProvider(ctx context.Context, p catalog.Provider) error {
	// Its programs are found by its name: the index changes when the name
	// does, not on every edit of its contacts or agreements.
	var was []string
	if err := t.tx.NewSelect().Model((*schema.Provider)(nil)).Column("name").Where("id = ?", p.ID).Scan(ctx, &was); err != nil {
		return t.read(err, "provider", p.ID)
	}
	prow, ags := schema.FromProvider(p)
	if _, err := t.tx.NewInsert().Model(prow).On("CONFLICT (id) DO UPDATE").Exec(ctx); err != nil {
		return t.write(err, "save provider")
	}
	if _, err := t.tx.NewDelete().Model((*schema.Agreement)(nil)).Where("provider_id = ?", p.ID).Exec(ctx); err != nil {
		return t.write(err, "save provider agreements")
	}
	if len(ags) > 0 {
		if _, err := t.tx.NewInsert().Model(&ags).Exec(ctx); err != nil {
			return t.write(err, "save provider agreements")
		}
	}
	if len(was) > 0 && was[0] == p.Name {
		return nil
	}
	return t.write(indexProvider(ctx, t.tx, p.ID, p.Name), "index provider's programs")
}

func (t *tx) SaveProgram(ctx context.Context, p catalog.Program) error {
	if err := t.upsert(ctx, schema.FromProgram(p), "id", "save program"); err != nil {
		return err
	}
	var provider string
	if err := t.tx.NewSelect().Model((*schema.Provider)(nil)).Column("name").Where("id = ?", p.ProviderID).Scan(ctx, &provider); err != nil {
		return t.read(err, "provider", p.ProviderID)
	}
	return t.write(indexProgram(ctx, t.tx, p, provider), "index program")
}

func (t *tx) SaveModule(ctx context.Context, m catalog.Module) error {
	row, err := schema.FromModule(m)
	if err != nil {
		return err
	}
	return t.upsert(ctx, row, "id", "save module")
}

func (t *tx) SaveGroup(ctx context.Context, g catalog.Group) error {
	return t.upsert(ctx, schema.FromGroup(g), "id", "save group")
}

func (t *tx) SaveCategory(ctx context.Context, c certificate.Category) error {
	row, err := schema.FromCategory(c)
	if err != nil {
		return err
	}
	return t.upsert(ctx, row, "code", "save category")
}

func (t *tx) Offer(ctx context.Context, groupID uuid.UUID) (enrollment.Offer, error) {
	g := new(schema.Group)
	if err := t.tx.NewSelect().Model(g).Where("id = ?", groupID).Scan(ctx); err != nil {
		return enrollment.Offer{}, t.read(err, "group", groupID)
	}
	m := new(schema.Module)
	if err := t.tx.NewSelect().Model(m).Where("id = ?", g.ModuleID).Scan(ctx); err != nil {
		return enrollment.Offer{}, t.read(err, "module", g.ModuleID)
	}
	p := new(schema.Program)
	if err := t.tx.NewSelect().Model(p).Where("id = ?", m.ProgramID).Scan(ctx); err != nil {
		return enrollment.Offer{}, t.read(err, "program", m.ProgramID)
	}
	provs, err := t.providers(ctx, []uuid.UUID{p.ProviderID})
	if err != nil {
		return enrollment.Offer{}, err
	}
	prov, ok := provs[p.ProviderID]
	if !ok {
		return enrollment.Offer{}, fmt.Errorf("storage: provider %s: %w", p.ProviderID, enrollment.ErrNotFound)
	}
	return enrollment.Offer{Group: g.Domain(), Module: m.Domain(), Program: p.Domain(), Provider: prov}, nil
}

// providers loads providers with their agreements.
func (t *tx) providers(ctx context.Context, ids []uuid.UUID) (map[uuid.UUID]catalog.Provider, error) {
	out := make(map[uuid.UUID]catalog.Provider, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	var prows []schema.Provider
	if err := t.tx.NewSelect().Model(&prows).Where("id IN (?)", bun.In(ids)).Scan(ctx); err != nil {
		return nil, t.read(err, "providers", len(ids))
	}
	var arows []schema.Agreement
	if err := t.tx.NewSelect().Model(&arows).Where("provider_id IN (?)", bun.In(ids)).
		OrderExpr("provider_id, period_start, municipality").Scan(ctx); err != nil {
		return nil, t.read(err, "agreements", len(ids))
	}
	byProv := make(map[uuid.UUID][]schema.Agreement)
	for _, a := range arows {
		byProv[a.ProviderID] = append(byProv[a.ProviderID], a)
	}
	for i := range prows {
		out[prows[i].ID] = prows[i].Domain(byProv[prows[i].ID])
	}
	return out, nil
}

// ---- Contracts ----

func (t *tx) InsertContract(ctx context.Context, c enrollment.Contract) error {
	row, err := schema.FromContract(c)
	if err != nil {
		return err
	}
	return t.insertNew(ctx, row, "insert contract")
}

func (t *tx) contract(ctx context.Context, id uuid.UUID, lock bool) (enrollment.Contract, error) {
	row := new(schema.Contract)
	q := t.tx.NewSelect().Model(row).Where("id = ?", id)
	if lock {
		q = t.forUpdate(q)
	}
	if err := q.Scan(ctx); err != nil {
		return enrollment.Contract{}, t.read(err, "contract", id)
	}
	return row.Domain(), nil
}

func (t *tx) Contract(ctx context.Context, id uuid.UUID) (enrollment.Contract, error) {
	return t.contract(ctx, id, false)
}

func (t *tx) LockContract(ctx context.Context, id uuid.UUID) (enrollment.Contract, error) {
	return t.contract(ctx, id, true)
}

func (t *tx) UpdateContract(ctx context.Context, c enrollment.Contract) error {
	row, err := schema.FromContract(c)
	if err != nil {
		return err
	}
	update := func(ctx context.Context, db bun.IDB) error {
		res, err := db.NewUpdate().Model(row).WherePK().Exec(ctx)
		return t.affected(res, err, "update contract", c.ID)
	}
	if c.Status.Live() {
		// Only a live contract can meet the one-live-contract-per-module rule.
		return t.guarded(ctx, update)
	}
	return update(ctx, t.tx)
}

func (t *tx) CertificateContracts(ctx context.Context, certificateID uuid.UUID) ([]enrollment.Contract, error) {
	var rows []schema.Contract
	err := t.tx.NewSelect().Model(&rows).Where("certificate_id = ?", certificateID).
		OrderExpr("created_at DESC, id DESC").Scan(ctx)
	if err != nil {
		return nil, t.read(err, "certificate contracts", certificateID)
	}
	out := make([]enrollment.Contract, len(rows))
	for i := range rows {
		out[i] = rows[i].Domain()
	}
	return out, nil
}

// liveContractsFrom is the contracts table as the reads of live contracts
// name it: SQLite's planner, without statistics, takes the index of all
// of a certificate's contracts as readily as the partial one, and is told.
func (t *tx) liveContractsFrom() string {
	if t.pg() {
		return "contracts"
	}
	return "contracts INDEXED BY contracts_live_key"
}

func (t *tx) LiveContracts(ctx context.Context, certificateID uuid.UUID) ([]enrollment.Contract, error) {
	var rows []schema.Contract
	err := t.tx.NewRaw("SELECT "+schema.Contracts.List("")+" FROM "+t.liveContractsFrom()+" WHERE certificate_id = ? AND "+schema.LiveContracts+
		" ORDER BY created_at DESC, id DESC", certificateID).Scan(ctx, &rows)
	if err != nil {
		return nil, t.read(err, "live contracts", certificateID)
	}
	out := make([]enrollment.Contract, len(rows))
	for i := range rows {
		out[i] = rows[i].Domain()
	}
	return out, nil
}

func (t *tx) AppliedTo(ctx context.Context, certificateID, provider uuid.UUID) (bool, error) {
	ok, err := t.tx.NewSelect().Model((*schema.Contract)(nil)).Where("certificate_id = ? AND provider_id = ?", certificateID, provider).Exists(ctx)
	if err != nil {
		return false, t.read(err, "applied to", certificateID)
	}
	return ok, nil
}

func (t *tx) RecordCharge(ctx context.Context, contractID uuid.UUID, m funding.Month, amount funding.Money) error {
	var k schema.Kopecks
	row := &schema.Charge{ContractID: contractID, Month: schema.Month(m), Amount: k.Of("amount", amount)}
	if k.Err != nil {
		return k.Err
	}
	return t.insertNew(ctx, row, "record charge "+m.String())
}

func (t *tx) AddInvoiceLine(ctx context.Context, l enrollment.InvoiceLine) error {
	line, err := schema.FromInvoiceLine(l)
	if err != nil {
		return err
	}
	if err := t.insertNew(ctx, line, "invoice line"); err != nil {
		return err
	}
	inv := &schema.Invoice{
		Scheme:       string(l.Scheme),
		Municipality: l.Municipality,
		ProviderID:   l.ProviderID,
		Month:        schema.Month(l.Month),
		Kind:         string(l.Kind),
		Amount:       line.Amount,
		Lines:        1,
	}
	_, err = t.tx.NewInsert().Model(inv).
		On("CONFLICT (" + strings.Join(schema.Invoices.Keys(), ", ") + ") DO UPDATE").
		Set("amount = ?TableAlias.amount + EXCLUDED.amount").
		Set("lines = ?TableAlias.lines + 1").
		Exec(ctx)
	return t.write(err, "invoice")
}

func (t *tx) SaveRating(ctx context.Context, contractID uuid.UUID, r enrollment.Rating, at time.Time) error {
	row := &schema.Rating{
		ContractID:   contractID,
		Results:      r.Results,
		Staff:        r.Staff,
		Means:        r.Means,
		Satisfaction: r.Satisfaction,
		UpdatedAt:    schema.Time(at),
	}
	return t.upsert(ctx, row, "contract_id", "save rating")
}

func (t *tx) ContractRating(ctx context.Context, contractID uuid.UUID) (enrollment.Rating, error) {
	var r schema.Rating
	if err := t.tx.NewSelect().Model(&r).Where("contract_id = ?", contractID).Scan(ctx); err != nil {
		return enrollment.Rating{}, t.read(err, "rating", contractID)
	}
	return enrollment.Rating{Results: r.Results, Staff: r.Staff, Means: r.Means, Satisfaction: r.Satisfaction}, nil
}

func (t *tx) ProgramRatings(ctx context.Context, programID uuid.UUID) ([]enrollment.ScoredRating, error) {
	var rows []struct {
		schema.Rating
		Status string `bun:"status"`
	}
	err := t.tx.NewSelect().TableExpr("ratings AS r").ColumnExpr("r.*, k.status").
		Join("JOIN contracts AS k ON k.id = r.contract_id").Where("k.program_id = ?", programID).
		OrderExpr("r.contract_id").Scan(ctx, &rows)
	if err != nil {
		return nil, t.read(err, "program ratings", programID)
	}
	out := make([]enrollment.ScoredRating, len(rows))
	for i, r := range rows {
		out[i] = enrollment.ScoredRating{Closed: enrollment.Status(r.Status) == enrollment.Closed,
			Rating: enrollment.Rating{Results: r.Results, Staff: r.Staff, Means: r.Means, Satisfaction: r.Satisfaction}}
	}
	return out, nil
}

// upsert inserts row or, on a conflict over the key columns, replaces it.
func (t *tx) upsert(ctx context.Context, row any, key, what string) error {
	_, err := t.tx.NewInsert().Model(row).On("CONFLICT (" + key + ") DO UPDATE").Exec(ctx)
	return t.write(err, what)
}
