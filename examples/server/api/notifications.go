package api

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/funding"
)

// Notifications of the cabinet. They are derived, not stored: from the
// cabinet (the budget-limit notice, the queue position, the contracts
// waiting for the provider or for the holder's answer, with the silence
// deadline of a prolongation) and from the certificate's ledger of the
// period, each posting explained with the rule that produced it.

// Notification kinds.
const (
	NoteBudget      = "budget"      // the municipal budget limit is reached
	NoteQueue       = "queue"       // the certificate waits for a funded place
	NoteApplication = "application" // an application waits for the provider
	NoteOffer       = "offer"       // an offer waits for the holder's answer
	NotePosting     = "posting"     // money moved on the certificate
)

// MaxPostingNotes bounds the ledger lines a cabinet shows, newest first.
const MaxPostingNotes = 50

// Notification is one of a cabinet's notifications. Message is in
// English, for developers; a page for people words each Kind (and each
// Posting) in its own language from the other fields.
type Notification struct {
	Kind       string         `json:"kind"`
	Message    string         `json:"message"`
	At         *time.Time     `json:"at,omitempty"`
	Due        string         `json:"due,omitempty"`
	Rule       string         `json:"rule,omitempty"`
	Posting    string         `json:"posting,omitempty"`
	Amount     *funding.Money `json:"amount,omitempty"`
	Month      string         `json:"month,omitempty"`
	ContractID *uuid.UUID     `json:"contract_id,omitempty"`
	// Period is the posting's period and Params its rule's parameters
	// (a refund's delivered_percent): what a page's own wording needs,
	// not part of the API's answer.
	Period funding.Period    `json:"-"`
	Params map[string]string `json:"-"`
}

// notificationOut is the API's name of Notification.
type notificationOut = Notification

// notifications builds the cabinet's notifications.
func (h *Handler) notifications(ctx context.Context, cab enrollment.Cabinet) ([]notificationOut, error) {
	return Notifications(ctx, h.cfg.Service, h.cfg.Store, cab)
}

// Notifications derives cab's notifications, the API's and the pages'
// alike: store serves the reads the service does not offer (the period's
// postings and the contracts' groups), in a transaction of their own.
// cab must be one the caller was allowed to read (Service.Cabinet): the
// reads here check no one.
func Notifications(ctx context.Context, svc *enrollment.Service, store enrollment.Store, cab enrollment.Cabinet) ([]Notification, error) {
	var (
		postings []enrollment.PostingRecord
		offers   = map[uuid.UUID]enrollment.Offer{}
	)
	err := store.InTx(ctx, func(ctx context.Context, tx enrollment.Tx) error {
		var err error
		if postings, err = tx.Postings(ctx, cab.Certificate.ID, cab.Period); err != nil {
			return err
		}
		for _, k := range cab.Contracts {
			if _, ok := offers[k.GroupID]; ok {
				continue
			}
			o, err := tx.Offer(ctx, k.GroupID)
			if err != nil {
				continue // a group since removed: named by its ids
			}
			offers[k.GroupID] = o
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	contracts := map[uuid.UUID]enrollment.Contract{}
	for _, k := range cab.Contracts {
		contracts[k.ID] = k
	}
	program := func(k enrollment.Contract) string {
		if o, ok := offers[k.GroupID]; ok {
			return fmt.Sprintf("%q (group %s)", o.Program.Name, o.Group.Name)
		}
		return "program " + k.ProgramID.String()
	}
	provider := func(k enrollment.Contract) string {
		if o, ok := offers[k.GroupID]; ok {
			return o.Provider.Name
		}
		return "provider " + k.ProviderID.String()
	}

	out := []Notification{}
	if cab.BudgetNotice != "" {
		out = append(out, Notification{Kind: NoteBudget, Message: cab.BudgetNotice})
	}
	if cab.Position > 0 {
		what := "a funded place in category " + cab.Certificate.Category
		if cab.Certificate.Scheme == certificate.DigitalSkills {
			what = fmt.Sprintf("a place of the %d national quota", cab.Certificate.IssuedOn.Year())
		}
		out = append(out, Notification{Kind: NoteQueue, Message: fmt.Sprintf("Your certificate is number %d in the queue for %s.", cab.Position, what)})
	}
	for _, k := range cab.Contracts {
		id := k.ID
		switch k.Status {
		case enrollment.Requested:
			out = append(out, Notification{Kind: NoteApplication, ContractID: &id,
				Message: fmt.Sprintf("Your application to %s from %s waits for %s to confirm it.", program(k), dateOut(k.Start), provider(k))})
		case enrollment.Accepted:
			n := Notification{Kind: NoteOffer, ContractID: &id}
			if k.ProlongedFrom != uuid.Nil {
				due := svc.SilenceDue(k)
				n.Due = dateOut(due)
				n.Message = fmt.Sprintf("%s offers to prolong your studies in %s from %s. Unless you decline it, your silence accepts it on %s.",
					provider(k), program(k), dateOut(k.Start), due)
			} else {
				n.Message = fmt.Sprintf("%s has confirmed your application to %s: accept the offer to start on %s.", provider(k), program(k), dateOut(k.Start))
			}
			out = append(out, n)
		}
	}

	// The ledger, newest first.
	// The store lists the postings in (at, id) order, ids being UUIDv7.
	slices.Reverse(postings)
	if len(postings) > MaxPostingNotes {
		postings = postings[:MaxPostingNotes]
	}
	for _, p := range postings {
		at, amount := p.At.UTC(), p.Posting.Amount
		n := Notification{Kind: NotePosting, At: &at, Rule: p.Rule, Posting: string(p.Posting.Kind), Amount: &amount,
			Period: p.Period, Params: p.Params}
		if !p.Month.IsZero() {
			n.Month = p.Month.String()
		}
		about := "the certificate"
		if k, ok := contracts[p.ContractID]; ok {
			id := k.ID
			n.ContractID = &id
			about = program(k)
		}
		var what string
		switch p.Posting.Kind {
		case funding.Grant:
			what = fmt.Sprintf("%s granted for %s", amount, p.Period)
		case funding.Adjust:
			what = fmt.Sprintf("%s: the category's nominal changed", amount)
		case funding.Reserve:
			what = fmt.Sprintf("%s reserved for %s", amount, about)
		case funding.Charge:
			what = fmt.Sprintf("%s paid for %s of %s out of its reserve", amount, n.Month, about)
		case funding.Release:
			what = fmt.Sprintf("%s of the reserve for %s returned to the balance", amount, about)
		case funding.Deplete:
			what = fmt.Sprintf("%s of the unused nominal lapsed: before the first application the usable nominal shrinks month by month", amount)
		case funding.Expire:
			what = fmt.Sprintf("%s unused at the end of %s expired", amount, p.Period)
		case funding.Refund:
			what = fmt.Sprintf("%s returned to the balance: %s delivered %s%% of %s", amount, about, p.Params["delivered_percent"], n.Month)
		default:
			what = fmt.Sprintf("%s %s", amount, p.Posting.Kind)
		}
		n.Message = fmt.Sprintf("%s (rule %s)", what, p.Rule)
		out = append(out, n)
	}
	return out, nil
}
