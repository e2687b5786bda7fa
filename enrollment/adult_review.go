package enrollment

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/funding"
)

// The federal operator's review of adult applications, where the region
// asks for one (parameter adults.federal_review). An application under
// review is an issued, unfunded certificate that holds no place of the
// quota and waits in no queue: it arrives at the quota when it is
// approved, under the quota counter's lock like any application, so the
// quota and the queue keep one arrival order. A rejection cancels it.

// ReviewStatus is where an adult application's review stands.
type ReviewStatus string

// The review's statuses.
const (
	ReviewPending  ReviewStatus = "pending"
	ReviewApproved ReviewStatus = "approved"
	ReviewRejected ReviewStatus = "rejected"
)

// Valid reports whether s is a review status.
func (s ReviewStatus) Valid() bool {
	return s == ReviewPending || s == ReviewApproved || s == ReviewRejected
}

// AdultReview is the federal operator's review of one adult application.
type AdultReview struct {
	CertificateID uuid.UUID
	Status        ReviewStatus
	Reasons       []string // a rejection's, each one line
	RequestedAt   time.Time
	DecidedAt     time.Time // zero while pending
	DecidedBy     string
}

// The review's events.
const (
	AdultReviewRequested EventType = "certificate.review_requested" // an adult application awaits the federal operator
	AdultReviewApproved  EventType = "certificate.review_approved"  // then documents_due or queued follows
)

// ReasonReviewRejected is the Reason of a CertificateCancelled event for an
// application the federal operator rejected (payload: reasons).
const ReasonReviewRejected = "review_rejected"

// ErrReviewed is a decision on an application that is not awaiting review.
var ErrReviewed = errors.New("the application is not awaiting review")

// CodeReviewed is the stable code of ErrReviewed.
const CodeReviewed = "not_under_review"

// MaxReviewReasons bounds a rejection's reasons.
const MaxReviewReasons = 20

// awaitReview records certificate c, issued on an adult application, as
// awaiting the federal operator's review: unfunded, outside the quota.
func (s *Service) awaitReview(ctx context.Context, tx Tx, c certificate.Certificate, by Caller) (IssueResult, error) {
	if err := s.certificateEvent(ctx, tx, AdultReviewRequested, c, by.Actor(), "", nil); err != nil {
		return IssueResult{}, err
	}
	return IssueResult{Certificate: c, Review: true},
		tx.InsertAdultReview(ctx, AdultReview{CertificateID: c.ID, Status: ReviewPending, RequestedAt: s.clock.Now().UTC()})
}

// ReviewRequest is the federal operator's decision on an adult application.
type ReviewRequest struct {
	CertificateID uuid.UUID
	Approve       bool
	// Reasons of a rejection: at least one, each a line of at most
	// funding.MaxNoteLen characters; none with an approval.
	Reasons []string
	By      Caller // the federal operator or the system
}

// ReviewAdult decides an adult application awaiting review. Approved, it
// takes a place of its year's quota as ApplyAdult would at that moment, or
// waits in the queue past it; rejected, its certificate is cancelled with
// the reasons. A decided application is refused with ErrReviewed.
func (s *Service) ReviewAdult(ctx context.Context, key string, r ReviewRequest) (IssueResult, error) {
	if err := roleMay(r.By, "review an adult application", RoleFederal); err != nil {
		return IssueResult{}, err
	}
	if r.Approve && len(r.Reasons) > 0 {
		return IssueResult{}, &funding.ValidationError{Field: "reasons", Rule: "must be empty for an approval"}
	}
	if !r.Approve && len(r.Reasons) == 0 {
		return IssueResult{}, &funding.ValidationError{Field: "reasons", Rule: "must name why the application is rejected"}
	}
	if len(r.Reasons) > MaxReviewReasons {
		return IssueResult{}, &funding.ValidationError{Field: "reasons", Rule: "must be at most 20", Value: ""}
	}
	reasons := make([]string, len(r.Reasons))
	for i, v := range r.Reasons {
		field := "reasons[" + strconv.Itoa(i) + "]"
		t, err := funding.Text(field, v, funding.MaxNoteLen)
		if err != nil {
			return IssueResult{}, err
		}
		if t == "" {
			return IssueResult{}, &funding.ValidationError{Field: field, Rule: "must not be blank"}
		}
		reasons[i] = t
	}
	r.Reasons = reasons
	on := s.Today()
	return idempotent(ctx, s, key, "adult.review", r.By, r, func(ctx context.Context, tx Tx) (IssueResult, error) {
		c, err := tx.LockCertificate(ctx, r.CertificateID)
		if err != nil {
			return IssueResult{}, notFound(err, "certificate_id", r.CertificateID)
		}
		if err := s.mayChange(ctx, tx, r.By, c); err != nil {
			return IssueResult{}, err
		}
		rv, err := tx.AdultReview(ctx, c.ID)
		if errors.Is(err, ErrNotFound) || (err == nil && rv.Status != ReviewPending) {
			return IssueResult{}, funding.Refuse(ErrReviewed, CodeReviewed, "certificate %s is not awaiting review", c.Number)
		}
		if err != nil {
			return IssueResult{}, err
		}
		rv.DecidedAt, rv.DecidedBy = s.clock.Now().UTC(), r.By.Actor()
		if !r.Approve {
			rv.Status, rv.Reasons = ReviewRejected, r.Reasons
			if err := tx.DecideAdultReview(ctx, rv); err != nil {
				return IssueResult{}, err
			}
			if err := c.Cancel(); err != nil {
				return IssueResult{}, err
			}
			if err := tx.UpdateCertificate(ctx, c); err != nil {
				return IssueResult{}, err
			}
			return IssueResult{Certificate: c},
				s.certificateEvent(ctx, tx, CertificateCancelled, c, r.By.Actor(), ReasonReviewRejected, map[string]any{"reasons": r.Reasons})
		}
		rv.Status = ReviewApproved
		if err := tx.DecideAdultReview(ctx, rv); err != nil {
			return IssueResult{}, err
		}
		if err := s.certificateEvent(ctx, tx, AdultReviewApproved, c, r.By.Actor(), "", nil); err != nil {
			return IssueResult{}, err
		}
		return s.arriveAtQuota(ctx, tx, c, on, r.By.Actor())
	})
}

