package certificate

import (
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"

	"github.com/edufund/edufund/funding"
)

// NormalizeName brings a full name to the form names are compared in:
// lower case, ё read as е, surrounding spaces trimmed and every run of
// white space collapsed to one space. "  ПЕТРОВ  Пётр " → "петров петр".
func NormalizeName(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range s {
		if unicode.IsSpace(r) {
			space = b.Len() > 0
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		r = unicode.ToLower(r)
		if r == 'ё' {
			r = 'е'
		}
		b.WriteRune(r)
	}
	return b.String()
}

// MatchName reports whether given names the same person as certFullName
// after NormalizeName. An empty name never matches. The comparison takes
// time independent of where the names differ.
func MatchName(certFullName, given string) bool {
	a, b := NormalizeName(certFullName), NormalizeName(given)
	if a == "" || b == "" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// Argon2id parameters of HashPassphrase: the OWASP minimum for argon2id
// (19 MiB, 2 passes, 1 lane), slow enough to make guessing expensive and
// fast enough (tens of milliseconds) for an interactive check.
const (
	ArgonMemoryKiB = 19456
	ArgonTime      = 2
	ArgonThreads   = 1
	argonKeyLen    = 32
	// MinSaltLen is the shortest salt SetPassphrase accepts.
	MinSaltLen = 16
	// MinPassphraseLen is the shortest passphrase, in characters, that
	// SetPassphrase accepts.
	MinPassphraseLen = 8
)

var b64 = base64.RawStdEncoding

// HashPassphrase hashes pass with argon2id and salt and encodes the result
// in the PHC string form
//
//	$argon2id$v=19$m=19456,t=2,p=1$<salt, base64>$<hash, base64>
//
// so that the parameters travel with the hash and can be raised later. The
// salt should be 16 random bytes (crypto/rand), fresh for every passphrase.
func HashPassphrase(pass string, salt []byte) string {
	key := argon2.IDKey([]byte(pass), salt, ArgonTime, ArgonMemoryKiB, ArgonThreads, argonKeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, ArgonMemoryKiB, ArgonTime, ArgonThreads, b64.EncodeToString(salt), b64.EncodeToString(key))
}

type phc struct {
	memory  uint32
	time    uint32
	threads uint8
	salt    []byte
	key     []byte
}

// parseHash reads the form HashPassphrase writes, with sanity bounds on the
// parameters so that a corrupt row cannot make a check allocate gigabytes.
func parseHash(s string) (phc, error) {
	bad := fmt.Errorf("certificate: malformed passphrase hash")
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" || parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return phc{}, bad
	}
	var h phc
	for kv := range strings.SplitSeq(parts[3], ",") {
		k, v, ok := strings.Cut(kv, "=")
		n, err := strconv.ParseUint(v, 10, 32)
		if !ok || err != nil || n == 0 {
			return phc{}, bad
		}
		switch k {
		case "m":
			h.memory = uint32(n)
		case "t":
			h.time = uint32(n)
		case "p":
			if n > 255 {
				return phc{}, bad
			}
			h.threads = uint8(n)
		default:
			return phc{}, bad
		}
	}
	if h.memory == 0 || h.time == 0 || h.threads == 0 || h.memory > 1<<20 || h.time > 16 {
		return phc{}, bad
	}
	var err error
	if h.salt, err = b64.DecodeString(parts[4]); err != nil || len(h.salt) == 0 {
		return phc{}, bad
	}
	if h.key, err = b64.DecodeString(parts[5]); err != nil || len(h.key) < 16 {
		return phc{}, bad
	}
	return h, nil
}

// verifyPassphrase recomputes the hash with the stored parameters and
// compares in constant time.
func verifyPassphrase(encoded, pass string) (bool, error) {
	h, err := parseHash(encoded)
	if err != nil {
		return false, err
	}
	key := argon2.IDKey([]byte(pass), h.salt, h.time, h.memory, h.threads, uint32(len(h.key)))
	return subtle.ConstantTimeCompare(key, h.key) == 1, nil
}

// Lockout is the policy against guessing passphrases.
type Lockout struct {
	// MaxAttempts is the number of consecutive wrong passphrases that locks
	// the certificate; 0 means DefaultMaxAttempts.
	MaxAttempts int
	// Window is how long the lock lasts from the attempt that set it; 0
	// means DefaultLockoutWindow. After it the counter starts again from 0.
	Window time.Duration
}

// Defaults of Lockout.
const (
	DefaultMaxAttempts   = 5
	DefaultLockoutWindow = 15 * time.Minute
)

// DefaultLockout is 5 attempts, then 15 minutes locked.
func DefaultLockout() Lockout {
	return Lockout{MaxAttempts: DefaultMaxAttempts, Window: DefaultLockoutWindow}
}

func (l Lockout) withDefaults() Lockout {
	if l.MaxAttempts <= 0 {
		l.MaxAttempts = DefaultMaxAttempts
	}
	if l.Window <= 0 {
		l.Window = DefaultLockoutWindow
	}
	return l
}

// Locked reports whether the certificate is locked out at now.
func (p *Protection) Locked(now time.Time) bool {
	return !p.LockedUntil.IsZero() && now.Before(p.LockedUntil)
}

// SetPassphrase stores the hash of pass (with salt, see HashPassphrase),
// switches the mode to ByPassphrase and clears any lockout.
func (p *Protection) SetPassphrase(pass string, salt []byte) error {
	if utf8.RuneCountInString(strings.TrimSpace(pass)) < MinPassphraseLen {
		return &funding.ValidationError{Field: "passphrase", Rule: fmt.Sprintf("must have at least %d characters", MinPassphraseLen)}
	}
	if len(salt) < MinSaltLen {
		return &funding.ValidationError{Field: "salt", Rule: fmt.Sprintf("must have at least %d random bytes", MinSaltLen)}
	}
	p.Mode = ByPassphrase
	p.PassphraseHash = HashPassphrase(pass, salt)
	p.FailedAttempts = 0
	p.LockedUntil = time.Time{}
	return nil
}

// CheckPassphrase checks pass against the stored hash at now under policy,
// updating FailedAttempts and LockedUntil; the caller persists p whatever the
// result, in the same transaction that holds the certificate's row.
//
//   - While locked (now before LockedUntil): ErrLockedOut, without hashing.
//   - When a lock has run out, the counter starts again from 0.
//   - Wrong: FailedAttempts+1 and ErrWrongPassphrase; the attempt that
//     reaches MaxAttempts also sets LockedUntil = now + Window.
//   - Right: nil, counter and lock cleared.
//   - No passphrase set: ErrNoPassphrase (not counted as an attempt).
func (p *Protection) CheckPassphrase(pass string, now time.Time, policy Lockout) error {
	policy = policy.withDefaults()
	if p.Locked(now) {
		return funding.Refuse(ErrLockedOut, CodeLockedOut, "until %s", p.LockedUntil.UTC().Format(time.RFC3339))
	}
	if !p.LockedUntil.IsZero() {
		p.LockedUntil = time.Time{}
		p.FailedAttempts = 0
	}
	if p.PassphraseHash == "" {
		return funding.Refuse(ErrNoPassphrase, CodeNoPassphrase, "the holder has not set a passphrase")
	}
	ok, err := verifyPassphrase(p.PassphraseHash, pass)
	if err != nil {
		return err
	}
	if ok {
		p.FailedAttempts = 0
		return nil
	}
	p.FailedAttempts++
	if p.FailedAttempts >= policy.MaxAttempts {
		p.LockedUntil = now.Add(policy.Window)
		return funding.Refuse(ErrWrongPassphrase, CodeWrongPassphrase,
			"attempt %d of %d; locked until %s", p.FailedAttempts, policy.MaxAttempts, p.LockedUntil.UTC().Format(time.RFC3339))
	}
	return funding.Refuse(ErrWrongPassphrase, CodeWrongPassphrase, "attempt %d of %d", p.FailedAttempts, policy.MaxAttempts)
}

// AuthorizeProviderApplication decides whether a provider may create an
// application on this certificate in the holder's presence, under the
// certificate's protection mode:
//
//   - Forbidden (or no mode): ErrProviderApplicationsForbidden.
//   - ByName: number and the holder's full name (NormalizeName) must match,
//     else ErrProtectionMismatch.
//   - ByPassphrase: number must match (else ErrProtectionMismatch, not
//     counted as an attempt), then CheckPassphrase; the caller persists the
//     changed Protection even on refusal.
//
// The certificate's status is not checked here: whether an application may
// be submitted on it is a rule of enrolment.
func (c *Certificate) AuthorizeProviderApplication(number Number, fullName, passphrase string, now time.Time, policy Lockout) error {
	switch c.Protection.Mode {
	case ByName, ByPassphrase:
	default:
		return funding.Refuse(ErrProviderApplicationsForbidden, CodeProviderApplicationsForbidden,
			"certificate %s accepts applications from its holder only", c.Number)
	}
	if c.Number == "" || subtle.ConstantTimeCompare([]byte(number), []byte(c.Number)) != 1 {
		return funding.Refuse(ErrProtectionMismatch, CodeProtectionMismatch, "certificate number does not match")
	}
	if c.Protection.Mode == ByName {
		if !MatchName(c.Holder.FullName, fullName) {
			return funding.Refuse(ErrProtectionMismatch, CodeProtectionMismatch, "holder's full name does not match")
		}
		return nil
	}
	return c.Protection.CheckPassphrase(passphrase, now, policy)
}

// ChangeProtection is the holder's choice of how providers may apply for
// them (seed 002): mode is forbidden, by_name or by_passphrase. A
// passphrase (with a fresh salt, as SetPassphrase) is set or rotated only
// with by_passphrase; switching there needs one unless one is set already.
// Leaving by_passphrase forgets the passphrase and its lockout, so that
// coming back asks for a new one. It reports whether anything changed.
func (c *Certificate) ChangeProtection(mode ProtectionMode, pass string, salt []byte) (bool, error) {
	switch mode {
	case Forbidden, ByName, ByPassphrase:
	default:
		return false, &funding.ValidationError{Field: "mode", Rule: "must be forbidden, by_name or by_passphrase", Value: string(mode)}
	}
	p := &c.Protection
	if mode != ByPassphrase {
		if pass != "" {
			return false, &funding.ValidationError{Field: "passphrase", Rule: "is only used with by_passphrase"}
		}
		if p.Mode == mode {
			return false, nil
		}
		*p = Protection{Mode: mode}
		return true, nil
	}
	if pass == "" {
		if p.Mode == ByPassphrase && p.PassphraseHash != "" {
			return false, nil
		}
		return false, &funding.ValidationError{Field: "passphrase", Rule: "is required to switch to by_passphrase"}
	}
	return true, p.SetPassphrase(pass, salt)
}

// RequireKnownProvider is the by-name mode's second condition (seed 002):
// a provider may create an application by the child's number and name
// only if the child has applied to that provider before; appliedBefore
// says whether it has. Other modes are decided by
// AuthorizeProviderApplication alone.
func (c *Certificate) RequireKnownProvider(appliedBefore bool) error {
	if c.Protection.Mode != ByName || appliedBefore {
		return nil
	}
	return funding.Refuse(ErrUnknownProvider, CodeUnknownProvider,
		"certificate %s accepts applications by name only from providers the child has applied to before", c.Number)
}
