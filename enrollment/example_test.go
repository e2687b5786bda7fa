package enrollment_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/shopspring/decimal"

	"github.com/edufund/edufund/catalog"
	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/funding"
)

// rules.md: capacity 15 with 14 live contracts and one terminating accepts
// the application; with 15 live it is refused.
func ExampleCheckSubmission() {
	s := enrollment.Snapshot{
		On:          funding.MustDate(2025, time.August, 20),
		Certificate: certificate.Certificate{Number: "1234567890", Kind: certificate.Funded, Status: certificate.Active},
		Registry:    catalog.Certified,
		Cert:        funding.MustMoney("4021.98"), Balance: funding.MustMoney("30000.00"),
		Capacity: 15,
		GroupEnd: funding.MustDate(2026, time.May, 31), EnrolmentOpen: true, Agreement: true,
		BudgetLimit: funding.MaxMoney,
	}
	group := []enrollment.Status{}
	for range 14 {
		group = append(group, enrollment.Active)
	}
	s.LiveInGroup = enrollment.CountLive(append(group, enrollment.Terminating)...)
	fmt.Println(s.LiveInGroup, enrollment.CheckSubmission(s))

	s.LiveInGroup = enrollment.CountLive(append(group, enrollment.Active)...)
	err := enrollment.CheckSubmission(s)
	var re *funding.RuleError
	errors.As(err, &re)
	fmt.Println(s.LiveInGroup, re.Code, errors.Is(err, enrollment.ErrGroupFull))
	// Output:
	// 14 <nil>
	// 15 group_full true
}

// The 1 October close of rules.md's 4-month example, the contract activated
// in August: October's payment moves from reserve to spent, October's
// advance (80%) and September's final are invoiced.
func ExamplePlanContract() {
	price := funding.Price{
		Start: funding.MustDate(2025, time.September, 1), End: funding.MustDate(2025, time.December, 31),
		Days: 122, Months: 4,
		Total: funding.MustMoney("4021.98"), Cert: funding.MustMoney("4021.98"),
		First: funding.MustMoney("989.04"), Other: funding.MustMoney("1010.98"),
		CertFirst: funding.MustMoney("989.04"), CertOther: funding.MustMoney("1010.98"),
	}
	c := enrollment.Contract{
		Status: enrollment.Active, Municipality: "city", Start: price.Start, End: price.End, Price: price,
		ActivatedOn: funding.MustDate(2025, time.August, 20),
	}
	p := enrollment.PlanContract(c, funding.Month{Year: 2025, Month: time.October}, enrollment.Share(decimal.RequireFromString("0.8")))
	fmt.Println("charge", p.Charge.Month, p.Charge.Amount)
	for _, l := range p.Lines {
		fmt.Println(l.Kind, l.Month, l.Amount)
	}
	// Output:
	// charge 2025-10 1010.98
	// advance 2025-10 808.78
	// final 2025-09 197.81
}
