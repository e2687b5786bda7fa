package enrollment

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"

	"github.com/google/uuid"

	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/funding"
)

// ErrIneligible is an applicant a scheme's eligibility rules turn down.
var ErrIneligible = errors.New("not eligible")

// IneligibleError carries every failed eligibility rule with the parameter
// value that decided it.
type IneligibleError struct {
	Reasons []certificate.Reason
}

func (e *IneligibleError) Error() string {
	msgs := make([]string, len(e.Reasons))
	for i, r := range e.Reasons {
		msgs[i] = r.Message
	}
	return "not eligible: " + strings.Join(msgs, "; ")
}

func (e *IneligibleError) Is(target error) bool { return target == ErrIneligible }

// IssueRequest asks for a children's certificate.
type IssueRequest struct {
	Holder       certificate.Holder
	GuardianID   string
	Municipality string // the funding municipality; defaults to the holder's
	Category     string
	// Funded asks for a funded slot in the category at once; without a free
	// slot the certificate is issued as an accounting one and queued.
	Funded     bool
	Protection certificate.ProtectionMode
	// Passphrase for ByPassphrase protection. It is hashed before it is
	// stored and never enters the idempotency record.
	Passphrase string `json:"-"`
	// By is who asks: a parent (for a child linked to them, see
	// LinkGuardian; the parent becomes the certificate's guardian), the
	// municipal authority that funds it, the regional operator, or the system.
	By Caller
}

// IssueResult is a certificate as issued, and its place in the category's
// queue if a funded slot was asked for and none was free.
type IssueResult struct {
	Certificate certificate.Certificate
	Queued      bool
	Position    int
	// Review: an adult application waiting for the federal operator's
	// review (adults.federal_review); it has taken no place yet.
	Review bool
}

// CodeNotGuardian is the code of a parent refused for a child not linked to them.
const CodeNotGuardian = "not_guardian"

// Issue decides a child's eligibility and issues the certificate, funding it
// from the category when a slot is free. A parent issues only for a child a
// municipal authority linked to them (LinkGuardian), and only as the
// certificate's guardian; an officer issuing with a guardian records that
// link.
func (s *Service) Issue(ctx context.Context, key string, r IssueRequest) (IssueResult, error) {
	if err := roleMay(r.By, "issue a children's certificate", RoleHolder, RoleMunicipality, RoleRegional, RoleAuthorised); err != nil {
		return IssueResult{}, err
	}
	if err := r.Holder.Canonicalize(); err != nil { // the person's certificates are looked up by the canonical id
		return IssueResult{}, err
	}
	if r.GuardianID != "" {
		id, err := personID("guardian_id", r.GuardianID)
		if err != nil {
			return IssueResult{}, err
		}
		r.GuardianID = id
	}
	if r.By.Role == RoleHolder {
		if r.GuardianID == "" {
			r.GuardianID = r.By.ID
		}
		if r.GuardianID != r.By.ID {
			return IssueResult{}, forbidden("a parent issues certificates only as their own guardian_id")
		}
	}
	on := s.Today()
	var hash string
	if r.Protection == certificate.ByPassphrase {
		h, err := newPassphraseHash(r.Passphrase)
		if err != nil {
			return IssueResult{}, err
		}
		hash = h
	}
	return idempotent(ctx, s, key, "certificate.issue", r.By, r, func(ctx context.Context, tx Tx) (IssueResult, error) {
		mun := r.Municipality
		if mun == "" {
			mun = r.Holder.Municipality
		}
		switch r.By.Role {
		case RoleHolder:
			linked, err := tx.IsGuardian(ctx, r.By.ID, r.Holder.PersonID)
			if err != nil {
				return IssueResult{}, err
			}
			if !linked {
				return IssueResult{}, funding.Refuse(ErrForbidden, CodeNotGuardian,
					"person %s is not linked to the caller as their child: a municipal authority records the link from the birth certificate", r.Holder.PersonID)
			}
		case RoleMunicipality:
			if mun != r.By.ID {
				return IssueResult{}, forbidden("a municipal authority issues only certificates it funds")
			}
		}
		var auth Authorisation // an authorised organisation's, checked in this transaction
		if r.By.Role == RoleAuthorised {
			var err error
			if auth, err = s.authorisedFor(ctx, tx, r.By, mun, on, false); err != nil {
				return IssueResult{}, err
			}
		}
		existing, err := tx.PersonCertificates(ctx, certificate.Supplementary, r.Holder.PersonID)
		if err != nil {
			return IssueResult{}, err
		}
		policy := s.RulesOn(on).Children
		d := policy.Decide(r.Holder, mun, on, existing)
		if !d.Eligible {
			return IssueResult{}, &IneligibleError{Reasons: d.Reasons}
		}
		c, err := certificate.New(certificate.NewParams{
			Number: newNumber(), Scheme: certificate.Supplementary, Holder: r.Holder,
			GuardianID: r.GuardianID, Municipality: mun, Category: r.Category,
			Kind: certificate.Accounting, IssuedOn: on, Protection: r.Protection, PassphraseHash: hash,
		})
		if err != nil {
			return IssueResult{}, err
		}
		if err := tx.InsertCertificate(ctx, c); err != nil {
			if errors.Is(err, ErrExists) {
				return IssueResult{}, funding.Refuse(ErrExists, CodeCertificateExists, "person %s already holds a certificate of scheme %s", r.Holder.PersonID, certificate.Supplementary)
			}
			return IssueResult{}, err
		}
		if err := s.certificateEvent(ctx, tx, CertificateIssued, c, r.By.Actor(), "", nil); err != nil {
			return IssueResult{}, err
		}
		if r.By.Role == RoleAuthorised {
			if err := s.registerIssue(ctx, tx, r.By, auth, c, on); err != nil {
				return IssueResult{}, err
			}
		}
		if err := s.keepDecision(ctx, tx, c, r.By, on, childInputs(policy, r.Holder, mun, r.Category, on, existing), childChecks, d); err != nil {
			return IssueResult{}, err
		}
		if c.GuardianID != "" && r.By.Role != RoleHolder {
			if err := s.link(ctx, tx, c.GuardianID, c.Holder.PersonID, r.By); err != nil {
				return IssueResult{}, err
			}
		}
		res := IssueResult{Certificate: c}
		if r.Funded {
			queued, pos, err := s.fund(ctx, tx, &c, on, r.By.Actor())
			if err != nil {
				return IssueResult{}, err
			}
			res = IssueResult{Certificate: c, Queued: queued, Position: pos}
		}
		return res, nil
	})
}

