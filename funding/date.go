package funding

import (
	"fmt"
	"time"
)

// Date is a calendar date with no time of day and no zone. The rules of the
// schemes speak of whole dates (the start of a group, a birthday, the 1st of
// a month), never of instants.
//
// The zero Date is invalid; IsZero reports it.
type Date struct {
	// days since 1970-01-01 plus dateEpoch, so that the zero value means "no
	// date" and no real date (birthdays before 1970 included) collides with it.
	n int32
}

// dateEpoch shifts the day count far enough that every date from year 1 on is
// positive. A shift of one day was not enough: 1969-12-31 became the zero Date.
const dateEpoch = 1 << 22

const dateLayout = "2006-01-02"

// NewDate returns the date y-m-d, refusing a day that the month does not have.
func NewDate(y int, m time.Month, d int) (Date, error) {
	if y < 1900 || y > 2999 {
		return Date{}, &ValidationError{Field: "date", Rule: "year must be between 1900 and 2999", Value: fmt.Sprintf("%04d-%02d-%02d", y, int(m), d)}
	}
	t := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	if t.Year() != y || t.Month() != m || t.Day() != d {
		return Date{}, &ValidationError{Field: "date", Rule: "must be a real calendar date", Value: fmt.Sprintf("%04d-%02d-%02d", y, int(m), d)}
	}
	return dateOfUTC(t), nil
}

// MustDate is NewDate for literals in tests and examples; it panics on bad input.
func MustDate(y int, m time.Month, d int) Date {
	v, err := NewDate(y, m, d)
	if err != nil {
		panic(err)
	}
	return v
}

// ParseDate reads the ISO form "2025-09-01".
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(dateLayout, s)
	if err != nil || len(s) != len(dateLayout) {
		return Date{}, &ValidationError{Field: "date", Rule: "must be a date in the form YYYY-MM-DD", Value: s}
	}
	return NewDate(t.Year(), t.Month(), t.Day())
}

// DateOf returns the date of t in t's own location.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return dateOfUTC(time.Date(y, m, d, 0, 0, 0, 0, time.UTC))
}

func dateOfUTC(t time.Time) Date {
	return Date{n: int32(t.Unix()/86400) + dateEpoch}
}

// Time returns midnight UTC of the date.
func (d Date) Time() time.Time { return time.Unix(int64(d.n-dateEpoch)*86400, 0).UTC() }

// IsZero reports whether d is the zero Date, which stands for "no date".
func (d Date) IsZero() bool { return d.n == 0 }

func (d Date) Year() int          { return d.Time().Year() }
func (d Date) Month() time.Month  { return d.Time().Month() }
func (d Date) Day() int           { return d.Time().Day() }
func (d Date) AddDays(n int) Date { return Date{n: d.n + int32(n)} }

// AddMonths moves by whole months, clamping the day to the target month's
// last day (31 Jan + 1 month = 28 or 29 Feb).
func (d Date) AddMonths(n int) Date {
	y, m, day := d.Time().Date()
	first := time.Date(y, m+time.Month(n), 1, 0, 0, 0, 0, time.UTC)
	last := first.AddDate(0, 1, -1).Day()
	return dateOfUTC(time.Date(first.Year(), first.Month(), min(day, last), 0, 0, 0, 0, time.UTC))
}

// AddYears is AddMonths(12*n).
func (d Date) AddYears(n int) Date { return d.AddMonths(12 * n) }

func (d Date) Before(o Date) bool { return d.n < o.n }
func (d Date) After(o Date) bool  { return d.n > o.n }
func (d Date) Equal(o Date) bool  { return d.n == o.n }

// Compare returns -1, 0 or +1, as cmp.Compare.
func (d Date) Compare(o Date) int {
	switch {
	case d.n < o.n:
		return -1
	case d.n > o.n:
		return 1
	}
	return 0
}

// DaysTo returns o − d in days (0 for the same date).
func (d Date) DaysTo(o Date) int { return int(o.n - d.n) }

// MonthOf is the calendar month d falls in. One conversion, not Year's and
// Month's two: the close asks it several times per contract.
func (d Date) MonthOf() Month {
	y, m, _ := d.Time().Date()
	return Month{Year: y, Month: m}
}

