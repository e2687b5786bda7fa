package main

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestRoutes: the API keeps its paths, the pages get every other one.
func TestRoutes(t *testing.T) {
	answer := func(name string) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.Header().Set("X-Handler", name) })
	}
	h := routes(answer("api"), answer("pages"))
	for path, want := range map[string]string{
		"/v1/openapi.json": "api", "/v1/catalog": "api", "/v1/nope": "api", "/healthz": "api", "/readyz": "api", "/metrics": "api",
		"/": "pages", "/programs/x": "pages", "/signin": "pages", "/static/style.css": "pages", "/healthz/x": "pages", "/nope": "pages",
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		if got := rec.Header().Get("X-Handler"); got != want {
			t.Errorf("%s: served by %q, want %q", path, got, want)
		}
	}
}
