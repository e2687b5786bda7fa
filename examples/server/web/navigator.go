package web

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/edufund/edufund/catalog"
	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/funding"
)

// The navigator (GET /): a plain GET form, so that a search is a link a
// parent can keep or share and the page works without JavaScript. The
// search is the API's (enrollment.Service.Search), public as there.

// searchForm is the navigator's form as the reader filled it in, shown
// back as typed.
type searchForm struct {
	Q, Municipality, Direction, Registry, Age, Cert string
	Free, Only                                      bool
}

// navigatorPage is the navigator's body.
type navigatorPage struct {
	Form searchForm
	// Errors are the messages next to the inputs, by input name; Error is
	// one that names no input.
	Errors fieldErrors
	Error  string

	Municipalities, Directions, Registries, Certificates []option

	// Results: Found is the count in words, Programs the page.
	Found             string
	Programs          []foundView
	ForCert, OnlyCert bool
	DirectionFacets   []facet
	RegistryFacets    []facet
	// Next and First are the pager's links; First only past the first
	// page.
	Next, First string
	ShowResults bool
}

// facet is a count of the results by a direction or a registry, a link
// that narrows the search to it.
type facet struct {
	Label   string
	Count   string
	URL     string
	Current bool
}

type foundView struct {
	ID, Name, Provider, Direction, Registry, Ages, Annotation string
	Tags                                                      []string
	// Refusal is why the certificate searched for cannot enrol ("" when
	// it can, or when the search is for no certificate).
	Refusal string
	Rating  ratingView
}

func (h *handler) navigator(w http.ResponseWriter, r *http.Request) {
	u := h.user(w, r)
	q := r.URL.Query()
	f := searchForm{Q: q.Get("q"), Municipality: q.Get("municipality"), Direction: q.Get("direction"), Registry: q.Get("registry"),
		Age: strings.TrimSpace(q.Get("age")), Cert: q.Get("cert"), Free: q.Get("free") != "", Only: q.Get("only") != ""}
	page := navigatorPage{Form: f, Errors: fieldErrors{}}
	if u != nil && u.Principal.Role == enrollment.RoleHolder {
		page.Certificates = h.certificates(r, u, f.Cert)
	}
	page.Municipalities = append([]option{{Value: "", Label: "Любой", Selected: f.Municipality == ""}}, h.municipalityChoices(f.Municipality)...)
	page.Directions = directionOptions(f.Direction)
	page.Registries = registryOptions(f.Registry)

	req := h.searchRequest(r, u, f, q.Get("cursor"), &page)
	status := http.StatusOK
	if len(page.Errors) == 0 && page.Error == "" {
		res, err := h.cfg.Service.Search(r.Context(), req)
		if err != nil && !page.refused(err, req) {
			h.internal(w, r, err)
			return
		}
		if err == nil {
			page.results(res, f, req)
		}
	}
	if len(page.Errors) > 0 || page.Error != "" {
		status = http.StatusBadRequest
	}
	h.render(w, r, status, "navigator", "Поиск программ", page)
}

// searchRequest reads the form into the service's request; what it cannot
// read goes to page's errors, and the search is then not run.
func (h *handler) searchRequest(r *http.Request, u *user, f searchForm, cursor string, page *navigatorPage) enrollment.SearchRequest {
	s := catalog.Search{Text: f.Q, Municipality: f.Municipality, Direction: catalog.Direction(f.Direction), Registry: catalog.Registry(f.Registry), FreeSeats: f.Free}
	if f.Age != "" {
		age, err := strconv.Atoi(f.Age)
		if err != nil {
			page.Errors["age"] = "Укажите возраст целым числом лет, например 9."
		}
		s.Age = age
	}
	if f.Municipality != "" && !slices.Contains(h.municipalities, f.Municipality) {
		page.Errors["municipality"] = "Такого муниципалитета нет в списке: выберите из списка."
	}
	if cursor != "" {
		if c, ok := catalog.ParseCursor(cursor); ok {
			s.After = &c
		} else {
			page.Error = "Ссылка на следующую страницу устарела или повреждена. Начните поиск заново."
		}
	}
	req := enrollment.SearchRequest{Search: s, OnlyEnrollable: f.Only}
	switch {
	case f.Cert != "" && u == nil:
		page.Errors["cert"] = "Войдите, чтобы искать по своему сертификату."
	case f.Cert != "":
		id, ok := parseID(f.Cert)
		if !ok {
			page.Errors["cert"] = "Выберите сертификат из списка."
		}
		req.For, req.By = id, u.Caller
	case f.Only:
		page.Errors["only"] = "Выберите сертификат, чтобы оставить только программы, куда по нему можно записаться."
	}
	return req
}

