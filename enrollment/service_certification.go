package enrollment

import (
	"cmp"
	"context"
	"errors"
	"strings"

	"github.com/google/uuid"

	"github.com/edufund/edufund/catalog"
	"github.com/edufund/edufund/funding"
)

// Certification of programs. A provider's program is a draft until the
// provider submits it; the regional operator certifies it (it enters the
// certified registry and takes applications there) or denies it with a
// reason; a denied or withdrawn program is corrected and submitted again.
// A provider never certifies its own program: what it says of Certified on
// saving is ignored. When a provider changes what was reviewed of a
// certified program (catalog.ReviewedContentDiffers) the program goes back
// to submitted: a region certified that content, not whatever replaces it,
// and lets no new applications in until it looked again; contracts already
// made keep running. Running the program (opening enrolment, its limit, the
// annotation and tags) keeps it certified.

// SubmitProgram sends a program for certification: its provider, from
// draft, denied or withdrawn.
func (s *Service) SubmitProgram(ctx context.Context, key string, id uuid.UUID, by Caller) (catalog.Program, error) {
	return s.moveProgram(ctx, key, "catalog.program.submit", id, catalog.ProgramSubmitted, "", by, RoleProvider)
}

// WithdrawProgram takes a program back from certification, or out of the
// certified registry: its provider, from submitted or certified.
func (s *Service) WithdrawProgram(ctx context.Context, key string, id uuid.UUID, by Caller) (catalog.Program, error) {
	return s.moveProgram(ctx, key, "catalog.program.withdraw", id, catalog.ProgramWithdrawn, "", by, RoleProvider)
}

// CertifyProgram enters a submitted program into the certified registry:
// the regional operator.
func (s *Service) CertifyProgram(ctx context.Context, key string, id uuid.UUID, by Caller) (catalog.Program, error) {
	return s.moveProgram(ctx, key, "catalog.program.certify", id, catalog.ProgramCertified, "", by, RoleRegional)
}

// DenyProgram refuses a submitted program's certification for reason: the
// regional operator. The provider reads the reason.
func (s *Service) DenyProgram(ctx context.Context, key string, id uuid.UUID, reason string, by Caller) (catalog.Program, error) {
	reason, err := funding.MultilineText("reason", reason, funding.MaxNoteLen)
	if err != nil {
		return catalog.Program{}, err
	}
	if reason == "" {
		return catalog.Program{}, &funding.ValidationError{Field: "reason", Rule: "must not be empty: the provider is told why"}
	}
	return s.moveProgram(ctx, key, "catalog.program.deny", id, catalog.ProgramDenied, reason, by, RoleRegional)
}

var certificationEvents = map[catalog.Certification]EventType{
	catalog.ProgramSubmitted: ProgramSubmitted,
	catalog.ProgramCertified: ProgramCertified,
	catalog.ProgramDenied:    ProgramDenied,
	catalog.ProgramWithdrawn: ProgramWithdrawn,
}

// moveProgram moves program id's certification to status to, for a caller
// of role (or the system), and appends the move's event.
func (s *Service) moveProgram(ctx context.Context, key, op string, id uuid.UUID, to catalog.Certification, reason string, by Caller, role Role) (catalog.Program, error) {
	if err := roleMay(by, op[len("catalog.program."):]+" a program's certification", role); err != nil {
		return catalog.Program{}, err
	}
	req := map[string]any{"id": id, "reason": reason}
	return idempotent(ctx, s, key, op, by, req, func(ctx context.Context, tx Tx) (catalog.Program, error) {
		p, err := tx.Program(ctx, id)
		if errors.Is(err, ErrNotFound) {
			return p, notFound(err, "id", id)
		} else if err != nil {
			return p, err
		}
		if err := ownsCatalog(by, p.ProviderID, "the program"); err != nil {
			return p, err
		}
		from := catalog.CertificationOf(p)
		if err := catalog.CertificationMove(from, to); err != nil {
			return p, err
		}
		p.Certification, p.Certified, p.CertificationReason = catalog.StoredCertification(to), to == catalog.ProgramCertified, reason
		if err := tx.SaveProgram(ctx, p); err != nil {
			return p, err
		}
		return p, s.certificationEvent(ctx, tx, p, by, map[string]any{"was_certified": from == catalog.ProgramCertified})
	})
}

// certificationEvent appends the event of program p's move to its status.
func (s *Service) certificationEvent(ctx context.Context, tx Tx, p catalog.Program, by Caller, payload map[string]any) error {
	payload["program_id"], payload["name"] = p.ID, p.Name
	e, err := s.newEvent(certificationEvents[catalog.CertificationOf(p)], by.Actor(), payload)
	if err != nil {
		return err
	}
	e.ProviderID, e.Municipality, e.Scheme = p.ProviderID, p.Municipality, p.Scheme
	if catalog.CertificationOf(p) == catalog.ProgramDenied {
		e.Reason = p.CertificationReason
	}
	return tx.AppendEvent(ctx, e)
}

// certificationOnSave sets the certification of program p being saved by
// by over cur (exists false for a new program) and reports the event its
// move needs ("" for none). A provider keeps the stored status (a new
// program is a draft) unless it changed a certified program's reviewed
// content; the regional operator and the system may save a program
// certified (the demo loader, an import, the tests) and otherwise keep it.
func certificationOnSave(p *catalog.Program, cur catalog.Program, exists bool, by Caller) EventType {
	from := catalog.ProgramDraft
	if exists {
		from = catalog.CertificationOf(cur)
	}
	to := from
	switch {
	case by.Role == RoleProvider:
		if from == catalog.ProgramCertified && catalog.ReviewedContentDiffers(cur, *p) {
			to = catalog.ProgramSubmitted
		}
	case p.Certification != "":
		to = p.Certification
	case p.Certified:
		to = catalog.ProgramCertified
	}
	p.Certification, p.Certified = catalog.StoredCertification(to), to == catalog.ProgramCertified
	if by.Role == RoleProvider {
		p.CertificationReason = ""
	}
	switch {
	case to == catalog.ProgramDenied:
		p.CertificationReason = cmp.Or(p.CertificationReason, cur.CertificationReason)
	default:
		p.CertificationReason = ""
	}
	if !exists || to == from {
		return ""
	}
	return certificationEvents[to]
}

// sentence is a reason ending in a full stop, for a notification's text.
func sentence(s string) string {
	s = strings.TrimSpace(s)
	if s == "" || strings.HasSuffix(s, ".") || strings.HasSuffix(s, "!") || strings.HasSuffix(s, "?") {
		return s
	}
	return s + "."
}
