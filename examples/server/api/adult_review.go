package api

import (
	"net/http"
	"time"

	"github.com/google/uuid"

	"github.com/edufund/edufund/enrollment"
)

type reviewIn struct {
	Approve bool     `json:"approve"`
	Reasons []string `json:"reasons,omitempty"`
}

// reviewAdult is the federal operator's decision on an adult application
// awaiting review: approved, it takes a place of the quota or of the
// queue; rejected with reasons, its certificate is cancelled.
func (h *Handler) reviewAdult(w http.ResponseWriter, r *http.Request, c call) error {
	id, err := h.pathID(r)
	if err != nil {
		return err
	}
	var in reviewIn
	if err := decode(w, r, &in, false); err != nil {
		return err
	}
	res, err := h.cfg.Service.ReviewAdult(r.Context(), c.key, enrollment.ReviewRequest{
		CertificateID: id, Approve: in.Approve, Reasons: in.Reasons, By: c.p.Caller(),
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, issueDTO(res))
	return nil
}

type adultReviewOut struct {
	CertificateID uuid.UUID  `json:"certificate_id"`
	Status        string     `json:"status"`
	Reasons       []string   `json:"reasons"`
	RequestedAt   time.Time  `json:"requested_at"`
	DecidedAt     *time.Time `json:"decided_at,omitempty"`
	DecidedBy     string     `json:"decided_by,omitempty"`
}

// adultReviews lists the reviews of adult applications, oldest first: the
// federal operator's worklist (status=pending).
func (h *Handler) adultReviews(w http.ResponseWriter, r *http.Request, c call) error {
	q := r.URL.Query()
	if err := onlyParams(q, "status", "after", "limit"); err != nil {
		return err
	}
	var p parser
	status := enrollment.ReviewStatus(p.text("status", q.Get("status"), 20, false))
	after := p.uuid("after", q.Get("after"), false)
	limit := listLimit(&p, q)
	if p.err != nil {
		return p.err
	}
	page, err := h.cfg.Service.AdultReviews(r.Context(), c.p.Caller(), status, after, limit)
	if err != nil {
		return err
	}
	out := pageOut[adultReviewOut]{Items: []adultReviewOut{}, Next: nextOut(page.Next)}
	for _, rv := range page.Reviews {
		o := adultReviewOut{CertificateID: rv.CertificateID, Status: string(rv.Status), Reasons: rv.Reasons, RequestedAt: rv.RequestedAt, DecidedBy: rv.DecidedBy}
		if o.Reasons == nil {
			o.Reasons = []string{}
		}
		if !rv.DecidedAt.IsZero() {
			t := rv.DecidedAt
			o.DecidedAt = &t
		}
		out.Items = append(out.Items, o)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
