package api_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/golang-jwt/jwt/v5"

	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/examples/server/api"
	"github.com/edufund/edufund/examples/server/demo"
	"github.com/edufund/edufund/funding"
	"github.com/edufund/edufund/storage/storagetest"
)

// idp is a local identity provider: a discovery document and a JWKS that
// the test changes, and the keys to sign with.
type idp struct {
	t       *testing.T
	srv     *httptest.Server
	mu      sync.Mutex
	keys    map[string]jwkset.JWKMarshal
	fetches atomic.Int64
}

func newIdP(t *testing.T) *idp {
	p := &idp{t: t, keys: map[string]jwkset.JWKMarshal{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]string{"issuer": p.srv.URL, "jwks_uri": p.srv.URL + "/jwks"})
	})
	mux.HandleFunc("GET /jwks", func(w http.ResponseWriter, r *http.Request) {
		p.fetches.Add(1)
		p.mu.Lock()
		defer p.mu.Unlock()
		set := jwkset.JWKSMarshal{Keys: []jwkset.JWKMarshal{}}
		for _, k := range p.keys {
			set.Keys = append(set.Keys, k)
		}
		_ = json.NewEncoder(w).Encode(set)
	})
	p.srv = httptest.NewServer(mux)
	t.Cleanup(p.srv.Close)
	return p
}

