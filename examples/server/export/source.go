package export

import (
	"context"
	"iter"

	"github.com/google/uuid"

	"github.com/edufund/edufund/catalog"
	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/enrollment"
)

// The sources: each ranges over a report's records, reading the service
// a page of at most enrollment.MaxListLimit rows at a time (the filter's
// Limit, 0 the maximum), so that a register of any size streams in the
// memory of one page. Each page is read as the caller: the service
// decides what the caller may see, the source only asks again after the
// page's last row. *enrollment.Service is each of the listers.

// InvoiceLineLister reads pages of invoice lines (enrollment.Service.InvoiceLines).
type InvoiceLineLister interface {
	InvoiceLines(ctx context.Context, by enrollment.Caller, f enrollment.InvoiceLineFilter) (enrollment.InvoiceLinePage, error)
}

// ContractLister reads pages of the register of contracts (enrollment.Service.ContractRegister).
type ContractLister interface {
	ContractRegister(ctx context.Context, by enrollment.Caller, f enrollment.ContractFilter) (enrollment.ContractRegisterPage, error)
}

// CertificateLister reads pages of certificates (enrollment.Service.Certificates).
type CertificateLister interface {
	Certificates(ctx context.Context, by enrollment.Caller, f enrollment.CertificateFilter) (enrollment.CertificatePage, error)
}

// CompletionLister reads pages of completions (enrollment.Service.Completions).
type CompletionLister interface {
	Completions(ctx context.Context, by enrollment.Caller, f enrollment.CompletionFilter) (enrollment.CompletionPage, error)
}

func pageSize(n int) int {
	if n <= 0 {
		return enrollment.MaxListLimit
	}
	return n
}

// InvoiceLines ranges over the invoice lines f matches (InvoiceLinesReport).
func InvoiceLines(ctx context.Context, l InvoiceLineLister, by enrollment.Caller, f enrollment.InvoiceLineFilter) iter.Seq2[Record, error] {
	f.Limit = pageSize(f.Limit)
	return func(yield func(Record, error) bool) {
		for {
			page, err := l.InvoiceLines(ctx, by, f)
			if err != nil {
				yield(nil, err)
				return
			}
			for i := range page.Lines {
				line := &page.Lines[i]
				if !yield(invoiceLineRecord{line, page.Providers[line.ProviderID]}, nil) {
					return
				}
			}
			if page.Next.IsZero() {
				return
			}
			f.After = page.Next
		}
	}
}

// Contracts ranges over the register of contracts f matches, newest
// first (ContractsReport).
func Contracts(ctx context.Context, l ContractLister, by enrollment.Caller, f enrollment.ContractFilter) iter.Seq2[Record, error] {
	f.Limit = pageSize(f.Limit)
	return func(yield func(Record, error) bool) {
		for {
			page, err := l.ContractRegister(ctx, by, f)
			if err != nil {
				yield(nil, err)
				return
			}
			for i := range page.Rows {
				if !yield(contractRecord{&page.Rows[i]}, nil) {
					return
				}
			}
			if page.Next == uuid.Nil {
				return
			}
			f.After = page.Next
		}
	}
}

// Certificates ranges over the register of certificates f matches,
// newest first (CertificatesReport).
func Certificates(ctx context.Context, l CertificateLister, by enrollment.Caller, f enrollment.CertificateFilter) iter.Seq2[Record, error] {
	f.Limit = pageSize(f.Limit)
	return func(yield func(Record, error) bool) {
		for {
			page, err := l.Certificates(ctx, by, f)
			if err != nil {
				yield(nil, err)
				return
			}
			for i := range page.Certificates {
				if !yield(certificateRecord{&page.Certificates[i]}, nil) {
					return
				}
			}
			if page.Next == uuid.Nil {
				return
			}
			f.After = page.Next
		}
	}
}

// Completions ranges over the completions of adult courses f matches, by
// day (CompletionsReport).
func Completions(ctx context.Context, l CompletionLister, by enrollment.Caller, f enrollment.CompletionFilter) iter.Seq2[Record, error] {
	f.Limit = pageSize(f.Limit)
	return func(yield func(Record, error) bool) {
		for {
			page, err := l.Completions(ctx, by, f)
			if err != nil {
				yield(nil, err)
				return
			}
			for i := range page.Completions {
				if !yield(completionRecord{&page.Completions[i]}, nil) {
					return
				}
			}
			if page.Next.IsZero() {
				return
			}
			f.After = page.Next
		}
	}
}

