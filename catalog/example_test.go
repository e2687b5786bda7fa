package catalog_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/edufund/edufund/catalog"
	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/funding"
)

// CanEnrol answers nil or the first rule that refuses, as a
// *funding.RuleError with a stable code that matches the package's
// sentinel.
func ExampleCanEnrol() {
	year := funding.CalendarYear(2025)
	prov := catalog.Provider{Name: "Школа роботов", Municipality: "novograd",
		Agreements: []catalog.Agreement{{Municipality: "novograd", Period: year}}}
	prog := catalog.Program{Name: "Робототехника", Scheme: certificate.Supplementary, Registry: catalog.Certified,
		Certified: true, EnrolmentOpen: true, MinAge: 7, MaxAge: 12}
	group := catalog.Group{Name: "Пн, Ср", Start: funding.MustDate(2025, time.September, 1), End: funding.MustDate(2025, time.December, 31)}
	cert := certificate.Certificate{Number: "1234567890", Scheme: certificate.Supplementary, Kind: certificate.Funded,
		Status: certificate.Active, Municipality: "novograd", ValidUntil: funding.MustDate(2034, time.May, 4),
		Holder: certificate.Holder{BirthDate: funding.MustDate(2017, time.May, 5)}}

	fmt.Println("on 20 August:", catalog.CanEnrol(cert, prov, prog, group, funding.MustDate(2025, time.August, 20)))

	// Seven on 2 September, a day after the group starts: the age counts
	// at the start, not on the day of the application.
	cert.Holder.BirthDate = funding.MustDate(2018, time.September, 2)
	err := catalog.CanEnrol(cert, prov, prog, group, funding.MustDate(2025, time.August, 20))
	var re *funding.RuleError
	if errors.As(err, &re) {
		fmt.Println(re.Code, errors.Is(err, catalog.ErrAgeOutOfRange))
	}
	fmt.Println(err)
	// Output:
	// on 20 August: <nil>
	// age_out_of_range true
	// age out of range: age 6 at 2025-09-01 is below the program's minimum 7
}

// A Filter's zero fields match everything; the text is found in the
// program's or the provider's name whatever the case, and ё is е.
func ExampleFilter_Match() {
	prov := catalog.Provider{Name: "Центр «Ёлочка»", Municipality: "novograd"}
	prog := catalog.Program{Name: "Шахматы", Scheme: certificate.Supplementary, Registry: catalog.Significant,
		Direction: catalog.Sport, MinAge: 6, MaxAge: 10}
	group := catalog.Group{Start: funding.MustDate(2025, time.September, 15)}
	sep := funding.Month{Year: 2025, Month: time.September}

	for _, tc := range []struct {
		name string
		f    catalog.Filter
	}{
		{"no filter", catalog.Filter{}},
		{"the provider's name", catalog.Filter{Text: "ЕЛОЧКА"}},
		{"chess at 8 in novograd from September", catalog.Filter{Text: "шахм", Age: 8, Municipality: "novograd", StartMonth: &sep}},
		{"at 11", catalog.Filter{Age: 11}},
		{"certified registry", catalog.Filter{Registry: catalog.Certified}},
	} {
		fmt.Printf("%s: %v\n", tc.name, tc.f.Match(prov, prog, group))
	}
	// Output:
	// no filter: true
	// the provider's name: true
	// chess at 8 in novograd from September: true
	// at 11: false
	// certified registry: false
}
