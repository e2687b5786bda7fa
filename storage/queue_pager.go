package storage

import (
	"context"
	"unicode/utf8"

	"github.com/google/uuid"
)

// QueuedIDs returns up to limit ids of the certificates waiting in a queue
// whose name starts with prefix (enrollment names a category's queue
// "category:CODE" and a year's adult queue "adult:YEAR"), each once, in id
// order, strictly after `after`. It runs outside any transaction, as the
// other pages of enrollment.Pager do; the forecast reads the queues
// through it.
func (db *DB) QueuedIDs(ctx context.Context, prefix string, after uuid.UUID, limit int) ([]uuid.UUID, error) {
	if limit <= 0 {
		return nil, nil
	}
	var ids []uuid.UUID
	err := db.withRetry(ctx, func() error {
		ids = nil
		// substr counts characters in both engines: no LIKE, so no
		// wildcard in a category's code needs escaping.
		return db.bun.NewRaw("SELECT DISTINCT certificate_id FROM queue WHERE substr(queue, 1, ?) = ? AND certificate_id > ? ORDER BY certificate_id LIMIT ?",
			utf8.RuneCountInString(prefix), prefix, after, limit).Scan(ctx, &ids)
	})
	if err != nil {
		return nil, db.pagerErr(err, "queued certificate ids")
	}
	return ids, nil
}
