package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/edufund/edufund/catalog"
	"github.com/edufund/edufund/examples/server/api"
	"github.com/edufund/edufund/examples/server/demo"
)

// textProbes are the values TestTextProbe sends to every text field and
// text query parameter. None may give a 5xx; the forbidden ones must be
// refused (4xx) wherever they are sent, so that they are never stored.
var textProbes = []struct {
	name  string
	value string
	// raw is the JSON literal sent in a body in place of value, for what
	// encoding/json cannot write (a lone surrogate, invalid UTF-8).
	raw       string
	forbidden bool
}{
	{name: "NUL", value: "\x00", forbidden: true},
	{name: "NUL inside", value: "a\x00b", forbidden: true},
	{name: "bell and colour escape", value: "a\u0007\u001b[31mb", forbidden: true},
	{name: "terminal title escape", value: "\u001b]0;owned\u0007", forbidden: true},
	{name: "C0 controls", value: "\x01\x1f", forbidden: true},
	{name: "DEL", value: "a\x7f", forbidden: true},
	{name: "C1 CSI", value: "a\u009b31m", forbidden: true},
	{name: "carriage return", value: "a\rb", forbidden: true},
	{name: "line separator", value: "a\u2028b", forbidden: true},
	{name: "lone high surrogate", value: "\xed\xa0\x80", raw: `"\ud800"`, forbidden: true},
	{name: "lone low surrogate", value: "a\xed\xb0\x80", raw: `"a\udc00"`, forbidden: true},
	{name: "invalid UTF-8", value: "a\xffb", raw: "\"a\xffb\"", forbidden: true},
	{name: "replacement character", value: "a\ufffdb", forbidden: true},
	// Longer than the longest text a field takes, a program's description.
	{name: "over-long", value: strings.Repeat("я", catalog.MaxDescriptionLen+1), forbidden: true},
	{name: "line feed", value: "a\nb"}, // allowed in a multi-line text only
	{name: "tab", value: "a\tb"},
	{name: "zero-width space", value: "a\u200bb"},
	{name: "only invisible", value: "\u200b\ufeff\u00ad"},
	{name: "bidi override", value: "\u202eabc"},
	{name: "NFD", value: "и\u0306"},
	{name: "blank", value: "   "},
	{name: "empty", value: ""},
	{name: "SQL", value: "' OR '1'='1' --"},
	{name: "LIKE wildcards", value: `%_\`},
	{name: "emoji", value: "👍🏽"},
}

// textRoute is how TestTextProbe reaches a route: who calls it where, and
// a body (or query) that it accepts, numbered so that each probe is a new
// person, category, ….
type textRoute struct {
	token, path string
	body        func(n int) map[string]any
	query       url.Values
	// refused: the base request is refused by a rule of the state (a
	// prolongation outside its window); its fields are still probed.
	refused bool
}

// TestTextProbe sends every value of textProbes to every text field of
// every POST body (found by reflection over the wire types) and to every
// text query parameter of every GET (found in the OpenAPI document), on
// every engine: none may answer 5xx, and the forbidden values must be
// refused. The outside test saw 500s for NUL in 12 fields; nothing but the
// domain's text rule stands between a field and the SQL text.
func TestTextProbe(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		routes := textRoutes(t, e)
		doc := openAPIDoc(t)
		n := 0
		for _, key := range slices.Sorted(maps.Keys(api.RequestBodies)) {
			fields := stringFields(reflect.TypeOf(api.RequestBodies[key]), nil)
			if len(fields) == 0 {
				continue
			}
			rt, ok := routes[key]
			if !ok {
				t.Fatalf("%s has text fields %v but no textRoute: add one", key, fields)
			}
			n++
			if r := e.do("POST", rt.path, rt.token, fmt.Sprintf("text-base-%d", n), rt.body(n)); r.status >= 300 && !rt.refused {
				t.Fatalf("%s: the base request is refused, so the probes would stop before storage: %d %s", key, r.status, r.body)
			}
			e.validate = false // the probes break the document's rules on purpose
			for _, f := range fields {
				for _, p := range textProbes {
					n++
					r := e.do("POST", rt.path, rt.token, fmt.Sprintf("text-probe-%d", n), probeBody(t, rt.body(n), f, p.value, p.raw))
					checkProbe(t, key+" "+strings.Join(f, "."), p.name, p.forbidden, r)
				}
			}
			e.validate = true
		}
		for _, path := range doc.Paths.InMatchingOrder() {
			op := doc.Paths.Value(path).Get
			if op == nil {
				continue
			}
			for _, prm := range op.Parameters {
				if prm.Value.In != "query" || !prm.Value.Schema.Value.Type.Is("string") {
					continue
				}
				key := "GET " + path
				rt, ok := routes[key]
				if !ok {
					t.Fatalf("%s has the text query parameter %s but no textRoute: add one", key, prm.Value.Name)
				}
				at := path
				if rt.path != "" {
					at = rt.path
				}
				e.must(http.StatusOK, "GET", at+"?"+rt.query.Encode(), rt.token, "", nil)
				e.validate = false
				for _, p := range textProbes {
					q := maps.Clone(rt.query)
					q.Set(prm.Value.Name, p.value)
					checkProbe(t, key+" ?"+prm.Value.Name, p.name, p.forbidden, e.do("GET", at+"?"+q.Encode(), rt.token, "", nil))
				}
				e.validate = true
			}
		}
		for _, path := range doc.Paths.InMatchingOrder() {
			op := doc.Paths.Value(path).Post
			if op == nil || op.RequestBody == nil {
				continue
			}
			if ref := op.RequestBody.Value.Content.Get("application/json").Schema.Ref; ref != "#/components/schemas/Empty" && api.RequestBodies["POST "+path] == nil {
				t.Errorf("POST %s takes %s, missing from api.RequestBodies", path, ref)
			}
		}
	})
}

func checkProbe(t *testing.T, where, probe string, forbidden bool, r resp) {
	t.Helper()
	switch {
	case r.status >= 500:
		t.Errorf("%s = %s: %d %s", where, probe, r.status, r.body)
	case forbidden && r.status < 400:
		t.Errorf("%s = %s: accepted (%d), want it refused", where, probe, r.status)
	}
}

// textRoutes are the routes TestTextProbe drives, keyed like
// api.RequestBodies, with bodies their handlers accept on the demo region.
func textRoutes(t *testing.T, e *env) map[string]textRoute {
	d := e.demo
	regional, federal, sport := e.regional(), e.federal(), e.provider("Спортклуб «Заречье»")
	misha := d.CertificateID("child-active-funded").String()
	contract := d.Contract.String()
	var offer struct {
		Module  struct{ ID string }
		Program struct{ ID string }
	}
	e.must(http.StatusOK, "GET", "/v1/groups/"+d.WalkthroughGroup.String(), regional, "", nil).json(t, &offer)
	var cab struct {
		Certificate struct {
			Number string
			Holder struct {
				FullName string `json:"full_name"`
			}
		}
	}
	e.must(http.StatusOK, "GET", "/v1/certificates/"+misha, regional, "", nil).json(t, &cab)
	var football struct {
		GroupID string `json:"group_id"`
	}
	e.must(http.StatusOK, "GET", "/v1/contracts/"+contract, sport, "", nil).json(t, &football)
	// An application of a child of its own for Робоцентр to refuse: the
	// probes the text rule lets through find it refused already (409).
	const refusing = "guardian-text-refuse"
	child0 := e.issueChild(refusing, "text-refuse-child", "Отказов Пётр Иванович")
	var app contractJSON
	e.must(http.StatusCreated, "POST", "/v1/applications", e.holder(refusing), "text-refuse-submit",
		map[string]any{"certificate_id": child0.ID, "group_id": d.WalkthroughGroup.String()}).json(t, &app)
	// Misha's protection is by name, which lets Робоцентр apply only if he
	// has applied to it before: an application withdrawn at once.
	var before contractJSON
	e.must(http.StatusCreated, "POST", "/v1/applications", e.holder(demo.GuardianIvanova), "text-misha-before",
		map[string]any{"certificate_id": misha, "group_id": d.WalkthroughGroup.String(), "co_pay_accepted": true}).json(t, &before)
	e.must(http.StatusOK, "POST", "/v1/contracts/"+before.ID+"/withdraw", e.holder(demo.GuardianIvanova), "text-misha-withdraw", nil)
	// A draft of Робоцентр's for the region to deny: the probes the text
	// rule lets through find it not submitted (409).
	var draft struct{ ID string }
	e.must(http.StatusOK, "POST", "/v1/catalog/programs", e.provider("Робоцентр"), "text-cert-draft", map[string]any{"name": "Черновик",
		"scheme": "supplementary", "direction": "arts", "registry": "certified", "max_age": 17}).json(t, &draft)
	year := map[string]any{"start": "2026-01-01", "end": "2026-12-31"}
	holder := func(kind string, n int, birth, sex, education string) map[string]any {
		return map[string]any{"person_id": fmt.Sprintf("text-%s-%d", kind, n), "full_name": "Пробный Человек", "birth_date": birth,
			"sex": sex, "citizenship": "RU", "education": education, "region": demo.Region, "municipality": demo.MunCity, "registration": "permanent"}
	}
	child := func(n int) map[string]any { return holder("child", n, "2016-04-01", "male", "general") }
	return map[string]textRoute{
		"POST /v1/certificates": {token: regional, path: "/v1/certificates", body: func(n int) map[string]any {
			return map[string]any{"holder": child(n), "guardian_id": "guardian-text", "municipality": demo.MunCity,
				"category": demo.CategoryCity, "protection": "forbidden", "passphrase": "correct horse"}
		}},
		"POST /v1/applications": {token: e.provider("Робоцентр"), path: "/v1/applications", body: func(int) map[string]any {
			return map[string]any{"certificate_id": misha, "group_id": d.WalkthroughGroup.String(), "start": "2026-04-01",
				"co_pay_accepted": true, "number": cab.Certificate.Number, "full_name": cab.Certificate.Holder.FullName, "passphrase": "unused",
				"consent_version": "ПД-2026.1"}
		}},
		"POST /v1/contracts/{id}/refuse": {token: e.provider("Робоцентр"), path: "/v1/contracts/" + app.ID + "/refuse", body: func(int) map[string]any {
			return map[string]any{"reason": "Группа набрана,\nмест нет"}
		}},
		"POST /v1/certificates/{id}/guardians": {token: e.holder(refusing), path: "/v1/certificates/" + child0.ID + "/guardians", body: func(n int) map[string]any {
			return map[string]any{"guardian_id": fmt.Sprintf("text-second-%d", n)}
		}},
		"POST /v1/certificates/{id}/protection": {token: e.holder(refusing), path: "/v1/certificates/" + child0.ID + "/protection", body: func(n int) map[string]any {
			return map[string]any{"mode": "by_passphrase", "passphrase": fmt.Sprintf("зелёный слон %d", n)}
		}},
		"POST /v1/contracts/{id}/delivery": {token: sport, path: "/v1/contracts/" + contract + "/delivery", body: func(int) map[string]any {
			return map[string]any{"month": "2026-03", "percent": 100}
		}},
		"POST /v1/adult/applications": {token: federal, path: "/v1/adult/applications", body: func(n int) map[string]any {
			return map[string]any{"holder": holder("adult", n, "1990-01-01", "female", "higher"), "category": ""}
		}},
		"POST /v1/certificates/{id}/documents": {token: federal, path: "/v1/certificates/" + d.CertificateID("adult-issued").String() + "/documents",
			body: func(int) map[string]any {
				return map[string]any{"uploaded": true, "valid_reason": "болезнь,\nсправка"}
			}},
		"POST /v1/admin/close": {token: regional, path: "/v1/admin/close", body: func(int) map[string]any {
			return map[string]any{"month": "2026-03"}
		}},
		"POST /v1/eligibility": {token: regional, path: "/v1/eligibility", body: func(n int) map[string]any {
			return map[string]any{"scheme": "supplementary", "holder": child(n), "municipality": demo.MunCity}
		}},
		"POST /v1/admin/budgets": {token: regional, path: "/v1/admin/budgets", body: func(int) map[string]any {
			return map[string]any{"municipality": demo.MunCity, "period": year, "limit": "100000000.00"}
		}},
		"POST /v1/admin/direction-limits": {token: regional, path: "/v1/admin/direction-limits", body: func(int) map[string]any {
			return map[string]any{"municipality": demo.MunCity, "direction": "sport", "period": year, "limit": 0}
		}},
		"POST /v1/admin/categories": {token: regional, path: "/v1/admin/categories", body: func(n int) map[string]any {
			return map[string]any{"code": fmt.Sprintf("text-%d", n), "nominal": "1000.00", "max_count": 10, "max_sum": "10000.00"}
		}},
		"POST /v1/admin/providers": {token: regional, path: "/v1/admin/providers", body: func(int) map[string]any {
			return map[string]any{"name": "Пробная школа", "inn": "5401000077", "municipality": demo.MunCity,
				"address": "ул. Пробная, 1", "phone": "+7 (383) 000-00-00", "email": "probe@example.ru", "site": "https://probe.example.ru",
				"agreements": []any{map[string]any{"municipality": demo.MunCity, "period": year}}}
		}},
		"POST /v1/catalog/programs": {token: regional, path: "/v1/catalog/programs", body: func(int) map[string]any {
			return map[string]any{"provider_id": d.ProviderID("Робоцентр").String(), "name": "Пробная программа", "scheme": "supplementary",
				"direction": "arts", "registry": "general", "min_age": 5, "max_age": 17, "enrolment_open": true, "municipality": demo.MunCity,
				"competency_area": "искусство", "annotation": "Пробная аннотация", "description": "Первая строка\nвторая",
				"goals": "Цели\nи задачи", "tags": []any{"рисование", "живопись"}}
		}},
		// The demo region asks for no review: the probes the text rule
		// lets through find the application not under review (409).
		"POST /v1/certificates/{id}/review": {token: federal, path: "/v1/certificates/" + d.CertificateID("adult-issued").String() + "/review", refused: true,
			body: func(int) map[string]any {
				return map[string]any{"approve": false, "reasons": []any{"Нет документа об образовании"}}
			}},
		"POST /v1/catalog/programs/{id}/deny": {token: regional, path: "/v1/catalog/programs/" + draft.ID + "/deny", refused: true, body: func(int) map[string]any {
			return map[string]any{"reason": "Нет учебного плана,\nнет расписания"}
		}},
		"POST /v1/catalog/modules": {token: regional, path: "/v1/catalog/modules", body: func(int) map[string]any {
			return map[string]any{"program_id": offer.Program.ID, "name": "Пробный модуль", "price": "1000.00", "normative_price": "1000.00", "hours": 10}
		}},
		"POST /v1/catalog/groups": {token: regional, path: "/v1/catalog/groups", body: func(int) map[string]any {
			return map[string]any{"module_id": offer.Module.ID, "name": "Пробная группа", "start": "2026-04-01", "end": "2026-05-31",
				"capacity": 5, "schedule": "пн, ср 16:00", "address": "ул. Пробная, 2",
				"sessions": []any{map[string]any{"weekday": 1, "start": "16:00", "end": "17:00", "place": "каб. 3"}}}
		}},
		// Football is active already: the base request is refused by its
		// state (or Misha's protection), after every field was read.
		"POST /v1/contracts/{id}/activate-paper": {token: sport, path: "/v1/contracts/" + contract + "/activate-paper", refused: true, body: func(n int) map[string]any {
			return map[string]any{"application_number": fmt.Sprintf("З-%d", n), "signed_on": "2026-01-10", "number": cab.Certificate.Number,
				"full_name": cab.Certificate.Holder.FullName, "passphrase": "unused"}
		}},
		"POST /v1/contracts/{id}/prolong": {token: sport, path: "/v1/contracts/" + contract + "/prolong", refused: true, body: func(int) map[string]any {
			return map[string]any{"group_id": football.GroupID}
		}},
		"POST /v1/admin/rollover": {token: regional, path: "/v1/admin/rollover", body: func(int) map[string]any {
			return map[string]any{"period": map[string]any{"start": "2025-01-01", "end": "2025-12-31"}}
		}},
		"POST /v1/guardianships": {token: regional, path: "/v1/guardianships", body: func(n int) map[string]any {
			return map[string]any{"guardian_id": "guardian-text", "child_id": fmt.Sprintf("text-child-%d", n)}
		}},
		"POST /v1/admin/tokens/revoke": {token: regional, path: "/v1/admin/tokens/revoke", body: func(n int) map[string]any {
			return map[string]any{"jti": fmt.Sprintf("text-jti-%d", n)}
		}},
		"POST /v1/admin/parameters": {token: regional, path: "/v1/admin/parameters", body: func(int) map[string]any {
			return map[string]any{"name": "children.min_age", "scope": demo.MunCity, "from": "2026-09-01", "value": "6", "reason": "пробное решение"}
		}},
		"POST /v1/admin/what-if": {token: regional, path: "/v1/admin/what-if", body: func(int) map[string]any {
			return map[string]any{"parameter": map[string]any{"name": "registry_quota", "scope": "general", "from": "2026-09-01", "value": "2", "reason": "пробное решение"}}
		}},
		"GET /v1/certificates/{id}": {token: regional, path: "/v1/certificates/" + misha, query: url.Values{"on": {"2026-03-01"}}},
		// The navigator's search is public: probed with no token.
		"GET /v1/catalog": {query: url.Values{"q": {"робототехника"}, "municipality": {demo.MunCity}}},
		"GET /v1/certificates/{id}/search": {token: regional, path: "/v1/certificates/" + misha + "/search",
			query: url.Values{"q": {"робототехника"}, "municipality": {demo.MunCity}}},
		"GET /v1/invoices": {token: regional, query: url.Values{"month": {"2026-03"}}},
		// The exports: the text parameters reach the service's filters.
		"GET /v1/exports/invoice-lines": {token: regional, query: url.Values{"month": {"2026-03"}, "municipality": {demo.MunCity}, "format": {"csv"}}},
		"GET /v1/exports/contracts":     {token: regional, query: url.Values{"municipality": {demo.MunCity}, "format": {"xlsx"}}},
		"GET /v1/exports/certificates":  {token: regional, query: url.Values{"municipality": {demo.MunCity}, "status": {"active"}}},
		"GET /v1/exports/completions":   {token: federal, query: url.Values{"from": {"2026-01-01"}, "to": {"2026-12-31"}}},
		// The football is a children's contract: the completion is refused
		// (422) after the document's fields passed the text rule.
		"POST /v1/contracts/{id}/complete": {token: sport, path: "/v1/contracts/" + contract + "/complete", refused: true, body: func(int) map[string]any {
			return map[string]any{"document_number": "ПК 0000001", "document_date": "2026-03-10"}
		}},
		"GET /v1/adult/reviews":  {token: federal, query: url.Values{"status": {"pending"}}},
		"GET /v1/certificates":   {token: regional, query: url.Values{"municipality": {demo.MunCity}, "limit": {"10"}}},
		"GET /v1/contracts":      {token: regional, query: url.Values{"municipality": {demo.MunCity}, "status": {"requested,active"}}},
		"GET /v1/audit/postings": {token: regional, query: url.Values{"municipality": {demo.MunCity}, "limit": {"10"}}},
		"POST /v1/notifications/read": {token: regional, path: "/v1/notifications/read", body: func(int) map[string]any {
			return map[string]any{"ids": []string{misha}}
		}},
		"POST /v1/admin/subscriptions": {token: regional, path: "/v1/admin/subscriptions", body: func(n int) map[string]any {
			return map[string]any{"url": fmt.Sprintf("https://accounting.example.ru/hook/%d", n), "secret": strings.Repeat("s", 40),
				"role": "municipality", "tenant": demo.MunCity, "types": []string{"invoice.issued"}}
		}},
		"POST /v1/admin/authorisations": {token: regional, path: "/v1/admin/authorisations", body: func(int) map[string]any {
			return map[string]any{"organisation_id": "0190f000-0000-7000-8000-00000000b001", "name": "МФЦ «Мои документы»",
				"municipality": demo.MunCity, "may_activate": true, "from": "2026-01-01", "to": "2026-12-31"}
		}},
		"GET /v1/admin/authorisations": {token: regional, query: url.Values{"municipality": {demo.MunCity}}},
		"GET /v1/events":               {token: regional, query: url.Values{"municipality": {demo.MunCity}, "type": {"contract.requested"}, "limit": {"10"}}},
		"GET /v1/notifications":        {token: regional, query: url.Values{"limit": {"10"}}},

		// The officials' lists and the providers' (admin_reads.go).
		"GET /v1/admin/budgets":          {token: regional, query: url.Values{"municipality": {demo.MunCity}}},
		"GET /v1/admin/direction-limits": {token: regional, query: url.Values{"municipality": {demo.MunCity}, "direction": {"sport"}}},
		"GET /v1/providers":              {token: regional, query: url.Values{"municipality": {demo.MunCity}}},
		"GET /v1/providers/{id}/programs": {token: regional, path: "/v1/providers/" + d.ProviderID("Робоцентр").String() + "/programs",
			query: url.Values{"limit": {"10"}}},
		// March has no invoice of the football's: the moves are refused
		// (404) after their fields passed the text rule.
		"POST /v1/invoices/accept": {token: e.municipality(demo.MunCity), path: "/v1/invoices/accept", refused: true, body: func(int) map[string]any {
			return map[string]any{"scheme": "supplementary", "municipality": demo.MunCity, "provider_id": d.ProviderID("Спортклуб «Заречье»").String(), "month": "2026-03", "kind": "advance"}
		}},
		"POST /v1/invoices/pay": {token: e.municipality(demo.MunCity), path: "/v1/invoices/pay", refused: true, body: func(int) map[string]any {
			return map[string]any{"scheme": "supplementary", "municipality": demo.MunCity, "provider_id": d.ProviderID("Спортклуб «Заречье»").String(), "month": "2026-03", "kind": "advance"}
		}},
	}
}

// stringFields lists the JSON paths of the string fields of the wire type
// t; "0" stands for a slice's first element.
func stringFields(t reflect.Type, path []string) [][]string {
	switch t.Kind() {
	case reflect.Pointer:
		return stringFields(t.Elem(), path)
	case reflect.Slice:
		return stringFields(t.Elem(), slices.Concat(path, []string{"0"}))
	case reflect.String:
		return [][]string{path}
	case reflect.Struct:
		var out [][]string
		for f := range t.Fields() {
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "-" || !f.IsExported() {
				continue
			}
			out = append(out, stringFields(f.Type, slices.Concat(path, []string{name}))...)
		}
		return out
	}
	return nil
}

// probeBody is body with the string at path replaced by value (or, when
// raw is set, by the JSON literal raw), encoded.
func probeBody(t *testing.T, body map[string]any, path []string, value, raw string) []byte {
	const mark = "\uE000probe\uE000"
	if raw != "" {
		value = mark
	}
	b, err := json.Marshal(with(body, path, value))
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Replace(b, []byte(`"`+mark+`"`), []byte(raw), 1)
}

// with returns a copy of node with the value at path set to v, making the
// objects and the first slice elements that are missing.
func with(node any, path []string, v any) any {
	if len(path) == 0 {
		return v
	}
	if path[0] == "0" {
		s, _ := node.([]any)
		var first any
		if len(s) > 0 {
			first = s[0]
		}
		return append([]any{with(first, path[1:], v)}, s[min(1, len(s)):]...)
	}
	m, _ := node.(map[string]any)
	out := maps.Clone(m)
	if out == nil {
		out = map[string]any{}
	}
	out[path[0]] = with(m[path[0]], path[1:], v)
	return out
}

func openAPIDoc(t *testing.T) *openapi3.T {
	doc, err := openapi3.NewLoader().LoadFromData(api.OpenAPI())
	if err != nil {
		t.Fatal(err)
	}
	return doc
}