// arriveAtQuota gives an approved application its place of the quota, or
// a place in the queue past it, in the order of the quota counter's lock
// (see ApplyAdult).
func (s *Service) arriveAtQuota(ctx context.Context, tx Tx, c certificate.Certificate, on funding.Date, actor string) (IssueResult, error) {
	year := c.IssuedOn.Year()
	if err := tx.EnsureCounter(ctx, adultQuotaKey(year), s.adultQuota(year)); err != nil && !errors.Is(err, ErrCounterFull) {
		return IssueResult{}, err
	}
	if err := holdCounter(ctx, tx, adultQuotaKey(year)); err != nil {
		return IssueResult{}, err
	}
	err := tx.Take(ctx, adultQuotaKey(year), 1)
	if err == nil {
		c.Kind = certificate.Funded
		c.Documents.DueFrom = on // the documents' days count from the place
		if err := tx.UpdateCertificate(ctx, c); err != nil {
			return IssueResult{}, err
		}
		return IssueResult{Certificate: c}, s.documentsDueEvent(ctx, tx, c, actor)
	}
	if !errors.Is(err, ErrCounterFull) {
		return IssueResult{}, err
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
		s.certificateEvent(ctx, tx, CertificateQueued, c, actor, "", map[string]any{"queue": q, "position": pos})
}

// ReviewPage is a page of adult reviews; Next is the After of the next
// page (uuid.Nil on the last).
type ReviewPage struct {
	Reviews []AdultReview
	Next    uuid.UUID
}

// AdultReviews lists the reviews of adult applications, by status (""
// all), oldest first: the federal operator's worklist; the auditor reads it.
func (s *Service) AdultReviews(ctx context.Context, by Caller, status ReviewStatus, after uuid.UUID, limit int) (ReviewPage, error) {
	if err := roleMay(by, "list adult reviews", RoleFederal, RoleAuditor); err != nil {
		return ReviewPage{}, err
	}
	if status != "" && !status.Valid() {
		return ReviewPage{}, &funding.ValidationError{Field: "status", Rule: "must be pending, approved or rejected", Value: string(status)}
	}
	limit, err := listLimit(limit)
	if err != nil {
		return ReviewPage{}, err
	}
	var page ReviewPage
	err = s.inTx(ctx, func(ctx context.Context, tx Tx) error {
		var err error
		page.Reviews, page.Next, err = fetch(limit, func(n int) ([]AdultReview, error) {
			return tx.AdultReviews(ctx, status, after, n)
		}, func(r AdultReview) uuid.UUID { return r.CertificateID })
		return err
	})
	return page, err
}

// reviewReasonsRu joins a rejection's reasons from an event's payload.
func reviewReasonsRu(v any) string {
	list, _ := v.([]any)
	out := ""
	for i, r := range list {
		if i > 0 {
			out += "; "
		}
		s, _ := r.(string)
		out += strings.TrimRight(s, ".")
	}
	return out
}