// publish adds the public half of key to the JWKS under kid.
func (p *idp) publish(kid string, key crypto.Signer) {
	p.t.Helper()
	jwk, err := jwkset.NewJWKFromKey(key.Public(), jwkset.JWKOptions{Metadata: jwkset.JWKMetadataOptions{KID: kid, USE: jwkset.UseSig}})
	if err != nil {
		p.t.Fatal(err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.keys[kid] = jwk.Marshal()
}

func (p *idp) withdraw(kid string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.keys, kid)
}

func sign(t *testing.T, method jwt.SigningMethod, key any, kid string, claims jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, claims)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func rsaKey(t *testing.T) *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func ecKey(t *testing.T) *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// keycloak is the configuration of a Keycloak realm: realm roles, the
// holder's SNILS from an ESIA gateway, the provider's id in a nested claim.
func keycloak(issuer string) api.OIDCConfig {
	return api.OIDCConfig{
		Issuer: issuer, Audiences: []string{"edufund"}, RolesClaim: "realm_access.roles",
		Roles: map[string]api.Role{"edu-parent": api.RoleHolder, "edu-adult": api.RoleHolder, "edu-provider": api.RoleProvider,
			"edu-municipality": api.RoleMunicipality, "edu-regional": api.RoleRegional},
		TenantClaims: map[api.Role]string{api.RoleHolder: "snils", api.RoleProvider: "org.provider_id", api.RoleMunicipality: "oktmo"},
	}
}

func newOIDC(t *testing.T, cfg api.OIDCConfig) *api.OIDC {
	t.Helper()
	v, err := api.NewOIDC(t.Context(), cfg, api.OIDCOptions{MaxTTL: api.DefaultMaxTokenTTL})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(v.Close)
	return v
}

// TestOIDC verifies a provider's RS256 and ES256 tokens through its JWKS
// (found by discovery) and maps their claims to the principal; every
// token that is forged, foreign, out of date or that maps to no single
// edufund caller is refused.
func TestOIDC(t *testing.T) {
	p := newIdP(t)
	rk, ek := rsaKey(t), ecKey(t)
	p.publish("rsa-1", rk)
	p.publish("ec-1", ek)
	v := newOIDC(t, keycloak(p.srv.URL))
	ctx := context.Background()

	now := time.Now()
	base := jwt.MapClaims{"iss": p.srv.URL, "aud": "edufund", "sub": "user-1", "jti": "jti-1", "iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(),
		"realm_access": map[string]any{"roles": []string{"edu-parent", "offline_access"}}, "snils": "112-233-445 95"}
	with := func(changes map[string]any) jwt.MapClaims {
		c := jwt.MapClaims{}
		for k, v := range base {
			c[k] = v
		}
		for k, v := range changes {
			if v == nil {
				delete(c, k)
			} else {
				c[k] = v
			}
		}
		return c
	}
	roles := func(r any) map[string]any { return map[string]any{"realm_access": map[string]any{"roles": r}} }
	provider := "0190f0c4-7a4e-7b8e-9c1d-2f3a4b5c6d7e"
	iat := time.Unix(now.Unix(), 0)

	for _, c := range []struct {
		name  string
		token string
		want  api.Principal
	}{
		{"RS256 holder", sign(t, jwt.SigningMethodRS256, rk, "rsa-1", base),
			api.Principal{Role: api.RoleHolder, Subject: "user-1", Tenant: "11223344595", TokenID: "jti-1", IssuedAt: iat}},
		{"ES256 regional, roles as a string, audiences as an array", sign(t, jwt.SigningMethodES256, ek, "ec-1",
			with(map[string]any{"realm_access": map[string]any{"roles": "edu-regional"}, "aud": []string{"account", "edufund"}, "snils": nil})),
			api.Principal{Role: api.RoleRegional, Subject: "user-1", TokenID: "jti-1", IssuedAt: iat}},
		{"provider from a nested claim", sign(t, jwt.SigningMethodRS256, rk, "rsa-1",
			with(map[string]any{"realm_access": map[string]any{"roles": []string{"edu-provider"}}, "org": map[string]any{"provider_id": provider}})),
			api.Principal{Role: api.RoleProvider, Subject: "user-1", Tenant: provider, TokenID: "jti-1", IssuedAt: iat}},
		{"municipality code as a number, no jti", sign(t, jwt.SigningMethodES256, ek, "ec-1",
			with(map[string]any{"realm_access": map[string]any{"roles": []string{"edu-municipality"}}, "oktmo": 50701000, "jti": nil})),
			api.Principal{Role: api.RoleMunicipality, Subject: "user-1", Tenant: "50701000", IssuedAt: iat}},
		{"two names of one edufund role", sign(t, jwt.SigningMethodRS256, rk, "rsa-1", with(roles([]string{"edu-parent", "edu-adult"}))),
			api.Principal{Role: api.RoleHolder, Subject: "user-1", Tenant: "11223344595", TokenID: "jti-1", IssuedAt: iat}},
	} {
		got, err := v.Verify(ctx, c.token)
		if err != nil || got != c.want {
			t.Errorf("%s: %+v, %v; want %+v", c.name, got, err, c.want)
		}
	}

	pubDER, err := x509.MarshalPKIXPublicKey(&rk.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})
	for _, c := range []struct {
		name  string
		token string
		claim string // the *api.ClaimError's claim, if it must be one
	}{
		{"wrong issuer", sign(t, jwt.SigningMethodRS256, rk, "rsa-1", with(map[string]any{"iss": "https://other.example"})), ""},
		{"wrong audience", sign(t, jwt.SigningMethodRS256, rk, "rsa-1", with(map[string]any{"aud": "account"})), ""},
		{"no audience", sign(t, jwt.SigningMethodRS256, rk, "rsa-1", with(map[string]any{"aud": nil})), ""},
		{"expired", sign(t, jwt.SigningMethodRS256, rk, "rsa-1", with(map[string]any{"exp": now.Add(-time.Hour).Unix()})), ""},
		{"no exp", sign(t, jwt.SigningMethodRS256, rk, "rsa-1", with(map[string]any{"exp": nil})), ""},
		{"not yet valid", sign(t, jwt.SigningMethodRS256, rk, "rsa-1", with(map[string]any{"nbf": now.Add(time.Hour).Unix()})), ""},
		{"issued in the future", sign(t, jwt.SigningMethodRS256, rk, "rsa-1", with(map[string]any{"iat": now.Add(time.Hour).Unix()})), ""},
		{"alg none", sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, "rsa-1", base), ""},
		{"HS256 keyed with the RSA public key", sign(t, jwt.SigningMethodHS256, pubPEM, "rsa-1", base), ""},
		{"HS256 keyed with the RSA public key, no kid", sign(t, jwt.SigningMethodHS256, pubPEM, "", base), ""},
		{"RS384, not allowed", sign(t, jwt.SigningMethodRS384, rk, "rsa-1", base), ""},
		{"unknown kid", sign(t, jwt.SigningMethodRS256, rsaKey(t), "rsa-2", base), ""},
		{"another key under a known kid", sign(t, jwt.SigningMethodRS256, rsaKey(t), "rsa-1", base), ""},
		{"EC key's kid on an RS256 token", sign(t, jwt.SigningMethodRS256, rk, "ec-1", base), ""},
		{"lives longer than the maximum", sign(t, jwt.SigningMethodRS256, rk, "rsa-1", with(map[string]any{"exp": now.Add(25 * time.Hour).Unix()})), "exp"},
		{"no iat, expires after the maximum", sign(t, jwt.SigningMethodRS256, rk, "rsa-1",
			with(map[string]any{"iat": nil, "exp": now.Add(25 * time.Hour).Unix()})), "exp"},
		{"missing role", sign(t, jwt.SigningMethodRS256, rk, "rsa-1", with(map[string]any{"realm_access": nil})), "realm_access.roles"},
		{"role not a string", sign(t, jwt.SigningMethodRS256, rk, "rsa-1", with(roles([]any{"edu-parent", 7}))), "realm_access.roles"},
		{"unmapped role", sign(t, jwt.SigningMethodRS256, rk, "rsa-1", with(roles([]string{"offline_access"}))), "realm_access.roles"},
		{"ambiguous roles", sign(t, jwt.SigningMethodRS256, rk, "rsa-1", with(roles([]string{"edu-parent", "edu-regional"}))), "realm_access.roles"},
		{"missing tenant claim", sign(t, jwt.SigningMethodRS256, rk, "rsa-1", with(map[string]any{"snils": nil})), "snils"},
		{"empty tenant claim", sign(t, jwt.SigningMethodRS256, rk, "rsa-1", with(map[string]any{"snils": " "})), "snils"},
		{"provider id not a UUID", sign(t, jwt.SigningMethodRS256, rk, "rsa-1",
			with(map[string]any{"realm_access": map[string]any{"roles": "edu-provider"}, "org": map[string]any{"provider_id": "robo"}})), "org.provider_id"},
		{"missing subject", sign(t, jwt.SigningMethodRS256, rk, "rsa-1", with(map[string]any{"sub": nil})), "sub"},
		{"jti not a string", sign(t, jwt.SigningMethodRS256, rk, "rsa-1", with(map[string]any{"jti": true})), "jti"},
	} {
		p, err := v.Verify(ctx, c.token)
		var ce *api.ClaimError
		switch {
		case err == nil:
			t.Errorf("%s: accepted as %+v", c.name, p)
		case c.claim != "" && (!errors.As(err, &ce) || ce.Claim != c.claim):
			t.Errorf("%s: %v, want a claim error on %s", c.name, err, c.claim)
		}
	}
}

