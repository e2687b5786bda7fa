package certificate_test

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/funding"
)

func TestChangeProtection(t *testing.T) {
	salt := bytes.Repeat([]byte{7}, certificate.MinSaltLen)
	hash := certificate.HashPassphrase("старое слово", salt)
	withPass := certificate.Protection{Mode: certificate.ByPassphrase, PassphraseHash: hash, FailedAttempts: 3}
	for _, tc := range []struct {
		name    string
		from    certificate.Protection
		mode    certificate.ProtectionMode
		pass    string
		changed bool
		err     error
		want    certificate.Protection // PassphraseHash "set": a new one
	}{
		{"forbidden to by name", certificate.Protection{Mode: certificate.Forbidden}, certificate.ByName, "", true, nil, certificate.Protection{Mode: certificate.ByName}},
		{"no mode to forbidden", certificate.Protection{}, certificate.Forbidden, "", true, nil, certificate.Protection{Mode: certificate.Forbidden}},
		{"same mode", certificate.Protection{Mode: certificate.ByName}, certificate.ByName, "", false, nil, certificate.Protection{Mode: certificate.ByName}},
		{"by passphrase kept", withPass, certificate.ByPassphrase, "", false, nil, withPass},
		{"leaving forgets", withPass, certificate.ByName, "", true, nil, certificate.Protection{Mode: certificate.ByName}},
		{"set", certificate.Protection{Mode: certificate.ByName}, certificate.ByPassphrase, "зелёный слон", true, nil,
			certificate.Protection{Mode: certificate.ByPassphrase, PassphraseHash: "set"}},
		{"rotated, lockout cleared", withPass, certificate.ByPassphrase, "новое слово", true, nil,
			certificate.Protection{Mode: certificate.ByPassphrase, PassphraseHash: "set"}},
		{"unknown mode", withPass, "open", "", false, funding.ErrInvalid, withPass},
		{"passphrase elsewhere", certificate.Protection{Mode: certificate.Forbidden}, certificate.ByName, "зелёный слон", false, funding.ErrInvalid,
			certificate.Protection{Mode: certificate.Forbidden}},
		{"by passphrase without one", certificate.Protection{Mode: certificate.ByName}, certificate.ByPassphrase, "", false, funding.ErrInvalid,
			certificate.Protection{Mode: certificate.ByName}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := certificate.Certificate{Protection: tc.from}
			changed, err := c.ChangeProtection(tc.mode, tc.pass, salt)
			if tc.err != nil {
				require.ErrorIs(t, err, tc.err)
			} else {
				require.NoError(t, err)
			}
			require.Equal(t, tc.changed, changed)
			if tc.want.PassphraseHash == "set" {
				require.NotEqual(t, hash, c.Protection.PassphraseHash)
				require.Equal(t, certificate.HashPassphrase(tc.pass, salt), c.Protection.PassphraseHash)
				tc.want.PassphraseHash = c.Protection.PassphraseHash
			}
			require.Equal(t, tc.want, c.Protection)
		})
	}
}

func TestRequireKnownProvider(t *testing.T) {
	for _, tc := range []struct {
		mode  certificate.ProtectionMode
		known bool
		err   error
	}{
		{certificate.ByName, false, certificate.ErrUnknownProvider},
		{certificate.ByName, true, nil},
		{certificate.ByPassphrase, false, nil},
		{certificate.Forbidden, false, nil},
	} {
		c := certificate.Certificate{Number: "0123456789", Protection: certificate.Protection{Mode: tc.mode}}
		err := c.RequireKnownProvider(tc.known)
		if tc.err == nil {
			require.NoError(t, err, tc.mode)
			continue
		}
		require.ErrorIs(t, err, tc.err, tc.mode)
		var re *funding.RuleError
		require.ErrorAs(t, err, &re)
		require.Equal(t, certificate.CodeUnknownProvider, re.Code)
	}
}
