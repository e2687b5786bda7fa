package funding

// Terms are the inputs of pricing one contract: the group's dates, the
// enrolment start, the funding period holding the start, the module's price
// and normative cost for the whole group, and the certificate's balance.
type Terms struct {
	GroupStart, GroupEnd Date
	Start                Date
	Period               Period
	ModulePrice          Money
	NormativePrice       Money
	Balance              Money
}

// PriceContract prices a contract by rules.md, "Pricing a contract": the
// totals round up, the monthly amounts down, and the first month absorbs the
// rest, so the schedule always sums to the total to the kopeck. The
// certificate pays min(all, norm, balance), or min(all, balance) when the
// module has no normative cost (NormativePrice zero; Price.Normative is
// then zero too).
//
// The rules do not say which days the co-payment schedule is prorated over;
// it follows the certificate's schedule ("the same way"): over the contract's
// days, not the group's. The total's schedule (First, Other) uses the group's
// days as the rule says, so CertOther + CoPayOther may differ from Other by a
// kopeck; each schedule sums exactly to its own total.
//
// The arithmetic is exact integer kopecks with 128-bit intermediates: every
// ratio here is a share of at most 1, so no quotient exceeds its amount.
func PriceContract(t Terms) (Price, error) {
	if err := t.validate(); err != nil {
		return Price{}, err
	}
	end := t.GroupEnd
	if t.Period.End.Before(end) {
		end = t.Period.End
	}
	group := uint64(Days(t.GroupStart, t.GroupEnd))
	days := uint64(Days(t.Start, end))
	months := uint64(Months(t.Start, end))

	price, norm, balance := uint64(t.ModulePrice.Kopecks()), uint64(t.NormativePrice.Kopecks()), uint64(t.Balance.Kopecks())
	all := ceilMulDiv(price, days, group)
	cert := min(all, balance)
	// The normative cap is a region's choice: a module without a normative
	// cost is capped by the balance alone (the parent pays only what the
	// balance does not cover), not by a normative of zero.
	var normal uint64
	if norm > 0 {
		normal = ceilMulDiv(norm, days, group)
		cert = min(cert, normal)
	}
	copay := all - cert

	p := Price{
		Start: t.Start, End: end, Days: int(days), Months: int(months),
		Total: Kopecks(int64(all)), Normative: Kopecks(int64(normal)),
		Cert: Kopecks(int64(cert)), CoPay: Kopecks(int64(copay)),
	}
	if months == 1 {
		p.First, p.CertFirst, p.CoPayFirst = p.Total, p.Cert, p.CoPay
		return p, nil
	}
	firstDays := uint64(Days(t.Start, t.Start.MonthOf().Last()))
	rest := days - firstDays // days after the first month
	n := months - 1

	// other = floor2(rest/group × price/n) = floor(price × rest / (group × n))
	other, _ := mulDiv(price, rest, group*n)
	certOther, _ := mulDiv(cert, rest, days*n)
	copayOther, _ := mulDiv(copay, rest, days*n)

	p.Other, p.First = Kopecks(int64(other)), Kopecks(int64(all-other*n))
	p.CertOther, p.CertFirst = Kopecks(int64(certOther)), Kopecks(int64(cert-certOther*n))
	p.CoPayOther, p.CoPayFirst = Kopecks(int64(copayOther)), Kopecks(int64(copay-copayOther*n))
	return p, nil
}

func ceilMulDiv(a, b, c uint64) uint64 {
	q, inexact := mulDiv(a, b, c)
	if inexact {
		q++
	}
	return q
}

func (t Terms) validate() error {
	switch {
	case t.GroupStart.IsZero():
		return &ValidationError{Field: "group_start", Rule: "must be set"}
	case t.GroupEnd.IsZero():
		return &ValidationError{Field: "group_end", Rule: "must be set"}
	case t.GroupEnd.Before(t.GroupStart):
		return &ValidationError{Field: "group_end", Rule: "must not be before group_start", Value: t.GroupEnd.String()}
	case t.Start.IsZero():
		return &ValidationError{Field: "start", Rule: "must be set"}
	case t.Start.Before(t.GroupStart) || t.Start.After(t.GroupEnd):
		return &ValidationError{Field: "start", Rule: "must lie within the group's dates " + t.GroupStart.String() + ".." + t.GroupEnd.String(), Value: t.Start.String()}
	case t.Period.Start.IsZero() || t.Period.End.IsZero() || t.Period.End.Before(t.Period.Start):
		return &ValidationError{Field: "period", Rule: "must be a span of dates", Value: t.Period.String()}
	case !t.Period.Contains(t.Start):
		return &ValidationError{Field: "start", Rule: "must lie within the period " + t.Period.String(), Value: t.Start.String()}
	}
	for _, f := range []struct {
		name string
		m    Money
	}{{"module_price", t.ModulePrice}, {"normative_price", t.NormativePrice}, {"balance", t.Balance}} {
		if f.m.IsNegative() {
			return &ValidationError{Field: f.name, Rule: "must not be negative", Value: f.m.String()}
		}
		if f.m.Cmp(MaxMoney) >= 0 {
			return &ValidationError{Field: f.name, Rule: "must be less than " + MaxMoney.String(), Value: f.m.String()}
		}
	}
	return nil
}
