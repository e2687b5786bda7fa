// Package web is the reference server's pages for people: server-rendered
// Russian pages over the same enrollment.Service calls and the same
// sign-in as the JSON API (package api), so that a region evaluating
// edufund can show a parent, a provider or an official what the system
// does, and see how to wire the library into its own pages.
//
// This first step serves the parent's navigator (GET /: search, filters,
// facets and paging; for a signed-in parent, the search for one of their
// certificates), a program's page (GET /programs/{id}) and the demo's
// sign-in (GET and POST /signin, POST /signout). The pages need no
// JavaScript; the templates and the style sheet are embedded, so the
// binary serves everything, with no CDN and no build step.
//
// Who the caller is comes from a bearer token kept in an HttpOnly cookie
// and checked by the API's own Verifier and revocation list; what the
// caller may read or change is decided by the service, through the
// enrollment.Caller the token makes, exactly as for the API.
package web

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"maps"
	"net/http"
	"path"
	"runtime/debug"
	"slices"
	"strings"

	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/examples/server/api"
	"github.com/edufund/edufund/examples/server/demo"
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed static
var staticFiles embed.FS

// Config is what the pages run on.
type Config struct {
	Service *enrollment.Service
	// Verifier checks the token of a signed-in caller: give it the API's
	// (api.Issuers in the reference server), so that a page admits exactly
	// the callers the API does.
	Verifier api.Verifier
	// Revocations refuses the revoked tokens, as it does for the API; nil
	// revokes nothing.
	Revocations *api.Revocations
	// Auth issues the demo tokens the sign-in page hands out; nil: the
	// page offers no demo sign-in.
	Auth *api.Auth
	// Demo is the demo region: the sign-in page offers its principals and
	// a parent's search offers the certificates among its that the parent
	// may read. nil: no demo.
	Demo *demo.Result
	// Municipalities names the municipalities of the navigator's filter by
	// code; a code left out shows as itself. nil with Demo: the demo's.
	Municipalities map[string]string
	// SecureCookie marks the sign-in cookie Secure on plain-HTTP requests
	// too: set it behind a proxy that terminates TLS. A request that came
	// over TLS always gets a Secure cookie.
	SecureCookie bool
	// Logger receives the errors a page hides from its reader; nil
	// discards them.
	Logger *slog.Logger
}

// handler serves the pages.
type handler struct {
	cfg   Config
	log   *slog.Logger
	pages map[string]*template.Template
	// municipalities are the codes of the filter, in the order shown.
	municipalities []string
}

// New builds the pages over cfg. The handler it returns answers every
// path it is given; the reference server routes the API's paths (/v1/,
// the probes, the metrics) past it.
func New(cfg Config) (http.Handler, error) {
	if cfg.Service == nil || cfg.Verifier == nil {
		return nil, errors.New("web: Service and Verifier are required")
	}
	if cfg.Municipalities == nil && cfg.Demo != nil {
		cfg.Municipalities = demo.MunicipalityNames
	}
	h := &handler{cfg: cfg, log: cfg.Logger, pages: map[string]*template.Template{}}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	h.municipalities = slices.Sorted(maps.Keys(cfg.Service.Config().Children.Municipalities))
	// Each page is its template file with the layout and the partials
	// around it, named by the file: templates/cabinet.html is the page
	// "cabinet". The partials (templates/_*.html) are the blocks several
	// pages show, defined once: the price, a form's inputs, the pager.
	files, err := fs.Glob(templateFiles, "templates/*.html")
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		name := strings.TrimSuffix(path.Base(f), ".html")
		if name == "layout" || strings.HasPrefix(name, "_") {
			continue
		}
		t, err := template.New(name).Funcs(funcs).ParseFS(templateFiles, "templates/layout.html", "templates/_*.html", f)
		if err != nil {
			return nil, fmt.Errorf("web: %w", err)
		}
		h.pages[name] = t
	}
	static, err := fs.Sub(staticFiles, "static")
	if err != nil {
		return nil, err
	}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", h.navigator)
	mux.HandleFunc("GET /programs/{id}", h.program)
	mux.HandleFunc("GET /signin", h.signInPage)
	mux.HandleFunc("POST /signin", h.signIn)
	mux.HandleFunc("POST /signout", h.signOut)
	// Each area's pages register their own routes.
	h.contractRoutes(mux)
	h.cabinetRoutes(mux)
	h.providerRoutes(mux)
	h.municipalityRoutes(mux)
	h.adultRoutes(mux)
	h.statementRoutes(mux)
	h.messageRoutes(mux)
	mux.Handle("GET /static/", http.StripPrefix("/static/", cacheFor(http.FileServerFS(static))))
	mux.HandleFunc("/", h.notFound)

	// Every POST is refused unless it comes from the pages' own origin
	// (Sec-Fetch-Site, or Origin against Host): that is the pages' CSRF
	// protection, with no token to carry in each form.
	csrf := http.NewCrossOriginProtection()
	csrf.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.fail(w, r, http.StatusForbidden, "Запрос отклонён",
			"Форма отправлена с чужого сайта. Откройте страницу заново и отправьте форму с неё.")
	}))
	return h.recover(secure(h.authenticate(csrf.Handler(mux)))), nil
}

// funcs are the templates' helpers.
var funcs = template.FuncMap{
	"money": ruMoney,
	"date":  ruDate,
	"month": ruMonth,
	// selectField and textField are an input with its label and its
	// error, for the templates of templates/_form.html.
	"selectField": func(name, label string, options []option, err string) selectField {
		return selectField{Name: name, Label: label, Options: options, Error: err}
	},
	"textField": func(name, label, value, err string) textField {
		return textField{Name: name, Label: label, Value: value, Error: err}
	},
}

