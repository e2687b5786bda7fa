package api_test

import (
	"net/http"
	"testing"
)

// TestProgramCertificationAPI walks a program through its certification
// over HTTP: the provider submits, the region denies with a reason, the
// corrected program is resubmitted and certified, then withdrawn; the
// refusals are problems with their codes.
func TestProgramCertificationAPI(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		robo, sport, regional := e.provider("Робоцентр"), e.provider("Спортклуб «Заречье»"), e.regional()
		type progJSON struct {
			ID                  string
			Certification       string `json:"certification"`
			CertificationReason string `json:"certification_reason"`
		}
		var p progJSON
		e.must(http.StatusOK, "POST", "/v1/catalog/programs", robo, "cert-new", map[string]any{"name": "Шахматы", "scheme": "supplementary",
			"direction": "social_pedagogical", "registry": "certified", "max_age": 17, "enrolment_open": true}).json(t, &p)
		if p.Certification != "draft" {
			t.Fatalf("a provider's new program: %+v, want a draft", p)
		}
		path := "/v1/catalog/programs/" + p.ID
		step := func(status int, verb, token, key string, body any, want progJSON) {
			t.Helper()
			var got progJSON
			e.must(status, "POST", path+"/"+verb, token, key, body).json(t, &got)
			if want.ID = p.ID; got != want {
				t.Fatalf("%s: %+v, want %+v", verb, got, want)
			}
		}
		problem := func(status int, verb, token, key string, body any, code, field string) {
			t.Helper()
			pr := e.must(status, "POST", path+"/"+verb, token, key, body).problem(t)
			if pr.Code != code || pr.Field != field {
				t.Fatalf("%s: %+v, want %s %s", verb, pr, code, field)
			}
		}
		problem(http.StatusConflict, "certify", regional, "cert-early", nil, "forbidden_transition", "")
		problem(http.StatusForbidden, "submit", sport, "cert-foreign", nil, "foreign", "")
		problem(http.StatusForbidden, "certify", robo, "cert-self", nil, "forbidden", "")
		step(http.StatusOK, "submit", robo, "cert-submit", nil, progJSON{Certification: "submitted"})
		problem(http.StatusBadRequest, "deny", regional, "cert-deny-empty", map[string]any{"reason": "  "}, "invalid", "reason")
		step(http.StatusOK, "deny", regional, "cert-deny", map[string]any{"reason": "Нет учебного плана"},
			progJSON{Certification: "denied", CertificationReason: "Нет учебного плана"})
		step(http.StatusOK, "deny", regional, "cert-deny", map[string]any{"reason": "Нет учебного плана"},
			progJSON{Certification: "denied", CertificationReason: "Нет учебного плана"}) // the same key replays
		step(http.StatusOK, "submit", robo, "cert-resubmit", nil, progJSON{Certification: "submitted"})
		step(http.StatusOK, "certify", regional, "cert-certify", nil, progJSON{Certification: "certified"})
		step(http.StatusOK, "withdraw", robo, "cert-withdraw", nil, progJSON{Certification: "withdrawn"})
		problem(http.StatusConflict, "withdraw", robo, "cert-withdraw-again", nil, "forbidden_transition", "")
		if pr := e.must(http.StatusNotFound, "POST", "/v1/catalog/programs/01939a4e-0000-7000-8000-000000000000/submit", robo, "cert-missing", nil).problem(t); pr.Code != "not_found" {
			t.Fatalf("an unknown program: %+v", pr)
		}
	})
}
