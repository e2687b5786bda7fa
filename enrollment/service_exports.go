package enrollment

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"

	"github.com/edufund/edufund/catalog"
	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/funding"
)

// InvoiceLines reads a page of a month's invoice lines the caller may see,
// as Invoices draws it: a provider its own (another provider's is not
// found), a municipal authority those of the children's scheme it pays,
// the regional operator the children's scheme's, the federal operator the
// adults', the auditor all. A filter outside the caller's reach gives an
// empty page. The page carries the providers of its lines, for their
// accounting details.
func (s *Service) InvoiceLines(ctx context.Context, by Caller, f InvoiceLineFilter) (InvoiceLinePage, error) {
	if err := roleMay(by, "read invoice lines", RoleProvider, RoleMunicipality, RoleRegional, RoleFederal, RoleAuditor); err != nil {
		return InvoiceLinePage{}, err
	}
	if f.Month.IsZero() {
		return InvoiceLinePage{}, &funding.ValidationError{Field: "month", Rule: "is required"}
	}
	var err error
	if f.Limit, err = listLimit(f.Limit); err != nil {
		return InvoiceLinePage{}, err
	}
	if f.Scheme != "" && !knownScheme(f.Scheme) {
		return InvoiceLinePage{}, &funding.ValidationError{Field: "scheme", Rule: "is not a scheme", Value: string(f.Scheme)}
	}
	if by.Role == RoleProvider {
		if own := by.providerID(); f.Provider != uuid.Nil && f.Provider != own {
			return InvoiceLinePage{}, notFound(ErrNotFound, "provider_id", f.Provider)
		}
		f.Provider = by.providerID()
	}
	var r reach
	r.tenant(by, &f.Municipality, &f.Scheme)
	if r.out {
		return InvoiceLinePage{}, nil
	}
	var page InvoiceLinePage
	if page.Lines, page.Next, err = fetch(f.Limit, func(limit int) ([]InvoiceLineRecord, error) {
		f.Limit = limit
		return s.store.InvoiceLines(ctx, f)
	}, InvoiceLineRecord.Key); err != nil {
		return InvoiceLinePage{}, err
	}
	page.Providers = make(map[uuid.UUID]catalog.Provider)
	err = s.inTx(ctx, func(ctx context.Context, tx Tx) error {
		clear(page.Providers)
		for _, l := range page.Lines {
			if _, ok := page.Providers[l.ProviderID]; ok {
				continue
			}
			p, err := tx.Provider(ctx, l.ProviderID)
			if err != nil {
				return err
			}
			page.Providers[l.ProviderID] = p
		}
		return nil
	})
	if err != nil {
		return InvoiceLinePage{}, err
	}
	return page, nil
}

// Completions reads a page of the completions of adult courses the caller
// may see: a provider its own (another provider's is not found), the
// federal operator and the auditor all. From and To bound the days the
// courses were completed on, both inclusive.
func (s *Service) Completions(ctx context.Context, by Caller, f CompletionFilter) (CompletionPage, error) {
	if err := roleMay(by, "read course completions", RoleProvider, RoleFederal, RoleAuditor); err != nil {
		return CompletionPage{}, err
	}
	var err error
	if f.Limit, err = listLimit(f.Limit); err != nil {
		return CompletionPage{}, err
	}
	if !f.From.IsZero() && !f.To.IsZero() && f.To.Before(f.From) {
		return CompletionPage{}, &funding.ValidationError{Field: "to", Rule: "must not be before from", Value: f.To.String()}
	}
	if by.Role == RoleProvider {
		if own := by.providerID(); f.Provider != uuid.Nil && f.Provider != own {
			return CompletionPage{}, notFound(ErrNotFound, "provider_id", f.Provider)
		}
		f.Provider = by.providerID()
	}
	var page CompletionPage
	page.Completions, page.Next, err = fetch(f.Limit, func(limit int) ([]CompletionRecord, error) {
		f.Limit = limit
		return s.store.Completions(ctx, f)
	}, CompletionRecord.Key)
	return page, err
}

