package web

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/edufund/edufund/catalog"
	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/funding"
)

// The municipality's pages: a municipal education authority's children's
// certificates (the list with its lifecycle buttons, the issue form) and
// its budget and limits. The regional operator sees the same pages for
// any municipality, picked with ?m=<code>. What the caller may read or
// change is the service's to decide; the pages pick the municipality,
// ask, and say the answers in Russian.

func (h *handler) municipalityRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /municipality", h.munCertificates)
	mux.HandleFunc("POST /municipality/certificates/{id}/{action}", h.munChangeStatus)
	mux.HandleFunc("GET /municipality/issue", h.munIssueForm)
	mux.HandleFunc("POST /municipality/issue", h.munIssue)
	mux.HandleFunc("GET /municipality/budget", h.munBudget)
	mux.HandleFunc("POST /municipality/budget", h.munSetBudget)
	mux.HandleFunc("POST /municipality/budget/directions", h.munSetDirection)
}

// The certificates' statuses, kinds and categories are said as the
// family's pages say them (adultStatus, ruKind, ruCategory): one wording
// for one certificate on every page.

// munActionDef is one lifecycle button of the list: the path's word, the
// service's action, the status it leaves and the Russian around it.
type munActionDef struct {
	Word   string
	Action enrollment.CertificateAction
	From   certificate.Status
	Label  string
	Done   string
	// Only says which certificates the move is for, when the status
	// table refuses it.
	Only string
}

var munActions = []munActionDef{
	{"activate", enrollment.ActivateCertificate, certificate.Issued, "Активировать", "activated", "Активировать можно только выданный сертификат"},
	{"suspend", enrollment.SuspendCertificate, certificate.Active, "Приостановить", "suspended", "Приостановить можно только активный сертификат"},
	{"resume", enrollment.ResumeCertificate, certificate.Suspended, "Возобновить", "resumed", "Возобновить можно только приостановленный сертификат"},
}

func munActionOf(word string) (munActionDef, bool) {
	for _, a := range munActions {
		if a.Word == word {
			return a, true
		}
	}
	return munActionDef{}, false
}

// munRefusals say in Russian why the service refused a change of these
// pages, by the refusal's code; limit_below_use is said with the amount
// in use, by the form it refused.
var munRefusals = map[string]string{
	enrollment.CodeCertificateExists:   "У ребёнка уже есть сертификат дополнительного образования: второй не выдаётся.",
	enrollment.CodeIdempotencyConflict: "Эта форма уже отправлена с другими данными. Откройте страницу заново и отправьте форму ещё раз.",
	enrollment.CodeForeign:             "Это действие доступно только муниципалитету, который финансирует сертификат, и региональному оператору.",
	certificate.CodeNotFundable:        "Этот сертификат нельзя перевести на персонифицированное финансирование.",
	enrollment.CodeLimitBelowUse:       "Новый лимит меньше того, что уже использовано.",
}

func munRefusal(e *funding.RuleError) string {
	if t, ok := munRefusals[e.Code]; ok {
		return t
	}
	return "Действие не выполнено: правила программы его сейчас не допускают."
}

// munPlace is the municipality a page is about, and how its links keep it.
type munPlace struct {
	Code, Name string
	// Regional: the reader is the regional operator, who picks the
	// municipality; the pages' links and forms then carry it as m.
	Regional bool
	// Choices are the municipalities the regional operator may pick.
	Choices []option
}

// url is path with the municipality (for the regional operator) and q.
func (p munPlace) url(path string, q url.Values) string {
	v := url.Values{}
	for k, vs := range q {
		for _, s := range vs {
			if s != "" {
				v.Add(k, s)
			}
		}
	}
	if p.Regional {
		v.Set("m", p.Code)
	}
	if len(v) == 0 {
		return path
	}
	return path + "?" + v.Encode()
}

// Query is "?m=<code>" for the regional operator's links, "" otherwise.
func (p munPlace) Query() string { return p.url("", nil) }

