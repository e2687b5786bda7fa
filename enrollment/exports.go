package enrollment

import (
	"context"

	"github.com/google/uuid"

	"github.com/edufund/edufund/catalog"
	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/funding"
)

// What the exports read (package examples/server/export writes them): the lines
// of the providers' invoices with the certificate each is for, the
// registers of contracts and certificates, and the completions of adult
// courses with the document each learner was given. Each is read a page at
// a time, within the caller's reach, so that a region's whole register
// streams in bounded memory.

// CompletionDocument is the document a provider gave an adult learner on
// completing a course (for the registry of education documents); the zero
// value is none recorded.
type CompletionDocument struct {
	Number string
	Date   funding.Date
}

// IsZero reports whether no document is recorded; it keeps a request
// without one hashing as before the document was added (omitzero).
func (d CompletionDocument) IsZero() bool { return d == CompletionDocument{} }

// MaxDocumentNumberLen bounds a completion document's number, in
// characters (a series and a number: "ПК 0012345").
const MaxDocumentNumberLen = 100

// Completion is an adult course's completion as Complete recorded it.
type Completion struct {
	ContractID uuid.UUID
	ProviderID uuid.UUID
	On         funding.Date // the day the provider reported it
	Document   CompletionDocument
}

// CompletionTx records the completions of adult courses; RecordCompletion
// returns ErrExists for a contract completed already.
type CompletionTx interface {
	RecordCompletion(ctx context.Context, c Completion) error
}

// InvoiceLineKey is where a page of invoice lines ends: lines are read by
// provider, contract and kind. The zero key starts from the first.
type InvoiceLineKey struct {
	Provider uuid.UUID
	Contract uuid.UUID
	Kind     InvoiceKind
}

// IsZero reports whether k is the start.
func (k InvoiceLineKey) IsZero() bool { return k == InvoiceLineKey{} }

// InvoiceLineFilter narrows Service.InvoiceLines; a zero field is any but
// the month, which is required.
type InvoiceLineFilter struct {
	Month        funding.Month
	Provider     uuid.UUID
	Municipality string
	Scheme       certificate.Scheme
	After        InvoiceLineKey
	// Limit is the page's size, 1 to MaxListLimit; 0 is DefaultListLimit.
	Limit int
}

// InvoiceLineRecord is an invoice line with the number of its contract's
// certificate.
type InvoiceLineRecord struct {
	InvoiceLine
	CertificateNumber certificate.Number
}

// Key is where the line stands in the order pages are read in.
func (l InvoiceLineRecord) Key() InvoiceLineKey {
	return InvoiceLineKey{Provider: l.ProviderID, Contract: l.ContractID, Kind: l.Kind}
}

// InvoiceLinePage is a page of invoice lines by provider, contract and
// kind, with the providers they are for (their accounting details).
type InvoiceLinePage struct {
	Lines     []InvoiceLineRecord
	Providers map[uuid.UUID]catalog.Provider
	// Next is the After of the next page; zero on the last.
	Next InvoiceLineKey
}

// CompletionKey is where a page of completions ends: completions are
// read by date, then contract. The zero key starts from the first.
type CompletionKey struct {
	On       funding.Date
	Contract uuid.UUID
}

// IsZero reports whether k is the start.
func (k CompletionKey) IsZero() bool { return k == CompletionKey{} }

// CompletionFilter narrows Service.Completions; a zero field is any.
type CompletionFilter struct {
	From, To funding.Date // the days completed, inclusive
	Provider uuid.UUID
	After    CompletionKey
	Limit    int
}

// CompletionRecord is a completion with what the registry of education
// documents asks of it: the learner, the program and the dates of study.
type CompletionRecord struct {
	Completion
	CertificateNumber certificate.Number
	Holder            certificate.Holder
	Program           string
	AcademicHours     int
	Start, End        funding.Date // the contract's
	ProviderName      string
	ProviderINN       string
}

// Key is where the completion stands in the order pages are read in.
func (c CompletionRecord) Key() CompletionKey {
	return CompletionKey{On: c.On, Contract: c.ContractID}
}

// CompletionPage is a page of completions by date, then contract.
type CompletionPage struct {
	Completions []CompletionRecord
	Next        CompletionKey
}

// ContractRegisterRow is a contract with the names a register shows
// beside its ids.
type ContractRegisterRow struct {
	Contract
	CertificateNumber certificate.Number
	ProviderName      string
	ProviderINN       string
	ProgramName       string
}

// ContractRegisterPage is a page of Service.ContractRegister, newest first.
type ContractRegisterPage struct {
	Rows []ContractRegisterRow
	Next uuid.UUID
}