// view is what the layout shows around a page.
type view struct {
	Title string
	User  *user
	// Today is the region's date, in words: the date the rules see.
	Today string
	// Path is the page's own path and query, where the sign-in returns to.
	Path string
	// Nav are the links of the caller's role, the current one marked.
	Nav  []navLink
	Body any
}

// navLink is a link of the header's menu.
type navLink struct {
	Href, Label string
	Current     bool
}

// menus are the header's links by role: each role's pages.
var menus = map[api.Role][]navLink{
	"": {{Href: "/", Label: "Поиск программ"}},
	api.RoleHolder: {{Href: "/", Label: "Поиск программ"}, {Href: "/cabinet", Label: "Мои сертификаты"},
		{Href: "/adult", Label: "Сертификат для взрослых"}, {Href: "/messages", Label: "Сообщения"}},
	api.RoleProvider: {{Href: "/provider", Label: "Заявки и договоры"}, {Href: "/provider/groups", Label: "Группы"},
		{Href: "/provider/invoices", Label: "Счета"}, {Href: "/messages", Label: "Сообщения"}, {Href: "/", Label: "Навигатор"}},
	api.RoleMunicipality: {{Href: "/municipality", Label: "Сертификаты"}, {Href: "/municipality/budget", Label: "Бюджет и лимиты"},
		{Href: "/messages", Label: "Сообщения"}, {Href: "/", Label: "Навигатор"}},
	api.RoleRegional: {{Href: "/municipality", Label: "Сертификаты"}, {Href: "/municipality/budget", Label: "Бюджет и лимиты"},
		{Href: "/", Label: "Навигатор"}},
	api.RoleFederal: {{Href: "/adult/queue", Label: "Квота и очередь"}, {Href: "/", Label: "Навигатор"}},
	// The auditor reads through the API (GET /v1/audit/postings); the
	// pages offer the navigator.
	api.RoleAuditor: {{Href: "/", Label: "Навигатор"}},
	// An authorised organisation issues and activates through the API
	// (POST /v1/certificates); the pages offer the navigator.
	api.RoleAuthorised: {{Href: "/", Label: "Навигатор"}},
}

// nav is the menu of u on the page at path: the link whose section holds
// the page is marked current.
func nav(u *user, path string) []navLink {
	var role api.Role
	if u != nil {
		role = u.Principal.Role
	}
	links := slices.Clone(menus[role])
	best := -1
	for i, l := range links {
		if path == l.Href || (l.Href != "/" && strings.HasPrefix(path, l.Href+"/")) {
			if best < 0 || len(l.Href) > len(links[best].Href) {
				best = i
			}
		}
	}
	if best >= 0 {
		links[best].Current = true
	}
	return links
}

// render writes page with the layout around it. It renders to a buffer
// first, so that a template's error becomes the error page rather than
// half a page.
func (h *handler) render(w http.ResponseWriter, r *http.Request, status int, page, title string, body any) {
	u := h.user(w, r)
	v := view{Title: title, User: u, Today: ruLongDate(h.cfg.Service.Today()), Path: r.URL.RequestURI(), Nav: nav(u, r.URL.Path), Body: body}
	var b bytes.Buffer
	if err := h.pages[page].ExecuteTemplate(&b, "layout", v); err != nil {
		h.internal(w, r, fmt.Errorf("template %s: %w", page, err))
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b.Bytes())
}

// errorPage is the body of the error page.
type errorPage struct {
	Heading, Text string
}

// fail shows the error page with status: a heading and a sentence in
// Russian, never the error itself.
func (h *handler) fail(w http.ResponseWriter, r *http.Request, status int, heading, text string) {
	h.render(w, r, status, "error", heading, errorPage{Heading: heading, Text: text})
}

func (h *handler) notFound(w http.ResponseWriter, r *http.Request) {
	h.fail(w, r, http.StatusNotFound, "Страница не найдена",
		"Такой страницы нет. Проверьте адрес или начните с поиска программ.")
}

// internal logs err and shows a page that says only that something
// failed: the reader can do nothing with the details, an attacker could.
func (h *handler) internal(w http.ResponseWriter, r *http.Request, err error) {
	h.log.ErrorContext(r.Context(), "page failed", "method", r.Method, "path", r.URL.Path, "err", err)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusInternalServerError)
	// Written without the templates: they may be what failed.
	_, _ = w.Write([]byte(internalPage))
}

const internalPage = `<!doctype html>
<html lang="ru"><head><meta charset="utf-8"><title>Ошибка сервера</title>
<link rel="stylesheet" href="/static/style.css"></head>
<body><main id="main"><h1>Что-то пошло не так</h1>
<p>Страницу не удалось показать. Попробуйте ещё раз через минуту или <a href="/">вернитесь к поиску программ</a>.</p>
</main></body></html>
`

// recover turns a panic into the error page: a reader never sees a
// stack trace; the log gets it.
func (h *handler) recover(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				h.internal(w, r, fmt.Errorf("panic: %v\n%s", v, debug.Stack()))
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// secure sets the headers every page carries: no script and no frame from
// anywhere (the pages need neither), no guessing of content types, and no
// full address sent to the sites a program's page links to.
func secure(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "same-origin")
		next.ServeHTTP(w, r)
	})
}

// cacheFor lets browsers keep the style sheet for an hour: it changes
// only with the binary.
func cacheFor(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		next.ServeHTTP(w, r)
	})
}
