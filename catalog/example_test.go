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
