package certificate_test

import (
	"fmt"
	"time"

	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/funding"
)

// The general pension age follows the transition table by year of birth and
// sex; an adult certificate is issued only before it. A day the target
// month lacks becomes its last day.
func ExamplePensionAge() {
	for _, p := range []struct {
		born funding.Date
		sex  certificate.Sex
	}{
		{funding.MustDate(1960, time.March, 10), certificate.Male},     // 61 years 6 months
		{funding.MustDate(1960, time.August, 31), certificate.Male},    // no 31 February
		{funding.MustDate(1966, time.July, 15), certificate.Female},    // 58 years
		{funding.MustDate(1975, time.December, 1), certificate.Female}, // 60 years
	} {
		fmt.Println(p.sex, "born", p.born, "reaches it on", certificate.PensionAge(p.born, p.sex))
	}
	// Output:
	// male born 1960-03-10 reaches it on 2021-09-10
	// male born 1960-08-31 reaches it on 2022-02-28
	// female born 1966-07-15 reaches it on 2024-07-15
	// female born 1975-12-01 reaches it on 2035-12-01
}

// A region may decide with its own pension-age table: here women born in
// 1964 keep the age of 55 years. Validate refuses a table that leaves a
// year of birth without an age, or gives it two.
func ExamplePensionAges() {
	own := certificate.PensionAges{
		{Sex: certificate.Male, Months: 65 * 12},                   // any year
		{Sex: certificate.Female, BornTo: 1964, Months: 55 * 12},   // 1964 or earlier
		{Sex: certificate.Female, BornFrom: 1965, Months: 60 * 12}, // 1965 or later
	}
	fmt.Println("valid:", own.Validate())
	born := funding.MustDate(1964, time.June, 15)
	byDefault, _ := certificate.DefaultPensionAges().Date(born, certificate.Female)
	byRegion, _ := own.Date(born, certificate.Female)
	fmt.Println("by default", byDefault, "by the region's table", byRegion)

	gap := certificate.PensionAges{
		{Sex: certificate.Male, Months: 65 * 12},
		{Sex: certificate.Female, BornTo: 1963, Months: 55 * 12},
		{Sex: certificate.Female, BornFrom: 1965, Months: 60 * 12},
	}
	fmt.Println(gap.Validate())
	// Output:
	// valid: <nil>
	// by default 2019-12-15 by the region's table 2019-06-15
	// pension_ages[2].born_from: leaves female born 1964 without a pension age: it must follow pension_ages[1], which ends in 1963 (got "1965")
}

// A child is eligible for a children's certificate from the minimum age of
// the funding municipality (5 by default), which must take part in the
// scheme, and holds one at a time.
func ExampleChildPolicy_Decide() {
	policy := certificate.DefaultChildPolicy()
	policy.Municipalities["novograd"] = true
	child := certificate.Holder{PersonID: "child-petrov", FullName: "Петров Иван", BirthDate: funding.MustDate(2021, time.April, 1),
		Citizenship: "RU", Municipality: "novograd", Registration: certificate.Permanent}
	held := []certificate.Certificate{{Scheme: certificate.Supplementary, Holder: child, Status: certificate.Active}}

	for _, tc := range []struct {
		on       funding.Date
		existing []certificate.Certificate
	}{
		{funding.MustDate(2026, time.March, 31), nil},
		{funding.MustDate(2026, time.April, 1), nil},
		{funding.MustDate(2026, time.April, 1), held},
	} {
		d := policy.Decide(child, "", tc.on, tc.existing)
		fmt.Println(tc.on, "eligible:", d.Eligible)
		for _, r := range d.Reasons {
			fmt.Printf("  %s: %s\n", r.Rule, r.Message)
		}
	}
	// Output:
	// 2026-03-31 eligible: false
	//   age_below_minimum: age 4 is below the minimum 5 for municipality novograd on 2026-03-31
	// 2026-04-01 eligible: true
	// 2026-04-01 eligible: false
	//   certificate_already_issued: the child already holds a certificate of this scheme (active)
}
