package api_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/examples/server/api"
	"github.com/edufund/edufund/examples/server/demo"
	"github.com/edufund/edufund/funding"
	"github.com/edufund/edufund/storage"
	"github.com/edufund/edufund/storage/storagetest"
)

// proxy forwards TCP to target until cut, which closes the listener and
// every connection: the server behind it becomes unreachable.
type proxy struct {
	ln    net.Listener
	mu    sync.Mutex
	conns []net.Conn
}

func newProxy(t *testing.T, target string) *proxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			d, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, d)
			p.mu.Unlock()
			go func() { _, _ = io.Copy(d, c); d.Close() }()
			go func() { _, _ = io.Copy(c, d); c.Close() }()
		}
	}()
	t.Cleanup(p.cut)
	return p
}

func (p *proxy) cut() {
	p.ln.Close()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// TestPostgresUnreachable: the API runs on PostgreSQL through a proxy that
// is then cut; requests get 503 problem+json with Retry-After, never 500.
func TestPostgresUnreachable(t *testing.T) {
	dsn := os.Getenv(storagetest.EnvPostgres)
	if dsn == "" {
		t.Skip(storagetest.EnvPostgres + " is not set")
	}
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	px := newProxy(t, u.Host)
	u.Host = px.ln.Addr().String()
	ctx := context.Background()
	db, err := storage.Open(ctx, u.String(), storage.WithMaxRetries(2))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	svc := enrollment.NewService(db, &funding.FixedClock{T: testNow}, demo.Config(enrollment.DefaultConfig()))
	auth, err := api.NewAuth(testKey, time.Hour, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	auth = auth.WithClock(func() time.Time { return testNow })
	h, err := api.New(api.Config{Service: svc, Store: db, Auth: auth,
		Ready: func(ctx context.Context) error { return db.Bun().PingContext(ctx) }})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	tok, err := auth.Issue(api.Principal{Role: api.RoleRegional, Subject: "op"})
	if err != nil {
		t.Fatal(err)
	}
	get := func(path string) *http.Response {
		req, _ := http.NewRequest("GET", srv.URL+path, nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		res, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return res
	}
	if res := get("/readyz"); res.StatusCode != http.StatusOK {
		t.Fatalf("readyz through the proxy: %d", res.StatusCode)
	}
	px.cut()
	for _, path := range []string{"/v1/certificates/01a2058b-92e4-7ad1-80c4-9bb73f9f863a", "/v1/invoices?month=2026-03", "/v1/catalog?q=lego", "/readyz"} {
		res := get(path)
		if res.StatusCode != http.StatusServiceUnavailable || res.Header.Get("Retry-After") == "" || res.Header.Get("Content-Type") != "application/problem+json" {
			t.Errorf("GET %s with PostgreSQL unreachable: %d, Retry-After %q, %s", path, res.StatusCode, res.Header.Get("Retry-After"), res.Header.Get("Content-Type"))
		}
	}
	if n := h.Panics(); n != 0 {
		t.Errorf("%d panics", n)
	}
}
