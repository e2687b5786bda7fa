package catalog_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/edufund/edufund/catalog"
)

// TestProviderAccounting: a provider's KPP and bank details, each rule
// named by the field it breaks; the bank details all or nothing but the
// correspondent account.
func TestProviderAccounting(t *testing.T) {
	bank := catalog.BankDetails{Name: "ПАО Сбербанк", BIC: "045004641", Account: "40702810944050001234", CorrespondentAccount: "30101810500000000641"}
	tests := []struct {
		name  string
		edit  func(*catalog.Provider)
		field string // "" = valid
	}{
		{"none", func(*catalog.Provider) {}, ""},
		{"all", func(p *catalog.Provider) { p.KPP, p.Bank = "540101001", bank }, ""},
		{"KPP with letters of the reason", func(p *catalog.Provider) { p.KPP = "5401AB001" }, ""},
		{"KPP of 8 digits", func(p *catalog.Provider) { p.KPP = "54010100" }, "kpp"},
		{"KPP of 10 digits", func(p *catalog.Provider) { p.KPP = "5401010011" }, "kpp"},
		{"KPP with a letter in the office", func(p *catalog.Provider) { p.KPP = "54A101001" }, "kpp"},
		{"KPP with a lower-case letter", func(p *catalog.Provider) { p.KPP = "5401ab001" }, "kpp"},
		{"KPP with a Cyrillic letter", func(p *catalog.Provider) { p.KPP = "5401АВ001" }, "kpp"},
		{"KPP with a NUL", func(p *catalog.Provider) { p.KPP = "5401\x0001001" }, "kpp"},
		{"no correspondent account", func(p *catalog.Provider) { p.Bank = bank; p.Bank.CorrespondentAccount = "" }, ""},
		{"bank without a name", func(p *catalog.Provider) { p.Bank = bank; p.Bank.Name = "" }, "bank.name"},
		{"only a BIC", func(p *catalog.Provider) { p.Bank.BIC = bank.BIC }, "bank.name"},
		{"no BIC", func(p *catalog.Provider) { p.Bank = bank; p.Bank.BIC = "" }, "bank.bic"},
		{"BIC of 8 digits", func(p *catalog.Provider) { p.Bank = bank; p.Bank.BIC = "04500464" }, "bank.bic"},
		{"BIC with a letter", func(p *catalog.Provider) { p.Bank = bank; p.Bank.BIC = "04500464O" }, "bank.bic"},
		{"no account", func(p *catalog.Provider) { p.Bank = bank; p.Bank.Account = "" }, "bank.account"},
		{"account of 19 digits", func(p *catalog.Provider) { p.Bank = bank; p.Bank.Account = "4070281094405000123" }, "bank.account"},
		{"account with a dash", func(p *catalog.Provider) { p.Bank = bank; p.Bank.Account = "40702-810944050001234" }, "bank.account"},
		{"correspondent account of 21 digits", func(p *catalog.Provider) { p.Bank = bank; p.Bank.CorrespondentAccount = "301018105000000006410" }, "bank.correspondent_account"},
		{"bank name too long", func(p *catalog.Provider) { p.Bank = bank; p.Bank.Name = strings.Repeat("я", 301) }, "bank.name"},
		{"line feed in the bank name", func(p *catalog.Provider) { p.Bank = bank; p.Bank.Name = "ПАО\nБанк" }, "bank.name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := validProvider()
			tt.edit(&p)
			_, err := catalog.NewProvider(p)
			if tt.field == "" {
				require.NoError(t, err)
				return
			}
			requireField(t, err, tt.field)
		})
	}

	// Spaces people paste inside the codes are dropped; the texts cleaned.
	p := validProvider()
	p.KPP = " 5401 01 001 "
	p.Bank = catalog.BankDetails{Name: " ПАО Сбербанк\u200b", BIC: "04 50 04 641", Account: "4070 2810 9440 5000 1234", CorrespondentAccount: "30101 81050 00000 00641"}
	got, err := catalog.NewProvider(p)
	require.NoError(t, err)
	require.Equal(t, "540101001", got.KPP)
	require.Equal(t, bank, got.Bank)
}
