package api_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/edufund/edufund/examples/server/api"
	"github.com/edufund/edufund/examples/server/demo"
	"github.com/edufund/edufund/storage"
	"github.com/edufund/edufund/storage/storagetest"
)

// TestRevokeTokens: the regional operator revokes one token by its jti and
// then a subject's tokens; they are refused (401) at once on this server
// and, after its refresh, on another instance over the same database,
// while the other tokens still pass. Bad requests name the field; other
// roles may not revoke.
func TestRevokeTokens(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		const path = "/v1/admin/tokens/revoke"
		cert := "/v1/certificates/" + e.demo.CertificateID("child-active-funded").String()
		ivanova1, ivanova2, petrov := e.holder(demo.GuardianIvanova), e.holder(demo.GuardianIvanova), e.holder(demo.GuardianPetrov)
		regional := e.regional()
		jti := func(tok string) string {
			p, err := e.auth.Verify(ctx, tok)
			if err != nil {
				t.Fatal(err)
			}
			return p.TokenID
		}
		// Another server instance over the same database.
		other := api.NewRevocations(e.db, time.Hour, func() time.Time { return e.clock.T })
		if err := other.Refresh(ctx); err != nil {
			t.Fatal(err)
		}
		revokedElsewhere := func(tok string) bool {
			p, err := e.auth.Verify(ctx, tok)
			if err != nil {
				t.Fatal(err)
			}
			return other.Revoked(p)
		}

		for who, tok := range map[string]string{"holder": ivanova1, "federal": e.federal(), "municipality": e.municipality(demo.MunCity)} {
			e.must(http.StatusForbidden, "POST", path, tok, "revoke-"+who, map[string]string{"jti": jti(ivanova1)})
		}
		for i, c := range []struct {
			body  any
			field string
		}{
			{map[string]string{}, "jti"},
			{map[string]string{"jti": "a", "subject": "b"}, "jti"},
			{map[string]string{"jti": "a", "issued_before": "2026-03-10T00:00:00Z"}, "issued_before"},
			{map[string]string{"subject": "b", "issued_before": "2026-03-11T00:00:00Z"}, "issued_before"},
			{map[string]string{"subject": "b", "issued_before": "2025-01-01T00:00:00Z"}, "issued_before"},
			{map[string]string{"subject": strings.Repeat("s", 257)}, "subject"},
			{map[string]string{"jit": "a"}, "jit"},
		} {
			e.validate = false // some of these break the document's schema on purpose
			r := e.must(http.StatusBadRequest, "POST", path, regional, "bad-"+string(rune('a'+i)), c.body)
			e.validate = true
			if p := r.problem(t); p.Field != c.field {
				t.Errorf("%v: field %q, want %q (%s)", c.body, p.Field, c.field, p.Detail)
			}
		}

		var out struct {
			JTI          string `json:"jti"`
			Subject      string
			IssuedBefore string `json:"issued_before"`
			RevokedBy    string `json:"revoked_by"`
			KeptUntil    string `json:"kept_until"`
		}
		e.must(http.StatusOK, "POST", path, regional, "revoke-1", map[string]string{"jti": jti(ivanova1)}).json(t, &out)
		if out.JTI != jti(ivanova1) || out.RevokedBy != "regional:operator" || out.KeptUntil != testNow.Add(2000*time.Hour+api.MaxLeeway).Format(time.RFC3339) {
			t.Errorf("revoked: %+v", out)
		}
		r := e.must(http.StatusUnauthorized, "GET", cert, ivanova1, "", nil)
		if p := r.problem(t); p.Detail != "the bearer token has been revoked" {
			t.Errorf("revoked token: %+v", p)
		}
		e.must(http.StatusOK, "GET", cert, ivanova2, "", nil)
		if revokedElsewhere(ivanova1) {
			t.Error("another instance refused the token before its refresh")
		}
		if err := other.Refresh(ctx); err != nil {
			t.Fatal(err)
		}
		if !revokedElsewhere(ivanova1) || revokedElsewhere(ivanova2) {
			t.Error("another instance after its refresh: want the revoked token refused and only it")
		}

		// The subject's tokens issued before now; one issued later passes.
		e.clock.T = e.clock.T.Add(time.Second)
		e.must(http.StatusOK, "POST", path, regional, "revoke-2", map[string]string{"subject": demo.GuardianIvanova}).json(t, &out)
		if out.Subject != demo.GuardianIvanova || out.IssuedBefore != e.clock.T.Format(time.RFC3339) {
			t.Errorf("revoked: %+v", out)
		}
		e.must(http.StatusUnauthorized, "GET", cert, ivanova2, "", nil)
		e.clock.T = e.clock.T.Add(time.Second)
		e.must(http.StatusOK, "GET", cert, e.holder(demo.GuardianIvanova), "", nil)
		e.must(http.StatusOK, "GET", "/v1/certificates/"+e.demo.CertificateID("child-suspended").String(), petrov, "", nil)
		e.must(http.StatusOK, "GET", cert, regional, "", nil)
		if err := other.Refresh(ctx); err != nil {
			t.Fatal(err)
		}
		if !revokedElsewhere(ivanova2) || revokedElsewhere(petrov) {
			t.Error("another instance after its refresh: want ivanova's older tokens refused and petrov's not")
		}
	})
}

// TestRevocationsSurviveRestart: the list is in the database, so a server
// started again (the store opened anew) refuses what was revoked before.
func TestRevocationsSurviveRestart(t *testing.T) {
	for _, kind := range storagetest.Kinds() {
		if kind == storagetest.SQLiteMemory || kind == storagetest.PostgresPortable {
			continue
		}
		t.Run(kind, func(t *testing.T) {
			ctx := context.Background()
			dsn := storagetest.DSN(t, kind)
			db := storagetest.OpenDSN(t, kind, dsn)
			now := time.Now()
			revs := api.NewRevocations(db, time.Hour, nil)
			for _, e := range []storage.Revocation{{TokenID: "leaked"}, {Subject: "mallory"}} {
				if _, err := revs.Revoke(ctx, e); err != nil {
					t.Fatal(err)
				}
			}
			if err := db.Close(); err != nil {
				t.Fatal(err)
			}
			revs = api.NewRevocations(storagetest.OpenDSN(t, kind, dsn), time.Hour, nil)
			if err := revs.Refresh(ctx); err != nil {
				t.Fatal(err)
			}
			earlier := now.Add(-time.Minute)
			for p, want := range map[api.Principal]bool{
				{Subject: "alice", TokenID: "leaked", IssuedAt: earlier}:             true,
				{Subject: "alice", TokenID: "fine", IssuedAt: earlier}:               false,
				{Subject: "mallory", TokenID: "fine", IssuedAt: earlier}:             true,
				{Subject: "mallory", TokenID: "fine"}:                                true, // no iat: counts as issued before
				{Subject: "mallory", TokenID: "new", IssuedAt: now.Add(time.Minute)}: false,
			} {
				if got := revs.Revoked(p); got != want {
					t.Errorf("after a restart, Revoked(%+v) = %v, want %v", p, got, want)
				}
			}
		})
	}
}
