package enrollment

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"

	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/funding"
)

// AdultApplication is an adult applying for this year's personal digital certificate.
type AdultApplication struct {
	Holder   certificate.Holder
	Category string // coverage category of the holder, where the scheme has them
	// By is the adult themselves (Holder.PersonID is theirs), the federal
	// operator or the system.
	By Caller
}

// ApplyAdult decides an adult's eligibility and takes a place of the year's
// national quota, first come, first served. Past the quota the certificate is
// recorded as an accounting (unfunded) one and waits in the year's FIFO
// queue; it is funded when a place frees.
//
// An applicant arrives when their transaction locks the quota's counter,
// which it holds to its commit: the quota and the queue see applicants in
// that one order, and the position told is counted after every earlier
// applicant committed, so it only falls until the place is given.
func (s *Service) ApplyAdult(ctx context.Context, key string, r AdultApplication) (IssueResult, error) {
	if err := roleMay(r.By, "apply for an adult certificate", RoleHolder, RoleFederal); err != nil {
		return IssueResult{}, err
	}
	if err := r.Holder.Canonicalize(); err != nil { // the person's certificates are looked up by the canonical id
		return IssueResult{}, err
	}
	if r.By.Role == RoleHolder && r.Holder.PersonID != r.By.ID {
		return IssueResult{}, forbidden("an adult applies only for themselves (holder.person_id must be the caller's)")
	}
	on := s.Today()
	return idempotent(ctx, s, key, "adult.apply", r.By, r, func(ctx context.Context, tx Tx) (IssueResult, error) {
		existing, err := tx.PersonCertificates(ctx, certificate.DigitalSkills, r.Holder.PersonID)
		if err != nil {
			return IssueResult{}, err
		}
		policy := s.RulesOn(on).Adults
		d := policy.Decide(r.Holder, on, existing)
		if !d.Eligible {
			return IssueResult{}, &IneligibleError{Reasons: d.Reasons}
		}
		c, err := certificate.New(certificate.NewParams{
			Number: newNumber(), Scheme: certificate.DigitalSkills, Holder: r.Holder,
			Municipality: r.Holder.Municipality, Category: r.Category, Kind: certificate.Funded, IssuedOn: on,
		})
		if err != nil {
			return IssueResult{}, err
		}
		if s.RulesOn(on).AdultReview { // the federal operator reviews first: the place is taken on approval
			c.Kind = certificate.Accounting
			if err := tx.InsertCertificate(ctx, c); err != nil {
				if errors.Is(err, ErrExists) {
					return IssueResult{}, funding.Refuse(ErrExists, CodeCertificateExists, "person %s already holds a certificate for %d", r.Holder.PersonID, on.Year())
				}
				return IssueResult{}, err
			}
			if err := s.certificateEvent(ctx, tx, CertificateIssued, c, r.By.Actor(), "", nil); err != nil {
				return IssueResult{}, err
			}
			if err := s.keepDecision(ctx, tx, c, r.By, on, adultInputs(policy, r.Holder, r.Category, on, existing), adultChecks, d); err != nil {
				return IssueResult{}, err
			}
			return s.awaitReview(ctx, tx, c, r.By)
		}
		year := on.Year()
		if err := tx.EnsureCounter(ctx, adultQuotaKey(year), s.adultQuota(year)); err != nil && !errors.Is(err, ErrCounterFull) {
			return IssueResult{}, err // a quota lowered below its use is full: the application queues
		}
		if err := holdCounter(ctx, tx, adultQuotaKey(year)); err != nil {
			return IssueResult{}, err
		}
		err = tx.Take(ctx, adultQuotaKey(year), 1)
		queued := errors.Is(err, ErrCounterFull)
		if err != nil && !queued {
			return IssueResult{}, err
		}
		if queued {
			c.Kind = certificate.Accounting
		}
		if err := tx.InsertCertificate(ctx, c); err != nil {
			if errors.Is(err, ErrExists) {
				return IssueResult{}, funding.Refuse(ErrExists, CodeCertificateExists, "person %s already holds a certificate for %d", r.Holder.PersonID, year)
			}
			return IssueResult{}, err
		}
		if err := s.certificateEvent(ctx, tx, CertificateIssued, c, r.By.Actor(), "", nil); err != nil {
			return IssueResult{}, err
		}
		if err := s.keepDecision(ctx, tx, c, r.By, on, adultInputs(policy, r.Holder, r.Category, on, existing), adultChecks, d); err != nil {
			return IssueResult{}, err
		}
		if !queued {
			return IssueResult{Certificate: c}, s.documentsDueEvent(ctx, tx, c, r.By.Actor())
		}
		q := adultQueue(year)
		if err := tx.Enqueue(ctx, QueueEntry{Queue: q, CertificateID: c.ID, EnqueuedAt: s.clock.Now().UTC()}); err != nil {
			return IssueResult{}, err
		}
		pos, err := tx.QueuePosition(ctx, q, c.ID)
		if err != nil {
			return IssueResult{}, err
		}
		return IssueResult{Certificate: c, Queued: true, Position: pos},
			s.certificateEvent(ctx, tx, CertificateQueued, c, r.By.Actor(), "", map[string]any{"queue": q, "position": pos})
	})
}

