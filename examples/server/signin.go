package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/edufund/edufund/examples/server/api"
	"github.com/edufund/edufund/storage"
)

// signIn builds the verifiers of serve: the region's identity provider
// when -oidc names its configuration, and the HS256 demo tokens unless
// the identity provider alone signs callers in (with -oidc, the demo tokens
// are accepted only when -jwt-key sets their key; without it, a random key
// serves this run). auth is nil when the demo tokens are off; note says
// what signs callers in, for the start banner. The identity provider's
// keys are refreshed until ctx ends.
func signIn(ctx context.Context, o options, logger *slog.Logger) (auth *api.Auth, vs api.Issuers, note string, err error) {
	vs = api.Issuers{}
	if o.oidc != "" {
		cfg, err := api.LoadOIDCConfig(o.oidc)
		if err != nil {
			return nil, nil, "", fmt.Errorf("-oidc: %w", err)
		}
		idp, err := api.NewOIDC(ctx, cfg, api.OIDCOptions{MaxTTL: o.maxTTL, Logger: logger})
		if err != nil {
			return nil, nil, "", fmt.Errorf("-oidc: %w", err)
		}
		vs[idp.Issuer()] = idp
		note = "identity provider " + idp.Issuer() + ", "
	}
	key := []byte(o.jwtKey)
	switch {
	case len(key) == 0 && o.oidc != "":
		return nil, vs, note + "no demo tokens (set -jwt-key or EDUFUND_JWT_KEY to accept them too)", nil
	case len(key) == 0:
		key = make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return nil, nil, "", err
		}
		note += "demo tokens signed with a key random for this run (set -jwt-key or EDUFUND_JWT_KEY to keep tokens across restarts)"
	default:
		note += "demo tokens signed with -jwt-key"
	}
	if auth, err = api.NewAuth(key, o.tokenTTL, o.maxTTL); err != nil {
		return nil, nil, "", fmt.Errorf("-jwt-key, -token-ttl, -max-token-ttl: %w", err)
	}
	vs[api.Issuer] = auth
	return auth, vs, note, nil
}

// revocations loads the revocation list and refreshes it every
// -revocation-refresh until ctx ends.
func revocations(ctx context.Context, o options, db *storage.DB, logger *slog.Logger) (*api.Revocations, error) {
	if o.revocationRefresh <= 0 {
		return nil, fmt.Errorf("-revocation-refresh: %v: must be positive", o.revocationRefresh)
	}
	revs := api.NewRevocations(db, o.maxTTL, nil)
	if err := revs.Refresh(ctx); err != nil {
		return nil, fmt.Errorf("revocation list: %w", err)
	}
	go revs.Run(ctx, o.revocationRefresh, logger)
	return revs, nil
}

// revoke is the revoke command: one token by -jti, or every token of
// -subject issued before -issued-before (default now), through the same
// method as POST /v1/admin/tokens/revoke.
func revoke(ctx context.Context, o options, db *storage.DB, out io.Writer) error {
	e := storage.Revocation{TokenID: o.jti, Subject: o.subject, RevokedBy: "cli:" + os.Getenv("USER")}
	if o.issuedBefore != "" {
		t, err := time.Parse(time.RFC3339, o.issuedBefore)
		if err != nil {
			return fmt.Errorf("-issued-before: %q: must be an instant such as 2026-03-10T12:00:00Z", o.issuedBefore)
		}
		e.IssuedBefore = t
	}
	stored, err := api.NewRevocations(db, o.maxTTL, nil).Revoke(ctx, e)
	if err != nil {
		return err
	}
	if stored.TokenID != "" {
		fmt.Fprintf(out, "revoked token %s", stored.TokenID)
	} else {
		fmt.Fprintf(out, "revoked the tokens of %s issued before %s", stored.Subject, stored.IssuedBefore.Format(time.RFC3339))
	}
	fmt.Fprintf(out, "; running servers refuse them within their -revocation-refresh; the entry is kept until %s\n", stored.Expires.Format(time.RFC3339))
	return nil
}
