package storage

import (
	"context"

	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/storage/internal/schema"
)

// RecordCompletion records an adult course's completion; ErrExists for a
// contract completed already.
func (t *tx) RecordCompletion(ctx context.Context, c enrollment.Completion) error {
	return t.insertNew(ctx, schema.FromCompletion(c), "record completion")
}
