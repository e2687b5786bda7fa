package web

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

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

// The certificates' statuses, kinds and categories are said as every
// page says them (names.go): one wording for one certificate on every
// page.

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
	enrollment.CodeCertificateExists: "У ребёнка уже есть сертификат дополнительного образования: второй не выдаётся.",
	enrollment.CodeForeign:           "Это действие доступно только муниципалитету, который финансирует сертификат, и региональному оператору.",
	certificate.CodeNotFundable:      "Этот сертификат нельзя перевести на персонифицированное финансирование.",
	enrollment.CodeLimitBelowUse:     "Новый лимит меньше того, что уже использовано.",
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

// munPicker is the regional operator's pick of the municipality, on the
// page at Path: the "mun-picker" template.
type munPicker struct {
	Path, Label string
	// Choices are the municipalities; none for an official.
	Choices []option
}

// Picker is the pick of the municipality on the page at path, its select
// labelled label.
func (p munPlace) Picker(path, label string) munPicker {
	return munPicker{Path: path, Label: label, Choices: p.Choices}
}

// munOfficial is the signed-in official of r and the municipality the page
// is about; on false it has answered r (the sign-in, or a refusal). A POST
// must have parsed its form: the regional operator's m comes with it.
// back is where the sign-in returns to.
func (h *handler) munOfficial(w http.ResponseWriter, r *http.Request, back string) (*user, munPlace, bool) {
	u := h.signedIn(w, r, back)
	if u == nil {
		return nil, munPlace{}, false
	}
	// The service would list a parent their own children's certificates:
	// these pages are the authorities', so the others are turned away
	// before any is read (and the service refuses them its limits).
	switch u.Caller.Role {
	case enrollment.RoleMunicipality:
		return u, munPlace{Code: u.Caller.ID, Name: h.municipalityName(u.Caller.ID)}, true
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
	return u, munPlace{Code: m, Name: h.municipalityName(m), Regional: true, Choices: h.municipalityChoices(m)}, true
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

// munOfficialPost reads a POST's form, then its official and the
// municipality it is about, as munOfficial: the regional operator's m
// comes with the form. On false it has answered r.
func (h *handler) munOfficialPost(w http.ResponseWriter, r *http.Request, back string) (*user, munPlace, bool) {
	if !h.readForm(w, r) {
		return nil, munPlace{}, false
	}
	return h.munOfficial(w, r, back)
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
	// Actions are the row's lifecycle buttons.
	Actions []postButton
}

func munStatusOptions(selected string) []option {
	out := []option{{Value: "", Label: "Все", Selected: selected == ""}}
	for _, s := range certificate.Statuses() {
		out = append(out, option{Value: string(s), Label: ruCertificateStatus(s), Selected: string(s) == selected})
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
		id, ok := parseID(after)
		if badCursor = !ok; badCursor {
			page.Error, code = staleLinkText, http.StatusBadRequest
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
		// The buttons keep the municipality and the filter, so that the
		// list comes back as it was.
		keep := url.Values{}
		if mun.Regional {
			keep.Set("m", mun.Code)
		}
		if status != "" {
			keep.Set("status", status)
		}
		page.Listed = true
		for _, c := range list.Certificates {
			row := munCertRow{ID: c.ID.String(), Number: string(c.Number), Name: c.Holder.FullName, Birth: ruDate(c.Holder.BirthDate),
				Category: ruCategory(c.Category), Kind: ruKind(c), Status: ruCertificateStatus(c.Status),
				IssuedOn: ruDate(c.IssuedOn), ValidUntil: ruDate(c.ValidUntil)}
			for _, a := range munActions {
				if c.Status == a.From {
					b := button("/municipality/certificates/"+c.ID.String()+"/"+a.Word, a.Label)
					b.Secondary, b.Hidden = true, keep
					row.Actions = append(row.Actions, b)
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
	u, mun, ok := h.munOfficialPost(w, r, "/municipality")
	if !ok {
		return
	}
	a, known := munActionOf(r.PathValue("action"))
	id, ok := parseID(r.PathValue("id"))
	if !known || !ok {
		h.notFound(w, r)
		return
	}
	status := r.PostForm.Get("status")
	if !certificate.Status(status).Valid() {
		status = ""
	}
	_, err := h.cfg.Service.ChangeStatus(r.Context(), r.PostForm.Get("key"), id, a.Action, u.Caller)
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
		msg = a.Only + ": этот сейчас " + ruCertificateStatus(te.From) + "."
	} else if re, ok := errors.AsType[*funding.RuleError](err); ok {
		msg = refusalSentence(munRefusals, re)
	} else if ves := validationErrors(err); len(ves) > 0 {
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

	personInputs
	Residences, Categories, Protections []option
}

// munIssueForm is the issue form as typed: the child, their ids, where
// they live, and the certificate.
type munIssueForm struct {
	personForm
	PersonID, Residence, Guardian, Category, Protection string
	Funded                                              bool
}

var (
	munProtections = []option{
		{Value: string(certificate.Forbidden), Label: "Заявки подаёт только родитель"},
		{Value: string(certificate.ByName), Label: "Организация может подать заявку по номеру сертификата и ФИО ребёнка"},
		{Value: string(certificate.ByPassphrase), Label: "Организация может подать заявку по номеру сертификата и кодовому слову"}}
)

// munIssueOptions fills in the form's selects, cats' categories among
// them; a value that is no option is an error next to its select.
func (h *handler) munIssueOptions(page *munIssuePage, cats []enrollment.CategoryUse) {
	f := page.Form
	var categories []option
	for _, c := range cats {
		label := ruCategory(c.Category.Code) + ": "
		if c.Category.InHours() {
			label += ruCount(c.Category.HoursBase+c.Category.HoursExtra, "час", "часа", "часов") + " в неделю"
		} else {
			label += "номинал " + ruMoney(c.Category.Nominal) + " в год"
		}
		categories = append(categories, option{Value: c.Category.Code, Label: label})
	}
	fillSelects(page.Errors, append(page.selects(f.personForm, childEducationOptions),
		selectInput{"residence", f.Residence, h.municipalityChoices(""), &page.Residences},
		selectInput{"category", f.Category, categories, &page.Categories},
		selectInput{"protection", f.Protection, munProtections, &page.Protections})...)
}

// munCategories are the categories mun issues certificates in: the
// region's, from the municipality's limits. On false it has answered r.
func (h *handler) munCategories(w http.ResponseWriter, r *http.Request, u *user, mun munPlace) ([]enrollment.CategoryUse, bool) {
	lim, err := h.cfg.Service.Limits(r.Context(), u.Caller, mun.Code, funding.Date{})
	if err != nil {
		h.munFailed(w, r, err)
		return nil, false
	}
	return lim.Categories, true
}

// munIssueTitle begins the issue form's title; the municipality ends it.
const munIssueTitle = "Выдать сертификат — "

// munIssueForm is GET /municipality/issue.
func (h *handler) munIssueForm(w http.ResponseWriter, r *http.Request) {
	u, mun, ok := h.munOfficial(w, r, r.URL.RequestURI())
	if !ok {
		return
	}
	cats, ok := h.munCategories(w, r, u, mun)
	if !ok {
		return
	}
	page := munIssuePage{Mun: mun, Errors: fieldErrors{}, Key: uuid.NewString(), Form: munIssueForm{
		personForm: newPerson, Residence: mun.Code,
		Protection: string(certificate.Forbidden), Funded: true}}
	if len(cats) > 0 {
		page.Form.Category = cats[0].Category.Code
	}
	h.munIssueOptions(&page, cats)
	h.render(w, r, http.StatusOK, "municipality_issue", munIssueTitle+mun.Name, page)
}

// munIssue is POST /municipality/issue.
func (h *handler) munIssue(w http.ResponseWriter, r *http.Request) {
	u, mun, ok := h.munOfficialPost(w, r, "/municipality/issue")
	if !ok {
		return
	}
	cats, ok := h.munCategories(w, r, u, mun)
	if !ok {
		return
	}
	pf := r.PostForm
	page := munIssuePage{Mun: mun, Errors: fieldErrors{}, Key: uuid.NewString(), Form: munIssueForm{personForm: readPerson(pf),
		PersonID: pf.Get("personid"), Residence: pf.Get("residence"), Guardian: pf.Get("guardian"),
		Category: pf.Get("category"), Protection: pf.Get("protection"), Funded: pf.Get("funded") != ""}}
	h.munIssueOptions(&page, cats)
	f := page.Form
	req := enrollment.IssueRequest{Holder: f.holder(page.Errors),
		GuardianID: f.Guardian, Municipality: mun.Code, Category: f.Category, Funded: f.Funded,
		Protection: certificate.ProtectionMode(f.Protection), By: u.Caller,
	}
	req.Holder.PersonID, req.Holder.Municipality = f.PersonID, f.Residence
	if req.Protection == certificate.ByPassphrase {
		req.Passphrase = pf.Get("passphrase")
	}
	if len(page.Errors) > 0 {
		h.render(w, r, http.StatusBadRequest, "municipality_issue", munIssueTitle+mun.Name, page)
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

// munIssueFailed shows the service's refusal of the issue form next to the
// form, as typed: nothing was written.
func (h *handler) munIssueFailed(w http.ResponseWriter, r *http.Request, page *munIssuePage, err error) {
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
		h.render(w, r, code, "municipality_issue", munIssueTitle+page.Mun.Name, *page)
		return
	}
	if putFieldErrors(err, munFieldMessage, page.Errors, &page.Error) {
		h.render(w, r, http.StatusBadRequest, "municipality_issue", munIssueTitle+page.Mun.Name, *page)
		return
	}
	if errors.Is(err, enrollment.ErrForbidden) || errors.Is(err, enrollment.ErrNotFound) {
		h.munFailed(w, r, err)
		return
	}
	if re, ok := errors.AsType[*funding.RuleError](err); ok {
		page.Error = refusalSentence(munRefusals, re)
		h.render(w, r, refusalStatus(err), "municipality_issue", munIssueTitle+page.Mun.Name, *page)
		return
	}
	h.internal(w, r, err)
}

// munGrownUpText refuses a child who is 18 already.
const munGrownUpText = "Ребёнку уже исполнилось 18" + nbsp + "лет: сертификат выдаётся до совершеннолетия."

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
		return "birthdate", "Сертификат выдаётся детям с " + ruYearsGen(min) + ": по этой дате рождения ребёнку ещё нет " + ruYearsGen(min) + "."
	case certificate.RuleAgeLimitReached:
		return "birthdate", munGrownUpText
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
	case "holder.birth_date":
		if strings.Contains(e.Rule, "under") {
			return "birthdate", munGrownUpText
		}
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
	}
	if name, msg, ok := personFieldMessage(e, " ребёнка"); ok {
		return name, msg
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
	u, mun, ok := h.munOfficialPost(w, r, "/municipality/budget")
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
	if ves := validationErrors(err); len(ves) > 0 {
		switch ves[0].Field {
		case "limit":
			return http.StatusBadRequest, "Лимит не может быть отрицательным.", true
		case "idempotency_key":
			return http.StatusBadRequest, staleFormText, true
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
		return refusalStatus(err), refusalSentence(munRefusals, re), true
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
