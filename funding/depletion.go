package funding

// UsableNominal is the part of an unused nominal still usable on date on:
// floor2(nominal × months_remaining / months_in_period), counting on's month.
// Rounding down keeps the certificate from promising a kopeck the rule does
// not grant. Before the period the whole nominal is usable, after it nothing.
func UsableNominal(nominal Money, p Period, on Date) Money {
	total := p.Months()
	left := p.MonthsRemaining(on)
	if left >= total {
		return nominal
	}
	return floor2Ratio(nominal, int64(left), int64(total))
}

// Depletion is the amount the first submission of the period posts as
// depleted: the nominal that has shrunk away by date on.
func Depletion(nominal Money, p Period, on Date) Money {
	return nominal.Sub(UsableNominal(nominal, p, on))
}

// ScaleNominal is the nominal for a period shorter than a year:
// round(annual × days_in_period / 365) in whole roubles, halves away from zero.
// A period that is a whole year (from a date to the day before the same date
// a year later) gets the annual nominal as it is, so a leap year's 366 days do
// not raise it by a 365th.
func ScaleNominal(annual Money, p Period) Money {
	if p.End.Equal(p.Start.AddYears(1).AddDays(-1)) {
		return annual
	}
	return roundRoublesRatio(annual, int64(p.Days()), 365)
}
