package api_test

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestProtectionAndConsent walks the holder's protection and the consent
// over the API, each request and answer held against the OpenAPI
// document: by name admits a provider only after the child applied to
// it; the holder switches to a passphrase the provider then needs; the
// answer never carries the hash; a consent's version comes back on the
// contract with the application's time.
func TestProtectionAndConsent(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		const guardian = "guardian-protection"
		holder, robo := e.holder(guardian), e.provider("Робоцентр")
		cert := e.issueChild(guardian, "child-protection", "Защитин Павел Олегович")
		group := e.demo.WalkthroughGroup.String()
		byRobo := func(key string, fields map[string]any) resp {
			body := map[string]any{"number": cert.Number, "group_id": group, "co_pay_accepted": true}
			for k, v := range fields {
				body[k] = v
			}
			return e.do("POST", "/v1/applications", robo, key, body)
		}
		code := func(r resp, status int, code string) {
			t.Helper()
			if r.status != status {
				t.Fatalf("status %d, want %d: %s", r.status, status, r.body)
			}
			if p := r.problem(t); p.Code != code {
				t.Fatalf("code %s, want %s: %s", p.Code, code, r.body)
			}
		}

		code(byRobo("robo-1", map[string]any{"full_name": "Защитин Павел Олегович"}), http.StatusUnprocessableEntity, "provider_not_known")

		// The parent applies, agreeing to the personal-data text, then withdraws.
		code(e.do("POST", "/v1/applications", holder, "parent-bad", map[string]any{"certificate_id": cert.ID, "group_id": group,
			"co_pay_accepted": true, "consent_version": "ПД\u0000"}), http.StatusBadRequest, "invalid")
		var k struct {
			ID      string `json:"id"`
			Consent *struct {
				Version string    `json:"version"`
				At      time.Time `json:"at"`
			} `json:"consent"`
		}
		e.must(http.StatusCreated, "POST", "/v1/applications", holder, "parent-1", map[string]any{"certificate_id": cert.ID, "group_id": group,
			"co_pay_accepted": true, "consent_version": "ПД-2026.1"}).json(t, &k)
		if k.Consent == nil || k.Consent.Version != "ПД-2026.1" || !k.Consent.At.Equal(e.svc.Now()) {
			t.Fatalf("consent %+v, want ПД-2026.1 at %s", k.Consent, e.svc.Now())
		}
		e.must(http.StatusOK, "GET", "/v1/contracts/"+k.ID, holder, "", nil).json(t, &k)
		if k.Consent == nil || k.Consent.Version != "ПД-2026.1" {
			t.Fatalf("consent read back %+v", k.Consent)
		}
		e.must(http.StatusOK, "POST", "/v1/contracts/"+k.ID+"/withdraw", holder, "parent-withdraw", nil)
		var robos struct {
			ID      string `json:"id"`
			Consent any    `json:"consent"`
		}
		byRoboOK := func(key string, fields map[string]any) {
			t.Helper()
			r := byRobo(key, fields)
			if r.status != http.StatusCreated {
				t.Fatalf("status %d: %s", r.status, r.body)
			}
			r.json(t, &robos)
			if robos.Consent != nil {
				t.Fatalf("a consent nobody gave: %s", r.body)
			}
			e.must(http.StatusOK, "POST", "/v1/contracts/"+robos.ID+"/refuse", robo, key+"-refuse", map[string]any{"reason": "Проверка"})
		}
		byRoboOK("robo-2", map[string]any{"full_name": "защитин павел олегович"})

		// The holder switches to a passphrase: only the holder, with one.
		path := "/v1/certificates/" + cert.ID + "/protection"
		code(e.do("POST", path, robo, "p-robo", map[string]any{"mode": "forbidden"}), http.StatusForbidden, "forbidden")
		code(e.do("POST", path, e.municipality("mun-novograd"), "p-mun", map[string]any{"mode": "forbidden"}), http.StatusForbidden, "forbidden")
		code(e.do("POST", path, e.holder("someone-else"), "p-other", map[string]any{"mode": "forbidden"}), http.StatusForbidden, "foreign")
		code(e.do("POST", path, holder, "p-bad", map[string]any{"mode": "by_name", "passphrase": "зелёный слон"}), http.StatusBadRequest, "invalid")
		code(e.do("POST", path, holder, "p-none", map[string]any{"mode": "by_passphrase"}), http.StatusBadRequest, "invalid")
		e.validate = false // the document refuses it too
		code(e.do("POST", path, holder, "p-empty", map[string]any{}), http.StatusBadRequest, "invalid")
		e.validate = true
		r := e.must(http.StatusOK, "POST", path, holder, "p-1", map[string]any{"mode": "by_passphrase", "passphrase": "зелёный слон"})
		var got struct{ Protection string }
		r.json(t, &got)
		if got.Protection != "by_passphrase" || strings.Contains(string(r.body), "argon2") || strings.Contains(string(r.body), "слон") {
			t.Fatalf("answer %s", r.body)
		}
		code(byRobo("robo-3", map[string]any{"full_name": "Защитин Павел Олегович"}), http.StatusUnprocessableEntity, "wrong_passphrase")
		byRoboOK("robo-4", map[string]any{"passphrase": "зелёный слон"})
	})
}
