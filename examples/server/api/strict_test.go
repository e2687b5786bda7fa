package api_test

import (
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/google/uuid"

	"github.com/edufund/edufund/examples/server/api"
	"github.com/edufund/edufund/examples/server/demo"
)

// badBody is a body every POST route must refuse with 400 invalid, naming
// field and saying rule.
type badBody struct {
	name, body, field, rule string
}

// badBodies are the bodies a POST route taking schema must refuse: a top
// level that is not an object, and a key given twice at every level the
// schema has (with the field names of the schema, so that the last value
// would otherwise be taken; "x" where it has none).
func badBodies(schema *openapi3.Schema, required bool) []badBody {
	const object = "must be a JSON object"
	bs := []badBody{
		{"null", `null`, "body", object},
		{"array", `[]`, "body", object},
		{"string", `"x"`, "body", object},
	}
	if required {
		bs = append(bs, badBody{"empty", ``, "body", object})
	}
	const twice = "must be given once"
	names := propertyNames(schema)
	if len(names) == 0 {
		names = []string{"x"}
	}
	first, upper := names[0], strings.ToUpper(names[0])
	bs = append(bs,
		badBody{"top twice", fmt.Sprintf(`{%q:null,%q:null}`, first, first), first, twice},
		badBody{"top twice in other case", fmt.Sprintf(`{%q:null,%q:null}`, first, upper), upper, twice},
	)
	for _, name := range names {
		prop := schema.Properties[name]
		if prop == nil || prop.Value == nil {
			continue
		}
		if inner := propertyNames(prop.Value); len(inner) > 0 {
			bs = append(bs, badBody{"nested twice", fmt.Sprintf(`{%q:{%q:null,%q:null}}`, name, inner[0], inner[0]), name + "." + inner[0], twice})
		}
		if items := prop.Value.Items; items != nil && items.Value != nil {
			if inner := propertyNames(items.Value); len(inner) > 0 {
				bs = append(bs, badBody{"twice in an array's object",
					fmt.Sprintf(`{%q:[{%q:null},{%q:null,%q:null}]}`, name, inner[0], inner[0], inner[0]), name + "[1]." + inner[0], twice})
			}
		}
	}
	return bs
}

func propertyNames(s *openapi3.Schema) []string { return slices.Sorted(maps.Keys(s.Properties)) }

// TestStrictBodies sends every POST route of the OpenAPI document that
// takes a body, as every role, bodies that are not one JSON object or give
// a key twice: each is refused with 400 invalid naming the body or the key's
// path (403 for a role the route refuses before it reads the body), never
// decoded with the last value winning.
func TestStrictBodies(t *testing.T) {
	doc, err := openapi3.NewLoader().LoadFromData(api.OpenAPI())
	if err != nil {
		t.Fatal(err)
	}
	eachStore(t, func(t *testing.T, e *env) {
		e.validate = false // the bodies break the document on purpose
		tokens := map[api.Role]string{
			api.RoleHolder: e.holder(demo.GuardianIvanova), api.RoleProvider: e.provider("Робоцентр"),
			api.RoleMunicipality: e.municipality(demo.MunCity), api.RoleRegional: e.regional(), api.RoleFederal: e.federal(),
		}
		routes := 0
		for path, item := range doc.Paths.Map() {
			op := item.Post
			if op == nil || op.RequestBody == nil {
				continue
			}
			routes++
			rb := op.RequestBody.Value
			url := strings.ReplaceAll(path, "{id}", uuid.NewString())
			for _, b := range badBodies(rb.Content.Get("application/json").Schema.Value, rb.Required) {
				refused := 0
				for role, tok := range tokens {
					r := e.do("POST", url, tok, "strict-"+uuid.NewString(), b.body)
					p := r.problem(t)
					switch {
					case r.status == http.StatusForbidden && p.Code == "forbidden":
					case r.status == http.StatusBadRequest && p.Code == "invalid" && p.Field == b.field && strings.Contains(p.Detail, b.rule):
						refused++
					default:
						t.Errorf("POST %s %s as %s: %d %s, want 400 invalid %q %q", path, b.name, role, r.status, r.body, b.field, b.rule)
					}
				}
				if refused == 0 {
					t.Errorf("POST %s %s: no role reached the body", path, b.name)
				}
			}
		}
		if routes < 25 {
			t.Fatalf("only %d POST routes with a body in the document", routes)
		}
	})
}

