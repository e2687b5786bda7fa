package api

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/funding"
)

// Role is what a caller is in the schemes: enrollment's roles.
type Role = enrollment.Role

// The roles a token may carry (never enrollment.RoleSystem: the region's own
// jobs run as the commands do, not over HTTP).
const (
	// RoleHolder is a parent acting for their children's certificates or an
	// adult acting for their own (tenant: the person id).
	RoleHolder = enrollment.RoleHolder
	// RoleProvider is an organisation that teaches (tenant: its provider id).
	RoleProvider = enrollment.RoleProvider
	// RoleMunicipality is a municipal authority (tenant: the municipality code).
	RoleMunicipality = enrollment.RoleMunicipality
	// RoleRegional is the regional operator: the whole children's scheme of the region.
	RoleRegional = enrollment.RoleRegional
	// RoleFederal is the federal operator: the whole adult scheme.
	RoleFederal = enrollment.RoleFederal
	// RoleAuditor is the region's auditor: reads everything, changes
	// nothing (no tenant).
	RoleAuditor = enrollment.RoleAuditor
	// RoleAuthorised is an organisation a municipality authorised to take
	// paper applications for children's certificates (tenant: its
	// organisation id, a UUID); what it may do is its authorisation.
	RoleAuthorised = enrollment.RoleAuthorised
)

// Roles lists every role.
var Roles = enrollment.Roles

// Principal is an authenticated caller.
type Principal struct {
	Role    Role
	Subject string // who: a user name or id, for logs and the ledger's actor
	Tenant  string // what they act for; see the Role constants
	// TokenID and IssuedAt are the jti and iat of the token the caller
	// signed in with, what a revocation names; an identity provider's
	// token may lack either. Issue ignores them.
	TokenID  string
	IssuedAt time.Time
}

// Actor is how the caller is recorded in the ledger and the idempotency record.
func (p Principal) Actor() string { return p.Caller().Actor() }

// Caller is the principal as the service's rules see it: what may be read
// and changed is decided there, for every edge alike.
func (p Principal) Caller() enrollment.Caller {
	return enrollment.Caller{Role: p.Role, ID: p.Tenant, Name: p.Subject}
}

// providerID is the provider tenant as a UUID (uuid.Nil for other roles).
func (p Principal) providerID() uuid.UUID {
	if p.Role != RoleProvider {
		return uuid.Nil
	}
	id, _ := uuid.Parse(p.Tenant)
	return id
}

// Verifier checks a bearer token and returns the caller it signs in. Any
// error refuses the request with 401; a *ClaimError tells which claim of a
// token that is otherwise valid does not make an edufund caller.
type Verifier interface {
	Verify(ctx context.Context, token string) (Principal, error)
}

// Issuers is a Verifier that hands each token to the verifier of its
// issuer: the iss claim, read before anything is checked, picks it, and
// that verifier checks the issuer again along with the signature. A token
// of any other issuer is refused.
type Issuers map[string]Verifier

// Verify implements Verifier.
func (is Issuers) Verify(ctx context.Context, token string) (Principal, error) {
	iss, err := peekIssuer(token)
	if err != nil {
		return Principal{}, err
	}
	v, ok := is[iss]
	if !ok {
		return Principal{}, fmt.Errorf("%w: no verifier for issuer %q", jwt.ErrTokenInvalidIssuer, iss)
	}
	return v.Verify(ctx, token)
}

// peekIssuer reads the iss claim of a token and checks nothing: it only
// picks the verifier, which parses and checks the whole token, its issuer
// among the rest. (jwt's ParseUnverified into a map did the same with
// about seventy objects a request, a tenth of what an application through
// the server allocated.) A missing iss is the empty issuer.
func peekIssuer(token string) (string, error) {
	_, rest, ok := strings.Cut(token, ".")
	payload, _, ok2 := strings.Cut(rest, ".")
	if !ok || !ok2 {
		return "", fmt.Errorf("%w: a token has three parts", jwt.ErrTokenMalformed)
	}
	b, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		return "", fmt.Errorf("%w: the claims: %w", jwt.ErrTokenMalformed, err)
	}
	var claims struct {
		Iss string `json:"iss"`
	}
	if err := json.Unmarshal(b, &claims); err != nil {
		return "", fmt.Errorf("%w: the claims: %w", jwt.ErrTokenMalformed, err)
	}
	return claims.Iss, nil
}

// ClaimError is a token, signed and in date, whose claims do not make an
// edufund caller: Claim names the claim (a dotted path), Rule says what is
// wrong with it.
type ClaimError struct {
	Claim string
	Rule  string
}

func (e *ClaimError) Error() string { return e.Claim + ": " + e.Rule }

// Claims are the JWT claims edufund reads: the registered ones (sub, exp,
// iat, iss, jti) and the role and tenant.
type Claims struct {
	Role   Role   `json:"role"`
	Tenant string `json:"tenant,omitempty"`
	jwt.RegisteredClaims
}

// Issuer is the iss claim of the tokens the server issues and accepts.
const Issuer = "edufund"

// DefaultMaxTokenTTL is the longest token lifetime unless configured: a
// working day with room to spare, and the lifetime of the demo tokens the
// server prints. A token that leaks is usable for at most that long even if
// nobody revokes it, and a revocation entry is kept no longer than that.
const DefaultMaxTokenTTL = 24 * time.Hour

// Leeway is the clock skew the HS256 tokens' exp and iat are allowed.
const Leeway = 30 * time.Second

// MaxLeeway bounds the leeway an identity provider's tokens may be given:
// a token accepted at an instant expires within the maximum token lifetime
// plus MaxLeeway of it, which is how long a revocation entry is kept.
const MaxLeeway = 5 * time.Minute

