package api

import (
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/edufund/edufund/catalog"
	"github.com/edufund/edufund/enrollment"
)

// The navigator's search (GET /v1/catalog/search): public, as a
// navigator is. Its cursor is opaque to the caller: the rank and the id
// where the page ended.

type searchOut struct {
	Items []foundOut `json:"items"`
	Total int        `json:"total"`
	// Directions and Registries count the matching programs by each.
	Directions map[string]int `json:"directions"`
	Registries map[string]int `json:"registries"`
	Next       string         `json:"next,omitempty"`
}

type foundOut struct {
	Program    programOut  `json:"program"`
	Annotation string      `json:"annotation,omitempty"`
	Tags       []string    `json:"tags"`
	Provider   providerOut `json:"provider"`
	Rank       int         `json:"rank"`
}

func (h *Handler) search(w http.ResponseWriter, r *http.Request, _ call) error {
	q := r.URL.Query()
	if err := onlyParams(q, "q", "municipality", "direction", "registry", "age", "provider_id", "month", "free_seats", "max_price", "cursor", "limit"); err != nil {
		return err
	}
	var p parser
	s := catalog.Search{
		Text:         q.Get("q"),
		Municipality: p.text("municipality", q.Get("municipality"), 40, false),
		Direction:    catalog.Direction(q.Get("direction")),
		Registry:     catalog.Registry(q.Get("registry")),
		ProviderID:   p.uuid("provider_id", q.Get("provider_id"), false),
	}
	for _, n := range []struct {
		name string
		dst  *int
	}{{"age", &s.Age}, {"limit", &s.Limit}} {
		if v := q.Get(n.name); v != "" {
			i, err := strconv.Atoi(v)
			if err != nil {
				p.fail(n.name, "must be a whole number")
			}
			*n.dst = i
		}
	}
	if v := q.Get("month"); v != "" {
		s.Month = p.month("month", v, true)
	}
	switch v := q.Get("free_seats"); v {
	case "", "false":
	case "true":
		s.FreeSeats = true
	default:
		p.fail("free_seats", "must be true or false")
	}
	if v := q.Get("max_price"); v != "" {
		s.MaxPrice = p.money("max_price", v)
	}
	if c := q.Get("cursor"); c != "" {
		cur, ok := decodeCursor(c)
		if !ok {
			p.fail("cursor", "must be the next of a previous page")
		}
		s.After = &cur
	}
	if p.err != nil {
		return p.err
	}
	page, err := h.cfg.Service.Search(r.Context(), s)
	if err != nil {
		return err
	}
	out := searchOut{Items: []foundOut{}, Total: page.Total, Directions: map[string]int{}, Registries: map[string]int{}}
	for d, n := range page.Directions {
		out.Directions[string(d)] = n
	}
	for r, n := range page.Registries {
		out.Registries[string(r)] = n
	}
	for _, f := range page.Programs {
		o := offerDTO(enrollment.Offer{Program: f.Program, Provider: f.Provider})
		out.Items = append(out.Items, foundOut{Program: o.Program, Annotation: f.Program.Annotation,
			Tags: append([]string{}, f.Program.Tags...), Provider: o.Provider, Rank: f.Rank})
	}
	if page.Next != nil {
		out.Next = encodeCursor(*page.Next)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func encodeCursor(c catalog.Cursor) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.Itoa(c.Rank) + "." + c.ProgramID.String()))
}

func decodeCursor(s string) (catalog.Cursor, bool) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return catalog.Cursor{}, false
	}
	rank, id, ok := strings.Cut(string(b), ".")
	n, err := strconv.Atoi(rank)
	if !ok || err != nil || n < 0 {
		return catalog.Cursor{}, false
	}
	u, err := uuid.Parse(id)
	if err != nil {
		return catalog.Cursor{}, false
	}
	return catalog.Cursor{Rank: n, ProgramID: u}, true
}