// String formats the date as "2025-09-01".
func (d Date) String() string {
	if d.IsZero() {
		return ""
	}
	return d.Time().Format(dateLayout)
}

// AppendText implements encoding.TextAppender: it appends String's form
// to b, without an allocation where b has room (counter keys are built
// so, several times an application).
func (d Date) AppendText(b []byte) ([]byte, error) {
	if d.IsZero() {
		return b, nil
	}
	return d.Time().AppendFormat(b, dateLayout), nil
}

// MarshalText implements encoding.TextMarshaler with the ISO form.
func (d Date) MarshalText() ([]byte, error) { return d.AppendText(make([]byte, 0, len(dateLayout))) }

// UnmarshalText implements encoding.TextUnmarshaler with the rules of
// ParseDate; the empty text is the zero Date, as MarshalText writes it.
func (d *Date) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*d = Date{}
		return nil
	}
	v, err := ParseDate(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// Month is a calendar month: the unit of charges, invoices and depletion.
type Month struct {
	Year  int
	Month time.Month
}

// ParseMonth reads "2025-09".
func ParseMonth(s string) (Month, error) {
	t, err := time.Parse("2006-01", s)
	if err != nil || len(s) != 7 || t.Year() < 1900 || t.Year() > 2999 {
		return Month{}, &ValidationError{Field: "month", Rule: "must be a month in the form YYYY-MM", Value: s}
	}
	return Month{Year: t.Year(), Month: t.Month()}, nil
}

// First is the month's first day.
func (m Month) First() Date { return MustDate(m.Year, m.Month, 1) }

// Last is the month's last day.
func (m Month) Last() Date { return m.Next().First().AddDays(-1) }

// Next is the following month.
func (m Month) Next() Month { return m.Add(1) }

// Prev is the preceding month.
func (m Month) Prev() Month { return m.Add(-1) }

// Add moves by n months.
func (m Month) Add(n int) Month {
	i := m.Year*12 + int(m.Month) - 1 + n
	return Month{Year: i / 12, Month: time.Month(i%12 + 1)}
}

// Index is a month number that increases by one each month; differences of
// indexes count months.
func (m Month) Index() int { return m.Year*12 + int(m.Month) - 1 }

func (m Month) Before(o Month) bool { return m.Index() < o.Index() }
func (m Month) After(o Month) bool  { return m.Index() > o.Index() }
func (m Month) String() string {
	y, mo := m.Year, int(m.Month)
	if y < 0 || y > 9999 || mo < 0 || mo > 99 {
		return fmt.Sprintf("%04d-%02d", y, mo)
	}
	// By hand: months name counters, keys and columns of every batch, and
	// Sprintf made two objects of each.
	b := [7]byte{byte('0' + y/1000), byte('0' + y/100%10), byte('0' + y/10%10), byte('0' + y%10), '-', byte('0' + mo/10), byte('0' + mo%10)}
	return string(b[:])
}

// IsZero reports whether m is the zero Month, which stands for "no month".
func (m Month) IsZero() bool { return m == Month{} }

// MarshalText implements encoding.TextMarshaler with the "2025-09" form;
// the zero Month is the empty text.
func (m Month) MarshalText() ([]byte, error) {
	if m.IsZero() {
		return nil, nil
	}
	return []byte(m.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler with the rules of
// ParseMonth; the empty text is the zero Month.
func (m *Month) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*m = Month{}
		return nil
	}
	v, err := ParseMonth(string(b))
	if err != nil {
		return err
	}
	*m = v
	return nil
}

// Days counts the days from a to b inclusive: days(a, b) = b − a + 1.
func Days(a, b Date) int { return a.DaysTo(b) + 1 }

// Months counts the calendar months touched from a to b inclusive:
// 31 Oct – 1 Nov is 2.
func Months(a, b Date) int { return b.MonthOf().Index() - a.MonthOf().Index() + 1 }

// Clock tells the current time. Rules never call time.Now: services take a
// Clock so that tests and replays control "now".
type Clock interface {
	Now() time.Time
}

// SystemClock is the wall clock.
type SystemClock struct{}

func (SystemClock) Now() time.Time { return time.Now() }

// FixedClock always returns the same instant; tests move it by assignment.
type FixedClock struct{ T time.Time }

func (c *FixedClock) Now() time.Time { return c.T }
