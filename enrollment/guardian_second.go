package enrollment

import (
	"context"

	"github.com/google/uuid"

	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/funding"
)

// CertificateGuardianAdded is a second guardian linked to a child by the
// guardian recorded on the child's certificate (payload: guardian_id).
const CertificateGuardianAdded EventType = "certificate.guardian_added"

// SecondGuardianRequest is the guardian recorded on a child's certificate
// linking another person as the child's guardian.
type SecondGuardianRequest struct {
	CertificateID uuid.UUID
	GuardianID    string // the person invited
	// By is the guardian recorded on the certificate: their request is the
	// holder's consent.
	By Caller
}

// AddSecondGuardian links GuardianID to the child of a children's
// certificate at the request of the guardian recorded on it, who consents
// for the holder; the link is recorded with the time and that guardian as
// its actor, and the second guardian then finds the certificate in their
// list and acts for it (see holds). A guardian linked this way does not
// link others: the consent is the recorded guardian's. Linking a person
// already linked changes nothing.
func (s *Service) AddSecondGuardian(ctx context.Context, key string, r SecondGuardianRequest) (GuardianLink, error) {
	if err := roleMay(r.By, "link a second guardian", RoleHolder); err != nil {
		return GuardianLink{}, err
	}
	var err error
	if r.GuardianID, err = personID("guardian_id", r.GuardianID); err != nil {
		return GuardianLink{}, err
	}
	if r.GuardianID == r.By.ID {
		return GuardianLink{}, &funding.ValidationError{Field: "guardian_id", Rule: "must be another person than the caller", Value: r.GuardianID}
	}
	return idempotent(ctx, s, key, "guardian.second", r.By, r, func(ctx context.Context, tx Tx) (GuardianLink, error) {
		c, err := tx.LockCertificate(ctx, r.CertificateID)
		if err != nil {
			return GuardianLink{}, notFound(err, "certificate_id", r.CertificateID)
		}
		if err := s.mayRead(ctx, tx, r.By, c); err != nil {
			return GuardianLink{}, err
		}
		if c.Scheme != certificate.Supplementary {
			return GuardianLink{}, &funding.ValidationError{Field: "certificate_id", Rule: "must be a child's (supplementary) certificate", Value: r.CertificateID.String()}
		}
		if c.GuardianID != r.By.ID {
			return GuardianLink{}, funding.Refuse(ErrForbidden, CodeNotGuardian, "only the guardian recorded on certificate %s links a second guardian", c.Number)
		}
		if r.GuardianID == c.Holder.PersonID {
			return GuardianLink{}, &funding.ValidationError{Field: "guardian_id", Rule: "must not be the child", Value: r.GuardianID}
		}
		l := GuardianLink{GuardianID: r.GuardianID, ChildID: c.Holder.PersonID, RecordedAt: s.clock.Now().UTC(), Actor: r.By.Actor()}
		already, err := tx.IsGuardian(ctx, r.GuardianID, c.Holder.PersonID)
		if err != nil || already {
			return l, err
		}
		if err := tx.LinkGuardian(ctx, l); err != nil {
			return l, err
		}
		return l, s.certificateEvent(ctx, tx, CertificateGuardianAdded, c, r.By.Actor(), "", map[string]any{"guardian_id": r.GuardianID})
	})
}
