package enrollment

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"

	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/funding"
)

// A region that comes to edufund brings the children's certificates it
// issued before: each keeps its number, its date of issue and its
// guardian. ImportCertificate registers one under the rules Issue
// applies today (the child is still eligible, the municipality takes
// part, one certificate per child), and CheckExistingCertificate tells a
// bulk import beforehand what registering it would find.

// ExistingCertificate is a children's certificate issued before the region
// came to edufund.
type ExistingCertificate struct {
	Number       certificate.Number
	Holder       certificate.Holder
	GuardianID   string
	Municipality string // the funding municipality; defaults to the holder's
	Category     string
	IssuedOn     funding.Date
	// Status is Issued (the default), Active or Suspended: a cancelled or
	// expired certificate is not brought over.
	Status certificate.Status
	// Funded asks for a funded slot in the category, as Issue does: the
	// current period's nominal is granted, or the certificate is queued.
	Funded bool
	// By is the municipal authority that funds it, the regional operator
	// or the system.
	By Caller
}

// CheckExistingCertificate checks r as ImportCertificate would, writing
// nothing: found is true when the same certificate (its number, for the
// same child) is registered already, and nothing is left to do. The
// category is not looked up: a bulk import may bring it in the same run.
func (s *Service) CheckExistingCertificate(ctx context.Context, r ExistingCertificate) (found bool, err error) {
	c, err := s.existingCertificate(&r)
	if err != nil {
		return false, err
	}
	err = s.inTx(ctx, func(ctx context.Context, tx Tx) error {
		found, _, err = s.checkExisting(ctx, tx, r, c)
		return err
	})
	return found, err
}

// ImportCertificate registers an existing children's certificate with its
// number and date of issue, keeps the eligibility decision it is
// registered on (today's, as Issue keeps its own), links its guardian,
// moves it to its status (each move an event, as ChangeStatus records it)
// and, when Funded asks for it, funds it from its category or queues it. A number or a child
// registered already is refused (certificate_exists): the import reads
// ahead with CheckExistingCertificate.
func (s *Service) ImportCertificate(ctx context.Context, key string, r ExistingCertificate) (IssueResult, error) {
	c, err := s.existingCertificate(&r)
	if err != nil {
		return IssueResult{}, err
	}
	on := s.Today()
	return idempotent(ctx, s, key, "certificate.import", r.By, r, func(ctx context.Context, tx Tx) (IssueResult, error) {
		return s.importCertificate(ctx, tx, r, c, on, false)
	})
}

// ImportPageError is the certificate of a page that ImportCertificates
// could not register: the page is not written.
type ImportPageError struct {
	Index int // in the page
	Err   error
}

func (e *ImportPageError) Error() string {
	return fmt.Sprintf("certificate %d of the page: %v", e.Index+1, e.Err)
}

func (e *ImportPageError) Unwrap() error { return e.Err }

// ImportCertificates registers a page of existing certificates in one
// transaction, each as ImportCertificate does, so that a region's
// hundreds of thousands are not as many commits. A certificate registered
// already (its number, for the same child) is left as it is, so that a
// page cut short and sent again registers the rest. One refused refuses
// the page: the error is an *ImportPageError naming it. Every certificate
// of the page is by the same caller. It returns how many it registered.
func (s *Service) ImportCertificates(ctx context.Context, key string, rs []ExistingCertificate) (int, error) {
	if len(rs) == 0 {
		return 0, nil
	}
	by := rs[0].By
	cs := make([]certificate.Certificate, len(rs))
	for i := range rs {
		if rs[i].By != by {
			return 0, &ImportPageError{Index: i, Err: &funding.ValidationError{Field: "by", Rule: "must be the page's one caller"}}
		}
		c, err := s.existingCertificate(&rs[i])
		if err != nil {
			return 0, &ImportPageError{Index: i, Err: err}
		}
		cs[i] = c
	}
	on := s.Today()
	return idempotent(ctx, s, key, "certificate.import_page", by, rs, func(ctx context.Context, tx Tx) (int, error) {
		n := 0
		for i, r := range rs {
			res, err := s.importCertificate(ctx, tx, r, cs[i], on, true)
			if err != nil {
				return 0, &ImportPageError{Index: i, Err: err}
			}
			if res.Certificate.ID != uuid.Nil {
				n++
			}
		}
		return n, nil
	})
}

// importCertificate registers c (r's, checked) in tx; one registered
// already is refused, or with skip left as it is (a zero result).
func (s *Service) importCertificate(ctx context.Context, tx Tx, r ExistingCertificate, c certificate.Certificate, on funding.Date, skip bool) (IssueResult, error) {
	found, decision, err := s.checkExisting(ctx, tx, r, c)
	if err != nil {
		return IssueResult{}, err
	}
	if found {
		if skip {
			return IssueResult{}, nil
		}
		return IssueResult{}, funding.Refuse(ErrExists, CodeCertificateExists, "certificate %s is registered already", c.Number)
	}
	if _, err := tx.Category(ctx, c.Category); errors.Is(err, ErrNotFound) {
		return IssueResult{}, &funding.ValidationError{Field: "category", Rule: "must be a known category", Value: c.Category}
	} else if err != nil {
		return IssueResult{}, err
	}
	if err := tx.InsertCertificate(ctx, c); err != nil {
		if errors.Is(err, ErrExists) {
			return IssueResult{}, funding.Refuse(ErrExists, CodeCertificateExists, "certificate %s or its child is registered already", c.Number)
		}
		return IssueResult{}, err
	}
	actor := r.By.Actor()
	if err := s.certificateEvent(ctx, tx, CertificateIssued, c, actor, "import", map[string]any{"issued_on": c.IssuedOn.String()}); err != nil {
		return IssueResult{}, err
	}
	if err := tx.SaveDecision(ctx, *decision); err != nil {
		return IssueResult{}, err
	}
	if c.GuardianID != "" {
		if err := s.link(ctx, tx, c.GuardianID, c.Holder.PersonID, r.By); err != nil {
			return IssueResult{}, err
		}
	}
	moves := map[certificate.Status][]CertificateAction{
		certificate.Active:    {ActivateCertificate},
		certificate.Suspended: {ActivateCertificate, SuspendCertificate},
	}[r.Status]
	for _, a := range moves {
		if a == ActivateCertificate {
			err = c.Activate()
		} else {
			err = c.Suspend()
		}
		if err == nil {
			err = tx.UpdateCertificate(ctx, c)
		}
		if err == nil {
			err = s.certificateEvent(ctx, tx, certificateEvents[a], c, actor, "import", nil)
		}
		if err != nil {
			return IssueResult{}, err
		}
	}
	res := IssueResult{Certificate: c}
	if r.Funded {
		queued, pos, err := s.fund(ctx, tx, &c, on, actor)
		if err != nil {
			return IssueResult{}, err
		}
		res = IssueResult{Certificate: c, Queued: queued, Position: pos}
	}
	return res, nil
}