// munOfficial is the signed-in official of r and the municipality the page
// is about; on false it has answered r (the sign-in, or a refusal). A POST
// must have parsed its form: the regional operator's m comes with it.
// back is where the sign-in returns to.
func (h *handler) munOfficial(w http.ResponseWriter, r *http.Request, back string) (*user, munPlace, bool) {
	u := h.user(w, r)
	if u == nil {
		http.Redirect(w, r, "/signin?next="+url.QueryEscape(back), http.StatusSeeOther)
		return nil, munPlace{}, false
	}
	// The service would list a parent their own children's certificates:
	// these pages are the authorities', so the others are turned away
	// before any is read (and the service refuses them its limits).
	switch u.Caller.Role {
	case enrollment.RoleMunicipality:
		return u, munPlace{Code: u.Caller.ID, Name: h.cabinetMunicipality(u.Caller.ID)}, true
	case enrollment.RoleRegional:
	default:
		h.munForbidden(w, r)
		return nil, munPlace{}, false
	}
	m := r.FormValue("m")
	if m == "" && len(h.municipalities) > 0 {
		m = h.municipalities[0]
	}
	if !slices.Contains(h.municipalities, m) {
		h.fail(w, r, http.StatusNotFound, "Муниципалитет не найден",
			"Такой муниципалитет не участвует в программе. Выберите муниципалитет из списка.")
		return nil, munPlace{}, false
	}
	p := munPlace{Code: m, Name: h.cabinetMunicipality(m), Regional: true}
	for _, c := range h.municipalities {
		p.Choices = append(p.Choices, option{Value: c, Label: h.cabinetMunicipality(c), Selected: c == m})
	}
	return u, p, true
}

func (h *handler) munForbidden(w http.ResponseWriter, r *http.Request) {
	h.fail(w, r, http.StatusForbidden, "Нет доступа",
		"Эти страницы — для управления образования муниципалитета и регионального оператора. Войдите под их учётной записью.")
}

// munFailed shows the page of a service error no form can show.
func (h *handler) munFailed(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, enrollment.ErrNotFound):
		h.fail(w, r, http.StatusNotFound, "Сертификат не найден",
			"Такого сертификата нет среди сертификатов муниципалитета. Откройте список заново.")
	case errors.Is(err, enrollment.ErrForbidden):
		h.munForbidden(w, r)
	default:
		h.internal(w, r, err)
	}
}

// munParseForm reads a POST's form; on false it has answered r.
func (h *handler) munParseForm(w http.ResponseWriter, r *http.Request) bool {
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	if err := r.ParseForm(); err != nil {
		h.fail(w, r, http.StatusBadRequest, "Форма не принята", "Форму не удалось прочитать. Откройте страницу заново.")
		return false
	}
	return true
}

// ---- the certificates ----

// munListPage is GET /municipality's body.
type munListPage struct {
	Mun         munPlace
	Done, Error string
	// Status is the filter as typed; StatusError says it is no status.
	Status      string
	Statuses    []option
	StatusError string
	Rows        []munCertRow
	Next, First string
	Listed      bool
}

type munCertRow struct {
	ID, Number, Name, Birth, Category, Kind, Status, IssuedOn, ValidUntil string
	Actions                                                               []munButton
}

// munButton is a row's lifecycle form.
type munButton struct {
	Path, Label, Key string
}

func munStatusOptions(selected string) []option {
	out := []option{{Value: "", Label: "Все", Selected: selected == ""}}
	for _, s := range certificate.Statuses() {
		out = append(out, option{Value: string(s), Label: adultStatus(s), Selected: string(s) == selected})
	}
	return out
}

// munCertificates is GET /municipality.
func (h *handler) munCertificates(w http.ResponseWriter, r *http.Request) {
	u, mun, ok := h.munOfficial(w, r, r.URL.RequestURI())
	if !ok {
		return
	}
	q := r.URL.Query()
	done := ""
	switch q.Get("done") {
	case "activated":
		done = "Сертификат активирован: данные получателя подтверждены."
	case "suspended":
		done = "Действие сертификата приостановлено."
	case "resumed":
		done = "Действие сертификата возобновлено."
	case "issued", "queued":
		// The number and the place come back in the link: shown only in
		// their own form, never as text someone else wrote.
		n, err := certificate.ParseNumber(q.Get("n"))
		if err != nil {
			done = "Сертификат выдан."
			break
		}
		done = "Сертификат № " + string(n) + " выдан."
		if pos, err := strconv.Atoi(q.Get("pos")); q.Get("done") == "queued" && err == nil && pos > 0 {
			done = "Сертификат № " + string(n) + " выдан как учётный и поставлен в очередь на персонифицированное финансирование, позиция " + strconv.Itoa(pos) + "."
		}
	}
	h.munList(w, r, u, mun, q.Get("status"), q.Get("after"), http.StatusOK, done, "")
}

