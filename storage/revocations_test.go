package storage_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/edufund/edufund/storage"
	"github.com/edufund/edufund/storage/storagetest"
)

// TestRevocations: entries of both kinds are stored, widened by a second
// revocation of the same token or subject, listed until they expire,
// deleted by a later revocation once expired, and kept across a restart
// (the store opened again) on every store that outlives its DB.
func TestRevocations(t *testing.T) {
	t0 := time.Date(2026, time.March, 10, 12, 0, 0, 0, time.UTC)
	for _, kind := range storagetest.Kinds() {
		if kind == storagetest.SQLiteMemory {
			continue // does not outlive its DB
		}
		t.Run(kind, func(t *testing.T) {
			dsn := storagetest.DSN(t, kind)
			db := storagetest.OpenDSN(t, kind, dsn)

			tok, err := db.RevokeToken(ctx, storage.Revocation{TokenID: "jti-1", Expires: t0.Add(24 * time.Hour), RevokedAt: t0, RevokedBy: "regional:op"})
			require.NoError(t, err)
			require.Equal(t, storage.Revocation{TokenID: "jti-1", Expires: t0.Add(24 * time.Hour), RevokedAt: t0, RevokedBy: "regional:op"}, tok)

			// The instant its tokens were issued before rounds up to a whole
			// second: a token issued in that second carries it in iat.
			sub, err := db.RevokeToken(ctx, storage.Revocation{Subject: "ivanova", IssuedBefore: t0.Add(500 * time.Millisecond),
				Expires: t0.Add(24 * time.Hour), RevokedAt: t0, RevokedBy: "regional:op"})
			require.NoError(t, err)
			require.Equal(t, t0.Add(time.Second), sub.IssuedBefore)

			// A second revocation of the subject keeps the later instants,
			// whichever order they come in.
			later := t0.Add(time.Hour)
			sub, err = db.RevokeToken(ctx, storage.Revocation{Subject: "ivanova", IssuedBefore: later, Expires: later.Add(24 * time.Hour), RevokedAt: later, RevokedBy: "cli"})
			require.NoError(t, err)
			require.Equal(t, storage.Revocation{Subject: "ivanova", IssuedBefore: later, Expires: later.Add(24 * time.Hour), RevokedAt: later, RevokedBy: "cli"}, sub)
			sub, err = db.RevokeToken(ctx, storage.Revocation{Subject: "ivanova", IssuedBefore: t0, Expires: t0.Add(24 * time.Hour), RevokedAt: later, RevokedBy: "cli"})
			require.NoError(t, err)
			require.Equal(t, later, sub.IssuedBefore)
			require.Equal(t, later.Add(24*time.Hour), sub.Expires)

			_, err = db.RevokeToken(ctx, storage.Revocation{TokenID: "jti-short", Expires: t0.Add(time.Minute), RevokedAt: t0, RevokedBy: "cli"})
			require.NoError(t, err)

			for name, bad := range map[string]storage.Revocation{
				"neither":                 {Expires: later, RevokedAt: t0},
				"both":                    {TokenID: "x", Subject: "y", IssuedBefore: t0, Expires: later, RevokedAt: t0},
				"subject without instant": {Subject: "y", Expires: later, RevokedAt: t0},
			} {
				_, err := db.RevokeToken(ctx, bad)
				require.Error(t, err, name)
			}

			list := func(db *storage.DB, now time.Time) []string {
				t.Helper()
				rs, err := db.Revocations(ctx, now)
				require.NoError(t, err)
				var names []string
				for _, r := range rs {
					names = append(names, r.TokenID+r.Subject)
				}
				return names
			}
			require.Equal(t, []string{"ivanova", "jti-1", "jti-short"}, list(db, t0))
			require.Equal(t, []string{"ivanova", "jti-1"}, list(db, t0.Add(time.Minute)), "an expired entry is listed")

			require.NoError(t, db.Close())
			db = storagetest.OpenDSN(t, kind, dsn)
			require.Equal(t, []string{"ivanova", "jti-1", "jti-short"}, list(db, t0), "after a restart")

			// A revocation after jti-short expired deletes it.
			_, err = db.RevokeToken(ctx, storage.Revocation{TokenID: "jti-2", Expires: later.Add(24 * time.Hour), RevokedAt: later, RevokedBy: "cli"})
			require.NoError(t, err)
			require.Equal(t, []string{"ivanova", "jti-1", "jti-2"}, list(db, t0))
		})
	}
}
