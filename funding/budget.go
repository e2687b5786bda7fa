package funding

import "errors"

// Budget is a municipality's money limit for a period: the reserved plus
// spent money of its certificates never exceeds Limit. Used is that sum.
type Budget struct {
	Municipality string
	Period       Period
	Limit, Used  Money
}

var (
	ErrBudgetLimitReached = errors.New("budget limit reached")             // budget_limit_reached
	ErrBudgetOverReturn   = errors.New("budget return exceeds used money") // budget_over_return
)

// Stable codes of the budget's refusals.
const (
	CodeBudgetLimitReached = "budget_limit_reached"
	CodeBudgetOverReturn   = "budget_over_return"
)

// Take commits amount against the limit (a reserve made on submission). It is
// refused, with the budget unchanged, when Used + amount would exceed Limit:
// a municipality's money is never promised twice. Storage runs the same test
// as one conditional UPDATE; this is the rule it mirrors.
func (b Budget) Take(amount Money) (Budget, error) {
	if !amount.IsPositive() {
		return b, Refuse(ErrNonPositiveAmount, CodeNonPositiveAmount, "take %s", amount)
	}
	if next := b.Used.Add(amount); next.Cmp(b.Limit) > 0 {
		return b, Refuse(ErrBudgetLimitReached, CodeBudgetLimitReached, "%s: taking %s exceeds the remaining %s of limit %s",
			b.Municipality, amount, b.Remaining(), b.Limit)
	}
	b.Used = b.Used.Add(amount)
	return b, nil
}

// Return gives amount back (a release of reserve, a refund of a shortfall).
func (b Budget) Return(amount Money) (Budget, error) {
	if !amount.IsPositive() {
		return b, Refuse(ErrNonPositiveAmount, CodeNonPositiveAmount, "return %s", amount)
	}
	if b.Used.LessThan(amount) {
		return b, Refuse(ErrBudgetOverReturn, CodeBudgetOverReturn, "%s: returning %s exceeds the used %s", b.Municipality, amount, b.Used)
	}
	b.Used = b.Used.Sub(amount)
	return b, nil
}

// Remaining is what is left under the limit; never negative, even for a
// limit a region lowered below what is already used.
func (b Budget) Remaining() Money { return MaxOf(Zero, b.Limit.Sub(b.Used)) }

// Reached reports that nothing is left: the cabinet then shows a notice
// instead of nominal and balance, since no new money can be committed.
func (b Budget) Reached() bool { return !b.Remaining().IsPositive() }
