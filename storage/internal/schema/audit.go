package schema

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/funding"
)

// Decision is an eligibility_decisions row (migration 00023): the
// decision a certificate was issued on, its lists as JSON.
type Decision struct {
	bun.BaseModel `bun:"table:eligibility_decisions"`

	CertificateID uuid.UUID `bun:"certificate_id,pk"`
	Scheme        string    `bun:"scheme"`
	DecidedOn     Date      `bun:"decided_on,notnull"`
	At            Time      `bun:"at,notnull"`
	Actor         string    `bun:"actor"`
	Rules         int64     `bun:"rules,notnull"`
	Inputs        string    `bun:"inputs"`
	Checked       string    `bun:"checked"`
	Reasons       string    `bun:"reasons"`
}

// FromDecision is d as a row.
func FromDecision(d enrollment.EligibilityDecision) (*Decision, error) {
	enc := func(v any, empty string) (string, error) {
		b, err := json.Marshal(v)
		if err != nil || string(b) == "null" {
			return empty, err
		}
		return string(b), nil
	}
	reasons := make([]reasonJSON, len(d.Reasons))
	for i, r := range d.Reasons {
		reasons[i] = reasonJSON(r)
	}
	r := &Decision{CertificateID: d.CertificateID, Scheme: string(d.Scheme), DecidedOn: Date(d.DecidedOn), At: Time(d.At),
		Actor: d.Actor, Rules: d.Rules}
	var err error
	if r.Inputs, err = enc(d.Inputs, "{}"); err != nil {
		return nil, fmt.Errorf("storage: decision of %s: inputs: %w", d.CertificateID, err)
	}
	if r.Checked, err = enc(d.Checked, "[]"); err != nil {
		return nil, fmt.Errorf("storage: decision of %s: checked: %w", d.CertificateID, err)
	}
	if r.Reasons, err = enc(reasons, "[]"); err != nil {
		return nil, fmt.Errorf("storage: decision of %s: reasons: %w", d.CertificateID, err)
	}
	return r, nil
}

// reasonJSON is a failed rule as the row keeps it: the field names are
// the row's, whatever certificate.Reason's become.
type reasonJSON struct {
	Rule    string `json:"rule"`
	Message string `json:"message"`
}

// Domain is the decision the row holds.
func (r *Decision) Domain() (enrollment.EligibilityDecision, error) {
	d := enrollment.EligibilityDecision{CertificateID: r.CertificateID, Scheme: certificate.Scheme(r.Scheme),
		DecidedOn: funding.Date(r.DecidedOn), At: time.Time(r.At), Actor: r.Actor, Rules: r.Rules}
	var reasons []reasonJSON
	for _, f := range []struct {
		name, text string
		into       any
	}{{"inputs", r.Inputs, &d.Inputs}, {"checked", r.Checked, &d.Checked}, {"reasons", r.Reasons, &reasons}} {
		if err := json.Unmarshal([]byte(f.text), f.into); err != nil {
			return d, fmt.Errorf("storage: decision of %s: %s: %w", r.CertificateID, f.name, err)
		}
	}
	for _, x := range reasons {
		d.Reasons = append(d.Reasons, certificate.Reason(x))
	}
	return d, nil
}

// InvoiceTransition is an invoice_transitions row: one move of an
// invoice past issued.
type InvoiceTransition struct {
	bun.BaseModel `bun:"table:invoice_transitions"`

	ID           uuid.UUID `bun:"id,pk"`
	Scheme       string    `bun:"scheme"`
	Municipality string    `bun:"municipality"`
	ProviderID   uuid.UUID `bun:"provider_id"`
	Month        Month     `bun:"month,notnull"`
	Kind         string    `bun:"kind"`
	Status       string    `bun:"status"`
	Amount       int64     `bun:"amount"`
	Lines        int       `bun:"lines"`
	At           Time      `bun:"at,notnull"`
	Actor        string    `bun:"actor"`
}

// FromInvoiceTransition is t as a row; an amount out of range is an error.
func FromInvoiceTransition(t enrollment.InvoiceTransition) (*InvoiceTransition, error) {
	var k Kopecks
	r := &InvoiceTransition{ID: t.ID, Scheme: string(t.Invoice.Scheme), Municipality: t.Invoice.Municipality,
		ProviderID: t.Invoice.ProviderID, Month: Month(t.Invoice.Month), Kind: string(t.Invoice.Kind), Status: string(t.Status),
		Amount: k.Of("amount", t.Amount), Lines: t.Lines, At: Time(t.At), Actor: t.Actor}
	return r, k.Err
}

// Domain is the move the row holds.
func (r *InvoiceTransition) Domain() enrollment.InvoiceTransition {
	return enrollment.InvoiceTransition{ID: r.ID, Invoice: enrollment.InvoiceKey{Scheme: certificate.Scheme(r.Scheme),
		Municipality: r.Municipality, ProviderID: r.ProviderID, Month: funding.Month(r.Month), Kind: enrollment.InvoiceKind(r.Kind)},
		Status: enrollment.InvoiceStatus(r.Status), Amount: money(r.Amount), Lines: r.Lines, At: time.Time(r.At), Actor: r.Actor}
}
