package funding

import "testing"

func TestBudget(t *testing.T) {
	b := Budget{Municipality: "Город", Period: CalendarYear(2025), Limit: MustMoney("10000.00")}
	b, err := b.Take(MustMoney("4021.98"))
	noErr(t, err)
	eqMoney(t, "used", b.Used, MustMoney("4021.98"))
	eqMoney(t, "remaining", b.Remaining(), MustMoney("5978.02"))
	eq(t, "reached", b.Reached(), false)

	before := b
	after, err := b.Take(MustMoney("5978.03"))
	isRefusal(t, err, ErrBudgetLimitReached, "budget_limit_reached")
	eq(t, "unchanged", after, before)
	eq(t, "message", err.Error(), "budget limit reached: Город: taking 5978.03 exceeds the remaining 5978.02 of limit 10000.00")

	b, err = b.Take(MustMoney("5978.02")) // exactly to the limit is allowed
	noErr(t, err)
	eq(t, "reached at limit", b.Reached(), true)
	eqMoney(t, "remaining at limit", b.Remaining(), Zero)

	b, err = b.Return(MustMoney("2021.96"))
	noErr(t, err)
	eqMoney(t, "used after return", b.Used, MustMoney("7978.04"))
	eq(t, "reached after return", b.Reached(), false)

	_, err = b.Return(MustMoney("7978.05"))
	isRefusal(t, err, ErrBudgetOverReturn, "budget_over_return")
	_, err = b.Take(Zero)
	isRefusal(t, err, ErrNonPositiveAmount, "non_positive_amount")
	_, err = b.Return(MustMoney("-1"))
	isRefusal(t, err, ErrNonPositiveAmount, "non_positive_amount")

	// A limit lowered below the used money: nothing remains, nothing is taken.
	b.Limit = MustMoney("5000.00")
	eqMoney(t, "remaining below", b.Remaining(), Zero)
	eq(t, "reached below", b.Reached(), true)
	_, err = b.Take(Kopecks(1))
	isRefusal(t, err, ErrBudgetLimitReached, "budget_limit_reached")
}
