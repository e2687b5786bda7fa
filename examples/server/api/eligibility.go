package api

import (
	"context"
	"net/http"

	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/enrollment"
)

type eligibilityIn struct {
	Scheme string   `json:"scheme"`
	Holder holderIn `json:"holder"`
	// Municipality is the funding municipality of a child's certificate;
	// empty means the child's municipality of residence.
	Municipality string `json:"municipality,omitempty"`
}

type eligibilityOut struct {
	Scheme   string   `json:"scheme"`
	On       string   `json:"on"`
	Eligible bool     `json:"eligible"`
	Reasons  []Reason `json:"reasons"`
}

// eligibility decides, without issuing anything, whether a person may get a
// certificate of a scheme today, and why not: the region's policy
// (ChildPolicy or AdultPolicy of the service's Config) over the holder's
// data and the certificates the person already holds.
//
// A holder asks for themselves (holder.person_id = their tenant) or, in the
// children's scheme, for a child; the certificates of a child whose guardian
// is someone else are then named without their number or dates. A municipal
// authority asks about certificates it would fund, the regional operator
// about any child, the federal operator about any adult.
func (h *Handler) eligibility(w http.ResponseWriter, r *http.Request, c call) error {
	if err := allow(c.p, RoleHolder, RoleMunicipality, RoleRegional, RoleFederal); err != nil {
		return err
	}
	var in eligibilityIn
	if err := decode(w, r, &in, false); err != nil {
		return err
	}
	var p parser
	scheme := certificate.Scheme(in.Scheme)
	if scheme != certificate.Supplementary && scheme != certificate.DigitalSkills {
		p.fail("scheme", "must be supplementary or digital_skills")
	}
	holder := in.Holder.parse(&p)
	mun := p.text("municipality", in.Municipality, 40, false)
	if p.err == nil && scheme == certificate.DigitalSkills && mun != "" {
		p.fail("municipality", "is only for the children's scheme")
	}
	if p.err != nil {
		return p.err
	}
	funding := mun
	if funding == "" {
		funding = holder.Municipality
	}
	self := c.p.Role == RoleHolder && holder.PersonID == c.p.Tenant
	switch c.p.Role {
	case RoleHolder:
		if scheme == certificate.DigitalSkills && !self {
			return errForbidden("an adult checks only themselves (holder.person_id must be the caller's)")
		}
	case RoleMunicipality:
		if scheme != certificate.Supplementary || funding != c.p.Tenant {
			return errForbidden("a municipal authority checks only children's certificates it would fund")
		}
	case RoleRegional:
		if scheme != certificate.Supplementary {
			return errForbidden("the regional operator runs the children's scheme")
		}
	case RoleFederal:
		if scheme != certificate.DigitalSkills {
			return errForbidden("the federal operator runs the adult scheme")
		}
	}
	var existing []certificate.Certificate
	err := h.cfg.Store.InTx(r.Context(), func(ctx context.Context, tx enrollment.Tx) error {
		var err error
		existing, err = tx.PersonCertificates(ctx, scheme, holder.PersonID)
		return err
	})
	if err != nil {
		return err
	}
	cfg := h.cfg.Service.Config()
	on := h.today()
	var d certificate.Decision
	if scheme == certificate.Supplementary {
		d = cfg.Children.Decide(holder, mun, on, existing)
	} else {
		d = cfg.Adults.Decide(holder, on, existing)
	}
	out := eligibilityOut{Scheme: string(scheme), On: dateOut(on), Eligible: d.Eligible, Reasons: []Reason{}}
	for _, rs := range d.Reasons {
		msg := rs.Message
		if rs.Rule == certificate.RuleAlreadyIssued && c.p.Role == RoleHolder && !self && !guardianOfAll(c.p, existing) {
			msg = "the child already holds a certificate of the scheme; its guardian sees it in their cabinet"
		}
		out.Reasons = append(out.Reasons, Reason{Rule: rs.Rule, Message: msg})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// guardianOfAll reports whether the caller is the guardian of every
// certificate listed.
func guardianOfAll(p Principal, cs []certificate.Certificate) bool {
	for _, c := range cs {
		if c.GuardianID != p.Tenant {
			return false
		}
	}
	return true
}
