package storage

import (
	"context"

	"github.com/google/uuid"

	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/storage/internal/schema"
)

// InsertAdultReview records an adult application awaiting review.
func (t *tx) InsertAdultReview(ctx context.Context, r enrollment.AdultReview) error {
	_, err := t.tx.NewInsert().Model(schema.FromAdultReview(r)).Exec(ctx)
	return t.write(err, "insert adult review")
}

// AdultReview reads the review of an adult application.
func (t *tx) AdultReview(ctx context.Context, certID uuid.UUID) (enrollment.AdultReview, error) {
	r := new(schema.AdultReview)
	if err := t.tx.NewSelect().Model(r).Where("certificate_id = ?", certID).Scan(ctx); err != nil {
		return enrollment.AdultReview{}, t.read(err, "adult review", certID)
	}
	return r.Domain(), nil
}

// DecideAdultReview stores a review's decision.
func (t *tx) DecideAdultReview(ctx context.Context, r enrollment.AdultReview) error {
	_, err := t.tx.NewUpdate().Model(schema.FromAdultReview(r)).Column("status", "reasons", "decided_at", "decided_by").WherePK().Exec(ctx)
	return t.write(err, "decide adult review")
}

// AdultReviews lists reviews by status ("" all) after an id, oldest first
// (certificate ids are UUIDv7).
func (t *tx) AdultReviews(ctx context.Context, status enrollment.ReviewStatus, after uuid.UUID, limit int) ([]enrollment.AdultReview, error) {
	var rows []schema.AdultReview
	q := t.tx.NewSelect().Model(&rows).Where("certificate_id > ?", after).OrderExpr("certificate_id").Limit(int64(limit))
	if status != "" {
		q = q.Where("status = ?", string(status))
	}
	if err := q.Scan(ctx); err != nil {
		return nil, t.read(err, "adult reviews", status)
	}
	out := make([]enrollment.AdultReview, len(rows))
	for i := range rows {
		out[i] = rows[i].Domain()
	}
	return out, nil
}
