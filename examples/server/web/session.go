package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"

	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/examples/server/api"
	"github.com/edufund/edufund/examples/server/demo"
	"github.com/edufund/edufund/storage"
)

// Sign-in. A page's caller is whoever the bearer token in the cookie
// signs in, checked by the API's Verifier and revocation list: the pages
// keep no session of their own, so a token revoked for the API is refused
// here too, and a page may read or change only what the API would let the
// same token.
//
// The demo signs people in by letting them pick a demo principal and
// issuing its token, as the server's start banner prints them. A real
// deployment plugs its identity provider in here instead: the sign-in
// page sends the browser to the provider (OIDC authorization code flow),
// and its callback stores the ID token the provider returns in this same
// cookie; the Verifier, already the API's api.Issuers with the region's
// api.OIDC (see api/oidc.go and the server's -oidc flag), checks it on
// every page as it checks the API's bearer tokens.

// cookieName is the cookie holding the bearer token. HttpOnly keeps it
// from scripts; SameSite=Lax keeps it off other sites' POSTs.
const cookieName = "edufund_token"

// user is the signed-in caller of a page.
type user struct {
	Principal api.Principal
	// Caller is the principal as the service's rules see it.
	Caller enrollment.Caller
	// Name and Role are who the caller is and as what, in Russian.
	Name, Role string
}

// roleNames are the roles as the header names them.
var roleNames = map[api.Role]string{
	api.RoleHolder:       "получатель сертификата",
	api.RoleProvider:     "организация",
	api.RoleMunicipality: "муниципалитет",
	api.RoleRegional:     "региональный оператор",
	api.RoleFederal:      "федеральный оператор",
	api.RoleAuditor:      "аудитор",
	api.RoleAuthorised:   "уполномоченная организация",
}

type userKey struct{}

// user is the caller of r, nil when signed out. authenticate has read it.
func (h *handler) user(_ http.ResponseWriter, r *http.Request) *user {
	u, _ := r.Context().Value(userKey{}).(*user)
	return u
}

// authenticate reads the cookie's token once per request. A token the
// Verifier or the revocation list refuses (expired, revoked, from a
// previous run's key) signs the reader out: the cookie is cleared and
// the page is shown as to anyone.
func (h *handler) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := r.Cookie(cookieName)
		if err != nil || c.Value == "" {
			next.ServeHTTP(w, r)
			return
		}
		p, err := h.cfg.Verifier.Verify(r.Context(), c.Value)
		if err == nil && h.cfg.Revocations != nil && h.cfg.Revocations.Revoked(p) {
			err = api.ErrRevoked
		}
		if err != nil {
			h.log.InfoContext(r.Context(), "page token refused", "err", err)
			h.clearCookie(w, r)
			next.ServeHTTP(w, r)
			return
		}
		u := &user{Principal: p, Caller: p.Caller(), Name: p.Subject, Role: roleNames[p.Role]}
		if d := h.demoPrincipal(p); d != nil {
			u.Name = d.Title
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), userKey{}, u)))
	})
}

// demoPrincipal is the demo's principal p signed in as, nil for another.
func (h *handler) demoPrincipal(p api.Principal) *demo.Principal {
	if h.cfg.Demo == nil {
		return nil
	}
	for i, d := range h.cfg.Demo.Principals {
		if api.Role(d.Role) == p.Role && d.Subject == p.Subject && d.Tenant == p.Tenant {
			return &h.cfg.Demo.Principals[i]
		}
	}
	return nil
}

func (h *handler) setCookie(w http.ResponseWriter, r *http.Request, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: r.TLS != nil || h.cfg.SecureCookie})
}

func (h *handler) clearCookie(w http.ResponseWriter, r *http.Request) { h.setCookie(w, r, "", -1) }

// signInPage is the sign-in page's body.
type signInPage struct {
	// Groups are the demo principals by kind; none when the demo sign-in
	// is off.
	Groups []principalGroup
	Next   string
	Error  string
}

