package api

import (
	"net/http"
	"time"

	"github.com/edufund/edufund/enrollment"
)

// Authorisations: a municipal authority (for itself) or the regional
// operator authorises an organisation to take paper applications for
// children's certificates, and revokes it. The organisation then calls
// POST /v1/certificates and …/activate as role authorised; the service
// checks the authorisation in the transaction of each.

type authorisationIn struct {
	OrganisationID string `json:"organisation_id"`
	Name           string `json:"name"`
	Municipality   string `json:"municipality"`
	MayActivate    bool   `json:"may_activate"`
	From           string `json:"from"`
	To             string `json:"to"`
}

type authorisationOut struct {
	ID             string     `json:"id"`
	OrganisationID string     `json:"organisation_id"`
	Name           string     `json:"name"`
	Municipality   string     `json:"municipality"`
	MayActivate    bool       `json:"may_activate"`
	From           string     `json:"from"`
	To             string     `json:"to,omitempty"`
	GrantedBy      string     `json:"granted_by"`
	GrantedAt      time.Time  `json:"granted_at"`
	RevokedBy      string     `json:"revoked_by,omitempty"`
	RevokedAt      *time.Time `json:"revoked_at,omitempty"`
}

func authorisationDTO(a enrollment.Authorisation) authorisationOut {
	out := authorisationOut{ID: a.ID.String(), OrganisationID: a.OrganisationID.String(), Name: a.Name,
		Municipality: a.Municipality, MayActivate: a.MayActivate, From: a.From.String(),
		GrantedBy: a.GrantedBy, GrantedAt: a.GrantedAt, RevokedBy: a.RevokedBy}
	if !a.To.IsZero() {
		out.To = a.To.String()
	}
	if !a.RevokedAt.IsZero() {
		t := a.RevokedAt
		out.RevokedAt = &t
	}
	return out
}

// authorise grants an organisation an authorisation.
func (h *Handler) authorise(w http.ResponseWriter, r *http.Request, c call) error {
	var in authorisationIn
	if err := decode(w, r, &in, false); err != nil {
		return err
	}
	var p parser
	req := enrollment.AuthoriseRequest{
		OrganisationID: p.uuid("organisation_id", in.OrganisationID, true),
		Name:           p.text("name", in.Name, enrollment.MaxOrganisationNameLen, true),
		Municipality:   p.text("municipality", in.Municipality, 80, true),
		MayActivate:    in.MayActivate,
		From:           p.date("from", in.From, true),
		To:             p.date("to", in.To, false),
		By:             c.p.Caller(),
	}
	if p.err != nil {
		return p.err
	}
	a, err := h.cfg.Service.Authorise(r.Context(), c.key, req)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, authorisationDTO(a))
	return nil
}

// authorisations lists the authorisations within the caller's reach,
// optionally of one municipality.
func (h *Handler) authorisations(w http.ResponseWriter, r *http.Request, c call) error {
	q := r.URL.Query()
	if err := onlyParams(q, "municipality"); err != nil {
		return err
	}
	var p parser
	mun := p.text("municipality", q.Get("municipality"), 80, false)
	if p.err != nil {
		return p.err
	}
	as, err := h.cfg.Service.Authorisations(r.Context(), c.p.Caller(), mun)
	if err != nil {
		return err
	}
	out := pageOut[authorisationOut]{Items: []authorisationOut{}}
	for _, a := range as {
		out.Items = append(out.Items, authorisationDTO(a))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// revokeAuthorisation ends an authorisation at once.
func (h *Handler) revokeAuthorisation(w http.ResponseWriter, r *http.Request, c call) error {
	id, err := h.pathID(r)
	if err != nil {
		return err
	}
	if err := decode(w, r, &struct{}{}, true); err != nil {
		return err
	}
	a, err := h.cfg.Service.RevokeAuthorisation(r.Context(), c.key, id, c.p.Caller())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, authorisationDTO(a))
	return nil
}
