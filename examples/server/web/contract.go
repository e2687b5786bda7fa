package web

import (
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/funding"
)

// The application form (GET and POST /programs/{id}/apply) and the page of
// an application or contract (GET /contracts/{id}) with its actions (POST
// /contracts/{id}/{action}). The price a parent is shown before applying is
// the service's own: a dry run of the very submission the form would make,
// rolled back, so the page never prices a contract by itself.

func (h *handler) contractRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /programs/{id}/apply", h.applyForm)
	mux.HandleFunc("POST /programs/{id}/apply", h.apply)
	mux.HandleFunc("GET /contracts/{id}", h.contract)
	mux.HandleFunc("POST /contracts/{id}/{action}", h.contractAction)
}

// ---- the application form ----

// applyForm is the form as the parent filled it in.
type applyForm struct {
	Group, Cert, Month, Key string
	CoPay                   bool
}

type applyPage struct {
	ProgramID, Program, Provider string
	Form                         applyForm
	Groups, Certificates, Months []option
	// Errors are the messages next to the inputs, by input name; Error is
	// a refusal of the whole application, shown above the form.
	Errors fieldErrors
	Error  string
	// Preview is the service's price of the application; the form then
	// offers to submit it.
	Preview *priceView
	// NoGroups, NoCertificates: there is nothing to apply to or with.
	NoGroups, NoCertificates bool
}

// priceView is a contract's price split and its monthly schedule.
type priceView struct {
	Total, Cert, CoPay, Start, End, Duration string
	HasCoPay                                 bool
	// BudgetFunded: the municipality pays, nothing comes off the
	// certificate; OnCompletion: an adult course, paid when completed.
	BudgetFunded, OnCompletion bool
	Schedule                   []scheduleRow
}

type scheduleRow struct {
	Month, Total, Cert, CoPay string
}

// priceOf is the price c fixed at its submission, with one row of the
// schedule per month: the first month's amounts, then the others'.
func priceOf(c enrollment.Contract) *priceView {
	p := c.Price
	v := &priceView{Total: ruMoney(p.Total), Cert: ruMoney(p.Cert), CoPay: ruMoney(p.CoPay), HasCoPay: p.CoPay.IsPositive(),
		Start: ruDate(p.Start), End: ruDate(p.End), BudgetFunded: c.Registry.BudgetFunded(),
		OnCompletion: c.Scheme == certificate.DigitalSkills}
	if p.Months > 0 {
		v.Duration = "на " + ruCount(p.Months, "месяц", "месяца", "месяцев")
	}
	if v.OnCompletion || p.Start.IsZero() || p.End.IsZero() {
		return v
	}
	last := p.End.MonthOf()
	for m := p.Start.MonthOf(); !m.After(last); m = m.Next() {
		row := scheduleRow{Month: ruMonth(m), Total: ruMoney(p.Other), Cert: ruMoney(p.CertOther), CoPay: ruMoney(p.CoPayOther)}
		if len(v.Schedule) == 0 {
			row.Total, row.Cert, row.CoPay = ruMoney(p.First), ruMoney(p.CertFirst), ruMoney(p.CoPayFirst)
		}
		v.Schedule = append(v.Schedule, row)
	}
	return v
}

// applicant is the signed-in holder who may open the form; otherwise it
// answers the request itself and returns nil.
func (h *handler) applicant(w http.ResponseWriter, r *http.Request) *user {
	back := r.URL.RequestURI()
	if r.Method == http.MethodPost {
		back = r.URL.Path
	}
	u := h.signedIn(w, r, back)
	if u == nil {
		return nil
	}
	if u.Principal.Role != enrollment.RoleHolder {
		h.fail(w, r, http.StatusForbidden, "Заявку подаёт получатель сертификата",
			"Подать заявку на программу может родитель ребёнка или взрослый получатель сертификата. Войдите под своей учётной записью.")
		return nil
	}
	return u
}

// applyTo is the applicant and the program of the form's path; on false
// it has answered the request.
func (h *handler) applyTo(w http.ResponseWriter, r *http.Request) (*user, enrollment.ProgramPage, bool) {
	u := h.applicant(w, r)
	if u == nil {
		return nil, enrollment.ProgramPage{}, false
	}
	pg, ok := h.programOf(w, r)
	return u, pg, ok
}

