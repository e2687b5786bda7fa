package export

import (
	"strings"

	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/funding"
)

// The reports, each with its keys and its default template. The keys'
// values come from the records InvoiceLines, Contracts, Certificates and
// Completions give; the headers are Russian, as the people who read the
// files are.

// InvoiceLinesReport is the lines of a month's invoices with what a
// municipality's accounting pays them by: the provider's INN, KPP and bank
// details. Contracts have no number of their own: a line names its
// contract by id.
var InvoiceLinesReport = Report{
	Name: "invoice-lines",
	Keys: map[string]Kind{
		"provider": Text, "provider_id": Text, "inn": Text, "kpp": Text, "bank": Text, "bic": Text, "account": Text,
		"correspondent_account": Text, "municipality": Text, "scheme": Text, "month": Text, "kind": Text,
		"contract_id": Text, "certificate_number": Text, "amount": Money,
	},
	Default: Template{Report: "invoice-lines", Version: "1", Sheet: "Строки счетов", Fields: []Field{
		{"provider", "Поставщик", Text},
		{"inn", "ИНН", Text},
		{"kpp", "КПП", Text},
		{"bank", "Банк", Text},
		{"bic", "БИК", Text},
		{"account", "Расчётный счёт", Text},
		{"correspondent_account", "Корреспондентский счёт", Text},
		{"municipality", "Муниципалитет", Text},
		{"scheme", "Вид сертификата", Text},
		{"month", "Месяц", Text},
		{"kind", "Вид счёта", Text},
		{"contract_id", "Договор (идентификатор)", Text},
		{"certificate_number", "Номер сертификата", Text},
		{"amount", "Сумма, руб.", Money},
	}},
}

// ContractsReport is the register of contracts (applications included).
var ContractsReport = Report{
	Name: "contracts",
	Keys: map[string]Kind{
		"contract_id": Text, "certificate_number": Text, "municipality": Text, "scheme": Text, "provider": Text,
		"provider_inn": Text, "program": Text, "status": Text, "offered_on": Date, "activated_on": Date,
		"start": Date, "end": Date, "closed_on": Date, "total": Money, "certificate_part": Money, "co_payment": Money,
		"reason": Text,
	},
	Default: Template{Report: "contracts", Version: "1", Sheet: "Реестр договоров", Fields: []Field{
		{"contract_id", "Договор (идентификатор)", Text},
		{"certificate_number", "Номер сертификата", Text},
		{"municipality", "Муниципалитет", Text},
		{"provider", "Поставщик", Text},
		{"provider_inn", "ИНН поставщика", Text},
		{"program", "Программа", Text},
		{"status", "Статус", Text},
		{"activated_on", "Дата заключения", Date},
		{"start", "Начало обучения", Date},
		{"end", "Окончание обучения", Date},
		{"closed_on", "Дата закрытия", Date},
		{"total", "Стоимость, руб.", Money},
		{"certificate_part", "За счёт сертификата, руб.", Money},
		{"co_payment", "Доплата, руб.", Money},
	}},
}

// CertificatesReport is the register of certificates.
var CertificatesReport = Report{
	Name: "certificates",
	Keys: map[string]Kind{
		"number": Text, "scheme": Text, "full_name": Text, "birth_date": Date, "snils": Text, "municipality": Text,
		"category": Text, "kind": Text, "status": Text, "issued_on": Date, "valid_until": Date,
	},
	Default: Template{Report: "certificates", Version: "1", Sheet: "Реестр сертификатов", Fields: []Field{
		{"number", "Номер сертификата", Text},
		{"full_name", "ФИО", Text},
		{"birth_date", "Дата рождения", Date},
		{"municipality", "Муниципалитет", Text},
		{"category", "Категория", Text},
		{"kind", "Вид сертификата", Text},
		{"status", "Статус", Text},
		{"issued_on", "Дата выдачи", Date},
		{"valid_until", "Действует до", Date},
	}},
}