// munList renders the list of mun's certificates in status (all for ""),
// from after (the first page for ""), with a confirmation or an error.
func (h *handler) munList(w http.ResponseWriter, r *http.Request, u *user, mun munPlace, status, after string, code int, done, errText string) {
	page := munListPage{Mun: mun, Done: done, Error: errText, Status: status, Statuses: munStatusOptions(status)}
	f := enrollment.CertificateFilter{Municipality: mun.Code, Status: certificate.Status(status)}
	if status != "" && !f.Status.Valid() {
		page.StatusError, code = "Такого статуса нет: выберите из списка.", http.StatusBadRequest
	}
	badCursor := false
	if after != "" {
		id, err := uuid.Parse(after)
		if badCursor = err != nil || id == uuid.Nil; badCursor {
			page.Error, code = "Ссылка на следующую страницу устарела или повреждена. Откройте список с начала.", http.StatusBadRequest
		}
		f.After = id
		page.First = mun.url("/municipality", url.Values{"status": {status}})
	}
	if page.StatusError == "" && !badCursor {
		list, err := h.cfg.Service.Certificates(r.Context(), u.Caller, f)
		if ve, ok := errors.AsType[*funding.ValidationError](err); ok && ve.Field == "status" {
			page.StatusError, code = "Такого статуса нет: выберите из списка.", http.StatusBadRequest
		} else if err != nil {
			h.munFailed(w, r, err)
			return
		}
		page.Listed = true
		for _, c := range list.Certificates {
			row := munCertRow{ID: c.ID.String(), Number: string(c.Number), Name: c.Holder.FullName, Birth: ruDate(c.Holder.BirthDate),
				Category: ruCategory(c.Category), Kind: ruKind(c), Status: adultStatus(c.Status),
				IssuedOn: ruDate(c.IssuedOn), ValidUntil: ruDate(c.ValidUntil)}
			for _, a := range munActions {
				if c.Status == a.From {
					row.Actions = append(row.Actions, munButton{Path: "/municipality/certificates/" + c.ID.String() + "/" + a.Word,
						Label: a.Label, Key: uuid.NewString()})
				}
			}
			page.Rows = append(page.Rows, row)
		}
		if list.Next != uuid.Nil {
			page.Next = mun.url("/municipality", url.Values{"status": {status}, "after": {list.Next.String()}})
		}
	}
	h.render(w, r, code, "municipality", "Сертификаты — "+mun.Name, page)
}

// munChangeStatus is POST /municipality/certificates/{id}/{action}: the
// official activates, suspends or resumes a certificate, then returns to
// the list as it was filtered.
func (h *handler) munChangeStatus(w http.ResponseWriter, r *http.Request) {
	if !h.munParseForm(w, r) {
		return
	}
	u, mun, ok := h.munOfficial(w, r, "/municipality")
	if !ok {
		return
	}
	a, known := munActionOf(r.PathValue("action"))
	id, err := uuid.Parse(r.PathValue("id"))
	if !known || err != nil || id == uuid.Nil {
		h.notFound(w, r)
		return
	}
	status := r.PostForm.Get("status")
	if !certificate.Status(status).Valid() {
		status = ""
	}
	_, err = h.cfg.Service.ChangeStatus(r.Context(), r.PostForm.Get("key"), id, a.Action, u.Caller)
	if err == nil {
		http.Redirect(w, r, mun.url("/municipality", url.Values{"status": {status}, "done": {a.Done}}), http.StatusSeeOther)
		return
	}
	if errors.Is(err, enrollment.ErrNotFound) || errors.Is(err, enrollment.ErrForbidden) {
		h.munFailed(w, r, err)
		return
	}
	code, msg := http.StatusConflict, ""
	if te, ok := errors.AsType[*certificate.TransitionError](err); ok {
		msg = a.Only + ": этот сейчас " + adultStatus(te.From) + "."
	} else if re, ok := errors.AsType[*funding.RuleError](err); ok {
		msg = munRefusal(re)
	} else if ves := adultValidationErrors(err); len(ves) > 0 {
		code, msg = http.StatusBadRequest, "Форма устарела. Откройте список заново и нажмите кнопку ещё раз."
	} else {
		h.internal(w, r, err)
		return
	}
	h.munList(w, r, u, mun, status, "", code, "", msg)
}

// ---- the issue form ----

// munIssuePage is the issue form's body.
type munIssuePage struct {
	Mun    munPlace
	Form   munIssueForm
	Errors fieldErrors
	Error  string
	Key    string

	Sexes, Citizenships, Educations, Registrations, Residences, Categories, Protections []option
}

// munIssueForm is the issue form as typed.
type munIssueForm struct {
	PersonID, FullName, BirthDate, Sex, Citizenship, Education, Registration, Residence, Guardian, Category, Protection string
	Funded                                                                                                              bool
}

var (
	munEducations = []option{{Value: "", Label: "Не указано"},
		{Value: string(certificate.EducationGeneral), Label: "Общее (детский сад, школа)"},
		{Value: string(certificate.EducationStudyingVocational), Label: "Получает среднее профессиональное"}}
	munProtections = []option{
		{Value: string(certificate.Forbidden), Label: "Заявки подаёт только родитель"},
		{Value: string(certificate.ByName), Label: "Организация может подать заявку по номеру сертификата и ФИО ребёнка"},
		{Value: string(certificate.ByPassphrase), Label: "Организация может подать заявку по номеру сертификата и кодовому слову"}}
)