// programOf reads the program of the path's {id}, as its page shows it;
// on failure it has answered the request.
func (h *handler) programOf(w http.ResponseWriter, r *http.Request) (enrollment.ProgramPage, bool) {
	id, ok := parseID(r.PathValue("id"))
	if !ok {
		h.programNotFound(w, r)
		return enrollment.ProgramPage{}, false
	}
	pg, err := h.cfg.Service.ProgramPage(r.Context(), id)
	return pg, !h.readFailed(w, r, err, h.programNotFound)
}

// groupOf is the program's group of id value; nil for none.
func groupOf(pg enrollment.ProgramPage, value string) *enrollment.GroupPage {
	for _, m := range pg.Modules {
		for i := range m.Groups {
			if g := &m.Groups[i]; value != "" && g.Group.ID.String() == value {
				return g
			}
		}
	}
	return nil
}

// defaultGroup is the first group with free seats, else the first.
func defaultGroup(pg enrollment.ProgramPage) *enrollment.GroupPage {
	var first *enrollment.GroupPage
	for _, m := range pg.Modules {
		for i := range m.Groups {
			g := &m.Groups[i]
			if g.Free > 0 {
				return g
			}
			if first == nil {
				first = g
			}
		}
	}
	return first
}

// startMonths are the months of g a study may start in: those not before
// today's, so that an application never starts in the past.
func startMonths(g *enrollment.GroupPage, today funding.Date) []funding.Month {
	var out []funding.Month
	for _, m := range g.Months {
		if !m.Before(today.MonthOf()) {
			out = append(out, m)
		}
	}
	return out
}

// applyOptions fills the page's selects for the form f.
func (h *handler) applyOptions(r *http.Request, u *user, pg enrollment.ProgramPage, page *applyPage) {
	f := page.Form
	for _, m := range pg.Modules {
		for _, g := range m.Groups {
			label := g.Group.Name
			if len(pg.Modules) > 1 {
				label += ", " + m.Module.Name
			}
			label += " (" + ruMonths(g.Months) + ", "
			if g.Free > 0 {
				label += "свободно " + ruCount(g.Free, "место", "места", "мест") + ")"
			} else {
				label += "мест нет)"
			}
			page.Groups = append(page.Groups, option{Value: g.Group.ID.String(), Label: label, Selected: g.Group.ID.String() == f.Group})
		}
	}
	page.NoGroups = len(page.Groups) == 0
	page.Certificates = h.certificates(r, u, f.Cert)
	page.NoCertificates = len(page.Certificates) == 0
	if g := groupOf(pg, f.Group); g != nil {
		for _, m := range startMonths(g, h.cfg.Service.Today()) {
			page.Months = append(page.Months, option{Value: m.String(), Label: ruMonth(m), Selected: m.String() == f.Month})
		}
	}
}

