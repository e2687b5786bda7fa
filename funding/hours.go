package funding

import (
	"errors"
	"strconv"
)

// HoursAccount is an hours nominal: weekly hours of load (Base usable on any
// program, Extra only on significant-registry programs) held as capacity by
// live contracts and freed when they end. Hours are whole academic hours a
// week.
type HoursAccount struct {
	Base, Extra         int
	UsedBase, UsedExtra int
}

// HoursHold is what one contract holds, by pool, so that freeing it returns
// exactly what it took.
type HoursHold struct {
	Base, Extra int
}

// Hours is the hold's total weekly hours.
func (h HoursHold) Hours() int { return h.Base + h.Extra }

var (
	ErrInsufficientHours = errors.New("insufficient hours")           // insufficient_hours
	ErrHoursOverFreed    = errors.New("freeing more hours than held") // hours_over_freed
)

// Stable codes of the hours account's refusals.
const (
	CodeInsufficientHours = "insufficient_hours"
	CodeHoursOverFreed    = "hours_over_freed"
)

// FreeBase and FreeExtra are the hours not held.
func (a HoursAccount) FreeBase() int  { return a.Base - a.UsedBase }
func (a HoursAccount) FreeExtra() int { return a.Extra - a.UsedExtra }

// Hold takes hours a week for a contract. A significant-registry contract
// takes the extra hours first: they are usable only there, so spending them
// first leaves the base hours for programs of any registry. Other contracts
// take base hours only. On refusal the account is returned unchanged.
func (a HoursAccount) Hold(hours int, significant bool) (HoursAccount, HoursHold, error) {
	if hours <= 0 {
		return a, HoursHold{}, Refuse(ErrNonPositiveAmount, CodeNonPositiveAmount, "hold %d hours", hours)
	}
	var h HoursHold
	if significant {
		h.Extra = min(hours, max(a.FreeExtra(), 0))
	}
	h.Base = hours - h.Extra
	if h.Base > a.FreeBase() {
		free := max(a.FreeBase(), 0)
		if significant {
			free += max(a.FreeExtra(), 0)
		}
		return a, HoursHold{}, Refuse(ErrInsufficientHours, CodeInsufficientHours, "%d h/week asked, %d free", hours, free)
	}
	a.UsedBase += h.Base
	a.UsedExtra += h.Extra
	return a, h, nil
}

// Free returns a contract's hold when the contract ends.
func (a HoursAccount) Free(h HoursHold) (HoursAccount, error) {
	if h.Base < 0 || h.Extra < 0 || h.Hours() == 0 {
		return a, Refuse(ErrNonPositiveAmount, CodeNonPositiveAmount, "free %d+%d hours", h.Base, h.Extra)
	}
	if h.Base > a.UsedBase || h.Extra > a.UsedExtra {
		return a, Refuse(ErrHoursOverFreed, CodeHoursOverFreed, "free %d base + %d extra, held %d base + %d extra", h.Base, h.Extra, a.UsedBase, a.UsedExtra)
	}
	a.UsedBase -= h.Base
	a.UsedExtra -= h.Extra
	return a, nil
}

// HoursMoney is the money of an hours contract: hours a week × weeks ×
// the normative cost of one child-hour, the weeks being the contract's
// days / 7. Rounded up to the kopeck, as every total of a contract is
// (rules.md, "Pricing a contract"); exact integer arithmetic otherwise.
func HoursMoney(hoursPerWeek, days int, costPerChildHour Money) (Money, error) {
	switch {
	case hoursPerWeek < 0:
		return Money{}, &ValidationError{Field: "hours_per_week", Rule: "must not be negative", Value: strconv.Itoa(hoursPerWeek)}
	case days < 0:
		return Money{}, &ValidationError{Field: "days", Rule: "must not be negative", Value: strconv.Itoa(days)}
	case costPerChildHour.IsNegative():
		return Money{}, &ValidationError{Field: "cost_per_child_hour", Rule: "must not be negative", Value: costPerChildHour.String()}
	}
	n := int64(hoursPerWeek) * int64(days)
	if n > 0 && costPerChildHour.k > MaxMoney.k/n*7 {
		return Money{}, &ValidationError{Field: "hours_per_week", Rule: "amount must be less than " + MaxMoney.String(), Value: strconv.Itoa(hoursPerWeek)}
	}
	k := costPerChildHour.k * n
	return Money{(k + 6) / 7}, nil
}
