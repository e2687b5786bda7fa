package funding

import (
	"errors"

	"github.com/google/uuid"
)

// PostingKind names a movement of a certificate's money in one period.
type PostingKind string

const (
	Grant   PostingKind = "grant"   // the period's nominal arrives
	Adjust  PostingKind = "adjust"  // the category's nominal moves mid-period (may be negative)
	Reserve PostingKind = "reserve" // balance → reserve when an application is submitted
	Charge  PostingKind = "charge"  // reserve → spent, month by month
	Release PostingKind = "release" // reserve → balance on refusal, withdrawal or termination
	Deplete PostingKind = "deplete" // balance shrunk away before the first submission
	Expire  PostingKind = "expire"  // balance left at the end of the period
	Refund  PostingKind = "refund"  // spent → balance for a month delivered short
)

// Posting is one append-only entry of the ledger.
type Posting struct {
	Kind   PostingKind
	Amount Money     // positive, except Adjust which may be negative (never zero)
	HoldID uuid.UUID // required for Reserve, Charge, Release, Refund; uuid.Nil otherwise
}

// Account is a certificate's money in one period, as the sum of its postings.
// Check states its invariant.
type Account struct {
	Nominal, Balance, Reserved, Spent, Depleted, Expired Money
}

// Hold is the money one application reserved, and what became of it. The
// hold is what stops one application from settling another's reserve, or
// settling its own twice.
type Hold struct {
	ID                                  uuid.UUID
	Amount, Charged, Released, Refunded Money
}

// Refusals of Apply; each is wrapped in a *RuleError with the code shown.
var (
	ErrNonPositiveAmount   = errors.New("amount must be positive")           // non_positive_amount
	ErrAmountTooLarge      = errors.New("amount too large")                  // amount_too_large
	ErrInsufficientBalance = errors.New("insufficient balance")              // insufficient_balance
	ErrInsufficientReserve = errors.New("insufficient reserve")              // insufficient_reserve
	ErrInsufficientSpent   = errors.New("refund exceeds the spent amount")   // insufficient_spent
	ErrHoldMismatch        = errors.New("posting and hold do not match")     // hold_mismatch
	ErrHoldExists          = errors.New("hold already reserved")             // hold_exists
	ErrHoldOverSettled     = errors.New("hold settled beyond its amount")    // hold_over_settled
	ErrRefundOverCharged   = errors.New("refund exceeds the charged amount") // refund_over_charged
	ErrUnknownPosting      = errors.New("unknown posting kind")              // unknown_posting
	ErrLedgerInvariant     = errors.New("ledger invariant broken")           // ledger_invariant
)

// Stable codes of the refusals of Apply.
const (
	CodeNonPositiveAmount   = "non_positive_amount"
	CodeAmountTooLarge      = "amount_too_large"
	CodeInsufficientBalance = "insufficient_balance"
	CodeInsufficientReserve = "insufficient_reserve"
	CodeInsufficientSpent   = "insufficient_spent"
	CodeHoldMismatch        = "hold_mismatch"
	CodeHoldExists          = "hold_exists"
	CodeHoldOverSettled     = "hold_over_settled"
	CodeRefundOverCharged   = "refund_over_charged"
	CodeUnknownPosting      = "unknown_posting"
	CodeLedgerInvariant     = "ledger_invariant"
)

// Open is what the hold still reserves: Amount − Charged − Released.
func (h Hold) Open() Money { return h.Amount.Sub(h.Charged).Sub(h.Released) }

func (k PostingKind) needsHold() bool {
	return k == Reserve || k == Charge || k == Release || k == Refund
}

// Apply returns the account and hold after posting p. It is pure: on a
// refusal it returns a and h unchanged with the error, so a caller can apply
// postings to cached rows and write them only when all succeed.
//
// For postings without a hold (Grant, Adjust, Deplete, Expire) h is passed
// through untouched.
func (a Account) Apply(p Posting, h Hold) (Account, Hold, error) {
	na, nh, err := a.apply(p, h)
	if err != nil {
		return a, h, err
	}
	return na, nh, nil
}

