package enrollment

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/funding"
)

// An invoice's way to being paid. The monthly close issues it and writes
// nothing else: its lines and totals are the close's hot path, so the
// status is not a column it updates. An invoice with no recorded move is
// issued once the close that issues it finished (a draft before); its
// payer's acceptance and payment are moves recorded apart, append-only,
// each with the amount it saw. The payer is the municipality whose budget
// pays a children's invoice, the federal operator for an adult one.

// InvoiceStatus is where an invoice is on its way to being paid.
type InvoiceStatus string

const (
	// InvoiceStatusDraft is an invoice the monthly close that issues it has not
	// finished yet: its total may still grow.
	InvoiceStatusDraft InvoiceStatus = "draft"
	// InvoiceStatusIssued is an invoice its close issued (the InvoiceIssued event).
	InvoiceStatusIssued InvoiceStatus = "issued"
	// InvoiceStatusAccepted is an invoice its payer checked and accepted.
	InvoiceStatusAccepted InvoiceStatus = "accepted"
	// InvoiceStatusPaid is an invoice its payer paid: the last status.
	InvoiceStatusPaid InvoiceStatus = "paid"
)

// InvoiceStatuses lists the statuses in their order.
var InvoiceStatuses = []InvoiceStatus{InvoiceStatusDraft, InvoiceStatusIssued, InvoiceStatusAccepted, InvoiceStatusPaid}

// invoiceMoves is the transition table: the statuses an invoice may be
// moved to from each. Accepted again is for an invoice whose total
// changed after it was accepted (an under-delivery reported late, an
// adult course completed in the month): its payer accepts the new total
// before paying it. Paid is final.
var invoiceMoves = map[InvoiceStatus][]InvoiceStatus{
	InvoiceStatusIssued:   {InvoiceStatusAccepted},
	InvoiceStatusAccepted: {InvoiceStatusAccepted, InvoiceStatusPaid},
}

// Refusals of an invoice's move besides ErrForbiddenTransition.
var (
	// ErrInvoiceNotIssued is a move of an invoice its close has not
	// issued yet.
	ErrInvoiceNotIssued = errors.New("invoice not issued yet")
	// ErrInvoiceChanged is the payment of an invoice whose total changed
	// since it was accepted.
	ErrInvoiceChanged = errors.New("invoice changed since it was accepted")
)

// Codes of those refusals.
const (
	CodeInvoiceNotIssued = "invoice_not_issued"
	CodeInvoiceChanged   = "invoice_changed"
)

// InvoiceKey names an invoice: its scheme, municipality, provider, month
// and kind.
type InvoiceKey struct {
	Scheme       certificate.Scheme
	Municipality string
	ProviderID   uuid.UUID
	Month        funding.Month
	Kind         InvoiceKind
}

// Key is inv's key.
func (inv Invoice) Key() InvoiceKey {
	return InvoiceKey{Scheme: inv.Scheme, Municipality: inv.Municipality, ProviderID: inv.ProviderID, Month: inv.Month, Kind: inv.Kind}
}

// validate checks that k names an invoice, field by field.
func (k InvoiceKey) validate() error {
	switch {
	case !knownScheme(k.Scheme):
		return &funding.ValidationError{Field: "scheme", Rule: "must be supplementary or digital_skills", Value: string(k.Scheme)}
	case k.Municipality == "":
		return &funding.ValidationError{Field: "municipality", Rule: "is required"}
	case k.ProviderID == uuid.Nil:
		return &funding.ValidationError{Field: "provider_id", Rule: "is required"}
	case k.Month == (funding.Month{}):
		return &funding.ValidationError{Field: "month", Rule: "is required"}
	}
	switch k.Kind {
	case AdvanceInvoice, FinalInvoice, RefundInvoice:
		return nil
	}
	return &funding.ValidationError{Field: "kind", Rule: "must be advance, final or refund", Value: string(k.Kind)}
}

func (k InvoiceKey) String() string {
	return fmt.Sprintf("%s %s invoice of provider %s to %s (%s)", k.Month, k.Kind, k.ProviderID, k.Municipality, k.Scheme)
}

// IssuedBy is the month whose close issues the invoice: an advance with
// its own month's close, a final or a refund with the next month's
// (December's with its own, at the end of the year); see issuedBy.
func (k InvoiceKey) IssuedBy() funding.Month {
	if k.Kind == AdvanceInvoice || k.Month.Month == time.December {
		return k.Month
	}
	return k.Month.Next()
}

