package enrollment

import (
	"context"
	"errors"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/funding"
)

// Authorisations let an organisation a municipality trusts (a school, a
// kindergarten, an МФЦ) take a family's paper application for a child's
// certificate (seed 004, issuing through an institution). The organisation
// acts as RoleAuthorised with its own id; what it may do is data, granted
// and revoked by the municipality or the regional operator, and checked by
// the service in the transaction of every issue or activation, so that a
// revocation stops the next request whatever edge sends it.

// Authorisation is a municipality's authorisation of an organisation: for
// which municipality, whether it may activate certificates as well as
// issue them, and the days it holds (To zero: open-ended).
type Authorisation struct {
	ID             uuid.UUID
	OrganisationID uuid.UUID
	Name           string // the organisation's name, for people
	Municipality   string
	MayActivate    bool
	From           funding.Date
	To             funding.Date `json:",omitzero"`
	GrantedBy      string
	GrantedAt      time.Time
	RevokedBy      string    `json:",omitempty"`
	RevokedAt      time.Time `json:",omitzero"`
}

// HoldsOn reports whether a is in force on day on.
func (a Authorisation) HoldsOn(on funding.Date) bool {
	if !a.RevokedAt.IsZero() || on.Before(a.From) {
		return false
	}
	return a.To.IsZero() || !a.To.Before(on)
}

// Registration is a certificate an authorised organisation issued on a
// family's paper application: the organisation reads the certificates it
// registered, and no others.
type Registration struct {
	CertificateID   uuid.UUID
	OrganisationID  uuid.UUID
	AuthorisationID uuid.UUID
	ReceivedOn      funding.Date // the day the paper application was received
}

// AuthorisationTx keeps the authorisations and the registrations.
// Authorisation returns ErrNotFound for an unknown id; Authorisations lists
// by organisation (uuid.Nil: all) and municipality (empty: all), oldest
// first; Registration returns ErrNotFound for a certificate no authorised
// organisation registered.
type AuthorisationTx interface {
	SaveAuthorisation(ctx context.Context, a Authorisation) error // insert or update
	Authorisation(ctx context.Context, id uuid.UUID) (Authorisation, error)
	Authorisations(ctx context.Context, organisation uuid.UUID, municipality string) ([]Authorisation, error)
	RecordRegistration(ctx context.Context, r Registration) error // ErrExists for a registered certificate
	Registration(ctx context.Context, certID uuid.UUID) (Registration, error)
}

// AsAuthorised is the authorised organisation with the given id.
func AsAuthorised(id uuid.UUID) Caller { return Caller{Role: RoleAuthorised, ID: id.String()} }

// organisationID is the organisation an authorised caller acts as
// (uuid.Nil otherwise).
func (c Caller) organisationID() uuid.UUID {
	if c.Role != RoleAuthorised {
		return uuid.Nil
	}
	id, _ := uuid.Parse(c.ID)
	return id
}

// ErrNotAuthorised is an authorised organisation acting beyond its
// authorisation: another municipality, an activation it may not make, a
// day outside it, or after its revocation.
var ErrNotAuthorised = errors.New("not authorised")

// CodeNotAuthorised is the stable code of ErrNotAuthorised.
const CodeNotAuthorised = "not_authorised"

// The authorisation's admin events (payload: before, after).
const (
	AuthorisationGranted EventType = "admin.authorisation_granted"
	AuthorisationRevoked EventType = "admin.authorisation_revoked"
)

// MaxOrganisationNameLen bounds an organisation's name, in characters.
const MaxOrganisationNameLen = 300

// authorisedFor returns the authorisation under which organisation by acts
// for municipality mun on day on; activate asks for one that may activate.
func (s *Service) authorisedFor(ctx context.Context, tx Tx, by Caller, mun string, on funding.Date, activate bool) (Authorisation, error) {
	as, err := tx.Authorisations(ctx, by.organisationID(), mun)
	if err != nil {
		return Authorisation{}, err
	}
	for _, a := range as {
		if a.HoldsOn(on) && (a.MayActivate || !activate) {
			return a, nil
		}
	}
	what := "issue certificates"
	if activate {
		what = "activate certificates"
	}
	return Authorisation{}, funding.Refuse(ErrNotAuthorised, CodeNotAuthorised,
		"organisation %s is not authorised to %s of municipality %s on %s", by.ID, what, mun, on)
}

// registerIssue is an authorised organisation's issue of certificate c on
// the paper application received under authorisation a.
func (s *Service) registerIssue(ctx context.Context, tx Tx, by Caller, a Authorisation, c certificate.Certificate, on funding.Date) error {
	return tx.RecordRegistration(ctx, Registration{CertificateID: c.ID, OrganisationID: by.organisationID(), AuthorisationID: a.ID, ReceivedOn: on})
}

// registeredBy reports whether organisation by registered certificate c.
func registeredBy(ctx context.Context, tx Tx, by Caller, c certificate.Certificate) (bool, error) {
	r, err := tx.Registration(ctx, c.ID)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	return err == nil && r.OrganisationID == by.organisationID(), err
}