// munIssueOptions fills in the form's selects; a value that is no option
// is an error next to its select. The categories are the region's, from
// the municipality's limits.
func (h *handler) munIssueOptions(page *munIssuePage, cats []enrollment.CategoryUse) {
	f := &page.Form
	var residences, categories []option
	for _, m := range h.municipalities {
		residences = append(residences, option{Value: m, Label: h.cabinetMunicipality(m)})
	}
	for _, c := range cats {
		label := ruCategory(c.Category.Code) + ": "
		if c.Category.InHours() {
			label += ruCount(c.Category.HoursBase+c.Category.HoursExtra, "час", "часа", "часов") + " в неделю"
		} else {
			label += "номинал " + ruMoney(c.Category.Nominal) + " в год"
		}
		categories = append(categories, option{Value: c.Category.Code, Label: label})
	}
	var ok bool
	for _, s := range []struct {
		opts  []option
		value string
		name  string
		to    *[]option
	}{
		{adultSexes, f.Sex, "sex", &page.Sexes},
		{adultCitizenships, f.Citizenship, "citizenship", &page.Citizenships},
		{munEducations, f.Education, "education", &page.Educations},
		{adultRegistrations, f.Registration, "registration", &page.Registrations},
		{residences, f.Residence, "residence", &page.Residences},
		{categories, f.Category, "category", &page.Categories},
		{munProtections, f.Protection, "protection", &page.Protections},
	} {
		if *s.to, ok = adultSelected(s.opts, s.value); !ok && s.value != "" {
			page.Errors[s.name] = "Выберите значение из списка."
		}
	}
}

// munIssueForm is GET /municipality/issue.
func (h *handler) munIssueForm(w http.ResponseWriter, r *http.Request) {
	u, mun, ok := h.munOfficial(w, r, r.URL.RequestURI())
	if !ok {
		return
	}
	lim, err := h.cfg.Service.Limits(r.Context(), u.Caller, mun.Code, funding.Date{})
	if err != nil {
		h.munFailed(w, r, err)
		return
	}
	page := munIssuePage{Mun: mun, Errors: fieldErrors{}, Key: uuid.NewString(), Form: munIssueForm{
		Citizenship: "RU", Registration: string(certificate.Permanent), Residence: mun.Code,
		Protection: string(certificate.Forbidden), Funded: true}}
	if len(lim.Categories) > 0 {
		page.Form.Category = lim.Categories[0].Category.Code
	}
	h.munIssueOptions(&page, lim.Categories)
	h.render(w, r, http.StatusOK, "municipality_issue", "Выдать сертификат — "+mun.Name, page)
}

// munIssue is POST /municipality/issue.
func (h *handler) munIssue(w http.ResponseWriter, r *http.Request) {
	if !h.munParseForm(w, r) {
		return
	}
	u, mun, ok := h.munOfficial(w, r, "/municipality/issue")
	if !ok {
		return
	}
	lim, err := h.cfg.Service.Limits(r.Context(), u.Caller, mun.Code, funding.Date{})
	if err != nil {
		h.munFailed(w, r, err)
		return
	}
	pf := r.PostForm
	page := munIssuePage{Mun: mun, Errors: fieldErrors{}, Key: uuid.NewString(), Form: munIssueForm{
		PersonID: pf.Get("personid"), FullName: pf.Get("fullname"), BirthDate: strings.TrimSpace(pf.Get("birthdate")),
		Sex: pf.Get("sex"), Citizenship: pf.Get("citizenship"), Education: pf.Get("education"),
		Registration: pf.Get("registration"), Residence: pf.Get("residence"), Guardian: pf.Get("guardian"),
		Category: pf.Get("category"), Protection: pf.Get("protection"), Funded: pf.Get("funded") != ""}}
	h.munIssueOptions(&page, lim.Categories)
	f := page.Form
	req := enrollment.IssueRequest{
		Holder: certificate.Holder{PersonID: f.PersonID, FullName: f.FullName, Sex: certificate.Sex(f.Sex),
			Citizenship: f.Citizenship, Education: certificate.Education(f.Education),
			Municipality: f.Residence, Registration: certificate.Registration(f.Registration)},
		GuardianID: f.Guardian, Municipality: mun.Code, Category: f.Category, Funded: f.Funded,
		Protection: certificate.ProtectionMode(f.Protection), By: u.Caller,
	}
	if f.Registration == "none" {
		req.Holder.Registration = ""
	}
	if req.Protection == certificate.ByPassphrase {
		req.Passphrase = pf.Get("passphrase")
	}
	if f.BirthDate != "" {
		d, ok := munParseDate(f.BirthDate)
		if !ok {
			page.Errors["birthdate"] = "Укажите дату рождения в виде ДД.ММ.ГГГГ, например 14.03.2017."
		}
		req.Holder.BirthDate = d
	}
	if len(page.Errors) > 0 {
		h.render(w, r, http.StatusBadRequest, "municipality_issue", "Выдать сертификат — "+mun.Name, page)
		return
	}
	res, err := h.cfg.Service.Issue(r.Context(), pf.Get("key"), req)
	if err != nil {
		h.munIssueFailed(w, r, &page, err)
		return
	}
	q := url.Values{"done": {"issued"}, "n": {string(res.Certificate.Number)}}
	if res.Queued {
		q.Set("done", "queued")
		q.Set("pos", strconv.Itoa(res.Position))
	}
	http.Redirect(w, r, mun.url("/municipality", q), http.StatusSeeOther)
}