// TestOIDCKeyRotation: a key published after the start signs in at once
// (a token naming an unknown kid makes the keys be fetched again), but at
// most once per interval, whatever kids the tokens make up.
func TestOIDCKeyRotation(t *testing.T) {
	p := newIdP(t)
	k1, k2, k3 := rsaKey(t), ecKey(t), rsaKey(t)
	p.publish("k1", k1)
	cfg := keycloak(p.srv.URL)
	cfg.JWKSURL, cfg.JWKSRefresh, cfg.JWKSRefreshUnknownKID = p.srv.URL+"/jwks", "1h", "1h"
	v := newOIDC(t, cfg)
	claims := jwt.MapClaims{"iss": p.srv.URL, "aud": "edufund", "sub": "op", "exp": time.Now().Add(time.Minute).Unix(),
		"realm_access": map[string]any{"roles": []string{"edu-regional"}}}
	ctx := context.Background()
	if n := p.fetches.Load(); n != 1 {
		t.Fatalf("%d fetches at start, want 1", n)
	}

	p.publish("k2", k2)
	if _, err := v.Verify(ctx, sign(t, jwt.SigningMethodES256, k2, "k2", claims)); err != nil {
		t.Fatalf("a key published later: %v", err)
	}
	if n := p.fetches.Load(); n != 2 {
		t.Fatalf("%d fetches, want 2", n)
	}
	p.publish("k3", k3)
	start := time.Now()
	if _, err := v.Verify(ctx, sign(t, jwt.SigningMethodRS256, k3, "k3", claims)); err == nil {
		t.Fatal("a second unknown kid within the interval was looked up")
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("the refused unknown kid waited %v", d)
	}
	if n := p.fetches.Load(); n != 2 {
		t.Fatalf("%d fetches, want still 2", n)
	}
	if _, err := v.Verify(ctx, sign(t, jwt.SigningMethodRS256, k1, "k1", claims)); err != nil {
		t.Fatalf("the first key: %v", err)
	}
}

