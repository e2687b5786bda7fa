package certificate

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/edufund/edufund/funding"
)

var m = funding.MustMoney

func TestCategorySlot(t *testing.T) {
	tests := []struct {
		name      string
		cat       Category
		usedCount int
		usedSum   string
		want      bool
	}{
		{"unlimited", Category{Code: "c", Nominal: m("12000")}, 1_000_000, "999999999", true},
		{"count: one left", Category{Code: "c", Nominal: m("12000"), MaxCount: 10}, 9, "0", true},
		{"count: full", Category{Code: "c", Nominal: m("12000"), MaxCount: 10}, 10, "0", false},
		{"sum: exactly fits", Category{Code: "c", Nominal: m("12000"), MaxSum: m("120000")}, 0, "108000.00", true},
		{"sum: a kopeck over", Category{Code: "c", Nominal: m("12000"), MaxSum: m("120000")}, 0, "108000.01", false},
		{"both: count full", Category{Code: "c", Nominal: m("100"), MaxCount: 2, MaxSum: m("1000")}, 2, "200", false},
		{"both: sum full", Category{Code: "c", Nominal: m("100"), MaxCount: 20, MaxSum: m("1000")}, 2, "950", false},
		{"both: fits", Category{Code: "c", Nominal: m("100"), MaxCount: 20, MaxSum: m("1000")}, 2, "900", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, tt.cat.Slot(tt.usedCount, m(tt.usedSum)))
		})
	}
}

func TestCategoryValidate(t *testing.T) {
	require.NoError(t, Category{Code: "c"}.Validate())
	for _, c := range []Category{
		{},
		{Code: "c", Nominal: m("-1")},
		{Code: "c", MaxCount: -1},
		{Code: "c", MaxSum: m("-0.01")},
	} {
		require.ErrorIs(t, c.Validate(), funding.ErrInvalid, "%+v", c)
	}
}

func TestFund(t *testing.T) {
	city := Category{Code: "city", Nominal: m("12000"), MaxCount: 2}
	acct := Certificate{Number: "1234567890", Scheme: Supplementary, Kind: Accounting, Status: Active}
	tests := []struct {
		name      string
		cert      Certificate
		cat       Category
		usedCount int
		want      error
	}{
		{"slot", acct, city, 1, nil},
		{"issued may be funded", Certificate{Scheme: Supplementary, Kind: Accounting, Status: Issued}, city, 0, nil},
		{"no slot", acct, city, 2, ErrNoSlot},
		{"already funded", Certificate{Scheme: Supplementary, Kind: Funded, Category: "city", Status: Active}, city, 0, ErrNotFundable},
		{"adult", Certificate{Scheme: DigitalSkills, Kind: Accounting, Status: Active}, city, 0, ErrNotFundable},
		{"cancelled", Certificate{Scheme: Supplementary, Kind: Accounting, Status: Cancelled}, city, 0, ErrNotFundable},
		{"bad category", acct, Category{}, 0, funding.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.cert
			err := c.Fund(tt.cat, tt.usedCount, funding.Zero)
			if tt.want != nil {
				require.ErrorIs(t, err, tt.want)
				require.Equal(t, tt.cert, c, "unchanged on refusal")
				return
			}
			require.NoError(t, err)
			require.Equal(t, Funded, c.Kind)
			require.Equal(t, tt.cat.Code, c.Category)
		})
	}
}

func TestFundNoSlotCode(t *testing.T) {
	c := Certificate{Number: "1234567890", Scheme: Supplementary, Kind: Accounting, Status: Active}
	err := c.Fund(Category{Code: "rural", Nominal: m("100"), MaxSum: m("150")}, 1, m("100"))
	require.ErrorIs(t, err, ErrNoSlot)
	require.Equal(t, CodeNoSlot, ruleCode(t, err))
	require.Contains(t, err.Error(), "nominals 100.00 + 100.00 of 150.00")
}

func TestChangeCategory(t *testing.T) {
	rural := Category{Code: "rural", Nominal: m("15000"), MaxCount: 1}
	funded := Certificate{Scheme: Supplementary, Kind: Funded, Category: "city", Status: Active}
	acct := Certificate{Scheme: Supplementary, Kind: Accounting, Category: "city", Status: Active}
	tests := []struct {
		name      string
		cert      Certificate
		to        Category
		committed bool
		usedCount int
		want      error
		category  string
	}{
		{"funded, free, slot", funded, rural, false, 0, nil, "rural"},
		{"funded, committed", funded, rural, true, 0, ErrCommitted, "city"},
		{"funded, no slot", funded, rural, false, 1, ErrNoSlot, "city"},
		{"accounting needs no slot", acct, rural, false, 1, nil, "rural"},
		{"accounting committed", acct, rural, true, 0, ErrCommitted, "city"},
		{"same category is a no-op even when committed", funded, Category{Code: "city"}, true, 99, nil, "city"},
		{"expired", Certificate{Scheme: Supplementary, Kind: Funded, Category: "city", Status: Expired}, rural, false, 0, ErrNotFundable, "city"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.cert
			err := c.ChangeCategory(tt.to, tt.committed, tt.usedCount, funding.Zero)
			if tt.want != nil {
				require.ErrorIs(t, err, tt.want)
			} else {
				require.NoError(t, err)
			}
			require.Equal(t, tt.category, c.Category)
			require.Equal(t, tt.cert.Kind, c.Kind)
		})
	}
}
