package web

import (
	"errors"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/examples/server/demo"
	"github.com/edufund/edufund/funding"
)

// The adult scheme's pages (ПЦС, the personal digital certificate for
// adults from 18 to the pension age). GET /adult is the adult's own page:
// this year's certificate with its money, its place in the national
// quota's queue and the documents deadline, or, without one, the check of
// the right to it and the application. GET /adult/queue is the federal
// operator's list of the adult certificates, with the cancellation of one
// whose documents are overdue. The rules (eligibility, quota, queue,
// deadline) are the service's: the pages only ask it and say its answers
// in Russian.

func (h *handler) adultRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /adult", h.adult)
	mux.HandleFunc("POST /adult", h.adultApply)
	mux.HandleFunc("POST /adult/documents", h.adultDocuments)
	mux.HandleFunc("GET /adult/queue", h.adultQueue)
	mux.HandleFunc("POST /adult/queue/{id}/cancel", h.adultCancel)
}

// adultPage is GET /adult's body.
type adultPage struct {
	Done, Error string
	// Cert is the caller's certificate of this year; nil shows the form.
	Cert *adultCertView

	Form   adultForm
	Errors fieldErrors
	Key    string
	// Checked: the form was checked; Eligible and Reasons are the answer.
	Checked  bool
	Eligible bool
	Reasons  []string

	personInputs
	Regions, Municipalities []option
}

// adultForm is the application as the reader typed it: the person, and
// where they are registered.
type adultForm struct {
	personForm
	Region, Municipality string
}

// adultTitle is the title of the adult's own page.
const adultTitle = "Сертификат для взрослых"

type adultCertView struct {
	ID, Number, Name, Status, IssuedOn, ValidUntil string
	Funded, Terminal                               bool
	// Position is the place in the quota's queue, "3-й", and Place its
	// number; "" and 0 when funded.
	Position     string
	Place        int
	Money        *adultMoneyView
	BudgetNotice string
	Docs         adultDocsView
	// Upload is the holder's button that says the documents are uploaded.
	Upload *postButton
}

type adultMoneyView struct {
	Nominal, Balance, Reserved, Spent string
}

// adultDocsView is where a certificate's documents stand.
type adultDocsView struct {
	// Uploaded is the day they were uploaded, ValidReason the delay's
	// recorded reason; Due is the last day to upload them, for a
	// certificate that holds a place of the quota.
	Uploaded, ValidReason, Due string
	// Overdue: the service's policy would cancel the certificate today.
	Overdue bool
}

// adultReasons say in Russian why the adult scheme refuses a person, by
// the eligibility rule's code (certificate.AdultPolicy).
var adultReasons = map[string]string{
	certificate.RulePersonIDMissing:       "не указан идентификатор человека (СНИЛС): обратитесь к оператору",
	certificate.RuleCitizenship:           "сертификат выдаётся только гражданам Российской Федерации",
	certificate.RuleBirthDateMissing:      "не указана дата рождения",
	certificate.RuleSexMissing:            "не указан пол: по нему определяется пенсионный возраст",
	certificate.RulePensionAgeReached:     "достигнут общеустановленный пенсионный возраст: сертификат выдаётся до него",
	certificate.RuleEducation:             "нужно среднее профессиональное или высшее образование, полученное или получаемое сейчас",
	certificate.RuleRegionNotIn:           "регион регистрации не участвует в программе",
	certificate.RuleRegistration:          "нужна постоянная или временная регистрация в регионе, который участвует в программе",
	certificate.RuleAlreadyIssuedThisYear: "в этом году сертификат вам уже выдан: один сертификат на человека в год",
}

// adultReason is a failed rule in Russian; the age's says the minimum in
// force, and a rule without words of its own gets the general ones.
func (h *handler) adultReason(r certificate.Reason) string {
	if r.Rule == certificate.RuleAgeBelowMinimum {
		min := h.cfg.Service.RulesOn(h.cfg.Service.Today()).Adults.MinAge
		if min <= 0 {
			min = certificate.DefaultAdultMinAge
		}
		return "сертификат выдаётся с " + ruYearsGen(min) + ": вам ещё нет " + ruYearsGen(min)
	}
	return nameOr(adultReasons, r.Rule, "не выполнено одно из условий получения сертификата")
}

