package api_test

import (
	"context"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edufund/edufund/examples/server/api"
)

// verifierFunc is a Verifier that records what it was handed.
type verifierFunc func(token string) (api.Principal, error)

func (f verifierFunc) Verify(_ context.Context, token string) (api.Principal, error) { return f(token) }

// TestIssuersRoute checks how Issuers picks a token's verifier from its
// iss claim, read without checking anything: a token goes whole to the
// verifier of its issuer, and one whose issuer has none, without one, or
// that is not a token at all, is refused as malformed or of an invalid
// issuer, not handed to any.
func TestIssuersRoute(t *testing.T) {
	claims := func(json string) string {
		return "eyJhbGciOiJIUzI1NiJ9." + base64.RawURLEncoding.EncodeToString([]byte(json)) + ".sig"
	}
	var got []string
	route := func(name string) api.Verifier {
		return verifierFunc(func(token string) (api.Principal, error) {
			got = append(got, name+" "+token)
			return api.Principal{Subject: name}, nil
		})
	}
	is := api.Issuers{"a": route("a"), "b": route("b")}
	for _, c := range []struct {
		name, token, to string
		err             error
	}{
		{"issuer a", claims(`{"sub":"x","iss":"a"}`), "a", nil},
		{"issuer b, with more claims", claims(`{"iss":"b","exp":1,"aud":["q"],"n":{"iss":"a"}}`), "b", nil},
		{"another issuer", claims(`{"iss":"c"}`), "", jwt.ErrTokenInvalidIssuer},
		{"no issuer", claims(`{"sub":"x"}`), "", jwt.ErrTokenInvalidIssuer},
		{"an issuer that is not a string", claims(`{"iss":7}`), "", jwt.ErrTokenMalformed},
		{"claims that are not JSON", claims(`{"iss":"a"`), "", jwt.ErrTokenMalformed},
		{"claims that are not base64url", "eyJhbGciOiJIUzI1NiJ9.e30=.sig", "", jwt.ErrTokenMalformed},
		{"two parts", "eyJhbGciOiJIUzI1NiJ9.e30", "", jwt.ErrTokenMalformed},
		{"one part", "token", "", jwt.ErrTokenMalformed},
		{"empty", "", "", jwt.ErrTokenMalformed},
	} {
		t.Run(c.name, func(t *testing.T) {
			got = nil
			p, err := is.Verify(context.Background(), c.token)
			if c.err != nil {
				assert.ErrorIs(t, err, c.err)
				assert.Empty(t, got, "no verifier is asked")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, c.to, p.Subject)
			assert.Equal(t, []string{c.to + " " + c.token}, got, "the token goes whole to its issuer's verifier")
		})
	}

	// A real token of the server's own issuer passes through it.
	auth, err := api.NewAuth([]byte(strings.Repeat("k", api.MinKeyLen)), time.Hour, time.Hour)
	require.NoError(t, err)
	tok, err := auth.Issue(api.Principal{Role: api.RoleRegional, Subject: "operator"})
	require.NoError(t, err)
	p, err := api.Issuers{api.Issuer: auth}.Verify(context.Background(), tok)
	require.NoError(t, err)
	assert.Equal(t, "operator", p.Subject)
}

// FuzzIssuers feeds Issuers any text as a token: it never panics, and a
// refusal before a verifier is asked is a malformed token or an issuer
// without a verifier.
func FuzzIssuers(f *testing.F) {
	for _, s := range []string{"", "a.b.c", "eyJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJhIn0.x", "..", "a.e30.b", "a.bnVsbA.b"} {
		f.Add(s)
	}
	asked := false
	is := api.Issuers{"a": verifierFunc(func(string) (api.Principal, error) { asked = true; return api.Principal{}, nil })}
	f.Fuzz(func(t *testing.T, token string) {
		asked = false
		_, err := is.Verify(context.Background(), token)
		if err != nil && !asked && !errors.Is(err, jwt.ErrTokenMalformed) && !errors.Is(err, jwt.ErrTokenInvalidIssuer) {
			t.Fatalf("token %q refused with %v", token, err)
		}
	})
}
