package api

import (
	"errors"
	"net/http"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/edufund/edufund/storage"
)

type revokeIn struct {
	JTI          string `json:"jti,omitempty"`
	Subject      string `json:"subject,omitempty"`
	IssuedBefore string `json:"issued_before,omitempty"`
}

type revocationOut struct {
	JTI          string `json:"jti,omitempty"`
	Subject      string `json:"subject,omitempty"`
	IssuedBefore string `json:"issued_before,omitempty"`
	RevokedAt    string `json:"revoked_at"`
	RevokedBy    string `json:"revoked_by"`
	KeptUntil    string `json:"kept_until"`
}

// revokeTokens puts a token (by jti) or all of a subject's tokens issued
// before an instant on the revocation list. Only the regional operator may:
// a jti or a subject names no certificate, so the server cannot tell
// whether it belongs to the adult scheme, the federal operator's. It is
// idempotent by nature: the Idempotency-Key is required as on every POST,
// and a repeat revokes again (a subject's instant, when left out, moves to
// the repeat's now).
func (h *Handler) revokeTokens(w http.ResponseWriter, r *http.Request, c call) error {
	var in revokeIn
	if err := decode(w, r, &in, false); err != nil {
		return err
	}
	var p parser
	e := storage.Revocation{TokenID: p.text("jti", in.JTI, 256, false), Subject: p.text("subject", in.Subject, 256, false), RevokedBy: c.p.Actor()}
	if p.err != nil {
		return p.err
	}
	if in.IssuedBefore != "" {
		t, err := time.Parse(time.RFC3339, in.IssuedBefore)
		if err != nil {
			return invalidField("issued_before", "must be an instant such as 2026-03-10T12:00:00Z")
		}
		e.IssuedBefore = t
	}
	stored, err := h.cfg.Revocations.Revoke(r.Context(), e)
	if err != nil {
		return err
	}
	out := revocationOut{JTI: stored.TokenID, Subject: stored.Subject, RevokedAt: instant(stored.RevokedAt),
		RevokedBy: stored.RevokedBy, KeptUntil: instant(stored.Expires)}
	if !stored.IssuedBefore.IsZero() {
		out.IssuedBefore = instant(stored.IssuedBefore)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func instant(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// tokenProblem is the 401 for a token the verifiers or the revocation list
// refused: what is wrong when that helps the caller (expired, revoked, a
// claim that maps to no edufund caller), nothing about keys or signatures.
func tokenProblem(err error) *Problem {
	detail := "the bearer token is invalid or expired"
	var ce *ClaimError
	switch {
	case errors.Is(err, ErrRevoked):
		detail = "the bearer token has been revoked"
	case errors.As(err, &ce):
		detail = "the bearer token does not sign in to edufund: " + ce.Error()
	case errors.Is(err, jwt.ErrTokenExpired):
		detail = "the bearer token has expired"
	case errors.Is(err, jwt.ErrTokenNotValidYet), errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		detail = "the bearer token is not valid yet"
	}
	return newProblem(http.StatusUnauthorized, CodeUnauthenticated, detail)
}
