package funding

import (
	"fmt"
	"testing"
	"time"
)

func TestDateBefore1970IsNotZero(t *testing.T) {
	// Regression: with a one-day shift 1969-12-31 was stored as the zero Date.
	for _, s := range []string{"1969-12-31", "1958-03-10", "1900-01-01", "1970-01-01"} {
		d, err := ParseDate(s)
		noErr(t, err)
		if d.IsZero() {
			t.Fatalf("%s parsed as the zero Date", s)
		}
		eq(t, s, d.String(), s)
	}
	eq(t, "days", Days(MustDate(1969, time.December, 31), MustDate(1970, time.January, 1)), 2)
	eq(t, "zero", Date{}.IsZero(), true)
}

func TestDaysAndMonths(t *testing.T) {
	tests := []struct {
		a, b         string
		days, months int
	}{
		{"2025-09-01", "2026-05-31", 273, 9},
		{"2025-09-01", "2025-12-31", 122, 4},
		{"2025-10-31", "2025-11-01", 2, 2},
		{"2025-11-01", "2025-11-30", 30, 1},
		{"2024-01-01", "2024-12-31", 366, 12},
	}
	for _, tc := range tests {
		a, b := mustParseDate(tc.a), mustParseDate(tc.b)
		eq(t, tc.a+".."+tc.b+" days", Days(a, b), tc.days)
		eq(t, tc.a+".."+tc.b+" months", Months(a, b), tc.months)
	}
}

// TestMonthString checks the month's text, written by hand in the years
// 0–9999, against the format it keeps with fmt elsewhere.
func TestMonthString(t *testing.T) {
	for _, m := range []Month{
		{}, {2026, time.March}, {2025, time.December}, {999, time.January}, {9999, time.December}, {7, 10},
		{10000, time.January}, {-1, time.June}, {2026, 13}, {2026, 100}, {2026, -1},
	} {
		eq(t, fmt.Sprint(m.Year, "-", int(m.Month)), m.String(), fmt.Sprintf("%04d-%02d", m.Year, int(m.Month)))
	}
	if n := testing.AllocsPerRun(10, func() { _ = Month{2026, time.March}.String() }); n > 1 {
		t.Errorf("Month.String allocates %v objects, want 1", n)
	}
}

func TestMonthOf(t *testing.T) {
	for _, tc := range []struct{ date, month string }{
		{"2026-03-01", "2026-03"},
		{"2026-03-31", "2026-03"},
		{"2025-12-31", "2025-12"},
		{"2024-02-29", "2024-02"},
		{"1969-12-31", "1969-12"},
		{"1900-01-01", "1900-01"},
	} {
		eq(t, tc.date, mustParseDate(tc.date).MonthOf().String(), tc.month)
	}
}

func TestAddMonthsClamps(t *testing.T) {
	eq(t, "31 Jan + 1", MustDate(2025, time.January, 31).AddMonths(1).String(), "2025-02-28")
	eq(t, "31 Jan 2024 + 1", MustDate(2024, time.January, 31).AddMonths(1).String(), "2024-02-29")
	eq(t, "10 Mar 1960 + 61.5y", MustDate(1960, time.March, 10).AddMonths(61*12+6).String(), "2021-09-10")
}

func TestParseDateRefuses(t *testing.T) {
	for _, s := range []string{"", "2025-02-30", "2025-9-01", "25-09-01", "2025-09-01T00:00:00Z", "1899-12-31", "3000-01-01", " 2025-09-01"} {
		_, err := ParseDate(s)
		isInvalid(t, err, "date")
	}
}

func TestPeriodNext(t *testing.T) {
	eq(t, "calendar", CalendarYear(2024).Next(), CalendarYear(2025))
	eq(t, "school", SchoolYear(2024).Next(), SchoolYear(2025))
	p := Period{Start: MustDate(2025, time.January, 1), End: MustDate(2025, time.January, 10)}
	eq(t, "span", p.Next().String(), "2025-01-11..2025-01-20")
}

func mustParseDate(s string) Date {
	d, err := ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

func FuzzParseDate(f *testing.F) {
	for _, s := range []string{"2025-09-01", "1969-12-31", "2024-02-29", "2025-02-29", "", "x", "2025-13-01", "9999-99-99"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDate(s)
		if err != nil {
			if !d.IsZero() {
				t.Fatalf("refused %q but returned %v", s, d)
			}
			return
		}
		if d.IsZero() {
			t.Fatalf("accepted %q as the zero Date", s)
		}
		// An accepted date is in canonical form and round-trips exactly.
		if d.String() != s {
			t.Fatalf("%q formats back as %q", s, d.String())
		}
		back, err := ParseDate(d.String())
		if err != nil || !back.Equal(d) {
			t.Fatalf("%q does not reparse: %v %v", s, back, err)
		}
		if Days(d, d.AddDays(1)) != 2 || d.AddDays(1).AddDays(-1) != d {
			t.Fatalf("day arithmetic broken at %v", d)
		}
	})
}

func TestZeroDateAndMonthRoundTripThroughText(t *testing.T) {
	var d Date
	b, _ := d.MarshalText()
	d = MustDate(2025, time.March, 1)
	if err := d.UnmarshalText(b); err != nil || !d.IsZero() {
		t.Fatalf("zero date round trip: %v, %v", d, err)
	}
	var m Month
	b, _ = m.MarshalText()
	m = Month{Year: 2025, Month: time.March}
	if err := m.UnmarshalText(b); err != nil || !m.IsZero() {
		t.Fatalf("zero month round trip: %v, %v", m, err)
	}
}
