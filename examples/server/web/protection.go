package web

import (
	"errors"
	"net/http"

	"github.com/google/uuid"

	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/enrollment"
)

// The holder's protection form on the cabinet (POST
// /cabinet/{id}/protection): the mode and, for by_passphrase, a new
// passphrase. Who may change it is Service.SetProtection's answer.

// protectionModes are the choices of the form, in the order of the
// cabinet's names.
var protectionModes = []certificate.ProtectionMode{certificate.Forbidden, certificate.ByName, certificate.ByPassphrase}

// protectionForm fills the form's choices, current selected, and a
// fresh Idempotency-Key.
func (p *cabinetPage) protectionForm(current certificate.ProtectionMode) {
	p.ProtectionModes = nil
	for _, m := range protectionModes {
		p.ProtectionModes = append(p.ProtectionModes, option{Value: string(m), Label: protectionNames[m][0], Selected: m == current})
	}
	p.ProtectionKey = uuid.NewString()
	if p.Errors == nil {
		p.Errors = fieldErrors{}
	}
}

func (h *handler) setProtection(w http.ResponseWriter, r *http.Request) {
	if !h.readForm(w, r) {
		return
	}
	u := h.family(w, r)
	if u == nil {
		return
	}
	id, ok := parseID(r.PathValue("id"))
	if !ok {
		h.cabinetNotFound(w, r)
		return
	}
	key := r.PostForm.Get("key")
	if _, ok := parseID(key); !ok {
		h.fail(w, r, http.StatusBadRequest, "Форма устарела", "Откройте страницу сертификата заново и повторите действие.")
		return
	}
	mode := certificate.ProtectionMode(r.PostForm.Get("mode"))
	pass := r.PostForm.Get("passphrase")
	if mode != certificate.ByPassphrase {
		pass = "" // the field stays on the page whatever the choice; it counts only with by_passphrase
	}
	ctx := r.Context()
	_, err := h.cfg.Service.SetProtection(ctx, key, enrollment.ProtectionRequest{CertificateID: id, Mode: mode, Passphrase: pass, By: u.Caller})
	if err == nil {
		http.Redirect(w, r, "/cabinet/"+id.String()+"?done=protection#protection", http.StatusSeeOther)
		return
	}
	errs := fieldErrors{}
	for _, ve := range validationErrors(err) {
		switch ve.Field {
		case "mode":
			errs["mode"] = "Выберите один из режимов."
		case "passphrase":
			if mode == certificate.ByPassphrase && pass == "" {
				errs["passphrase"] = "Задайте кодовое слово: без него этот режим не включить."
			} else {
				errs["passphrase"] = "Кодовое слово — не короче 8 символов, без служебных знаков."
			}
		}
	}
	if len(errs) == 0 {
		if errors.Is(err, enrollment.ErrNotFound) || errors.Is(err, enrollment.ErrForbidden) {
			h.cabinetFailed(w, r, err)
			return
		}
		h.serviceFailed(w, r, err)
		return
	}
	cab, cerr := h.cfg.Service.Cabinet(ctx, u.Caller, id)
	if cerr != nil {
		h.cabinetFailed(w, r, cerr)
		return
	}
	page, cerr := h.cabinetView(ctx, u, cab)
	if cerr != nil {
		h.serviceFailed(w, r, cerr)
		return
	}
	page.Errors = errs
	for i := range page.ProtectionModes {
		page.ProtectionModes[i].Selected = page.ProtectionModes[i].Value == string(mode)
	}
	h.render(w, r, http.StatusBadRequest, "cabinet", "Сертификат: "+page.Name, page)
}
