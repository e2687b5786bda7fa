package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/time/rate"

	"github.com/edufund/edufund/funding"
)

// OIDCConfig is the file (-oidc, EDUFUND_OIDC) that lets a region's
// identity provider (Keycloak, ADFS, an ESIA gateway) sign callers in: its
// RS256 or ES256 tokens are verified with the keys it publishes (JWKS), and
// the edufund role and tenant are read from claims it names. Unknown fields
// are refused, so that a misspelt setting is not silently ignored.
type OIDCConfig struct {
	// Issuer is the provider's issuer URL, the iss of its tokens.
	Issuer string `json:"issuer"`
	// JWKSURL is where the provider publishes its signing keys; empty, it
	// is read from Issuer + "/.well-known/openid-configuration" at start.
	JWKSURL string `json:"jwks_url,omitempty"`
	// Audiences are what the provider calls edufund: a token's aud must
	// hold at least one of them.
	Audiences []string `json:"audiences"`
	// Algorithms are the signature algorithms accepted, RS256 and ES256 by
	// default; only asymmetric ones may be named (never none or HS*).
	Algorithms []string `json:"algorithms,omitempty"`
	// Leeway is the clock skew allowed on exp, nbf and iat, a Go duration
	// ("30s" by default, at most "5m").
	Leeway string `json:"leeway,omitempty"`
	// SubjectClaim is the dotted path of the claim naming the caller for
	// logs, the ledger and revocation ("sub" by default).
	SubjectClaim string `json:"subject_claim,omitempty"`
	// RolesClaim is the dotted path of the claim holding the provider's
	// role names, a string or an array of strings: "realm_access.roles" or
	// "resource_access.CLIENT.roles" in Keycloak.
	RolesClaim string `json:"roles_claim"`
	// Roles maps the provider's role names to edufund roles (holder,
	// provider, municipality, regional, federal). A name not in it is
	// ignored; a token whose names map to two edufund roles or more is
	// refused as ambiguous, since each role sees a different part of the
	// schemes and picking one would guess what the caller means to do.
	Roles map[string]Role `json:"roles"`
	// TenantClaims is the dotted path of the claim holding the tenant of
	// each edufund role that has one: the holder's person id (an ESIA
	// gateway's "snils"), the provider's id, the municipality's code.
	TenantClaims map[Role]string `json:"tenant_claims,omitempty"`
	// JWKSRefresh is how often the keys are fetched again ("15m" by
	// default): a key the provider withdraws stops verifying by then.
	JWKSRefresh string `json:"jwks_refresh,omitempty"`
	// JWKSRefreshUnknownKID is the shortest time between two fetches made
	// because a token names a key id not yet known ("30s" by default): a
	// key the provider adds is picked up at once, and tokens with made-up
	// key ids cannot make edufund hammer the provider.
	JWKSRefreshUnknownKID string `json:"jwks_refresh_unknown_kid,omitempty"`
}

// Signature algorithms an OIDC provider's token may use: the asymmetric
// ones, verified with a published public key.
var oidcAlgorithms = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}

// oidcSettings are an OIDCConfig's checked values, with the defaults.
type oidcSettings struct {
	algorithms           []string
	leeway               time.Duration
	subjectClaim         string
	refresh, unknownKIDs time.Duration
}

// LoadOIDCConfig reads and checks the OIDC configuration file at path.
func LoadOIDCConfig(path string) (OIDCConfig, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return OIDCConfig{}, err
	}
	c, err := ParseOIDCConfig(b)
	if err != nil {
		return OIDCConfig{}, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// ParseOIDCConfig decodes an OIDC configuration strictly and checks it; an
// error names the field.
func ParseOIDCConfig(b []byte) (OIDCConfig, error) {
	var c OIDCConfig
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		var p *Problem
		if errors.As(jsonProblem(err), &p) {
			return c, errors.New(p.Detail)
		}
		return c, err
	}
	if err := dec.Decode(&struct{}{}); !errors.Is(err, io.EOF) {
		return c, errors.New("not an OIDC configuration: more than one JSON value")
	}
	_, err := c.check()
	return c, err
}

func badConfig(field, rule string, value any) error {
	return &funding.ValidationError{Field: field, Rule: rule, Value: fmt.Sprint(value)}
}

