package enrollment

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/google/uuid"

	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/funding"
)

// Who is told what. A holder (the person who acts for the certificate: a
// child's guardian recorded on it, an adult themselves) hears of every
// change of their certificate and contracts; a provider of its contracts'
// changes and its invoices; a municipality of what asks it to act or
// concerns its budget: a certificate issued (to be activated), the budget
// limit reached, an invoice to accept. The operators and the auditor read
// the feed. The texts are in Russian: they are shown to people as they
// are.

type audience uint8

const (
	toHolder audience = 1 << iota
	toProvider
	toMunicipality
)

var audiences = map[EventType]audience{
	CertificateIssued:    toHolder | toMunicipality,
	CertificateFunded:    toHolder,
	CertificateQueued:    toHolder,
	CertificatePromoted:  toHolder,
	CertificateActivated: toHolder,
	CertificateSuspended: toHolder,
	CertificateResumed:   toHolder,
	CertificateCancelled: toHolder,
	CertificateExpired:   toHolder,
	DocumentsDue:         toHolder,
	// A protection change is told to the holder's side: a second guardian
	// learns that the first one changed it.
	CertificateProtectionChanged: toHolder,
	CertificatePassphraseRotated: toHolder,
	CertificateGuardianAdded:     toHolder,
	AdultReviewRequested:         toHolder,
	AdultReviewApproved:          toHolder,

	ContractRequested:           toHolder | toProvider,
	ContractOffered:             toHolder,
	ContractProlongationOffered: toHolder,
	ContractRefused:             toHolder,
	ContractWithdrawn:           toHolder | toProvider,
	ContractActivated:           toHolder | toProvider,
	ContractAcceptedBySilence:   toHolder | toProvider,
	ContractTerminating:         toHolder | toProvider,
	ContractClosed:              toHolder | toProvider,

	InvoiceIssued:      toProvider | toMunicipality,
	InvoiceAccepted:    toProvider,
	InvoicePaid:        toProvider,
	BudgetLimitReached: toMunicipality,

	ProgramSubmitted: toProvider,
	ProgramCertified: toProvider,
	ProgramDenied:    toProvider,
	ProgramWithdrawn: toProvider,

	WaitlistJoined:  toHolder,
	WaitlistOffered: toHolder | toProvider,
	WaitlistLeft:    toHolder,
}

// wording reads, once per relay run, the names a notification's text needs.
type wording struct {
	certs    map[uuid.UUID]certificate.Certificate // the fields OutboxTx.Subjects reads
	programs map[uuid.UUID]string                  // by contract
}

// newWording reads what the notifications of es name, at once: one read
// per event made the relay cost a fifth of the reference server's CPU.
func newWording(ctx context.Context, ob OutboxTx, es []Event) (*wording, error) {
	var certs, contracts []uuid.UUID
	seen := map[uuid.UUID]bool{}
	for _, e := range es {
		if audiences[e.Type] == 0 {
			continue
		}
		if id := e.CertificateID; id != uuid.Nil && !seen[id] {
			seen[id] = true
			certs = append(certs, id)
		}
		if id := e.ContractID; id != uuid.Nil && !seen[id] {
			seen[id] = true
			contracts = append(contracts, id)
		}
	}
	w := &wording{}
	var err error
	w.certs, w.programs, err = ob.Subjects(ctx, certs, contracts)
	return w, err
}

func (w *wording) certificate(id uuid.UUID) (certificate.Certificate, error) {
	c, ok := w.certs[id]
	if !ok {
		return c, fmt.Errorf("certificate %s: %w", id, ErrNotFound)
	}
	return c, nil
}

// Holder is the person who acts for certificate c: the guardian recorded
// on a child's certificate, otherwise its holder.
func Holder(c certificate.Certificate) string {
	if c.Scheme == certificate.Supplementary && c.GuardianID != "" {
		return c.GuardianID
	}
	return c.Holder.PersonID
}