// InvoiceTransition is one move of an invoice: to accepted or paid, with
// the total and lines it had then, by whom and when.
type InvoiceTransition struct {
	ID      uuid.UUID
	Invoice InvoiceKey
	Status  InvoiceStatus
	Amount  funding.Money
	Lines   int
	At      time.Time
	Actor   string
}

// AuditTx keeps what the audit trail reads besides the ledger and the
// events: the eligibility decision a certificate was issued on, and the
// moves of invoices past issued. All of it is append-only.
type AuditTx interface {
	// SaveDecision keeps a certificate's decision; ErrExists for a second.
	SaveDecision(ctx context.Context, d EligibilityDecision) error
	// Decision reads it; ErrNotFound for a certificate issued without one
	// (before decisions were kept).
	Decision(ctx context.Context, certificateID uuid.UUID) (EligibilityDecision, error)
	// LockInvoice reads an invoice, locking it against a concurrent move;
	// ErrNotFound when it has no line.
	LockInvoice(ctx context.Context, k InvoiceKey) (Invoice, error)
	// InvoiceTransitions lists an invoice's moves, oldest first.
	InvoiceTransitions(ctx context.Context, k InvoiceKey) ([]InvoiceTransition, error)
	AddInvoiceTransition(ctx context.Context, t InvoiceTransition) error
}

// withMoves gives inv its status from its moves (oldest first) and the
// last month closed (zero when none was).
func withMoves(inv Invoice, moves []InvoiceTransition, lastClose funding.Month) Invoice {
	inv.Status, inv.Accepted, inv.Paid = InvoiceStatusDraft, nil, nil
	if lastClose != (funding.Month{}) && !lastClose.Before(inv.Key().IssuedBy()) {
		inv.Status = InvoiceStatusIssued
	}
	for i := range moves {
		t := moves[i]
		inv.Status = t.Status
		switch t.Status {
		case InvoiceStatusAccepted:
			inv.Accepted = &t
		case InvoiceStatusPaid:
			inv.Paid = &t
		}
	}
	return inv
}

// changed reports whether inv's total differs from what it was accepted at.
func (inv Invoice) changed() bool {
	return inv.Accepted != nil && (!inv.Accepted.Amount.Equal(inv.Amount) || inv.Accepted.Lines != inv.Lines)
}

