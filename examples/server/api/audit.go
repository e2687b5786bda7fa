package api

import (
	"context"
	"net/http"
	"time"

	"github.com/google/uuid"

	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/funding"
)

// The audit trail people can read: the ledger's postings with their why
// (GET /v1/audit/postings), the eligibility decision a certificate was
// issued on (in its cabinet and on the first page of its postings), and
// an invoice's way to being paid (POST /v1/invoices/accept and /pay, the
// status in GET /v1/invoices). Who may read or move what the service
// decides; the auditor role reads it all and moves nothing.

type postingOut struct {
	ID            uuid.UUID         `json:"id"`
	CertificateID uuid.UUID         `json:"certificate_id"`
	ContractID    *uuid.UUID        `json:"contract_id,omitempty"`
	Period        periodOut         `json:"period"`
	Kind          string            `json:"kind"`
	Amount        funding.Money     `json:"amount"`
	HoldID        *uuid.UUID        `json:"hold_id,omitempty"`
	Month         string            `json:"month,omitempty"`
	At            time.Time         `json:"at"`
	Actor         string            `json:"actor"`
	Rule          string            `json:"rule"`
	Params        map[string]string `json:"params"`
	RulesVersion  int64             `json:"rules_version"`
}

func optionalID(id uuid.UUID) *uuid.UUID {
	if id == uuid.Nil {
		return nil
	}
	return &id
}

func postingDTO(p enrollment.PostingRecord) postingOut {
	out := postingOut{ID: p.ID, CertificateID: p.CertificateID, ContractID: optionalID(p.ContractID),
		Period: periodOut{Start: dateOut(p.Period.Start), End: dateOut(p.Period.End)}, Kind: string(p.Posting.Kind),
		Amount: p.Posting.Amount, HoldID: optionalID(p.Posting.HoldID), At: p.At.UTC(), Actor: p.Actor, Rule: p.Rule,
		Params: p.Params, RulesVersion: p.Rules}
	if p.Month != (funding.Month{}) {
		out.Month = p.Month.String()
	}
	if out.Params == nil {
		out.Params = map[string]string{}
	}
	return out
}

type decisionOut struct {
	Scheme       string            `json:"scheme"`
	DecidedOn    string            `json:"decided_on"`
	At           time.Time         `json:"at"`
	Actor        string            `json:"actor"`
	RulesVersion int64             `json:"rules_version"`
	Eligible     bool              `json:"eligible"`
	Inputs       map[string]string `json:"inputs"`
	Checked      []string          `json:"checked"`
	Reasons      []Reason          `json:"reasons"`
}

func decisionDTO(d *enrollment.EligibilityDecision) *decisionOut {
	if d == nil {
		return nil
	}
	out := &decisionOut{Scheme: string(d.Scheme), DecidedOn: dateOut(d.DecidedOn), At: d.At.UTC(), Actor: d.Actor,
		RulesVersion: d.Rules, Eligible: d.Eligible(), Inputs: d.Inputs, Checked: d.Checked, Reasons: []Reason{}}
	if out.Inputs == nil {
		out.Inputs = map[string]string{}
	}
	if out.Checked == nil {
		out.Checked = []string{}
	}
	for _, r := range d.Reasons {
		out.Reasons = append(out.Reasons, Reason{Rule: r.Rule, Message: r.Message})
	}
	return out
}

type ledgerOut struct {
	Items []postingOut `json:"items"`
	Next  string       `json:"next,omitempty"`
	// Decision is the eligibility decision of the certificate the query
	// names (certificate_id), on the first page.
	Decision *decisionOut `json:"decision,omitempty"`
}

// auditPostings reads the ledger's audit trail: the postings the query
// selects within the caller's reach, newest first, a page at a time.
func (h *Handler) auditPostings(w http.ResponseWriter, r *http.Request, c call) error {
	q := r.URL.Query()
	if err := onlyParams(q, "scheme", "municipality", "certificate_id", "contract_id", "provider_id", "from", "to", "after", "limit"); err != nil {
		return err
	}
	var p parser
	f := enrollment.LedgerFilter{
		Scheme:       certificate.Scheme(q.Get("scheme")),
		Municipality: p.text("municipality", q.Get("municipality"), 40, false),
		Certificate:  p.uuid("certificate_id", q.Get("certificate_id"), false),
		Contract:     p.uuid("contract_id", q.Get("contract_id"), false),
		Provider:     p.uuid("provider_id", q.Get("provider_id"), false),
		From:         p.instant("from", q.Get("from")),
		To:           p.instant("to", q.Get("to")),
		After:        p.uuid("after", q.Get("after"), false),
		Limit:        listLimit(&p, q),
	}
	if p.err != nil {
		return p.err
	}
	page, err := h.cfg.Service.Ledger(r.Context(), c.p.Caller(), f)
	if err != nil {
		return err
	}
	out := ledgerOut{Items: []postingOut{}, Next: nextOut(page.Next), Decision: decisionDTO(page.Decision)}
	for _, posting := range page.Postings {
		out.Items = append(out.Items, postingDTO(posting))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// invoiceIn names an invoice: its key.
type invoiceIn struct {
	Scheme       string `json:"scheme"`
	Municipality string `json:"municipality"`
	ProviderID   string `json:"provider_id"`
	Month        string `json:"month"`
	Kind         string `json:"kind"`
}

type invoiceMoveOut struct {
	At     time.Time     `json:"at"`
	Actor  string        `json:"actor"`
	Amount funding.Money `json:"amount"`
	Lines  int           `json:"lines"`
}

func invoiceMoveDTO(t *enrollment.InvoiceTransition) *invoiceMoveOut {
	if t == nil {
		return nil
	}
	return &invoiceMoveOut{At: t.At.UTC(), Actor: t.Actor, Amount: t.Amount, Lines: t.Lines}
}

// moveInvoice serves the route of an invoice's move: run is the Service
// method it calls.
func moveInvoice(run func(*enrollment.Service, context.Context, string, enrollment.InvoiceRequest) (enrollment.Invoice, error)) handler {
	return func(h *Handler, w http.ResponseWriter, r *http.Request, c call) error {
		var in invoiceIn
		if err := decode(w, r, &in, false); err != nil {
			return err
		}
		var p parser
		k := enrollment.InvoiceKey{
			Scheme:       certificate.Scheme(p.text("scheme", in.Scheme, 40, true)),
			Municipality: p.text("municipality", in.Municipality, 40, true),
			ProviderID:   p.uuid("provider_id", in.ProviderID, true),
			Month:        p.month("month", in.Month, true),
			Kind:         enrollment.InvoiceKind(p.text("kind", in.Kind, 20, true)),
		}
		if p.err != nil {
			return p.err
		}
		inv, err := run(h.cfg.Service, r.Context(), c.key, enrollment.InvoiceRequest{Invoice: k, By: c.p.Caller()})
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, invoiceDTO(inv))
		return nil
	}
}
