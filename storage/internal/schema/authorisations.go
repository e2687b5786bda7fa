package schema

import (
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/funding"
)

// Authorisation is an authorisations row: a municipality's authorisation
// of an organisation to take paper applications for certificates.
type Authorisation struct {
	bun.BaseModel `bun:"table:authorisations"`

	ID             uuid.UUID `bun:"id,pk"`
	OrganisationID uuid.UUID `bun:"organisation_id"`
	Name           string    `bun:"name"`
	Municipality   string    `bun:"municipality"`
	MayActivate    bool      `bun:"may_activate"`
	FromOn         Date      `bun:"from_on,notnull"`
	ToOn           Date      `bun:"to_on"`
	GrantedBy      string    `bun:"granted_by"`
	GrantedAt      Time      `bun:"granted_at,notnull"`
	RevokedBy      string    `bun:"revoked_by"`
	RevokedAt      Time      `bun:"revoked_at"`
}

// FromAuthorisation is a as a row.
func FromAuthorisation(a enrollment.Authorisation) *Authorisation {
	return &Authorisation{ID: a.ID, OrganisationID: a.OrganisationID, Name: a.Name, Municipality: a.Municipality,
		MayActivate: a.MayActivate, FromOn: Date(a.From), ToOn: Date(a.To), GrantedBy: a.GrantedBy,
		GrantedAt: Time(a.GrantedAt), RevokedBy: a.RevokedBy, RevokedAt: Time(a.RevokedAt)}
}

// Domain is the authorisation the row holds.
func (r *Authorisation) Domain() enrollment.Authorisation {
	a := enrollment.Authorisation{ID: r.ID, OrganisationID: r.OrganisationID, Name: r.Name, Municipality: r.Municipality,
		MayActivate: r.MayActivate, From: funding.Date(r.FromOn), To: funding.Date(r.ToOn), GrantedBy: r.GrantedBy,
		GrantedAt: time.Time(r.GrantedAt).UTC(), RevokedBy: r.RevokedBy}
	if t := time.Time(r.RevokedAt); !t.IsZero() {
		a.RevokedAt = t.UTC()
	}
	return a
}

// Registration is a registrations row: a certificate an authorised
// organisation issued on a paper application.
type Registration struct {
	bun.BaseModel `bun:"table:registrations"`

	CertificateID   uuid.UUID `bun:"certificate_id,pk"`
	OrganisationID  uuid.UUID `bun:"organisation_id"`
	AuthorisationID uuid.UUID `bun:"authorisation_id"`
	ReceivedOn      Date      `bun:"received_on,notnull"`
}

// FromRegistration is r as a row.
func FromRegistration(r enrollment.Registration) *Registration {
	return &Registration{CertificateID: r.CertificateID, OrganisationID: r.OrganisationID,
		AuthorisationID: r.AuthorisationID, ReceivedOn: Date(r.ReceivedOn)}
}

// Domain is the registration the row holds.
func (r *Registration) Domain() enrollment.Registration {
	return enrollment.Registration{CertificateID: r.CertificateID, OrganisationID: r.OrganisationID,
		AuthorisationID: r.AuthorisationID, ReceivedOn: funding.Date(r.ReceivedOn)}
}
