package api

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/edufund/edufund/enrollment"
)

// edgeStatus is the status of each code a handler answers itself, outside
// the error table.
var edgeStatus = map[string]int{
	CodeIdempotencyKeyMissing: http.StatusBadRequest,
	CodeIdempotencyKeyInvalid: http.StatusBadRequest,
	CodeUnauthenticated:       http.StatusUnauthorized,
}

// statusOf is the status of a problem code: the error table's, or the edge's.
func statusOf(code string) (int, bool) {
	if s, ok := edgeStatus[code]; ok {
		return s, true
	}
	for _, row := range errorTable {
		if slices.Contains(row.codes, code) {
			return row.status, true
		}
	}
	return 0, false
}

// problems derives the codes of the 4xx problems rt can answer, by status:
// those of every route of its access (invalid input and authentication;
// the Idempotency-Key of a write; a public route's only invalid input is
// a bad parameter in its path), a role refused unless every role may
// call it, an unknown id in its path, and its refusals.
func (rt route) problems() (map[int][]string, error) {
	var codes []string
	switch {
	case rt.access != public:
		codes = append(codes, CodeInvalid, CodeUnauthenticated)
	case strings.Contains(rt.pattern, "{"):
		codes = append(codes, CodeInvalid) // a public route's bad path parameter
	}
	if rt.access == write {
		codes = append(codes, CodeIdempotencyKeyMissing, CodeIdempotencyKeyInvalid)
	}
	if rt.access != public && !slices.Equal(rt.roles, Roles) {
		codes = append(codes, CodeForbidden)
	}
	if strings.Contains(rt.pattern, "{id}") {
		codes = append(codes, enrollment.CodeNotFound)
	}
	out := map[int][]string{}
	for _, c := range append(codes, rt.refusals...) {
		s, ok := statusOf(c)
		if !ok {
			return nil, fmt.Errorf("code %s has no status", c)
		}
		if s < 400 || s > 499 {
			return nil, fmt.Errorf("code %s has status %d, not a 4xx", c, s)
		}
		if !slices.Contains(out[s], c) {
			out[s] = append(out[s], c)
		}
	}
	return out, nil
}

func loadOpenAPI(t *testing.T) *openapi3.T {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(openAPIDocument)
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return doc
}

// stringList reads an extension that holds a list of strings.
func stringList(ext map[string]any, name string) ([]string, bool) {
	raw, ok := ext[name].([]any)
	if !ok {
		return nil, false
	}
	out := []string{}
	for _, v := range raw {
		s, ok := v.(string)
		if !ok {
			return nil, false
		}
		out = append(out, s)
	}
	return out, true
}

// TestRoutesMatchOpenAPI holds the route table and the OpenAPI document
// against each other both ways: every route is a documented operation and
// every documented operation a route, with the route's name as its
// operationId, its roles as x-roles, no security for a public route and an
// Idempotency-Key for a write only, and each 4xx status the route can
// answer with its problem codes (x-problem-codes, and in the description).
// A route or an operation added on one side only fails it.
func TestRoutesMatchOpenAPI(t *testing.T) {
	doc := loadOpenAPI(t)
	ops := map[string]*openapi3.Operation{}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			ops[method+" "+path] = op
		}
	}
	names := map[string]string{}
	for _, rt := range routeTable {
		key := rt.method + " " + rt.pattern
		if other, ok := names[rt.op]; ok {
			t.Errorf("%s and %s are both named %s", other, key, rt.op)
		}
		names[rt.op] = key
		op, ok := ops[key]
		if !ok {
			t.Errorf("route %s (%s) is not an operation of the OpenAPI document", key, rt.op)
			continue
		}
		delete(ops, key)
		if op.OperationID != rt.op {
			t.Errorf("%s: operationId %q, the route is %s", key, op.OperationID, rt.op)
		}
		roles := []string{}
		for _, r := range rt.roles {
			roles = append(roles, string(r))
		}
		if got, ok := stringList(op.Extensions, "x-roles"); !ok || !slices.Equal(got, roles) {
			t.Errorf("%s: x-roles %v, the route admits %v", key, op.Extensions["x-roles"], roles)
		}
		if open := op.Security != nil && len(*op.Security) == 0; open != (rt.access == public) {
			t.Errorf("%s: the document says it needs no token: %v; the route is public: %v", key, open, rt.access == public)
		}
		keyed := slices.ContainsFunc(op.Parameters, func(p *openapi3.ParameterRef) bool {
			return p.Value.In == "header" && p.Value.Name == "Idempotency-Key" && p.Value.Required
		})
		if keyed != (rt.access == write) {
			t.Errorf("%s: the document requires an Idempotency-Key: %v; the route is a write: %v", key, keyed, rt.access == write)
		}
		checkProblems(t, key, rt, op)
	}
	for _, key := range slices.Sorted(maps.Keys(ops)) {
		t.Errorf("operation %s (%s) of the OpenAPI document has no route", key, ops[key].OperationID)
	}
}

// checkProblems compares the 4xx responses op documents with those rt can answer.
func checkProblems(t *testing.T, key string, rt route, op *openapi3.Operation) {
	t.Helper()
	want, err := rt.problems()
	if err != nil {
		t.Errorf("%s: %v", key, err)
		return
	}
	for status := range op.Responses.Map() {
		n, err := strconv.Atoi(status)
		if err != nil || n < 400 || n > 499 {
			continue
		}
		if _, ok := want[n]; !ok {
			t.Errorf("%s: the document lists %d, which the route does not answer", key, n)
		}
	}
	for _, status := range slices.Sorted(maps.Keys(want)) {
		codes := want[status]
		ref := op.Responses.Status(status)
		if ref == nil || ref.Value == nil {
			t.Errorf("%s: the document lists no %d; the route answers it with %v", key, status, codes)
			continue
		}
		got, _ := stringList(ref.Value.Extensions, "x-problem-codes")
		if !slices.Equal(got, codes) {
			t.Errorf("%s: %d lists x-problem-codes %v, the route answers %v", key, status, got, codes)
		}
		for _, c := range codes {
			if d := ref.Value.Description; d == nil || !strings.Contains(*d, "`"+c+"`") {
				t.Errorf("%s: the description of %d does not name code %s", key, status, c)
			}
		}
	}
}
