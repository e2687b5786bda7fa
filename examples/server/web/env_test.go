package web_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/examples/server/api"
	"github.com/edufund/edufund/examples/server/demo"
	"github.com/edufund/edufund/examples/server/web"
	"github.com/edufund/edufund/funding"
	"github.com/edufund/edufund/storage"
	"github.com/edufund/edufund/storage/storagetest"
)

// testNow is the tests' clock: 10 March 2026 in the demo region.
var testNow = time.Date(2026, time.March, 10, 12, 0, 0, 0, time.UTC)

// env is the reference server's handlers over the demo region on SQLite
// in memory, routed as the server routes them: the API's paths to the
// API, everything else to the pages. The tests share it (the demo takes
// a while to load) and only read, but for the sign-out's revocation.
type env struct {
	srv  *httptest.Server
	svc  *enrollment.Service
	auth *api.Auth
	demo demo.Result
	// clock is the region's: a test that writes may move it (a month's
	// close, a deadline).
	clock *funding.FixedClock
	db    *storage.DB
}

var shared *env

func TestMain(m *testing.M) {
	e, stop, err := newEnv()
	if err != nil {
		fmt.Fprintln(os.Stderr, "web tests:", err)
		os.Exit(1)
	}
	shared = e
	code := m.Run()
	stop()
	if n := errorsLogged.Load(); n > 0 && code == 0 {
		fmt.Fprintf(os.Stderr, "web tests: the pages logged %d errors (above)\n", n)
		code = 1
	}
	os.Exit(code)
}

func newEnv() (*env, func(), error) {
	ctx := context.Background()
	db, err := storage.Open(ctx, "sqlite::memory:")
	if err != nil {
		return nil, nil, err
	}
	if err := db.Migrate(ctx); err != nil {
		return nil, nil, err
	}
	return envOn(db)
}

// stores are the stores the tests that write run on: SQLite in memory
// always, PostgreSQL when EDUFUND_TEST_POSTGRES is set (and under
// .ci/run).
func stores() []string {
	ks := []string{storagetest.SQLiteMemory}
	if slices.Contains(storagetest.Kinds(), storagetest.Postgres) {
		ks = append(ks, storagetest.Postgres)
	}
	return ks
}

// eachStore runs fn with a server of its own over a fresh demo region on
// each of stores: a test that writes (applies, confirms, closes a month)
// gets it, and leaves the shared one as the reading tests expect it.
func eachStore(t *testing.T, fn func(t *testing.T, e *env)) {
	for _, kind := range stores() {
		t.Run(kind, func(t *testing.T) {
			e, stop, err := envOn(storagetest.Open(t, kind))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(stop)
			fn(t, e)
		})
	}
}

// envOn serves the demo region, loaded into db, as of testNow.
func envOn(db *storage.DB) (*env, func(), error) {
	ctx := context.Background()
	clock := &funding.FixedClock{T: testNow}
	svc := enrollment.NewService(db, clock, demo.Config(enrollment.DefaultConfig()))
	res, err := demo.Load(ctx, svc, funding.DateOf(testNow))
	if err != nil {
		return nil, nil, err
	}
	now := func() time.Time { return clock.T }
	const ttl = 2000 * time.Hour // a test that writes may move the clock by months
	auth, err := api.NewAuth([]byte("web-test-signing-key-of-32-bytes-or-more"), ttl, ttl)
	if err != nil {
		return nil, nil, err
	}
	auth = auth.WithClock(now)
	revs := api.NewRevocations(db, ttl, now)
	verifier := api.Issuers{api.Issuer: auth}
	h, err := api.New(api.Config{Service: svc, Store: db, Auth: auth, Verifier: verifier, Revocations: revs})
	if err != nil {
		return nil, nil, err
	}
	pages, err := web.New(web.Config{Service: svc, Verifier: verifier, Revocations: revs, Auth: auth, Demo: &res,
		Logger: slog.New(countErrors{slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})})})
	if err != nil {
		return nil, nil, err
	}
	// As examples/server/main.go routes them.
	mux := http.NewServeMux()
	for _, p := range []string{"/v1/", "/healthz", "/readyz", "/metrics"} {
		mux.Handle(p, h)
	}
	mux.Handle("/", pages)
	srv := httptest.NewServer(mux)
	return &env{srv: srv, svc: svc, auth: auth, demo: res, clock: clock, db: db}, func() { srv.Close(); db.Close() }, nil
}

// errorsLogged counts the errors the pages logged: no request of the
// tests, however bad, may make one.
var errorsLogged atomic.Int64

type countErrors struct{ slog.Handler }

func (c countErrors) Handle(ctx context.Context, r slog.Record) error {
	if r.Level >= slog.LevelError {
		errorsLogged.Add(1)
	}
	return c.Handler.Handle(ctx, r)
}

func (c countErrors) WithAttrs(as []slog.Attr) slog.Handler {
	return countErrors{c.Handler.WithAttrs(as)}
}
func (c countErrors) WithGroup(name string) slog.Handler {
	return countErrors{c.Handler.WithGroup(name)}
}

// page is a response of the pages.
type page struct {
	status int
	header http.Header
	body   string
}