// munParseDate reads a date as a date input sends it (2017-03-14) or as
// typed where the browser has no date picker (14.03.2017).
func munParseDate(s string) (funding.Date, bool) {
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

// munIssueFailed shows the service's refusal of the issue form next to the
// form, as typed: nothing was written.
func (h *handler) munIssueFailed(w http.ResponseWriter, r *http.Request, page *munIssuePage, err error) {
	const title = "Выдать сертификат — "
	if ie, ok := errors.AsType[*enrollment.IneligibleError](err); ok {
		code := http.StatusUnprocessableEntity
		for _, rs := range ie.Reasons {
			name, msg := h.munReason(rs, page.Mun.Code)
			if rs.Rule == certificate.RuleAlreadyIssued {
				code = http.StatusConflict
			}
			if name == "" {
				page.Error = msg
			} else {
				page.Errors[name] = msg
			}
		}
		h.render(w, r, code, "municipality_issue", title+page.Mun.Name, *page)
		return
	}
	if ves := adultValidationErrors(err); len(ves) > 0 {
		for _, ve := range ves {
			if name, msg := munFieldMessage(ve); name == "" {
				page.Error = msg
			} else {
				page.Errors[name] = msg
			}
		}
		h.render(w, r, http.StatusBadRequest, "municipality_issue", title+page.Mun.Name, *page)
		return
	}
	if errors.Is(err, enrollment.ErrForbidden) || errors.Is(err, enrollment.ErrNotFound) {
		h.munFailed(w, r, err)
		return
	}
	if re, ok := errors.AsType[*funding.RuleError](err); ok {
		code := http.StatusUnprocessableEntity
		if errors.Is(err, enrollment.ErrExists) || errors.Is(err, enrollment.ErrIdempotencyConflict) {
			code = http.StatusConflict
		}
		page.Error = munRefusal(re)
		h.render(w, r, code, "municipality_issue", title+page.Mun.Name, *page)
		return
	}
	h.internal(w, r, err)
}

// munReason is a failed eligibility rule of the children's scheme: the
// input it is about ("" for none) and what it says in Russian.
func (h *handler) munReason(rs certificate.Reason, mun string) (name, msg string) {
	switch rs.Rule {
	case certificate.RulePersonIDMissing:
		return "personid", "Укажите СНИЛС или идентификатор ребёнка."
	case certificate.RuleBirthDateMissing:
		return "birthdate", "Укажите дату рождения."
	case certificate.RuleAgeBelowMinimum:
		min := h.cfg.Service.RulesOn(h.cfg.Service.Today()).Children.MinAgeFor(mun)
		return "birthdate", "Сертификат выдаётся детям с " + strconv.Itoa(min) + nbsp + pluralForm(min, "года", "лет", "лет") +
			": по этой дате рождения ребёнку ещё нет " + ruCount(min, "года", "лет", "лет") + "."
	case certificate.RuleAgeLimitReached:
		return "birthdate", "Ребёнку уже исполнилось 18" + nbsp + "лет: сертификат выдаётся до совершеннолетия."
	case certificate.RuleMunicipalityNotIn:
		return "residence", "Муниципалитет проживания не участвует в программе."
	case certificate.RuleAlreadyIssued:
		return "", munRefusals[enrollment.CodeCertificateExists]
	}
	return "", "Сертификат не выдан: не выполнено одно из условий его получения."
}

// munPersonMessage is what an input of a person's id says for e.
func munPersonMessage(e *funding.ValidationError, whose string) string {
	switch {
	case strings.Contains(e.Rule, "check number"):
		return "В СНИЛС неверное контрольное число: проверьте номер."
	case strings.Contains(e.Rule, "required"):
		return "Укажите СНИЛС или идентификатор " + whose + "."
	}
	return "Укажите СНИЛС (11 цифр, например 112-233-445 95) или идентификатор из латинских букв, цифр и знаков «.», «_», «:», «-»."
}

// munFieldMessage names the issue form's input a *funding.ValidationError
// of the service is about, with a Russian message; name "" is an error of
// no input (the message goes above the form).
func munFieldMessage(e *funding.ValidationError) (name, msg string) {
	switch e.Field {
	case "holder.person_id", "person_id":
		return "personid", munPersonMessage(e, "ребёнка")
	case "guardian_id":
		return "guardian", munPersonMessage(e, "родителя")
	case "holder.full_name":
		switch {
		case strings.Contains(e.Rule, "required"):
			return "fullname", "Укажите фамилию, имя и отчество ребёнка."
		case strings.Contains(e.Rule, "at most"):
			return "fullname", "Слишком длинно: не больше " + ruCount(funding.MaxNameLen, "символа", "символов", "символов") + "."
		}
		return "fullname", "В имени есть недопустимые символы: уберите их."
	case "holder.birth_date":
		switch {
		case strings.Contains(e.Rule, "after"):
			return "birthdate", "Дата рождения не может быть позже сегодняшнего дня."
		case strings.Contains(e.Rule, "under"):
			return "birthdate", "Ребёнку уже исполнилось 18" + nbsp + "лет: сертификат выдаётся до совершеннолетия."
		}
		return "birthdate", "Укажите дату рождения."
	case "holder.sex":
		return "sex", "Выберите пол из списка."
	case "holder.citizenship":
		return "citizenship", "Выберите гражданство из списка."
	case "holder.education":
		return "education", "Выберите образование из списка."
	case "holder.registration":
		return "registration", "Выберите вид регистрации из списка."
	case "holder.municipality":
		return "residence", "Выберите муниципалитет проживания из списка."
	case "category":
		return "category", "Выберите категорию из списка."
	case "passphrase":
		return "passphrase", "Кодовое слово — не короче " + ruCount(certificate.MinPassphraseLen, "символа", "символов", "символов") + "."
	case "protection", "protection.mode":
		return "protection", "Выберите защиту сертификата из списка."
	case "municipality":
		return "", "Муниципалитет не участвует в программе."
	case "idempotency_key":
		return "", "Форма устарела. Откройте страницу заново и отправьте её ещё раз."
	}
	return "", "Сертификат не выдан: проверьте данные формы."
}

// ---- the budget and the limits ----

// munBudgetPage is GET /municipality/budget's body.
type munBudgetPage struct {
	Mun         munPlace
	Done, Error string
	Period      string
	// PeriodStart is the period the forms set, as the service writes a
	// date: a form sent after the period changed is refused.
	PeriodStart string
	Forecast    *munForecastView
	Budget      munBudgetView
	Directions  []munDirectionRow
	Categories  []munCategoryRow
}

type munForecastView struct {
	Limit                                             string
	Unlimited, Over                                   bool
	Spent, Reserved, Contracts, Need, Headroom, Queue string
	Overrun                                           string
	Months                                            []munMonthRow
}

type munMonthRow struct{ Month, Amount string }

type munBudgetView struct {
	Used, Limit string
	Unlimited   bool
	// Value is the form's input, Error its message, Key its idempotency key.
	Value, Error, Key string
}

type munDirectionRow struct {
	Code, Name, Used, Limit string
	Unlimited               bool
	Value, Error, Key       string
}

type munCategoryRow struct {
	Name, Nominal, Funded, Max, Queued string
}

// munBudgetData reads the budget page of mun: the forecast's row and the
// limits, through the service as the caller.
func (h *handler) munBudgetData(r *http.Request, u *user, mun munPlace) (*munBudgetPage, enrollment.Limits, error) {
	lim, err := h.cfg.Service.Limits(r.Context(), u.Caller, mun.Code, funding.Date{})
	if err != nil {
		return nil, lim, err
	}
	rows, err := h.cfg.Service.Forecast(r.Context(), u.Caller)
	if err != nil {
		return nil, lim, err
	}
	page := &munBudgetPage{Mun: mun, Period: "с " + ruDate(lim.Period.Start) + " по " + ruDate(lim.Period.End),
		PeriodStart: lim.Period.Start.String()}
	for _, f := range rows {
		if f.Municipality != mun.Code {
			continue
		}
		v := &munForecastView{Unlimited: f.Unlimited, Over: f.Over(), Spent: ruMoney(f.Spent), Reserved: ruMoney(f.Reserved),
			Contracts: ruCount(f.Contracts, "договор", "договора", "договоров"), Need: ruMoney(f.Need), Headroom: ruMoney(f.Headroom),
			Queue: ruCount(f.Queued, "сертификат", "сертификата", "сертификатов") + " на " + ruMoney(f.QueueMoney)}
		if !f.Unlimited {
			v.Limit = ruMoney(f.Limit)
		}
		if v.Over {
			v.Overrun = ruMoney(f.Headroom.Abs())
		}
		for _, m := range f.Scheduled {
			v.Months = append(v.Months, munMonthRow{Month: ruMonth(m.Month), Amount: ruMoney(m.Amount)})
		}
		page.Forecast = v
	}
	page.Budget = munBudgetView{Used: ruMoney(funding.Kopecks(lim.Budget.Used)), Unlimited: lim.Budget.Limit >= enrollment.Unlimited, Key: uuid.NewString()}
	if !page.Budget.Unlimited {
		page.Budget.Limit = ruMoney(funding.Kopecks(lim.Budget.Limit))
		page.Budget.Value = munMoneyInput(funding.Kopecks(lim.Budget.Limit))
	}
	for _, d := range lim.Directions {
		row := munDirectionRow{Code: string(d.Direction), Name: ruDirection(d.Direction), Used: ruInt(d.Used),
			Unlimited: d.Limit >= enrollment.Unlimited, Key: uuid.NewString(), Value: "0"}
		if !row.Unlimited {
			row.Limit, row.Value = ruInt(d.Limit), strconv.FormatInt(d.Limit, 10)
		}
		page.Directions = append(page.Directions, row)
	}
	for _, c := range lim.Categories {
		row := munCategoryRow{Name: ruCategory(c.Category.Code), Funded: ruInt(c.Funded), Max: "без ограничения",
			Queued: ruInt(int64(c.Queued))}
		if c.Category.InHours() {
			row.Nominal = ruCount(c.Category.HoursBase, "час", "часа", "часов") + " в неделю"
			if c.Category.HoursExtra > 0 {
				row.Nominal += " и ещё " + ruCount(c.Category.HoursExtra, "час", "часа", "часов") + " на социально значимые программы"
			}
		} else {
			row.Nominal = ruMoney(c.Category.Nominal)
		}
		if c.Category.MaxCount > 0 {
			row.Max = ruInt(int64(c.Category.MaxCount))
		}
		page.Categories = append(page.Categories, row)
	}
	return page, lim, nil
}

// munMoneyInput is an amount as the budget form shows it: 5000000,00.
func munMoneyInput(m funding.Money) string {
	return strings.Replace(m.String(), ".", ",", 1)
}

// munParseMoney reads an amount as an official types it: 5 000 000,
// 5 000 000,50, 5000000.50, with or without "₽".
func munParseMoney(s string) (funding.Money, bool) {
	s = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(s), "₽"))
	s = strings.NewReplacer(" ", "", nbsp, "", "\u202f", "", ",", ".").Replace(s)
	m, err := funding.ParseMoney(s)
	return m, err == nil
}

