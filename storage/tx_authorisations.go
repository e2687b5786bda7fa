package storage

import (
	"context"

	"github.com/google/uuid"

	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/storage/internal/schema"
)

// SaveAuthorisation inserts or updates an authorisation.
func (t *tx) SaveAuthorisation(ctx context.Context, a enrollment.Authorisation) error {
	_, err := t.tx.NewInsert().Model(schema.FromAuthorisation(a)).On("CONFLICT (id) DO UPDATE").
		Set("name = EXCLUDED.name, may_activate = EXCLUDED.may_activate, from_on = EXCLUDED.from_on, to_on = EXCLUDED.to_on").
		Set("revoked_by = EXCLUDED.revoked_by, revoked_at = EXCLUDED.revoked_at").Exec(ctx)
	return t.write(err, "save authorisation")
}

// Authorisation reads one; ErrNotFound for an unknown id.
func (t *tx) Authorisation(ctx context.Context, id uuid.UUID) (enrollment.Authorisation, error) {
	r := new(schema.Authorisation)
	if err := t.tx.NewSelect().Model(r).Where("id = ?", id).Scan(ctx); err != nil {
		return enrollment.Authorisation{}, t.read(err, "authorisation", id)
	}
	return r.Domain(), nil
}

// Authorisations lists by organisation (uuid.Nil: all) and municipality
// (empty: all), oldest first (ids are UUIDv7).
func (t *tx) Authorisations(ctx context.Context, organisation uuid.UUID, municipality string) ([]enrollment.Authorisation, error) {
	var rows []schema.Authorisation
	q := t.tx.NewSelect().Model(&rows).OrderExpr("id")
	if organisation != uuid.Nil {
		q = q.Where("organisation_id = ?", organisation)
	}
	if municipality != "" {
		q = q.Where("municipality = ?", municipality)
	}
	if err := q.Scan(ctx); err != nil {
		return nil, t.read(err, "authorisations", "")
	}
	out := make([]enrollment.Authorisation, len(rows))
	for i := range rows {
		out[i] = rows[i].Domain()
	}
	return out, nil
}

// RecordRegistration records a certificate an authorised organisation
// issued; ErrExists for a registered certificate.
func (t *tx) RecordRegistration(ctx context.Context, r enrollment.Registration) error {
	return t.insertNew(ctx, schema.FromRegistration(r), "record registration")
}

// Registration reads a certificate's registration; ErrNotFound for none.
func (t *tx) Registration(ctx context.Context, certID uuid.UUID) (enrollment.Registration, error) {
	r := new(schema.Registration)
	if err := t.tx.NewSelect().Model(r).Where("certificate_id = ?", certID).Scan(ctx); err != nil {
		return enrollment.Registration{}, t.read(err, "registration", certID)
	}
	return r.Domain(), nil
}
