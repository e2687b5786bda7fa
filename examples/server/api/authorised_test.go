package api_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/edufund/edufund/examples/server/api"
	"github.com/edufund/edufund/examples/server/demo"
)

// TestAuthorisedOnlyIssues: an authorised organisation's only writes are
// the issue and the activation of a certificate; every other operation
// that changes state refuses it before anything else.
func TestAuthorisedOnlyIssues(t *testing.T) {
	e := newEnv(t, storeKinds()[0])
	e.validate = false // empty bodies: the role is refused before a body is read
	school := e.token(api.RoleAuthorised, "school7-clerk", e.demo.Authorised.String())
	var doc struct {
		Paths map[string]map[string]json.RawMessage
	}
	e.must(http.StatusOK, "GET", "/v1/openapi.json", "", "", nil).json(t, &doc)
	allowed := map[string]bool{"Issue": true, "ActivateCertificate": true}
	writes := 0
	for path, ops := range doc.Paths {
		for method, raw := range ops {
			var op struct {
				OperationID string   `json:"operationId"`
				Roles       []string `json:"x-roles"`
				Parameters  []struct {
					Ref string `json:"$ref"`
				}
			}
			if err := json.Unmarshal(raw, &op); err != nil {
				continue // not an operation
			}
			if !slices.ContainsFunc(op.Parameters, func(p struct {
				Ref string `json:"$ref"`
			}) bool {
				return strings.HasSuffix(p.Ref, "/IdempotencyKey")
			}) {
				continue
			}
			writes++
			admitted := slices.Contains(op.Roles, string(api.RoleAuthorised))
			if admitted != allowed[op.OperationID] {
				t.Errorf("%s %s (%s): admits the authorised organisation %v, want %v", strings.ToUpper(method), path, op.OperationID, admitted, allowed[op.OperationID])
			}
			if admitted {
				continue
			}
			url := strings.ReplaceAll(path, "{id}", uuid.NewString())
			r := e.do(strings.ToUpper(method), url, school, "school-"+op.OperationID, map[string]any{})
			if r.status != http.StatusForbidden || r.problem(t).Code != "forbidden" {
				t.Errorf("school %s %s → %d %s, want 403 forbidden", strings.ToUpper(method), url, r.status, r.body)
			}
		}
	}
	if writes < 20 {
		t.Fatalf("only %d writes in the document", writes)
	}
}

// TestAuthorisedIssue: the school issues a Novograd child's certificate on
// a paper application, activates it and reads it;
// once Novograd revokes the authorisation its next issue is refused with
// not_authorised, and so is an organisation nobody authorised.
func TestAuthorisedIssue(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		school := e.token(api.RoleAuthorised, "school7-clerk", e.demo.Authorised.String())
		novograd := e.municipality(demo.MunCity)
		body := func(person string) map[string]any {
			return map[string]any{"holder": map[string]any{"person_id": person, "full_name": "Смирнова Анна Сергеевна", "birth_date": "2017-05-20",
				"municipality": demo.MunCity}, "category": demo.CategoryCity}
		}
		var out issueJSON
		e.must(http.StatusCreated, "POST", "/v1/certificates", school, "paper-1", body("child-paper-a")).json(t, &out)
		e.must(http.StatusOK, "POST", "/v1/certificates/"+out.Certificate.ID+"/activate", school, "paper-1-activate", nil)
		e.must(http.StatusOK, "GET", "/v1/certificates/"+out.Certificate.ID, school, "", nil)

		var list struct {
			Items []struct {
				ID             string
				OrganisationID string `json:"organisation_id"`
				MayActivate    bool   `json:"may_activate"`
			}
		}
		e.must(http.StatusOK, "GET", "/v1/admin/authorisations", school, "", nil).json(t, &list)
		if len(list.Items) != 1 || list.Items[0].OrganisationID != e.demo.Authorised.String() || !list.Items[0].MayActivate {
			t.Fatalf("the school's authorisations: %+v", list.Items)
		}
		e.must(http.StatusOK, "POST", "/v1/admin/authorisations/"+list.Items[0].ID+"/revoke", novograd, "paper-revoke", nil)
		if p := e.must(http.StatusForbidden, "POST", "/v1/certificates", school, "paper-2", body("child-paper-b")).problem(t); p.Code != "not_authorised" {
			t.Errorf("issue after revocation: %+v", p)
		}
		stranger := e.token(api.RoleAuthorised, "mfc", uuid.NewString())
		if p := e.must(http.StatusForbidden, "POST", "/v1/certificates", stranger, "paper-3", body("child-paper-c")).problem(t); p.Code != "not_authorised" {
			t.Errorf("issue by an organisation nobody authorised: %+v", p)
		}
	})
}

// TestAuthorisedToken: a token of role authorised names the organisation
// by its id; anything else is refused when the token is signed.
func TestAuthorisedToken(t *testing.T) {
	e := newEnv(t, storeKinds()[0])
	for tenant, ok := range map[string]bool{e.demo.Authorised.String(): true, "": false, "school-7": false} {
		_, err := e.auth.Issue(api.Principal{Role: api.RoleAuthorised, Subject: "clerk", Tenant: tenant})
		if (err == nil) != ok {
			t.Errorf("tenant %q: %v, want ok %v", tenant, err, ok)
		}
	}
}