// munBudget is GET /municipality/budget.
func (h *handler) munBudget(w http.ResponseWriter, r *http.Request) {
	u, mun, ok := h.munOfficial(w, r, r.URL.RequestURI())
	if !ok {
		return
	}
	page, _, err := h.munBudgetData(r, u, mun)
	if err != nil {
		h.munFailed(w, r, err)
		return
	}
	switch r.URL.Query().Get("done") {
	case "budget":
		page.Done = "Лимит бюджета сохранён: " + page.Budget.Limit + "."
	case "direction":
		page.Done = "Лимит договоров по направлению сохранён."
	}
	h.munRenderBudget(w, r, http.StatusOK, page)
}

func (h *handler) munRenderBudget(w http.ResponseWriter, r *http.Request, code int, page *munBudgetPage) {
	h.render(w, r, code, "municipality_budget", "Бюджет и лимиты — "+page.Mun.Name, page)
}

// munLimitForm reads a limit form's page: the official, the municipality,
// the current page (to show again on failure) and its limits; on false it
// has answered r. A form of a period that has ended since is refused.
func (h *handler) munLimitForm(w http.ResponseWriter, r *http.Request) (*user, *munBudgetPage, enrollment.Limits, bool) {
	if !h.munParseForm(w, r) {
		return nil, nil, enrollment.Limits{}, false
	}
	u, mun, ok := h.munOfficial(w, r, "/municipality/budget")
	if !ok {
		return nil, nil, enrollment.Limits{}, false
	}
	page, lim, err := h.munBudgetData(r, u, mun)
	if err != nil {
		h.munFailed(w, r, err)
		return nil, nil, lim, false
	}
	if r.PostForm.Get("period") != page.PeriodStart {
		page.Error = "Период сменился, пока форма была открыта. Проверьте лимиты нового периода и сохраните их ещё раз."
		h.munRenderBudget(w, r, http.StatusConflict, page)
		return nil, nil, lim, false
	}
	return u, page, lim, true
}

