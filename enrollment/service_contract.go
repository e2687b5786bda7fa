package enrollment

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"

	"github.com/edufund/edufund/catalog"
	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/funding"
)

// SubmitRequest is an application for a place in a group.
type SubmitRequest struct {
	CertificateID uuid.UUID
	GroupID       uuid.UUID
	// Start is the first day of study; zero means the later of the group's
	// start and today.
	Start funding.Date
	// CoPayAccepted is the holder agreeing to pay what the balance does not cover.
	CoPayAccepted bool
	// By is who applies: whoever holds the certificate as a holder (the
	// adult, the child's guardian), a provider creating the application in
	// the holder's presence, or the system. A provider names the
	// certificate by Number (CertificateID may be left zero); its
	// protection mode then decides with FullName or Passphrase.
	By         Caller
	Number     certificate.Number
	FullName   string
	Passphrase string `json:"-"`
	// ConsentVersion is the version of the text on the processing of
	// personal data the applicant agreed to (seed 002/004); the contract
	// records it with the application's time. Optional: see Consent.
	ConsentVersion string
	// Waitlist asks, when the group is full, for a place on its waitlist
	// instead of a refusal (SubmitOrWait); Submit itself ignores it.
	Waitlist bool `json:",omitzero"`
}

// ByProvider is the provider creating the application in its holder's
// presence, uuid.Nil otherwise.
func (r SubmitRequest) ByProvider() uuid.UUID { return r.By.providerID() }

// Submit runs the eight submission checks and reserves the certificate's
// share of the price, all in one transaction: either the application exists
// with its money reserved, its seat taken and the municipal budget charged,
// or nothing changed.
func (s *Service) Submit(ctx context.Context, key string, r SubmitRequest) (Contract, error) {
	now := s.clock.Now().UTC()
	on := s.dateOf(now)
	c, err := s.submit(ctx, key, r, now, on)
	if err != nil {
		s.NoteRefusal(ctx, r, now, err)
	}
	var pf *protectionFailure
	if errors.As(err, &pf) {
		if rerr := s.recordProtection(ctx, pf.cert); rerr != nil {
			return Contract{}, errors.Join(pf.err, rerr)
		}
		return Contract{}, pf.err
	}
	return c, err
}

// recordProtection stores a certificate's passphrase attempt counters.
func (s *Service) recordProtection(ctx context.Context, c certificate.Certificate) error {
	return s.inTx(ctx, func(ctx context.Context, tx Tx) error {
		cur, err := tx.LockCertificate(ctx, c.ID)
		if err != nil {
			return err
		}
		cur.Protection.FailedAttempts = c.Protection.FailedAttempts
		cur.Protection.LockedUntil = c.Protection.LockedUntil
		return tx.UpdateCertificate(ctx, cur)
	})
}

func (s *Service) submit(ctx context.Context, key string, r SubmitRequest, now time.Time, on funding.Date) (Contract, error) {
	return idempotent(ctx, s, key, submitOp, r.By, r, func(ctx context.Context, tx Tx) (Contract, error) {
		return s.enrol(ctx, tx, r, now, on)
	})
}