// RequestFunding switches an accounting certificate to funded when its
// category has a free slot, and queues it otherwise. Its guardian, its
// municipality or the regional operator asks.
func (s *Service) RequestFunding(ctx context.Context, key string, certID uuid.UUID, by Caller) (IssueResult, error) {
	if err := roleMay(by, "ask for a funded place", RoleHolder, RoleMunicipality, RoleRegional); err != nil {
		return IssueResult{}, err
	}
	on := s.Today()
	return idempotent(ctx, s, key, "certificate.fund", by, struct {
		ID uuid.UUID
		By Caller
	}{certID, by}, func(ctx context.Context, tx Tx) (IssueResult, error) {
		c, err := tx.LockCertificate(ctx, certID)
		if err != nil {
			return IssueResult{}, notFound(err, "certificate_id", certID)
		}
		if err := s.mayChange(ctx, tx, by, c); err != nil {
			return IssueResult{}, err
		}
		queued, pos, err := s.fund(ctx, tx, &c, on, by.Actor())
		return IssueResult{Certificate: c, Queued: queued, Position: pos}, err
	})
}

// fund takes a slot of the certificate's category and grants the period's
// nominal, or queues the certificate when the category is full.
func (s *Service) fund(ctx context.Context, tx Tx, c *certificate.Certificate, on funding.Date, actor string) (queued bool, pos int, err error) {
	if c.Scheme != certificate.Supplementary || c.Kind == certificate.Funded || c.Status == certificate.Cancelled || c.Status == certificate.Expired {
		return false, 0, funding.Refuse(certificate.ErrNotFundable, certificate.CodeNotFundable, "certificate %s is %s %s %s", c.Number, c.Scheme, c.Kind, c.Status)
	}
	cat, err := tx.Category(ctx, c.Category)
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			return false, 0, &funding.ValidationError{Field: "category", Rule: "must be a known category", Value: c.Category}
		}
		return false, 0, err
	}
	q := categoryQueue(cat.Code)
	// A certificate already waiting keeps its place, and asking again does
	// not lock the counter: a promotion holds the counter and then locks
	// the head's certificate, which the caller here already holds.
	if pos, err := tx.QueuePosition(ctx, q, c.ID); err == nil || !errors.Is(err, ErrNotFound) {
		return err == nil, pos, err
	}
	// Arrival: the category's counter, held to the commit, orders the
	// slots and the queue alike (ApplyAdult's quota does the same).
	if err := holdCounter(ctx, tx, categoryCountKey(cat.Code)); err != nil {
		return false, 0, err
	}
	ok, err := takeSlot(ctx, tx, cat)
	if err != nil {
		return false, 0, err
	}
	if !ok {
		if err := tx.Enqueue(ctx, QueueEntry{Queue: q, CertificateID: c.ID, EnqueuedAt: s.clock.Now().UTC()}); err != nil {
			return false, 0, err
		}
		pos, err := tx.QueuePosition(ctx, q, c.ID)
		if err != nil {
			return false, 0, err
		}
		return true, pos, s.certificateEvent(ctx, tx, CertificateQueued, *c, actor, "", map[string]any{"queue": q, "position": pos})
	}
	return false, 0, s.grantFunded(ctx, tx, c, cat, on, actor, CertificateFunded)
}

