package funding

import (
	"testing"

	"github.com/shopspring/decimal"
)

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func TestCoverage(t *testing.T) {
	tests := []struct {
		cost, share, cert, copay string
	}{
		{"25000.00", "1", "25000.00", "0.00"},
		{"25000.00", "0.75", "18750.00", "6250.00"},
		{"25000.01", "0.5", "12500.00", "12500.01"}, // 12500.005 rounds down for the state
		{"99.99", "0.333", "33.29", "66.70"},        // 33.29667
		{"100.00", "0", "0.00", "100.00"},
	}
	for _, tc := range tests {
		cert, copay, err := Coverage(MustMoney(tc.cost), dec(tc.share))
		noErr(t, err)
		eqMoney(t, tc.cost+"×"+tc.share+" cert", cert, MustMoney(tc.cert))
		eqMoney(t, tc.cost+"×"+tc.share+" copay", copay, MustMoney(tc.copay))
	}
	_, _, err := Coverage(MustMoney("1"), dec("1.01"))
	isInvalid(t, err, "share")
	_, _, err = Coverage(MustMoney("1"), dec("-0.1"))
	isInvalid(t, err, "share")
	_, _, err = Coverage(MustMoney("-1"), dec("0.5"))
	isInvalid(t, err, "cost")
}

func TestStages(t *testing.T) {
	got, err := Stages(MustMoney("100.00"), []decimal.Decimal{dec("0.333"), dec("0.333"), dec("0.334")})
	noErr(t, err)
	eq(t, "n", len(got), 3)
	eqMoney(t, "1", got[0], MustMoney("33.30"))
	eqMoney(t, "2", got[1], MustMoney("33.30"))
	eqMoney(t, "3", got[2], MustMoney("33.40"))

	got, err = Stages(MustMoney("0.05"), []decimal.Decimal{dec("0.3"), dec("0.3"), dec("0.4")})
	noErr(t, err)
	// floor2(0.015) = 0.01 twice; the last absorbs 0.03
	eqMoney(t, "small 1", got[0], MustMoney("0.01"))
	eqMoney(t, "small 3", got[2], MustMoney("0.03"))

	got, err = Stages(MustMoney("18750.00"), []decimal.Decimal{dec("1")})
	noErr(t, err)
	eqMoney(t, "single", got[0], MustMoney("18750.00"))

	_, err = Stages(MustMoney("1"), []decimal.Decimal{dec("0.5"), dec("0.4")})
	isInvalid(t, err, "shares")
	_, err = Stages(MustMoney("1"), nil)
	isInvalid(t, err, "shares")
	_, err = Stages(MustMoney("1"), []decimal.Decimal{dec("1.5"), dec("-0.5")})
	isInvalid(t, err, "shares")
	_, err = Stages(MustMoney("-1"), []decimal.Decimal{dec("1")})
	isInvalid(t, err, "cert")
}
