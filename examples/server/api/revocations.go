package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/edufund/edufund/funding"
	"github.com/edufund/edufund/storage"
)

// ErrRevoked is a token on the revocation list.
var ErrRevoked = errors.New("the token has been revoked")

// RevocationStore keeps the revocation list; *storage.DB is one.
type RevocationStore interface {
	RevokeToken(ctx context.Context, r storage.Revocation) (storage.Revocation, error)
	Revocations(ctx context.Context, now time.Time) ([]storage.Revocation, error)
}

// Revocations is the revocation list as the API consults it on every
// request: a copy in memory of the store's, so that no request reads the
// database for it. Run refreshes the copy; a token revoked through another
// server instance (or the revoke command) is refused here within one
// refresh interval, one revoked through this instance at once.
type Revocations struct {
	store RevocationStore
	// keep is how long an entry outlives its instant: the longest token
	// lifetime plus the largest leeway.
	keep time.Duration
	now  func() time.Time

	refreshing sync.Mutex // one refresh or revocation at a time
	mu         sync.RWMutex
	tokens     map[string]bool
	subjects   map[string]time.Time // revoked: the tokens issued before
}

// NewRevocations returns an empty list over store for tokens that live at
// most maxTTL; call Refresh to load it. now nil is time.Now.
func NewRevocations(store RevocationStore, maxTTL time.Duration, now func() time.Time) *Revocations {
	if now == nil {
		now = time.Now
	}
	return &Revocations{store: store, keep: maxTTL + MaxLeeway, now: now, tokens: map[string]bool{}, subjects: map[string]time.Time{}}
}

// Refresh replaces the copy with the store's list.
func (r *Revocations) Refresh(ctx context.Context) error {
	r.refreshing.Lock()
	defer r.refreshing.Unlock()
	list, err := r.store.Revocations(ctx, r.now())
	if err != nil {
		return err
	}
	tokens, subjects := map[string]bool{}, map[string]time.Time{}
	for _, e := range list {
		if e.TokenID != "" {
			tokens[e.TokenID] = true
		} else {
			subjects[e.Subject] = e.IssuedBefore
		}
	}
	r.mu.Lock()
	r.tokens, r.subjects = tokens, subjects
	r.mu.Unlock()
	return nil
}

// Run refreshes the list every interval until ctx ends. A refresh that
// fails keeps the last copy and is logged: revocations made elsewhere are
// then not seen here until the database answers again.
func (r *Revocations) Run(ctx context.Context, every time.Duration, log *slog.Logger) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := r.Refresh(ctx); err != nil && ctx.Err() == nil {
				log.WarnContext(ctx, "the revocation list could not be refreshed; the last copy is kept", "err", err)
			}
		}
	}
}

// Revoked reports whether p signed in with a revoked token: its jti is on
// the list, or its subject is with an instant after the token's iat (a
// token without iat counts as issued before).
func (r *Revocations) Revoked(p Principal) bool {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if p.TokenID != "" && r.tokens[p.TokenID] {
		return true
	}
	before, ok := r.subjects[p.Subject]
	return ok && (p.IssuedAt.IsZero() || p.IssuedAt.Before(before))
}

// maxRevokedName bounds a jti or subject to revoke.
const maxRevokedName = 256

// Revoke puts e on the list: e.TokenID names one token, or e.Subject every
// token of a subject issued before e.IssuedBefore (zero: now). Revoke sets
// the instants and how long the entry is kept, stores it, and adds it to
// this copy at once. Bad input is a *funding.ValidationError naming the
// field as the API does (jti, subject, issued_before).
func (r *Revocations) Revoke(ctx context.Context, e storage.Revocation) (storage.Revocation, error) {
	now := r.now()
	e.RevokedAt, e.Expires = now, now.Add(r.keep)
	switch {
	case (e.TokenID == "") == (e.Subject == ""):
		return e, &funding.ValidationError{Field: "jti", Rule: "give either jti (one token) or subject (all of a subject's tokens)"}
	case len(e.TokenID) > maxRevokedName:
		return e, &funding.ValidationError{Field: "jti", Rule: fmt.Sprintf("must be at most %d bytes", maxRevokedName)}
	case len(e.Subject) > maxRevokedName:
		return e, &funding.ValidationError{Field: "subject", Rule: fmt.Sprintf("must be at most %d bytes", maxRevokedName)}
	case e.TokenID != "" && !e.IssuedBefore.IsZero():
		return e, &funding.ValidationError{Field: "issued_before", Rule: "applies to a subject only"}
	case e.Subject != "" && e.IssuedBefore.IsZero():
		e.IssuedBefore = now
	case e.Subject != "" && e.IssuedBefore.After(now):
		return e, &funding.ValidationError{Field: "issued_before", Rule: "must not be in the future", Value: e.IssuedBefore.Format(time.RFC3339)}
	case e.Subject != "" && e.IssuedBefore.Before(now.Add(-r.keep)):
		return e, &funding.ValidationError{Field: "issued_before", Rule: fmt.Sprintf("must be within the last %v: tokens issued earlier have expired", r.keep),
			Value: e.IssuedBefore.Format(time.RFC3339)}
	}
	if e.Subject != "" {
		e.Expires = e.IssuedBefore.Add(r.keep)
	}
	r.refreshing.Lock()
	defer r.refreshing.Unlock()
	stored, err := r.store.RevokeToken(ctx, e)
	if err != nil {
		return stored, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if stored.TokenID != "" {
		r.tokens[stored.TokenID] = true
	} else {
		r.subjects[stored.Subject] = stored.IssuedBefore
	}
	return stored, nil
}
