package enrollment

import (
	"errors"
	"fmt"

	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/funding"
)

// Statuses lists every contract status.
var Statuses = []Status{Requested, Accepted, Active, Terminating, Closed, Refused, Withdrawn}

// transitions is the contract state machine of rules.md, "Contract lifecycle".
// Any pair not listed is forbidden.
var transitions = map[Status][]Status{
	Requested:   {Accepted, Refused, Withdrawn}, // provider confirms (offer issued) / provider refuses / holder withdraws
	Accepted:    {Active, Refused, Withdrawn},   // holder's signed application recorded / refused / withdrawn
	Active:      {Terminating, Closed},          // terminated by either party / completed at the group's end
	Terminating: {Closed},                       // closed by the next monthly close
}

// paperTransitions are the moves a provider makes itself on the holder's
// signed paper application (seed 004: "Получите подписанное заявление на
// обучение и подтвердите зачисление ребенка. Договор заключен."): the paper
// stands for the offer and its online acceptance together, so an
// application or an offer becomes active at once. Only ActivateOnPaper
// uses this table; every other path keeps to transitions.
var paperTransitions = map[Status][]Status{
	Requested: {Active}, // the provider confirms and the signed paper accepts, in one step
	Accepted:  {Active}, // the signed paper stands for the holder's online acceptance
}

// TransitionOnPaper is Transition for a signed paper application: nil when
// paperTransitions allows the move, a *TransitionError otherwise.
func TransitionOnPaper(from, to Status) error {
	for _, s := range paperTransitions[from] {
		if s == to {
			return nil
		}
	}
	return &TransitionError{From: from, To: to}
}

// ActivateOnPaper moves c to Active on date on by the paper path
// (TransitionOnPaper). A contract that skips the offer is offered and
// activated the same day: the provider confirmed it on the paper.
func (c *Contract) ActivateOnPaper(on funding.Date) error {
	if err := TransitionOnPaper(c.Status, Active); err != nil {
		return err
	}
	if c.Status == Requested {
		c.OfferedOn = on
	}
	c.Status, c.ActivatedOn = Active, on
	return nil
}

// ErrForbiddenTransition matches every *TransitionError.
var ErrForbiddenTransition = errors.New("forbidden status transition")

// CodeForbiddenTransition is the stable code of a forbidden transition.
const CodeForbiddenTransition = "forbidden_transition"

// TransitionError is a move the state machine does not allow.
type TransitionError struct {
	From, To Status
}

func (e *TransitionError) Error() string {
	return fmt.Sprintf("%s: %s → %s", ErrForbiddenTransition, e.From, e.To)
}

// Is makes every *TransitionError match ErrForbiddenTransition.
func (e *TransitionError) Is(target error) bool { return target == ErrForbiddenTransition }

// Transition returns nil when a contract may move from one status to the
// other and a *TransitionError otherwise. Staying in the same status is a
// transition too, and forbidden: a repeated request is the idempotency key's
// business, not the state machine's.
func Transition(from, to Status) error {
	for _, s := range transitions[from] {
		if s == to {
			return nil
		}
	}
	return &TransitionError{From: from, To: to}
}

// Known reports whether s is one of Statuses.
func (s Status) Known() bool {
	for _, k := range Statuses {
		if s == k {
			return true
		}
	}
	return false
}

// Live reports whether a contract in status s holds its seat, places and
// quotas: requested, accepted and active. A terminating contract is not live:
// termination frees the seat at once (rules.md: capacity 15 with 14 live and
// one terminating accepts a new application).
func (s Status) Live() bool { return s == Requested || s == Accepted || s == Active }

// Terminal reports whether s is final: closed, refused or withdrawn.
func (s Status) Terminal() bool { return s == Closed || s == Refused || s == Withdrawn }

// CountLive counts the live statuses among ss.
func CountLive(ss ...Status) int {
	n := 0
	for _, s := range ss {
		if s.Live() {
			n++
		}
	}
	return n
}

// ErrCertificateNotActive is a provider confirming an application on a
// certificate that is not active (rules.md: an application may be submitted
// on a non-activated certificate, but a provider cannot enrol on it).
var ErrCertificateNotActive = errors.New("certificate not active")

// CodeCertificateNotActive is the stable code of ErrCertificateNotActive.
const CodeCertificateNotActive = "certificate_not_active"

// CanAccept is the guard of Requested → Accepted, the provider's
// confirmation: the certificate must be Active. An Issued certificate can
// carry an application (CheckSubmission lets it through) but the provider
// cannot enrol on it until it is activated in person. The same guard applies
// to Accepted → Active: a certificate suspended after the offer cannot sign.
func CanAccept(c certificate.Certificate) error {
	if c.Status != certificate.Active {
		return funding.Refuse(ErrCertificateNotActive, CodeCertificateNotActive,
			"certificate %s is %s; the provider can enrol only on an active certificate", c.Number, c.Status)
	}
	return nil
}

// transition moves c to status to when the state machine allows it.
func (c *Contract) transition(to Status) error {
	if err := Transition(c.Status, to); err != nil {
		return err
	}
	c.Status = to
	return nil
}

// Move moves c to status to on date on when the state machine allows it, and
// records the date the move stands for: OfferedOn for Accepted, ActivatedOn
// for Active, TerminatedOn for Terminating, ClosedOn for Closed, Refused and
// Withdrawn. Guards that need more than the contract (CanAccept) are the
// caller's.
func (c *Contract) Move(to Status, on funding.Date) error {
	if err := c.transition(to); err != nil {
		return err
	}
	switch to {
	case Accepted:
		c.OfferedOn = on
	case Active:
		c.ActivatedOn = on
	case Terminating:
		c.TerminatedOn = on
	case Closed, Refused, Withdrawn:
		c.ClosedOn = on
	}
	return nil
}
