package demo

import "github.com/edufund/edufund/catalog"

// accounting are the providers' made-up accounting details, by the
// provider's key: what the invoices' exports show a municipality's
// accounting. The banks and accounts are fictitious. Цифровая академия
// has a 12-digit INN, an individual entrepreneur's, and so no KPP.
var accounting = map[string]catalog.Provider{
	"robo": {KPP: "540101001", Bank: catalog.BankDetails{Name: "АО «Банк Новоград»", BIC: "045004999",
		Account: "40702810000000000101", CorrespondentAccount: "30101810900000000999"}},
	"palitra": {KPP: "540101001", Bank: catalog.BankDetails{Name: "АО «Банк Новоград»", BIC: "045004999",
		Account: "40703810000000000202", CorrespondentAccount: "30101810900000000999"}},
	"sport": {KPP: "544501001", Bank: catalog.BankDetails{Name: "АО «Заречный сельский банк»", BIC: "045004998",
		Account: "40703810000000000303", CorrespondentAccount: "30101810800000000998"}},
	"digital": {Bank: catalog.BankDetails{Name: "АО «Цифробанк»", BIC: "044525999",
		Account: "40802810000000000404", CorrespondentAccount: "30101810400000000999"}},
}