// adultRefusals say in Russian why the service refused a change of the
// adult pages, by the refusal's code.
var adultRefusals = map[string]string{
	enrollment.CodeCertificateExists:   "В этом году сертификат вам уже выдан: один сертификат на человека в год.",
	enrollment.CodeNotOverdue:          "Срок загрузки документов не истёк или документы уже загружены: сертификат аннулировать нельзя.",
	enrollment.CodeForbiddenTransition: "Сертификат уже аннулирован или срок его действия истёк.",
}

// adultFieldMessage names the input of the application a
// *funding.ValidationError of the service is about, with a Russian message;
// name "" is an error of no input (the message goes above the form).
func adultFieldMessage(e *funding.ValidationError) (name, msg string) {
	switch e.Field {
	case "holder.region":
		return "region", "Выберите регион из списка."
	case "holder.municipality":
		return "municipality", "Выберите муниципалитет из списка."
	case "holder.person_id":
		return "", "Ваш идентификатор не подходит для заявки. Обратитесь к оператору программы."
	}
	if name, msg, ok := personFieldMessage(e, ""); ok {
		return name, msg
	}
	return "", "Заявка не принята: проверьте данные формы."
}

// adultOtherRegion is the region option of a reader registered in a region
// that does not take part: the service then says so.
const adultOtherRegion = "other"

// adultRegionNames name the regions by code; a code left out shows as
// itself.
var adultRegionNames = map[string]string{demo.Region: "Демонстрационный регион"}

// adultOptions fills in page's selects for its form; a value that is no
// option is an error next to its select.
func (h *handler) adultOptions(page *adultPage) {
	f := page.Form
	regions := []option{}
	participating := h.cfg.Service.RulesOn(h.cfg.Service.Today()).Adults.Regions
	for _, code := range slices.Sorted(maps.Keys(participating)) {
		if participating[code] {
			regions = append(regions, option{Value: code, Label: nameIn(adultRegionNames, code)})
		}
	}
	regions = append(regions, option{Value: adultOtherRegion, Label: "Другой регион"})
	page.Own = true
	fillSelects(page.Errors, append(page.selects(f.personForm, adultEducationOptions),
		selectInput{"region", f.Region, regions, &page.Regions},
		selectInput{"municipality", f.Municipality, h.municipalityChoices(""), &page.Municipalities})...)
}

// adult is GET /adult.
func (h *handler) adult(w http.ResponseWriter, r *http.Request) {
	u := h.adultHolder(w, r)
	if u == nil {
		return
	}
	page := adultPage{Errors: fieldErrors{}}
	cert, err := h.adultCertificate(r, u)
	if err != nil {
		h.adultFailed(w, r, err)
		return
	}
	page.Cert = cert
	switch r.URL.Query().Get("done") {
	case "applied":
		switch {
		case cert == nil:
		case cert.Funded:
			page.Done = "Сертификат выдан: № " + cert.Number + ", действует до " + cert.ValidUntil + "."
		case cert.Position != "":
			page.Done = "Квота исчерпана: вы в очереди, позиция " + strconv.Itoa(cert.Place) + ". Когда место освободится, сертификат будет обеспечен."
		}
	case "documents":
		page.Done = "Отметка сохранена: документы организации загружены."
	}
	if cert == nil {
		page.Form = adultForm{personForm: newPerson}
		if d := h.demoPrincipal(u.Principal); d != nil {
			page.Form.FullName = d.Title
		}
		// The first participating region is the likely one: the region's
		// own server serves its residents.
		for code, ok := range h.cfg.Service.RulesOn(h.cfg.Service.Today()).Adults.Regions {
			if ok && (page.Form.Region == "" || code < page.Form.Region) {
				page.Form.Region = code
			}
		}
		page.Key = uuid.NewString()
		h.adultOptions(&page)
	}
	h.render(w, r, http.StatusOK, "adult", adultTitle, page)
}

