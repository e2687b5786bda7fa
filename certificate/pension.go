package certificate

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"

	"github.com/edufund/edufund/funding"
)

// PensionAgeRow is one row of a pension-age table: people of Sex born in
// the years BornFrom to BornTo (both included) reach the general old-age
// pension age at Months months of age.
type PensionAgeRow struct {
	Sex      Sex
	BornFrom int // first year of birth; 0 means any earlier year
	BornTo   int // last year of birth; 0 means any later year
	Months   int // the pension age, in months (55 years 6 months is 666)
}

// Limits of a pension age in a table, in years (both included).
const (
	MinPensionAgeYears = 40
	MaxPensionAgeYears = 80
)

// PensionAges is a pension-age table: the general old-age pension age by
// sex and year of birth (rules.md §2 has the national transition table,
// DefaultPensionAges). A valid table (Validate) gives every year of birth
// exactly one age for each sex; the rows may come in any order.
type PensionAges []PensionAgeRow

// defaultPensionAges is DefaultPensionAges' table; it is never handed out,
// so no caller can change the default.
var defaultPensionAges = PensionAges{
	{Sex: Male, BornTo: 1958, Months: 60 * 12},
	{Sex: Male, BornFrom: 1959, BornTo: 1959, Months: 60*12 + 6},
	{Sex: Male, BornFrom: 1960, BornTo: 1960, Months: 61*12 + 6},
	{Sex: Male, BornFrom: 1961, BornTo: 1961, Months: 63 * 12},
	{Sex: Male, BornFrom: 1962, BornTo: 1962, Months: 64 * 12},
	{Sex: Male, BornFrom: 1963, Months: 65 * 12},
	{Sex: Female, BornTo: 1963, Months: 55 * 12},
	{Sex: Female, BornFrom: 1964, BornTo: 1964, Months: 55*12 + 6},
	{Sex: Female, BornFrom: 1965, BornTo: 1965, Months: 56*12 + 6},
	{Sex: Female, BornFrom: 1966, BornTo: 1966, Months: 58 * 12},
	{Sex: Female, BornFrom: 1967, BornTo: 1967, Months: 59 * 12},
	{Sex: Female, BornFrom: 1968, Months: 60 * 12},
}

// DefaultPensionAges is the national transition table of rules.md §2: men
// born 1958 or earlier 60, 1959 60.5, 1960 61.5, 1961 63, 1962 64, 1963 or
// later 65 years; women born 1963 or earlier 55, 1964 55.5, 1965 56.5,
// 1966 58, 1967 59, 1968 or later 60 years. Each call returns a new copy.
func DefaultPensionAges() PensionAges { return slices.Clone(defaultPensionAges) }

