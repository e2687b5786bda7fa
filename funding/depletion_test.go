package funding

import (
	"fmt"
	"testing"
	"time"
)

func TestUsableNominal(t *testing.T) {
	p := CalendarYear(2025)
	nominal := MustMoney("12000.00")
	tests := []struct {
		on             Date
		usable, deplet string
	}{
		{MustDate(2024, time.December, 31), "12000.00", "0.00"},
		{MustDate(2025, time.January, 1), "12000.00", "0.00"},
		{MustDate(2025, time.January, 31), "12000.00", "0.00"},
		{MustDate(2025, time.February, 1), "11000.00", "1000.00"},
		{MustDate(2025, time.March, 15), "10000.00", "2000.00"},
		{MustDate(2025, time.December, 31), "1000.00", "11000.00"},
		{MustDate(2026, time.January, 1), "0.00", "12000.00"},
	}
	for _, tc := range tests {
		eqMoney(t, "usable on "+tc.on.String(), UsableNominal(nominal, p, tc.on), MustMoney(tc.usable))
		eqMoney(t, "depletion on "+tc.on.String(), Depletion(nominal, p, tc.on), MustMoney(tc.deplet))
	}
	// 30001.00 × 11/12 = 27500.9166…: rounded down, never up.
	eqMoney(t, "floor", UsableNominal(MustMoney("30001.00"), p, MustDate(2025, time.February, 3)), MustMoney("27500.91"))
	// School year: on 1 Jan 8 of 12 months remain.
	eqMoney(t, "school", UsableNominal(MustMoney("30000.00"), SchoolYear(2025), MustDate(2026, time.January, 1)), MustMoney("20000.00"))
}

func TestScaleNominal(t *testing.T) {
	annual := MustMoney("30000.00")
	tests := []struct {
		p    Period
		want string
	}{
		{CalendarYear(2025), "30000.00"},
		{CalendarYear(2024), "30000.00"}, // leap year: a whole year is not 366/365 of itself
		{SchoolYear(2023), "30000.00"},
		// 1 Sep – 31 Dec: 122 days → 30000 × 122/365 = 10027.397… → 10027
		{Period{MustDate(2025, time.September, 1), MustDate(2025, time.December, 31)}, "10027.00"},
		// 73 days → exactly 6000
		{Period{MustDate(2025, time.January, 1), MustDate(2025, time.March, 14)}, "6000.00"},
	}
	for _, tc := range tests {
		eqMoney(t, tc.p.String(), ScaleNominal(annual, tc.p), MustMoney(tc.want))
	}
	// 7.30 × 25/365 = 0.5 exactly: halves go away from zero.
	eqMoney(t, "half", ScaleNominal(MustMoney("7.30"), Period{MustDate(2025, time.January, 1), MustDate(2025, time.January, 25)}), MustMoney("1.00"))
}

func TestRatioHelpersAreExact(t *testing.T) {
	// 1/3 of 0.02 is 0.00666…: floor 0.00
	eqMoney(t, "floor", floor2Ratio(MustMoney("0.02"), 1, 3), MustMoney("0.00"))
	eqMoney(t, "floor exact", floor2Ratio(MustMoney("0.03"), 1, 3), MustMoney("0.01"))
	eqMoney(t, "floor neg", floor2Ratio(MustMoney("-0.02"), 1, 3), MustMoney("-0.01"))
	// A quotient a hair below a kopeck, past a 16-digit division's precision.
	big := int64(999_999_999_999_999_999)
	eqMoney(t, "floor tiny shortfall", floor2Ratio(MustMoney("0.01"), big-1, big), MustMoney("0.00"))
	eqMoney(t, "round neg half", roundRoublesRatio(MustMoney("-1.00"), 1, 2), MustMoney("-1.00"))
}

func ExampleUsableNominal() {
	year := CalendarYear(2025)
	nominal := MustMoney("12000.00")
	for _, on := range []Date{MustDate(2025, time.January, 10), MustDate(2025, time.March, 15)} {
		fmt.Println(on, UsableNominal(nominal, year, on), Depletion(nominal, year, on))
	}
	// Output:
	// 2025-01-10 12000.00 0.00
	// 2025-03-15 10000.00 2000.00
}