// adultHolder is the signed-in holder of r; it answers r itself (the
// sign-in, or the page of another role) and returns nil otherwise.
func (h *handler) adultHolder(w http.ResponseWriter, r *http.Request) *user {
	u := h.signedIn(w, r, r.URL.RequestURI())
	if u == nil {
		return nil
	}
	// The page is a person's own: an official's certificates are read on
	// their own pages (the federal operator's on /adult/queue).
	if u.Caller.Role != enrollment.RoleHolder {
		h.fail(w, r, http.StatusForbidden, "Страница для получателей сертификата",
			"Здесь взрослый получает сертификат и видит свой. Войдите как получатель сертификата.")
		return nil
	}
	return u
}

// adultCertificate is the caller's adult certificate of this year, nil
// when they have none. The service lists only what the caller acts for.
func (h *handler) adultCertificate(r *http.Request, u *user) (*adultCertView, error) {
	year := h.cfg.Service.Today().Year()
	f := enrollment.CertificateFilter{Scheme: certificate.DigitalSkills, Limit: 10}
	for {
		page, err := h.cfg.Service.Certificates(r.Context(), u.Caller, f)
		if err != nil {
			return nil, err
		}
		for _, c := range page.Certificates {
			if c.IssuedOn.Year() != year {
				continue
			}
			cab, err := h.cfg.Service.Cabinet(r.Context(), u.Caller, c.ID)
			if err != nil {
				return nil, err
			}
			v := h.adultCertView(cab.Certificate, cab.Position)
			v.BudgetNotice = cab.BudgetNotice
			if m := cab.Money; m != nil && v.Funded {
				v.Money = &adultMoneyView{Nominal: ruMoney(m.Nominal), Balance: ruMoney(m.Balance), Reserved: ruMoney(m.Reserved), Spent: ruMoney(m.Spent)}
			}
			upload := button("/adult/documents", "Документы загружены")
			upload.Hidden = url.Values{"certificate": {v.ID}}
			v.Upload = &upload
			return &v, nil
		}
		// Newest first: past this year's, the rest are older.
		if page.Next == uuid.Nil || (len(page.Certificates) > 0 && page.Certificates[len(page.Certificates)-1].IssuedOn.Year() < year) {
			return nil, nil
		}
		f.After = page.Next
	}
}

func (h *handler) adultCertView(c certificate.Certificate, position int) adultCertView {
	v := adultCertView{ID: c.ID.String(), Number: string(c.Number), Name: c.Holder.FullName, Status: ruCertificateStatus(c.Status),
		IssuedOn: ruDate(c.IssuedOn), ValidUntil: ruDate(c.ValidUntil), Funded: c.Kind == certificate.Funded,
		Terminal: c.Status.Terminal(), Docs: h.adultDocs(c)}
	if !v.Funded && position > 0 {
		v.Position, v.Place = strconv.Itoa(position)+"-й", position
	}
	return v
}

// adultDocs is where c's documents stand: the deadline is the service's
// (Service.DocumentsDue), none for a certificate still in the queue.
func (h *handler) adultDocs(c certificate.Certificate) adultDocsView {
	d := adultDocsView{Uploaded: ruDate(c.Documents.UploadedOn), ValidReason: c.Documents.ValidReason}
	due, ok := h.cfg.Service.DocumentsDue(c)
	if !ok {
		return d
	}
	d.Due = ruDate(due)
	d.Overdue = !c.Status.Terminal() && certificate.MustCancelForDocuments(due, h.cfg.Service.Today(), !c.Documents.UploadedOn.IsZero(), c.Documents.ValidReason != "")
	return d
}

// adultFailed shows the page of a service error no form can show.
func (h *handler) adultFailed(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, enrollment.ErrNotFound):
		h.fail(w, r, http.StatusNotFound, "Сертификат не найден",
			"Такого сертификата нет среди ваших. Откройте страницу сертификата заново.")
	case errors.Is(err, enrollment.ErrForbidden):
		h.fail(w, r, http.StatusForbidden, "Нет доступа",
			"Это действие с сертификатами взрослых вам недоступно.")
	default:
		h.internal(w, r, err)
	}
}

