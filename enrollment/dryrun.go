package enrollment

import (
	"context"
	"errors"
)

// errDryRun ends every transaction of a dry run, so that the store rolls it back.
var errDryRun = errors.New("dry run: rolled back")

// dryRunStore runs each transaction to its end and rolls it back.
type dryRunStore struct{ Store }

func (d dryRunStore) InTx(ctx context.Context, fn func(ctx context.Context, tx Tx) error) error {
	err := d.Store.InTx(ctx, func(ctx context.Context, tx Tx) error {
		if err := fn(ctx, tx); err != nil {
			return err
		}
		return errDryRun
	})
	if errors.Is(err, errDryRun) {
		return nil
	}
	return err
}

// DryRun returns a service that runs every use case as s does, with the same
// rules, checks and reports, and writes nothing: each of its transactions is
// rolled back after its last statement. An operator sees what a monthly
// close, a rollover or a parameter change would do before doing it.
//
// A use case made of several transactions (a close or a rollover: one per
// contract or certificate) sees in each the store as it is, not as the dry
// run's earlier transactions would have left it; for those use cases the
// transactions are independent, so the report is the real run's. The
// batched close runs contract by contract in a dry run.
func (s *Service) DryRun() *Service {
	d := *s
	d.store = dryRunStore{s.store}
	return &d
}
