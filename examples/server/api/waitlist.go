package api

import (
	"net/http"

	"github.com/edufund/edufund/enrollment"
)

// The waitlists of full groups (issue 30, item 6): POST /v1/applications
// with "waitlist": true answers 202 with the entry when the group is full;
// the holder reads positions per certificate, confirms an offered seat or
// leaves the list.

type waitlistOut struct {
	ID            string `json:"id"`
	GroupID       string `json:"group_id"`
	CertificateID string `json:"certificate_id"`
	Status        string `json:"status"`
	Position      int    `json:"position,omitempty"`
	ContractID    string `json:"contract_id,omitempty"`
	Deadline      string `json:"deadline,omitempty"`
	Reason        string `json:"reason,omitempty"`
	CreatedAt     string `json:"created_at"`
}

func waitlistDTO(e enrollment.WaitlistEntry) waitlistOut {
	o := waitlistOut{ID: e.ID.String(), GroupID: e.GroupID.String(), CertificateID: e.CertificateID.String(), Status: string(e.Status),
		Position: e.Position, Reason: e.Reason, CreatedAt: e.CreatedAt.UTC().Format("2006-01-02T15:04:05.000000Z07:00")}
	if e.ContractID != [16]byte{} {
		o.ContractID = e.ContractID.String()
	}
	if !e.Deadline.IsZero() {
		o.Deadline = e.Deadline.String()
	}
	return o
}

// submitOrWait is the submission of a holder asking for the waitlist: it
// goes through the single path (the batches never see it).
func (h *Handler) submitOrWait(w http.ResponseWriter, r *http.Request, c call, req enrollment.SubmitRequest) error {
	k, e, err := h.cfg.Service.SubmitOrWait(r.Context(), c.key, req)
	if err != nil {
		return err
	}
	if e != nil {
		writeJSON(w, http.StatusAccepted, waitlistDTO(*e))
		return nil
	}
	writeJSON(w, http.StatusCreated, contractDTO(k))
	return nil
}

func (h *Handler) waitlist(w http.ResponseWriter, r *http.Request, c call) error {
	id, err := h.pathID(r)
	if err != nil {
		return err
	}
	if err := onlyParams(r.URL.Query()); err != nil {
		return err
	}
	es, err := h.cfg.Service.Waitlist(r.Context(), c.p.Caller(), id)
	if err != nil {
		return err
	}
	out := make([]waitlistOut, len(es))
	for i, e := range es {
		out[i] = waitlistDTO(e)
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": out})
	return nil
}

func waitlistAction(run func(*enrollment.Service, *Handler, *http.Request, call, enrollment.WaitlistRequest) (enrollment.WaitlistEntry, error)) handler {
	return func(h *Handler, w http.ResponseWriter, r *http.Request, c call) error {
		id, err := h.pathID(r)
		if err != nil {
			return err
		}
		if err := decode(w, r, &struct{}{}, true); err != nil {
			return err
		}
		e, err := run(h.cfg.Service, h, r, c, enrollment.WaitlistRequest{ID: id, By: c.p.Caller()})
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, waitlistDTO(e))
		return nil
	}
}

var (
	confirmWaitlist = waitlistAction(func(s *enrollment.Service, _ *Handler, r *http.Request, c call, req enrollment.WaitlistRequest) (enrollment.WaitlistEntry, error) {
		return s.ConfirmWaitlist(r.Context(), c.key, req)
	})
	leaveWaitlist = waitlistAction(func(s *enrollment.Service, _ *Handler, r *http.Request, c call, req enrollment.WaitlistRequest) (enrollment.WaitlistEntry, error) {
		return s.LeaveWaitlist(r.Context(), c.key, req)
	})
)

// expireWaitlistOffers is the region's daily job over the seats offered
// and left unconfirmed past their deadline.
func (h *Handler) expireWaitlistOffers(w http.ResponseWriter, r *http.Request, c call) error {
	if err := decode(w, r, &struct{}{}, true); err != nil {
		return err
	}
	n, err := h.cfg.Service.ExpireWaitlistOffers(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]int{"expired": n})
	return nil
}