// CompletionsReport is the completions of adult courses for the registry
// of education documents (ФИС ФРДО). Its default template, version 001,
// has the field set of the registry's upload of further professional
// education (seed 001): the learner's name in three columns, date of
// birth and SNILS, the program with its hours, the dates of study, the
// document's number and date. The registry's template is said to change
// by version: a region follows it with ParseTemplate.
var CompletionsReport = Report{
	Name: "completions",
	Keys: map[string]Kind{
		"surname": Text, "first_name": Text, "patronymic": Text, "full_name": Text, "birth_date": Date, "sex": Text,
		"citizenship": Text, "snils": Text, "certificate_number": Text, "program": Text, "hours": Number,
		"start": Date, "end": Date, "completed_on": Date, "document_number": Text, "document_date": Date,
		"provider": Text, "provider_inn": Text,
	},
	Default: Template{Report: "completions", Version: "001", Sheet: "Документы об обучении", Fields: []Field{
		{"surname", "Фамилия", Text},
		{"first_name", "Имя", Text},
		{"patronymic", "Отчество", Text},
		{"birth_date", "Дата рождения", Date},
		{"snils", "СНИЛС", Text},
		{"program", "Наименование программы", Text},
		{"hours", "Объём, ч", Number},
		{"start", "Дата начала обучения", Date},
		{"end", "Дата окончания обучения", Date},
		{"document_number", "Номер документа", Text},
		{"document_date", "Дата выдачи документа", Date},
	}},
}

// Reports lists the reports, for ParseTemplate.
var Reports = []Report{InvoiceLinesReport, ContractsReport, CertificatesReport, CompletionsReport}

// Russian names of the codes the records hold.
var (
	schemeNames = map[certificate.Scheme]string{
		certificate.Supplementary: "дополнительное образование детей",
		certificate.DigitalSkills: "цифровые навыки взрослых",
	}
	invoiceKindNames = map[enrollment.InvoiceKind]string{
		enrollment.AdvanceInvoice: "аванс",
		enrollment.FinalInvoice:   "окончательный",
		enrollment.RefundInvoice:  "возврат",
	}
	certificateStatusNames = map[certificate.Status]string{
		certificate.Issued:    "выдан",
		certificate.Active:    "активен",
		certificate.Suspended: "приостановлен",
		certificate.Cancelled: "аннулирован",
		certificate.Expired:   "срок действия истёк",
	}
	contractStatusNames = map[enrollment.Status]string{
		enrollment.Requested:   "заявка подана",
		enrollment.Accepted:    "оферта направлена",
		enrollment.Active:      "договор действует",
		enrollment.Terminating: "договор расторгнут",
		enrollment.Closed:      "договор завершён",
		enrollment.Refused:     "в зачислении отказано",
		enrollment.Withdrawn:   "заявка отозвана",
	}
	sexNames = map[certificate.Sex]string{certificate.Male: "мужской", certificate.Female: "женский"}
)

// nameIn is k's Russian name, or the code itself for one not named here
// (a status added later, a region's own code).
func nameIn[K ~string](names map[K]string, k K) string {
	if n, ok := names[k]; ok {
		return n
	}
	return string(k)
}

// kindName is what kind of certificate c is.
func kindName(c *certificate.Certificate) string {
	switch {
	case c.Scheme == certificate.DigitalSkills:
		return "сертификат для взрослых"
	case c.Kind == certificate.Funded:
		return "сертификат персонифицированного финансирования"
	case c.Kind == certificate.Accounting:
		return "учётный сертификат"
	}
	return string(c.Kind)
}

// snils is a person id written as a SNILS (112-233-445 95) when it is
// one (11 digits, certificate.ParsePersonID's canonical form), "" when it
// is a region's own identifier.
func snils(personID string) string {
	if len(personID) != 11 || strings.Trim(personID, "0123456789") != "" {
		return ""
	}
	p := personID
	return p[0:3] + "-" + p[3:6] + "-" + p[6:9] + " " + p[9:11]
}

// splitName splits a full name written surname first: the surname, the
// first name and the rest as the patronymic ("Мамедов Рашид Али оглы":
// "Али оглы"); a one-word name is a surname.
func splitName(full string) (surname, first, patronymic string) {
	parts := strings.Fields(full)
	switch len(parts) {
	case 0:
		return "", "", ""
	case 1:
		return parts[0], "", ""
	case 2:
		return parts[0], parts[1], ""
	}
	return parts[0], parts[1], strings.Join(parts[2:], " ")
}

// month is a billed month as accountants write it: 03.2026.
func month(m funding.Month) string {
	if m.IsZero() {
		return ""
	}
	return m.First().Time().Format("01.2006")
}