func (a Account) apply(p Posting, h Hold) (Account, Hold, error) {
	if err := a.Check(); err != nil {
		return a, h, err
	}
	amt := p.Amount
	switch {
	case p.Kind == Adjust && amt.IsZero():
		return a, h, Refuse(ErrNonPositiveAmount, CodeNonPositiveAmount, "adjust by 0.00")
	case p.Kind != Adjust && !amt.IsPositive():
		return a, h, Refuse(ErrNonPositiveAmount, CodeNonPositiveAmount, "%s of %s", p.Kind, amt)
	case amt.Abs().Cmp(MaxMoney) >= 0:
		return a, h, Refuse(ErrAmountTooLarge, CodeAmountTooLarge, "%s of %s", p.Kind, amt)
	}
	if p.Kind.needsHold() {
		if p.HoldID == uuid.Nil {
			return a, h, Refuse(ErrHoldMismatch, CodeHoldMismatch, "%s needs a hold id", p.Kind)
		}
		if err := h.Check(); err != nil {
			return a, h, err
		}
	} else if p.HoldID != uuid.Nil {
		return a, h, Refuse(ErrHoldMismatch, CodeHoldMismatch, "%s takes no hold, got %s", p.Kind, p.HoldID)
	}
	if p.Kind.needsHold() && p.Kind != Reserve && h.ID != p.HoldID {
		return a, h, Refuse(ErrHoldMismatch, CodeHoldMismatch, "%s for hold %s applied to hold %s", p.Kind, p.HoldID, h.ID)
	}

	switch p.Kind {
	case Grant:
		a.Nominal, a.Balance = a.Nominal.Add(amt), a.Balance.Add(amt)
		if a.Nominal.Cmp(MaxMoney) >= 0 {
			return a, h, Refuse(ErrAmountTooLarge, CodeAmountTooLarge, "nominal would reach %s", a.Nominal)
		}
	case Adjust:
		if a.Balance.Add(amt).IsNegative() {
			return a, h, Refuse(ErrInsufficientBalance, CodeInsufficientBalance, "adjust by %s exceeds balance %s", amt, a.Balance)
		}
		a.Nominal, a.Balance = a.Nominal.Add(amt), a.Balance.Add(amt)
		if a.Nominal.Cmp(MaxMoney) >= 0 {
			return a, h, Refuse(ErrAmountTooLarge, CodeAmountTooLarge, "nominal would reach %s", a.Nominal)
		}
	case Reserve:
		if !h.Amount.IsZero() || !h.Charged.IsZero() || !h.Released.IsZero() || !h.Refunded.IsZero() {
			return a, h, Refuse(ErrHoldExists, CodeHoldExists, "hold %s already reserved %s", h.ID, h.Amount)
		}
		if h.ID != uuid.Nil && h.ID != p.HoldID {
			return a, h, Refuse(ErrHoldMismatch, CodeHoldMismatch, "reserve for hold %s applied to hold %s", p.HoldID, h.ID)
		}
		if a.Balance.LessThan(amt) {
			return a, h, Refuse(ErrInsufficientBalance, CodeInsufficientBalance, "reserve %s exceeds balance %s", amt, a.Balance)
		}
		a.Balance, a.Reserved = a.Balance.Sub(amt), a.Reserved.Add(amt)
		h = Hold{ID: p.HoldID, Amount: amt, Charged: Zero, Released: Zero, Refunded: Zero}
	case Charge, Release:
		if open := h.Open(); open.LessThan(amt) {
			return a, h, Refuse(ErrHoldOverSettled, CodeHoldOverSettled, "%s %s exceeds what hold %s has open: %s of %s (charged %s, released %s)",
				p.Kind, amt, h.ID, open, h.Amount, h.Charged, h.Released)
		}
		if a.Reserved.LessThan(amt) {
			return a, h, Refuse(ErrInsufficientReserve, CodeInsufficientReserve, "%s %s exceeds the account's reserve %s", p.Kind, amt, a.Reserved)
		}
		a.Reserved = a.Reserved.Sub(amt)
		if p.Kind == Charge {
			a.Spent, h.Charged = a.Spent.Add(amt), h.Charged.Add(amt)
		} else {
			a.Balance, h.Released = a.Balance.Add(amt), h.Released.Add(amt)
		}
	case Deplete, Expire:
		if a.Balance.LessThan(amt) {
			return a, h, Refuse(ErrInsufficientBalance, CodeInsufficientBalance, "%s %s exceeds balance %s", p.Kind, amt, a.Balance)
		}
		a.Balance = a.Balance.Sub(amt)
		if p.Kind == Deplete {
			a.Depleted = a.Depleted.Add(amt)
		} else {
			a.Expired = a.Expired.Add(amt)
		}
	case Refund:
		if left := h.Charged.Sub(h.Refunded); left.LessThan(amt) {
			return a, h, Refuse(ErrRefundOverCharged, CodeRefundOverCharged, "refund %s exceeds what hold %s has charged and not refunded: %s", amt, h.ID, left)
		}
		if a.Spent.LessThan(amt) {
			return a, h, Refuse(ErrInsufficientSpent, CodeInsufficientSpent, "refund %s exceeds the account's spent %s", amt, a.Spent)
		}
		a.Spent, a.Balance, h.Refunded = a.Spent.Sub(amt), a.Balance.Add(amt), h.Refunded.Add(amt)
	default:
		return a, h, Refuse(ErrUnknownPosting, CodeUnknownPosting, "kind %q", string(p.Kind))
	}
	return a, h, a.Check()
}

// Check states the invariant: nominal = balance + reserved + spent +
// depleted + expired, and none of them is negative.
func (a Account) Check() error {
	for _, f := range []struct {
		name string
		m    Money
	}{{"nominal", a.Nominal}, {"balance", a.Balance}, {"reserved", a.Reserved}, {"spent", a.Spent}, {"depleted", a.Depleted}, {"expired", a.Expired}} {
		if f.m.IsNegative() {
			return Refuse(ErrLedgerInvariant, CodeLedgerInvariant, "%s is negative: %s", f.name, f.m)
		}
	}
	sum := a.Balance.Add(a.Reserved).Add(a.Spent).Add(a.Depleted).Add(a.Expired)
	if !sum.Equal(a.Nominal) {
		return Refuse(ErrLedgerInvariant, CodeLedgerInvariant, "nominal %s != balance %s + reserved %s + spent %s + depleted %s + expired %s",
			a.Nominal, a.Balance, a.Reserved, a.Spent, a.Depleted, a.Expired)
	}
	return nil
}

// Check states a hold's invariant: charged + released never exceed the
// amount, refunded never exceeds charged, and nothing is negative.
func (h Hold) Check() error {
	if h.Amount.IsNegative() || h.Charged.IsNegative() || h.Released.IsNegative() || h.Refunded.IsNegative() {
		return Refuse(ErrLedgerInvariant, CodeLedgerInvariant, "hold %s has a negative amount", h.ID)
	}
	if h.Open().IsNegative() {
		return Refuse(ErrHoldOverSettled, CodeHoldOverSettled, "hold %s settled %s + %s of %s", h.ID, h.Charged, h.Released, h.Amount)
	}
	if h.Charged.LessThan(h.Refunded) {
		return Refuse(ErrRefundOverCharged, CodeRefundOverCharged, "hold %s refunded %s of %s charged", h.ID, h.Refunded, h.Charged)
	}
	return nil
}
