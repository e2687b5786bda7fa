package enrollment

import (
	"errors"

	"github.com/google/uuid"

	"github.com/edufund/edufund/catalog"
	"github.com/edufund/edufund/funding"
)

// DefaultSilenceDays is how many days of the holder's silence accept a
// prolongation (rules.md: 7, a parameter).
const DefaultSilenceDays = 7

// Refusals of a prolongation.
var (
	// ErrNotProlongable: only a naturally ended contract (not terminated) can be prolonged.
	ErrNotProlongable = errors.New("contract cannot be prolonged")
	// ErrProlongationTarget: the group prolonged into does not run after the contract.
	ErrProlongationTarget = errors.New("nothing to prolong into")
)

// Stable codes of the prolongation refusals.
const (
	CodeNotProlongable     = "not_prolongable"
	CodeProlongationTarget = "prolongation_target_finished"
)

// CanProlong says whether the provider may prolong c on date on: c ended
// naturally, i.e. it was never terminated (TerminatedOn zero; a Closed
// contract with ClosedOn before its End was terminated too) and it is
// Closed, or Active with its End in on's month or earlier (ending this month:
// the offer can be made before the close that closes it).
func CanProlong(c Contract, on funding.Date) error {
	terminated := !c.TerminatedOn.IsZero() || c.Status == Terminating ||
		(c.Status == Closed && !c.ClosedOn.IsZero() && c.ClosedOn.Before(c.End))
	switch {
	case terminated:
		return funding.Refuse(ErrNotProlongable, CodeNotProlongable, "contract %s was terminated", c.ID)
	case c.Status == Closed:
		return nil
	case c.Status == Active && !c.End.MonthOf().After(on.MonthOf()):
		return nil
	case c.Status == Active:
		return funding.Refuse(ErrNotProlongable, CodeNotProlongable, "contract %s runs until %s", c.ID, c.End)
	}
	return funding.Refuse(ErrNotProlongable, CodeNotProlongable, "a %s contract cannot be prolonged", c.Status)
}

// Prolong is the provider prolonging c on date on into group g of module m:
// the next module, another group, or the same group for the next period (a
// contract never spans two periods). It returns the new contract as an
// issued offer (status Accepted, OfferedOn = on, ProlongedFrom = c.ID) with
// the certificate, provider and municipality of c, starting on the latest of
// the group's start, the day after c's End and on, and ending on the group's
// End. The caller prices it (End capped at the period's end), runs the
// submission checks and reserves the money like a submission; the holder's
// acceptance, explicit or by silence (OfferOutcome), makes it Active;
// declining cancels the application (Withdrawn).
func Prolong(c Contract, g catalog.Group, m catalog.Module, on funding.Date) (Contract, error) {
	if err := CanProlong(c, on); err != nil {
		return Contract{}, err
	}
	if g.ModuleID != m.ID {
		return Contract{}, &funding.ValidationError{Field: "module_id", Rule: "must be the group's module", Value: m.ID.String()}
	}
	start := g.Start
	if next := c.End.AddDays(1); next.After(start) {
		start = next
	}
	if on.After(start) {
		start = on
	}
	if start.After(g.End) {
		return Contract{}, funding.Refuse(ErrProlongationTarget, CodeProlongationTarget,
			"group %s ends on %s, before the prolongation could start on %s", g.ID, g.End, start)
	}
	id, err := uuid.NewV7()
	if err != nil {
		return Contract{}, err
	}
	program := m.ProgramID
	if program == uuid.Nil {
		program = c.ProgramID
	}
	return Contract{
		ID: id, CertificateID: c.CertificateID, GroupID: g.ID, ModuleID: m.ID, ProgramID: program,
		ProviderID: c.ProviderID, Municipality: c.Municipality, Registry: c.Registry, Direction: c.Direction,
		Status: Accepted, Start: start, End: g.End, ProlongedFrom: c.ID, OfferedOn: on,
	}, nil
}

// SilenceAccepts reports whether the holder's silence since an offer made on
// offeredOn has accepted it by on: silenceDays full days have passed
// (offered on the 1st with 7 days, accepted on the 8th). silenceDays ≤ 0
// means DefaultSilenceDays.
func SilenceAccepts(offeredOn, on funding.Date, silenceDays int) bool {
	if silenceDays <= 0 {
		silenceDays = DefaultSilenceDays
	}
	return !on.Before(offeredOn.AddDays(silenceDays))
}

// SilenceDue is the day the holder's silence accepts prolongation offer c:
// the silence days in force on the day it was offered, after it.
func (s *Service) SilenceDue(c Contract) funding.Date {
	days := s.RulesOn(c.OfferedOn).ProlongationSilenceDays
	if days <= 0 {
		days = DefaultSilenceDays
	}
	return c.OfferedOn.AddDays(days)
}

// Answer is the holder's answer to a prolongation offer.
type Answer string

const (
	NoAnswer Answer = ""        // silence so far
	Agree    Answer = "agree"   // the holder accepts
	Decline  Answer = "decline" // the holder cancels the application
)

// OfferOutcome is the status a prolongation offer made on offeredOn should
// have on date on given the holder's answer: Active when accepted or when
// silence has accepted it (SilenceAccepts), Withdrawn when declined, and
// still Accepted (pending) otherwise. An explicit answer wins over silence
// only while the offer is pending; the caller records the first outcome.
func OfferOutcome(offeredOn, on funding.Date, silenceDays int, a Answer) Status {
	switch {
	case a == Decline:
		return Withdrawn
	case a == Agree, SilenceAccepts(offeredOn, on, silenceDays):
		return Active
	}
	return Accepted
}
