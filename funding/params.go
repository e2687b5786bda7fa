package funding

import (
	"slices"
	"time"

	"github.com/shopspring/decimal"
)

// Change is one step of a Dated value: Value applies from From on.
type Change[T any] struct {
	From  Date
	Value T
}

// Dated is a parameter whose value changes on given dates: a region amends a
// nominal, a share or a deadline from some date on, and a rule applied to an
// earlier date must still see the old value. That is why every (parameter) of
// rules.md is held as a Dated value rather than a plain field.
//
// The zero Dated has no value on any date. Copies are independent: Set never
// writes into a slice another copy can see.
type Dated[T any] struct {
	hasInitial bool
	initial    T           // applies before the first change (and always, if there is none)
	changes    []Change[T] // sorted by From, one per date
}

// NewDated returns a value that applies on every date until changed by Set.
func NewDated[T any](initial T) Dated[T] {
	return Dated[T]{hasInitial: true, initial: initial}
}

// DatedFrom returns a value known only from the earliest change on: At
// reports false before it. A later change on the same date wins.
func DatedFrom[T any](changes ...Change[T]) Dated[T] {
	var d Dated[T]
	for _, c := range changes {
		d.Set(c.From, c.Value)
	}
	return d
}

// Set makes v apply from the date from on (until the next change), replacing
// a change already made on that date.
func (d *Dated[T]) Set(from Date, v T) {
	i, found := slices.BinarySearchFunc(d.changes, from, func(c Change[T], t Date) int { return c.From.Compare(t) })
	next := slices.Clone(d.changes)
	if found {
		next[i].Value = v
	} else {
		next = slices.Insert(next, i, Change[T]{From: from, Value: v})
	}
	d.changes = next
}

// At returns the value that applies on date on.
func (d Dated[T]) At(on Date) (T, bool) {
	// index of the first change after on; the one before it applies.
	i, found := slices.BinarySearchFunc(d.changes, on, func(c Change[T], t Date) int { return c.From.Compare(t) })
	if found {
		return d.changes[i].Value, true
	}
	if i > 0 {
		return d.changes[i-1].Value, true
	}
	return d.initial, d.hasInitial
}

// MustAt is At for parameters that a region has to define from the start
// (every default of DefaultParams is); it panics when none applies.
func (d Dated[T]) MustAt(on Date) T {
	v, ok := d.At(on)
	if !ok {
		panic("funding: dated parameter has no value on " + on.String())
	}
	return v
}

// Changes returns the dated steps in date order (without the initial value).
func (d Dated[T]) Changes() []Change[T] { return slices.Clone(d.changes) }

// Params are the money-side parameters a region sets per municipality (or
// category) and period. The defaults are those of rules.md.
type Params struct {
	// AdvanceShare of a month's certificate payment invoiced as an advance (0.8).
	AdvanceShare Dated[decimal.Decimal]
	// PeriodStart is the month a funding period begins in: January for a
	// calendar year, September for a school year.
	PeriodStart Dated[time.Month]
	// ProlongationSilenceDays after which the holder's silence accepts a prolongation (7).
	ProlongationSilenceDays Dated[int]
	// HoursBase and HoursExtra are the weekly hours of an hours nominal (12 and
	// 4); the extra hours are usable only on significant-registry programs.
	HoursBase, HoursExtra Dated[int]
	// AdultCoverage is the share of a course's cost the adult certificate pays (1).
	AdultCoverage Dated[decimal.Decimal]
}

// DefaultParams returns the rules.md defaults, applying on every date.
func DefaultParams() Params {
	return Params{
		AdvanceShare:            NewDated(decimal.New(8, -1)),
		PeriodStart:             NewDated(time.January),
		ProlongationSilenceDays: NewDated(7),
		HoursBase:               NewDated(12),
		HoursExtra:              NewDated(4),
		AdultCoverage:           NewDated(decimal.New(1, 0)),
	}
}

// PeriodOf returns the funding period holding date on under these parameters:
// the year-long span that starts on the 1st of PeriodStart.
func (p Params) PeriodOf(on Date) Period {
	m := p.PeriodStart.MustAt(on)
	y := on.Year()
	if on.Month() < m {
		y--
	}
	start := MustDate(y, m, 1)
	return Period{Start: start, End: start.AddYears(1).AddDays(-1)}
}
