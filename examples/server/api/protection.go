package api

import (
	"net/http"

	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/enrollment"
)

// setProtection is the holder switching how providers may apply for
// them: {"mode": "forbidden" | "by_name" | "by_passphrase", "passphrase"}.
func (h *Handler) setProtection(w http.ResponseWriter, r *http.Request, c call) error {
	id, err := h.pathID(r)
	if err != nil {
		return err
	}
	var in protectionIn
	if err := decode(w, r, &in, false); err != nil {
		return err
	}
	var p parser
	if in.Mode == "" {
		p.fail("mode", "is required: forbidden, by_name or by_passphrase")
	}
	pass := p.secret("passphrase", in.Passphrase, 200)
	if p.err != nil {
		return p.err
	}
	cert, err := h.cfg.Service.SetProtection(r.Context(), c.key, enrollment.ProtectionRequest{
		CertificateID: id, Mode: certificate.ProtectionMode(in.Mode), Passphrase: pass, By: c.p.Caller(),
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, certificateDTO(cert))
	return nil
}
