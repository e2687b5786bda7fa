package storage

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/funding"
	"github.com/edufund/edufund/storage/internal/schema"
)

var _ enrollment.WaitlistTx = (*tx)(nil)

// AddWaitlist inserts e as the last of its group's list: the caller holds
// the group's seat counter, so max(seq)+1 is not raced.
func (t *tx) AddWaitlist(ctx context.Context, e enrollment.WaitlistEntry) error {
	var last []int64
	if err := t.tx.NewRaw("SELECT COALESCE(MAX(seq), 0) FROM waitlist WHERE group_id = ?", e.GroupID).Scan(ctx, &last); err != nil {
		return t.read(err, "waitlist seq", e.GroupID)
	}
	if len(last) == 1 {
		e.Seq = last[0] + 1
	}
	r, err := schema.FromWaitlist(e)
	if err != nil {
		return err
	}
	return t.insertNew(ctx, r, "add waitlist")
}

func (t *tx) UpdateWaitlist(ctx context.Context, e enrollment.WaitlistEntry) error {
	r, err := schema.FromWaitlist(e)
	if err != nil {
		return err
	}
	res, err := t.tx.NewUpdate().Model(r).Column("status", "contract_id", "deadline", "reason").WherePK().Exec(ctx)
	return t.affected(res, err, "update waitlist", e.ID)
}

func (t *tx) waitRow(ctx context.Context, what string, key any, q func(r *schema.Waitlist) error) (enrollment.WaitlistEntry, error) {
	r := new(schema.Waitlist)
	if err := q(r); err != nil {
		return enrollment.WaitlistEntry{}, t.read(err, what, key)
	}
	return r.Domain()
}

func (t *tx) LockWaitlist(ctx context.Context, id uuid.UUID) (enrollment.WaitlistEntry, error) {
	return t.waitRow(ctx, "waitlist entry", id, func(r *schema.Waitlist) error {
		return t.forUpdate(t.tx.NewSelect().Model(r).Where("id = ?", id)).Scan(ctx)
	})
}

func (t *tx) WaitlistHead(ctx context.Context, groupID uuid.UUID) (enrollment.WaitlistEntry, error) {
	return t.waitRow(ctx, "waitlist head", groupID, func(r *schema.Waitlist) error {
		return t.forUpdate(t.tx.NewSelect().Model(r).Where("group_id = ? AND status = ?", groupID, string(enrollment.Waiting)).
			Order("seq").Limit(1)).Scan(ctx)
	})
}

func (t *tx) CertificateWaitlist(ctx context.Context, certID uuid.UUID) ([]enrollment.WaitlistEntry, error) {
	var rows []schema.Waitlist
	if err := t.tx.NewSelect().Model(&rows).Where("certificate_id = ?", certID).Order("created_at DESC", "id DESC").Scan(ctx); err != nil {
		return nil, t.read(err, "certificate waitlist", certID)
	}
	out := make([]enrollment.WaitlistEntry, 0, len(rows))
	for i := range rows {
		e, err := rows[i].Domain()
		if err != nil {
			return nil, err
		}
		if e.Status == enrollment.Waiting {
			var n []int
			err := t.tx.NewRaw("SELECT COUNT(*) FROM waitlist WHERE group_id = ? AND status = ? AND seq <= ?",
				e.GroupID, string(enrollment.Waiting), e.Seq).Scan(ctx, &n)
			if err != nil {
				return nil, t.read(err, "waitlist position", e.ID)
			}
			if len(n) == 1 {
				e.Position = n[0]
			}
		}
		out = append(out, e)
	}
	return out, nil
}

func (t *tx) OfferedBefore(ctx context.Context, on funding.Date, limit int) ([]uuid.UUID, error) {
	var ids []uuid.UUID
	err := t.tx.NewSelect().Model((*schema.Waitlist)(nil)).Column("id").
		Where("status = ? AND deadline < ?", string(enrollment.WaitOffered), schema.Date(on)).
		Order("id").Limit(int64(limit)).Scan(ctx, &ids)
	if err != nil {
		return nil, t.read(err, "lapsed waitlist offers", on)
	}
	return ids, nil
}

// Savepoint runs fn in a savepoint, rolled back when fn fails; the
// transaction goes on either way.
func (t *tx) Savepoint(ctx context.Context, fn func(ctx context.Context) error) error {
	if _, err := t.tx.ExecContext(ctx, "SAVEPOINT waitlist_offer"); err != nil {
		return t.write(err, "savepoint")
	}
	if err := fn(ctx); err != nil {
		if _, rerr := t.tx.ExecContext(ctx, "ROLLBACK TO SAVEPOINT waitlist_offer"); rerr != nil {
			return fmt.Errorf("%w (rollback to savepoint: %v)", err, t.write(rerr, "rollback to savepoint"))
		}
		_, _ = t.tx.ExecContext(ctx, "RELEASE SAVEPOINT waitlist_offer")
		return err
	}
	_, err := t.tx.ExecContext(ctx, "RELEASE SAVEPOINT waitlist_offer")
	return t.write(err, "release savepoint")
}