func (h *handler) applyForm(w http.ResponseWriter, r *http.Request) {
	u, pg, ok := h.applyTo(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	f := applyForm{Cert: q.Get("cert"), Key: uuid.NewString()}
	g := groupOf(pg, q.Get("group"))
	if g == nil {
		g = defaultGroup(pg)
	}
	if g != nil {
		f.Group = g.Group.ID.String()
		if ms := startMonths(g, h.cfg.Service.Today()); len(ms) > 0 {
			f.Month = ms[0].String()
		}
	}
	page := &applyPage{ProgramID: pg.Program.ID.String(), Program: pg.Program.Name, Provider: pg.Provider.Name, Form: f, Errors: fieldErrors{}}
	h.applyOptions(r, u, pg, page)
	h.render(w, r, http.StatusOK, "apply", "Заявка: "+pg.Program.Name, page)
}

// apply previews (step=preview) or submits (step=submit) the application.
func (h *handler) apply(w http.ResponseWriter, r *http.Request) {
	if !h.readForm(w, r) {
		return
	}
	u, pg, ok := h.applyTo(w, r)
	if !ok {
		return
	}
	pf := r.PostForm
	submit := pf.Get("step") == "submit"
	f := applyForm{Group: pf.Get("group"), Cert: pf.Get("cert"), Month: pf.Get("month"), Key: pf.Get("key"), CoPay: pf.Get("copay") != ""}
	if _, ok := parseID(f.Key); !ok {
		h.fail(w, r, http.StatusBadRequest, "Форма устарела", "Откройте страницу заявки заново и заполните форму.")
		return
	}
	page := &applyPage{ProgramID: pg.Program.ID.String(), Program: pg.Program.Name, Provider: pg.Provider.Name, Errors: fieldErrors{}}
	today := h.cfg.Service.Today()
	req := enrollment.SubmitRequest{CoPayAccepted: f.CoPay, By: u.Caller}

	g := groupOf(pg, f.Group)
	if g == nil {
		page.Errors["group"] = "Выберите группу из списка."
	} else {
		f.Group, req.GroupID = g.Group.ID.String(), g.Group.ID
		months := startMonths(g, today)
		m, err := funding.ParseMonth(f.Month)
		offered := err == nil && slices.Contains(months, m)
		switch {
		case !offered && !submit && len(months) > 0:
			// Another group was picked: its months are new to the reader,
			// and the preview shows which one it priced.
			m, offered = months[0], true
			f.Month = m.String()
		case !offered && len(months) == 0:
			page.Errors["month"] = "Группа уже закончилась: выберите другую."
		case !offered:
			page.Errors["month"] = "Выберите месяц начала занятий из списка."
		}
		if offered {
			// The first day of study: the month's first, the group's start
			// or today, whichever is latest.
			start := m.First()
			if g.Group.Start.After(start) {
				start = g.Group.Start
			}
			if today.After(start) {
				start = today
			}
			req.Start = start
		}
	}
	if id, ok := parseID(f.Cert); !ok {
		page.Errors["cert"] = "Выберите сертификат из списка."
	} else {
		req.CertificateID = id
	}
	page.Form = f
	h.applyOptions(r, u, pg, page)
	if len(page.Errors) > 0 {
		h.render(w, r, http.StatusBadRequest, "apply", "Заявка: "+pg.Program.Name, page)
		return
	}

	svc := h.cfg.Service
	if !submit {
		svc = svc.DryRun()
	}
	c, err := svc.Submit(r.Context(), f.Key, req)
	if err == nil && submit {
		http.Redirect(w, r, "/contracts/"+c.ID.String()+"?done=applied", http.StatusSeeOther)
		return
	}
	if err == nil {
		page.Preview = priceOf(c)
		h.render(w, r, http.StatusOK, "apply", "Заявка: "+pg.Program.Name, page)
		return
	}
	status, ok := h.applyRefused(r, err, req, page)
	if !ok {
		h.serviceFailed(w, r, err)
		return
	}
	h.render(w, r, status, "apply", "Заявка: "+pg.Program.Name, page)
}

// submitRefusals are the submission's refusals that errors.go's refusals
// do not cover, as sentences; they are consulted first. The budget limit
// reads as the cabinet's notice does (rules.md, limit 7).
var submitRefusals = map[string]string{
	enrollment.CodeGroupFull:       "В группе нет свободных мест: выберите другую группу.",
	enrollment.CodeBudgetLimit:     "Лимит средств муниципалитета исчерпан: новые средства по сертификату не резервируются, поэтому заявку на эту программу подать нельзя.",
	enrollment.CodeProgramLimit:    "Программа уже набрала столько детей, сколько может принять.",
	enrollment.CodeProviderLimit:   "Организация уже набрала столько детей, сколько может принять.",
	enrollment.CodeDirectionLimit:  "По этому направлению в муниципалитете не осталось мест на этот период.",
	enrollment.CodeCertificateUsed: "По этому сертификату уже есть договор на обучение.",
}

// applyRefused puts a refusal of the application on the page and returns
// the status to show it with; false when err is no refusal of the input.
func (h *handler) applyRefused(r *http.Request, err error, req enrollment.SubmitRequest, page *applyPage) (int, bool) {
	if ve, ok := errors.AsType[*funding.ValidationError](err); ok {
		switch ve.Field {
		case "certificate_id":
			page.Errors["cert"] = "Выберите сертификат из списка."
		case "group_id":
			page.Errors["group"] = "Выберите группу из списка."
		case "start":
			page.Errors["month"] = "Выберите месяц начала занятий из списка."
		default:
			page.Error = "Заявку не удалось проверить. Откройте страницу заявки заново и заполните форму."
		}
		return http.StatusBadRequest, true
	}
	// The group was found on the program's page: what the service does not
	// let this parent use is the certificate, as the navigator says it.
	if errors.Is(err, enrollment.ErrNotFound) || errors.Is(err, enrollment.ErrForbidden) {
		page.Errors["cert"] = "Сертификат не найден среди ваших: выберите из списка."
		return http.StatusBadRequest, true
	}
	if errors.Is(err, enrollment.ErrIdempotencyConflict) {
		page.Error = resentFormText
		page.Form.Key = uuid.NewString()
		page.Preview = nil
		return http.StatusConflict, true
	}
	re, ok := errors.AsType[*funding.RuleError](err)
	if !ok {
		return 0, false
	}
	if re.Code == enrollment.CodeInsufficientBalance && !req.CoPayAccepted {
		// The same code refuses a co-payment the parent has not agreed to:
		// the same request with the agreement tells the two apart, and
		// shows what there is to agree to.
		req.CoPayAccepted = true
		if c, err := h.cfg.Service.DryRun().Submit(r.Context(), uuid.NewString(), req); err == nil {
			page.Errors["copay"] = "Сертификат покрывает не всю стоимость: отметьте согласие оплатить " + ruMoney(c.Price.CoPay) + " самостоятельно."
			page.Preview = priceOf(c)
			return http.StatusUnprocessableEntity, true
		}
	}
	page.Error = submitRefusalText(re)
	if re.Code == enrollment.CodeBudgetLimit {
		if cab, err := h.cfg.Service.Cabinet(r.Context(), req.By, req.CertificateID); err == nil && cab.BudgetNotice != "" {
			page.Error = cab.BudgetNotice + " Заявку на эту программу подать нельзя."
		}
	}
	switch re.Code {
	case enrollment.CodeGroupFull, enrollment.CodeDuplicateModule:
		return http.StatusConflict, true
	}
	return http.StatusUnprocessableEntity, true
}

// submitRefusalText is a refusal of a submission as a sentence.
func submitRefusalText(re *funding.RuleError) string {
	return nameOr(submitRefusals, re.Code, "Заявку подать нельзя: "+refusalText(re)+".")
}

// ---- the contract page ----

// contractNext says what happens next in status s, to the family
// (holder) or to the provider.
func contractNext(s enrollment.Status, provider bool) string {
	switch s {
	case enrollment.Requested:
		if provider {
			return "Подтвердите зачисление или откажите, указав причину: семья увидит ответ в личном кабинете."
		}
		return "Организация рассмотрит заявку и подтвердит зачисление или откажет. Деньги сертификата на оплату зарезервированы."
	case enrollment.Accepted:
		if provider {
			return "Зачисление подтверждено: договор вступит в силу, когда семья примет оферту."
		}
		return "Организация подтвердила зачисление. Примите оферту, чтобы заключить договор."
	case enrollment.Active:
		return "Занятия идут: оплата с сертификата списывается помесячно по графику ниже."
	case enrollment.Terminating:
		return "Неиспользованный резерв уже вернулся на сертификат; договор закроется при ближайшем ежемесячном закрытии."
	case enrollment.Closed:
		return "Договор закрыт: оплата по нему завершена."
	case enrollment.Refused:
		return "Зарезервированные деньги вернулись на сертификат. Можно подать заявку в другую группу или программу."
	case enrollment.Withdrawn:
		return "Зарезервированные деньги вернулись на сертификат."
	}
	return ""
}

// contractDone are the confirmations of the page's ?done=.
var contractDone = map[string]string{
	"applied":   "Заявка подана: организация рассмотрит её и подтвердит зачисление.",
	"withdraw":  "Заявка отозвана: зарезервированные деньги вернулись на сертификат.",
	"accept":    "Оферта принята: договор заключён.",
	"terminate": "Договор расторгнут.",
	"rate":      "Спасибо, оценка сохранена.",
	"confirm":   "Зачисление подтверждено: семье направлена оферта.",
	"refuse":    "В зачислении отказано: семья увидит причину.",
	"delivery":  "Отчёт об оказании услуги за месяц принят.",
}

type contractPage struct {
	ID                                          string
	ProgramID, Program, Module, Group, Schedule string
	Provider, Certificate, Holder               string
	Status, Next, Heading                       string
	// Reason is the provider's refusal, by line as it was typed.
	Reason      []string
	Dates       []dateRow
	Price       *priceView
	Done, Error string
	Errors      fieldErrors

	// The actions the caller may take now, each with its form's key;
	// Buttons are those of one button (accept, confirm, withdraw,
	// terminate).
	Withdraw, Accept, Terminate, Rate, Confirm, Refuse, Deliver bool
	Keys                                                        map[string]string
	Buttons                                                     []postButton
	// As typed, when a form is shown again.
	ReasonText, Percent string
	DeliveryMonths      []option
	Ratings             []ratingField
	// Rated is the holder's own rating of the program, as saved: a
	// parameter's label and score each.
	Rated []dateRow
}

type dateRow struct{ Label, Value string }

type ratingField struct {
	Name, Label string
	Options     []option
}

// ratingParams are the rating's parameters (rules.md) by input name.
var ratingParams = []struct{ Name, Label string }{
	{"results", "Достигнутые результаты"},
	{"staff", "Педагоги"},
	{"means", "Средства обучения"},
	{"satisfaction", "Общая удовлетворённость"},
}

// contractActions are the POST actions of the page.
var contractActions = []string{"withdraw", "accept", "terminate", "rate", "confirm", "refuse", "delivery"}

// contractOf reads the contract of the path for u; on failure it has
// answered the request.
func (h *handler) contractOf(w http.ResponseWriter, r *http.Request, u *user) (enrollment.Contract, bool) {
	id, ok := parseID(r.PathValue("id"))
	if !ok {
		h.contractNotFound(w, r)
		return enrollment.Contract{}, false
	}
	c, err := h.cfg.Service.Contract(r.Context(), u.Caller, id)
	return c, !h.readFailed(w, r, err, h.contractNotFound)
}

func (h *handler) contractNotFound(w http.ResponseWriter, r *http.Request) {
	h.fail(w, r, http.StatusNotFound, "Договор не найден",
		"Такой заявки или договора нет среди ваших. Проверьте ссылку или откройте список заявок в личном кабинете.")
}

func (h *handler) contract(w http.ResponseWriter, r *http.Request) {
	u := h.signedIn(w, r, r.URL.RequestURI())
	if u == nil {
		return
	}
	c, ok := h.contractOf(w, r, u)
	if !ok {
		return
	}
	page, err := h.contractView(r, u, c, "")
	if err != nil {
		h.serviceFailed(w, r, err)
		return
	}
	page.Done = contractDone[r.URL.Query().Get("done")]
	h.render(w, r, http.StatusOK, "contract", page.title(), page)
}

func (p *contractPage) title() string {
	if p.Program == "" {
		return "Договор"
	}
	return "Договор: " + p.Program
}

// contractView is the page of c for u; form is the action whose form is
// shown again with the reader's input ("" for none).
func (h *handler) contractView(r *http.Request, u *user, c enrollment.Contract, form string) (*contractPage, error) {
	ctx := r.Context()
	p := &contractPage{ID: c.ID.String(), ProgramID: c.ProgramID.String(), Status: ruContractStatus(c.Status),
		Price: priceOf(c), Errors: fieldErrors{}, Keys: map[string]string{}}
	p.Heading = "Договор на программу"
	if c.Status == enrollment.Requested || c.Status == enrollment.Accepted || c.Status == enrollment.Refused || c.Status == enrollment.Withdrawn {
		p.Heading = "Заявка на программу"
	}
	if c.Reason != "" {
		p.Reason = strings.Split(c.Reason, "\n")
	}
	o, err := h.cfg.Service.Offer(ctx, c.GroupID)
	switch {
	case err == nil:
		p.Program, p.Module, p.Group, p.Schedule, p.Provider = o.Program.Name, o.Module.Name, o.Group.Name, o.Group.Schedule, o.Provider.Name
	case !errors.Is(err, enrollment.ErrNotFound):
		return nil, err
	}
	// The certificate's number only for whoever may read it: a provider
	// may not, and then sees none.
	if cab, err := h.cfg.Service.Cabinet(ctx, u.Caller, c.CertificateID); err == nil {
		p.Certificate, p.Holder = string(cab.Certificate.Number), cab.Certificate.Holder.FullName
	} else if _, refused := errors.AsType[*funding.RuleError](err); !refused {
		h.log.WarnContext(ctx, "contract: the certificate could not be read", "err", err)
	}
	for _, d := range []dateRow{
		{"Заявка подана", ruDate(h.regionDate(c.CreatedAt))}, {"Оферта направлена", ruDate(c.OfferedOn)}, {"Договор заключён", ruDate(c.ActivatedOn)},
		{"Договор расторгнут", ruDate(c.TerminatedOn)}, {closedLabel(c.Status), ruDate(c.ClosedOn)},
	} {
		if d.Value != "" {
			p.Dates = append(p.Dates, d)
		}
	}

	role := u.Principal.Role
	holder, provider := role == enrollment.RoleHolder, role == enrollment.RoleProvider
	if holder || provider {
		p.Next = contractNext(c.Status, provider)
	}
	today := h.cfg.Service.Today()
	live := c.Status == enrollment.Requested || c.Status == enrollment.Accepted
	p.Withdraw = holder && live
	p.Accept = holder && c.Status == enrollment.Accepted
	p.Terminate = (holder || provider) && c.Status == enrollment.Active
	p.Rate = holder && enrollment.CanRate(c, today, h.cfg.Service.RulesOn(today).RatingWindowMonths) == nil
	p.Confirm = provider && c.Status == enrollment.Requested
	p.Refuse = provider && live
	if provider && c.Scheme != certificate.DigitalSkills &&
		(c.Status == enrollment.Active || c.Status == enrollment.Terminating || c.Status == enrollment.Closed) {
		// The months charged so far: from the start's to this one, within
		// the contract.
		last := c.Price.End.MonthOf()
		if today.MonthOf().Before(last) {
			last = today.MonthOf()
		}
		for m := c.Price.Start.MonthOf(); !c.Price.Start.IsZero() && !m.After(last); m = m.Next() {
			p.DeliveryMonths = append(p.DeliveryMonths, option{Value: m.String(), Label: ruMonth(m), Selected: form == "delivery" && r.PostForm.Get("month") == m.String()})
		}
		if len(p.DeliveryMonths) > 0 && form != "delivery" {
			p.DeliveryMonths[len(p.DeliveryMonths)-1].Selected = true
		}
		p.Deliver = len(p.DeliveryMonths) > 0
	}
	var saved map[string]int
	if holder {
		rt, ok, err := h.cfg.Service.ContractRating(ctx, u.Caller, c.ID)
		if err != nil {
			return nil, err
		}
		if ok {
			saved = map[string]int{"results": rt.Results, "staff": rt.Staff, "means": rt.Means, "satisfaction": rt.Satisfaction}
			for _, rp := range ratingParams {
				p.Rated = append(p.Rated, dateRow{Label: rp.Label, Value: ruCount(saved[rp.Name], "балл", "балла", "баллов")})
			}
		}
	}
	if p.Rate {
		for _, rp := range ratingParams {
			typed := ""
			if form == "rate" {
				typed = r.PostForm.Get(rp.Name)
			} else if v, ok := saved[rp.Name]; ok {
				typed = strconv.Itoa(v)
			}
			f := ratingField{Name: rp.Name, Label: rp.Label, Options: []option{{Value: "", Label: "Выберите оценку", Selected: typed == ""}}}
			for v := 100; v >= 0; v -= 10 {
				s := strconv.Itoa(v)
				f.Options = append(f.Options, option{Value: s, Label: ruCount(v, "балл", "балла", "баллов"), Selected: typed == s})
			}
			p.Ratings = append(p.Ratings, f)
		}
	}
	if form == "refuse" {
		p.ReasonText = r.PostForm.Get("reason")
	}
	if form == "delivery" {
		p.Percent = r.PostForm.Get("percent")
	}
	for _, a := range contractActions {
		p.Keys[a] = uuid.NewString()
	}
	for _, b := range []struct {
		shown         bool
		action, label string
		secondary     bool
	}{
		{p.Accept, "accept", "Принять оферту", false},
		{p.Confirm, "confirm", "Подтвердить зачисление", false},
		{p.Withdraw, "withdraw", "Отозвать заявку", true},
		{p.Terminate, "terminate", "Расторгнуть договор", true},
	} {
		if b.shown {
			p.Buttons = append(p.Buttons, postButton{Path: "/contracts/" + p.ID + "/" + b.action, Label: b.label,
				Key: p.Keys[b.action], Secondary: b.secondary})
		}
	}
	return p, nil
}

// closedLabel names the day a contract in status s ended.
func closedLabel(s enrollment.Status) string {
	switch s {
	case enrollment.Refused:
		return "Отказ в зачислении"
	case enrollment.Withdrawn:
		return "Заявка отозвана"
	}
	return "Договор закрыт"
}

// contractAction runs an action of the page and returns to it.
func (h *handler) contractAction(w http.ResponseWriter, r *http.Request) {
	action := r.PathValue("action")
	if !slices.Contains(contractActions, action) {
		h.notFound(w, r)
		return
	}
	if !h.readForm(w, r) {
		return
	}
	u := h.signedIn(w, r, "/contracts/"+r.PathValue("id"))
	if u == nil {
		return
	}
	c, ok := h.contractOf(w, r, u)
	if !ok {
		return
	}
	key := r.PostForm.Get("key")
	if _, ok := parseID(key); !ok {
		h.fail(w, r, http.StatusBadRequest, "Форма устарела", "Откройте страницу договора заново и повторите действие.")
		return
	}
	errs := fieldErrors{}
	err := h.runContractAction(r, action, key, enrollment.ContractRequest{ContractID: c.ID, By: u.Caller}, errs)
	if err == nil && len(errs) == 0 {
		http.Redirect(w, r, "/contracts/"+c.ID.String()+"?done="+action, http.StatusSeeOther)
		return
	}
	status, msg := http.StatusBadRequest, ""
	if err != nil {
		var ok bool
		if status, msg, ok = contractRefused(err, action, errs); !ok {
			if errors.Is(err, enrollment.ErrForbidden) {
				h.fail(w, r, http.StatusForbidden, "Действие недоступно",
					"Это действие с договором вам недоступно: его выполняет другая сторона договора или никто в этом статусе.")
				return
			}
			if errors.Is(err, enrollment.ErrNotFound) {
				h.contractNotFound(w, r)
				return
			}
			h.serviceFailed(w, r, err)
			return
		}
	}
	// Nothing changed here, but another tab or the other party may have
	// moved the contract on: the page shows it as it is now.
	if now, rerr := h.cfg.Service.Contract(r.Context(), u.Caller, c.ID); rerr == nil {
		c = now
	}
	page, rerr := h.contractView(r, u, c, action)
	if rerr != nil {
		h.serviceFailed(w, r, rerr)
		return
	}
	page.Error, page.Errors = msg, errs
	if errors.Is(err, enrollment.ErrForbiddenTransition) {
		page.Error = "Это действие уже недоступно: договор в статусе «" + ruContractStatus(c.Status) + "». Обновите страницу."
	}
	h.render(w, r, status, "contract", page.title(), page)
}

// runContractAction calls the service for action; a form's input it cannot
// read goes to errs, and the service is then not called.
func (h *handler) runContractAction(r *http.Request, action, key string, req enrollment.ContractRequest, errs fieldErrors) error {
	ctx, svc, pf := r.Context(), h.cfg.Service, r.PostForm
	var err error
	switch action {
	case "withdraw":
		_, err = svc.Withdraw(ctx, key, req)
	case "accept":
		_, err = svc.Accept(ctx, key, req)
	case "terminate":
		_, err = svc.Terminate(ctx, key, req)
	case "confirm":
		_, err = svc.Confirm(ctx, key, req)
	case "refuse":
		// A browser sends a textarea's lines split by CR LF; the service
		// keeps line feeds only.
		req.Reason = strings.ReplaceAll(pf.Get("reason"), "\r\n", "\n")
		_, err = svc.Refuse(ctx, key, req)
	case "rate":
		var v [4]int
		for i, rp := range ratingParams {
			n, perr := strconv.Atoi(pf.Get(rp.Name))
			if perr != nil {
				errs[rp.Name] = "Выберите оценку из списка."
			}
			v[i] = n
		}
		if len(errs) > 0 {
			return nil
		}
		rt, verr := enrollment.NewRating(v[0], v[1], v[2], v[3])
		if verr != nil {
			return verr
		}
		_, err = svc.Rate(ctx, key, enrollment.RateRequest{ContractRequest: req, Rating: rt})
	case "delivery":
		m, merr := funding.ParseMonth(pf.Get("month"))
		if merr != nil {
			errs["month"] = "Выберите месяц из списка."
		}
		pct, perr := strconv.Atoi(strings.TrimSpace(pf.Get("percent")))
		if perr != nil || pct < 0 || pct > 100 {
			errs["percent"] = "Укажите, сколько процентов занятий месяца проведено: целое число от 0 до 100."
		}
		if len(errs) > 0 {
			return nil
		}
		_, err = svc.ReportDelivery(ctx, key, enrollment.DeliveryReport{ContractRequest: req, Month: m, Percent: pct})
	}
	return err
}

// actionRefusals are the refusals of the contract's actions in Russian.
var actionRefusals = map[string]string{
	enrollment.CodeCertificateNotActive: "Сертификат не активен: по нему нельзя зачислить, пока он не активирован или пока его действие приостановлено.",
	enrollment.CodeRatingClosed:         "Оценить программу можно, пока договор действует, и в течение месяца после его окончания.",
	enrollment.CodeNotBilled:            "За этот месяц оплата по договору не начислялась: отчитаться можно только за оплаченный месяц.",
	enrollment.CodeAlreadyReported:      "Об оказании услуги за этот месяц уже сообщено.",
}

// contractRefused turns a refusal of an action into a status and a
// message (or errs, for an input); false for an error that is no refusal.
func contractRefused(err error, action string, errs fieldErrors) (int, string, bool) {
	if ve, ok := errors.AsType[*funding.ValidationError](err); ok {
		switch ve.Field {
		case "reason":
			if strings.Contains(ve.Rule, "required") {
				errs["reason"] = "Укажите причину отказа: семья увидит её в личном кабинете."
			} else if strings.Contains(ve.Rule, "at most") {
				errs["reason"] = "Причина слишком длинная: не больше " + ruCount(funding.MaxNoteLen, "символа", "символов", "символов") + "."
			} else {
				errs["reason"] = "В причине есть недопустимые символы: уберите их."
			}
		case "results", "staff", "means", "satisfaction":
			errs[ve.Field] = "Выберите оценку из списка."
		case "percent":
			errs["percent"] = "Укажите, сколько процентов занятий месяца проведено: целое число от 0 до 100."
		case "month":
			errs["month"] = "Выберите месяц из списка."
		default:
			return http.StatusBadRequest, "Действие не выполнено: форма заполнена неверно. Откройте страницу заново.", true
		}
		return http.StatusBadRequest, "", true
	}
	if errors.Is(err, enrollment.ErrForbiddenTransition) {
		return http.StatusConflict, "", true
	}
	if errors.Is(err, enrollment.ErrIdempotencyConflict) {
		return http.StatusConflict, resentFormText, true
	}
	if errors.Is(err, enrollment.ErrNotFound) || errors.Is(err, enrollment.ErrForbidden) {
		return 0, "", false
	}
	re, ok := errors.AsType[*funding.RuleError](err)
	if !ok {
		return 0, "", false
	}
	return http.StatusUnprocessableEntity, refusalSentence(actionRefusals, re), true
}