type invoiceLineRecord struct {
	l *enrollment.InvoiceLineRecord
	p catalog.Provider
}

func (r invoiceLineRecord) Value(key string) any {
	l, p := r.l, &r.p
	switch key {
	case "provider":
		return p.Name
	case "provider_id":
		return l.ProviderID.String()
	case "inn":
		return p.INN
	case "kpp":
		return p.KPP
	case "bank":
		return p.Bank.Name
	case "bic":
		return p.Bank.BIC
	case "account":
		return p.Bank.Account
	case "correspondent_account":
		return p.Bank.CorrespondentAccount
	case "municipality":
		return l.Municipality
	case "scheme":
		return nameIn(schemeNames, l.Scheme)
	case "month":
		return month(l.Month)
	case "kind":
		return nameIn(invoiceKindNames, l.Kind)
	case "contract_id":
		return l.ContractID.String()
	case "certificate_number":
		return string(l.CertificateNumber)
	case "amount":
		return l.Amount
	}
	return nil
}

type contractRecord struct {
	k *enrollment.ContractRegisterRow
}

func (r contractRecord) Value(key string) any {
	k := r.k
	switch key {
	case "contract_id":
		return k.ID.String()
	case "certificate_number":
		return string(k.CertificateNumber)
	case "municipality":
		return k.Municipality
	case "scheme":
		return nameIn(schemeNames, k.Scheme)
	case "provider":
		return k.ProviderName
	case "provider_inn":
		return k.ProviderINN
	case "program":
		return k.ProgramName
	case "status":
		return nameIn(contractStatusNames, k.Status)
	case "offered_on":
		return k.OfferedOn
	case "activated_on":
		return k.ActivatedOn
	case "start":
		return k.Start
	case "end":
		return k.End
	case "closed_on":
		return k.ClosedOn
	case "total":
		return k.Price.Total
	case "certificate_part":
		return k.Price.Cert
	case "co_payment":
		return k.Price.CoPay
	case "reason":
		return k.Reason
	}
	return nil
}

type certificateRecord struct{ c *certificate.Certificate }

func (r certificateRecord) Value(key string) any {
	c := r.c
	switch key {
	case "number":
		return string(c.Number)
	case "scheme":
		return nameIn(schemeNames, c.Scheme)
	case "full_name":
		return c.Holder.FullName
	case "birth_date":
		return c.Holder.BirthDate
	case "snils":
		return snils(c.Holder.PersonID)
	case "municipality":
		return c.Municipality
	case "category":
		return c.Category
	case "kind":
		return kindName(c)
	case "status":
		return nameIn(certificateStatusNames, c.Status)
	case "issued_on":
		return c.IssuedOn
	case "valid_until":
		return c.ValidUntil
	}
	return nil
}

type completionRecord struct{ c *enrollment.CompletionRecord }

func (r completionRecord) Value(key string) any {
	c := r.c
	switch key {
	case "surname":
		s, _, _ := splitName(c.Holder.FullName)
		return s
	case "first_name":
		_, f, _ := splitName(c.Holder.FullName)
		return f
	case "patronymic":
		_, _, p := splitName(c.Holder.FullName)
		return p
	case "full_name":
		return c.Holder.FullName
	case "birth_date":
		return c.Holder.BirthDate
	case "sex":
		return nameIn(sexNames, c.Holder.Sex)
	case "citizenship":
		return c.Holder.Citizenship
	case "snils":
		return snils(c.Holder.PersonID)
	case "certificate_number":
		return string(c.CertificateNumber)
	case "program":
		return c.Program
	case "hours":
		return c.AcademicHours
	case "start":
		return c.Start
	case "end":
		return c.End
	case "completed_on":
		return c.On
	case "document_number":
		return c.Document.Number
	case "document_date":
		return c.Document.Date
	case "provider":
		return c.ProviderName
	case "provider_inn":
		return c.ProviderINN
	}
	return nil
}