// adultApply is POST /adult: "Проверить право" asks the service whether
// the reader may get the certificate and shows every reason why not;
// "Подать заявку" applies.
func (h *handler) adultApply(w http.ResponseWriter, r *http.Request) {
	u := h.adultHolder(w, r)
	if u == nil {
		return
	}
	if !h.readForm(w, r) {
		return
	}
	pf := r.PostForm
	page := adultPage{Errors: fieldErrors{}, Key: uuid.NewString(),
		Form: adultForm{personForm: readPerson(pf), Region: pf.Get("region"), Municipality: pf.Get("municipality")}}
	h.adultOptions(&page)
	// The person is always the signed-in reader.
	holder := page.Form.holder(page.Errors)
	holder.PersonID, holder.Region, holder.Municipality = u.Caller.ID, page.Form.Region, page.Form.Municipality
	if len(page.Errors) > 0 {
		h.render(w, r, http.StatusBadRequest, "adult", adultTitle, page)
		return
	}

	if pf.Get("action") != "apply" {
		d, err := h.cfg.Service.Eligibility(r.Context(), enrollment.EligibilityRequest{Scheme: certificate.DigitalSkills, Holder: holder, By: u.Caller})
		if err != nil {
			h.adultFormFailed(w, r, &page, err)
			return
		}
		page.Checked, page.Eligible = true, d.Eligible
		for _, rs := range d.Reasons {
			page.Reasons = append(page.Reasons, h.adultReason(rs))
		}
		h.render(w, r, http.StatusOK, "adult", adultTitle, page)
		return
	}
	_, err := h.cfg.Service.ApplyAdult(r.Context(), pf.Get("key"), enrollment.AdultApplication{Holder: holder, By: u.Caller})
	if err != nil {
		h.adultFormFailed(w, r, &page, err)
		return
	}
	http.Redirect(w, r, "/adult?done=applied", http.StatusSeeOther)
}

// adultFormFailed shows the service's refusal of the application next to
// the form, as typed: nothing was written.
func (h *handler) adultFormFailed(w http.ResponseWriter, r *http.Request, page *adultPage, err error) {
	if ie, ok := errors.AsType[*enrollment.IneligibleError](err); ok {
		page.Checked = true
		for _, rs := range ie.Reasons {
			page.Reasons = append(page.Reasons, h.adultReason(rs))
		}
		h.render(w, r, http.StatusUnprocessableEntity, "adult", adultTitle, *page)
		return
	}
	if putFieldErrors(err, adultFieldMessage, page.Errors, &page.Error) {
		h.render(w, r, http.StatusBadRequest, "adult", adultTitle, *page)
		return
	}
	if errors.Is(err, enrollment.ErrForbidden) || errors.Is(err, enrollment.ErrNotFound) {
		h.adultFailed(w, r, err)
		return
	}
	if re, ok := errors.AsType[*funding.RuleError](err); ok {
		page.Error = refusalSentence(adultRefusals, re)
		h.render(w, r, refusalStatus(err), "adult", adultTitle, *page)
		return
	}
	h.internal(w, r, err)
}

// adultDocuments is POST /adult/documents: the holder says the provider's
// documents are uploaded.
func (h *handler) adultDocuments(w http.ResponseWriter, r *http.Request) {
	u := h.adultHolder(w, r)
	if u == nil {
		return
	}
	if !h.readForm(w, r) {
		return
	}
	id, ok := parseID(r.PostForm.Get("certificate"))
	if !ok {
		h.adultFailed(w, r, enrollment.ErrNotFound)
		return
	}
	_, err := h.cfg.Service.RecordDocuments(r.Context(), r.PostForm.Get("key"),
		enrollment.DocumentsRequest{CertificateID: id, Uploaded: true, By: u.Caller})
	if err != nil {
		h.adultChangeFailed(w, r, err)
		return
	}
	http.Redirect(w, r, "/adult?done=documents", http.StatusSeeOther)
}

// adultChangeFailed shows the refusal of a change made by a button (no
// form to show again): a page saying why, with the way back.
func (h *handler) adultChangeFailed(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, enrollment.ErrForbidden) || errors.Is(err, enrollment.ErrNotFound) {
		h.adultFailed(w, r, err)
		return
	}
	if ves := validationErrors(err); len(ves) > 0 {
		msg := "Отметка не сохранена: это не сертификат для взрослых."
		if ves[0].Field == "idempotency_key" {
			msg = staleFormText
		}
		h.fail(w, r, http.StatusBadRequest, "Не выполнено", msg)
		return
	}
	if errors.Is(err, certificate.ErrForbiddenTransition) {
		h.fail(w, r, http.StatusConflict, "Не выполнено", adultRefusals[enrollment.CodeForbiddenTransition])
		return
	}
	if re, ok := errors.AsType[*funding.RuleError](err); ok {
		h.fail(w, r, refusalStatus(err), "Не выполнено", refusalSentence(adultRefusals, re))
		return
	}
	h.internal(w, r, err)
}