// ErrLifetime is a token lifetime longer than the maximum.
var ErrLifetime = errors.New("the token lifetime exceeds the maximum")

// Auth issues and verifies HS256 bearer tokens.
type Auth struct {
	key         []byte
	ttl, maxTTL time.Duration
	now         func() time.Time
}

// MinKeyLen is the shortest HS256 key accepted: 256 bits.
const MinKeyLen = 32

// NewAuth returns an Auth signing with key. Tokens it issues live for ttl;
// it refuses a ttl over maxTTL, and Verify refuses a token whose exp − iat
// is over maxTTL, so a longer token minted elsewhere with the key is
// refused too.
func NewAuth(key []byte, ttl, maxTTL time.Duration) (*Auth, error) {
	if len(key) < MinKeyLen {
		return nil, fmt.Errorf("auth: the signing key must be at least %d bytes", MinKeyLen)
	}
	if ttl <= 0 || maxTTL <= 0 {
		return nil, errors.New("auth: the token lifetime and its maximum must be positive")
	}
	if ttl > maxTTL {
		return nil, fmt.Errorf("auth: %w: %v > %v", ErrLifetime, ttl, maxTTL)
	}
	return &Auth{key: append([]byte(nil), key...), ttl: ttl, maxTTL: maxTTL, now: time.Now}, nil
}

// WithClock makes the Auth read the time from now (tests).
func (a *Auth) WithClock(now func() time.Time) *Auth {
	b := *a
	b.now = now
	return &b
}

// validPrincipal checks a principal read from a token whose subject and
// tenant come from the named claims, and puts a holder's tenant, a person
// id, in its canonical form (certificate.ParsePersonID), the one the
// certificates and guardian links are stored under.
func validPrincipal(p *Principal, subjectClaim, tenantClaim string) error {
	if !p.Role.Known() {
		return &ClaimError{Claim: "role", Rule: fmt.Sprintf("%q is not an edufund role", p.Role)}
	}
	if strings.TrimSpace(p.Subject) == "" {
		return &ClaimError{Claim: subjectClaim, Rule: "is required"}
	}
	switch p.Role {
	case RoleHolder:
		id, err := certificate.ParsePersonID(p.Tenant)
		var ve *funding.ValidationError
		if errors.As(err, &ve) {
			return &ClaimError{Claim: tenantClaim, Rule: "must be the person's id for role holder: " + ve.Rule}
		}
		if err != nil {
			return err
		}
		p.Tenant = id
	case RoleMunicipality:
		if strings.TrimSpace(p.Tenant) == "" {
			return &ClaimError{Claim: tenantClaim, Rule: fmt.Sprintf("is required for role %s", p.Role)}
		}
	case RoleProvider:
		if _, err := parseUUID(p.Tenant); err != nil {
			return &ClaimError{Claim: tenantClaim, Rule: "must be the provider id (a UUID) for role provider"}
		}
	case RoleAuthorised:
		if _, err := parseUUID(p.Tenant); err != nil {
			return &ClaimError{Claim: tenantClaim, Rule: "must be the organisation id (a UUID) for role authorised"}
		}
	}
	return nil
}

// Issue signs a token for p that expires after the Auth's ttl. Its jti is
// random, so that it can be revoked alone.
func (a *Auth) Issue(p Principal) (string, error) {
	if err := validPrincipal(&p, "subject", "tenant"); err != nil {
		return "", fmt.Errorf("auth: %w", err)
	}
	now := a.now()
	claims := Claims{Role: p.Role, Tenant: p.Tenant, RegisteredClaims: jwt.RegisteredClaims{
		Issuer: Issuer, Subject: p.Subject, ID: uuid.NewString(),
		IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(a.ttl)),
	}}
	return jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(a.key)
}

// Verify checks a token: HS256 only, signed with the key, issued by
// Issuer, with exp, iat and jti, not expired, living no longer than the
// maximum, with a known role and the tenant it needs.
func (a *Auth) Verify(_ context.Context, token string) (Principal, error) {
	var claims Claims
	_, err := jwt.ParseWithClaims(token, &claims, func(*jwt.Token) (any, error) { return a.key, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithExpirationRequired(),
		jwt.WithIssuer(Issuer),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(Leeway),
		jwt.WithTimeFunc(a.now),
		jwt.WithStrictDecoding(),
	)
	if err != nil {
		return Principal{}, err
	}
	switch {
	case claims.IssuedAt == nil:
		return Principal{}, &ClaimError{Claim: "iat", Rule: "is required"}
	case claims.ID == "":
		return Principal{}, &ClaimError{Claim: "jti", Rule: "is required: a token without an id cannot be revoked"}
	}
	if err := checkLifetime(claims.ExpiresAt.Time, claims.IssuedAt.Time, a.maxTTL); err != nil {
		return Principal{}, err
	}
	p := Principal{Role: claims.Role, Subject: claims.Subject, Tenant: claims.Tenant, TokenID: claims.ID, IssuedAt: claims.IssuedAt.Time}
	if err := validPrincipal(&p, "sub", "tenant"); err != nil {
		return Principal{}, err
	}
	return p, nil
}

// checkLifetime refuses a token issued at iat that expires more than max
// after it.
func checkLifetime(exp, iat time.Time, max time.Duration) error {
	if life := exp.Sub(iat); life > max {
		return &ClaimError{Claim: "exp", Rule: fmt.Sprintf("the token lives %v, longer than the maximum %v", life, max)}
	}
	return nil
}