// enrol is one submission inside the caller's transaction.
func (s *Service) enrol(ctx context.Context, tx Tx, r SubmitRequest, now time.Time, on funding.Date) (Contract, error) {
	if err := roleMay(r.By, "apply", RoleHolder, RoleProvider); err != nil {
		return Contract{}, err
	}
	if _, err := r.consent(now); err != nil {
		return Contract{}, err // a form error, before any rule
	}
	provider := r.ByProvider()
	if provider != uuid.Nil {
		byNumber, err := tx.CertificateByNumber(ctx, r.Number)
		if err != nil {
			return Contract{}, funding.Refuse(ErrNotFound, CodeNotFound, "no certificate numbered %q", r.Number)
		}
		if r.CertificateID != uuid.Nil && r.CertificateID != byNumber.ID {
			return Contract{}, &funding.ValidationError{Field: "certificate_id", Rule: "does not match the number"}
		}
		r.CertificateID = byNumber.ID
	}
	cert, err := tx.LockCertificate(ctx, r.CertificateID)
	if err != nil {
		return Contract{}, notFound(err, "certificate_id", r.CertificateID)
	}
	if r.By.Role == RoleHolder {
		if err := s.mayChange(ctx, tx, r.By, cert); err != nil {
			return Contract{}, err
		}
	}
	offer, err := tx.Offer(ctx, r.GroupID)
	if err != nil {
		return Contract{}, notFound(err, "group_id", r.GroupID)
	}
	if provider != uuid.Nil {
		if provider != offer.Provider.ID {
			return Contract{}, funding.Refuse(ErrForbidden, CodeForeignGroup, "provider %s does not run group %s", provider, r.GroupID)
		}
		err := cert.AuthorizeProviderApplication(r.Number, r.FullName, r.Passphrase, now, s.cfg.Lockout)
		if err != nil {
			// A wrong passphrase counts towards the lockout even though the
			// application is refused: the attempt is recorded by its own
			// transaction so that this refusal cannot roll it back.
			return Contract{}, &protectionFailure{cert: cert, err: err}
		}
		if cert.Protection.Mode == certificate.ByName {
			// "Applied before", in any status: read only on a provider's
			// application by name, never on a holder's.
			known, err := tx.AppliedTo(ctx, cert.ID, provider)
			if err != nil {
				return Contract{}, err
			}
			if err := cert.RequireKnownProvider(known); err != nil {
				return Contract{}, err
			}
		}
		if err := tx.UpdateCertificate(ctx, cert); err != nil {
			return Contract{}, err
		}
	}
	if err := catalog.CanEnrol(cert, offer.Provider, offer.Program, offer.Group, on); err != nil {
		return Contract{}, err
	}
	start := startOf(r, offer, on)
	if cert.Scheme == certificate.DigitalSkills {
		return s.enrolAdult(ctx, tx, r, cert, offer, start, now)
	}
	period := s.cfg.PeriodOf(start)
	acct, err := account(ctx, tx, cert.ID, period)
	if err != nil {
		return Contract{}, err
	}
	rec := PostingRecord{At: now, Actor: r.By.Actor()}
	inHours := false
	if cert.Kind == certificate.Funded {
		if inHours, err = s.inHours(ctx, tx, cert.Category); err != nil {
			return Contract{}, err
		}
	}
	if !acct.Fixed && cert.Kind == certificate.Funded && !inHours {
		// The first submission of the period fixes the unused nominal's depletion.
		depl := funding.MinMoney(funding.Depletion(acct.Account.Nominal, period, on), acct.Account.Balance)
		acct.Fixed = true
		if depl.IsPositive() {
			rec := rec
			rec.Rule = "depletion"
			rec.Params = map[string]string{"nominal": acct.Account.Nominal.String(), "period": period.String(), "on": on.String()}
			if err := s.post(ctx, tx, &acct, nil, funding.Posting{Kind: funding.Deplete, Amount: depl}, rec); err != nil {
				return Contract{}, err
			}
		}
	}
	funded := offer.Program.Registry == catalog.Certified
	balance := funding.Zero
	if funded {
		balance = acct.Account.Balance
	}
	normative := offer.Module.NormativePrice
	if s.RulesOn(on).NoNormativeCap {
		normative = funding.Zero // the region's choice: the cost alone, within the balance
	}
	terms := funding.Terms{
		GroupStart: offer.Group.Start, GroupEnd: offer.Group.End, Start: start, Period: period,
		ModulePrice: offer.Module.Price, NormativePrice: normative, Balance: balance,
	}
	var hours hoursTerms
	if inHours {
		// A certificate in hours pays with the money its hours are worth
		// over the contract's days.
		draft, err := funding.PriceContract(terms)
		if err != nil {
			return Contract{}, err
		}
		if hours, err = s.holdHours(ctx, tx, cert, offer, period, on, draft, funded); err != nil {
			return Contract{}, err
		}
		terms.Balance = hours.money
	}
	price, err := funding.PriceContract(terms)
	if err != nil {
		return Contract{}, err
	}
	if !funded {
		// Budget-funded registries are paid by the municipality directly:
		// nothing is reserved on the certificate and nothing is co-paid.
		price = price.BudgetFunded()
	}
	seen := acct
	if inHours {
		seen.Account.Balance = hours.money // what the hours are worth, granted below
	}
	snap, err := s.snapshot(ctx, tx, cert, offer, period, on, price, seen, r.CoPayAccepted)
	if err != nil {
		return Contract{}, err
	}
	if err := CheckSubmission(snap); err != nil {
		return Contract{}, err
	}
	c, err := newContract(cert, offer, period, price, now)
	if err != nil {
		return Contract{}, err
	}
	if c.Consent, err = r.consent(now); err != nil {
		return Contract{}, err
	}
	if inHours {
		c.Hours = hours.hold
		if err := tx.SaveHoursAccount(ctx, cert.ID, period, hours.account); err != nil {
			return Contract{}, err
		}
		rec := rec
		rec.ContractID = c.ID
		if err := s.grantHoursMoney(ctx, tx, &acct, price.Cert, hours, rec, offer.Module.WeeklyHours, price.Days); err != nil {
			return Contract{}, err
		}
	}
	if price.Cert.IsPositive() {
		c.HoldID, err = uuid.NewV7()
		if err != nil {
			return Contract{}, err
		}
		rec := rec
		rec.ContractID, rec.Rule = c.ID, "reserve_on_submit"
		rec.Params = map[string]string{"total": price.Total.String(), "normative": price.Normative.String(), "cert": price.Cert.String(), "co_pay": price.CoPay.String()}
		hold := funding.Hold{ID: c.HoldID}
		if err := s.post(ctx, tx, &acct, &hold, funding.Posting{Kind: funding.Reserve, Amount: price.Cert, HoldID: c.HoldID}, rec); err != nil {
			return Contract{}, err
		}
	} else if err := tx.SaveAccount(ctx, acct); err != nil {
		return Contract{}, err
	}
	if err := tx.InsertContract(ctx, c); err != nil {
		if errors.Is(err, ErrExists) {
			return Contract{}, funding.Refuse(ErrDuplicateModule, CodeDuplicateModule, "certificate %s already has a live contract on module %s", cert.Number, offer.Module.ID)
		}
		return Contract{}, err
	}
	// The contended counters last, the municipal budget the very last, so
	// that their row locks are held for as little time as possible.
	if err := takeLimits(ctx, tx, c, price.Cert); err != nil {
		return Contract{}, err
	}
	return c, s.moved(ctx, tx, c, "", r.By.Actor())
}

