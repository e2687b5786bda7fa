package storage

import (
	"context"

	"github.com/google/uuid"

	"github.com/edufund/edufund/funding"
	"github.com/edufund/edufund/storage/internal/schema"
)

// HoursAccount is certificate certificateID's hours account for period;
// enrollment.ErrNotFound for a certificate whose nominal is not in hours.
func (t *tx) HoursAccount(ctx context.Context, certificateID uuid.UUID, period funding.Period) (funding.HoursAccount, error) {
	row := new(schema.HoursAccount)
	err := t.tx.NewSelect().Model(row).
		Where("certificate_id = ?", certificateID).Where("period_start = ?", schema.Date(period.Start)).Scan(ctx)
	if err != nil {
		return funding.HoursAccount{}, t.read(err, "hours account", certificateID)
	}
	return row.Domain(), nil
}

// SaveHoursAccount inserts or updates it. The CHECKs keep what is held
// within the account, whatever a caller computed.
func (t *tx) SaveHoursAccount(ctx context.Context, certificateID uuid.UUID, period funding.Period, a funding.HoursAccount) error {
	_, err := t.tx.NewInsert().Model(schema.FromHoursAccount(certificateID, period, a)).
		On("CONFLICT (certificate_id, period_start) DO UPDATE").
		Set(schema.HoursAccounts.Set("period_end")).
		Exec(ctx)
	return t.write(err, "save hours account")
}
