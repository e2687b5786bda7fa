package schema

import (
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/edufund/edufund/enrollment"
)

// AdultReview is an adult_reviews row: the federal operator's review of
// an adult application.
type AdultReview struct {
	bun.BaseModel `bun:"table:adult_reviews"`

	CertificateID uuid.UUID `bun:"certificate_id,pk"`
	Status        string    `bun:"status"`
	Reasons       string    `bun:"reasons"` // one a line: each reason is a single line
	RequestedAt   Time      `bun:"requested_at,notnull"`
	DecidedAt     Time      `bun:"decided_at"`
	DecidedBy     string    `bun:"decided_by"`
}

// FromAdultReview is r as a row.
func FromAdultReview(r enrollment.AdultReview) *AdultReview {
	return &AdultReview{CertificateID: r.CertificateID, Status: string(r.Status), Reasons: strings.Join(r.Reasons, "\n"),
		RequestedAt: Time(r.RequestedAt), DecidedAt: Time(r.DecidedAt), DecidedBy: r.DecidedBy}
}

// Domain is the review the row holds.
func (r *AdultReview) Domain() enrollment.AdultReview {
	out := enrollment.AdultReview{CertificateID: r.CertificateID, Status: enrollment.ReviewStatus(r.Status),
		RequestedAt: time.Time(r.RequestedAt).UTC(), DecidedBy: r.DecidedBy}
	if r.Reasons != "" {
		out.Reasons = strings.Split(r.Reasons, "\n")
	}
	if t := time.Time(r.DecidedAt); !t.IsZero() {
		out.DecidedAt = t.UTC()
	}
	return out
}
