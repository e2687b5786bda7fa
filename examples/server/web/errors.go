package web

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/edufund/edufund/catalog"
	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/funding"
)

// fieldErrors are the messages a form shows next to its inputs, by the
// input's name.
type fieldErrors map[string]string

// fieldMessage names the navigator's input a *funding.ValidationError of
// the search is about, with a Russian message for it; name "" is an error
// of no input the page shows (the message then goes above the form). The
// service's rule texts are English, for developers: the page says in its
// own words what to fix.
func fieldMessage(e *funding.ValidationError) (name, msg string) {
	switch e.Field {
	case "q":
		if strings.Contains(e.Rule, "at most") {
			return "q", "Запрос слишком длинный: не больше " + ruCount(catalog.MaxSearchText, "символа", "символов", "символов") + "."
		}
		return "q", "В запросе есть недопустимые символы: уберите их."
	case "age":
		return "age", "Укажите возраст от 0 до 120 лет."
	case "direction":
		return "direction", "Такого направления нет: выберите из списка."
	case "registry":
		return "registry", "Такого реестра нет: выберите из списка."
	case "municipality":
		return "municipality", "Такого муниципалитета нет: выберите из списка."
	case "certificate_id":
		return "cert", "Выберите сертификат из списка."
	case "only_enrollable":
		return "only", "Выберите сертификат, чтобы оставить только программы, куда по нему можно записаться."
	}
	return "", "Поиск не выполнен: в адресе страницы неверный параметр. Начните поиск заново."
}

// refusals say in Russian why a certificate cannot enrol in a program,
// by the refusal's code.
var refusals = map[string]string{
	catalog.CodeCertificateNotUsable:              "сертификат сейчас нельзя использовать",
	catalog.CodeSchemeMismatch:                    "программа не для этого вида сертификата",
	catalog.CodeAgeOutOfRange:                     "возраст не подходит программе",
	catalog.CodeRegistryNotAllowed:                "по учётному сертификату нельзя записаться в программы этого реестра",
	catalog.CodeNotCertified:                      "программа не сертифицирована",
	catalog.CodeEnrolmentClosed:                   "запись на программу закрыта",
	catalog.CodeGroupFinished:                     "нет группы, в которую можно записаться",
	catalog.CodeNoAgreement:                       "у организации нет соглашения с муниципалитетом сертификата",
	enrollment.CodeDuplicateModule:                "по сертификату уже есть договор на эту программу",
	enrollment.CodeRegistryQuota:                  "по сертификату уже выбрано наибольшее число программ этого реестра",
	enrollment.CodeInsufficientBalance:            "на сертификате не осталось денег",
	enrollment.CodeCertificateNotFunded:           "сертификат не персонифицированного финансирования",
	enrollment.CodeCertificateSuspended:           "действие сертификата приостановлено",
	funding.CodeInsufficientHours:                 "по сертификату не осталось свободных часов в неделю",
	certificate.CodeProviderApplicationsForbidden: "заявку может подать только родитель",
}

// refusalText is a refusal in Russian; a code without words of its own
// gets the general ones rather than the English detail.
func refusalText(e *funding.RuleError) string {
	return nameOr(refusals, e.Code, "записаться по этому сертификату сейчас нельзя")
}

// validationErrors are the *funding.ValidationError in err, a joined one
// included: the service reports every problem of a form at once.
func validationErrors(err error) []*funding.ValidationError {
	var out []*funding.ValidationError
	var walk func(error)
	walk = func(err error) {
		if ve, ok := err.(*funding.ValidationError); ok {
			out = append(out, ve)
			return
		}
		switch u := err.(type) {
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				walk(e)
			}
		case interface{ Unwrap() error }:
			if e := u.Unwrap(); e != nil {
				walk(e)
			}
		}
	}
	walk(err)
	return out
}

// resentFormText answers a form sent again, under the key of one sent
// before, with other data: nothing was done the second time.
const resentFormText = "Эта форма уже отправлена с другими данными. Откройте страницу заново и отправьте форму ещё раз."

// refusalSentence says in Russian why the rules refused a change: the
// area's own words for the code in table, else the general ones.
func refusalSentence(table map[string]string, e *funding.RuleError) string {
	other := "Действие не выполнено: правила программы сертификатов его сейчас не допускают."
	if e.Code == enrollment.CodeIdempotencyConflict {
		other = resentFormText
	}
	return nameOr(table, e.Code, other)
}

// refusalStatus is the status a refusal of the rules is shown with: 409
// when the change conflicts with what is already there (a certificate, a
// form sent before with other data), 422 otherwise.
func refusalStatus(err error) int {
	if errors.Is(err, enrollment.ErrExists) || errors.Is(err, enrollment.ErrIdempotencyConflict) {
		return http.StatusConflict
	}
	return http.StatusUnprocessableEntity
}

// readFailed answers r when err, of reading what the page's path names,
// is not nil: notFound for an id the service does not know or does not let
// the reader read (what the reader may not read does not exist for them,
// as the API says), serviceFailed for the rest. It reports whether it
// answered.
func (h *handler) readFailed(w http.ResponseWriter, r *http.Request, err error, notFound http.HandlerFunc) bool {
	switch {
	case err == nil:
		return false
	case errors.Is(err, enrollment.ErrNotFound) || errors.Is(err, enrollment.ErrForbidden):
		notFound(w, r)
	default:
		h.serviceFailed(w, r, err)
	}
	return true
}

// serviceFailed shows what is left of the service's errors: busy (the
// reader may try again) or a fault.
func (h *handler) serviceFailed(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, enrollment.ErrUnavailable) || errors.Is(err, enrollment.ErrContention) ||
		errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		h.log.WarnContext(r.Context(), "service busy", "path", r.URL.Path, "err", err)
		h.fail(w, r, http.StatusServiceUnavailable, "Сервис занят",
			"Сейчас запрос не удалось выполнить. Ничего не изменилось: попробуйте ещё раз через минуту.")
		return
	}
	h.internal(w, r, err)
}