// refused puts a refusal of the search's input next to its input and
// reports whether err was one.
func (p *navigatorPage) refused(err error, req enrollment.SearchRequest) bool {
	if putFieldErrors(err, fieldMessage, p.Errors, &p.Error) {
		return true
	}
	// A certificate the reader may not read does not exist for them, as
	// the API says: the same words for both.
	if _, ok := errors.AsType[*funding.RuleError](err); ok && req.For != uuid.Nil {
		p.Errors["cert"] = "Сертификат не найден среди ваших: выберите из списка."
		return true
	}
	return false
}

// results fills in the page of res.
func (p *navigatorPage) results(res enrollment.SearchPage, f searchForm, req enrollment.SearchRequest) {
	p.ShowResults = true
	p.Found = ruFound(res.Total)
	p.ForCert, p.OnlyCert = req.For != uuid.Nil, req.OnlyEnrollable
	for _, x := range res.Programs {
		v := foundView{ID: x.Program.ID.String(), Name: x.Program.Name, Provider: x.Provider.Name,
			Direction: ruDirection(x.Program.Direction), Registry: ruRegistry(x.Program.Registry),
			Ages: ruAges(x.Program.MinAge, x.Program.MaxAge), Annotation: x.Program.Annotation, Tags: x.Program.Tags,
			Rating: ratingOf(x.Score)}
		if x.Refusal != nil {
			v.Refusal = refusalText(x.Refusal)
		}
		p.Programs = append(p.Programs, v)
	}
	for _, d := range catalog.Directions {
		if n := res.Directions[d]; n > 0 {
			g := f
			g.Direction = string(d)
			p.DirectionFacets = append(p.DirectionFacets, facet{Label: ruDirection(d), Count: ruInt(int64(n)), URL: g.url(""), Current: f.Direction == string(d)})
		}
	}
	for _, r := range catalog.Registries {
		if n := res.Registries[r]; n > 0 {
			g := f
			g.Registry = string(r)
			p.RegistryFacets = append(p.RegistryFacets, facet{Label: ruRegistry(r), Count: ruInt(int64(n)), URL: g.url(""), Current: f.Registry == string(r)})
		}
	}
	if res.Next != nil {
		p.Next = f.url(res.Next.String())
	}
	if req.After != nil {
		p.First = f.url("")
	}
}

// url is the navigator's address for the form, at cursor ("" for the
// first page).
func (f searchForm) url(cursor string) string {
	v := url.Values{}
	for _, kv := range [][2]string{{"q", f.Q}, {"municipality", f.Municipality}, {"direction", f.Direction},
		{"registry", f.Registry}, {"age", f.Age}, {"cert", f.Cert}, {"cursor", cursor}} {
		if kv[1] != "" {
			v.Set(kv[0], kv[1])
		}
	}
	if f.Free {
		v.Set("free", "1")
	}
	if f.Only {
		v.Set("only", "1")
	}
	if len(v) == 0 {
		return "/"
	}
	return "/?" + v.Encode()
}

func directionOptions(selected string) []option {
	out := []option{{Value: "", Label: "Любое", Selected: selected == ""}}
	for _, d := range catalog.Directions {
		out = append(out, option{Value: string(d), Label: ruDirection(d), Selected: string(d) == selected})
	}
	return out
}

func registryOptions(selected string) []option {
	out := []option{{Value: "", Label: "Любой", Selected: selected == ""}}
	for _, r := range catalog.Registries {
		out = append(out, option{Value: string(r), Label: ruRegistry(r), Selected: string(r) == selected})
	}
	return out
}

// certificates are the certificates the signed-in holder acts for, as
// the options of a search or an application for one; nil when they have
// none. The service lists them (Service.Certificates): a guardian's
// children's and their own adult one, children's first.
func (h *handler) certificates(r *http.Request, u *user, selected string) []option {
	if u == nil || u.Caller.Role != enrollment.RoleHolder {
		return nil
	}
	cs, err := h.holderCertificates(r.Context(), u)
	if err != nil {
		// The page still works without its options: the search for all.
		h.log.WarnContext(r.Context(), "the holder's certificates could not be read", "err", err)
		return nil
	}
	if len(cs) == 0 {
		return nil
	}
	out := []option{{Value: "", Label: "Не выбран", Selected: selected == ""}}
	for _, c := range cs {
		out = append(out, option{Value: c.ID.String(), Label: certLabel(c), Selected: c.ID.String() == selected})
	}
	return out
}