// startOf is the first day of study of application r to offer o made on
// day on: the day it asks for, or else the later of the group's start and on.
func startOf(r SubmitRequest, o Offer, on funding.Date) funding.Date {
	if !r.Start.IsZero() {
		return r.Start
	}
	if o.Group.Start.Before(on) {
		return on
	}
	return o.Group.Start
}

// newContract is the application of cert to offer priced at price in
// period, received at now: a new id, status Requested.
func newContract(cert certificate.Certificate, offer Offer, period funding.Period, price funding.Price, now time.Time) (Contract, error) {
	id, err := uuid.NewV7()
	if err != nil {
		return Contract{}, err
	}
	return Contract{
		ID: id, CertificateID: cert.ID, GroupID: offer.Group.ID, ModuleID: offer.Module.ID,
		ProgramID: offer.Program.ID, ProviderID: offer.Provider.ID, Municipality: cert.Municipality,
		Scheme: cert.Scheme, Registry: offer.Program.Registry, Direction: offer.Program.Direction,
		Period: period, Status: Requested, Start: price.Start, End: price.End, Price: price, CreatedAt: now,
	}, nil
}

// protectionFailure carries a protection refusal out of the transaction so
// that a wrong passphrase can be counted by a transaction of its own.
type protectionFailure struct {
	cert certificate.Certificate
	err  error
}

func (e *protectionFailure) Error() string { return e.err.Error() }
func (e *protectionFailure) Unwrap() error { return e.err }

// ErrForbidden is an actor acting on something that is not theirs.
var ErrForbidden = errors.New("forbidden")

// CodeForeignGroup is ErrForbidden for a group another provider runs.
const CodeForeignGroup = "foreign_group"

func notFound(err error, field string, id uuid.UUID) error {
	if errors.Is(err, ErrNotFound) {
		return funding.Refuse(ErrNotFound, CodeNotFound, "%s %s does not exist", field, id)
	}
	return err
}

type limitKey struct {
	key  string
	n    int64
	err  error
	code string
}