type principalGroup struct {
	Legend     string
	Principals []demo.Principal
}

// principalGroups sorts the demo principals into the groups the page
// shows, in the demo's order within each.
func (h *handler) principalGroups() []principalGroup {
	if h.cfg.Demo == nil || h.cfg.Auth == nil {
		return nil
	}
	groups := []principalGroup{{Legend: "Родители и взрослые"}, {Legend: "Организации"}, {Legend: "Органы власти и операторы"}}
	for _, p := range h.cfg.Demo.Principals {
		i := 2
		switch api.Role(p.Role) {
		case api.RoleHolder:
			i = 0
		case api.RoleProvider, api.RoleAuthorised:
			i = 1
		}
		groups[i].Principals = append(groups[i].Principals, p)
	}
	return groups
}

func (h *handler) signInPage(w http.ResponseWriter, r *http.Request) {
	h.render(w, r, http.StatusOK, "signin", "Вход", signInPage{Groups: h.principalGroups(), Next: localPath(r.URL.Query().Get("next"))})
}

// signIn issues the token of the demo principal picked and keeps it in
// the cookie.
func (h *handler) signIn(w http.ResponseWriter, r *http.Request) {
	if !h.readForm(w, r) {
		return
	}
	page := signInPage{Groups: h.principalGroups(), Next: localPath(r.PostForm.Get("next"))}
	var picked *demo.Principal
	if who := r.PostForm.Get("who"); h.cfg.Auth != nil && h.cfg.Demo != nil {
		for i, p := range h.cfg.Demo.Principals {
			if p.Subject == who {
				picked = &h.cfg.Demo.Principals[i]
			}
		}
	}
	if picked == nil {
		page.Error = "Выберите, кем войти."
		if page.Groups == nil {
			page.Error = ""
		}
		h.render(w, r, http.StatusBadRequest, "signin", "Вход", page)
		return
	}
	token, err := h.cfg.Auth.Issue(api.Principal{Role: api.Role(picked.Role), Subject: picked.Subject, Tenant: picked.Tenant})
	if err != nil {
		h.internal(w, r, err)
		return
	}
	// A session cookie: the token inside expires on its own (the server's
	// -token-ttl), and the pages then ask to sign in again.
	h.setCookie(w, r, token, 0)
	http.Redirect(w, r, page.Next, http.StatusSeeOther)
}

// signOut clears the cookie and revokes its token, so that a copy of the
// cookie left behind signs nobody in, on the pages or the API.
func (h *handler) signOut(w http.ResponseWriter, r *http.Request) {
	if u := h.user(w, r); u != nil && h.cfg.Revocations != nil && u.Principal.TokenID != "" {
		if _, err := h.cfg.Revocations.Revoke(r.Context(), storage.Revocation{TokenID: u.Principal.TokenID, RevokedBy: u.Principal.Actor()}); err != nil {
			h.log.WarnContext(r.Context(), "sign-out: the token could not be revoked", "err", err)
		}
	}
	h.clearCookie(w, r)
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// signInFirst sends a signed-out reader to the sign-in, which returns to
// back.
func signInFirst(w http.ResponseWriter, r *http.Request, back string) {
	http.Redirect(w, r, "/signin?next="+url.QueryEscape(back), http.StatusSeeOther)
}

// signedIn is the signed-in caller of r. Signed out, it sends the reader
// to the sign-in, which returns to back, and is nil.
func (h *handler) signedIn(w http.ResponseWriter, r *http.Request, back string) *user {
	u := h.user(w, r)
	if u == nil {
		signInFirst(w, r, back)
	}
	return u
}

// localPath is p when it is a path of this site, "/" otherwise: the
// sign-in returns only to the site's own pages, never to another site
// ("//evil.example", "https://…", "/\evil.example").
func localPath(p string) string {
	if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.ContainsAny(p, "\\\r\n") {
		return "/"
	}
	if u, err := url.Parse(p); err != nil || u.Host != "" || u.Scheme != "" {
		return "/"
	}
	return p
}