// munLimitRefused says why the service refused a limit: the message for
// the form's input and the status. below says what is in use, for a limit
// below it.
func munLimitRefused(err error, below string) (int, string, bool) {
	if ves := adultValidationErrors(err); len(ves) > 0 {
		switch ves[0].Field {
		case "limit":
			return http.StatusBadRequest, "Лимит не может быть отрицательным.", true
		case "idempotency_key":
			return http.StatusBadRequest, "Форма устарела. Откройте страницу заново и отправьте её ещё раз.", true
		}
		return http.StatusBadRequest, "Лимит не сохранён: проверьте данные формы.", true
	}
	if errors.Is(err, enrollment.ErrForbidden) || errors.Is(err, enrollment.ErrNotFound) {
		return 0, "", false
	}
	if re, ok := errors.AsType[*funding.RuleError](err); ok {
		if re.Code == enrollment.CodeLimitBelowUse {
			return http.StatusUnprocessableEntity, below, true
		}
		code := http.StatusUnprocessableEntity
		if errors.Is(err, enrollment.ErrIdempotencyConflict) {
			code = http.StatusConflict
		}
		return code, munRefusal(re), true
	}
	return 0, "", false
}

// munSetBudget is POST /municipality/budget: the budget limit of the
// current period.
func (h *handler) munSetBudget(w http.ResponseWriter, r *http.Request) {
	u, page, lim, ok := h.munLimitForm(w, r)
	if !ok {
		return
	}
	page.Budget.Value = r.PostForm.Get("limit")
	limit, ok := munParseMoney(page.Budget.Value)
	if !ok {
		page.Budget.Error = "Укажите сумму в рублях, например 5 000 000 или 5 000 000,50."
		h.munRenderBudget(w, r, http.StatusBadRequest, page)
		return
	}
	_, err := h.cfg.Service.SetBudget(r.Context(), r.PostForm.Get("key"), enrollment.BudgetRequest{
		Municipality: page.Mun.Code, Period: lim.Period, Limit: limit, By: u.Caller})
	if err != nil {
		code, msg, ok := munLimitRefused(err, "Лимит меньше уже израсходованного и зарезервированного: "+page.Budget.Used)
		if !ok {
			h.munFailed(w, r, err)
			return
		}
		page.Budget.Error = msg
		h.munRenderBudget(w, r, code, page)
		return
	}
	http.Redirect(w, r, page.Mun.url("/municipality/budget", url.Values{"done": {"budget"}}), http.StatusSeeOther)
}