// notificationsOf words event e for each of its recipients.
func (s *Service) notificationsOf(ctx context.Context, w *wording, e Event) ([]Notification, error) {
	aud := audiences[e.Type]
	if aud == 0 {
		return nil, nil
	}
	var p map[string]any
	if len(e.Payload) > 0 {
		if err := json.Unmarshal(e.Payload, &p); err != nil {
			return nil, fmt.Errorf("event %s: payload: %w", e.ID, err)
		}
	}
	str := func(k string) string { v, _ := p[k].(string); return v }
	var number certificate.Number
	holder := ""
	if e.CertificateID != uuid.Nil {
		c, err := w.certificate(e.CertificateID)
		if err != nil {
			return nil, fmt.Errorf("event %s: %w", e.ID, err)
		}
		number, holder = c.Number, Holder(c)
	}
	program := ""
	if e.ContractID != uuid.Nil {
		program = w.programs[e.ContractID] // "" for a contract not found
	}
	cert := "Сертификат № " + string(number)
	var text string
	switch e.Type {
	case CertificateIssued:
		text = cert + " выдан."
	case CertificateFunded:
		text = cert + " переведён в статус сертификата финансирования: средства зачислены."
	case CertificateQueued:
		text = cert + " поставлен в очередь на финансирование, место в очереди: " + fmt.Sprint(p["position"]) + "."
	case CertificatePromoted:
		text = cert + ": подошла очередь, сертификату предоставлено финансирование."
	case CertificateActivated:
		text = cert + " активирован."
	case CertificateSuspended:
		text = "Действие сертификата № " + string(number) + " приостановлено."
	case CertificateResumed:
		text = "Действие сертификата № " + string(number) + " возобновлено."
	case CertificateCancelled:
		text = cert + " аннулирован."
		if e.Reason == ReasonDocumentsOverdue {
			text += " Документы об обучении не были загружены в срок."
		}
		if e.Reason == ReasonReviewRejected {
			text += " Федеральный оператор отклонил заявление. Причины: " + reviewReasonsRu(p["reasons"]) + "."
		}
	case CertificateExpired:
		text = "Срок действия сертификата № " + string(number) + " истёк."
	case DocumentsDue:
		text = "Загрузите документы об обучении по сертификату № " + string(number) + " до " + ruDate(str("due")) + "."
	case CertificateProtectionChanged:
		text = cert + ": способ подачи заявок организациями изменён — " + protectionRu(str("after")) + "."
	case CertificatePassphraseRotated:
		text = cert + ": кодовое слово для подачи заявок организациями изменено."
	case AdultReviewRequested:
		text = "Заявление на сертификат № " + string(number) + " передано на проверку федеральному оператору."
	case AdultReviewApproved:
		text = "Федеральный оператор одобрил заявление на сертификат № " + string(number) + "."
	case CertificateGuardianAdded:
		text = cert + ": по вашему согласию добавлен второй законный представитель, он видит сертификат в своём кабинете."
	case ContractRequested:
		text = "Заявка на программу «" + program + "» подана и ждёт подтверждения организации."
	case ContractOffered:
		text = "Организация подтвердила заявку на программу «" + program + "»: примите оферту, чтобы заключить договор."
	case ContractProlongationOffered:
		text = "Организация предлагает продлить обучение по программе «" + program + "»: примите или отклоните предложение; без ответа оно будет принято."
	case ContractRefused:
		text = "Организация отклонила заявку на программу «" + program + "»."
		if e.Reason != "" {
			text += " Причина: " + e.Reason
		}
	case ContractWithdrawn:
		text = "Заявка на программу «" + program + "» отозвана."
	case ContractActivated:
		text = "Договор об обучении по программе «" + program + "» заключён."
	case ContractAcceptedBySilence:
		text = "Продление обучения по программе «" + program + "» принято: ответа не было в установленный срок."
	case ContractTerminating:
		text = "Договор по программе «" + program + "» расторгнут; он закроется при ближайшем закрытии месяца."
	case ContractClosed:
		text = "Договор по программе «" + program + "» закрыт."
	case InvoiceIssued:
		text = "Выставлен " + invoiceKindRu(str("kind")) + " счёт за " + ruMonth(str("month")) + " на сумму " + ruMoney(str("amount")) + "."
	case InvoiceAccepted:
		text = "Счёт за " + ruMonth(str("month")) + " (" + invoiceKindRu(str("kind")) + ") на сумму " + ruMoney(str("amount")) + " принят к оплате."
	case InvoicePaid:
		text = "Счёт за " + ruMonth(str("month")) + " (" + invoiceKindRu(str("kind")) + ") на сумму " + ruMoney(str("amount")) + " оплачен."
	case BudgetLimitReached:
		text = "Лимит средств муниципалитета на период " + str("period") + " исчерпан: новые заявки не резервируют средства."
	case ProgramSubmitted:
		text = "Программа «" + str("name") + "» направлена на сертификацию региональному оператору."
		if p["content_changed"] == true {
			text = "Содержание сертифицированной программы «" + str("name") + "» изменено: программа направлена на повторную сертификацию и до её окончания не принимает новые заявки по сертификатам."
		}
	case ProgramCertified:
		text = "Программа «" + str("name") + "» сертифицирована и включена в реестр сертифицированных программ."
	case ProgramDenied:
		text = "В сертификации программы «" + str("name") + "» отказано. Причина: " + sentence(e.Reason) + " Исправьте программу и направьте её на сертификацию повторно."
	case WaitlistJoined:
		text = "Мест в группе нет: заявка по сертификату № " + string(number) + " поставлена в лист ожидания, место в очереди — " + positionRu(p["position"]) + "."
	case WaitlistOffered:
		text = "В группе освободилось место: заявка на программу «" + program + "» подана из листа ожидания, средства зарезервированы. Подтвердите место до " + ruDate(str("deadline")) + ", иначе заявка будет отозвана."
	case WaitlistLeft:
		text = "Заявка по сертификату № " + string(number) + " исключена из листа ожидания"
		switch e.Reason {
		case ReasonLeft:
			text += " по вашему решению."
		case ReasonOfferExpired:
			text += ": место не было подтверждено в срок, заявка отозвана."
		default:
			text += ": когда подошла очередь, заявку нельзя было подать (" + e.Reason + ")."
		}
	case ProgramWithdrawn:
		text = "Программа «" + str("name") + "» отозвана с сертификации."
		if p["was_certified"] == true {
			text = "Программа «" + str("name") + "» отозвана и исключена из реестра сертифицированных программ."
		}
	}
	var out []Notification
	add := func(r Recipient) error {
		id, err := uuid.NewV7()
		if err != nil {
			return err
		}
		out = append(out, Notification{ID: id, EventID: e.ID, Recipient: r, Type: e.Type, Text: text,
			CertificateID: e.CertificateID, ContractID: e.ContractID, At: e.At})
		return nil
	}
	if aud&toHolder != 0 && holder != "" {
		if err := add(Recipient{Role: RoleHolder, ID: holder}); err != nil {
			return nil, err
		}
	}
	if aud&toProvider != 0 && e.ProviderID != uuid.Nil {
		if err := add(Recipient{Role: RoleProvider, ID: e.ProviderID.String()}); err != nil {
			return nil, err
		}
	}
	if aud&toMunicipality != 0 && e.Municipality != "" && e.Scheme != certificate.DigitalSkills {
		if err := add(Recipient{Role: RoleMunicipality, ID: e.Municipality}); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// ReasonDocumentsOverdue is the Reason of an adult certificate cancelled
// for documents not uploaded in time.
const ReasonDocumentsOverdue = "documents_overdue"

// invoiceKindRu is an invoice's kind as an adjective of "счёт".
func invoiceKindRu(kind string) string {
	switch InvoiceKind(kind) {
	case AdvanceInvoice:
		return "авансовый"
	case RefundInvoice:
		return "возвратный"
	}
	return "окончательный"
}

// ruDate is an ISO date as 02.01.2006.
func ruDate(iso string) string {
	d, err := funding.ParseDate(iso)
	if err != nil {
		return iso
	}
	return d.Time().Format("02.01.2006")
}

var ruMonths = [...]string{"январь", "февраль", "март", "апрель", "май", "июнь", "июль", "август", "сентябрь", "октябрь", "ноябрь", "декабрь"}

// ruMonth is a month 2026-03 as "март 2026".
func ruMonth(s string) string {
	m, err := funding.ParseMonth(s)
	if err != nil {
		return s
	}
	return ruMonths[m.Month-1] + " " + fmt.Sprint(m.Year)
}

// ruMoney is an amount 1010.98 as "1 010,98 ₽".
func ruMoney(s string) string {
	m, err := funding.ParseMoney(s)
	if err != nil {
		return s
	}
	whole, frac, _ := strings.Cut(m.String(), ".")
	neg := strings.HasPrefix(whole, "-")
	whole = strings.TrimPrefix(whole, "-")
	var b strings.Builder
	for i, r := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteRune('\u00a0')
		}
		b.WriteRune(r)
	}
	out := b.String()
	if frac != "" {
		out += "," + frac
	}
	if neg {
		out = "−" + out
	}
	return out + "\u00a0₽"
}

// mustJSON is v, a map of plain values, as JSON.
func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("enrollment: event payload: %v", err))
	}
	return b
}

// protectionRu is a protection mode as the holder reads it.
func protectionRu(mode string) string {
	switch certificate.ProtectionMode(mode) {
	case certificate.ByName:
		return "по номеру сертификата и ФИО, только организациями, куда уже подавались заявки"
	case certificate.ByPassphrase:
		return "по номеру сертификата и кодовому слову"
	}
	return "запрещена, заявку подаёт только владелец сертификата"
}