// invoiceStatuses gives each of a month's invoices (of provider, or all
// when uuid.Nil) its status.
func (s *Service) invoiceStatuses(ctx context.Context, invs []Invoice, provider uuid.UUID, m funding.Month) ([]Invoice, error) {
	if len(invs) == 0 {
		return invs, nil
	}
	moves, err := s.store.InvoiceMoves(ctx, provider, m)
	if err != nil {
		return nil, err
	}
	var last funding.Month
	err = s.inTx(ctx, func(ctx context.Context, tx Tx) error {
		var err error
		if last, err = tx.LastClose(ctx); errors.Is(err, ErrNotFound) {
			last, err = funding.Month{}, nil
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	byKey := map[InvoiceKey][]InvoiceTransition{}
	for _, t := range moves {
		byKey[t.Invoice] = append(byKey[t.Invoice], t)
	}
	for i := range invs {
		invs[i] = withMoves(invs[i], byKey[invs[i].Key()], last)
	}
	return invs, nil
}

// InvoiceRequest moves an invoice: its payer accepts or pays it.
type InvoiceRequest struct {
	Invoice InvoiceKey
	// By is the payer: the municipal authority of a children's invoice,
	// the federal operator of an adult one; or the system.
	By Caller
}

// AcceptInvoice records that the invoice's payer checked and accepted
// it, at its current total: an issued invoice, or an accepted one whose
// total changed since. A draft is refused (ErrInvoiceNotIssued), as is
// an accepted invoice unchanged or a paid one (ErrForbiddenTransition).
func (s *Service) AcceptInvoice(ctx context.Context, key string, r InvoiceRequest) (Invoice, error) {
	return s.moveInvoice(ctx, key, "invoice.accept", r, InvoiceStatusAccepted)
}

// PayInvoice records that the invoice's payer paid it: an accepted
// invoice whose total is the one accepted (ErrInvoiceChanged otherwise:
// accept the new total first). Paying an issued invoice before it was
// accepted, or a paid one again, is ErrForbiddenTransition.
func (s *Service) PayInvoice(ctx context.Context, key string, r InvoiceRequest) (Invoice, error) {
	return s.moveInvoice(ctx, key, "invoice.pay", r, InvoiceStatusPaid)
}

// payer refuses a caller who does not pay inv: a municipality pays its
// own children's invoices, the federal operator the adult ones.
func payer(by Caller, inv Invoice) error {
	switch {
	case by.Role == RoleSystem,
		by.Role == RoleMunicipality && inv.Scheme == certificate.Supplementary && inv.Municipality == by.ID,
		by.Role == RoleFederal && inv.Scheme == certificate.DigitalSkills:
		return nil
	}
	return forbidden("%s is not paid by the caller", inv.Key())
}

func (s *Service) moveInvoice(ctx context.Context, key, op string, r InvoiceRequest, to InvoiceStatus) (Invoice, error) {
	if err := roleMay(r.By, "move an invoice", RoleMunicipality, RoleFederal); err != nil {
		return Invoice{}, err
	}
	if err := r.Invoice.validate(); err != nil {
		return Invoice{}, err
	}
	return idempotent(ctx, s, key, op, r.By, r, func(ctx context.Context, tx Tx) (Invoice, error) {
		inv, err := tx.LockInvoice(ctx, r.Invoice)
		if errors.Is(err, ErrNotFound) {
			return Invoice{}, funding.Refuse(ErrNotFound, CodeNotFound, "%s does not exist", r.Invoice)
		}
		if err != nil {
			return Invoice{}, err
		}
		if err := payer(r.By, inv); err != nil {
			return Invoice{}, err
		}
		moves, err := tx.InvoiceTransitions(ctx, r.Invoice)
		if err != nil {
			return Invoice{}, err
		}
		last, err := tx.LastClose(ctx)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return Invoice{}, err
		}
		inv = withMoves(inv, moves, last)
		if err := checkMove(inv, to); err != nil {
			return Invoice{}, err
		}
		id, err := uuid.NewV7()
		if err != nil {
			return Invoice{}, err
		}
		t := InvoiceTransition{ID: id, Invoice: r.Invoice, Status: to, Amount: inv.Amount, Lines: inv.Lines,
			At: s.clock.Now().UTC(), Actor: r.By.Actor()}
		if err := tx.AddInvoiceTransition(ctx, t); err != nil {
			return Invoice{}, err
		}
		typ := InvoiceAccepted
		if to == InvoiceStatusPaid {
			typ = InvoicePaid
		}
		e := Event{Type: typ, Actor: t.Actor, ProviderID: inv.ProviderID, Municipality: inv.Municipality,
			Scheme: inv.Scheme, Payload: mustJSON(map[string]any{
				"month": inv.Month.String(), "kind": inv.Kind, "amount": inv.Amount.String(), "lines": inv.Lines})}
		if err := s.regionEvent(ctx, tx, e); err != nil {
			return Invoice{}, err
		}
		return withMoves(inv, append(moves, t), last), nil
	})
}

// checkMove refuses a move the transition table does not list, and the
// two it lists on a condition: accepting again an invoice unchanged since
// its acceptance, paying one that changed.
func checkMove(inv Invoice, to InvoiceStatus) error {
	if inv.Status == InvoiceStatusDraft {
		return funding.Refuse(ErrInvoiceNotIssued, CodeInvoiceNotIssued,
			"%s is a draft until the close of %s finishes", inv.Key(), inv.Key().IssuedBy())
	}
	allowed := false
	for _, s := range invoiceMoves[inv.Status] {
		allowed = allowed || s == to
	}
	switch {
	case !allowed:
		return funding.Refuse(ErrForbiddenTransition, CodeForbiddenTransition, "%s is %s: it cannot become %s", inv.Key(), inv.Status, to)
	case to == InvoiceStatusAccepted && inv.Status == InvoiceStatusAccepted && !inv.changed():
		return funding.Refuse(ErrForbiddenTransition, CodeForbiddenTransition, "%s is accepted already at %s", inv.Key(), inv.Amount)
	case to == InvoiceStatusPaid && inv.changed():
		return funding.Refuse(ErrInvoiceChanged, CodeInvoiceChanged, "%s was accepted at %s (%d lines) and is now %s (%d lines): accept it again before paying",
			inv.Key(), inv.Accepted.Amount, inv.Accepted.Lines, inv.Amount, inv.Lines)
	}
	return nil
}
