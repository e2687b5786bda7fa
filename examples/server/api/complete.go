package api

import (
	"net/http"

	"github.com/edufund/edufund/enrollment"
)

// completeIn is the optional body of an adult course's completion: the
// document the learner was given, for the registry of education
// documents (the export of completions carries it).
type completeIn struct {
	DocumentNumber string `json:"document_number,omitempty"`
	DocumentDate   string `json:"document_date,omitempty"`
}

// complete is the provider reporting an adult course completed, with the
// learner's document when the body names one; an empty body names none.
func (h *Handler) complete(w http.ResponseWriter, r *http.Request, c call) error {
	id, err := h.pathID(r)
	if err != nil {
		return err
	}
	var in completeIn
	if err := decode(w, r, &in, true); err != nil {
		return err
	}
	var p parser
	req := contractRequest(c, id)
	req.Document = enrollment.CompletionDocument{
		Number: p.text("document_number", in.DocumentNumber, enrollment.MaxDocumentNumberLen, false),
		Date:   p.date("document_date", in.DocumentDate, false),
	}
	if p.err != nil {
		return p.err
	}
	k, err := h.cfg.Service.Complete(r.Context(), c.key, req)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, contractDTO(k))
	return nil
}