// munMaxDirectionLimit bounds a direction's limit as the API does.
const munMaxDirectionLimit = 10_000_000

// munSetDirection is POST /municipality/budget/directions: the limit of
// live contracts in one direction in the current period (0: none).
func (h *handler) munSetDirection(w http.ResponseWriter, r *http.Request) {
	u, page, lim, ok := h.munLimitForm(w, r)
	if !ok {
		return
	}
	dir := catalog.Direction(r.PostForm.Get("direction"))
	i := slices.IndexFunc(page.Directions, func(d munDirectionRow) bool { return d.Code == string(dir) })
	if i < 0 {
		page.Error = "Такого направления нет: выберите направление в таблице."
		h.munRenderBudget(w, r, http.StatusBadRequest, page)
		return
	}
	row := &page.Directions[i]
	row.Value = strings.TrimSpace(r.PostForm.Get("limit"))
	n, err := strconv.Atoi(row.Value)
	if err != nil || n < 0 || n > munMaxDirectionLimit {
		row.Error = "Укажите целое число договоров от 0 до " + ruInt(munMaxDirectionLimit) + "; 0 — без ограничения."
		h.munRenderBudget(w, r, http.StatusBadRequest, page)
		return
	}
	_, err = h.cfg.Service.SetDirectionLimit(r.Context(), r.PostForm.Get("key"), enrollment.DirectionLimitRequest{
		Municipality: page.Mun.Code, Direction: dir, Period: lim.Period, Limit: n, By: u.Caller})
	if err != nil {
		code, msg, ok := munLimitRefused(err, "Лимит меньше числа уже действующих договоров по направлению: "+row.Used+".")
		if !ok {
			h.munFailed(w, r, err)
			return
		}
		row.Error = msg
		h.munRenderBudget(w, r, code, page)
		return
	}
	http.Redirect(w, r, page.Mun.url("/municipality/budget", url.Values{"done": {"direction"}}), http.StatusSeeOther)
}
