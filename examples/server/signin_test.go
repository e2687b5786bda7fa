package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/edufund/edufund/examples/server/api"
	"github.com/edufund/edufund/storage"
)

const testKey = "a-signing-key-of-at-least-32-bytes-long"

// TestTokenLifetimeCap: token and serve refuse a lifetime over
// -max-token-ttl (24h unless EDUFUND_MAX_TOKEN_TTL or the flag says
// otherwise), and a long token minted with a raised cap is refused by a
// server keeping the default one.
func TestTokenLifetimeCap(t *testing.T) {
	ctx := context.Background()
	token := []string{"token", "-jwt-key", testKey, "-role", "regional", "-subject", "op"}
	for _, c := range []struct {
		name, env string
		args      []string
		want      string
	}{
		{"ten years", "", append(token, "-ttl", "87600h"), "-max-token-ttl"},
		{"25 hours", "", append(token, "-ttl", "25h"), "-max-token-ttl"},
		{"env cap under the default ttl", "1h", token, "-max-token-ttl"},
		{"env cap not a duration", "a day", token, "EDUFUND_MAX_TOKEN_TTL"},
		{"serve's demo tokens", "", []string{"serve", "-db", "sqlite::memory:", "-token-ttl", "48h"}, "-max-token-ttl"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Setenv("EDUFUND_MAX_TOKEN_TTL", c.env)
			err := run(ctx, c.args, io.Discard, io.Discard)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("%v: %v, want an error naming %s", c.args, err, c.want)
			}
			if c.want == "-max-token-ttl" && !errors.Is(err, api.ErrLifetime) {
				t.Errorf("%v: %v, want api.ErrLifetime", c.args, err)
			}
		})
	}

	var out bytes.Buffer
	if err := run(ctx, append(token, "-ttl", "48h", "-max-token-ttl", "72h"), &out, io.Discard); err != nil {
		t.Fatalf("48h under a 72h cap: %v", err)
	}
	auth, err := api.NewAuth([]byte(testKey), time.Hour, api.DefaultMaxTokenTTL)
	if err != nil {
		t.Fatal(err)
	}
	var ce *api.ClaimError
	if _, err := auth.Verify(ctx, strings.TrimSpace(out.String())); !errors.As(err, &ce) || ce.Claim != "exp" {
		t.Fatalf("a 48h token verified under the default cap: %v", err)
	}
}

// TestRevokeCommand: revoke stores the entry a server loads, and refuses
// what names neither or both of a token and a subject.
func TestRevokeCommand(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "edufund.db")
	db := []string{"-db", "sqlite:" + path}
	var out bytes.Buffer
	if err := run(ctx, append([]string{"revoke", "-jti", "leaked-1"}, db...), &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "revoked token leaked-1") {
		t.Errorf("output: %s", out.String())
	}
	if err := run(ctx, append([]string{"revoke", "-subject", "ivanova"}, db...), io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{nil, "jti"},
		{[]string{"-jti", "a", "-subject", "b"}, "jti"},
		{[]string{"-jti", "a", "-issued-before", "2026-03-10T12:00:00Z"}, "issued_before"},
		{[]string{"-subject", "b", "-issued-before", "yesterday"}, "-issued-before"},
		{[]string{"-subject", "b", "-issued-before", "2999-01-01T00:00:00Z"}, "issued_before: must not be in the future"},
	} {
		err := run(ctx, append(append([]string{"revoke"}, db...), c.args...), io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("revoke %v: %v, want an error naming %s", c.args, err, c.want)
		}
	}

	store, err := storage.Open(ctx, "sqlite:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	revs := api.NewRevocations(store, api.DefaultMaxTokenTTL, nil)
	if err := revs.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	for p, want := range map[api.Principal]bool{
		{Subject: "op", TokenID: "leaked-1", IssuedAt: time.Now()}:                         true,
		{Subject: "op", TokenID: "other", IssuedAt: time.Now().Add(-time.Hour)}:            false,
		{Subject: "ivanova", TokenID: "other", IssuedAt: time.Now().Add(-time.Hour)}:       true,
		{Subject: "ivanova", TokenID: "other", IssuedAt: time.Now().Add(10 * time.Second)}: false,
	} {
		if got := revs.Revoked(p); got != want {
			t.Errorf("Revoked(%+v) = %v, want %v", p, got, want)
		}
	}
}

// TestServeOIDC: -oidc (or EDUFUND_OIDC) signs callers in through the
// identity provider, with the demo tokens off unless -jwt-key is set; a
// misspelt field in the file is refused by name.
func TestServeOIDC(t *testing.T) {
	jwks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"keys":[]}`))
	}))
	defer jwks.Close()
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("oidc.json", `{"issuer": "https://sso.example/realms/edu", "jwks_url": "`+jwks.URL+`", "audiences": ["edufund"],
		"roles_claim": "realm_access.roles", "roles": {"edu-regional": "regional"}}`)
	misspelt := write("misspelt.json", `{"issuer": "https://sso.example/realms/edu", "jwks_url": "`+jwks.URL+`", "audience": ["edufund"],
		"roles_claim": "realm_access.roles", "roles": {"edu-regional": "regional"}}`)

	serveUntil(t, "sign-in: identity provider https://sso.example/realms/edu, no demo tokens", "-oidc", good)
	serveUntil(t, "sign-in: identity provider https://sso.example/realms/edu, demo tokens signed with -jwt-key", "-oidc", good, "-jwt-key", testKey)
	t.Setenv("EDUFUND_OIDC", good)
	serveUntil(t, "sign-in: identity provider https://sso.example/realms/edu, no demo tokens")

	if _, err := api.LoadOIDCConfig("oidc.example.json"); err != nil {
		t.Errorf("the example configuration: %v", err)
	}
	err := run(context.Background(), []string{"serve", "-db", "sqlite::memory:", "-oidc", misspelt}, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "audience: is not a known field") {
		t.Fatalf("misspelt field: %v", err)
	}
}
