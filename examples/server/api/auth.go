package api

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"github.com/edufund/edufund/enrollment"
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
)

// Roles lists every role.
var Roles = enrollment.Roles

// Principal is an authenticated caller.
type Principal struct {
	Role    Role
	Subject string // who: a user name or id, for logs and the ledger's actor
	Tenant  string // what they act for; see the Role constants
}

// Actor is how the caller is recorded in the ledger and the idempotency record.
func (p Principal) Actor() string { return p.caller().Actor() }

// caller is the principal as the service's rules see it: what may be read
// and changed is decided there, for every edge alike.
func (p Principal) caller() enrollment.Caller {
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

// Claims are the JWT claims edufund reads: the registered ones (sub, exp,
// iat, iss) and the role and tenant.
type Claims struct {
	Role   Role   `json:"role"`
	Tenant string `json:"tenant,omitempty"`
	jwt.RegisteredClaims
}

// Issuer is the iss claim of the tokens the server issues and accepts.
const Issuer = "edufund"

// Auth issues and verifies HS256 bearer tokens.
type Auth struct {
	key []byte
	ttl time.Duration
	now func() time.Time
}

// MinKeyLen is the shortest HS256 key accepted: 256 bits.
const MinKeyLen = 32

// NewAuth returns an Auth signing with key; tokens it issues live for ttl.
func NewAuth(key []byte, ttl time.Duration) (*Auth, error) {
	if len(key) < MinKeyLen {
		return nil, fmt.Errorf("auth: the signing key must be at least %d bytes", MinKeyLen)
	}
	if ttl <= 0 {
		return nil, errors.New("auth: the token lifetime must be positive")
	}
	return &Auth{key: append([]byte(nil), key...), ttl: ttl, now: time.Now}, nil
}

// WithClock makes the Auth read the time from now (tests).
func (a *Auth) WithClock(now func() time.Time) *Auth {
	b := *a
	b.now = now
	return &b
}

func validPrincipal(p Principal) error {
	if !p.Role.Known() {
		return fmt.Errorf("unknown role %q", p.Role)
	}
	if strings.TrimSpace(p.Subject) == "" {
		return errors.New("the subject is empty")
	}
	switch p.Role {
	case RoleHolder, RoleMunicipality:
		if strings.TrimSpace(p.Tenant) == "" {
			return fmt.Errorf("role %s needs a tenant", p.Role)
		}
	case RoleProvider:
		if _, err := parseUUID(p.Tenant); err != nil {
			return errors.New("role provider needs the provider id as its tenant")
		}
	}
	return nil
}

// Issue signs a token for p that expires after the Auth's ttl.
func (a *Auth) Issue(p Principal) (string, error) {
	if err := validPrincipal(p); err != nil {
		return "", fmt.Errorf("auth: %w", err)
	}
	now := a.now()
	claims := Claims{Role: p.Role, Tenant: p.Tenant, RegisteredClaims: jwt.RegisteredClaims{
		Issuer: Issuer, Subject: p.Subject,
		IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(a.ttl)),
	}}
	return jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(a.key)
}

// Verify checks a token: HS256 only, signed with the key, issued by Issuer,
// not expired (exp required), with a known role and the tenant it needs.
func (a *Auth) Verify(token string) (Principal, error) {
	var claims Claims
	_, err := jwt.ParseWithClaims(token, &claims, func(*jwt.Token) (any, error) { return a.key, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithExpirationRequired(),
		jwt.WithIssuer(Issuer),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(30*time.Second),
		jwt.WithTimeFunc(a.now),
		jwt.WithStrictDecoding(),
	)
	if err != nil {
		return Principal{}, err
	}
	p := Principal{Role: claims.Role, Subject: claims.Subject, Tenant: claims.Tenant}
	if err := validPrincipal(p); err != nil {
		return Principal{}, err
	}
	return p, nil
}
