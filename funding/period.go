package funding

import "time"

// Period is a span of whole dates for which a certificate gets a nominal: a
// calendar year by default, a school year (1 Sep – 31 Aug) where the region
// says so, or any span. Both ends are inclusive.
type Period struct {
	Start Date
	End   Date
}

// NewPeriod returns the period from start to end inclusive.
func NewPeriod(start, end Date) (Period, error) {
	if start.IsZero() {
		return Period{}, &ValidationError{Field: "period.start", Rule: "must be set"}
	}
	if end.IsZero() {
		return Period{}, &ValidationError{Field: "period.end", Rule: "must be set"}
	}
	if end.Before(start) {
		return Period{}, &ValidationError{Field: "period.end", Rule: "must not be before period.start", Value: end.String()}
	}
	return Period{Start: start, End: end}, nil
}

// CalendarYear is 1 Jan – 31 Dec of y.
func CalendarYear(y int) Period {
	return Period{Start: MustDate(y, time.January, 1), End: MustDate(y, time.December, 31)}
}

// SchoolYear is 1 Sep of y – 31 Aug of y+1.
func SchoolYear(y int) Period {
	return Period{Start: MustDate(y, time.September, 1), End: MustDate(y+1, time.August, 31)}
}

// Days is the inclusive day count.
func (p Period) Days() int { return Days(p.Start, p.End) }

// Months is the number of calendar months the period touches.
func (p Period) Months() int { return Months(p.Start, p.End) }

// Contains reports whether d lies within the period.
func (p Period) Contains(d Date) bool { return !d.Before(p.Start) && !d.After(p.End) }

// MonthsRemaining counts the months from d's month to the period's last month,
// the current month included; 0 after the period, Months() before it.
func (p Period) MonthsRemaining(d Date) int {
	switch {
	case d.After(p.End):
		return 0
	case d.Before(p.Start):
		return p.Months()
	}
	return Months(d, p.End)
}

// Next is the period of the same shape that follows p: the next calendar or
// school year, or for any other span one of the same length starting the day after.
func (p Period) Next() Period {
	if p.Start.Day() == 1 && p.End.Equal(p.Start.AddYears(1).AddDays(-1)) {
		return Period{Start: p.Start.AddYears(1), End: p.End.AddDays(1).AddYears(1).AddDays(-1)}
	}
	return Period{Start: p.End.AddDays(1), End: p.End.AddDays(p.Days())}
}

// String formats the period as "2025-01-01..2025-12-31".
func (p Period) String() string { return p.Start.String() + ".." + p.End.String() }
