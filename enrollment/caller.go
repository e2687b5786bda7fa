package enrollment

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"

	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/funding"
)

// Role is what a caller is in the schemes.
type Role string

const (
	// RoleSystem is the region's own jobs: the operators' commands, the
	// demo loader, an embedder's back office. It may do everything.
	RoleSystem Role = "system"
	// RoleHolder is a person: an adult acting for their own certificate, a
	// parent for their children's. Caller.ID is the person's id.
	RoleHolder Role = "holder"
	// RoleProvider is an organisation that teaches; Caller.ID is its id.
	RoleProvider Role = "provider"
	// RoleMunicipality is a municipal authority; Caller.ID is its code.
	RoleMunicipality Role = "municipality"
	// RoleRegional is the regional operator: the whole children's scheme.
	RoleRegional Role = "regional"
	// RoleFederal is the federal operator: the whole adult scheme.
	RoleFederal Role = "federal"
	// RoleAuditor is the region's auditor: reads everything of both
	// schemes (certificates, contracts, invoices, parameters, the ledger's
	// audit trail) and changes nothing. Caller.Name is the auditor's.
	RoleAuditor Role = "auditor"
	// RoleAuthorised is an organisation a municipality authorised to take
	// paper applications for children's certificates (a school, a
	// kindergarten, an МФЦ); Caller.ID is its id. What it may do is its
	// Authorisation, checked by the service (service_authorised.go).
	RoleAuthorised Role = "authorised"
)

// Roles lists every role a person or organisation can have (not RoleSystem).
var Roles = []Role{RoleHolder, RoleProvider, RoleMunicipality, RoleRegional, RoleFederal, RoleAuditor, RoleAuthorised}

// Known reports whether r is one of Roles.
func (r Role) Known() bool {
	for _, k := range Roles {
		if r == k {
			return true
		}
	}
	return false
}

// Caller is who asks the service for something, as the edge authenticated
// them: a verified token, a signed-in session, the region's own job. Every
// use case that reads or changes a person's certificate or contract checks
// it against the caller, so a rule that protects identity holds for every
// edge, not only the reference server's. The zero Caller is refused.
type Caller struct {
	Role Role
	// ID is what the caller acts as: a holder's person id, a provider's id,
	// a municipality's code; empty for the operators and the system.
	ID string
	// Name is who the caller is, for the ledger and the logs (a token's
	// subject); it defaults to ID.
	Name string
}

// AsSystem is the region's own job called name.
func AsSystem(name string) Caller { return Caller{Role: RoleSystem, Name: name} }

// AsHolder is the person with the given id: an adult holder, or a parent.
func AsHolder(personID string) Caller { return Caller{Role: RoleHolder, ID: personID} }

// AsProvider is the provider with the given id.
func AsProvider(id uuid.UUID) Caller { return Caller{Role: RoleProvider, ID: id.String()} }

// AsMunicipality is the municipal authority with the given code.
func AsMunicipality(code string) Caller { return Caller{Role: RoleMunicipality, ID: code} }

// AsRegional is the regional operator's staff member name.
func AsRegional(name string) Caller { return Caller{Role: RoleRegional, Name: name} }

// AsFederal is the federal operator's staff member name.
func AsFederal(name string) Caller { return Caller{Role: RoleFederal, Name: name} }

// AsAuditor is the region's auditor name.
func AsAuditor(name string) Caller { return Caller{Role: RoleAuditor, Name: name} }

// Actor is how the caller is recorded in the ledger: role:name.
func (c Caller) Actor() string {
	name := c.Name
	if name == "" {
		name = c.ID
	}
	return string(c.Role) + ":" + name
}

// ErrNoCaller is a use case asked for without saying who asks.
var ErrNoCaller = errors.New("no caller")

// Validate checks that c names a role and what the role acts as.
func (c Caller) Validate() error {
	bad := func(rule string) error {
		return fmt.Errorf("%w: %w", ErrNoCaller, &funding.ValidationError{Field: "by", Rule: rule, Value: string(c.Role)})
	}
	switch c.Role {
	case "":
		return bad("is required: the caller (AsHolder, AsProvider, … or AsSystem for the region's own jobs)")
	case RoleSystem, RoleRegional, RoleFederal, RoleAuditor:
		if c.Actor() == string(c.Role)+":" {
			return bad("needs a name")
		}
	case RoleHolder:
		if id, err := certificate.ParsePersonID(c.ID); err != nil || id != c.ID {
			return bad("needs the person's canonical id (certificate.ParsePersonID)")
		}
	case RoleMunicipality:
		if c.ID == "" {
			return bad("needs the id the " + string(c.Role) + " acts as")
		}
	case RoleProvider:
		if id, err := uuid.Parse(c.ID); err != nil || id == uuid.Nil {
			return bad("needs the provider's id")
		}
	case RoleAuthorised:
		if id, err := uuid.Parse(c.ID); err != nil || id == uuid.Nil {
			return bad("needs the organisation's id")
		}
	default:
		return bad("is not a known role")
	}
	return nil
}