// ContractRegister reads a page of Contracts (the same reach and filter)
// with the names a register shows: each contract's certificate number, its
// provider's name and INN and its program's name.
func (s *Service) ContractRegister(ctx context.Context, by Caller, f ContractFilter) (ContractRegisterPage, error) {
	page, err := s.Contracts(ctx, by, f)
	if err != nil {
		return ContractRegisterPage{}, err
	}
	out := ContractRegisterPage{Rows: make([]ContractRegisterRow, len(page.Contracts)), Next: page.Next}
	err = s.inTx(ctx, func(ctx context.Context, tx Tx) error {
		numbers := map[uuid.UUID]certificate.Number{}
		providers := map[uuid.UUID]catalog.Provider{}
		programs := map[uuid.UUID]string{}
		for i, k := range page.Contracts {
			row := ContractRegisterRow{Contract: k}
			n, ok := numbers[k.CertificateID]
			if !ok {
				c, err := tx.Certificate(ctx, k.CertificateID)
				if err != nil {
					return err
				}
				n, numbers[k.CertificateID] = c.Number, c.Number
			}
			p, ok := providers[k.ProviderID]
			if !ok {
				var err error
				if p, err = tx.Provider(ctx, k.ProviderID); err != nil {
					return err
				}
				providers[k.ProviderID] = p
			}
			name, ok := programs[k.ProgramID]
			if !ok {
				prog, err := tx.Program(ctx, k.ProgramID)
				if err != nil {
					return err
				}
				name, programs[k.ProgramID] = prog.Name, prog.Name
			}
			row.CertificateNumber, row.ProviderName, row.ProviderINN, row.ProgramName = n, p.Name, p.INN, name
			out.Rows[i] = row
		}
		return nil
	})
	if err != nil {
		return ContractRegisterPage{}, err
	}
	return out, nil
}

// cleanDocument checks the document of a completion reported on day on:
// none, or a number (funding.Text, at most MaxDocumentNumberLen
// characters) with its date, which is not after on.
func cleanDocument(d CompletionDocument, on funding.Date) (CompletionDocument, error) {
	var err error
	if d.Number, err = funding.Text("document_number", d.Number, MaxDocumentNumberLen); err != nil {
		return CompletionDocument{}, err
	}
	switch {
	case d.Number == "" && !d.Date.IsZero():
		return CompletionDocument{}, &funding.ValidationError{Field: "document_number", Rule: "is required with document_date"}
	case d.Number != "" && d.Date.IsZero():
		return CompletionDocument{}, &funding.ValidationError{Field: "document_date", Rule: "is required with document_number"}
	case d.Date.After(on):
		return CompletionDocument{}, &funding.ValidationError{Field: "document_date", Rule: "must not be after the day of completion", Value: d.Date.String()}
	}
	return d, nil
}

// recordCompletion records contract c's completion on day on with the
// document d (cleanDocument's), which is not dated before the course
// started (when it started by then: a date of 2025 for 2026 is a typo).
func recordCompletion(ctx context.Context, tx Tx, c Contract, on funding.Date, d CompletionDocument) error {
	if !d.Date.IsZero() && !c.Start.IsZero() && !c.Start.After(on) && d.Date.Before(c.Start) {
		return &funding.ValidationError{Field: "document_date", Rule: "must not be before the course started (" + c.Start.String() + ")", Value: d.Date.String()}
	}
	err := tx.RecordCompletion(ctx, Completion{ContractID: c.ID, ProviderID: c.ProviderID, On: on, Document: d})
	if errors.Is(err, ErrExists) {
		// Complete closes the contract under its lock, so a second
		// completion cannot get here: a broken invariant, not a refusal.
		return fmt.Errorf("contract %s: completion recorded twice: %v", c.ID, err)
	}
	return err
}
