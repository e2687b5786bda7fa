package api

import (
	"context"
	"net/http"

	"github.com/google/uuid"

	"github.com/edufund/edufund/catalog"
	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/funding"
)

// programCertifiedOut is a program as its provider and the operators see
// it: with where its certification stands.
type programCertifiedOut struct {
	programFullOut
	Certification       catalog.Certification `json:"certification"`
	CertificationReason string                `json:"certification_reason,omitempty"`
}

func programCertifiedDTO(p catalog.Program) programCertifiedOut {
	res := programFullOut{ProviderID: p.ProviderID, EnrolmentLimit: p.EnrolmentLimit, contentOut: contentDTO(p)}
	res.programOut = offerDTO(enrollment.Offer{Program: p}).Program
	return programCertifiedOut{programFullOut: res, Certification: catalog.CertificationOf(p), CertificationReason: p.CertificationReason}
}

type denyProgramIn struct {
	// Reason is why the regional operator denies: required, shown to the
	// provider.
	Reason string `json:"reason"`
}

// programMove answers a certification move that takes no body.
func (h *Handler) programMove(w http.ResponseWriter, r *http.Request, c call,
	move func(context.Context, string, uuid.UUID, enrollment.Caller) (catalog.Program, error)) error {
	id, err := h.pathID(r)
	if err != nil {
		return err
	}
	p, err := move(r.Context(), c.key, id, c.p.Caller())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, programCertifiedDTO(p))
	return nil
}

func (h *Handler) submitProgram(w http.ResponseWriter, r *http.Request, c call) error {
	return h.programMove(w, r, c, h.cfg.Service.SubmitProgram)
}

func (h *Handler) withdrawProgram(w http.ResponseWriter, r *http.Request, c call) error {
	return h.programMove(w, r, c, h.cfg.Service.WithdrawProgram)
}

func (h *Handler) certifyProgram(w http.ResponseWriter, r *http.Request, c call) error {
	return h.programMove(w, r, c, h.cfg.Service.CertifyProgram)
}

func (h *Handler) denyProgram(w http.ResponseWriter, r *http.Request, c call) error {
	id, err := h.pathID(r)
	if err != nil {
		return err
	}
	var in denyProgramIn
	if err := decode(w, r, &in, false); err != nil {
		return err
	}
	var p parser
	reason := p.multiline("reason", in.Reason, funding.MaxNoteLen)
	if p.err != nil {
		return p.err
	}
	prog, err := h.cfg.Service.DenyProgram(r.Context(), c.key, id, reason, c.p.Caller())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, programCertifiedDTO(prog))
	return nil
}
