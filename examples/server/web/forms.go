package web

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/funding"
)

// The pages' forms: reading what a form sends, its selects, and the
// person a form asks about (an adult applying for their own certificate,
// a child an official issues one to), with the same inputs, options and
// messages on every form that asks for one.

// maxForm bounds a form's body: the pages' forms are a few fields.
const maxForm = 64 << 10

// readForm reads the form of a POST into r.PostForm; on false it has
// answered r.
func (h *handler) readForm(w http.ResponseWriter, r *http.Request) bool {
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	if err := r.ParseForm(); err != nil {
		h.fail(w, r, http.StatusBadRequest, "Форма не принята", "Форму не удалось прочитать. Откройте страницу заново.")
		return false
	}
	return true
}

// parseID reads an id that a page's path, link or form carries: a UUID,
// never the nil one; ok is false for anything else.
func parseID(s string) (uuid.UUID, bool) {
	id, err := uuid.Parse(s)
	return id, err == nil && id != uuid.Nil
}

// staleLinkText answers a link to a list's next page that the pages did
// not make, or made for a list that has changed since.
const staleLinkText = "Ссылка на следующую страницу устарела или повреждена. Откройте список с начала."

// staleFormText answers a form whose idempotency key the service refuses:
// a page kept open too long, or edited.
const staleFormText = "Форма устарела. Откройте страницу заново и отправьте её ещё раз."

// option is an option of a select.
type option struct {
	Value, Label string
	Selected     bool
}

// selectField is a select with its label and its error, for the
// "select" template (templates/_form.html).
type selectField struct {
	Name, Label string
	Options     []option
	Error       string
}

// textField is a text input with its label, its value and its error.
type textField struct {
	Name, Label, Value, Error string
}

// postButton is a form of one button that posts to Path with its own
// idempotency key, and Hidden, what the page keeps across it (a list's
// filter): the "button" template.
type postButton struct {
	Path, Label, Key string
	Secondary        bool
	Hidden           url.Values
}

// button is a button that posts to path, labelled label, with a key of
// its own.
func button(path, label string) postButton {
	return postButton{Path: path, Label: label, Key: uuid.NewString()}
}

// withSelected is opts with the option of value selected; ok is false
// when no option has that value.
func withSelected(opts []option, value string) ([]option, bool) {
	out, ok := slices.Clone(opts), false
	for i := range out {
		if out[i].Value == value {
			out[i].Selected, ok = true, true
		}
	}
	return out, ok
}

// selectInput is a select of a form: its input's name, the value sent,
// its options and where the page keeps them.
type selectInput struct {
	name, value string
	options     []option
	to          *[]option
}

// fillSelects puts each select's options on the page, the value sent
// selected; a value that is no option is an error next to its select.
func fillSelects(errs fieldErrors, selects ...selectInput) {
	for _, s := range selects {
		var ok bool
		if *s.to, ok = withSelected(s.options, s.value); !ok && s.value != "" {
			errs[s.name] = "Выберите значение из списка."
		}
	}
}

// ---- a person ----

// personForm is a person as a form's inputs hold them, as typed. Every
// form that asks for a person names its inputs so (fullname, birthdate,
// sex, citizenship, education, registration), and shows them with the
// "person" template.
type personForm struct {
	FullName, BirthDate, Sex, Citizenship, Education, Registration string
}

// newPerson is the person a new form starts from: a citizen with a
// permanent registration, the answers most readers give.
var newPerson = personForm{Citizenship: "RU", Registration: string(certificate.Permanent)}

// readPerson is the person a form sent.
func readPerson(v url.Values) personForm {
	return personForm{FullName: v.Get("fullname"), BirthDate: strings.TrimSpace(v.Get("birthdate")), Sex: v.Get("sex"),
		Citizenship: v.Get("citizenship"), Education: v.Get("education"), Registration: v.Get("registration")}
}

// holder is the person as the service reads them; what it cannot read
// goes to errs. Who the person is and where they live are the caller's
// to add: each form asks for them its own way.
func (f personForm) holder(errs fieldErrors) certificate.Holder {
	hd := certificate.Holder{FullName: f.FullName, Sex: certificate.Sex(f.Sex), Citizenship: f.Citizenship,
		Education: certificate.Education(f.Education), Registration: certificate.Registration(f.Registration)}
	if f.Registration == noRegistration {
		hd.Registration = ""
	}
	if f.BirthDate != "" {
		d, ok := parseDate(f.BirthDate)
		if !ok {
			errs["birthdate"] = "Укажите дату рождения в виде ДД.ММ.ГГГГ, например 14.03.2017."
		}
		hd.BirthDate = d
	}
	return hd
}

// parseDate reads a date as a date input sends it (2017-03-14) or as
// typed where the browser has no date picker (14.03.2017).
func parseDate(s string) (funding.Date, bool) {
	if d, err := funding.ParseDate(s); err == nil {
		return d, true
	}
	t, err := time.Parse("02.01.2006", s)
	if err != nil {
		return funding.Date{}, false
	}
	d, err := funding.NewDate(t.Year(), t.Month(), t.Day())
	return d, err == nil
}