func (c OIDCConfig) check() (oidcSettings, error) {
	s := oidcSettings{algorithms: []string{"RS256", "ES256"}, leeway: Leeway, subjectClaim: "sub", refresh: 15 * time.Minute, unknownKIDs: 30 * time.Second}
	if err := checkURL("issuer", c.Issuer); err != nil {
		return s, err
	}
	if c.JWKSURL != "" {
		if err := checkURL("jwks_url", c.JWKSURL); err != nil {
			return s, err
		}
	}
	if len(c.Audiences) == 0 {
		return s, badConfig("audiences", "must name at least one audience (the client id edufund is registered as)", "")
	}
	for i, a := range c.Audiences {
		if strings.TrimSpace(a) == "" {
			return s, badConfig(fmt.Sprintf("audiences[%d]", i), "must not be empty", "")
		}
	}
	if len(c.Algorithms) > 0 {
		s.algorithms = c.Algorithms
	}
	for i, a := range c.Algorithms {
		if !slices.Contains(oidcAlgorithms, a) {
			return s, badConfig(fmt.Sprintf("algorithms[%d]", i), "must be one of "+strings.Join(oidcAlgorithms, ", ")+": none and HS* are never accepted from an identity provider", a)
		}
	}
	durations := []struct {
		field    string
		text     string
		dst      *time.Duration
		min, max time.Duration
	}{
		{"leeway", c.Leeway, &s.leeway, 0, MaxLeeway},
		{"jwks_refresh", c.JWKSRefresh, &s.refresh, time.Second, 24 * time.Hour},
		{"jwks_refresh_unknown_kid", c.JWKSRefreshUnknownKID, &s.unknownKIDs, time.Second, time.Hour},
	}
	for _, d := range durations {
		if d.text == "" {
			continue
		}
		v, err := time.ParseDuration(d.text)
		if err != nil || v < d.min || v > d.max {
			return s, badConfig(d.field, fmt.Sprintf("must be a Go duration from %v to %v", d.min, d.max), d.text)
		}
		*d.dst = v
	}
	if c.SubjectClaim != "" {
		s.subjectClaim = c.SubjectClaim
	}
	paths := map[string]string{"subject_claim": s.subjectClaim, "roles_claim": c.RolesClaim}
	for _, r := range Roles {
		if p, ok := c.TenantClaims[r]; ok {
			paths["tenant_claims."+string(r)] = p
		}
	}
	for _, field := range sortedKeys(paths) {
		if err := checkClaimPath(field, paths[field]); err != nil {
			return s, err
		}
	}
	if len(c.Roles) == 0 {
		return s, badConfig("roles", "must map at least one of the provider's role names to an edufund role", "")
	}
	for _, name := range sortedKeys(c.Roles) {
		r := c.Roles[name]
		if !r.Known() {
			return s, badConfig("roles."+name, "must be an edufund role: holder, provider, municipality, regional, federal, auditor or authorised", r)
		}
		if r != RoleRegional && r != RoleFederal && r != RoleAuditor && c.TenantClaims[r] == "" {
			return s, badConfig("tenant_claims."+string(r), fmt.Sprintf("is required: roles maps %q to %s, which acts for a tenant", name, r), "")
		}
	}
	for _, r := range sortedKeys(c.TenantClaims) {
		if !r.Known() || r == RoleRegional || r == RoleFederal || r == RoleAuditor {
			return s, badConfig("tenant_claims."+string(r), "must be holder, provider, municipality or authorised: only they act for a tenant", "")
		}
	}
	return s, nil
}

