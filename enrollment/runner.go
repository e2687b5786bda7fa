package enrollment

import (
	"context"
	"time"

	"github.com/google/uuid"

	"github.com/edufund/edufund/funding"
)

// The hooks below serve a runner that puts many use cases in one shared
// transaction (enrollment/batch: the Batcher and the batched monthly
// close). Each runs the rules unchanged; the runner brings the
// transactions, and an embedder calling the use cases never needs them.

// Store is the store the service runs its transactions on.
func (s *Service) Store() Store { return s.store }

// Now is the instant of the service's clock.
func (s *Service) Now() time.Time { return s.clock.Now() }

// submitOp is Submit's operation in its idempotency records.
const submitOp = "contract.submit"

// Enrol is one submission inside the caller's transaction, for batch
// runners: Submit's checks and effects for application r received at,
// without Submit's transaction or idempotency record, which the runner
// keeps (SubmitClaim, SubmitReplay).
func (s *Service) Enrol(ctx context.Context, tx Tx, r SubmitRequest, at time.Time) (Contract, error) {
	return s.enrol(ctx, tx, r, at, s.dateOf(at))
}

// SubmitClaim validates key as Submit does and returns the idempotency
// record Submit claims for it with r (its Result empty), under the key
// Submit stores it by (StoredKey), for a batch runner that claims many keys
// at once.
func SubmitClaim(key string, r SubmitRequest) (IdempotencyRecord, error) {
	hash, err := requestHash(key, submitOp, r)
	if err != nil {
		return IdempotencyRecord{}, err
	}
	return IdempotencyRecord{Key: StoredKey(submitOp, r.By, key), Operation: submitOp, RequestHash: hash}, nil
}

// SubmitReplay is Submit's answer to a request with the given hash whose
// key was claimed before, with record rec: the contract the first run
// returned, or ErrIdempotencyConflict when the key was first used for
// another operation or request.
func SubmitReplay(rec IdempotencyRecord, hash string) (Contract, error) {
	return replayed[Contract](rec.Key, rec, submitOp, hash)
}

// CloseStatuses are the statuses of the contracts a monthly close visits.
func CloseStatuses() []Status { return []Status{Requested, Accepted, Active, Terminating} }

// CheckCloseable refuses to close month m as CloseMonth does: before its
// 1st, or past a month whose close never finished.
func (s *Service) CheckCloseable(ctx context.Context, m funding.Month) error {
	return s.checkCloseable(ctx, m)
}

// CloseContract closes month m for one contract in a transaction of its
// own, as CloseMonth does for each, and adds what it did to rep (but not
// to rep.Contracts or rep.Failed, which are the caller's).
func (s *Service) CloseContract(ctx context.Context, id uuid.UUID, m funding.Month, rep *CloseReport) error {
	return s.closeContract(ctx, id, m, rep)
}

// RecordClose remembers that the close of rep.Month finished, as CloseMonth
// does at its end, unless rep lists a failed contract.
func (s *Service) RecordClose(ctx context.Context, rep CloseReport) error {
	return s.recordClose(ctx, rep)
}
