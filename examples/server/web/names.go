package web

import (
	"github.com/edufund/edufund/catalog"
	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/examples/server/demo"
)

// The Russian names of the service's codes: statuses, kinds, categories,
// directions, registries, schemes, municipalities. Each is named here
// once, so that one certificate or one contract reads the same on every
// page, whoever reads it.

// nameOr is k's name in names, other for a code without one.
func nameOr[K comparable](names map[K]string, k K, other string) string {
	if n, ok := names[k]; ok {
		return n
	}
	return other
}

// nameIn is k's name in names; the code itself for one the pages do not
// know yet (a region's own category, a status added to the lifecycle).
func nameIn[K ~string](names map[K]string, k K) string { return nameOr(names, k, string(k)) }

// certificateStatusNames are the certificate statuses as a holder and an
// official read them.
var certificateStatusNames = map[certificate.Status]string{
	certificate.Issued:    "выдан",
	certificate.Active:    "активен",
	certificate.Suspended: "приостановлен",
	certificate.Cancelled: "аннулирован",
	certificate.Expired:   "срок действия истёк",
}

// ruCertificateStatus is a certificate's status in Russian; a status the
// pages do not know is said to be unknown rather than shown as a code.
func ruCertificateStatus(s certificate.Status) string {
	return nameOr(certificateStatusNames, s, "статус неизвестен")
}

// kindNames are the kinds of a child's certificate.
var kindNames = map[certificate.Kind]string{
	certificate.Funded:     "сертификат персонифицированного финансирования",
	certificate.Accounting: "учётный сертификат",
}

// ruKind is what kind of certificate c is: an adult's, or a child's funded
// or accounting one.
func ruKind(c certificate.Certificate) string {
	if c.Scheme == certificate.DigitalSkills {
		return "сертификат для взрослых"
	}
	return nameOr(kindNames, c.Kind, "сертификат")
}

// categoryNames are the demo's categories of children's certificates; a
// region's own codes show as themselves.
var categoryNames = map[string]string{
	demo.CategoryCity:  "городская",
	demo.CategoryRural: "сельская",
}

func ruCategory(code string) string { return nameIn(categoryNames, code) }

// contractStatusNames are the contract statuses in Russian.
var contractStatusNames = map[enrollment.Status]string{
	enrollment.Requested:   "заявка подана",
	enrollment.Accepted:    "оферта направлена",
	enrollment.Active:      "договор действует",
	enrollment.Terminating: "договор расторгнут",
	enrollment.Closed:      "договор завершён",
	enrollment.Refused:     "в зачислении отказано",
	enrollment.Withdrawn:   "заявка отозвана",
}

func ruContractStatus(s enrollment.Status) string { return nameIn(contractStatusNames, s) }

// invoiceKinds are the invoices' kinds with their Russian names, in the
// order the pages list them.
var invoiceKinds = []struct {
	Kind enrollment.InvoiceKind
	Name string
}{
	{enrollment.AdvanceInvoice, "аванс"},
	{enrollment.FinalInvoice, "окончательный"},
	{enrollment.RefundInvoice, "возврат"},
}

// invoiceKindOrder is k's place in invoiceKinds; -1 for a kind the pages
// do not know yet.
func invoiceKindOrder(k enrollment.InvoiceKind) int {
	for i, x := range invoiceKinds {
		if x.Kind == k {
			return i
		}
	}
	return -1
}

func ruInvoiceKind(k enrollment.InvoiceKind) string {
	if i := invoiceKindOrder(k); i >= 0 {
		return invoiceKinds[i].Name
	}
	return string(k)
}

// schemeNames are the certificate schemes as an invoice names them.
var schemeNames = map[certificate.Scheme]string{
	certificate.Supplementary: "дополнительное образование детей",
	certificate.DigitalSkills: "цифровые навыки взрослых",
}

func ruScheme(s certificate.Scheme) string { return nameIn(schemeNames, s) }

// directionNames are the seven directions as the federal order names
// them (Минпросвещения № 629 of 2022: "социально-гуманитарная" for what
// was "социально-педагогическая").
var directionNames = map[catalog.Direction]string{
	catalog.TechnicalRobotics: "Техническая: робототехника",
	catalog.TechnicalOther:    "Техническая",
	catalog.NaturalScience:    "Естественнонаучная",
	catalog.Sport:             "Физкультурно-спортивная",
	catalog.Arts:              "Художественная",
	catalog.Tourism:           "Туристско-краеведческая",
	catalog.SocialPedagogical: "Социально-гуманитарная",
}

// registryNames are the registries as a navigator names them to parents.
var registryNames = map[catalog.Registry]string{
	catalog.Certified:       "Сертифицированные: за счёт сертификата",
	catalog.Significant:     "Социально значимые: бесплатно",
	catalog.PreProfessional: "Предпрофессиональные: бесплатно",
	catalog.General:         "Общеразвивающие: бесплатно",
	catalog.Paid:            "Платные",
}

// ruDirection is a direction's Russian name; "" for none (an adult
// course).
func ruDirection(d catalog.Direction) string { return nameIn(directionNames, d) }

func ruRegistry(r catalog.Registry) string { return nameIn(registryNames, r) }

// municipalityName is a municipality's name by its code
// (Config.Municipalities): the code itself when it has none, "—" for no
// municipality (an invoice of the adult scheme).
func (h *handler) municipalityName(code string) string {
	if code == "" {
		return "—"
	}
	if n := h.cfg.Municipalities[code]; n != "" {
		return n
	}
	return code
}

// municipalityChoices are the participating municipalities as a select's
// options, in the navigator's order, selected marked.
func (h *handler) municipalityChoices(selected string) []option {
	out := make([]option, 0, len(h.municipalities))
	for _, m := range h.municipalities {
		out = append(out, option{Value: m, Label: h.municipalityName(m), Selected: m == selected})
	}
	return out
}