// AuthoriseRequest grants an organisation an authorisation. A municipal
// authority grants it for itself; the regional operator for any
// municipality.
type AuthoriseRequest struct {
	OrganisationID uuid.UUID
	Name           string
	Municipality   string
	MayActivate    bool
	From           funding.Date
	To             funding.Date
	By             Caller
}

func (r AuthoriseRequest) validate() error {
	switch {
	case r.OrganisationID == uuid.Nil:
		return &funding.ValidationError{Field: "organisation_id", Rule: "is required"}
	case strings.TrimSpace(r.Name) == "":
		return &funding.ValidationError{Field: "name", Rule: "is required"}
	case utf8.RuneCountInString(r.Name) > MaxOrganisationNameLen:
		return &funding.ValidationError{Field: "name", Rule: "must be at most 300 characters", Value: r.Name[:20] + "…"}
	case strings.TrimSpace(r.Municipality) == "":
		return &funding.ValidationError{Field: "municipality", Rule: "is required"}
	case r.From.IsZero():
		return &funding.ValidationError{Field: "from", Rule: "is required"}
	case !r.To.IsZero() && r.To.Before(r.From):
		return &funding.ValidationError{Field: "to", Rule: "must not be before from", Value: r.To.String()}
	}
	return nil
}

// mayAuthorise refuses a caller who may not grant or revoke authorisations
// of municipality mun.
func mayAuthorise(by Caller, mun string) error {
	if err := roleMay(by, "grant or revoke authorisations", RoleMunicipality, RoleRegional); err != nil {
		return err
	}
	if by.Role == RoleMunicipality && by.ID != mun {
		return forbidden("a municipal authority authorises organisations only for itself")
	}
	return nil
}

// Authorise grants an organisation an authorisation, recorded as an admin
// event.
func (s *Service) Authorise(ctx context.Context, key string, r AuthoriseRequest) (Authorisation, error) {
	if err := r.validate(); err != nil {
		return Authorisation{}, err
	}
	if err := mayAuthorise(r.By, r.Municipality); err != nil {
		return Authorisation{}, err
	}
	return idempotent(ctx, s, key, "authorisation.grant", r.By, r, func(ctx context.Context, tx Tx) (Authorisation, error) {
		a := Authorisation{ID: uuid.Must(uuid.NewV7()), OrganisationID: r.OrganisationID, Name: strings.TrimSpace(r.Name),
			Municipality: r.Municipality, MayActivate: r.MayActivate, From: r.From, To: r.To,
			GrantedBy: r.By.Actor(), GrantedAt: s.clock.Now().UTC()}
		if err := tx.SaveAuthorisation(ctx, a); err != nil {
			return Authorisation{}, err
		}
		return a, s.regionEvent(ctx, tx, Event{Type: AuthorisationGranted, Actor: r.By.Actor(), Municipality: a.Municipality,
			Scheme: certificate.Supplementary, Payload: mustJSON(beforeAfter(nil, a))})
	})
}

// RevokeAuthorisation ends an authorisation at once: the organisation's
// next issue or activation under it is refused. Revoking a revoked one
// changes nothing.
func (s *Service) RevokeAuthorisation(ctx context.Context, key string, id uuid.UUID, by Caller) (Authorisation, error) {
	if err := roleMay(by, "grant or revoke authorisations", RoleMunicipality, RoleRegional); err != nil {
		return Authorisation{}, err
	}
	return idempotent(ctx, s, key, "authorisation.revoke", by, struct {
		ID uuid.UUID
		By Caller
	}{id, by}, func(ctx context.Context, tx Tx) (Authorisation, error) {
		a, err := tx.Authorisation(ctx, id)
		if err != nil {
			return Authorisation{}, notFound(err, "authorisation_id", id)
		}
		if by.Role == RoleMunicipality && by.ID != a.Municipality {
			return Authorisation{}, notFound(ErrNotFound, "authorisation_id", id)
		}
		if !a.RevokedAt.IsZero() {
			return a, nil
		}
		before := a
		a.RevokedBy, a.RevokedAt = by.Actor(), s.clock.Now().UTC()
		if err := tx.SaveAuthorisation(ctx, a); err != nil {
			return Authorisation{}, err
		}
		return a, s.regionEvent(ctx, tx, Event{Type: AuthorisationRevoked, Actor: by.Actor(), Municipality: a.Municipality,
			Scheme: certificate.Supplementary, Payload: mustJSON(beforeAfter(before, a))})
	})
}

// Authorisations lists authorisations: a municipal authority its own, the
// regional operator and the auditor every one (or municipality mun's), an
// authorised organisation its own.
func (s *Service) Authorisations(ctx context.Context, by Caller, mun string) ([]Authorisation, error) {
	if err := roleMay(by, "read authorisations", RoleMunicipality, RoleRegional, RoleAuditor, RoleAuthorised); err != nil {
		return nil, err
	}
	org := uuid.Nil
	switch by.Role {
	case RoleMunicipality:
		mun = by.ID
	case RoleAuthorised:
		org = by.organisationID()
	}
	var out []Authorisation
	err := s.store.InTx(ctx, func(ctx context.Context, tx Tx) error {
		var err error
		out, err = tx.Authorisations(ctx, org, mun)
		return err
	})
	return out, err
}
