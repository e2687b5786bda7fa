package storage

import (
	"context"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/storage/internal/schema"
)

// Certificates lists the certificates f matches, newest first (UUIDv7 ids
// grow with time), a page at a time. A holder's are found through the
// guardian recorded on a child's certificate, the guardianships of the
// person, and the person's own adult certificate: each through an index
// (migration 00021, and the unique key on scheme and person).
func (db *DB) Certificates(ctx context.Context, f enrollment.CertificateFilter) ([]certificate.Certificate, error) {
	if f.Limit <= 0 {
		return nil, nil
	}
	var rows []schema.Certificate
	err := db.withRetry(ctx, func() error {
		rows = nil
		q := db.bun.NewSelect().Model(&rows)
		if f.Scheme != "" {
			q = q.Where("scheme = ?", string(f.Scheme))
		}
		if f.Municipality != "" {
			q = q.Where("municipality = ?", f.Municipality)
		}
		if f.Status != "" {
			q = q.Where("status = ?", string(f.Status))
		}
		if f.Holder != "" {
			q = q.WhereGroup(" AND ", func(q *bun.SelectQuery) *bun.SelectQuery {
				return q.Where("scheme = ? AND person_id = ?", string(certificate.DigitalSkills), f.Holder).
					WhereOr("scheme = ? AND guardian_id = ?", string(certificate.Supplementary), f.Holder).
					WhereOr("scheme = ? AND person_id IN (SELECT child_id FROM guardianships WHERE guardian_id = ?)", string(certificate.Supplementary), f.Holder)
			})
		}
		if f.After != uuid.Nil {
			q = q.Where("id < ?", f.After)
		}
		return q.OrderExpr("id DESC").Limit(int64(f.Limit)).Scan(ctx)
	})
	if err != nil {
		return nil, db.pagerErr(err, "certificates")
	}
	out := make([]certificate.Certificate, len(rows))
	for i := range rows {
		out[i] = rows[i].Domain()
	}
	return out, nil
}

// Contracts lists the contracts f matches, newest first, a page at a time;
// a provider's through contracts_provider_idx, a certificate's through
// contracts_certificate_idx.
func (db *DB) Contracts(ctx context.Context, f enrollment.ContractFilter) ([]enrollment.Contract, error) {
	if f.Limit <= 0 {
		return nil, nil
	}
	var rows []schema.Contract
	err := db.withRetry(ctx, func() error {
		rows = nil
		q := db.bun.NewSelect().Model(&rows)
		if f.Scheme != "" {
			q = q.Where("scheme = ?", string(f.Scheme))
		}
		if f.Provider != uuid.Nil {
			q = q.Where("provider_id = ?", f.Provider)
		}
		if f.Municipality != "" {
			q = q.Where("municipality = ?", f.Municipality)
		}
		if f.Certificate != uuid.Nil {
			q = q.Where("certificate_id = ?", f.Certificate)
		}
		if len(f.Statuses) > 0 {
			ss := make([]string, len(f.Statuses))
			for i, s := range f.Statuses {
				ss[i] = string(s)
			}
			q = q.Where("status IN (?)", bun.In(ss))
		}
		if f.After != uuid.Nil {
			q = q.Where("id < ?", f.After)
		}
		return q.OrderExpr("id DESC").Limit(int64(f.Limit)).Scan(ctx)
	})
	if err != nil {
		return nil, db.pagerErr(err, "contracts")
	}
	out := make([]enrollment.Contract, len(rows))
	for i := range rows {
		out[i] = rows[i].Domain()
	}
	return out, nil
}

// QueueLength counts the certificates waiting in queue, through the
// queue's primary key.
func (db *DB) QueueLength(ctx context.Context, queue string) (int, error) {
	var n int
	err := db.withRetry(ctx, func() error {
		return db.bun.NewRaw(`SELECT COUNT(*) FROM queue WHERE queue = ?`, queue).Scan(ctx, &n)
	})
	if err != nil {
		return 0, db.pagerErr(err, "queue length")
	}
	return n, nil
}
