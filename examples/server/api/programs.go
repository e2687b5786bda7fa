package api

import (
	"net/http"

	"github.com/google/uuid"

	"github.com/edufund/edufund/catalog"
	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/funding"
)

// A program's page: what a navigator shows of a program to anyone, signed
// in or not (GET /v1/catalog/programs/{id}), and the wire forms of the
// page's content that a provider saves (POST /v1/catalog/programs,
// /v1/admin/providers, /v1/catalog/groups).

// contentOut is a program's page content: its texts and tags ([] for none).
type contentOut struct {
	Annotation  string   `json:"annotation,omitempty"`
	Description string   `json:"description,omitempty"`
	Goals       string   `json:"goals,omitempty"`
	Tags        []string `json:"tags"`
}

func contentDTO(p catalog.Program) contentOut {
	out := contentOut{Annotation: p.Annotation, Description: p.Description, Goals: p.Goals, Tags: []string{}}
	out.Tags = append(out.Tags, p.Tags...)
	return out
}

// contactsOut are a provider's contacts, each left out when not set.
type contactsOut struct {
	Address string `json:"address,omitempty"`
	Phone   string `json:"phone,omitempty"`
	Email   string `json:"email,omitempty"`
	Site    string `json:"site,omitempty"`
}

func contactsDTO(p catalog.Provider) contactsOut {
	return contactsOut{Address: p.Address, Phone: p.Phone, Email: p.Email, Site: p.Site}
}

type programPageOut struct {
	Program  pageProgramOut  `json:"program"`
	Provider pageProviderOut `json:"provider"`
	Modules  []pageModuleOut `json:"modules"`
	Rating   scoreOut        `json:"rating"`
}

type pageProgramOut struct {
	programOut
	contentOut
}

// pageProviderOut is what a family sees of a provider: its name and
// contacts, not its agreements or limits.
type pageProviderOut struct {
	ID           uuid.UUID `json:"id"`
	Name         string    `json:"name"`
	Municipality string    `json:"municipality,omitempty"`
	contactsOut
}

type pageModuleOut struct {
	moduleOut
	Groups []pageGroupOut `json:"groups"`
}

type pageGroupOut struct {
	groupOut
	// Months are the calendar months the group runs in.
	Months []funding.Month `json:"months"`
	// Address is where it meets: its own, or its provider's.
	Address   string `json:"address,omitempty"`
	SeatsFree int    `json:"seats_free"`
}

// scoreOut is a program's score per parameter (0–100, two decimals) and
// how many ratings of active and closed contracts it is made of.
type scoreOut struct {
	Results      string `json:"results"`
	Staff        string `json:"staff"`
	Means        string `json:"means"`
	Satisfaction string `json:"satisfaction"`
	Active       int    `json:"active"`
	Closed       int    `json:"closed"`
}

func scoreDTO(s enrollment.Score) scoreOut {
	return scoreOut{Results: s.Results.StringFixed(2), Staff: s.Staff.StringFixed(2), Means: s.Means.StringFixed(2),
		Satisfaction: s.Satisfaction.StringFixed(2), Active: s.Active, Closed: s.Closed}
}

func programPageDTO(pg enrollment.ProgramPage) programPageOut {
	o := offerDTO(enrollment.Offer{Program: pg.Program, Provider: pg.Provider})
	out := programPageOut{
		Program:  pageProgramOut{programOut: o.Program, contentOut: contentDTO(pg.Program)},
		Provider: pageProviderOut{ID: pg.Provider.ID, Name: pg.Provider.Name, Municipality: pg.Provider.Municipality, contactsOut: contactsDTO(pg.Provider)},
		Modules:  []pageModuleOut{},
		Rating:   scoreDTO(pg.Score),
	}
	for _, m := range pg.Modules {
		mo := pageModuleOut{moduleOut: offerDTO(enrollment.Offer{Module: m.Module}).Module, Groups: []pageGroupOut{}}
		for _, g := range m.Groups {
			mo.Groups = append(mo.Groups, pageGroupOut{groupOut: offerDTO(enrollment.Offer{Group: g.Group}).Group,
				Months: append([]funding.Month{}, g.Months...), Address: g.Address, SeatsFree: g.Free})
		}
		out.Modules = append(out.Modules, mo)
	}
	return out
}

// programPage answers a program's page to anyone: the route is public.
func (h *Handler) programPage(w http.ResponseWriter, r *http.Request, _ call) error {
	id, err := h.pathID(r)
	if err != nil {
		return err
	}
	if err := onlyParams(r.URL.Query()); err != nil {
		return err
	}
	pg, err := h.cfg.Service.ProgramPage(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, programPageDTO(pg))
	return nil
}
