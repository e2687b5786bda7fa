package api_test

import (
	"bytes"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/examples/server/demo"
	"github.com/edufund/edufund/funding"
)

type parameterJSON struct {
	Version                          int64
	Name, Scope, From, Value, Reason string
	Actor                            string
	At                               *time.Time
}

// same compares two versions, their times by value.
func (p parameterJSON) same(q parameterJSON) bool {
	a, b := p, q
	a.At, b.At = nil, nil
	return a == b && (p.At == nil) == (q.At == nil) && (p.At == nil || p.At.Equal(*q.At))
}

type parameterDefJSON struct {
	Name, Scope, Doc string
	ScopeRequired    bool `json:"scope_required"`
	Roles            []string
	FirstOfMonth     bool `json:"first_of_month"`
}

type parameterListJSON struct {
	Items       []parameterJSON
	Definitions []parameterDefJSON
}

// TestParameters lists and sets the region's dated parameters over HTTP:
// every official reads the versions and the definitions; the roles a
// parameter's definition names set it, a municipality for itself only,
// from today on (a parameter of whole months from the 1st of a later
// month); a change applies at once, and a raised adult quota funds the
// queue.
func TestParameters(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		regional, novograd, federal := e.regional(), e.municipality(demo.MunCity), e.federal()
		list := func(token string) parameterListJSON {
			t.Helper()
			var out parameterListJSON
			e.must(http.StatusOK, "GET", "/v1/admin/parameters", token, "", nil).json(t, &out)
			return out
		}

		// The definitions, for a portal's form; the demo region has no versions.
		got := list(regional)
		if len(got.Items) != 0 || len(got.Definitions) != len(enrollment.Parameters) {
			t.Fatalf("the demo region's parameters: %d versions, %d definitions", len(got.Items), len(got.Definitions))
		}
		i := slices.IndexFunc(got.Definitions, func(d parameterDefJSON) bool { return d.Name == "advance_share" })
		if i < 0 || !got.Definitions[i].FirstOfMonth || !slices.Equal(got.Definitions[i].Roles, []string{"regional"}) || got.Definitions[i].Doc == "" {
			t.Fatalf("advance_share's definition: %+v", got.Definitions)
		}

		// The region lowers the advance from April; it applies at once.
		share := map[string]any{"name": "advance_share", "from": "2026-04-01", "value": "0.70", "reason": "regional order 12-p"}
		r := e.must(http.StatusCreated, "POST", "/v1/admin/parameters", regional, "param-share", share)
		var v parameterJSON
		r.json(t, &v)
		if v.Version <= 0 || v.Name != "advance_share" || v.From != "2026-04-01" || v.Value != "0.7" || v.Scope != "" ||
			v.Actor != "regional:operator" || v.Reason != "regional order 12-p" || v.At == nil {
			t.Fatalf("the stored version: %s", r.body)
		}
		if again := e.must(http.StatusCreated, "POST", "/v1/admin/parameters", regional, "param-share", share); !bytes.Equal(again.body, r.body) {
			t.Fatalf("a replay differs:\n%s\n%s", r.body, again.body)
		}
		if p := e.must(http.StatusConflict, "POST", "/v1/admin/parameters", regional, "param-share",
			map[string]any{"name": "advance_share", "from": "2026-05-01", "value": "0.7", "reason": "regional order 12-p"}).problem(t); p.Code != "idempotency_conflict" {
			t.Fatalf("the key reused for another change: %+v", p)
		}
		for _, tok := range []string{regional, novograd, federal} {
			if got := list(tok); len(got.Items) != 1 || !got.Items[0].same(v) {
				t.Fatalf("listed after the change: %+v, want %+v", got.Items, v)
			}
		}
		if s := e.svc.RulesOn(funding.MustDate(2026, time.April, 1)).AdvanceShare; !s.Equal(decimal.RequireFromString("0.7")) {
			t.Errorf("April's advance share is %s", s)
		}
		if s := e.svc.RulesOn(funding.MustDate(2026, time.March, 31)).AdvanceShare; s.Equal(decimal.RequireFromString("0.7")) {
			t.Errorf("March's advance share changed to %s", s)
		}

		// A municipality sets its own minimum age, not another's, and not
		// the region's parameters.
		age := func(mun string) map[string]any {
			return map[string]any{"name": "children.min_age", "scope": mun, "from": "2026-09-01", "value": "6", "reason": "municipal decree 7"}
		}
		e.must(http.StatusCreated, "POST", "/v1/admin/parameters", novograd, "param-age-own", age(demo.MunCity))
		if p := e.must(http.StatusForbidden, "POST", "/v1/admin/parameters", novograd, "param-age-other", age(demo.MunRural)).problem(t); p.Code != "foreign" {
			t.Fatalf("a municipality on another's age: %+v", p)
		}
		if p := e.must(http.StatusForbidden, "POST", "/v1/admin/parameters", novograd, "param-share-mun",
			map[string]any{"name": "advance_share", "from": "2026-05-01", "value": "0.5", "reason": "x"}).problem(t); p.Code != "foreign" {
			t.Fatalf("a municipality on the advance share: %+v", p)
		}
		if p := e.must(http.StatusForbidden, "POST", "/v1/admin/parameters", federal, "param-age-fed", age(demo.MunCity)).problem(t); p.Code != "foreign" {
			t.Fatalf("the federal operator on a child's age: %+v", p)
		}

		// What the rules refuse, each naming its field: the past, a month
		// already begun, a value out of range, a name no parameter has.
		for _, c := range []struct {
			name  string
			body  map[string]any
			field string
		}{
			{"the past", map[string]any{"name": "children.min_age", "from": "2026-03-09", "value": "6", "reason": "x"}, "from"},
			{"not a date", map[string]any{"name": "children.min_age", "from": "2026-02-30", "value": "6", "reason": "x"}, "from"},
			{"mid-month share", map[string]any{"name": "advance_share", "from": "2026-04-15", "value": "0.7", "reason": "x"}, "from"},
			{"this month's share", map[string]any{"name": "advance_share", "from": "2026-03-10", "value": "0.7", "reason": "x"}, "from"},
			{"a share above 1", map[string]any{"name": "advance_share", "from": "2026-04-01", "value": "1.5", "reason": "x"}, "value"},
			{"an unknown name", map[string]any{"name": "advance", "from": "2026-04-01", "value": "0.7", "reason": "x"}, "name"},
			{"no reason", map[string]any{"name": "advance_share", "from": "2026-04-01", "value": "0.7", "reason": " "}, "reason"},
			{"a scope of the region's own", map[string]any{"name": "advance_share", "scope": demo.MunCity, "from": "2026-04-01", "value": "0.7", "reason": "x"}, "scope"},
			{"a stranger municipality", map[string]any{"name": "children.min_age", "scope": "atlantis", "from": "2026-04-01", "value": "6", "reason": "x"}, "scope"},
		} {
			p := e.must(http.StatusBadRequest, "POST", "/v1/admin/parameters", regional, "param-bad-"+strings.ReplaceAll(c.name, " ", "-"), c.body).problem(t)
			if p.Code != "invalid" || p.Field != c.field {
				t.Errorf("%s: %+v, want invalid on %s", c.name, p, c.field)
			}
		}

		// The adult quota: below the certificates the year has funded, refused;
		// raised, the queue is funded at once.
		quota := func(n string) map[string]any {
			return map[string]any{"name": "adult_quota", "from": "2026-03-10", "value": n, "reason": "federal order"}
		}
		if p := e.must(http.StatusUnprocessableEntity, "POST", "/v1/admin/parameters", federal, "param-quota-0", quota("0")).problem(t); p.Code != "limit_below_use" {
			t.Fatalf("a quota below use: %+v", p)
		}
		e.must(http.StatusForbidden, "POST", "/v1/admin/parameters", regional, "param-quota-reg", quota("2"))
		e.must(http.StatusCreated, "POST", "/v1/admin/parameters", federal, "param-quota-2", quota("2"))
		var cab cabinetJSON
		e.must(http.StatusOK, "GET", "/v1/certificates/"+e.demo.CertificateID("adult-queued").String(), e.holder(demo.AdultKuznetsov), "", nil).json(t, &cab)
		if cab.Certificate.Kind != "funded" {
			t.Fatalf("the raised quota left the queue's head %s", cab.Certificate.Kind)
		}
		if n := len(list(regional).Items); n != 3 {
			t.Fatalf("%d versions listed, want 3", n)
		}

		// Who may not: a holder and a provider, on both routes.
		for _, tok := range []string{e.holder(demo.GuardianIvanova), e.provider("Робоцентр")} {
			if p := e.must(http.StatusForbidden, "GET", "/v1/admin/parameters", tok, "", nil).problem(t); p.Code != "forbidden" {
				t.Errorf("GET by %s: %+v", tok[:8], p)
			}
			if p := e.must(http.StatusForbidden, "POST", "/v1/admin/parameters", tok, "param-outsider", share).problem(t); p.Code != "forbidden" {
				t.Errorf("POST: %+v", p)
			}
		}

		// Bodies and queries the document forbids.
		e.validate = false
		for _, c := range []struct {
			name, method, path string
			body               any
			field, detail      string
		}{
			{"bad JSON", "POST", "/v1/admin/parameters", `{"name":`, "body", "is not valid JSON"},
			{"an unknown field", "POST", "/v1/admin/parameters", `{"name":"advance_share","from":"2026-04-01","value":"0.7","reason":"x","by":"federal"}`, "by", "is not a known field"},
			{"a number for a text", "POST", "/v1/admin/parameters", `{"name":"advance_share","from":"2026-04-01","value":0.7,"reason":"x"}`, "value", "must be of JSON type string"},
			{"no date", "POST", "/v1/admin/parameters", `{"name":"children.min_age","value":"6","reason":"x"}`, "from", "is required"},
			{"no body", "POST", "/v1/admin/parameters", ``, "body", "must be a JSON object"},
			{"a query", "GET", "/v1/admin/parameters?name=advance_share", nil, "name", "is not a known query parameter"},
		} {
			key := ""
			if c.method == "POST" {
				key = "param-form-" + strings.ReplaceAll(c.name, " ", "-")
			}
			r := e.do(c.method, c.path, regional, key, c.body)
			if p := r.problem(t); r.status != http.StatusBadRequest || p.Code != "invalid" || p.Field != c.field || !strings.Contains(p.Detail, c.detail) {
				t.Errorf("%s: %d %s, want 400 invalid %s", c.name, r.status, r.body, c.field)
			}
		}
		if n := len(list(regional).Items); n != 3 {
			t.Fatalf("%d versions after the refused requests, want 3", n)
		}
	})
}