// Validate checks the table: every row is for male or female, its years
// are 0 or from 1900 to 2999 with BornFrom not after BornTo, its age is
// from MinPensionAgeYears to MaxPensionAgeYears; and for each sex the rows
// cover every year of birth exactly once (one row open to earlier years,
// one open to later years, no gap and no overlap between them). The error
// is the first problem found, a *funding.ValidationError whose field is
// pension_ages, or pension_ages[i] and the key of row i (sex, born_from,
// born_to, months).
func (t PensionAges) Validate() error {
	bad := func(i int, key, rule, value string) error {
		return &funding.ValidationError{Field: fmt.Sprintf("pension_ages[%d].%s", i, key), Rule: rule, Value: value}
	}
	for i, r := range t {
		switch {
		case r.Sex != Male && r.Sex != Female:
			return bad(i, "sex", "must be male or female", string(r.Sex))
		case r.BornFrom != 0 && (r.BornFrom < 1900 || r.BornFrom > 2999):
			return bad(i, "born_from", "must be a year from 1900 to 2999, or 0 for any earlier year", strconv.Itoa(r.BornFrom))
		case r.BornTo != 0 && (r.BornTo < 1900 || r.BornTo > 2999):
			return bad(i, "born_to", "must be a year from 1900 to 2999, or 0 for any later year", strconv.Itoa(r.BornTo))
		case r.BornFrom != 0 && r.BornTo != 0 && r.BornTo < r.BornFrom:
			return bad(i, "born_to", fmt.Sprintf("must not be before born_from %d", r.BornFrom), strconv.Itoa(r.BornTo))
		case r.Months < MinPensionAgeYears*12 || r.Months > MaxPensionAgeYears*12:
			return bad(i, "months", fmt.Sprintf("must be an age from %d to %d years (%d to %d months)",
				MinPensionAgeYears, MaxPensionAgeYears, MinPensionAgeYears*12, MaxPensionAgeYears*12), strconv.Itoa(r.Months))
		}
	}
	for _, sex := range []Sex{Male, Female} {
		var rows []int // the rows of sex, from the earliest years on
		for i, r := range t {
			if r.Sex == sex {
				rows = append(rows, i)
			}
		}
		if len(rows) == 0 {
			return &funding.ValidationError{Field: "pension_ages", Rule: fmt.Sprintf("has no row for %s: every year of birth needs a pension age for each sex", sex)}
		}
		slices.SortStableFunc(rows, func(a, b int) int { return cmp.Compare(t[a].from(), t[b].from()) })
		if first := t[rows[0]]; first.BornFrom != 0 {
			return bad(rows[0], "born_from", fmt.Sprintf("leaves %s born before %d without a pension age: the earliest row of each sex needs born_from 0 (any earlier year)", sex, first.BornFrom),
				strconv.Itoa(first.BornFrom))
		}
		for k := 1; k < len(rows); k++ {
			prev, cur := t[rows[k-1]], t[rows[k]]
			switch {
			case cur.from() <= prev.to():
				return bad(rows[k], "born_from", fmt.Sprintf("overlaps pension_ages[%d] (%s born %s): each year of birth has one pension age per sex", rows[k-1], sex, prev.years()),
					strconv.Itoa(cur.BornFrom))
			case cur.BornFrom > prev.BornTo+1:
				return bad(rows[k], "born_from", fmt.Sprintf("leaves %s born %s without a pension age: it must follow pension_ages[%d], which ends in %d",
					sex, PensionAgeRow{BornFrom: prev.BornTo + 1, BornTo: cur.BornFrom - 1}.years(), rows[k-1], prev.BornTo), strconv.Itoa(cur.BornFrom))
			}
		}
		if i := rows[len(rows)-1]; t[i].BornTo != 0 {
			return bad(i, "born_to", fmt.Sprintf("leaves %s born after %d without a pension age: the latest row of each sex needs born_to 0 (any later year)", sex, t[i].BornTo),
				strconv.Itoa(t[i].BornTo))
		}
	}
	return nil
}

// from and to are the row's years with the open ends as the extremes.
func (r PensionAgeRow) from() int {
	if r.BornFrom == 0 {
		return math.MinInt
	}
	return r.BornFrom
}

func (r PensionAgeRow) to() int {
	if r.BornTo == 0 {
		return math.MaxInt
	}
	return r.BornTo
}

// years are the row's years of birth for messages: "1964", "1964–1966",
// "1963 or earlier", "1968 or later", "in any year".
func (r PensionAgeRow) years() string {
	switch {
	case r.BornFrom == 0 && r.BornTo == 0:
		return "in any year"
	case r.BornFrom == 0:
		return strconv.Itoa(r.BornTo) + " or earlier"
	case r.BornTo == 0:
		return strconv.Itoa(r.BornFrom) + " or later"
	case r.BornFrom == r.BornTo:
		return strconv.Itoa(r.BornFrom)
	}
	return strconv.Itoa(r.BornFrom) + "–" + strconv.Itoa(r.BornTo)
}

// Months is the pension age, in months, of a person of sex born in
// birthYear: the first row for sex whose years hold birthYear. ok is false
// when no row does (never in a valid table for male or female).
func (t PensionAges) Months(birthYear int, sex Sex) (months int, ok bool) {
	for _, r := range t {
		if r.Sex == sex && r.from() <= birthYear && birthYear <= r.to() {
			return r.Months, true
		}
	}
	return 0, false
}

// Date is the date a person of sex born on birth reaches the pension age:
// the date of birth plus the table's age, months exact (a day the target
// month lacks becomes its last day). The adult certificate may be issued
// only before this date. ok is false when no row covers the person (see
// Months).
func (t PensionAges) Date(birth funding.Date, sex Sex) (date funding.Date, ok bool) {
	m, ok := t.Months(birth.Year(), sex)
	if !ok {
		return funding.Date{}, false
	}
	return birth.AddMonths(m), true
}

// PensionAge is the date the person reaches the general old-age pension age
// of DefaultPensionAges (see PensionAges.Date). Any sex other than Female
// is read as Male; AdultPolicy.Decide refuses a missing sex before it
// looks the pension age up.
func PensionAge(birth funding.Date, sex Sex) funding.Date {
	if sex != Female {
		sex = Male
	}
	d, _ := defaultPensionAges.Date(birth, sex)
	return d
}

func formatMonths(m int) string {
	s := strconv.Itoa(m/12) + " years"
	if m%12 != 0 {
		s += " " + strconv.Itoa(m%12) + " months"
	}
	return s
}
