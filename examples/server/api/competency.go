package api

import (
	"net/http"

	"github.com/edufund/edufund/catalog"
)

// competencyAreaDTO is one of the adult scheme's competency areas.
type competencyAreaDTO struct {
	Code    string `json:"code"`
	Name    string `json:"name"`
	English string `json:"english"`
}

// competencyAreas lists the adult scheme's 22 competency areas: reference
// data a course's competency_area is one of, public like the navigator.
func (h *Handler) competencyAreas(w http.ResponseWriter, r *http.Request, _ call) error {
	if err := onlyParams(r.URL.Query()); err != nil {
		return err
	}
	out := struct {
		Areas []competencyAreaDTO `json:"areas"`
	}{Areas: make([]competencyAreaDTO, 0, len(catalog.CompetencyAreas))}
	for _, a := range catalog.CompetencyAreas {
		out.Areas = append(out.Areas, competencyAreaDTO{Code: a.Code, Name: a.Name, English: a.English})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
