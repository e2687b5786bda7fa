package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/funding"
	"github.com/edufund/edufund/storage/internal/schema"
)

// LastClose is the latest month whose close finished.
func (t *tx) LastClose(ctx context.Context) (funding.Month, error) {
	var m schema.Month
	err := t.tx.NewSelect().Table("closes").ColumnExpr("month").OrderExpr("month DESC").Limit(1).Scan(ctx, &m)
	if errors.Is(err, sql.ErrNoRows) {
		return funding.Month{}, fmt.Errorf("storage: no close recorded: %w", enrollment.ErrNotFound)
	}
	if err != nil {
		return funding.Month{}, t.read(err, "last close", "")
	}
	return funding.Month(m), nil
}

// RecordClose records that month m's close finished; recording it again is a no-op.
func (t *tx) RecordClose(ctx context.Context, m funding.Month, at time.Time) error {
	_, err := t.tx.NewInsert().Model(&schema.Close{Month: schema.Month(m), ClosedAt: schema.Time(at)}).On("CONFLICT DO NOTHING").Exec(ctx)
	return t.write(err, "record close")
}
