package funding

import "github.com/shopspring/decimal"

// Coverage splits a course's cost between the adult certificate and the
// learner: cert = floor2(cost × share), copay = cost − cert. Rounding down
// means the state never pays a kopeck over its share; the learner's co-pay
// absorbs it. Share 1 (the digital_skills default) pays the whole cost.
func Coverage(cost Money, share decimal.Decimal) (cert, copay Money, err error) {
	if cost.IsNegative() {
		return Money{}, Money{}, &ValidationError{Field: "cost", Rule: "must not be negative", Value: cost.String()}
	}
	if share.IsNegative() || share.GreaterThan(decOne) {
		return Money{}, Money{}, &ValidationError{Field: "share", Rule: "must be between 0 and 1", Value: share.String()}
	}
	cert = Floor2(cost.Mul(share))
	return cert, cost.Sub(cert), nil
}

// Stages splits the certificate's payment into stages by shares that sum to
// exactly 1: every stage but the last is floor2(cert × share) and the last
// takes the rest, so the stages sum to cert and none is negative.
func Stages(cert Money, shares []decimal.Decimal) ([]Money, error) {
	if cert.IsNegative() {
		return nil, &ValidationError{Field: "cert", Rule: "must not be negative", Value: cert.String()}
	}
	if len(shares) == 0 {
		return nil, &ValidationError{Field: "shares", Rule: "must not be empty"}
	}
	sum := decimal.Zero
	for _, s := range shares {
		if s.IsNegative() {
			return nil, &ValidationError{Field: "shares", Rule: "must not be negative", Value: s.String()}
		}
		sum = sum.Add(s)
	}
	if !sum.Equal(decOne) {
		return nil, &ValidationError{Field: "shares", Rule: "must sum to 1", Value: sum.String()}
	}
	out := make([]Money, len(shares))
	rest := cert
	for i, s := range shares[:len(shares)-1] {
		out[i] = Floor2(cert.Mul(s))
		rest = rest.Sub(out[i])
	}
	out[len(out)-1] = rest
	return out, nil
}