func sortedKeys[K ~string, V any](m map[K]V) []K {
	ks := make([]K, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// checkURL accepts an https URL, or an http one on a loopback host (a
// provider on the same machine, and the tests).
func checkURL(field, s string) error {
	u, err := url.Parse(s)
	if err == nil && u.Host != "" && (u.Scheme == "https" || u.Scheme == "http" && loopback(u.Hostname())) {
		return nil
	}
	return badConfig(field, "must be an https URL (http only on a loopback host)", s)
}

func loopback(host string) bool {
	ip := net.ParseIP(host)
	return host == "localhost" || ip != nil && ip.IsLoopback()
}

func checkClaimPath(field, path string) error {
	if path == "" || slices.Contains(strings.Split(path, "."), "") {
		return badConfig(field, `must be a claim name or a dotted path such as "realm_access.roles"`, path)
	}
	return nil
}

// OIDCOptions are what an OIDC verifier needs besides its configuration.
type OIDCOptions struct {
	// MaxTTL is the longest token lifetime accepted, as for Auth: a token
	// whose exp − iat exceeds it (or, without iat, that expires later than
	// MaxTTL from now) is refused, so that a revocation entry kept for
	// MaxTTL outlives every token it names.
	MaxTTL time.Duration
	// Client fetches the discovery document and the keys; nil is a client
	// with a 10-second timeout.
	Client *http.Client
	// Now is the clock the tokens are checked against; nil is time.Now.
	Now func() time.Time
	// Logger receives the failed key refreshes; nil discards them.
	Logger *slog.Logger
}

// OIDC verifies the tokens of an OpenID Connect provider with the keys it
// publishes. The keys are cached; they are fetched again periodically and,
// at most once per configured interval, when a token names an unknown key
// id (keyfunc and jwkset do the fetching, caching and rotation).
type OIDC struct {
	cfg    OIDCConfig
	set    oidcSettings
	maxTTL time.Duration
	now    func() time.Time
	keys   keyfunc.Keyfunc
	parser *jwt.Parser
	stop   context.CancelFunc
}

// NewOIDC checks cfg, discovers the keys' URL if cfg names none, and fetches
// the keys once: a provider that cannot be reached at start is an error,
// not a server that refuses every token. Close stops the periodic refresh;
// so does the end of ctx.
func NewOIDC(ctx context.Context, cfg OIDCConfig, o OIDCOptions) (*OIDC, error) {
	set, err := cfg.check()
	if err != nil {
		return nil, fmt.Errorf("oidc: %w", err)
	}
	if o.MaxTTL <= 0 {
		return nil, errors.New("oidc: the maximum token lifetime must be positive")
	}
	if o.Client == nil {
		o.Client = &http.Client{Timeout: 10 * time.Second}
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	jwksURL := cfg.JWKSURL
	if jwksURL == "" {
		if jwksURL, err = discoverJWKS(ctx, o.Client, cfg.Issuer); err != nil {
			return nil, fmt.Errorf("oidc: discovery: %w", err)
		}
	}
	ctx, stop := context.WithCancel(ctx)
	failFirst := false
	fetched, err := keyfunc.NewDefaultOverrideCtx(ctx, []string{jwksURL}, keyfunc.Override{
		Client:                    o.Client,
		HTTPTimeout:               10 * time.Second,
		NoErrorReturnFirstHTTPReq: &failFirst,
		RefreshInterval:           set.refresh,
		RefreshUnknownKID:         rate.NewLimiter(rate.Every(set.unknownKIDs), 1),
		// A token with an unknown key id waits at most this long for the
		// fetch it may cause; when the limiter is further off it is
		// refused at once instead of queueing.
		RateLimitWaitMax: 5 * time.Second,
		RefreshErrorHandlerFunc: func(u string) func(context.Context, error) {
			return func(ctx context.Context, err error) {
				log.WarnContext(ctx, "oidc: the signing keys could not be fetched; the last ones are kept", "url", u, "err", err)
			}
		},
	})
	if err != nil {
		stop()
		return nil, fmt.Errorf("oidc: signing keys from %s: %w", jwksURL, err)
	}
	// Keys published for encryption ("use": "enc") never verify a signature.
	keys, err := keyfunc.New(keyfunc.Options{Ctx: ctx, Storage: fetched.Storage(), UseWhitelist: []jwkset.USE{jwkset.UseSig, ""}})
	if err != nil {
		stop()
		return nil, fmt.Errorf("oidc: %w", err)
	}
	parser := jwt.NewParser(
		jwt.WithValidMethods(set.algorithms),
		jwt.WithExpirationRequired(),
		jwt.WithIssuer(cfg.Issuer),
		jwt.WithAudience(cfg.Audiences...),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(set.leeway),
		jwt.WithTimeFunc(o.Now),
		jwt.WithJSONNumber(),
	)
	return &OIDC{cfg: cfg, set: set, maxTTL: o.MaxTTL, now: o.Now, keys: keys, parser: parser, stop: stop}, nil
}

// Issuer is the provider's issuer, the iss of the tokens it verifies.
func (o *OIDC) Issuer() string { return o.cfg.Issuer }

// Close stops refreshing the keys.
func (o *OIDC) Close() { o.stop() }

// discoverJWKS reads the provider's keys URL from its discovery document,
// which must name the same issuer.
func discoverJWKS(ctx context.Context, client *http.Client, issuer string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(issuer, "/")+"/.well-known/openid-configuration", nil)
	if err != nil {
		return "", err
	}
	res, err := client.Do(req)
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return "", fmt.Errorf("%s: status %d", req.URL, res.StatusCode)
	}
	var doc struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	if err := json.NewDecoder(io.LimitReader(res.Body, 1<<20)).Decode(&doc); err != nil {
		return "", fmt.Errorf("%s: %w", req.URL, err)
	}
	if doc.Issuer != issuer {
		return "", fmt.Errorf("%s: the document's issuer %q is not %q", req.URL, doc.Issuer, issuer)
	}
	if err := checkURL("jwks_uri", doc.JWKSURI); err != nil {
		return "", fmt.Errorf("%s: %w", req.URL, err)
	}
	return doc.JWKSURI, nil
}

// Verify implements Verifier: the signature with the provider's key and an
// allowed algorithm, the issuer, an audience, exp (required), nbf and iat,
// the lifetime, and the role and tenant mapped from the configured claims.
func (o *OIDC) Verify(ctx context.Context, token string) (Principal, error) {
	claims := jwt.MapClaims{}
	if _, err := o.parser.ParseWithClaims(token, claims, o.keys.KeyfuncCtx(ctx)); err != nil {
		return Principal{}, err
	}
	return o.principal(claims)
}

func (o *OIDC) principal(c jwt.MapClaims) (Principal, error) {
	exp, _ := c.GetExpirationTime() // present: the parser requires it
	iat, err := c.GetIssuedAt()
	if err != nil {
		return Principal{}, err
	}
	var p Principal
	if iat != nil {
		if err := checkLifetime(exp.Time, iat.Time, o.maxTTL); err != nil {
			return p, err
		}
		p.IssuedAt = iat.Time
	} else if left := exp.Sub(o.now()); left > o.maxTTL+o.set.leeway {
		return p, &ClaimError{Claim: "exp", Rule: fmt.Sprintf("without iat, the token expires in %v, later than the maximum lifetime %v", left.Round(time.Second), o.maxTTL)}
	}
	if p.Role, err = o.role(c); err != nil {
		return Principal{}, err
	}
	if p.Subject, err = claimText(c, o.set.subjectClaim); err != nil {
		return Principal{}, err
	}
	tenantClaim := o.cfg.TenantClaims[p.Role]
	if tenantClaim != "" {
		if p.Tenant, err = claimText(c, tenantClaim); err != nil {
			return Principal{}, err
		}
	}
	if _, ok := c["jti"]; ok {
		if p.TokenID, err = claimText(c, "jti"); err != nil {
			return Principal{}, err
		}
	}
	if err := validPrincipal(&p, o.set.subjectClaim, tenantClaim); err != nil {
		return Principal{}, err
	}
	return p, nil
}

// role maps the token's role names to the one edufund role they name.
func (o *OIDC) role(c jwt.MapClaims) (Role, error) {
	claim := o.cfg.RolesClaim
	v, ok := lookupClaim(c, claim)
	if !ok {
		return "", &ClaimError{Claim: claim, Rule: "is missing: the token carries no role"}
	}
	var names []string
	switch v := v.(type) {
	case string:
		names = []string{v}
	case []any:
		for _, n := range v {
			s, ok := n.(string)
			if !ok {
				return "", &ClaimError{Claim: claim, Rule: "must be a string or an array of strings"}
			}
			names = append(names, s)
		}
	default:
		return "", &ClaimError{Claim: claim, Rule: "must be a string or an array of strings"}
	}
	var roles []Role
	for _, n := range names {
		if r, ok := o.cfg.Roles[n]; ok && !slices.Contains(roles, r) {
			roles = append(roles, r)
		}
	}
	switch len(roles) {
	case 0:
		return "", &ClaimError{Claim: claim, Rule: "none of the token's roles is mapped to an edufund role"}
	case 1:
		return roles[0], nil
	}
	slices.Sort(roles)
	return "", &ClaimError{Claim: claim, Rule: fmt.Sprintf("the token's roles map to several edufund roles (%v): ambiguous", roles)}
}

// lookupClaim follows a dotted path through nested claims.
func lookupClaim(c jwt.MapClaims, path string) (any, bool) {
	var v any = map[string]any(c)
	for _, k := range strings.Split(path, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		if v, ok = m[k]; !ok {
			return nil, false
		}
	}
	return v, true
}

// claimText reads a claim that names something: a non-empty string, or a
// whole number (some providers give ids as numbers).
func claimText(c jwt.MapClaims, path string) (string, error) {
	v, ok := lookupClaim(c, path)
	if !ok {
		return "", &ClaimError{Claim: path, Rule: "is missing"}
	}
	switch v := v.(type) {
	case string:
		if strings.TrimSpace(v) != "" {
			return v, nil
		}
	case json.Number:
		if _, err := v.Int64(); err == nil {
			return v.String(), nil
		}
	}
	return "", &ClaimError{Claim: path, Rule: "must be a non-empty string or a whole number"}
}
