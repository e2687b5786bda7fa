package enrollment

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"

	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/funding"
)

// The audit trail of the ledger: every posting with the rule that made
// it, the parameter values it used and their version, who asked and
// when, read by whoever may see the certificate or the contract it is
// about. Status changes and administrators' changes are the events'
// (Events); the ledger's own facts are append-only in the database.

// AuditPager reads the audit trail outside of any transaction.
type AuditPager interface {
	// Ledger lists the postings f matches, newest (highest id) first,
	// strictly before After when it is set, at most Limit of them. The
	// service has already narrowed the filter to the caller's reach.
	Ledger(ctx context.Context, f LedgerFilter) ([]PostingRecord, error)
	// InvoiceMoves lists the moves of a month's invoices, of a provider
	// or of all when uuid.Nil, oldest first.
	InvoiceMoves(ctx context.Context, providerID uuid.UUID, m funding.Month) ([]InvoiceTransition, error)
}

// LedgerFilter narrows Service.Ledger; a zero field is any.
type LedgerFilter struct {
	// Scheme and Municipality are the certificate's.
	Scheme       certificate.Scheme
	Municipality string
	Certificate  uuid.UUID
	Contract     uuid.UUID
	// Provider is the provider of the posting's contract: a posting about
	// no contract (a grant, a depletion) has none.
	Provider uuid.UUID
	// From and To bound the postings' time: From ≤ At < To.
	From, To time.Time
	// After is the last id of the previous page (LedgerPage.Next).
	After uuid.UUID
	// Limit is the page's size, 1 to MaxListLimit; 0 is DefaultListLimit.
	Limit int
}

// LedgerPage is a page of the audit trail, newest first.
type LedgerPage struct {
	Postings []PostingRecord
	// Next is the After of the next page; uuid.Nil on the last.
	Next uuid.UUID
	// Decision is the eligibility decision of the certificate the filter
	// names, on the first page; nil otherwise, and for a certificate
	// issued before decisions were kept.
	Decision *EligibilityDecision
}

// Ledger reads the audit trail of the ledger within the caller's reach:
// the auditor and the system every posting; the regional operator the
// children's scheme's, the federal operator the adults'; a municipal
// authority the postings of the children's certificates it funds; a
// provider those about its own contracts; a holder those of one
// certificate they act for (Certificate is then required; another's is
// not found). A filter outside the caller's reach gives an empty page.
func (s *Service) Ledger(ctx context.Context, by Caller, f LedgerFilter) (LedgerPage, error) {
	if err := by.Validate(); err != nil {
		return LedgerPage{}, err
	}
	var err error
	if f.Limit, err = listLimit(f.Limit); err != nil {
		return LedgerPage{}, err
	}
	if f.Scheme != "" && !knownScheme(f.Scheme) {
		return LedgerPage{}, &funding.ValidationError{Field: "scheme", Rule: "is not a scheme", Value: string(f.Scheme)}
	}
	if !f.From.IsZero() && !f.To.IsZero() && !f.From.Before(f.To) {
		return LedgerPage{}, &funding.ValidationError{Field: "to", Rule: "must be after from", Value: f.To.Format(time.RFC3339)}
	}
	var r reach
	r.tenant(by, &f.Municipality, &f.Scheme)
	switch by.Role {
	case RoleSystem, RoleAuditor, RoleRegional, RoleFederal, RoleMunicipality:
	case RoleProvider:
		r.toID(&f.Provider, by.providerID())
	case RoleHolder:
		if f.Certificate == uuid.Nil {
			return LedgerPage{}, &funding.ValidationError{Field: "certificate_id", Rule: "is required: a holder reads the ledger of one certificate"}
		}
	default:
		return LedgerPage{}, forbidden("role %s may not read the ledger", by.Role)
	}
	var page LedgerPage
	if f.Certificate != uuid.Nil {
		err := s.inTx(ctx, func(ctx context.Context, tx Tx) error {
			page.Decision = nil
			c, err := tx.Certificate(ctx, f.Certificate)
			if errors.Is(err, ErrNotFound) && by.Role != RoleHolder {
				return nil // its postings, none, are the page: nothing tells it apart from one out of reach
			}
			if err != nil {
				return notFound(err, "certificate_id", f.Certificate)
			}
			if by.Role == RoleHolder {
				if err := s.mayRead(ctx, tx, by, c); err != nil {
					return err
				}
			}
			if f.After != uuid.Nil || !inLedgerReach(by, c) {
				return nil
			}
			d, err := tx.Decision(ctx, c.ID)
			if err == nil {
				page.Decision = &d
			} else if !errors.Is(err, ErrNotFound) {
				return err
			}
			return nil
		})
		if err != nil {
			return LedgerPage{}, err
		}
	}
	if r.out {
		return LedgerPage{}, nil
	}
	page.Postings, page.Next, err = fetch(f.Limit, func(limit int) ([]PostingRecord, error) {
		f.Limit = limit
		return s.store.Ledger(ctx, f)
	}, func(p PostingRecord) uuid.UUID { return p.ID })
	return page, err
}

// inLedgerReach reports whether by may read certificate c's own
// records (its decision): as Ledger narrows the postings, a provider
// none (it sees the postings of its contracts, not the holder's data).
func inLedgerReach(by Caller, c certificate.Certificate) bool {
	switch by.Role {
	case RoleSystem, RoleAuditor, RoleHolder:
		return true
	case RoleRegional:
		return c.Scheme == certificate.Supplementary
	case RoleFederal:
		return c.Scheme == certificate.DigitalSkills
	case RoleMunicipality:
		return c.Scheme == certificate.Supplementary && c.Municipality == by.ID
	}
	return false
}
