package certificate

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/edufund/edufund/funding"
)

// switchPensionAgeMonths is the switch the table replaced, kept here as
// the oracle that DefaultPensionAges holds exactly the same ages.
func switchPensionAgeMonths(birthYear int, sex Sex) int {
	if sex == Female {
		switch {
		case birthYear <= 1963:
			return 55 * 12
		case birthYear == 1964:
			return 55*12 + 6
		case birthYear == 1965:
			return 56*12 + 6
		case birthYear == 1966:
			return 58 * 12
		case birthYear == 1967:
			return 59 * 12
		}
		return 60 * 12
	}
	switch {
	case birthYear <= 1958:
		return 60 * 12
	case birthYear == 1959:
		return 60*12 + 6
	case birthYear == 1960:
		return 61*12 + 6
	case birthYear == 1961:
		return 63 * 12
	case birthYear == 1962:
		return 64 * 12
	}
	return 65 * 12
}

func TestDefaultPensionAgesValid(t *testing.T) {
	require.NoError(t, DefaultPensionAges().Validate())
}

// TestDefaultPensionAgesBoundaries: every row boundary of rules.md §2, for
// both sexes, one year either side.
func TestDefaultPensionAgesBoundaries(t *testing.T) {
	tests := []struct {
		sex    Sex
		year   int
		months int
	}{
		{Male, 1900, 720},
		{Male, 1958, 720},
		{Male, 1959, 726},
		{Male, 1960, 738},
		{Male, 1961, 756},
		{Male, 1962, 768},
		{Male, 1963, 780},
		{Male, 2999, 780},
		{Female, 1900, 660},
		{Female, 1963, 660},
		{Female, 1964, 666},
		{Female, 1965, 678},
		{Female, 1966, 696},
		{Female, 1967, 708},
		{Female, 1968, 720},
		{Female, 2999, 720},
	}
	table := DefaultPensionAges()
	for _, tt := range tests {
		got, ok := table.Months(tt.year, tt.sex)
		require.True(t, ok, "%s born %d", tt.sex, tt.year)
		require.Equal(t, tt.months, got, "%s born %d", tt.sex, tt.year)
	}
	// Exactly the ages of the switch it replaced, year by year.
	for _, sex := range []Sex{Male, Female} {
		for y := 1900; y <= 2100; y++ {
			got, ok := table.Months(y, sex)
			require.True(t, ok)
			require.Equal(t, switchPensionAgeMonths(y, sex), got, "%s born %d", sex, y)
			birth := d(y, 2, 28)
			date, ok := table.Date(birth, sex)
			require.True(t, ok)
			require.Equal(t, birth.AddMonths(switchPensionAgeMonths(y, sex)), date)
			require.Equal(t, date, PensionAge(birth, sex))
		}
	}
}

func TestPensionAgesDate(t *testing.T) {
	table := DefaultPensionAges()
	got, ok := table.Date(d(1960, 3, 10), Male)
	require.True(t, ok)
	require.Equal(t, d(2021, 9, 10), got) // rules.md's example
	got, ok = table.Date(d(1959, 8, 31), Male)
	require.True(t, ok)
	require.Equal(t, d(2020, 2, 29), got) // day clamped to the month
	_, ok = table.Date(d(1960, 3, 10), "")
	require.False(t, ok, "no row is for a missing sex")
	_, ok = PensionAges{}.Date(d(1960, 3, 10), Male)
	require.False(t, ok)
	// PensionAge reads any sex but female as male, as before.
	require.Equal(t, d(2021, 9, 10), PensionAge(d(1960, 3, 10), ""))
}

func TestDefaultPensionAgesIsACopy(t *testing.T) {
	table := DefaultPensionAges()
	for i := range table {
		table[i].Months = 40 * 12
	}
	require.Equal(t, d(2021, 9, 10), PensionAge(d(1960, 3, 10), Male))
	m, _ := DefaultPensionAges().Months(1960, Male)
	require.Equal(t, 738, m)
}

