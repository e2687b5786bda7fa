package schema

import (
	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/funding"
)

// Completion is a completions row: an adult course's completion and the
// document the learner was given (migration 00022).
type Completion struct {
	bun.BaseModel `bun:"table:completions"`

	ContractID     uuid.UUID `bun:"contract_id,pk"`
	ProviderID     uuid.UUID `bun:"provider_id"`
	CompletedOn    Date      `bun:"completed_on,notnull"`
	DocumentNumber string    `bun:"document_number"`
	DocumentDate   Date      `bun:"document_date"`
}

// FromCompletion is c as a row.
func FromCompletion(c enrollment.Completion) *Completion {
	return &Completion{ContractID: c.ContractID, ProviderID: c.ProviderID, CompletedOn: Date(c.On),
		DocumentNumber: c.Document.Number, DocumentDate: Date(c.Document.Date)}
}

// CompletionRecord is a completion joined with its contract, certificate,
// program and provider: a row of the registry of education documents'
// export.
type CompletionRecord struct {
	Completion
	CertificateID uuid.UUID `bun:"certificate_id"`
	ProgramID     uuid.UUID `bun:"program_id"`
	Start         Date      `bun:"start_on"`
	End           Date      `bun:"end_on"`
	Number        string    `bun:"number"`
	PersonID      string    `bun:"person_id"`
	FullName      string    `bun:"full_name"`
	BirthDate     Date      `bun:"birth_date"`
	Sex           string    `bun:"sex"`
	Citizenship   string    `bun:"citizenship"`
	Program       string    `bun:"program_name"`
	AcademicHours int       `bun:"academic_hours"`
	ProviderName  string    `bun:"provider_name"`
	ProviderINN   string    `bun:"provider_inn"`
}

// Domain is the record the row holds.
func (r *CompletionRecord) Domain() enrollment.CompletionRecord {
	return enrollment.CompletionRecord{
		Completion: enrollment.Completion{ContractID: r.ContractID, ProviderID: r.ProviderID, On: funding.Date(r.CompletedOn),
			Document: enrollment.CompletionDocument{Number: r.DocumentNumber, Date: funding.Date(r.DocumentDate)}},
		CertificateNumber: certificate.Number(r.Number),
		Holder: certificate.Holder{PersonID: r.PersonID, FullName: r.FullName, BirthDate: funding.Date(r.BirthDate),
			Sex: certificate.Sex(r.Sex), Citizenship: r.Citizenship},
		Program: r.Program, AcademicHours: r.AcademicHours,
		Start: funding.Date(r.Start), End: funding.Date(r.End),
		ProviderName: r.ProviderName, ProviderINN: r.ProviderINN,
	}
}

// InvoiceLineRecord is an invoice line with its certificate's number.
type InvoiceLineRecord struct {
	InvoiceLine
	Number string `bun:"number"`
}

// Domain is the record the row holds.
func (r *InvoiceLineRecord) Domain() enrollment.InvoiceLineRecord {
	l := &r.InvoiceLine
	return enrollment.InvoiceLineRecord{
		InvoiceLine: enrollment.InvoiceLine{ContractID: l.ContractID, Scheme: certificate.Scheme(l.Scheme), Municipality: l.Municipality,
			ProviderID: l.ProviderID, Month: funding.Month(l.Month), Kind: enrollment.InvoiceKind(l.Kind), Amount: funding.Kopecks(l.Amount)},
		CertificateNumber: certificate.Number(r.Number),
	}
}