// personID is the canonical form of a person id given in field.
func personID(field, s string) (string, error) {
	id, err := certificate.ParsePersonID(s)
	var ve *funding.ValidationError
	if errors.As(err, &ve) {
		named := *ve
		named.Field = field
		return "", &named
	}
	return id, err
}

// providerID is the provider a provider caller acts as (uuid.Nil otherwise).
func (c Caller) providerID() uuid.UUID {
	if c.Role != RoleProvider {
		return uuid.Nil
	}
	id, _ := uuid.Parse(c.ID)
	return id
}

// CodeForeign is the code of ErrForbidden for acting on another's
// certificate, contract, group or municipality.
const CodeForeign = "foreign"

func forbidden(format string, args ...any) error {
	return funding.Refuse(ErrForbidden, CodeForeign, format, args...)
}

// roleMay refuses a caller whose role may not do what is asked at all.
func roleMay(by Caller, what string, roles ...Role) error {
	if err := by.Validate(); err != nil {
		return err
	}
	if by.Role == RoleSystem {
		return nil
	}
	for _, r := range roles {
		if by.Role == r {
			return nil
		}
	}
	return forbidden("role %s may not %s", by.Role, what)
}

// holds reports whether by acts for certificate c: the system; the adult
// holder of a digital-skills certificate; a guardian of the child of a
// supplementary one (the guardian recorded on it or one linked to the child
// by a municipal authority); the municipality that funds a supplementary
// one; the regional operator for the supplementary scheme and the federal
// operator for the digital-skills one. A provider holds none.
func (s *Service) holds(ctx context.Context, tx Tx, by Caller, c certificate.Certificate) (bool, error) {
	switch by.Role {
	case RoleSystem:
		return true, nil
	case RoleHolder:
		if c.Scheme == certificate.DigitalSkills {
			return c.Holder.PersonID == by.ID, nil
		}
		if c.GuardianID == by.ID {
			return true, nil
		}
		return tx.IsGuardian(ctx, by.ID, c.Holder.PersonID)
	case RoleMunicipality:
		return c.Scheme == certificate.Supplementary && c.Municipality == by.ID, nil
	case RoleRegional:
		return c.Scheme == certificate.Supplementary, nil
	case RoleFederal:
		return c.Scheme == certificate.DigitalSkills, nil
	}
	return false, nil
}

// mayChange refuses a caller who does not hold certificate c (see holds).
func (s *Service) mayChange(ctx context.Context, tx Tx, by Caller, c certificate.Certificate) error {
	ok, err := s.holds(ctx, tx, by, c)
	if err != nil || ok {
		return err
	}
	return forbidden("certificate %s is not within the caller's reach", c.ID)
}

// mayRead hides a certificate the caller does not hold: it is reported as
// not found, so that its existence is not revealed. The auditor reads
// every certificate but holds none, so that no change is ever theirs.
func (s *Service) mayRead(ctx context.Context, tx Tx, by Caller, c certificate.Certificate) error {
	if by.Role == RoleAuditor {
		return nil
	}
	if by.Role == RoleAuthorised { // reads what it registered, holds nothing
		ok, err := registeredBy(ctx, tx, by, c)
		if err != nil || ok {
			return err
		}
		return notFound(ErrNotFound, "certificate_id", c.ID)
	}
	ok, err := s.holds(ctx, tx, by, c)
	if err != nil || ok {
		return err
	}
	return notFound(ErrNotFound, "certificate_id", c.ID)
}

// contractParty reports whether by is a party to contract k of certificate
// c for a change: the system, its provider, or whoever holds its
// certificate as a holder (the learner, the child's guardians). The
// operators and municipalities see contracts (seesContract) but act on
// certificates, not contracts.
func (s *Service) contractParty(ctx context.Context, tx Tx, by Caller, k Contract) error {
	switch by.Role {
	case RoleSystem:
		return nil
	case RoleProvider:
		if k.ProviderID == by.providerID() {
			return nil
		}
	case RoleHolder:
		c, err := tx.Certificate(ctx, k.CertificateID)
		if err != nil {
			return err
		}
		ok, err := s.holds(ctx, tx, by, c)
		if err != nil || ok {
			return err
		}
	}
	return forbidden("contract %s is not the caller's", k.ID)
}

// seesContract reports whether by may read contract k: its parties, the
// municipality that funds it, the operator of its scheme and the auditor.
func (s *Service) seesContract(ctx context.Context, tx Tx, by Caller, k Contract) (bool, error) {
	switch by.Role {
	case RoleAuditor:
		return true, nil
	case RoleMunicipality:
		return k.Scheme != certificate.DigitalSkills && k.Municipality == by.ID, nil
	case RoleRegional:
		return k.Scheme != certificate.DigitalSkills, nil
	case RoleFederal:
		return k.Scheme == certificate.DigitalSkills, nil
	}
	err := s.contractParty(ctx, tx, by, k)
	if errors.Is(err, ErrForbidden) {
		return false, nil
	}
	return err == nil, err
}
