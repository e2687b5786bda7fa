package api

import (
	"net/http"

	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/enrollment"
)

type eligibilityIn struct {
	Scheme string   `json:"scheme"`
	Holder holderIn `json:"holder"`
	// Municipality is the funding municipality of a child's certificate;
	// empty means the child's municipality of residence.
	Municipality string `json:"municipality,omitempty"`
}

type eligibilityOut struct {
	Scheme   string   `json:"scheme"`
	On       string   `json:"on"`
	Eligible bool     `json:"eligible"`
	Reasons  []Reason `json:"reasons"`
}

// eligibility decides, without issuing anything, whether a person may get a
// certificate of a scheme today, and why not; enrollment.Service.Eligibility
// decides who may ask about whom (an adult about themselves, a parent about
// a child linked to them, a municipal authority about children it would
// fund, each operator about its scheme).
func (h *Handler) eligibility(w http.ResponseWriter, r *http.Request, c call) error {
	var in eligibilityIn
	if err := decode(w, r, &in, false); err != nil {
		return err
	}
	var p parser
	scheme := certificate.Scheme(in.Scheme)
	req := enrollment.EligibilityRequest{Scheme: scheme, Holder: in.Holder.parse(&p),
		Municipality: p.text("municipality", in.Municipality, 40, false), By: c.p.Caller()}
	if p.err != nil {
		return p.err
	}
	d, err := h.cfg.Service.Eligibility(r.Context(), req)
	if err != nil {
		return err
	}
	out := eligibilityOut{Scheme: string(scheme), On: dateOut(h.today()), Eligible: d.Eligible, Reasons: []Reason{}}
	for _, rs := range d.Reasons {
		out.Reasons = append(out.Reasons, Reason{Rule: rs.Rule, Message: rs.Message})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
