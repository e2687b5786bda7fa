package batch

import (
	"context"
	"errors"

	"github.com/google/uuid"

	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/funding"
)

// Store is an enrollment.Store that can run a batch transaction.
// *storage.DB implements it; over a store that does not, Submit runs one
// transaction per application.
type Store interface {
	InBatchTx(ctx context.Context, fn func(ctx context.Context, tx Tx) error) error
}

// Tx is an enrollment.Tx with the bulk reads and writes of a batch. Locking
// reads lock their rows until the transaction ends (FOR NO KEY UPDATE / FOR
// UPDATE on PostgreSQL, in the order given or by id; SQLite serialises
// writers anyway).
type Tx interface {
	enrollment.Tx
	// ClaimKeys inserts the idempotency records that are absent (Result is
	// ignored) and returns the keys it inserted; the others were claimed
	// before (waiting for in-flight holders to finish).
	ClaimKeys(ctx context.Context, recs []enrollment.IdempotencyRecord) (claimed []string, err error)
	// IdempotencyRecords reads stored records by key.
	IdempotencyRecords(ctx context.Context, keys []string) ([]enrollment.IdempotencyRecord, error)
	// Prefetch locks the certificates that exist (in id order), then every
	// account of them, and reads every contract of them and the offers of
	// the groups that exist. On a ClaimLocker the certificates were locked
	// and returned by ClaimKeysLock: Prefetch reads the rest.
	Prefetch(ctx context.Context, certificateIDs, groupIDs []uuid.UUID) (Rows, error)
	// LockCounters locks the counters of keys that exist, in the order of
	// keys, reads those of read without locking them, and returns them.
	LockCounters(ctx context.Context, keys, read []string) ([]enrollment.Counter, error)
	// ApplyBatch writes a batch's effects.
	ApplyBatch(ctx context.Context, w Write) error
}

// ClaimLocker is a Tx that claims the keys and locks the certificates of
// the applications whose key it claimed in one round trip, then reads the
// rest of the batch's rows (Prefetch) in statements that start after those
// locks are held (so that, under READ COMMITTED, they see everything
// committed by the transactions it waited for).
type ClaimLocker interface {
	// ClaimKeysLock is ClaimKeys, then locks (in id order) the existing
	// certificates certs[i] whose keys[i] it claimed, and returns them.
	ClaimKeysLock(ctx context.Context, recs []enrollment.IdempotencyRecord, keys []string, certs []uuid.UUID) (claimed []string, locked []certificate.Certificate, err error)
}

// Rows is what a batch reads before it runs its applications.
type Rows struct {
	Certificates []certificate.Certificate
	Accounts     []enrollment.AccountState
	// Contracts are the certificates' live contracts (Status.Live) an
	// application is checked against: those on the modules of the batch's
	// groups (one live contract a module) and those in budget-funded
	// registries (a registry's quota), not the rest, nor any past one, so
	// that a batch's reads do not grow with what a certificate holds.
	Contracts []enrollment.Contract
	Offers    []enrollment.Offer
	// CertVersions are the store's versions of the certificate rows, read
	// by an optimistic batch (OptimisticStore.ReadBatch); the versions of
	// the accounts are in AccountState.Version.
	CertVersions map[uuid.UUID]int64
	// Counters are the counters an optimistic batch asked for with its rows.
	Counters []enrollment.Counter
}

// OptimisticStore is a Store that can also run a batch without holding a
// lock between its statements: ReadBatch and ReadCounters read, each in
// one snapshot and outside any transaction, and ApplyOptimistic writes the
// whole batch in one atomic statement that first checks that nothing the
// accepted applications depend on changed in between (the certificates
// and accounts by version, the counters as CounterGuards). A batch whose
// check fails runs again under locks (Store.InBatchTx). On PostgreSQL that
// is three round trips and one commit per batch instead of seven.
type OptimisticStore interface {
	Store
	// OptimisticBatches reports whether the optimistic path is available
	// (it is worth nothing where writers are serialised anyway).
	OptimisticBatches() bool
	// ReadBatch reads the stored idempotency records of keys, the
	// certificates and every account and contract of them, and the offers
	// of the groups, in one snapshot, with the certificates' and accounts'
	// versions.
	// ReadBatch also reads the counters of counterKeys (into
	// Rows.Counters; a key without a row has no counter yet).
	ReadBatch(ctx context.Context, keys []string, certificateIDs, groupIDs []uuid.UUID, counterKeys []string) ([]enrollment.IdempotencyRecord, Rows, error)
	// ReadCounters reads counters without locking them.
	ReadCounters(ctx context.Context, keys []string) ([]enrollment.Counter, error)
	// ApplyOptimistic writes w in one transaction of its own if every
	// certificate of w.Check still has its version, every account of
	// w.Accounts with a Version still has it (and those without one do not
	// exist yet), every guard holds, no key of w.Results is stored yet and
	// no counter of w.Counters exists yet; otherwise it writes nothing and
	// returns an error wrapping ErrStale.
	ApplyOptimistic(ctx context.Context, w Write) error
}

// CertificateVersion is a certificate's row version as an optimistic batch
// read it.
type CertificateVersion struct {
	ID      uuid.UUID
	Version int64
}

// Write is everything a batch changes.
type Write struct {
	Contracts []enrollment.Contract      // new contracts
	Holds     []Hold                     // new or changed holds
	Postings  []enrollment.PostingRecord // appended postings
	Events    []enrollment.Event         // appended events (the outbox)
	Accounts  []enrollment.AccountState  // final states of the changed accounts (insert or update)
	// Counters add Add to used; a counter absent from the store is created
	// with Limit.
	Counters []CounterDelta
	// Results stores the result of each claimed key that succeeded.
	Results []enrollment.IdempotencyRecord
	// Release deletes the claimed keys that did not succeed, so that they
	// can be sent again.
	Release []string
	// Guards are the hot counters read without a lock; they are changed
	// last, each by one conditional update. If any guard's condition fails
	// ApplyBatch returns ErrStale and writes nothing.
	Guards []CounterGuard
	// Check lists the certificates whose applications were accepted, with
	// the versions an optimistic batch read (ApplyOptimistic locks them
	// and checks the versions; ApplyBatch, under locks, ignores it).
	Check []CertificateVersion
}

// CounterGuard adds Add to a counter read without a lock if used + Add +
// Room stays within its limit and, when Exact, the counter still holds the
// Used and Limit the batch read.
//
// Room is what the batch's refused applications need to stay refused for
// the reason they were given: one refused after passing a count check (a
// duplicate module, say) would have been refused by that count instead had
// it been full. Every count check is monotone in used, so used + Add +
// Room <= limit at the commit keeps each of those checks passing whatever
// other batches committed meanwhile; a refusal by a counter's own check
// needs it Exact.
type CounterGuard struct {
	Key         string
	Add         int64
	Room        int64
	Exact       bool
	Used, Limit int64
}

// ErrStale is a batch whose unlocked reads of hot counters no longer hold;
// it runs again with those counters locked.
var ErrStale = errors.New("enrollment: batch: hot counter changed")

// Hold is a hold with the account it belongs to.
type Hold struct {
	CertificateID uuid.UUID
	Period        funding.Period
	Hold          funding.Hold
}

// CounterDelta is an increment of a counter.
type CounterDelta struct {
	Key   string
	Add   int64
	Limit int64
}