// existingCertificate checks the form of r and who asks, and returns the
// certificate it would register.
func (s *Service) existingCertificate(r *ExistingCertificate) (certificate.Certificate, error) {
	if err := roleMay(r.By, "register an existing certificate", RoleMunicipality, RoleRegional); err != nil {
		return certificate.Certificate{}, err
	}
	if err := r.Holder.Canonicalize(); err != nil {
		return certificate.Certificate{}, err
	}
	if r.GuardianID != "" {
		id, err := personID("guardian_id", r.GuardianID)
		if err != nil {
			return certificate.Certificate{}, err
		}
		r.GuardianID = id
	}
	switch r.Status {
	case "":
		r.Status = certificate.Issued
	case certificate.Issued, certificate.Active, certificate.Suspended:
	default:
		return certificate.Certificate{}, &funding.ValidationError{Field: "status", Rule: "must be issued, active or suspended: a cancelled or expired certificate is not brought over", Value: string(r.Status)}
	}
	if today := s.Today(); r.IssuedOn.After(today) {
		return certificate.Certificate{}, &funding.ValidationError{Field: "issued_on", Rule: "must not be after today " + today.String(), Value: r.IssuedOn.String()}
	}
	if r.Category == "" {
		return certificate.Certificate{}, &funding.ValidationError{Field: "category", Rule: "is required"}
	}
	c, err := certificate.New(certificate.NewParams{
		Number: r.Number, Scheme: certificate.Supplementary, Holder: r.Holder, GuardianID: r.GuardianID,
		Municipality: r.Municipality, Category: r.Category, Kind: certificate.Accounting, IssuedOn: r.IssuedOn,
	})
	if err != nil {
		return certificate.Certificate{}, err
	}
	if r.By.Role == RoleMunicipality && c.Municipality != r.By.ID {
		return certificate.Certificate{}, forbidden("a municipal authority registers only certificates it funds")
	}
	return c, nil
}

// checkExisting reports whether c is registered already (its number, for
// the same child), refuses a number of another child's certificate or a
// second certificate of the child, and decides the child's eligibility
// today as Issue does.
//
// A certificate to register comes with the decision it is registered on,
// to be kept with it as Issue keeps its own.
func (s *Service) checkExisting(ctx context.Context, tx Tx, r ExistingCertificate, c certificate.Certificate) (bool, *EligibilityDecision, error) {
	same, err := tx.CertificateByNumber(ctx, c.Number)
	switch {
	case err == nil && same.Scheme == certificate.Supplementary && same.Holder.PersonID == c.Holder.PersonID:
		return true, nil, nil
	case err == nil:
		// The number is a credential: never the other child's in the text.
		return false, nil, funding.Refuse(ErrExists, CodeCertificateExists, "number %s belongs to another certificate", c.Number)
	case !errors.Is(err, ErrNotFound):
		return false, nil, err
	}
	existing, err := tx.PersonCertificates(ctx, certificate.Supplementary, c.Holder.PersonID)
	if err != nil {
		return false, nil, err
	}
	on := s.Today()
	policy := s.RulesOn(on).Children
	d := policy.Decide(c.Holder, c.Municipality, on, existing)
	if !d.Eligible {
		return false, nil, &IneligibleError{Reasons: d.Reasons}
	}
	return false, &EligibilityDecision{
		CertificateID: c.ID, Scheme: c.Scheme, DecidedOn: on, At: s.clock.Now().UTC(), Actor: r.By.Actor(), Rules: s.RulesVersion(),
		Inputs: childInputs(policy, c.Holder, c.Municipality, c.Category, on, existing), Checked: childChecks, Reasons: d.Reasons,
	}, nil
}

// GuardianLinked reports whether a guardian link of guardian to child is
// recorded: what a bulk import reads before it links them.
func (s *Service) GuardianLinked(ctx context.Context, by Caller, guardian, child string) (bool, error) {
	if err := roleMay(by, "read guardian links", RoleMunicipality, RoleRegional); err != nil {
		return false, err
	}
	var err error
	if guardian, err = personID("guardian_id", guardian); err != nil {
		return false, err
	}
	if child, err = personID("child_id", child); err != nil {
		return false, err
	}
	var ok bool
	err = s.inTx(ctx, func(ctx context.Context, tx Tx) error {
		ok, err = tx.IsGuardian(ctx, guardian, child)
		return err
	})
	return ok, err
}
