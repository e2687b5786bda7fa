package catalog

import (
	"strings"

	"github.com/edufund/edufund/funding"
)

// Lengths of a provider's accounting codes.
const (
	KPPLen     = 9  // tax registration reason code (КПП)
	BICLen     = 9  // bank identification code (БИК)
	AccountLen = 20 // a Russian bank account number
)

// providerAccounting cleans a provider's accounting details, each
// optional: the KPP (validKPP), and the bank details, which a payment
// needs whole: when any is given, the bank's name, the BIC (9 digits) and
// the settlement account (20 digits) are required, the correspondent
// account (20 digits) optional (a bank served by the Bank of Russia's
// own division may have none). Spaces inside the codes are dropped, as
// people paste "4070 2810 …". The codes' check digits are not verified:
// the Bank of Russia's key differs for treasury and settlement-centre
// accounts, and refusing a real account would stop a provider being paid.
func providerAccounting(p *Provider) error {
	var err error
	if p.KPP, err = code("kpp", p.KPP); err != nil {
		return err
	}
	if p.KPP != "" && !validKPP(p.KPP) {
		return invalid("kpp", "must be 9 characters: 4 digits, 2 digits or capital Latin letters, 3 digits", p.KPP)
	}
	b := &p.Bank
	if b.Name, err = funding.Text("bank.name", b.Name, funding.MaxNameLen); err != nil {
		return err
	}
	for _, c := range []struct {
		field string
		v     *string
	}{{"bank.bic", &b.BIC}, {"bank.account", &b.Account}, {"bank.correspondent_account", &b.CorrespondentAccount}} {
		if *c.v, err = code(c.field, *c.v); err != nil {
			return err
		}
	}
	if *b == (BankDetails{}) {
		return nil
	}
	switch {
	case b.Name == "":
		return invalid("bank.name", "must not be empty when bank details are given", nil)
	case !digits(b.BIC, BICLen):
		return invalid("bank.bic", "must be 9 digits", b.BIC)
	case !digits(b.Account, AccountLen):
		return invalid("bank.account", "must be 20 digits", b.Account)
	case b.CorrespondentAccount != "" && !digits(b.CorrespondentAccount, AccountLen):
		return invalid("bank.correspondent_account", "must be empty or 20 digits", b.CorrespondentAccount)
	}
	return nil
}

// code cleans an accounting code: funding.Text, then without spaces.
func code(field, s string) (string, error) {
	s, err := funding.Text(field, s, funding.MaxCodeLen)
	return strings.ReplaceAll(s, " ", ""), err
}

// validKPP reports whether s is a KPP: the tax office's 4 digits, the
// reason's 2 (digits, or capital Latin letters since 2019) and a 3-digit
// number.
func validKPP(s string) bool {
	if len(s) != KPPLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		isDigit := c >= '0' && c <= '9'
		if !isDigit && !(i == 4 || i == 5) || !isDigit && (c < 'A' || c > 'Z') {
			return false
		}
	}
	return true
}

// digits reports whether s is n ASCII digits.
func digits(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