// limits lists the counters a live contract holds, in the order they are
// taken and given back (SortCounterKeys's).
func limits(c Contract, amount funding.Money) []limitKey {
	ks := []limitKey{
		{seatsKey(c.GroupID), 1, ErrGroupFull, CodeGroupFull},
		{programKey(c.ProgramID), 1, ErrProgramLimit, CodeProgramLimit},
		{providerKey(c.ProviderID), 1, ErrProviderLimit, CodeProviderLimit},
	}
	// A municipality's direction limits and budget are the children's
	// scheme's; adult courses are paid by the federal operator.
	if c.Scheme == certificate.DigitalSkills {
		return ks
	}
	ks = append(ks, limitKey{directionKey(c.Municipality, string(c.Direction), c.Period), 1, ErrDirectionLimit, CodeDirectionLimit})
	if amount.IsPositive() {
		ks = append(ks, limitKey{budgetKey(c.Municipality, c.Period), amount.Kopecks(), ErrBudgetLimit, CodeBudgetLimit})
	}
	return ks
}

func takeLimits(ctx context.Context, tx Tx, c Contract, amount funding.Money) error {
	for _, k := range limits(c, amount) {
		err := tx.Take(ctx, k.key, k.n)
		if errors.Is(err, ErrNotFound) {
			// No limit was ever set for this key: it counts without a cap,
			// so that a limit set later starts from the true use.
			if err = tx.EnsureCounter(ctx, k.key, Unlimited); err == nil {
				err = tx.Take(ctx, k.key, k.n)
			}
		}
		if errors.Is(err, ErrCounterFull) {
			return funding.Refuse(k.err, k.code, "%s is at its limit", k.key)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// giveLimits returns what a contract held: its seat and places, and the part
// of the budget that was reserved and not spent.
func giveLimits(ctx context.Context, tx Tx, c Contract, unspent funding.Money) error {
	for _, k := range limits(c, unspent) {
		if err := tx.Give(ctx, k.key, k.n); err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
	}
	return freeHours(ctx, tx, c)
}

// snapshot loads what CheckSubmission looks at. Counts come from the
// counters (the authoritative Takes at the end of Submit close the race
// between this read and the commit); the certificate's own contracts are
// stable under its row lock.
func (s *Service) snapshot(ctx context.Context, tx Tx, cert certificate.Certificate, o Offer, period funding.Period, on funding.Date, price funding.Price, acct AccountState, coPay bool) (Snapshot, error) {
	snap := Snapshot{
		On: on, Certificate: cert, Registry: o.Program.Registry,
		Cert: price.Cert, CoPay: price.CoPay, Balance: acct.Account.Balance, CoPayAccepted: coPay,
		Capacity: o.Group.Capacity, ProgramLimit: o.Program.EnrolmentLimit, ProviderLimit: o.Provider.EnrolmentLimit,
		GroupEnd: o.Group.End, EnrolmentOpen: o.Program.EnrolmentOpen,
		Agreement:     o.Provider.HasAgreement(cert.Municipality, on),
		RegistryLimit: s.RulesOn(on).RegistryQuotas,
	}
	used := func(key string) (Counter, error) {
		c, err := tx.Counter(ctx, key)
		if errors.Is(err, ErrNotFound) {
			return Counter{Key: key, Limit: Unlimited}, nil
		}
		return c, err
	}
	var err error
	var c Counter
	if c, err = used(seatsKey(o.Group.ID)); err != nil {
		return snap, err
	}
	snap.LiveInGroup = int(c.Used)
	if c, err = used(programKey(o.Program.ID)); err != nil {
		return snap, err
	}
	snap.LiveInProgram = int(c.Used)
	if c, err = used(providerKey(o.Provider.ID)); err != nil {
		return snap, err
	}
	snap.LiveAtProvider = int(c.Used)
	if c, err = used(directionKey(cert.Municipality, string(o.Program.Direction), period)); err != nil {
		return snap, err
	}
	snap.LiveInDirection = int(c.Used)
	if c.Limit < Unlimited {
		snap.DirectionLimit = int(c.Limit)
	}
	if c, err = used(budgetKey(cert.Municipality, period)); err != nil {
		return snap, err
	}
	snap.BudgetUsed, snap.BudgetLimit = funding.Kopecks(c.Used), funding.MaxMoney
	if c.Limit < Unlimited {
		snap.BudgetLimit = funding.Kopecks(c.Limit)
	}
	contracts, err := tx.LiveContracts(ctx, cert.ID)
	if err != nil {
		return snap, err
	}
	// Exact for the budget-funded registries, the only ones with a quota:
	// a batch reads no others (LiveContracts).
	snap.RegistryHeld = heldByRegistry(contracts)
	for _, k := range contracts {
		if k.Status.Live() && k.ModuleID == o.Module.ID {
			snap.SameModuleLive = true
		}
	}
	return snap, nil
}