// TestComplete: the provider of an adult course reports its completion
// over HTTP; the coverage is paid and the contract closes. The holder may
// not, another provider may not, and a children's contract is not an adult
// course.
func TestComplete(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		orlova := e.holder(demo.AdultOrlova)
		digital := e.provider("Цифровая академия")
		cert := e.demo.CertificateID("adult-issued").String()
		var python string
		for _, g := range e.demo.Groups {
			if strings.HasPrefix(g.Name, "Python") {
				python = g.ID.String()
			}
		}
		e.must(http.StatusOK, "POST", "/v1/certificates/"+cert+"/activate", e.federal(), "complete-activate", nil)
		var k contractJSON
		e.must(http.StatusCreated, "POST", "/v1/applications", orlova, "complete-apply", map[string]any{"certificate_id": cert, "group_id": python}).json(t, &k)
		e.must(http.StatusOK, "POST", "/v1/contracts/"+k.ID+"/confirm", digital, "complete-confirm", nil)
		e.must(http.StatusOK, "POST", "/v1/contracts/"+k.ID+"/accept", orlova, "complete-accept", nil)

		if p := e.must(http.StatusForbidden, "POST", "/v1/contracts/"+k.ID+"/complete", orlova, "complete-holder", nil).problem(t); p.Code != "forbidden" {
			t.Fatalf("the holder completes: %+v", p)
		}
		if p := e.must(http.StatusForbidden, "POST", "/v1/contracts/"+k.ID+"/complete", e.provider("Робоцентр"), "complete-robo", nil).problem(t); p.Code != "foreign" {
			t.Fatalf("another provider completes: %+v", p)
		}
		var done contractJSON
		e.must(http.StatusOK, "POST", "/v1/contracts/"+k.ID+"/complete", digital, "complete-1", nil).json(t, &done)
		if done.ID != k.ID || done.Status != "closed" {
			t.Fatalf("the completed contract: %+v", done)
		}
		var cab cabinetJSON
		e.must(http.StatusOK, "GET", "/v1/certificates/"+cert, orlova, "", nil).json(t, &cab)
		if cab.Money == nil || cab.Money.Spent != k.Price.Cert || cab.Money.Reserved != "0.00" {
			t.Fatalf("after completion the money is %+v, want %s spent", cab.Money, k.Price.Cert)
		}
		if p := e.must(http.StatusConflict, "POST", "/v1/contracts/"+k.ID+"/complete", digital, "complete-2", nil).problem(t); p.Code != "forbidden_transition" {
			t.Fatalf("completed twice: %+v", p)
		}

		// The demo's football is a children's contract, paid month by month.
		if p := e.must(http.StatusUnprocessableEntity, "POST", "/v1/contracts/"+e.demo.Contract.String()+"/complete", e.provider("Спортклуб «Заречье»"),
			"complete-football", nil).problem(t); p.Code != "not_adult_course" {
			t.Fatalf("a children's contract completed: %+v", p)
		}
	})
}
