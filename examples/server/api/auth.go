package api

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/enrollment"
)

// Role is what a caller is in the schemes.
type Role string

const (
	// RoleHolder is a parent acting for a child's certificate (tenant: the
	// guardian id) or an adult acting for their own (tenant: the person id).
	RoleHolder Role = "holder"
	// RoleProvider is an organisation that teaches (tenant: its provider id).
	RoleProvider Role = "provider"
	// RoleMunicipality is a municipal authority (tenant: the municipality code).
	RoleMunicipality Role = "municipality"
	// RoleRegional is the regional operator: the whole children's scheme of the region.
	RoleRegional Role = "regional"
	// RoleFederal is the federal operator: the whole adult scheme.
	RoleFederal Role = "federal"
)

// Roles lists every role.
var Roles = []Role{RoleHolder, RoleProvider, RoleMunicipality, RoleRegional, RoleFederal}

func (r Role) known() bool {
	for _, k := range Roles {
		if r == k {
			return true
		}
	}
	return false
}

// Principal is an authenticated caller.
type Principal struct {
	Role    Role
	Subject string // who: a user name or id, for logs and the ledger's actor
	Tenant  string // what they act for; see the Role constants
}

// Actor is how the caller is recorded in the ledger and the idempotency record.
func (p Principal) Actor() string { return string(p.Role) + ":" + p.Subject }

// providerID is the provider tenant as a UUID (uuid.Nil for other roles).
func (p Principal) providerID() uuid.UUID {
	if p.Role != RoleProvider {
		return uuid.Nil
	}
	id, _ := uuid.Parse(p.Tenant)
	return id
}

// ownsCertificate reports whether the caller may see and act on c (within
// what its role may do at all).
func (p Principal) ownsCertificate(c certificate.Certificate) bool {
	switch p.Role {
	case RoleHolder:
		return (c.GuardianID != "" && c.GuardianID == p.Tenant) || (c.Holder.PersonID != "" && c.Holder.PersonID == p.Tenant)
	case RoleMunicipality:
		return c.Scheme == certificate.Supplementary && c.Municipality == p.Tenant
	case RoleRegional:
		return c.Scheme == certificate.Supplementary
	case RoleFederal:
		return c.Scheme == certificate.DigitalSkills
	}
	return false
}

// seesContract reports whether the caller may see contract k of certificate c.
func (p Principal) seesContract(k enrollment.Contract, c certificate.Certificate) bool {
	if p.Role == RoleProvider {
		return k.ProviderID == p.providerID()
	}
	if p.Role == RoleMunicipality {
		return k.Municipality == p.Tenant
	}
	return p.ownsCertificate(c)
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
	if !p.Role.known() {
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
