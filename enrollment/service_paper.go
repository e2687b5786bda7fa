package enrollment

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"

	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/funding"
)

// PaperApplication is the holder's signed paper application a provider
// holds for a contract it activated itself (seed 004): the application's
// number and the day it was signed, with who recorded it and when.
type PaperApplication struct {
	ContractID uuid.UUID
	ProviderID uuid.UUID
	Number     string
	SignedOn   funding.Date
	RecordedAt time.Time
	Actor      string
}

// MaxPaperNumberLen bounds a paper application's number, in characters.
const MaxPaperNumberLen = 100

// PaperTx keeps the paper applications. RecordPaperApplication returns
// ErrExists for a contract that has one; PaperApplication returns
// ErrNotFound for a contract without one.
type PaperTx interface {
	RecordPaperApplication(ctx context.Context, p PaperApplication) error
	PaperApplication(ctx context.Context, contractID uuid.UUID) (PaperApplication, error)
}

// PaperRequest is a provider activating a contract on the holder's signed
// paper application. Like an application the provider creates, it names
// the certificate by number and proves the holder's consent as the
// certificate's protection mode asks: the child's full name (by name) or
// the passphrase (by passphrase); a certificate that forbids providers'
// applications cannot be activated on paper either.
type PaperRequest struct {
	ContractRequest
	// ApplicationNumber and SignedOn identify the signed paper application.
	ApplicationNumber string
	SignedOn          funding.Date
	Number            certificate.Number
	FullName          string
	Passphrase        string `json:"-"`
}

// ActivatedOnPaper is a contract activated on paper with its application.
type ActivatedOnPaper struct {
	Contract Contract
	Paper    PaperApplication
}

// ActivateOnPaper is the provider recording the holder's signed paper
// application and activating the contract itself, without the holder's
// online acceptance: an application (Requested) or an offer (Accepted)
// becomes Active in one status change and one event, with the charges
// Accept makes at activation.
func (s *Service) ActivateOnPaper(ctx context.Context, key string, r PaperRequest) (ActivatedOnPaper, error) {
	if err := roleMay(r.By, "activate on paper", providers...); err != nil {
		return ActivatedOnPaper{}, err
	}
	var err error
	if r.ApplicationNumber, err = funding.Text("application_number", r.ApplicationNumber, MaxPaperNumberLen); err != nil {
		return ActivatedOnPaper{}, err
	}
	if r.ApplicationNumber == "" {
		return ActivatedOnPaper{}, &funding.ValidationError{Field: "application_number", Rule: "is required: the number of the signed application"}
	}
	now := s.clock.Now().UTC()
	on := s.dateOf(now)
	if r.SignedOn.IsZero() {
		return ActivatedOnPaper{}, &funding.ValidationError{Field: "signed_on", Rule: "is required: the day the application was signed"}
	}
	if r.SignedOn.After(on) {
		return ActivatedOnPaper{}, &funding.ValidationError{Field: "signed_on", Rule: "must not be after today, " + on.String(), Value: r.SignedOn.String()}
	}
	out, err := idempotent(ctx, s, key, "contract.activate_paper", r.By, r, func(ctx context.Context, tx Tx) (ActivatedOnPaper, error) {
		return s.activateOnPaper(ctx, tx, r, now, on)
	})
	var pf *protectionFailure
	if errors.As(err, &pf) {
		if rerr := s.recordProtection(ctx, pf.cert); rerr != nil {
			return ActivatedOnPaper{}, errors.Join(pf.err, rerr)
		}
		return ActivatedOnPaper{}, pf.err
	}
	return out, err
}

func (s *Service) activateOnPaper(ctx context.Context, tx Tx, r PaperRequest, now time.Time, on funding.Date) (ActivatedOnPaper, error) {
	// The certificate is locked before the contract, as a certificate's
	// cancellation locks them.
	k, err := tx.Contract(ctx, r.ContractID)
	if err != nil {
		return ActivatedOnPaper{}, notFound(err, "contract_id", r.ContractID)
	}
	if err := s.contractParty(ctx, tx, r.By, k); err != nil {
		return ActivatedOnPaper{}, err
	}
	cert, err := tx.LockCertificate(ctx, k.CertificateID)
	if err != nil {
		return ActivatedOnPaper{}, err
	}
	c, err := tx.LockContract(ctx, r.ContractID)
	if err != nil {
		return ActivatedOnPaper{}, notFound(err, "contract_id", r.ContractID)
	}
	if err := cert.AuthorizeProviderApplication(r.Number, r.FullName, r.Passphrase, now, s.cfg.Lockout); err != nil {
		return ActivatedOnPaper{}, &protectionFailure{cert: cert, err: err}
	}
	if err := tx.UpdateCertificate(ctx, cert); err != nil {
		return ActivatedOnPaper{}, err
	}
	if err := CanAccept(cert); err != nil {
		return ActivatedOnPaper{}, err
	}
	from := c.Status
	if err := c.ActivateOnPaper(on); err != nil {
		return ActivatedOnPaper{}, err
	}
	actor := r.By.Actor()
	for _, ch := range ActivationCharges(c, on) {
		if err := s.charge(ctx, tx, c, ch.Month, actor, "charge_on_paper"); err != nil && !errors.Is(err, errAlreadyCharged) {
			return ActivatedOnPaper{}, err
		}
	}
	if err := tx.UpdateContract(ctx, c); err != nil {
		return ActivatedOnPaper{}, err
	}
	p := PaperApplication{ContractID: c.ID, ProviderID: c.ProviderID, Number: r.ApplicationNumber, SignedOn: r.SignedOn, RecordedAt: now, Actor: actor}
	if err := tx.RecordPaperApplication(ctx, p); err != nil {
		return ActivatedOnPaper{}, err
	}
	return ActivatedOnPaper{Contract: c, Paper: p}, s.moved(ctx, tx, c, from, actor)
}

// PaperApplication reads the signed paper application of a contract for
// whoever may see the contract; ErrNotFound when it was not activated on
// paper.
func (s *Service) PaperApplication(ctx context.Context, by Caller, contractID uuid.UUID) (PaperApplication, error) {
	if _, err := s.Contract(ctx, by, contractID); err != nil {
		return PaperApplication{}, err
	}
	var p PaperApplication
	err := s.inTx(ctx, func(ctx context.Context, tx Tx) error {
		var err error
		p, err = tx.PaperApplication(ctx, contractID)
		return notFound(err, "paper_application", contractID)
	})
	return p, err
}
