package api

import "github.com/edufund/edufund/catalog"

// accountingIO is a provider's accounting details as the API shows them
// (the answer of POST /v1/admin/providers): the KPP and the bank details,
// each left out when not given; the invoices' exports carry them.
type accountingIO struct {
	KPP  string  `json:"kpp,omitempty"`
	Bank *bankIO `json:"bank,omitempty"`
}

type bankIO struct {
	Name                 string `json:"name"`
	BIC                  string `json:"bic"`
	Account              string `json:"account"`
	CorrespondentAccount string `json:"correspondent_account,omitempty"`
}

// accounting reads the details of a provider's request; catalog.NewProvider
// checks them (the errors name kpp, bank.name, bank.bic, bank.account and
// bank.correspondent_account).
func accounting(p *parser, kpp string, bank *bankIO) (string, catalog.BankDetails) {
	var b catalog.BankDetails
	if bank != nil {
		b = catalog.BankDetails{
			Name:                 p.text("bank.name", bank.Name, 300, false),
			BIC:                  p.text("bank.bic", bank.BIC, 40, false),
			Account:              p.text("bank.account", bank.Account, 40, false),
			CorrespondentAccount: p.text("bank.correspondent_account", bank.CorrespondentAccount, 40, false),
		}
	}
	return p.text("kpp", kpp, 40, false), b
}

func accountingDTO(p catalog.Provider) accountingIO {
	out := accountingIO{KPP: p.KPP}
	if p.Bank != (catalog.BankDetails{}) {
		out.Bank = &bankIO{Name: p.Bank.Name, BIC: p.Bank.BIC, Account: p.Bank.Account, CorrespondentAccount: p.Bank.CorrespondentAccount}
	}
	return out
}
