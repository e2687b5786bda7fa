package enrollment

import (
	"context"
	"errors"

	"github.com/google/uuid"

	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/funding"
)

// AdultApplication is an adult applying for this year's personal digital certificate.
type AdultApplication struct {
	Holder   certificate.Holder
	Category string // coverage category of the holder, where the scheme has them
	Actor    string
}

// ApplyAdult decides an adult's eligibility and takes a place of the year's
// national quota, first come, first served. Past the quota the certificate is
// recorded as an accounting (unfunded) one and waits in the year's FIFO
// queue; it is funded when a place frees.
func (s *Service) ApplyAdult(ctx context.Context, key string, r AdultApplication) (IssueResult, error) {
	if err := r.Holder.Canonicalize(); err != nil { // the person's certificates are looked up by the canonical id
		return IssueResult{}, err
	}
	now := s.clock.Now().UTC()
	on := funding.DateOf(now)
	return idempotent(ctx, s, key, "adult.apply", r, func(ctx context.Context, tx Tx) (IssueResult, error) {
		existing, err := tx.PersonCertificates(ctx, certificate.DigitalSkills, r.Holder.PersonID)
		if err != nil {
			return IssueResult{}, err
		}
		if d := s.cfg.Adults.Decide(r.Holder, on, existing); !d.Eligible {
			return IssueResult{}, &IneligibleError{Reasons: d.Reasons}
		}
		c, err := certificate.New(certificate.NewParams{
			Number: newNumber(), Scheme: certificate.DigitalSkills, Holder: r.Holder,
			Municipality: r.Holder.Municipality, Category: r.Category, Kind: certificate.Funded, IssuedOn: on,
		})
		if err != nil {
			return IssueResult{}, err
		}
		year := on.Year()
		if err := tx.EnsureCounter(ctx, adultQuotaKey(year), s.cfg.AdultQuota(year)); err != nil {
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
				return IssueResult{}, funding.Refuse(ErrExists, "certificate_exists", "person %s already holds a certificate for %d", r.Holder.PersonID, year)
			}
			return IssueResult{}, err
		}
		if !queued {
			return IssueResult{Certificate: c}, nil
		}
		q := adultQueue(year)
		if err := tx.Enqueue(ctx, QueueEntry{Queue: q, CertificateID: c.ID, EnqueuedAt: now}); err != nil {
			return IssueResult{}, err
		}
		pos, err := tx.QueuePosition(ctx, q, c.ID)
		return IssueResult{Certificate: c, Queued: true, Position: pos}, err
	})
}

// QueuePosition is a queued certificate's 1-based place in its queue.
func (s *Service) QueuePosition(ctx context.Context, certID uuid.UUID) (int, error) {
	var pos int
	err := s.store.InTx(ctx, func(ctx context.Context, tx Tx) error {
		c, err := tx.Certificate(ctx, certID)
		if err != nil {
			return notFound(err, "certificate_id", certID)
		}
		q := categoryQueue(c.Category)
		if c.Scheme == certificate.DigitalSkills {
			q = adultQueue(c.IssuedOn.Year())
		}
		pos, err = tx.QueuePosition(ctx, q, certID)
		return notFound(err, "queued certificate", certID)
	})
	return pos, err
}

// promoteAdults funds queued adult certificates of a year, oldest first,
// while the quota has places.
func (s *Service) promoteAdults(ctx context.Context, tx Tx, year int) error {
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
		if err := tx.UpdateCertificate(ctx, c); err != nil {
			return err
		}
	}
}

// DocumentsRequest records that an adult holder uploaded the provider's
// documents, or that a valid reason for the delay was recorded.
type DocumentsRequest struct {
	CertificateID uuid.UUID
	Uploaded      bool
	ValidReason   string
	Actor         string
}

// RecordDocuments stores the documents' state on an adult certificate. A
// valid reason is a multi-line text of at most funding.MaxNoteLen
// characters (funding.MultilineText).
func (s *Service) RecordDocuments(ctx context.Context, key string, r DocumentsRequest) (certificate.Certificate, error) {
	var err error
	if r.ValidReason, err = funding.MultilineText("valid_reason", r.ValidReason, funding.MaxNoteLen); err != nil {
		return certificate.Certificate{}, err
	}
	on := s.today()
	return idempotent(ctx, s, key, "adult.documents", r, func(ctx context.Context, tx Tx) (certificate.Certificate, error) {
		c, err := tx.LockCertificate(ctx, r.CertificateID)
		if err != nil {
			return c, notFound(err, "certificate_id", r.CertificateID)
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
func (s *Service) CancelOverdue(ctx context.Context, key string, certID uuid.UUID, actor string) (certificate.Certificate, error) {
	on := s.today()
	return idempotent(ctx, s, key, "adult.cancel_overdue", struct {
		ID    uuid.UUID
		Actor string
	}{certID, actor}, func(ctx context.Context, tx Tx) (certificate.Certificate, error) {
		c, err := tx.LockCertificate(ctx, certID)
		if err != nil {
			return c, notFound(err, "certificate_id", certID)
		}
		deadline := c.IssuedOn.AddDays(s.cfg.AdultDocumentsDays)
		if !certificate.MustCancelForDocuments(deadline, on, !c.Documents.UploadedOn.IsZero(), c.Documents.ValidReason != "") {
			return c, funding.Refuse(ErrNotOverdue, "documents_not_overdue", "documents of %s are due by %s", c.Number, deadline)
		}
		if err := c.Cancel(); err != nil {
			return c, err
		}
		if err := tx.UpdateCertificate(ctx, c); err != nil {
			return c, err
		}
		return c, s.freeSlot(ctx, tx, c, on, actor)
	})
}

// ErrNotOverdue is a cancellation for missing documents before their deadline.
var ErrNotOverdue = errors.New("documents are not overdue")
