package certificate

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/edufund/edufund/funding"
)

func TestNormalizeName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"  ПЕТРОВ  Пётр\tИванович \n", "петров петр иванович"},
		{"Ёлкина Алёна", "елкина алена"},
		{"", ""},
		{" \t ", ""},
		{"Smith-Jones  John", "smith-jones john"},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, NormalizeName(tt.in), "%q", tt.in)
	}
}

func TestMatchName(t *testing.T) {
	tests := []struct {
		cert, given string
		want        bool
	}{
		{"Петров Пётр Иванович", "петров  петр иванович", true},
		{"Петров Пётр Иванович", "ПЕТРОВ ПЁТР ИВАНОВИЧ ", true},
		{"Петров Пётр Иванович", "Петров Пётр", false},
		{"Петров Пётр Иванович", "Петрова Пётр Иванович", false},
		{"", "", false},
		{"Петров", " ", false},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, MatchName(tt.cert, tt.given), "%q vs %q", tt.cert, tt.given)
	}
}

var testSalt = []byte("0123456789abcdef")

func TestHashPassphrase(t *testing.T) {
	h := HashPassphrase("correct horse", testSalt)
	require.True(t, strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$MDEyMzQ1Njc4OWFiY2RlZg$"), h)
	require.Equal(t, h, HashPassphrase("correct horse", testSalt), "deterministic for a salt")
	require.NotEqual(t, h, HashPassphrase("correct horse", []byte("fedcba9876543210")))
	require.NotContains(t, h, "correct horse")

	ok, err := verifyPassphrase(h, "correct horse")
	require.NoError(t, err)
	require.True(t, ok)
	ok, err = verifyPassphrase(h, "correct horsE")
	require.NoError(t, err)
	require.False(t, ok)
}

func TestParseHashRejectsMalformed(t *testing.T) {
	good := HashPassphrase("correct horse", testSalt)
	for _, s := range []string{
		"",
		"plain",
		strings.Replace(good, "argon2id", "argon2i", 1),
		strings.Replace(good, "v=19", "v=16", 1),
		strings.Replace(good, "m=19456", "m=999999999", 1),
		strings.Replace(good, "t=2", "t=0", 1),
		strings.Replace(good, "p=1", "q=1", 1),
		good + "$x",
		good[:strings.LastIndex(good, "$")] + "$!!",
	} {
		_, err := parseHash(s)
		require.Error(t, err, s)
	}
	_, err := parseHash(good)
	require.NoError(t, err)
}

func TestSetPassphrase(t *testing.T) {
	p := Protection{Mode: Forbidden, FailedAttempts: 3, LockedUntil: time.Unix(1e9, 0)}
	require.ErrorIs(t, p.SetPassphrase("short", testSalt), funding.ErrInvalid)
	require.ErrorIs(t, p.SetPassphrase("long enough", []byte("salt")), funding.ErrInvalid)
	require.Equal(t, Forbidden, p.Mode)
	require.NoError(t, p.SetPassphrase("long enough", testSalt))
	require.Equal(t, ByPassphrase, p.Mode)
	require.Zero(t, p.FailedAttempts)
	require.True(t, p.LockedUntil.IsZero())
}

func TestCheckPassphraseLockout(t *testing.T) {
	var p Protection
	require.NoError(t, p.SetPassphrase("correct horse", testSalt))
	now := time.Date(2025, 9, 1, 10, 0, 0, 0, time.UTC)
	policy := Lockout{MaxAttempts: 3, Window: 10 * time.Minute}

	// Two wrong, then right: the counter resets.
	for i := 1; i <= 2; i++ {
		err := p.CheckPassphrase("wrong", now, policy)
		require.ErrorIs(t, err, ErrWrongPassphrase)
		require.Equal(t, i, p.FailedAttempts)
	}
	require.NoError(t, p.CheckPassphrase("correct horse", now, policy))
	require.Zero(t, p.FailedAttempts)

	// Three wrong: the third locks for the window.
	for range 3 {
		require.ErrorIs(t, p.CheckPassphrase("wrong", now, policy), ErrWrongPassphrase)
	}
	require.Equal(t, now.Add(10*time.Minute), p.LockedUntil)

	// While locked even the right passphrase is refused, and not counted.
	err := p.CheckPassphrase("correct horse", now.Add(9*time.Minute), policy)
	require.ErrorIs(t, err, ErrLockedOut)
	require.Equal(t, "locked_out", ruleCode(t, err))
	require.Equal(t, 3, p.FailedAttempts)

	// After the window the counter starts again.
	require.ErrorIs(t, p.CheckPassphrase("wrong", now.Add(10*time.Minute), policy), ErrWrongPassphrase)
	require.Equal(t, 1, p.FailedAttempts)
	require.True(t, p.LockedUntil.IsZero())
	require.NoError(t, p.CheckPassphrase("correct horse", now.Add(11*time.Minute), policy))
	require.Zero(t, p.FailedAttempts)
}

func TestCheckPassphraseDefaults(t *testing.T) {
	var p Protection
	require.NoError(t, p.SetPassphrase("correct horse", testSalt))
	now := time.Date(2025, 9, 1, 10, 0, 0, 0, time.UTC)
	for i := 1; i < DefaultMaxAttempts; i++ {
		require.ErrorIs(t, p.CheckPassphrase("wrong", now, Lockout{}), ErrWrongPassphrase)
		require.True(t, p.LockedUntil.IsZero(), "attempt %d must not lock", i)
	}
	require.ErrorIs(t, p.CheckPassphrase("wrong", now, Lockout{}), ErrWrongPassphrase)
	require.Equal(t, now.Add(DefaultLockoutWindow), p.LockedUntil)
}

func TestCheckPassphraseNoHash(t *testing.T) {
	p := Protection{Mode: ByPassphrase}
	require.ErrorIs(t, p.CheckPassphrase("x", time.Unix(0, 0), Lockout{}), ErrNoPassphrase)
	require.Zero(t, p.FailedAttempts)
}

func ruleCode(t *testing.T, err error) string {
	t.Helper()
	re, ok := err.(*funding.RuleError)
	require.True(t, ok, "%T", err)
	return re.Code
}

func TestAuthorizeProviderApplication(t *testing.T) {
	now := time.Date(2025, 9, 1, 10, 0, 0, 0, time.UTC)
	base := Certificate{Number: "1234567890", Holder: Holder{FullName: "Иванова Мария Петровна"}}
	withPass := base
	withPass.Protection.Mode = ByPassphrase
	withPass.Protection.PassphraseHash = HashPassphrase("correct horse", testSalt)
	byName := base
	byName.Protection.Mode = ByName
	forbidden := base
	forbidden.Protection.Mode = Forbidden

	tests := []struct {
		name               string
		cert               Certificate
		number             Number
		fullName, passphr  string
		want               error
		code               string
		attemptsAfterCheck int
	}{
		{"forbidden", forbidden, "1234567890", "Иванова Мария Петровна", "", ErrProviderApplicationsForbidden, "provider_applications_forbidden", 0},
		{"no mode is forbidden", base, "1234567890", "Иванова Мария Петровна", "", ErrProviderApplicationsForbidden, "provider_applications_forbidden", 0},
		{"by name ok", byName, "1234567890", " иванова мария  петровна", "", nil, "", 0},
		{"by name wrong name", byName, "1234567890", "Иванова Мария", "", ErrProtectionMismatch, "protection_mismatch", 0},
		{"by name wrong number", byName, "1234567891", "Иванова Мария Петровна", "", ErrProtectionMismatch, "protection_mismatch", 0},
		{"by passphrase ok", withPass, "1234567890", "", "correct horse", nil, "", 0},
		{"by passphrase wrong", withPass, "1234567890", "", "incorrect", ErrWrongPassphrase, "wrong_passphrase", 1},
		{"by passphrase wrong number not counted", withPass, "0234567890", "", "correct horse", ErrProtectionMismatch, "protection_mismatch", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.cert
			err := c.AuthorizeProviderApplication(tt.number, tt.fullName, tt.passphr, now, Lockout{})
			if tt.want == nil {
				require.NoError(t, err)
			} else {
				require.ErrorIs(t, err, tt.want)
				require.Equal(t, tt.code, ruleCode(t, err))
			}
			require.Equal(t, tt.attemptsAfterCheck, c.Protection.FailedAttempts)
		})
	}
}

func TestAuthorizeLockedOut(t *testing.T) {
	now := time.Date(2025, 9, 1, 10, 0, 0, 0, time.UTC)
	c := Certificate{Number: "1234567890"}
	require.NoError(t, c.Protection.SetPassphrase("correct horse", testSalt))
	c.Protection.FailedAttempts = 5
	c.Protection.LockedUntil = now.Add(time.Minute)
	err := c.AuthorizeProviderApplication("1234567890", "", "correct horse", now, Lockout{})
	require.ErrorIs(t, err, ErrLockedOut)
}

func BenchmarkCheckPassphrase(b *testing.B) {
	var p Protection
	require.NoError(b, p.SetPassphrase("correct horse", testSalt))
	now := time.Date(2025, 9, 1, 10, 0, 0, 0, time.UTC)
	for b.Loop() {
		if err := p.CheckPassphrase("correct horse", now, Lockout{}); err != nil {
			b.Fatal(err)
		}
	}
}