// holdCounter locks counter key until the transaction ends, whether or not
// a Take on it then passes (a failed Take locks nothing): a Take of
// nothing, on PostgreSQL an UPDATE of its row; SQLite runs one writer at a
// time anyway. An application that may queue holds its category's or
// quota's counter from before it decides funded or queued to its commit,
// so that applicants take slots and places in the queue in one order, a
// slot freed meanwhile is not missed, and a position is counted after
// every earlier applicant committed. These counters come last in the lock
// order (OtherCounter): after them a transaction locks only its own new
// rows, the queue's, and the certificates it promotes.
func holdCounter(ctx context.Context, tx Tx, key string) error {
	return tx.Take(ctx, key, 0)
}

// takeSlot takes one place in a category: its counter's limit holds both
// the count cap and the cap on the sum of nominals (saveCategory).
func takeSlot(ctx context.Context, tx Tx, cat certificate.Category) (bool, error) {
	if err := tx.Take(ctx, categoryCountKey(cat.Code), 1); err != nil {
		if errors.Is(err, ErrCounterFull) {
			return false, nil
		}
		return false, err
	}
	return true, nil
}

// grantFunded makes c funded, recorded as event t (funded on request, or
// promoted from the queue), and grants the period's nominal.
func (s *Service) grantFunded(ctx context.Context, tx Tx, c *certificate.Certificate, cat certificate.Category, on funding.Date, actor string, t EventType) error {
	c.Kind = certificate.Funded
	if err := tx.UpdateCertificate(ctx, *c); err != nil {
		return err
	}
	if err := s.certificateEvent(ctx, tx, t, *c, actor, "", nil); err != nil {
		return err
	}
	period := s.cfg.PeriodOf(on)
	cat = s.RulesOn(on).CategoryOf(cat)
	if err := grantHours(ctx, tx, *c, cat, period); err != nil {
		return err
	}
	a, err := account(ctx, tx, c.ID, period)
	if err != nil {
		return err
	}
	nominal := s.RulesOn(on).scaled(cat.Nominal, period)
	if !a.Account.Nominal.IsZero() || !nominal.IsPositive() {
		return nil
	}
	return s.post(ctx, tx, &a, nil, funding.Posting{Kind: funding.Grant, Amount: nominal}, PostingRecord{
		At: s.clock.Now().UTC(), Actor: actor, Rule: "category_nominal",
		Params: map[string]string{"category": cat.Code, "nominal": nominal.String(), "annual": cat.Nominal.String(), "period": period.String()},
	})
}

// CertificateAction is a lifecycle move of a certificate.
type CertificateAction string

const (
	ActivateCertificate CertificateAction = "activate"
	SuspendCertificate  CertificateAction = "suspend"
	ResumeCertificate   CertificateAction = "resume"
	CancelCertificate   CertificateAction = "cancel"
)

// certificateEvents are the events of ChangeStatus's actions.
var certificateEvents = map[CertificateAction]EventType{
	ActivateCertificate: CertificateActivated, SuspendCertificate: CertificateSuspended,
	ResumeCertificate: CertificateResumed, CancelCertificate: CertificateCancelled,
}

