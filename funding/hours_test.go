package funding

import "testing"

func TestHoursHold(t *testing.T) {
	a := HoursAccount{Base: 12, Extra: 4}

	// A significant contract takes the extra hours first.
	a, sig, err := a.Hold(6, true)
	noErr(t, err)
	eq(t, "sig hold", sig, HoursHold{Base: 2, Extra: 4})
	eq(t, "after sig", a, HoursAccount{Base: 12, Extra: 4, UsedBase: 2, UsedExtra: 4})

	// Others take base hours only.
	a, gen, err := a.Hold(10, false)
	noErr(t, err)
	eq(t, "gen hold", gen, HoursHold{Base: 10})
	eq(t, "free base", a.FreeBase(), 0)

	before := a
	after, h, err := a.Hold(1, true)
	isRefusal(t, err, ErrInsufficientHours, "insufficient_hours")
	eq(t, "unchanged", after, before)
	eq(t, "no hold", h, HoursHold{})

	// Freeing the significant contract gives back both pools.
	a, err = a.Free(sig)
	noErr(t, err)
	eq(t, "after free", a, HoursAccount{Base: 12, Extra: 4, UsedBase: 10})

	// A general contract cannot use extra hours even when they are free.
	_, _, err = a.Hold(3, false)
	isRefusal(t, err, ErrInsufficientHours, "insufficient_hours")
	eq(t, "message", err.Error(), "insufficient hours: 3 h/week asked, 2 free")
	a, h, err = a.Hold(6, true)
	noErr(t, err)
	eq(t, "sig fits across pools", h, HoursHold{Base: 2, Extra: 4})

	_, err = a.Free(HoursHold{Extra: 5})
	isRefusal(t, err, ErrHoursOverFreed, "hours_over_freed")
	_, err = a.Free(HoursHold{})
	isRefusal(t, err, ErrNonPositiveAmount, "non_positive_amount")
	_, _, err = a.Hold(0, true)
	isRefusal(t, err, ErrNonPositiveAmount, "non_positive_amount")
}

func TestHoursMoney(t *testing.T) {
	// 4 h/week for 36 weeks (252 days) at 125.50: 4 × 36 × 125.50.
	m, err := HoursMoney(4, 252, MustMoney("125.50"))
	noErr(t, err)
	eqMoney(t, "whole weeks", m, MustMoney("18072.00"))
	// 3 h/week for 10 days at 100.00: 3 × 10/7 × 100 = 428.571… → 428.58.
	m, err = HoursMoney(3, 10, MustMoney("100.00"))
	noErr(t, err)
	eqMoney(t, "rounded up", m, MustMoney("428.58"))
	m, err = HoursMoney(0, 36, MustMoney("125.50"))
	noErr(t, err)
	eqMoney(t, "zero", m, Zero)
	_, err = HoursMoney(-1, 36, MustMoney("1"))
	isInvalid(t, err, "hours_per_week")
	_, err = HoursMoney(1, -1, MustMoney("1"))
	isInvalid(t, err, "days")
	_, err = HoursMoney(1, 1, MustMoney("-1"))
	isInvalid(t, err, "cost_per_child_hour")
	_, err = HoursMoney(60, 366, MaxMoney)
	isInvalid(t, err, "hours_per_week")
}