// QueuePosition is a certificate's 1-based place in its queue, 0 when it is
// not queued, for whoever holds it (see Cabinet); to anyone else the
// certificate does not exist (ErrNotFound).
func (s *Service) QueuePosition(ctx context.Context, by Caller, certID uuid.UUID) (int, error) {
	if err := by.Validate(); err != nil {
		return 0, err
	}
	var pos int
	err := s.inTx(ctx, func(ctx context.Context, tx Tx) error {
		c, err := tx.Certificate(ctx, certID)
		if err != nil {
			return notFound(err, "certificate_id", certID)
		}
		if err := s.mayRead(ctx, tx, by, c); err != nil {
			return err
		}
		q := categoryQueue(c.Category)
		if c.Scheme == certificate.DigitalSkills {
			q = adultQueue(c.IssuedOn.Year())
		}
		pos, err = tx.QueuePosition(ctx, q, certID)
		if errors.Is(err, ErrNotFound) {
			pos, err = 0, nil
		}
		return err
	})
	return pos, err
}

// promoteAdults funds queued adult certificates of a year, oldest first,
// while the quota has places.
func (s *Service) promoteAdults(ctx context.Context, tx Tx, year int, on funding.Date, actor string) error {
	for {
		if err := tx.Take(ctx, adultQuotaKey(year), 1); err != nil {
			if errors.Is(err, ErrCounterFull) {
				return nil
			}
			return err
		}
		e, err := tx.Dequeue(ctx, adultQueue(year))
		if errors.Is(err, ErrNotFound) {
			return tx.Give(ctx, adultQuotaKey(year), 1)
		}
		if err != nil {
			return err
		}
		c, err := tx.LockCertificate(ctx, e.CertificateID)
		if err != nil {
			return err
		}
		c.Kind = certificate.Funded
		c.Documents.DueFrom = on
		if err := tx.UpdateCertificate(ctx, c); err != nil {
			return err
		}
		if err := s.certificateEvent(ctx, tx, CertificatePromoted, c, actor, "", nil); err != nil {
			return err
		}
		if err := s.documentsDueEvent(ctx, tx, c, actor); err != nil {
			return err
		}
	}
}

// documentsDueEvent tells an adult certificate's holder, as it takes its
// quota place, the deadline for the provider's documents.
func (s *Service) documentsDueEvent(ctx context.Context, tx Tx, c certificate.Certificate, actor string) error {
	due, ok := s.DocumentsDue(c)
	if !ok {
		return nil
	}
	return s.certificateEvent(ctx, tx, DocumentsDue, c, actor, "", map[string]any{"due": due.String()})
}

// DocumentsRequest records that an adult holder uploaded the provider's
// documents, or that a valid reason for the delay was recorded.
type DocumentsRequest struct {
	CertificateID uuid.UUID
	Uploaded      bool
	// ValidReason for a delay is recorded by the federal operator only.
	ValidReason string
	// By is the adult holder, the federal operator or the system.
	By Caller
}

// RecordDocuments stores the documents' state on an adult certificate. A
// valid reason is a multi-line text of at most funding.MaxNoteLen
// characters (funding.MultilineText).
func (s *Service) RecordDocuments(ctx context.Context, key string, r DocumentsRequest) (certificate.Certificate, error) {
	if err := roleMay(r.By, "record documents", RoleHolder, RoleFederal); err != nil {
		return certificate.Certificate{}, err
	}
	var err error
	if r.ValidReason, err = funding.MultilineText("valid_reason", r.ValidReason, funding.MaxNoteLen); err != nil {
		return certificate.Certificate{}, err
	}
	if r.ValidReason != "" && r.By.Role == RoleHolder {
		return certificate.Certificate{}, forbidden("only the federal operator records a valid reason")
	}
	on := s.Today()
	return idempotent(ctx, s, key, "adult.documents", r.By, r, func(ctx context.Context, tx Tx) (certificate.Certificate, error) {
		c, err := tx.LockCertificate(ctx, r.CertificateID)
		if err != nil {
			return c, notFound(err, "certificate_id", r.CertificateID)
		}
		if err := s.mayChange(ctx, tx, r.By, c); err != nil {
			return c, err
		}
		if c.Scheme != certificate.DigitalSkills {
			return c, &funding.ValidationError{Field: "certificate_id", Rule: "must be an adult (digital_skills) certificate", Value: r.CertificateID.String()}
		}
		if r.Uploaded {
			c.Documents.UploadedOn = on
		}
		if r.ValidReason != "" {
			c.Documents.ValidReason = r.ValidReason
		}
		return c, tx.UpdateCertificate(ctx, c)
	})
}