// TestOIDCKeyRefresh: the keys are fetched again periodically, so that a
// key the provider withdraws stops verifying.
func TestOIDCKeyRefresh(t *testing.T) {
	p := newIdP(t)
	k1 := rsaKey(t)
	p.publish("k1", k1)
	cfg := keycloak(p.srv.URL)
	cfg.JWKSRefresh = "1s"
	v := newOIDC(t, cfg)
	tok := sign(t, jwt.SigningMethodRS256, k1, "k1", jwt.MapClaims{"iss": p.srv.URL, "aud": "edufund", "sub": "op",
		"exp": time.Now().Add(time.Minute).Unix(), "realm_access": map[string]any{"roles": []string{"edu-regional"}}})
	if _, err := v.Verify(context.Background(), tok); err != nil {
		t.Fatal(err)
	}
	p.withdraw("k1")
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if _, err := v.Verify(context.Background(), tok); err != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("a withdrawn key still verifies after 10 refresh intervals")
		}
	}
}

// TestOIDCConfig: the configuration is decoded strictly and checked, each
// error naming the field; discovery must name the configured issuer.
func TestOIDCConfig(t *testing.T) {
	good := `{"issuer": "https://sso.example/realms/edu", "audiences": ["edufund"], "roles_claim": "realm_access.roles",
		"roles": {"parent": "holder", "operator": "regional"}, "tenant_claims": {"holder": "snils"}, "leeway": "1m"}`
	if _, err := api.ParseOIDCConfig([]byte(good)); err != nil {
		t.Fatalf("good configuration: %v", err)
	}
	for _, c := range []struct{ body, want string }{
		{`{"issuer": "https://sso.example", "audience": ["x"]}`, "audience: is not a known field"},
		{`{"issuer": 7}`, "issuer: must be of JSON type string"},
		{good + `{}`, "more than one JSON value"},
		{strings.Replace(good, "https://sso.example", "http://sso.example", 1), "issuer: must be an https URL"},
		{strings.Replace(good, `"audiences": ["edufund"]`, `"audiences": []`, 1), "audiences: must name at least one"},
		{strings.Replace(good, `"leeway": "1m"`, `"algorithms": ["RS256", "HS256"]`, 1), "algorithms[1]: must be one of"},
		{strings.Replace(good, `"leeway": "1m"`, `"algorithms": ["none"]`, 1), "algorithms[0]: must be one of"},
		{strings.Replace(good, `"leeway": "1m"`, `"leeway": "10m"`, 1), "leeway: must be a Go duration from 0s to 5m0s"},
		{strings.Replace(good, `"leeway": "1m"`, `"jwks_refresh": "often"`, 1), "jwks_refresh: must be a Go duration"},
		{strings.Replace(good, `"leeway": "1m"`, `"jwks_url": "ftp://keys"`, 1), "jwks_url: must be an https URL"},
		{strings.Replace(good, "realm_access.roles", "realm_access..roles", 1), "roles_claim: must be a claim name or a dotted path"},
		{strings.Replace(good, `"roles_claim": "realm_access.roles",`, ``, 1), "roles_claim: must be a claim name"},
		{strings.Replace(good, `"regional"`, `"admin"`, 1), "roles.operator: must be an edufund role"},
		{strings.Replace(good, `"roles": {"parent": "holder", "operator": "regional"}`, `"roles": {}`, 1), "roles: must map at least one"},
		{strings.Replace(good, `"tenant_claims": {"holder": "snils"}`, `"tenant_claims": {}`, 1), "tenant_claims.holder: is required"},
		{strings.Replace(good, `{"holder": "snils"}`, `{"holder": "snils", "regional": "region"}`, 1), "tenant_claims.regional: must be holder, provider, municipality or authorised"},
	} {
		if _, err := api.ParseOIDCConfig([]byte(c.body)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.body, err, c.want)
		}
	}

	p := newIdP(t)
	if _, err := api.NewOIDC(t.Context(), keycloak(p.srv.URL+"/"), api.OIDCOptions{MaxTTL: time.Hour}); err == nil || !strings.Contains(err.Error(), "issuer") {
		t.Errorf("a discovery document of another issuer: %v", err)
	}
	cfg := keycloak(p.srv.URL)
	cfg.JWKSURL = p.srv.URL + "/no-such-keys"
	if _, err := api.NewOIDC(t.Context(), cfg, api.OIDCOptions{MaxTTL: time.Hour}); err == nil {
		t.Error("keys that cannot be fetched at start")
	}
}

