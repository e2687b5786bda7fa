package certificate

import (
	"fmt"

	"github.com/edufund/edufund/funding"
)

// transitions is the status lifecycle, the one place that says which moves
// are allowed (rules.md §1 "Statuses"):
//
//	Issued    → Active (activated in person), Cancelled, Expired
//	Active    → Suspended (frozen), Cancelled, Expired
//	Suspended → Active (resumed), Cancelled, Expired
//	Cancelled, Expired: terminal
//
// A status never "moves" to itself: repeating an operation is refused so that
// a caller notices a lost update instead of silently succeeding.
var transitions = map[Status]map[Status]bool{
	Issued:    {Active: true, Cancelled: true, Expired: true},
	Active:    {Suspended: true, Cancelled: true, Expired: true},
	Suspended: {Active: true, Cancelled: true, Expired: true},
	Cancelled: {},
	Expired:   {},
}

// Statuses lists every status in lifecycle order.
func Statuses() []Status { return []Status{Issued, Active, Suspended, Cancelled, Expired} }

// Valid reports whether s is one of the known statuses.
func (s Status) Valid() bool { _, ok := transitions[s]; return ok }

// Terminal reports whether no transition leaves s (Cancelled, Expired).
func (s Status) Terminal() bool { return s.Valid() && len(transitions[s]) == 0 }

// TransitionError is a refused status move. It matches ErrForbiddenTransition.
type TransitionError struct {
	From, To Status
	// Op names the operation when the move is in the table but not what the
	// operation means ("activate" from Suspended, "resume" from Issued);
	// empty when the table itself forbids the move.
	Op string
}

func (e *TransitionError) Error() string {
	if e.Op != "" {
		return fmt.Sprintf("%v: cannot %s a %s certificate", ErrForbiddenTransition, e.Op, e.From)
	}
	return fmt.Sprintf("%v: %s → %s", ErrForbiddenTransition, e.From, e.To)
}

// Is makes every *TransitionError match ErrForbiddenTransition.
func (e *TransitionError) Is(target error) bool { return target == ErrForbiddenTransition }

// Code is the stable identifier of the refusal.
func (e *TransitionError) Code() string { return "forbidden_status_transition" }

// Transition checks the move from → to against the table; unknown statuses
// are refused like forbidden moves.
func Transition(from, to Status) error {
	if !transitions[from][to] {
		return &TransitionError{From: from, To: to}
	}
	return nil
}

func (c *Certificate) moveTo(to Status) error {
	if err := Transition(c.Status, to); err != nil {
		return err
	}
	c.Status = to
	return nil
}

// Activate records the in-person confirmation of the holder's data: Issued → Active.
func (c *Certificate) Activate() error {
	if c.Status != Issued {
		return &TransitionError{From: c.Status, To: Active, Op: "activate"}
	}
	return c.moveTo(Active)
}

// Suspend freezes an active certificate: Active → Suspended.
func (c *Certificate) Suspend() error { return c.moveTo(Suspended) }

// Resume unfreezes a suspended certificate: Suspended → Active.
func (c *Certificate) Resume() error {
	if c.Status != Suspended {
		return &TransitionError{From: c.Status, To: Active, Op: "resume"}
	}
	return c.moveTo(Active)
}

// Cancel annuls the certificate from any non-terminal status.
func (c *Certificate) Cancel() error { return c.moveTo(Cancelled) }

// Expire ends the certificate at the end of its validity (18th birthday for
// a child, 31 December for an adult) from any non-terminal status.
func (c *Certificate) Expire() error { return c.moveTo(Expired) }

// ExpireIfDue expires the certificate when on is after ValidUntil. It reports
// whether the status changed; a terminal certificate is left alone.
func (c *Certificate) ExpireIfDue(on funding.Date) bool {
	if c.Status.Terminal() || c.ValidUntil.IsZero() || !on.After(c.ValidUntil) {
		return false
	}
	c.Status = Expired
	return true
}