// TestBodyShape: the body check names the path of a key given twice at any
// depth, bounds the nesting, and refuses what is not exactly one object.
func TestBodyShape(t *testing.T) {
	deep := func(n int) string { return `{"x":` + strings.Repeat("[", n) + strings.Repeat("]", n) + `}` }
	// wide is an object of month and the keys k0…k19, then the extra keys.
	wide := func(extra string) string {
		b := `{"month":"2026-01"`
		for i := range 20 {
			b += fmt.Sprintf(`,"k%d":%d`, i, i)
		}
		return b + extra + "}"
	}
	tests := []struct {
		name, body, field, detail string
	}{
		{"twice in a later array element", `{"x":[{"y":1},{"y":1,"z":{"y":2,"y":3}}]}`, "x[1].z.y", "must be given once"},
		{"twice with unknown fields", `{"a":1,"b":2,"a":3}`, "a", "must be given once"},
		{"an empty key twice", `{"a":{"":1,"":2}}`, `a.""`, "must be given once"},
		{"a Kelvin sign folds to k", "{\"k\":1,\"\u212a\":2}", "\u212a", "must be given once"},
		{"an escaped key is its text", `{"month":"2026-01","mont\u0068":"2026-02"}`, "month", "must be given once"},
		{"the same key in sibling objects", `{"a":{"k":1},"b":{"k":1},"month":"2026-01","month":"2026-02"}`, "month", "must be given once"},
		{"many keys, one twice", wide(`,"k7":1`), "k7", "must be given once"},
		{"many keys, one twice in other case", wide("," + `"\u212a3":1`), "\u212a3", "must be given once"},
		{"many keys, none twice", wide(""), "k0", "is not a known field"},
		{"deep nesting", deep(40), "x" + strings.Repeat("[0]", 31), "must nest at most 32 levels"},
		{"a hostile nesting", deep(9000), "x" + strings.Repeat("[0]", 31), "must nest at most 32 levels"},
		{"a second value", `{"month":"2026-01"} {}`, "body", "must hold exactly one JSON value"},
		{"trailing garbage", `{"month":"2026-01"} x`, "body", "must hold exactly one JSON value"},
		{"cut short", `{"month":`, "body", "is not valid JSON (it ends early)"},
		{"not JSON", `{"month" "2026-01"}`, "body", "is not valid JSON (at byte 10)"},
		{"a number", `1`, "body", "must be a JSON object"},
	}
	eachStore(t, func(t *testing.T, e *env) {
		e.validate = false
		for _, tt := range tests {
			r := e.do("POST", "/v1/admin/close", e.regional(), "shape-"+uuid.NewString(), tt.body)
			p := r.problem(t)
			if r.status != http.StatusBadRequest || p.Code != "invalid" || p.Field != tt.field || p.Detail != tt.field+": "+tt.detail {
				t.Errorf("%s: %d %s, want 400 invalid %q: %q", tt.name, r.status, r.body, tt.field, tt.detail)
			}
		}
		// A number beyond float64 passes the check: the typed decode judges it.
		r := e.do("POST", "/v1/admin/close", e.regional(), "shape-"+uuid.NewString(), `{"month":1e400}`)
		if p := r.problem(t); r.status != http.StatusBadRequest || p.Field != "month" {
			t.Errorf("1e400: %d %s, want 400 on month", r.status, r.body)
		}
	})
}
