package enrollment

import (
	"context"
	"crypto/rand"

	"github.com/google/uuid"

	"github.com/edufund/edufund/certificate"
)

// The holder's protection events.
const (
	// CertificateProtectionChanged: the holder switched the mode (payload:
	// before, after, passphrase_set).
	CertificateProtectionChanged EventType = "certificate.protection_changed"
	// CertificatePassphraseRotated: the holder set a new passphrase and the
	// mode stayed by_passphrase.
	CertificatePassphraseRotated EventType = "certificate.passphrase_rotated"
)

// ProtectionRequest is the holder's choice of how providers may apply for
// the certificate (seed 002): the guardian of a child's certificate, the
// adult of their own.
type ProtectionRequest struct {
	CertificateID uuid.UUID
	Mode          certificate.ProtectionMode
	// Passphrase sets or rotates the passphrase of by_passphrase; it is
	// hashed before it is stored and never kept, logged or replayed. Only
	// whether one was given counts towards the Idempotency-Key's request,
	// so the plain text is never hashed fast.
	Passphrase string `json:"-"`
	By         Caller
}

// SetProtection switches certificate r.CertificateID to r.Mode, setting or
// rotating the passphrase when one is given, and appends the change's
// event in the same transaction. Only whoever holds the certificate as a
// holder may (not its municipality or an operator: the choice is the
// family's). Asking for what is already so changes nothing and appends no
// event. The result never carries the passphrase's hash.
func (s *Service) SetProtection(ctx context.Context, key string, r ProtectionRequest) (certificate.Certificate, error) {
	if err := roleMay(r.By, "change a certificate's protection", RoleHolder); err != nil {
		return certificate.Certificate{}, err
	}
	var salt []byte
	if r.Passphrase != "" {
		salt = make([]byte, certificate.MinSaltLen)
		if _, err := rand.Read(salt); err != nil {
			return certificate.Certificate{}, err
		}
	}
	req := struct {
		ID         uuid.UUID
		Mode       certificate.ProtectionMode
		Passphrase bool
		By         Caller
	}{r.CertificateID, r.Mode, r.Passphrase != "", r.By}
	return idempotent(ctx, s, key, "certificate.protection", r.By, req, func(ctx context.Context, tx Tx) (certificate.Certificate, error) {
		c, err := tx.LockCertificate(ctx, r.CertificateID)
		if err != nil {
			return certificate.Certificate{}, notFound(err, "certificate_id", r.CertificateID)
		}
		if err := s.mayChange(ctx, tx, r.By, c); err != nil {
			return certificate.Certificate{}, err
		}
		before := c.Protection.Mode
		if before == "" {
			before = certificate.Forbidden
		}
		changed, err := c.ChangeProtection(r.Mode, r.Passphrase, salt)
		if err != nil || !changed {
			return withoutHash(c), err
		}
		if err := tx.UpdateCertificate(ctx, c); err != nil {
			return certificate.Certificate{}, err
		}
		t, payload := CertificateProtectionChanged, map[string]any{"before": before, "after": c.Protection.Mode, "passphrase_set": r.Passphrase != ""}
		if before == c.Protection.Mode {
			t, payload = CertificatePassphraseRotated, nil
		}
		if err := s.certificateEvent(ctx, tx, t, c, r.By.Actor(), "", payload); err != nil {
			return certificate.Certificate{}, err
		}
		return withoutHash(c), nil
	})
}

// withoutHash is c as it may leave the service: the idempotency record
// and the answer keep no passphrase hash.
func withoutHash(c certificate.Certificate) certificate.Certificate {
	c.Protection.PassphraseHash = ""
	return c
}