// client is a browser without a browser: it keeps cookies and sends
// its forms from the site's own origin, as a browser does.
type client struct {
	t    *testing.T
	hc   *http.Client
	base string // the server's URL
}

func (e *env) client(t *testing.T) *client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &client{t: t, hc: &http.Client{Jar: jar, Timeout: 10 * time.Second}, base: e.srv.URL}
}

func (c *client) get(path string) page {
	c.t.Helper()
	req, err := http.NewRequest("GET", c.base+path, nil)
	if err != nil {
		c.t.Fatal(err)
	}
	return c.do(req)
}

// post sends a form as a page of the site does (Sec-Fetch-Site:
// same-origin); hdr adds or replaces headers.
func (c *client) post(path string, form url.Values, hdr map[string]string) page {
	c.t.Helper()
	req, err := http.NewRequest("POST", c.base+path, strings.NewReader(form.Encode()))
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	req.Header.Set("Origin", c.base)
	for k, v := range hdr {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	return c.do(req)
}

func (c *client) do(req *http.Request) page {
	c.t.Helper()
	resp, err := c.hc.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	return page{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

// has fails the test unless the page holds each of wants (with "_" for a
// no-break space).
func (p page) has(t *testing.T, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if w = strings.ReplaceAll(w, "_", "\u00a0"); !strings.Contains(p.body, w) {
			t.Errorf("no %q in the page (status %d):\n%s", w, p.status, p.body)
		}
	}
}

func (p page) lacks(t *testing.T, nots ...string) {
	t.Helper()
	for _, n := range nots {
		if strings.Contains(p.body, n) {
			t.Errorf("%q in the page (status %d):\n%s", n, p.status, p.body)
		}
	}
}

// clientAs is a new client of e signed in as subject: through the
// sign-in page for a principal the demo lists, and otherwise as a holder
// the page does not offer (a person with no certificate at all, a guardian
// it leaves out), with a token the server's key signs, kept in the cookie
// as the page keeps it.
func (e *env) clientAs(t *testing.T, subject string) *client {
	t.Helper()
	c := e.client(t)
	for _, p := range e.demo.Principals {
		if p.Subject == subject {
			signIn(t, c, subject)
			return c
		}
	}
	tok, err := e.auth.Issue(api.Principal{Role: api.RoleHolder, Subject: subject, Tenant: subject})
	if err != nil {
		t.Fatal(err)
	}
	base, err := url.Parse(e.srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	c.hc.Jar.SetCookies(base, []*http.Cookie{{Name: "edufund_token", Value: tok, Path: "/"}})
	return c
}

// noFollow makes c stop at redirects, so that a test sees the 303 and
// where it goes; it returns c.
func noFollow(c *client) *client {
	c.hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return c
}

// keyOf is the idempotency key of p's form that posts to action; "" when
// p has no such form with a key.
func keyOf(p page, action string) string {
	m := regexp.MustCompile(`(?s)action="` + regexp.QuoteMeta(action) + `"[^>]*>\s*(?:<fieldset>\s*<legend>[^<]*</legend>\s*)?<input type="hidden" name="key" value="([^"]+)"`).FindStringSubmatch(p.body)
	if m == nil {
		return ""
	}
	return m[1]
}

// formKey is keyOf, failing the test when p has no such form.
func formKey(t *testing.T, p page, action string) string {
	t.Helper()
	k := keyOf(p, action)
	if k == "" {
		t.Fatalf("no form to %q with a key in the page (status %d):\n%s", action, p.status, p.body)
	}
	return k
}

// english matches the service's rule texts, which a page must never show.
var english = regexp.MustCompile(`must be|must not|invalid input|not found|panic|goroutine`)

// noEnglish fails the test when the page shows a rule of the service.
func noEnglish(t *testing.T, p page) {
	t.Helper()
	if m := english.FindString(p.body); m != "" {
		t.Errorf("%q in the page (status %d):\n%s", m, p.status, p.body)
	}
}

// sendsToSignIn fails the test unless p sends a signed-out reader to the
// sign-in (a client that stops at redirects: noFollow), which then
// returns to back.
func (p page) sendsToSignIn(t *testing.T, back string) {
	t.Helper()
	if loc := p.header.Get("Location"); p.status != http.StatusSeeOther || loc != "/signin?next="+url.QueryEscape(back) {
		t.Errorf("signed out: %d to %q, want 303 to the sign-in, back to %s", p.status, loc, back)
	}
}

// reachBudget sets the budget limit of municipality mun in the current
// period at what it already uses: no new money is reserved. It returns
// the period.
func reachBudget(t *testing.T, e *env, mun string) funding.Period {
	t.Helper()
	ctx := context.Background()
	period := e.svc.Config().PeriodOf(e.svc.Today())
	used, err := e.svc.Budget(ctx, mun, period)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.SetBudget(ctx, uuid.NewString(), enrollment.BudgetRequest{Municipality: mun, Period: period,
		Limit: funding.Kopecks(used.Used), By: enrollment.AsRegional("test")}); err != nil {
		t.Fatal(err)
	}
	return period
}
