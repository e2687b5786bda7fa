package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/enrollment/batch"
	"github.com/edufund/edufund/examples/server/api"
	"github.com/edufund/edufund/examples/server/demo"
	"github.com/edufund/edufund/funding"
	"github.com/edufund/edufund/storage"
	"github.com/edufund/edufund/storage/storagetest"
)

// testNow is the clock of every test: 10 March 2026, so that 10 of the
// period's 12 months remain.
var testNow = time.Date(2026, time.March, 10, 12, 0, 0, 0, time.UTC)

var testKey = []byte("test-signing-key-of-at-least-32-bytes!!")

type env struct {
	t    testing.TB
	srv  *httptest.Server
	h    *api.Handler
	auth *api.Auth
	// revocations is the API's revocation list.
	revocations *api.Revocations
	svc         *enrollment.Service
	clock       *funding.FixedClock
	demo        demo.Result
	db          *storage.DB
	// submitted counts the applications the API sent to its Submitter.
	submitted *atomic.Int64
	// validate checks every request and response against the OpenAPI document.
	validate bool
	router   routers.Router
}

var (
	docOnce   sync.Once
	docRouter routers.Router
	docErr    error
)

func openAPIRouter(t testing.TB) routers.Router {
	docOnce.Do(func() {
		loader := openapi3.NewLoader()
		doc, err := loader.LoadFromData(api.OpenAPI())
		if err != nil {
			docErr = err
			return
		}
		if err := doc.Validate(context.Background()); err != nil {
			docErr = err
			return
		}
		// The tests' servers listen on ports of their own, not on the
		// document's server.
		doc.Servers = nil
		docRouter, docErr = legacy.NewRouter(doc)
	})
	if docErr != nil {
		t.Fatalf("openapi document: %v", docErr)
	}
	return docRouter
}

// storeKinds are the stores the API tests run on: SQLite in memory always,
// PostgreSQL when EDUFUND_TEST_POSTGRES is set.
func storeKinds() []string {
	ks := []string{storagetest.SQLiteMemory}
	for _, k := range storagetest.Kinds() {
		if k == storagetest.Postgres {
			ks = append(ks, k)
		}
	}
	return ks
}

func newEnv(t testing.TB, kind string) *env {
	t.Helper()
	db := storagetest.Open(t, kind)
	clock := &funding.FixedClock{T: testNow}
	svc := enrollment.NewService(db, clock, demo.Config(enrollment.DefaultConfig()))
	res, err := demo.Load(context.Background(), svc, funding.DateOf(testNow))
	if err != nil {
		t.Fatalf("demo: %v", err)
	}
	const ttl = 2000 * time.Hour // the tests move the clock by weeks
	auth, err := api.NewAuth(testKey, ttl, ttl)
	if err != nil {
		t.Fatal(err)
	}
	now := func() time.Time { return clock.T }
	auth = auth.WithClock(now)
	revocations := api.NewRevocations(db, ttl, now)
	// Applications go through a Batcher, as in the reference server.
	batcher := batch.NewBatcher(svc, batch.BatcherOptions{})
	t.Cleanup(batcher.Close)
	submitted := new(atomic.Int64)
	h, err := api.New(api.Config{Service: svc, Submitter: counting{batcher, submitted}, Store: db, Auth: auth, Revocations: revocations,
		Ready: func(ctx context.Context) error { return db.Bun().PingContext(ctx) }})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	e := &env{t: t, srv: srv, h: h, auth: auth, revocations: revocations, svc: svc, clock: clock, demo: res, db: db, submitted: submitted, validate: true, router: openAPIRouter(t)}
	t.Cleanup(func() {
		if n := h.Panics(); n != 0 {
			t.Errorf("%d requests ended in a recovered panic", n)
		}
	})
	return e
}

// counting is a Submitter that counts the applications it sends on.
type counting struct {
	api.Submitter
	n *atomic.Int64
}

func (c counting) Submit(ctx context.Context, key string, r enrollment.SubmitRequest) (enrollment.Contract, error) {
	c.n.Add(1)
	return c.Submitter.Submit(ctx, key, r)
}

func (e *env) token(role api.Role, subject, tenant string) string {
	e.t.Helper()
	tok, err := e.auth.Issue(api.Principal{Role: role, Subject: subject, Tenant: tenant})
	if err != nil {
		e.t.Fatal(err)
	}
	return tok
}

// Tokens of the demo principals.
func (e *env) holder(tenant string) string { return e.token(api.RoleHolder, tenant, tenant) }
func (e *env) provider(name string) string {
	return e.token(api.RoleProvider, "admin", e.demo.ProviderID(name).String())
}
func (e *env) municipality(code string) string {
	return e.token(api.RoleMunicipality, code+"-officer", code)
}
func (e *env) regional() string { return e.token(api.RoleRegional, "operator", "") }
func (e *env) federal() string  { return e.token(api.RoleFederal, "operator", "") }

type resp struct {
	status int
	header http.Header
	body   []byte
}

