package enrollment

import (
	"context"
	"time"

	"github.com/edufund/edufund/funding"
)

// GuardianLink records that a person is a parent (or other legal guardian)
// of a child: who may act for the child's certificate. A link comes from
// someone who saw the documents (a municipal authority, from the birth
// certificate), never from what the parent says of themselves, so that no
// one can claim another family's child.
type GuardianLink struct {
	GuardianID string // the parent's person id
	ChildID    string // the child's person id
	RecordedAt time.Time
	Actor      string
}

// LinkRequest asks to record a guardian link.
type LinkRequest struct {
	GuardianID string
	ChildID    string
	// By is the municipal authority, the regional operator or the system.
	By Caller
}

// LinkGuardian records that GuardianID is a guardian of ChildID; recording
// it again changes nothing. A child may have several guardians, each of
// whom then acts for the child's certificate (see Issue and Cabinet).
func (s *Service) LinkGuardian(ctx context.Context, key string, r LinkRequest) (GuardianLink, error) {
	if err := roleMay(r.By, "record a guardian", RoleMunicipality, RoleRegional); err != nil {
		return GuardianLink{}, err
	}
	var err error
	if r.GuardianID, err = personID("guardian_id", r.GuardianID); err != nil {
		return GuardianLink{}, err
	}
	if r.ChildID, err = personID("child_id", r.ChildID); err != nil {
		return GuardianLink{}, err
	}
	if r.GuardianID == r.ChildID {
		return GuardianLink{}, &funding.ValidationError{Field: "child_id", Rule: "must not be the guardian", Value: r.ChildID}
	}
	return idempotent(ctx, s, key, "guardian.link", r.By, r, func(ctx context.Context, tx Tx) (GuardianLink, error) {
		l := GuardianLink{GuardianID: r.GuardianID, ChildID: r.ChildID, RecordedAt: s.clock.Now().UTC(), Actor: r.By.Actor()}
		return l, tx.LinkGuardian(ctx, l)
	})
}

// link records a guardian link inside a use case's transaction.
func (s *Service) link(ctx context.Context, tx Tx, guardian, child string, by Caller) error {
	return tx.LinkGuardian(ctx, GuardianLink{GuardianID: guardian, ChildID: child, RecordedAt: s.clock.Now().UTC(), Actor: by.Actor()})
}