// CancelOverdue cancels an adult certificate whose documents are past the
// deadline with no valid reason recorded; its quota place goes to the head
// of the queue. A certificate not overdue is refused with ErrNotOverdue.
func (s *Service) CancelOverdue(ctx context.Context, key string, certID uuid.UUID, by Caller) (certificate.Certificate, error) {
	if err := roleMay(by, "cancel a certificate for overdue documents", RoleFederal); err != nil {
		return certificate.Certificate{}, err
	}
	on := s.Today()
	return idempotent(ctx, s, key, "adult.cancel_overdue", by, struct {
		ID uuid.UUID
		By Caller
	}{certID, by}, func(ctx context.Context, tx Tx) (certificate.Certificate, error) {
		c, err := tx.LockCertificate(ctx, certID)
		if err != nil {
			return c, notFound(err, "certificate_id", certID)
		}
		if err := s.mayChange(ctx, tx, by, c); err != nil {
			return c, err
		}
		if !s.overdue(c, on) {
			return c, funding.Refuse(ErrNotOverdue, CodeNotOverdue, "documents of %s are due by %s", c.Number, s.documentsDue(c))
		}
		return c, s.cancelOverdue(ctx, tx, &c, on, by.Actor())
	})
}

// CodeNotOverdue is the stable code of ErrNotOverdue.
const CodeNotOverdue = "documents_not_overdue"

// documentsDue is c's deadline under the rules in force when it took its
// place of the quota.
// DocumentsDue is the last day for adult certificate c's holder to upload
// the provider's documents, under the rules in force when it took its
// quota place; ok is false for a certificate that has no deadline: a
// children's one, or one still waiting in the queue (its days count from
// the place it is given, not from the application).
func (s *Service) DocumentsDue(c certificate.Certificate) (due funding.Date, ok bool) {
	if c.Scheme != certificate.DigitalSkills || c.Kind != certificate.Funded {
		return funding.Date{}, false
	}
	return s.documentsDue(c), true
}

func (s *Service) documentsDue(c certificate.Certificate) funding.Date {
	from := c.Documents.DueFrom
	if from.IsZero() {
		from = c.IssuedOn
	}
	return s.RulesOn(from).Adults.DocumentsDue(c)
}

// adultQuota is the adult quota of year: the version in force on its last day.
func (s *Service) adultQuota(year int) int64 {
	return s.RulesOn(funding.MustDate(year, time.December, 31)).AdultQuota(year)
}

// overdue reports whether adult certificate c must be cancelled on date on
// for documents not uploaded by their deadline without a valid reason.
func (s *Service) overdue(c certificate.Certificate, on funding.Date) bool {
	due, ok := s.DocumentsDue(c)
	return ok && !c.Status.Terminal() &&
		certificate.MustCancelForDocuments(due, on, !c.Documents.UploadedOn.IsZero(), c.Documents.ValidReason != "")
}

func (s *Service) cancelOverdue(ctx context.Context, tx Tx, c *certificate.Certificate, on funding.Date, actor string) error {
	if err := c.Cancel(); err != nil {
		return err
	}
	if err := tx.UpdateCertificate(ctx, *c); err != nil {
		return err
	}
	if err := s.certificateEvent(ctx, tx, CertificateCancelled, *c, actor, ReasonDocumentsOverdue, nil); err != nil {
		return err
	}
	return s.freeSlot(ctx, tx, *c, on, actor)
}

// SweepReport counts what a sweep over the certificates did.
type SweepReport struct {
	Certificates int // looked at
	Cancelled    []certificate.Number
	Failed       map[uuid.UUID]error
}

// CancelAllOverdue cancels every adult certificate whose documents are
// overdue (see CancelOverdue), each in a transaction of its own; their quota
// places go to the queue in its order. Re-running is safe: a cancelled
// certificate is not looked at again.
func (s *Service) CancelAllOverdue(ctx context.Context, by Caller, progress func(SweepReport)) (SweepReport, error) {
	rep := SweepReport{Failed: map[uuid.UUID]error{}}
	if err := roleMay(by, "cancel certificates for overdue documents", RoleFederal); err != nil {
		return rep, err
	}
	on, actor := s.Today(), by.Actor()
	err := eachCertificate(ctx, s.store, "cancel overdue", rep.Failed, func(id uuid.UUID) error {
		rep.Certificates++
		var cancelled certificate.Number
		err := s.inTx(ctx, func(ctx context.Context, tx Tx) error {
			cancelled = ""
			c, err := tx.LockCertificate(ctx, id)
			if err != nil || !s.overdue(c, on) {
				return err
			}
			cancelled = c.Number
			return s.cancelOverdue(ctx, tx, &c, on, actor)
		})
		if err == nil && cancelled != "" {
			rep.Cancelled = append(rep.Cancelled, cancelled)
		}
		return err
	}, func() {
		if progress != nil {
			progress(rep)
		}
	})
	return rep, err
}

// ErrNotOverdue is a cancellation for missing documents before their deadline.
var ErrNotOverdue = errors.New("documents are not overdue")
