package funding

import (
	"testing"
	"time"

	"github.com/shopspring/decimal"
)

func TestDated(t *testing.T) {
	d := NewDated(7)
	d.Set(MustDate(2025, time.September, 1), 10)
	d.Set(MustDate(2024, time.January, 1), 5)
	tests := []struct {
		on   Date
		want int
	}{
		{MustDate(2023, time.December, 31), 7},
		{MustDate(2024, time.January, 1), 5},
		{MustDate(2025, time.August, 31), 5},
		{MustDate(2025, time.September, 1), 10},
		{MustDate(2030, time.January, 1), 10},
	}
	for _, tc := range tests {
		v, ok := d.At(tc.on)
		eq(t, "ok "+tc.on.String(), ok, true)
		eq(t, "at "+tc.on.String(), v, tc.want)
	}
	// The same date replaces; a copy taken before does not see later changes.
	before := d
	d.Set(MustDate(2025, time.September, 1), 11)
	eq(t, "replaced", d.MustAt(MustDate(2025, time.October, 1)), 11)
	eq(t, "copy", before.MustAt(MustDate(2025, time.October, 1)), 10)
	eq(t, "changes", len(d.Changes()), 2)
}

func TestDatedFromHasNoValueBefore(t *testing.T) {
	d := DatedFrom(Change[string]{MustDate(2025, time.January, 1), "a"}, Change[string]{MustDate(2025, time.July, 1), "b"})
	_, ok := d.At(MustDate(2024, time.December, 31))
	eq(t, "before", ok, false)
	eq(t, "jan", d.MustAt(MustDate(2025, time.March, 1)), "a")
	eq(t, "jul", d.MustAt(MustDate(2025, time.July, 1)), "b")
	var zero Dated[int]
	_, ok = zero.At(MustDate(2025, time.July, 1))
	eq(t, "zero", ok, false)
	defer func() {
		if recover() == nil {
			t.Fatal("MustAt without a value did not panic")
		}
	}()
	zero.MustAt(MustDate(2025, time.July, 1))
}

func TestDefaultParams(t *testing.T) {
	p := DefaultParams()
	on := MustDate(2025, time.October, 1)
	eq(t, "advance", p.AdvanceShare.MustAt(on).String(), "0.8")
	eq(t, "silence", p.ProlongationSilenceDays.MustAt(on), 7)
	eq(t, "hours", p.HoursBase.MustAt(on)+p.HoursExtra.MustAt(on), 16)
	eq(t, "period", p.PeriodOf(on), CalendarYear(2025))
	p.PeriodStart.Set(MustDate(2025, time.September, 1), time.September)
	eq(t, "school period", p.PeriodOf(on), SchoolYear(2025))
	eq(t, "school period before", p.PeriodOf(MustDate(2025, time.August, 31)), CalendarYear(2025))
	p.AdvanceShare.Set(MustDate(2026, time.January, 1), decimal.New(7, -1))
	eq(t, "advance 2026", p.AdvanceShare.MustAt(MustDate(2026, time.February, 1)).String(), "0.7")
}