// TestOIDCThroughTheAPI: the server chains the demo tokens and the
// provider's by issuer; a provider's token that maps to no edufund caller
// is a 401 naming the claim, never a 500.
func TestOIDCThroughTheAPI(t *testing.T) {
	p := newIdP(t)
	rk := rsaKey(t)
	p.publish("rsa-1", rk)
	v := newOIDC(t, keycloak(p.srv.URL))
	auth, err := api.NewAuth(testKey, time.Hour, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	db := storagetest.Open(t, storagetest.SQLiteMemory)
	svc := enrollment.NewService(db, funding.SystemClock{}, demo.Config(enrollment.DefaultConfig()))
	h, err := api.New(api.Config{Service: svc, Store: db, Verifier: api.Issuers{api.Issuer: auth, v.Issuer(): v}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	e := &env{t: t, srv: srv, h: h, validate: true, router: openAPIRouter(t)}

	claims := func(role string) jwt.MapClaims {
		return jwt.MapClaims{"iss": p.srv.URL, "aud": "edufund", "sub": "op", "exp": time.Now().Add(time.Minute).Unix(),
			"realm_access": map[string]any{"roles": []string{role}}}
	}
	demoToken, err := auth.Issue(api.Principal{Role: api.RoleRegional, Subject: "op"})
	if err != nil {
		t.Fatal(err)
	}
	// A read that needs a token: the region's parameters, which a
	// regional operator reads with no tenant.
	const path = "/v1/admin/parameters"
	e.must(http.StatusOK, "GET", path, sign(t, jwt.SigningMethodRS256, rk, "rsa-1", claims("edu-regional")), "", nil)
	e.must(http.StatusOK, "GET", path, demoToken, "", nil)
	for name, c := range map[string]struct{ token, detail string }{
		"unmapped role":  {sign(t, jwt.SigningMethodRS256, rk, "rsa-1", claims("offline_access")), "realm_access.roles: none of the token's roles"},
		"no tenant":      {sign(t, jwt.SigningMethodRS256, rk, "rsa-1", claims("edu-parent")), "snils: is missing"},
		"unknown issuer": {sign(t, jwt.SigningMethodRS256, rk, "rsa-1", jwt.MapClaims{"iss": "https://elsewhere", "exp": time.Now().Add(time.Minute).Unix()}), "invalid or expired"},
		"expired":        {sign(t, jwt.SigningMethodRS256, rk, "rsa-1", jwt.MapClaims{"iss": p.srv.URL, "aud": "edufund", "exp": time.Now().Add(-time.Hour).Unix()}), "has expired"},
	} {
		r := e.must(http.StatusUnauthorized, "GET", path, c.token, "", nil)
		if pr := r.problem(t); pr.Code != "unauthenticated" || !strings.Contains(pr.Detail, c.detail) {
			t.Errorf("%s: %+v, want the detail to hold %q", name, pr, c.detail)
		}
	}
}