func TestPensionAgesValidate(t *testing.T) {
	// one is a valid table of one open row per sex.
	one := func(rows ...PensionAgeRow) PensionAges {
		return append(PensionAges{{Sex: Male, Months: 65 * 12}, {Sex: Female, Months: 60 * 12}}, rows...)
	}
	women := func(rows ...PensionAgeRow) PensionAges {
		return append(PensionAges{{Sex: Male, Months: 65 * 12}}, rows...)
	}
	tests := []struct {
		name  string
		table PensionAges
		field string // "" for a valid table
		rule  string // a part of the rule
	}{
		{"default", DefaultPensionAges(), "", ""},
		{"one row per sex", one(), "", ""},
		{"rows in any order", women(
			PensionAgeRow{Sex: Female, BornFrom: 1970, Months: 60 * 12},
			PensionAgeRow{Sex: Female, BornTo: 1959, Months: 55 * 12},
			PensionAgeRow{Sex: Female, BornFrom: 1960, BornTo: 1969, Months: 57 * 12}), "", ""},
		{"ages at the limits", PensionAges{{Sex: Male, Months: 40 * 12}, {Sex: Female, Months: 80 * 12}}, "", ""},

		{"empty", PensionAges{}, "pension_ages", "has no row for male"},
		{"no women", PensionAges{{Sex: Male, Months: 65 * 12}}, "pension_ages", "has no row for female"},
		{"a sex neither male nor female", one(PensionAgeRow{Sex: "other", Months: 60 * 12}), "pension_ages[2].sex", "must be male or female"},
		{"a missing sex", one(PensionAgeRow{Months: 60 * 12}), "pension_ages[2].sex", "must be male or female"},
		{"age below 40 years", women(PensionAgeRow{Sex: Female, Months: 40*12 - 1}), "pension_ages[1].months", "from 40 to 80 years"},
		{"age above 80 years", women(PensionAgeRow{Sex: Female, Months: 80*12 + 1}), "pension_ages[1].months", "from 40 to 80 years"},
		{"age in years, not months", women(PensionAgeRow{Sex: Female, Months: 60}), "pension_ages[1].months", "from 40 to 80 years"},
		{"a negative year", women(PensionAgeRow{Sex: Female, BornFrom: -1, Months: 60 * 12}), "pension_ages[1].born_from", "from 1900 to 2999"},
		{"a two-digit year", women(PensionAgeRow{Sex: Female, BornTo: 63, Months: 60 * 12}), "pension_ages[1].born_to", "from 1900 to 2999"},
		{"years backwards", women(
			PensionAgeRow{Sex: Female, BornTo: 1963, Months: 55 * 12},
			PensionAgeRow{Sex: Female, BornFrom: 1966, BornTo: 1964, Months: 56 * 12},
			PensionAgeRow{Sex: Female, BornFrom: 1967, Months: 60 * 12}), "pension_ages[2].born_to", "must not be before born_from 1966"},
		{"a gap", women(
			PensionAgeRow{Sex: Female, BornTo: 1963, Months: 55 * 12},
			PensionAgeRow{Sex: Female, BornFrom: 1966, Months: 60 * 12}), "pension_ages[2].born_from", "leaves female born 1964–1965 without a pension age"},
		{"a one-year gap", women(
			PensionAgeRow{Sex: Female, BornTo: 1963, Months: 55 * 12},
			PensionAgeRow{Sex: Female, BornFrom: 1965, Months: 60 * 12}), "pension_ages[2].born_from", "leaves female born 1964 without"},
		{"an overlap", women(
			PensionAgeRow{Sex: Female, BornTo: 1964, Months: 55 * 12},
			PensionAgeRow{Sex: Female, BornFrom: 1964, Months: 60 * 12}), "pension_ages[2].born_from", "overlaps pension_ages[1] (female born 1964 or earlier)"},
		{"a row inside another", women(
			PensionAgeRow{Sex: Female, BornTo: 1963, Months: 55 * 12},
			PensionAgeRow{Sex: Female, BornFrom: 1964, Months: 60 * 12},
			PensionAgeRow{Sex: Female, BornFrom: 1970, BornTo: 1970, Months: 58 * 12}), "pension_ages[3].born_from", "overlaps pension_ages[2] (female born 1964 or later)"},
		{"a repeated row", one(PensionAgeRow{Sex: Male, Months: 65 * 12}), "pension_ages[2].born_from", "overlaps pension_ages[0] (male born in any year)"},
		{"no row for the earliest years", women(
			PensionAgeRow{Sex: Female, BornFrom: 1950, Months: 60 * 12}), "pension_ages[1].born_from", "leaves female born before 1950"},
		{"no row for the latest years", women(
			PensionAgeRow{Sex: Female, BornTo: 2000, Months: 60 * 12}), "pension_ages[1].born_to", "leaves female born after 2000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.table.Validate()
			if tt.field == "" {
				require.NoError(t, err)
				return
			}
			var ve *funding.ValidationError
			require.ErrorAs(t, err, &ve)
			require.True(t, errors.Is(err, funding.ErrInvalid))
			require.Equal(t, tt.field, ve.Field, err.Error())
			require.Contains(t, ve.Rule, tt.rule)
		})
	}
}

// TestAdultPolicyPensionAges: the policy decides with its own table; a
// zero table is the default one.
func TestAdultPolicyPensionAges(t *testing.T) {
	h := testAdult()
	h.Sex = Female
	h.BirthDate = d(1964, 6, 15) // 55 years 6 months by default: 2019-12-15
	on := d(2019, 9, 1)

	require.True(t, adultPolicy.Decide(h, on, nil).Eligible)
	withDefault := adultPolicy
	withDefault.PensionAges = DefaultPensionAges()
	require.Equal(t, adultPolicy.Decide(h, on, nil), withDefault.Decide(h, on, nil))
	def := DefaultAdultPolicy()
	def.Regions = adultPolicy.Regions
	require.Equal(t, adultPolicy.Decide(h, on, nil), def.Decide(h, on, nil))

	// A region whose women born 1964 keep the old age of 55 years.
	own := adultPolicy
	own.PensionAges = PensionAges{
		{Sex: Male, Months: 65 * 12},
		{Sex: Female, BornTo: 1964, Months: 55 * 12},
		{Sex: Female, BornFrom: 1965, Months: 60 * 12},
	}
	require.NoError(t, own.PensionAges.Validate())
	got := own.Decide(h, on, nil)
	require.False(t, got.Eligible)
	require.Equal(t, []Reason{{RulePensionAgeReached,
		"the general pension age 55 years (female, born 1964) is reached on 2019-06-15, on or before 2019-09-01"}}, got.Reasons)
	// The day before is the last eligible day under the region's table too.
	require.True(t, own.Decide(h, d(2019, 6, 14), nil).Eligible)
	// A man born 1960 reaches 65 only in 2025 under that table.
	require.True(t, own.Decide(testAdult(), d(2021, 9, 10), nil).Eligible)
	require.False(t, adultPolicy.Decide(testAdult(), d(2021, 9, 10), nil).Eligible)

	// A table with no age for the person (invalid) refuses, saying why.
	broken := adultPolicy
	broken.PensionAges = PensionAges{{Sex: Male, Months: 65 * 12}}
	got = broken.Decide(h, on, nil)
	require.False(t, got.Eligible)
	require.Equal(t, []Reason{{RulePensionAgeReached,
		"the policy's pension-age table has no age for female born 1964, so the pension age cannot be checked"}}, got.Reasons)
}
