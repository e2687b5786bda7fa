// Package api is the JSON HTTP API of edufund's reference server: the use
// cases of enrollment.Service behind JWT authentication with role and tenant
// checks on every read and write, RFC 9457 problem details, request logs,
// Prometheus metrics, health and readiness endpoints and an OpenAPI document.
package api

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/edufund/edufund/enrollment"
)

//go:embed openapi.json
var openAPIDocument []byte

// OpenAPI returns the embedded OpenAPI 3.1 document served at /v1/openapi.json.
func OpenAPI() []byte { return append([]byte(nil), openAPIDocument...) }

// Config is what the API runs on.
type Config struct {
	Service *enrollment.Service
	// Submitter sends applications (POST /v1/applications); nil is Service,
	// one transaction per application. The reference server gives it a
	// batch.Batcher, which shares a commit among the applications
	// that arrive together, each still answered alone after its commit.
	Submitter Submitter
	// Store serves the reads the services do not offer (the postings and
	// groups a cabinet's notifications are made of), in a transaction of
	// their own.
	Store enrollment.Store
	// Auth issues and verifies the demo HS256 tokens.
	Auth *Auth
	// Verifier signs callers in; nil is Auth. The reference server gives it
	// Issuers: Auth and a region's identity provider (OIDC) side by side.
	Verifier Verifier
	// Revocations refuses the revoked tokens and serves
	// POST /v1/admin/tokens/revoke; nil revokes nothing (and the endpoint
	// is not served).
	Revocations *Revocations
	// Logger receives one JSON record per request and every internal error;
	// nil discards them.
	Logger *slog.Logger
	// Ready reports whether the database answers (GET /readyz); nil means always ready.
	Ready func(context.Context) error
	// Registry receives the API's metrics and is served at /metrics; nil
	// creates a fresh one with the Go and process collectors.
	Registry *prometheus.Registry
}

// Submitter sends an application: *enrollment.Service and
// *batch.Batcher are both one.
type Submitter interface {
	Submit(ctx context.Context, key string, r enrollment.SubmitRequest) (enrollment.Contract, error)
}

// Handler is the API. It implements http.Handler.
type Handler struct {
	cfg     Config
	log     *slog.Logger
	mux     *http.ServeMux
	root    http.Handler
	metrics *metrics
	scrape  http.Handler // the registry's metrics, GET /metrics
}

