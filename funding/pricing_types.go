package funding

// Price is a contract's priced schedule (rules.md, "Pricing a contract"):
// the total and its split between the certificate and the holder's
// co-payment, each with a first-month amount and an amount for every other month.
type Price struct {
	Start, End Date
	Days       int // days(Start, End)
	Months     int // months(Start, End)

	Total     Money // all
	Normative Money // norm
	Cert      Money // paid from the certificate: min(all, norm, balance)
	CoPay     Money // paid by the holder: all − cert

	First, Other           Money // schedule of the total
	CertFirst, CertOther   Money // schedule of the certificate's share
	CoPayFirst, CoPayOther Money // schedule of the co-payment
}

// BudgetFunded is p for a program of a budget-funded registry: the
// municipality pays the provider directly, so nothing is paid from the
// certificate (nothing reserved or charged) and nothing is co-paid. The total
// and its schedule stay, as the municipality's cost of the contract.
func (p Price) BudgetFunded() Price {
	p.Cert, p.CertFirst, p.CertOther = Zero, Zero, Zero
	p.CoPay, p.CoPayFirst, p.CoPayOther = Zero, Zero, Zero
	return p
}