// ChangeStatus moves a certificate through its status table. Cancelling a
// funded certificate frees its category slot for the head of the queue. For
// a child's certificate the municipal authority that funds it or the
// regional operator asks; for an adult's, the federal operator.
func (s *Service) ChangeStatus(ctx context.Context, key string, certID uuid.UUID, action CertificateAction, by Caller) (certificate.Certificate, error) {
	if err := roleMay(by, "change a certificate's status", RoleMunicipality, RoleRegional, RoleFederal, RoleAuthorised); err != nil {
		return certificate.Certificate{}, err
	}
	if by.Role == RoleAuthorised && action != ActivateCertificate {
		return certificate.Certificate{}, forbidden("an authorised organisation only activates certificates")
	}
	on := s.Today()
	return idempotent(ctx, s, key, "certificate."+string(action), by, struct {
		ID uuid.UUID
		By Caller
	}{certID, by}, func(ctx context.Context, tx Tx) (certificate.Certificate, error) {
		c, err := tx.LockCertificate(ctx, certID)
		if err != nil {
			return c, notFound(err, "certificate_id", certID)
		}
		if by.Role == RoleAuthorised {
			if c.Scheme != certificate.Supplementary {
				return c, notFound(ErrNotFound, "certificate_id", certID)
			}
			if _, err := s.authorisedFor(ctx, tx, by, c.Municipality, on, true); err != nil {
				return c, err
			}
		} else if err := s.mayChange(ctx, tx, by, c); err != nil {
			return c, err
		}
		actor := by.Actor()
		switch action {
		case ActivateCertificate:
			err = c.Activate()
		case SuspendCertificate:
			err = c.Suspend()
		case ResumeCertificate:
			err = c.Resume()
		case CancelCertificate:
			err = c.Cancel()
		default:
			err = &funding.ValidationError{Field: "action", Rule: "must be activate, suspend, resume or cancel", Value: string(action)}
		}
		if err != nil {
			return c, err
		}
		if err := tx.UpdateCertificate(ctx, c); err != nil {
			return c, err
		}
		if err := s.certificateEvent(ctx, tx, certificateEvents[action], c, actor, "", nil); err != nil {
			return c, err
		}
		if action == CancelCertificate {
			if err := s.endContracts(ctx, tx, c.ID, actor); err != nil {
				return c, err
			}
			if err := s.freeSlot(ctx, tx, c, on, actor); err != nil {
				return c, err
			}
		}
		return c, nil
	})
}

// endContracts ends a cancelled certificate's live contracts: applications
// and offers are withdrawn, active contracts terminated; their reserves
// return to the balance and their seats to the groups.
func (s *Service) endContracts(ctx context.Context, tx Tx, certID uuid.UUID, actor string) error {
	cs, err := tx.CertificateContracts(ctx, certID)
	if err != nil {
		return err
	}
	for _, k := range cs {
		if !k.Status.Live() {
			continue
		}
		c, err := tx.LockContract(ctx, k.ID)
		if err != nil {
			return err
		}
		to := Withdrawn
		if c.Status == Active {
			to = Terminating
		}
		from := c.Status
		if err := s.end(ctx, tx, &c, to, actor, "certificate_cancelled"); err != nil {
			return err
		}
		if err := tx.UpdateContract(ctx, c); err != nil {
			return err
		}
		if err := s.moved(ctx, tx, c, from, actor); err != nil {
			return err
		}
	}
	return nil
}

// freeSlot returns a cancelled certificate's funded slot or adult quota
// place and promotes the head of the queue into it.
func (s *Service) freeSlot(ctx context.Context, tx Tx, c certificate.Certificate, on funding.Date, actor string) error {
	if c.Kind != certificate.Funded {
		// An unfunded certificate holds no place; it may wait in a queue
		// for one, or never have asked.
		q := adultQueue(c.IssuedOn.Year())
		if c.Scheme == certificate.Supplementary {
			q = categoryQueue(c.Category)
		}
		if err := tx.RemoveFromQueue(ctx, q, c.ID); err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
		return nil
	}
	if c.Scheme == certificate.DigitalSkills {
		if err := tx.Give(ctx, adultQuotaKey(c.IssuedOn.Year()), 1); err != nil {
			return err
		}
		return s.promoteAdults(ctx, tx, c.IssuedOn.Year(), on, actor)
	}
	cat, err := tx.Category(ctx, c.Category)
	if err != nil {
		return err
	}
	if err := tx.Give(ctx, categoryCountKey(cat.Code), 1); err != nil {
		return err
	}
	return s.promoteCategory(ctx, tx, cat, on, actor)
}

// promoteCategory funds queued certificates, oldest first, while slots last.
func (s *Service) promoteCategory(ctx context.Context, tx Tx, cat certificate.Category, on funding.Date, actor string) error {
	for {
		ok, err := takeSlot(ctx, tx, cat)
		if err != nil || !ok {
			return err
		}
		e, err := tx.Dequeue(ctx, categoryQueue(cat.Code))
		if errors.Is(err, ErrNotFound) {
			return tx.Give(ctx, categoryCountKey(cat.Code), 1)
		}
		if err != nil {
			return err
		}
		c, err := tx.LockCertificate(ctx, e.CertificateID)
		if err != nil {
			return err
		}
		if err := s.grantFunded(ctx, tx, &c, cat, on, actor, CertificatePromoted); err != nil {
			return err
		}
	}
}

// newNumber draws a random ten-digit certificate number; the store's unique
// index refuses the rare repeat.
func newNumber() certificate.Number {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return certificate.Number(fmt.Sprintf("%010d", binary.BigEndian.Uint64(b[:])%10_000_000_000))
}

func newPassphraseHash(pass string) (string, error) {
	if len(pass) < 8 {
		return "", &funding.ValidationError{Field: "passphrase", Rule: "must be at least 8 characters"}
	}
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	return certificate.HashPassphrase(pass, salt), nil
}