// New builds the API over cfg.
func New(cfg Config) (*Handler, error) {
	if cfg.Service == nil || cfg.Store == nil || cfg.Auth == nil && cfg.Verifier == nil {
		return nil, errors.New("api: Service, Store and Auth or Verifier are required")
	}
	if cfg.Verifier == nil {
		cfg.Verifier = cfg.Auth
	}
	if cfg.Submitter == nil {
		cfg.Submitter = cfg.Service
	}
	h := &Handler{cfg: cfg, log: cfg.Logger, mux: http.NewServeMux()}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	reg := cfg.Registry
	if reg == nil {
		reg = prometheus.NewRegistry()
		reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	h.metrics = newMetrics(reg)
	h.scrape = promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
	h.mount()
	h.root = h.instrument(h.mux)
	return h, nil
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.root.ServeHTTP(w, r) }

// Panics counts the requests that ended in a recovered panic (tests assert 0).
func (h *Handler) Panics() int64 { return h.metrics.panicCount.Load() }

// The public routes: the probes, the metrics and the document.

func (h *Handler) health(w http.ResponseWriter, _ *http.Request, _ call) error {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	return nil
}

func (h *Handler) readyz(w http.ResponseWriter, r *http.Request, _ call) error {
	if h.cfg.Ready != nil {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := h.cfg.Ready(ctx); err != nil {
			h.log.WarnContext(r.Context(), "not ready", "err", err)
			p := newProblem(http.StatusServiceUnavailable, CodeNotReady, "the database does not answer")
			p.retryAfter = "1"
			return p
		}
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	return nil
}

func (h *Handler) metricsPage(w http.ResponseWriter, r *http.Request, _ call) error {
	h.scrape.ServeHTTP(w, r)
	return nil
}

func (h *Handler) openAPI(w http.ResponseWriter, _ *http.Request, _ call) error {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(openAPIDocument)
	return nil
}

// ---- request plumbing ----

type ctxKey struct{}

type reqInfo struct {
	principal Principal
	authed    bool
	code      string // the problem code of the response, if any
	err       error  // an internal error, logged
}

func info(r *http.Request) *reqInfo {
	if ri, ok := r.Context().Value(ctxKey{}).(*reqInfo); ok {
		return ri
	}
	return &reqInfo{}
}

// call is one request as its route admitted it: the principal and the
// scoped idempotency key (zero for a public route, no key for a read).
type call struct {
	p   Principal
	key string
}

// authenticate reads the bearer token.
func (h *Handler) authenticate(r *http.Request) (Principal, error) {
	authz := r.Header.Get("Authorization")
	scheme, token, ok := strings.Cut(authz, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return Principal{}, newProblem(http.StatusUnauthorized, CodeUnauthenticated, "a bearer token is required")
	}
	p, err := h.cfg.Verifier.Verify(r.Context(), strings.TrimSpace(token))
	if err == nil && h.cfg.Revocations != nil && h.cfg.Revocations.Revoked(p) {
		err = ErrRevoked
	}
	if err != nil {
		h.log.InfoContext(r.Context(), "bearer token refused", "err", err)
		return Principal{}, tokenProblem(err)
	}
	return p, nil
}

// MaxKeyLen bounds the Idempotency-Key header.
const MaxKeyLen = 128

func checkKey(key string) error {
	if key == "" {
		return newProblem(http.StatusBadRequest, CodeIdempotencyKeyMissing, "the Idempotency-Key header is required on every POST")
	}
	if len(key) > MaxKeyLen {
		return newProblem(http.StatusBadRequest, CodeIdempotencyKeyInvalid, fmt.Sprintf("the Idempotency-Key header must be at most %d characters", MaxKeyLen))
	}
	for i := 0; i < len(key); i++ {
		if key[i] < 0x21 || key[i] > 0x7e {
			return newProblem(http.StatusBadRequest, CodeIdempotencyKeyInvalid, "the Idempotency-Key header must be printable ASCII without spaces")
		}
	}
	return nil
}

// scopedKey keeps every caller's keys apart, so that one caller can neither
// replay nor block another's request by guessing its key.
func scopedKey(p Principal, key string) string {
	sum := sha256.Sum256([]byte(string(p.Role) + "\x00" + p.Subject + "\x00" + p.Tenant))
	return hex.EncodeToString(sum[:8]) + ":" + key
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write([]byte(`{"type":"urn:edufund:problem:internal","title":"Internal Server Error","status":500,"code":"internal"}`))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

func (h *Handler) problem(w http.ResponseWriter, r *http.Request, err error) {
	p := classify(err)
	if p.Status == http.StatusInternalServerError && p.err != nil && h.databaseDown(r.Context()) {
		// An error the store did not classify, while the database does not
		// answer (closed pool, lost server): the client may retry later.
		q := newProblem(http.StatusServiceUnavailable, CodeUnavailable, "the database is out of reach; try again")
		q.retryAfter, q.err = "5", p.err
		p = q
	}
	ri := info(r)
	ri.code = p.Code
	if p.Status >= 500 && p.err != nil {
		ri.err = p.err
	}
	if p.Status == http.StatusUnprocessableEntity || p.Status == http.StatusConflict || p.Status == http.StatusForbidden {
		h.metrics.refusals.WithLabelValues(p.Code).Inc()
	}
	if p.retryAfter != "" {
		w.Header().Set("Retry-After", p.retryAfter)
	}
	if p.Status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="edufund"`)
	}
	b, _ := json.Marshal(p)
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(p.Status)
	_, _ = w.Write(append(b, '\n'))
}

// databaseDown reports whether the readiness probe fails now.
func (h *Handler) databaseDown(ctx context.Context) bool {
	if h.cfg.Ready == nil {
		return false
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
	defer cancel()
	return h.cfg.Ready(ctx) != nil
}

// ---- logging, metrics, recovery ----

type recorder struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	n, err := r.ResponseWriter.Write(b)
	r.bytes += n
	return n, err
}

func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

func newRequestID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func (h *Handler) instrument(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		ri := &reqInfo{}
		r = r.WithContext(context.WithValue(r.Context(), ctxKey{}, ri))
		rid := newRequestID()
		w.Header().Set("X-Request-Id", rid)
		rec := &recorder{ResponseWriter: w}
		func() {
			defer func() {
				if v := recover(); v != nil {
					if v == http.ErrAbortHandler {
						panic(v)
					}
					h.metrics.panics.Inc()
					h.metrics.panicCount.Add(1)
					ri.err = fmt.Errorf("panic: %v\n%s", v, debug.Stack())
					if rec.status == 0 {
						h.problem(rec, r, newProblem(http.StatusInternalServerError, CodeInternal, internalDetail))
					}
				}
			}()
			next.ServeHTTP(rec, r)
		}()
		if rec.status == 0 {
			rec.status = http.StatusOK
		}
		route := r.Pattern
		if route == "" || route == "/" {
			route = "unmatched"
		}
		elapsed := time.Since(start)
		status := strconv.Itoa(rec.status)
		h.metrics.requests.WithLabelValues(route, status).Inc()
		h.metrics.latency.WithLabelValues(route, status).Observe(elapsed.Seconds())

		attrs := []slog.Attr{
			slog.String("request_id", rid), slog.String("method", r.Method), slog.String("route", route),
			slog.String("path", r.URL.Path), slog.Int("status", rec.status), slog.Int("bytes", rec.bytes),
			slog.Duration("duration", elapsed),
		}
		if ri.authed {
			attrs = append(attrs, slog.String("role", string(ri.principal.Role)), slog.String("subject", ri.principal.Subject))
		}
		if ri.code != "" {
			attrs = append(attrs, slog.String("code", ri.code))
		}
		level := slog.LevelInfo
		if ri.err != nil {
			level = slog.LevelError
			attrs = append(attrs, slog.String("err", ri.err.Error()))
		}
		h.log.LogAttrs(r.Context(), level, "request", attrs...)
	})
}

// ---- shared loaders ----

func (h *Handler) pathID(r *http.Request) (uuid.UUID, error) {
	id, err := parseUUID(r.PathValue("id"))
	if err != nil || id == uuid.Nil {
		return uuid.Nil, invalidField("id", "must be a UUID")
	}
	return id, nil
}
