package funding_test

import (
	"fmt"
	"time"

	"github.com/shopspring/decimal"

	"github.com/edufund/edufund/funding"
)

// Amounts are exact kopecks. A rule that divides names its rounding: the
// advance of a month is rounded to the nearest kopeck, halves away from
// zero; the usable part of a nominal is rounded down. Text with a fraction
// of a kopeck is refused, never rounded.
func ExampleRound2() {
	payment := funding.MustMoney("1010.98")
	share := decimal.RequireFromString("0.8")
	fmt.Println("0.8 × 1010.98 =", payment.Mul(share))
	fmt.Println("rounded:", funding.Round2(payment.Mul(share)), "down:", funding.Floor2(payment.Mul(share)))

	half := decimal.RequireFromString("0.005")
	fmt.Println("0.005 rounded:", funding.Round2(half), "down:", funding.Floor2(half))

	_, err := funding.ParseMoney("10.005")
	fmt.Println(err)
	// Output:
	// 0.8 × 1010.98 = 808.784
	// rounded: 808.78 down: 808.78
	// 0.005 rounded: 0.01 down: 0.00
	// amount: must have at most two decimals (kopecks) (got "10.005")
}

// A nominal set for a year is scaled to a shorter period by its days, in
// whole roubles; a whole year keeps it, leap or not.
func ExampleScaleNominal() {
	annual := funding.MustMoney("30000.00")
	autumn := funding.Period{Start: funding.MustDate(2025, time.September, 1), End: funding.MustDate(2025, time.December, 31)}
	fmt.Println(autumn, autumn.Days(), "days:", funding.ScaleNominal(annual, autumn))
	fmt.Println("2024, a leap year:", funding.ScaleNominal(annual, funding.CalendarYear(2024)))
	fmt.Println("a school year:", funding.ScaleNominal(annual, funding.SchoolYear(2025)))
	// Output:
	// 2025-09-01..2025-12-31 122 days: 10027.00
	// 2024, a leap year: 30000.00
	// a school year: 30000.00
}

// An unused nominal shrinks month by month: the first submission of the
// period posts what has shrunk away as depleted. On 15 March two months of
// twelve have passed, January and February.
func ExampleDepletion() {
	nominal := funding.MustMoney("12000.00")
	year := funding.CalendarYear(2025)
	on := funding.MustDate(2025, time.March, 15)
	fmt.Println("usable:", funding.UsableNominal(nominal, year, on))
	fmt.Println("depleted:", funding.Depletion(nominal, year, on))
	// Output:
	// usable: 10000.00
	// depleted: 2000.00
}
