package enrollment

import (
	"context"

	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/funding"
)

// EligibilityRequest asks whether a person may get a certificate of a
// scheme today.
type EligibilityRequest struct {
	Scheme certificate.Scheme
	Holder certificate.Holder
	// Municipality funds a child's certificate; empty means the child's
	// municipality of residence. Children's scheme only.
	Municipality string
	By           Caller
}

// Eligibility decides, without issuing anything, whether a person may get a
// certificate of a scheme today, and why not: the region's policy over the
// person's data and the certificates the person already holds. Only someone
// who could act for the person asks: an adult for themselves, a parent for a
// child linked to them, a municipal authority for children it would fund,
// the regional operator for children, the federal operator for adults, the
// system. Anyone else is refused, so that the answer tells no one whether a
// stranger already holds a certificate.
func (s *Service) Eligibility(ctx context.Context, r EligibilityRequest) (certificate.Decision, error) {
	if err := roleMay(r.By, "check eligibility", RoleHolder, RoleMunicipality, RoleRegional, RoleFederal); err != nil {
		return certificate.Decision{}, err
	}
	switch r.Scheme {
	case certificate.Supplementary:
	case certificate.DigitalSkills:
		if r.Municipality != "" {
			return certificate.Decision{}, &funding.ValidationError{Field: "municipality", Rule: "is only for the children's scheme"}
		}
	default:
		return certificate.Decision{}, &funding.ValidationError{Field: "scheme", Rule: "must be supplementary or digital_skills", Value: string(r.Scheme)}
	}
	if err := r.Holder.Canonicalize(); err != nil {
		return certificate.Decision{}, err
	}
	mun := r.Municipality
	if mun == "" {
		mun = r.Holder.Municipality
	}
	on := s.Today()
	var d certificate.Decision
	err := s.inTx(ctx, func(ctx context.Context, tx Tx) error {
		if err := s.mayAsk(ctx, tx, r.By, r.Scheme, r.Holder.PersonID, mun); err != nil {
			return err
		}
		existing, err := tx.PersonCertificates(ctx, r.Scheme, r.Holder.PersonID)
		if err != nil {
			return err
		}
		if r.Scheme == certificate.Supplementary {
			d = s.RulesOn(on).Children.Decide(r.Holder, r.Municipality, on, existing)
		} else {
			d = s.RulesOn(on).Adults.Decide(r.Holder, on, existing)
		}
		return nil
	})
	return d, err
}

// mayAsk refuses a caller who could not act for person under scheme.
func (s *Service) mayAsk(ctx context.Context, tx Tx, by Caller, scheme certificate.Scheme, person, mun string) error {
	children := scheme == certificate.Supplementary
	switch by.Role {
	case RoleSystem:
		return nil
	case RoleHolder:
		if !children {
			if person == by.ID {
				return nil
			}
			return forbidden("an adult checks only themselves (holder.person_id must be the caller's)")
		}
		linked, err := tx.IsGuardian(ctx, by.ID, person)
		if err != nil || linked {
			return err
		}
		return funding.Refuse(ErrForbidden, CodeNotGuardian, "a parent checks only a child linked to them")
	case RoleMunicipality:
		if children && mun == by.ID {
			return nil
		}
		return forbidden("a municipal authority checks only children's certificates it would fund")
	case RoleRegional:
		if children {
			return nil
		}
		return forbidden("the regional operator runs the children's scheme")
	case RoleFederal:
		if !children {
			return nil
		}
		return forbidden("the federal operator runs the adult scheme")
	}
	return forbidden("role %s may not check eligibility", by.Role)
}
