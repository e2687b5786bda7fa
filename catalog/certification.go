package catalog

import (
	"errors"
	"fmt"
)

// Certification is where a program stands in the regional operator's
// review. Only a certified program is in the certified registry: a program
// of that registry in any other status takes no applications (CanEnrol,
// rule 5). Program.Certified is Certification == ProgramCertified.
type Certification string

// The certification statuses.
const (
	ProgramDraft     Certification = "draft"     // the provider's, not yet sent for review
	ProgramSubmitted Certification = "submitted" // waits for the regional operator
	ProgramCertified Certification = "certified" // in the certified registry
	ProgramDenied    Certification = "denied"    // refused with a reason; corrected, it can be submitted again
	ProgramWithdrawn Certification = "withdrawn" // taken back by the provider; it can be submitted again
)

// Certifications lists every certification status.
var Certifications = []Certification{ProgramDraft, ProgramSubmitted, ProgramCertified, ProgramDenied, ProgramWithdrawn}

// Known reports whether c is one of Certifications.
func (c Certification) Known() bool {
	for _, k := range Certifications {
		if c == k {
			return true
		}
	}
	return false
}

// CertificationOf is the status of a program that names none: certified
// when it says Certified (a program the regional operator or the system
// saved certified, or one stored before certification had statuses),
// otherwise a draft.
func CertificationOf(p Program) Certification {
	switch {
	case p.Certification != "":
		return p.Certification
	case p.Certified:
		return ProgramCertified
	}
	return ProgramDraft
}

// StoredCertification is status c as Program.Certification holds it: ""
// for a draft and for certified, which Certified says alone, so that a
// program saved without a status reads back as it was saved; the other
// statuses as they are.
func StoredCertification(c Certification) Certification {
	if c == ProgramDraft || c == ProgramCertified {
		return ""
	}
	return c
}

// certificationMoves is the certification state machine; a pair not listed
// is forbidden. The provider submits and withdraws, the regional operator
// certifies and denies. A certified program whose content the provider
// changes goes back to submitted (Program.ReviewedContentDiffers).
var certificationMoves = map[Certification][]Certification{
	ProgramDraft:     {ProgramSubmitted},
	ProgramSubmitted: {ProgramCertified, ProgramDenied, ProgramWithdrawn},
	ProgramCertified: {ProgramSubmitted, ProgramWithdrawn},
	ProgramDenied:    {ProgramSubmitted},
	ProgramWithdrawn: {ProgramSubmitted},
}

// ErrForbiddenTransition matches every *CertificationError.
var ErrForbiddenTransition = errors.New("forbidden certification transition")

// CertificationError is a certification move the state machine does not
// allow.
type CertificationError struct {
	From, To Certification
}

func (e *CertificationError) Error() string {
	return fmt.Sprintf("%s: %s → %s", ErrForbiddenTransition, e.From, e.To)
}

// Is makes every *CertificationError match ErrForbiddenTransition.
func (e *CertificationError) Is(target error) bool { return target == ErrForbiddenTransition }

// CertificationMove returns nil when a program may move from one status to
// the other and a *CertificationError otherwise; staying is forbidden too.
func CertificationMove(from, to Certification) error {
	for _, s := range certificationMoves[from] {
		if s == to {
			return nil
		}
	}
	return &CertificationError{From: from, To: to}
}

// ReviewedContentDiffers reports whether p and q differ in what the
// regional operator reviewed on certifying: the name, scheme, direction,
// registry, ages, municipality, the adult scheme's area and hours, the
// description and the goals. Enrolment being open, the live-contract limit,
// the one-line annotation and the tags are the provider's running of the
// program and leave its certification as it is.
func ReviewedContentDiffers(p, q Program) bool {
	return p.Name != q.Name || p.Scheme != q.Scheme || p.Direction != q.Direction || p.Registry != q.Registry ||
		p.MinAge != q.MinAge || p.MaxAge != q.MaxAge || p.Municipality != q.Municipality ||
		p.CompetencyArea != q.CompetencyArea || p.AcademicHours != q.AcademicHours ||
		p.Description != q.Description || p.Goals != q.Goals
}
