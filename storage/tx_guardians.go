package storage

import (
	"context"

	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/storage/internal/schema"
)

// LinkGuardian records a guardian link; the first record of a link stays.
func (t *tx) LinkGuardian(ctx context.Context, l enrollment.GuardianLink) error {
	_, err := t.tx.NewInsert().Model(&schema.Guardianship{GuardianID: l.GuardianID, ChildID: l.ChildID, RecordedAt: schema.Time(l.RecordedAt), Actor: l.Actor}).
		On("CONFLICT DO NOTHING").Exec(ctx)
	return t.write(err, "link guardian")
}

// IsGuardian reports whether guardianID is linked to childID.
func (t *tx) IsGuardian(ctx context.Context, guardianID, childID string) (bool, error) {
	ok, err := t.tx.NewSelect().Table("guardianships").
		Where("guardian_id = ?", guardianID).Where("child_id = ?", childID).Exists(ctx)
	if err != nil {
		return false, t.read(err, "guardian link", guardianID)
	}
	return ok, nil
}
