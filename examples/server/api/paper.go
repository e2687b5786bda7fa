package api

import (
	"net/http"
	"time"

	"github.com/google/uuid"

	"github.com/edufund/edufund/catalog"
	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/enrollment"
)

// paperIn is a provider activating a contract on the holder's signed
// paper application (seed 004): the application's number and signing
// day, and the certificate's protection as for an application the
// provider creates.
type paperIn struct {
	ApplicationNumber string `json:"application_number"`
	SignedOn          string `json:"signed_on"`
	Number            string `json:"number"`
	FullName          string `json:"full_name,omitempty"`
	Passphrase        string `json:"passphrase,omitempty"`
}

type paperOut struct {
	Number     string    `json:"number"`
	SignedOn   string    `json:"signed_on"`
	RecordedAt time.Time `json:"recorded_at"`
	Actor      string    `json:"actor"`
}

type activatedOnPaperOut struct {
	contractOut
	PaperApplication paperOut `json:"paper_application"`
}

func (h *Handler) activateOnPaper(w http.ResponseWriter, r *http.Request, c call) error {
	id, err := h.pathID(r)
	if err != nil {
		return err
	}
	var in paperIn
	if err := decode(w, r, &in, false); err != nil {
		return err
	}
	var p parser
	req := enrollment.PaperRequest{
		ContractRequest:   contractRequest(c, id),
		ApplicationNumber: p.text("application_number", in.ApplicationNumber, enrollment.MaxPaperNumberLen, true),
		SignedOn:          p.date("signed_on", in.SignedOn, true),
		FullName:          p.text("full_name", in.FullName, 300, false),
		Passphrase:        p.secret("passphrase", in.Passphrase, 200),
	}
	if p.err != nil {
		return p.err
	}
	n, err := certificate.ParseNumber(in.Number)
	if err != nil {
		return invalidField("number", "must be the certificate's 10-digit number")
	}
	req.Number = n
	out, err := h.cfg.Service.ActivateOnPaper(r.Context(), c.key, req)
	if err != nil {
		return err
	}
	pa := out.Paper
	writeJSON(w, http.StatusOK, activatedOnPaperOut{contractOut: contractDTO(out.Contract),
		PaperApplication: paperOut{Number: pa.Number, SignedOn: dateOut(pa.SignedOn), RecordedAt: pa.RecordedAt, Actor: pa.Actor}})
	return nil
}

// ---- the week ----

type lessonOut struct {
	Weekday      int       `json:"weekday"`
	Start        string    `json:"start"`
	End          string    `json:"end"`
	Place        string    `json:"place"`
	ContractID   uuid.UUID `json:"contract_id"`
	GroupID      uuid.UUID `json:"group_id"`
	Group        string    `json:"group"`
	Program      string    `json:"program"`
	ProviderID   uuid.UUID `json:"provider_id"`
	Provider     string    `json:"provider"`
	ContractFrom string    `json:"contract_from"`
	ContractTo   string    `json:"contract_to"`
}

type unscheduledOut struct {
	ContractID uuid.UUID `json:"contract_id"`
	Group      string    `json:"group"`
	Program    string    `json:"program"`
	Provider   string    `json:"provider"`
	Schedule   string    `json:"schedule"`
}

type weekOut struct {
	CertificateID uuid.UUID        `json:"certificate_id"`
	Lessons       []lessonOut      `json:"lessons"`
	Unscheduled   []unscheduledOut `json:"unscheduled"`
}

func (h *Handler) schedule(w http.ResponseWriter, r *http.Request, c call) error {
	id, err := h.pathID(r)
	if err != nil {
		return err
	}
	if err := onlyParams(r.URL.Query()); err != nil {
		return err
	}
	wk, err := h.cfg.Service.Schedule(r.Context(), c.p.Caller(), id)
	if err != nil {
		return err
	}
	out := weekOut{CertificateID: wk.CertificateID, Lessons: []lessonOut{}, Unscheduled: []unscheduledOut{}}
	for _, l := range wk.Lessons {
		out.Lessons = append(out.Lessons, lessonOut{Weekday: l.Weekday, Start: l.Start, End: l.End, Place: l.Place,
			ContractID: l.ContractID, GroupID: l.GroupID, Group: l.Group, Program: l.Program, ProviderID: l.ProviderID,
			Provider: l.Provider, ContractFrom: dateOut(l.ContractFrom), ContractTo: dateOut(l.ContractTo)})
	}
	for _, u := range wk.Unscheduled {
		out.Unscheduled = append(out.Unscheduled, unscheduledOut(u))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// ---- a group's sessions ----

// sessionIn is one weekly meeting of a group.
type sessionIn struct {
	Weekday int    `json:"weekday"`
	Start   string `json:"start"`
	End     string `json:"end"`
	Place   string `json:"place,omitempty"`
}

type sessionOut struct {
	Weekday int    `json:"weekday"`
	Start   string `json:"start"`
	End     string `json:"end"`
	Place   string `json:"place,omitempty"`
}

// sessionsIn is the body's sessions as the catalog's; their rules are
// catalog.NewSessions's, checked by the service.
func sessionsIn(in []sessionIn) []catalog.Session {
	if len(in) == 0 {
		return nil
	}
	out := make([]catalog.Session, len(in))
	for i, s := range in {
		out[i] = catalog.Session(s)
	}
	return out
}

func sessionsOut(ss []catalog.Session) []sessionOut {
	out := make([]sessionOut, len(ss))
	for i, s := range ss {
		out[i] = sessionOut(s)
	}
	return out
}
