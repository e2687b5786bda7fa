package scenario

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/enrollment"
)

// callerSpec is who acts, as an event's by: says: a role, and for a holder
// or a provider the name of who, for a municipality its code
// ("holder:parent2", "provider:school", "municipality:mun-2").
type callerSpec struct {
	role enrollment.Role
	name string
}

func (c *callerSpec) UnmarshalText(b []byte) error {
	role, name, _ := strings.Cut(string(b), ":")
	r := enrollment.Role(role)
	if !r.Known() && r != enrollment.RoleSystem {
		return fmt.Errorf("must be holder, provider, municipality, regional, federal or system (holder:NAME, provider:NAME, municipality:CODE for another than the usual), got %q", b)
	}
	*c = callerSpec{role: r, name: name}
	return nil
}

// subject is what an event acts on, from which the usual caller of a role
// is found: a certificate's guardian or holder and its municipality, a
// group's or contract's provider.
type subject struct {
	cert         *certificate.Certificate
	holder       string // a person id
	provider     uuid.UUID
	municipality string
}

// caller is who acts in the running event: its by:, or role; the role's
// name is taken from the subject unless by: names one.
func (r *runner) caller(role enrollment.Role, s subject) (enrollment.Caller, error) {
	return r.callerAs(r.at.By, role, s, join(r.at.path, "by"))
}

// callerAs is who spec (given at key path key) says, or role.
func (r *runner) callerAs(spec callerSpec, role enrollment.Role, s subject, key string) (enrollment.Caller, error) {
	if spec.role == "" {
		spec.role = role
	}
	if s.cert != nil {
		s.holder = cmp.Or(s.cert.GuardianID, s.cert.Holder.PersonID)
		s.municipality = cmp.Or(s.municipality, s.cert.Municipality)
	}
	switch spec.role {
	case enrollment.RoleSystem:
		return enrollment.AsSystem(cmp.Or(spec.name, "scenario")), nil
	case enrollment.RoleRegional:
		return enrollment.AsRegional(cmp.Or(spec.name, "operator")), nil
	case enrollment.RoleFederal:
		return enrollment.AsFederal(cmp.Or(spec.name, "operator")), nil
	case enrollment.RoleMunicipality:
		if m := cmp.Or(spec.name, s.municipality); m != "" {
			return enrollment.AsMunicipality(m), nil
		}
	case enrollment.RoleHolder:
		if spec.name != "" {
			p, err := r.person(spec.name, key)
			if err != nil {
				return enrollment.Caller{}, err
			}
			return enrollment.AsHolder(p.holder.PersonID), nil
		}
		if s.holder != "" {
			return enrollment.AsHolder(s.holder), nil
		}
	case enrollment.RoleProvider:
		if spec.name != "" {
			p, ok := r.providers[spec.name]
			if !ok {
				return enrollment.Caller{}, r.sc.errorAt(key, "names no provider of the catalog: %q", spec.name)
			}
			return enrollment.AsProvider(p.ID), nil
		}
		if s.provider != uuid.Nil {
			return enrollment.AsProvider(s.provider), nil
		}
	}
	return enrollment.Caller{}, r.sc.errorAt(key, "cannot tell which %s acts here: name one, such as %s:NAME", spec.role, spec.role)
}

// arg is the key path of the running event's argument (its kind's value
// itself when arg is "").
func (e *event) arg(arg string) string { return join(join(e.path, e.kind), arg) }

func (r *runner) person(name, key string) (*person, error) {
	p, ok := r.people[name]
	if !ok {
		return nil, r.sc.errorAt(key, "names no person of people: %q", name)
	}
	return p, nil
}

// issued records a certificate issued to p.
func (p *person) issued(id uuid.UUID) {
	if !slices.Contains(p.certs, id) { // a replayed key returns the first
		p.certs = append(p.certs, id)
	}
}

// certificate is the latest certificate issued to the person named, as it
// is now.
func (r *runner) certificate(name, key string) (certificate.Certificate, error) {
	p, err := r.person(name, key)
	if err != nil {
		return certificate.Certificate{}, err
	}
	if len(p.certs) == 0 {
		return certificate.Certificate{}, r.sc.errorAt(key, "%s holds no certificate yet (issue or apply_adult gives one)", name)
	}
	cab, err := r.svc.Cabinet(r.ctx, enrollment.AsSystem("scenario"), p.certs[len(p.certs)-1])
	return cab.Certificate, err
}

// certificateBy is the certificate of the person named and who acts on it:
// role, unless the event says by:.
func (r *runner) certificateBy(name, key string, role enrollment.Role) (certificate.Certificate, enrollment.Caller, error) {
	c, err := r.certificate(name, key)
	if err != nil {
		return c, enrollment.Caller{}, err
	}
	by, err := r.caller(role, subject{cert: &c})
	return c, by, err
}

// offer is the group named, with its module, program and provider.
func (r *runner) offer(name, key string) (enrollment.Offer, error) {
	g, ok := r.groups[name]
	if !ok {
		return enrollment.Offer{}, r.sc.errorAt(key, "names no group of the catalog: %q", name)
	}
	return r.svc.Offer(r.ctx, g.ID)
}

// contract is the contract named, as it is now.
func (r *runner) contract(name, key string) (enrollment.Contract, error) {
	id, ok := r.contracts[name]
	if !ok {
		return enrollment.Contract{}, r.sc.errorAt(key, "names no contract: %q (a submit or prolong names the contract it creates with as:)", name)
	}
	return r.svc.Contract(r.ctx, enrollment.AsSystem("scenario"), id)
}

// contractRequest names the contract and who acts on it: role (its
// provider, or whoever holds its certificate), unless the event says by:.
func (r *runner) contractRequest(name, key string, role enrollment.Role) (enrollment.ContractRequest, error) {
	k, err := r.contract(name, key)
	if err != nil {
		return enrollment.ContractRequest{}, err
	}
	s := subject{provider: k.ProviderID}
	if role == enrollment.RoleHolder || r.at.By.role == enrollment.RoleHolder {
		cab, err := r.svc.Cabinet(r.ctx, enrollment.AsSystem("scenario"), k.CertificateID)
		if err != nil {
			return enrollment.ContractRequest{}, err
		}
		s.cert = &cab.Certificate
	}
	by, err := r.caller(role, s)
	return enrollment.ContractRequest{ContractID: k.ID, By: by}, err
}

// named records the contract an event created under the name it gives.
func (r *runner) named(e *event, k enrollment.Contract) {
	if e.As != "" {
		r.contracts[e.As] = k.ID
		r.names[k.ID] = e.As
	}
}