// adultQueuePage is GET /adult/queue's body.
type adultQueuePage struct {
	Done, Error string
	Year        int
	// Quota is the year's national quota in words; the service does not
	// tell how much of it is used.
	Quota       string
	Rows        []adultQueueRow
	Next, First string
}

type adultQueueRow struct {
	adultCertView
	Birth string
	// Cancel is the operator's button of a certificate whose documents are
	// overdue.
	Cancel *postButton
}

// adultQueue is GET /adult/queue: the federal operator's list of the
// adult certificates, newest first, a page at a time.
func (h *handler) adultQueue(w http.ResponseWriter, r *http.Request) {
	u := h.signedIn(w, r, r.URL.RequestURI())
	if u == nil {
		return
	}
	// The service would list a holder their own certificates (shown on
	// /adult) and a municipality none: the operator's page is shown to the
	// operator only; a provider the service refuses itself.
	if u.Caller.Role != enrollment.RoleFederal && u.Caller.Role != enrollment.RoleProvider {
		h.fail(w, r, http.StatusForbidden, "Нет доступа",
			"Квоту и очередь сертификатов для взрослых ведёт федеральный оператор.")
		return
	}
	page := adultQueuePage{Year: h.cfg.Service.Today().Year()}
	if q := h.cfg.Service.RulesOn(funding.MustDate(page.Year, time.December, 31)).AdultQuota; q != nil {
		page.Quota = ruCount(int(q(page.Year)), "место", "места", "мест")
	}
	switch r.URL.Query().Get("done") {
	case "cancelled":
		page.Done = "Сертификат аннулирован: его место по квоте передано первому в очереди."
	}
	status := http.StatusOK
	f := enrollment.CertificateFilter{Scheme: certificate.DigitalSkills}
	if after := r.URL.Query().Get("after"); after != "" {
		id, ok := parseID(after)
		if !ok {
			page.Error, status = staleLinkText, http.StatusBadRequest
		}
		f.After, page.First = id, "/adult/queue"
	}
	if page.Error == "" {
		list, err := h.cfg.Service.Certificates(r.Context(), u.Caller, f)
		if err != nil {
			h.adultFailed(w, r, err)
			return
		}
		for _, c := range list.Certificates {
			pos := 0
			if c.Kind != certificate.Funded && !c.Status.Terminal() {
				if pos, err = h.cfg.Service.QueuePosition(r.Context(), u.Caller, c.ID); err != nil {
					h.adultFailed(w, r, err)
					return
				}
			}
			row := adultQueueRow{adultCertView: h.adultCertView(c, pos), Birth: ruDate(c.Holder.BirthDate)}
			if row.Docs.Overdue {
				cancel := button("/adult/queue/"+c.ID.String()+"/cancel", "Аннулировать")
				row.Cancel = &cancel
			}
			page.Rows = append(page.Rows, row)
		}
		if list.Next != uuid.Nil {
			page.Next = "/adult/queue?after=" + list.Next.String()
		}
	}
	h.render(w, r, status, "adult_queue", "Квота и очередь", page)
}

// adultCancel is POST /adult/queue/{id}/cancel: the federal operator
// cancels a certificate whose documents are overdue.
func (h *handler) adultCancel(w http.ResponseWriter, r *http.Request) {
	u := h.signedIn(w, r, "/adult/queue")
	if u == nil {
		return
	}
	if !h.readForm(w, r) {
		return
	}
	id, ok := parseID(r.PathValue("id"))
	if !ok {
		h.adultFailed(w, r, enrollment.ErrNotFound)
		return
	}
	if _, err := h.cfg.Service.CancelOverdue(r.Context(), r.PostForm.Get("key"), id, u.Caller); err != nil {
		h.adultChangeFailed(w, r, err)
		return
	}
	http.Redirect(w, r, "/adult/queue?done=cancelled", http.StatusSeeOther)
}