// personInputs is what a form shows of a person besides what was typed:
// the options of the person's selects, and whose data it is.
type personInputs struct {
	Sexes, Citizenships, Educations, Registrations []option
	// Own: the person is the reader, whose browser may fill the inputs in;
	// an official typing a child's data gets no suggestions of their own.
	Own bool
}

// selects are the person's selects of f, filling in p; educations are
// the levels the form offers.
func (p *personInputs) selects(f personForm, educations []option) []selectInput {
	return []selectInput{
		{"sex", f.Sex, sexOptions, &p.Sexes},
		{"citizenship", f.Citizenship, citizenshipOptions, &p.Citizenships},
		{"education", f.Education, educations, &p.Educations},
		{"registration", f.Registration, registrationOptions, &p.Registrations},
	}
}

// noRegistration is the registration option of a person registered
// nowhere: the service then says they may not have the certificate.
const noRegistration = "none"

// Options of a person's selects. The values are the service's codes; the
// labels the reader's words.
var (
	sexOptions = []option{{Value: "", Label: "Не выбран"}, {Value: string(certificate.Female), Label: "Женский"},
		{Value: string(certificate.Male), Label: "Мужской"}}
	citizenshipOptions = []option{{Value: "RU", Label: "Российская Федерация"}, {Value: "BY", Label: "Республика Беларусь"},
		{Value: "KZ", Label: "Республика Казахстан"}, {Value: "KG", Label: "Киргизская Республика"},
		{Value: "AM", Label: "Республика Армения"}, {Value: "UZ", Label: "Республика Узбекистан"},
		{Value: "TJ", Label: "Республика Таджикистан"}}
	registrationOptions = []option{{Value: string(certificate.Permanent), Label: "Постоянная (по месту жительства)"},
		{Value: string(certificate.Temporary), Label: "Временная (по месту пребывания)"},
		{Value: noRegistration, Label: "Нет регистрации"}}
	// An adult's education decides the right to the adult certificate; a
	// child's is at most the vocational one they study for.
	adultEducationOptions = []option{{Value: "", Label: "Не выбрано"},
		{Value: string(certificate.EducationGeneral), Label: "Среднее общее (школа)"},
		{Value: string(certificate.EducationStudyingVocational), Label: "Получаю среднее профессиональное"},
		{Value: string(certificate.EducationVocational), Label: "Среднее профессиональное"},
		{Value: string(certificate.EducationStudyingHigher), Label: "Получаю высшее"},
		{Value: string(certificate.EducationHigher), Label: "Высшее"}}
	childEducationOptions = []option{{Value: "", Label: "Не указано"},
		{Value: string(certificate.EducationGeneral), Label: "Общее (детский сад, школа)"},
		{Value: string(certificate.EducationStudyingVocational), Label: "Получает среднее профессиональное"}}
)

// personFieldMessage names the input of a person a
// *funding.ValidationError of the holder is about, with a Russian message;
// whose ends the request for the name (" ребёнка" on an official's form).
// ok is false for a field that is no input of every person's form: the
// form's own messages say those.
func personFieldMessage(e *funding.ValidationError, whose string) (name, msg string, ok bool) {
	switch e.Field {
	case "holder.full_name":
		switch {
		case strings.Contains(e.Rule, "required"):
			return "fullname", "Укажите фамилию, имя и отчество" + whose + ".", true
		case strings.Contains(e.Rule, "at most"):
			return "fullname", "Слишком длинно: не больше " + ruCount(funding.MaxNameLen, "символа", "символов", "символов") + ".", true
		}
		return "fullname", "В имени есть недопустимые символы: уберите их.", true
	case "holder.birth_date":
		if strings.Contains(e.Rule, "after") {
			return "birthdate", "Дата рождения не может быть позже сегодняшнего дня.", true
		}
		return "birthdate", "Укажите дату рождения.", true
	case "holder.sex":
		return "sex", "Выберите пол из списка.", true
	case "holder.citizenship":
		return "citizenship", "Выберите гражданство из списка.", true
	case "holder.education":
		return "education", "Выберите образование из списка.", true
	case "holder.registration":
		return "registration", "Выберите вид регистрации из списка.", true
	case "idempotency_key":
		return "", staleFormText, true
	}
	return "", "", false
}

// putFieldErrors puts each *funding.ValidationError in err next to the
// input message names for it, or above the form (in *above) for name "";
// false when err holds none.
func putFieldErrors(err error, message func(*funding.ValidationError) (name, msg string), errs fieldErrors, above *string) bool {
	ves := validationErrors(err)
	for _, ve := range ves {
		if name, msg := message(ve); name == "" {
			*above = msg
		} else {
			errs[name] = msg
		}
	}
	return len(ves) > 0
}
