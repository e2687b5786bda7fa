package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/edufund/edufund/storage/internal/schema"
)

// Revocation is an entry of the bearer-token revocation list: one token by
// its jti (TokenID), or every token of a Subject issued before IssuedBefore.
// Instants are kept in whole seconds, as tokens carry them.
type Revocation struct {
	TokenID      string
	Subject      string
	IssuedBefore time.Time // Subject only
	// Expires is when every token the entry names has expired anyway: the
	// entry is no longer listed after it and is deleted by a later RevokeToken.
	Expires   time.Time
	RevokedAt time.Time
	RevokedBy string
}

func (r Revocation) kindName() (kind, name string, err error) {
	switch {
	case r.TokenID != "" && r.Subject == "":
		return "token", r.TokenID, nil
	case r.Subject != "" && r.TokenID == "" && !r.IssuedBefore.IsZero():
		return "subject", r.Subject, nil
	}
	return "", "", errors.New("storage: a revocation names either a token id or a subject with the instant its tokens were issued before")
}

// revocationOf is the entry a token_revocations row holds.
func revocationOf(r schema.Revocation) Revocation {
	v := Revocation{Expires: time.Unix(r.ExpiresAt, 0).UTC(), RevokedAt: time.Unix(r.RevokedAt, 0).UTC(), RevokedBy: r.RevokedBy}
	if r.Kind == "subject" {
		v.Subject, v.IssuedBefore = r.Name, time.Unix(r.IssuedBefore.Int64, 0).UTC()
	} else {
		v.TokenID = r.Name
	}
	return v
}

// ceilSeconds rounds t up to a whole second: a subject's tokens issued
// within the second of its revocation carry that second truncated in iat,
// which must compare as before the instant.
func ceilSeconds(t time.Time) int64 {
	s := t.Unix()
	if t.Nanosecond() > 0 {
		s++
	}
	return s
}

// RevokeToken adds r to the revocation list and returns the entry as
// stored: an entry for the same token or subject is widened (the later
// IssuedBefore and Expires are kept; RevokedAt and RevokedBy are r's).
// The entries that have expired by r.RevokedAt are deleted in the same
// transaction, so the list holds only what may still name a valid token.
func (db *DB) RevokeToken(ctx context.Context, r Revocation) (Revocation, error) {
	kind, name, err := r.kindName()
	if err != nil {
		return Revocation{}, err
	}
	row := schema.Revocation{Kind: kind, Name: name, ExpiresAt: ceilSeconds(r.Expires), RevokedAt: r.RevokedAt.Unix(), RevokedBy: r.RevokedBy}
	if kind == "subject" {
		row.IssuedBefore = sql.NullInt64{Int64: ceilSeconds(r.IssuedBefore), Valid: true}
	}
	greatest := "max"
	if db.dialect == Postgres {
		greatest = "GREATEST"
	}
	var out schema.Revocation
	err = db.withRetry(ctx, func() error {
		return db.bun.RunInTx(ctx, db.txOpts, func(ctx context.Context, tx bun.Tx) error {
			if _, err := tx.NewDelete().Table("token_revocations").Where("expires_at <= ?", row.RevokedAt).Exec(ctx); err != nil {
				return err
			}
			return tx.NewRaw(`INSERT INTO token_revocations (kind, name, issued_before, expires_at, revoked_at, revoked_by)
VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (kind, name) DO UPDATE SET
    issued_before = `+greatest+`(token_revocations.issued_before, excluded.issued_before),
    expires_at = `+greatest+`(token_revocations.expires_at, excluded.expires_at),
    revoked_at = excluded.revoked_at,
    revoked_by = excluded.revoked_by
RETURNING kind, name, issued_before, expires_at, revoked_at, revoked_by`,
				row.Kind, row.Name, row.IssuedBefore, row.ExpiresAt, row.RevokedAt, row.RevokedBy).Scan(ctx, &out)
		})
	})
	if err != nil {
		return Revocation{}, fmt.Errorf("storage: revoke %s %q: %w", kind, name, err)
	}
	return revocationOf(out), nil
}

// Revocations lists the entries of the revocation list still in force at
// now (those that expire after it).
func (db *DB) Revocations(ctx context.Context, now time.Time) ([]Revocation, error) {
	var rows []schema.Revocation
	err := db.withRetry(ctx, func() error {
		rows = nil
		return db.bun.NewSelect().Table("token_revocations").
			Column("kind", "name", "issued_before", "expires_at", "revoked_at", "revoked_by").
			Where("expires_at > ?", now.Unix()).OrderExpr("kind, name").Scan(ctx, &rows)
	})
	if err != nil {
		return nil, fmt.Errorf("storage: revocations: %w", err)
	}
	out := make([]Revocation, len(rows))
	for i, r := range rows {
		out[i] = revocationOf(r)
	}
	return out, nil
}
