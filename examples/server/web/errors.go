package web

import (
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
	if t, ok := refusals[e.Code]; ok {
		return t
	}
	return "записаться по этому сертификату сейчас нельзя"
}
