package api

import (
	"net/http"
	"strconv"

	"github.com/edufund/edufund/catalog"
	"github.com/edufund/edufund/enrollment"
)

// The navigator's search (GET /v1/catalog): public, as a
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
	// Refusal is why the certificate searched for cannot enrol in the
	// program now (GET /v1/certificates/{id}/search only).
	Refusal *refusalOut `json:"refusal,omitempty"`
	// Rating is the program's score (closed contracts weigh double).
	Rating scoreOut `json:"rating"`
}

type refusalOut struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// search is the public navigator.
func (h *Handler) search(w http.ResponseWriter, r *http.Request, _ call) error {
	req, err := searchRequest(r, false)
	if err != nil {
		return err
	}
	return h.runSearch(w, r, req)
}

// searchFor is the navigator for one certificate, as its holder or an
// official reads it: each program says whether the certificate can enrol
// now, and only_enrollable=true leaves out those it cannot.
func (h *Handler) searchFor(w http.ResponseWriter, r *http.Request, c call) error {
	id, err := h.pathID(r)
	if err != nil {
		return err
	}
	req, err := searchRequest(r, true)
	if err != nil {
		return err
	}
	req.For, req.By = id, c.p.Caller()
	return h.runSearch(w, r, req)
}

func searchRequest(r *http.Request, forCertificate bool) (enrollment.SearchRequest, error) {
	q := r.URL.Query()
	params := []string{"q", "municipality", "direction", "registry", "age", "provider_id", "month", "free_seats", "max_price", "cursor", "limit"}
	if forCertificate {
		params = append(params, "only_enrollable")
	}
	if err := onlyParams(q, params...); err != nil {
		return enrollment.SearchRequest{}, err
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
		cur, ok := catalog.ParseCursor(c)
		if !ok {
			p.fail("cursor", "must be the next of a previous page")
		}
		s.After = &cur
	}
	req := enrollment.SearchRequest{Search: s}
	switch v := q.Get("only_enrollable"); v {
	case "", "false":
	case "true":
		req.OnlyEnrollable = true
	default:
		p.fail("only_enrollable", "must be true or false")
	}
	return req, p.err
}

func (h *Handler) runSearch(w http.ResponseWriter, r *http.Request, req enrollment.SearchRequest) error {
	page, err := h.cfg.Service.Search(r.Context(), req)
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
		fo := foundOut{Program: o.Program, Annotation: f.Program.Annotation,
			Tags: append([]string{}, f.Program.Tags...), Provider: o.Provider, Rank: f.Rank, Rating: scoreDTO(f.Score)}
		if f.Refusal != nil {
			fo.Refusal = &refusalOut{Code: f.Refusal.Code, Message: f.Refusal.Error()}
		}
		out.Items = append(out.Items, fo)
	}
	if page.Next != nil {
		out.Next = page.Next.String()
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