func (r resp) json(t testing.TB, v any) {
	t.Helper()
	// A reused target is zeroed first: Unmarshal keeps the fields of old
	// slice elements that the new document leaves out.
	if rv := reflect.ValueOf(v); rv.Kind() == reflect.Pointer && !rv.IsNil() {
		rv.Elem().SetZero()
	}
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

func (r resp) problem(t testing.TB) api.Problem {
	t.Helper()
	var p api.Problem
	r.json(t, &p)
	return p
}

// eachStore runs fn as a subtest on a fresh env of every store kind.
func eachStore(t *testing.T, fn func(t *testing.T, e *env)) {
	for _, kind := range storeKinds() {
		t.Run(kind, func(t *testing.T) { fn(t, newEnv(t, kind)) })
	}
}

// do sends a request; body is JSON-encoded unless it is a string or []byte
// (sent as is). key "" sends no Idempotency-Key.
func (e *env) do(method, path, token, key string, body any) resp {
	e.t.Helper()
	var raw []byte
	switch b := body.(type) {
	case nil:
	case string:
		raw = []byte(b)
	case []byte:
		raw = b
	default:
		var err error
		if raw, err = json.Marshal(b); err != nil {
			e.t.Fatal(err)
		}
	}
	req, err := http.NewRequest(method, e.srv.URL+path, bytes.NewReader(raw))
	if err != nil {
		e.t.Fatal(err)
	}
	if raw != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	var (
		input *openapi3filter.RequestValidationInput
		route *routers.Route
	)
	if e.validate {
		var (
			params map[string]string
			err    error
		)
		route, params, err = e.router.FindRoute(req)
		if err != nil {
			e.t.Fatalf("%s %s: not in the OpenAPI document: %v", method, path, err)
		}
		input = &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route,
			Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}}
		if err := openapi3filter.ValidateRequest(context.Background(), input); err != nil {
			e.t.Fatalf("%s %s: request does not match the OpenAPI document: %v", method, path, err)
		}
		req.Body = io.NopCloser(bytes.NewReader(raw))
	}
	res, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	out, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	if e.validate {
		rin := &openapi3filter.ResponseValidationInput{RequestValidationInput: input, Status: res.StatusCode, Header: res.Header,
			Options: &openapi3filter.Options{IncludeResponseStatus: true}}
		rin.SetBodyBytes(out)
		if err := openapi3filter.ValidateResponse(context.Background(), rin); err != nil {
			e.t.Fatalf("%s %s → %d %s: response does not match the OpenAPI document: %v", method, path, res.StatusCode, out, err)
		}
		checkProblemCode(e.t, method, path, route.Operation, res.StatusCode, out)
	}
	if ct := res.Header.Get("Content-Type"); res.StatusCode >= 400 && !strings.HasPrefix(ct, "application/problem+json") {
		e.t.Fatalf("%s %s → %d with Content-Type %q, want application/problem+json", method, path, res.StatusCode, ct)
	}
	if method == "GET" && res.StatusCode == http.StatusOK && cabinetPath.MatchString(path) {
		checkMoney(e.t, path, out)
	}
	return resp{status: res.StatusCode, header: res.Header, body: out}
}

// checkProblemCode asserts that the document lists a 4xx answer's status
// and problem code for the operation (x-problem-codes). 413 and 415, which
// any body can draw, fall to the default response.
func checkProblemCode(t testing.TB, method, path string, op *openapi3.Operation, status int, body []byte) {
	t.Helper()
	if status < 400 || status > 499 || status == http.StatusRequestEntityTooLarge || status == http.StatusUnsupportedMediaType {
		return
	}
	var p api.Problem
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatalf("%s %s → %d %s: %v", method, path, status, body, err)
	}
	ref := op.Responses.Status(status)
	if ref == nil {
		t.Fatalf("%s %s → %d %s: the OpenAPI document lists no %d for %s", method, path, status, p.Code, status, op.OperationID)
	}
	codes, _ := ref.Value.Extensions["x-problem-codes"].([]any)
	if !slices.Contains(codes, any(p.Code)) {
		t.Fatalf("%s %s → %d %s: the OpenAPI document lists %v for %s", method, path, status, p.Code, codes, op.OperationID)
	}
}

var cabinetPath = regexp.MustCompile(`^/v1/certificates/[0-9a-f-]{36}(\?.*)?$`)

// checkMoney asserts that a cabinet's money adds up: every ledger field is
// there and nominal = balance + reserved + spent + depleted + expired.
func checkMoney(t testing.TB, path string, body []byte) {
	t.Helper()
	var cab struct {
		Money map[string]*funding.Money `json:"money"`
	}
	if err := json.Unmarshal(body, &cab); err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	if cab.Money == nil {
		return // the budget-limit notice stands in for the money
	}
	sum := funding.Zero
	for _, f := range []string{"nominal", "usable", "balance", "reserved", "spent", "depleted", "expired"} {
		v := cab.Money[f]
		if v == nil {
			t.Fatalf("GET %s: the money has no %s: %s", path, f, body)
		}
		if f != "nominal" && f != "usable" {
			sum = sum.Add(*v)
		}
	}
	if !sum.Equal(*cab.Money["nominal"]) {
		t.Fatalf("GET %s: balance + reserved + spent + depleted + expired = %s, nominal %s", path, sum, cab.Money["nominal"])
	}
}

// must checks the status and returns the response.
func (e *env) must(want int, method, path, token, key string, body any) resp {
	e.t.Helper()
	r := e.do(method, path, token, key, body)
	if r.status != want {
		e.t.Fatalf("%s %s → %d %s, want %d", method, path, r.status, r.body, want)
	}
	return r
}
