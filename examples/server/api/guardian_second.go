package api

import (
	"net/http"
	"time"

	"github.com/edufund/edufund/enrollment"
)

type secondGuardianIn struct {
	GuardianID string `json:"guardian_id"`
}

type secondGuardianOut struct {
	GuardianID string    `json:"guardian_id"`
	ChildID    string    `json:"child_id"`
	RecordedAt time.Time `json:"recorded_at"`
	Actor      string    `json:"actor"`
}

// addSecondGuardian links a second guardian to the child of a certificate
// at the request of the guardian recorded on it: the holder's consent.
func (h *Handler) addSecondGuardian(w http.ResponseWriter, r *http.Request, c call) error {
	id, err := h.pathID(r)
	if err != nil {
		return err
	}
	var in secondGuardianIn
	if err := decode(w, r, &in, false); err != nil {
		return err
	}
	var p parser
	guardian := p.personID("guardian_id", in.GuardianID, true)
	if p.err != nil {
		return p.err
	}
	l, err := h.cfg.Service.AddSecondGuardian(r.Context(), c.key, enrollment.SecondGuardianRequest{
		CertificateID: id, GuardianID: guardian, By: c.p.Caller(),
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, secondGuardianOut{GuardianID: l.GuardianID, ChildID: l.ChildID, RecordedAt: l.RecordedAt, Actor: l.Actor})
	return nil
}
