package web

import (
	"cmp"
	"errors"
	"net/http"
	"net/url"
	"slices"

	"github.com/google/uuid"

	"github.com/edufund/edufund/catalog"
	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/funding"
)

// The provider's cabinet: its applications and contracts by stage (GET
// /provider), its programs with their groups and seats (GET
// /provider/groups) and its invoices of a month (GET /provider/invoices).
// The pages only read: confirming, refusing and the monthly delivery
// report are the contract page's actions (POST /contracts/{id}/...), which
// the lists post to or link to. What a provider may see is the service's
// decision, through the caller; the pages only choose how to show it.

func (h *handler) providerRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /provider", h.providerContracts)
	mux.HandleFunc("GET /provider/groups", h.providerGroups)
	mux.HandleFunc("GET /provider/invoices", h.providerInvoices)
}

// providerUser is the signed-in provider; otherwise it answers the
// request itself (the sign-in, or a refusal for another role) and
// returns nil. The lists the pages read answer other roles with their
// own data (a municipality's contracts, the public catalogue), so the
// section refuses them before reading anything.
func (h *handler) providerUser(w http.ResponseWriter, r *http.Request) *user {
	u := h.signedIn(w, r, r.URL.RequestURI())
	if u == nil {
		return nil
	}
	if u.Principal.Role != enrollment.RoleProvider {
		h.providerForbidden(w, r)
		return nil
	}
	return u
}

func (h *handler) providerForbidden(w http.ResponseWriter, r *http.Request) {
	h.fail(w, r, http.StatusForbidden, "Раздел для организаций",
		"Эти страницы — для организаций, которые ведут программы: заявки, группы и счета. Войдите под учётной записью организации.")
}

// providerFailed shows an error of the service's reads: a refusal of the
// caller as 403, a refused input as 400, the rest as
// serviceFailed shows it.
func (h *handler) providerFailed(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, enrollment.ErrForbidden):
		h.providerForbidden(w, r)
	case errors.Is(err, enrollment.ErrNotFound):
		h.fail(w, r, http.StatusNotFound, "Не найдено",
			"Запрошенных данных нет среди данных вашей организации. Откройте раздел заново из меню.")
	default:
		if _, ok := errors.AsType[*funding.ValidationError](err); ok {
			h.providerBadLink(w, r)
			return
		}
		h.serviceFailed(w, r, err)
	}
}

// providerBadLink is the answer to a query the pages did not make.
func (h *handler) providerBadLink(w http.ResponseWriter, r *http.Request) {
	h.fail(w, r, http.StatusBadRequest, "Неверная ссылка",
		"В адресе страницы неверный параметр: возможно, ссылка устарела или повреждена. Откройте раздел заново из меню.")
}

// ---- applications and contracts ----

// providerTab is a list of /provider: the contracts in its statuses.
type providerTab struct {
	Key, Label, Empty string
	Statuses          []enrollment.Status
}

// providerTabs are the lists in their order; the last takes every status
// the others do not, so that a status added to the lifecycle is still
// listed somewhere.
var providerTabs = func() []providerTab {
	tabs := []providerTab{
		{Key: "new", Label: "Новые заявки", Empty: "Новых заявок нет.", Statuses: []enrollment.Status{enrollment.Requested}},
		{Key: "offers", Label: "Оферты у семей", Empty: "Оферт, которые ждут ответа семьи, нет.", Statuses: []enrollment.Status{enrollment.Accepted}},
		{Key: "active", Label: "Действующие договоры", Empty: "Действующих договоров нет.", Statuses: []enrollment.Status{enrollment.Active, enrollment.Terminating}},
		{Key: "ended", Label: "Завершённые", Empty: "Завершённых договоров, отказов и отозванных заявок нет."},
	}
	for _, s := range enrollment.Statuses {
		listed := false
		for _, t := range tabs[:len(tabs)-1] {
			listed = listed || slices.Contains(t.Statuses, s)
		}
		if !listed {
			tabs[len(tabs)-1].Statuses = append(tabs[len(tabs)-1].Statuses, s)
		}
	}
	return tabs
}()

type providerContractsPage struct {
	Tabs []navLink
	Tab  providerTab
	Rows []providerRow
	// Next and First are the pager's links ("" for none).
	Next, First string
	// Actions: the tab's rows offer a quick action.
	Actions bool
}

// providerRow is an application or a contract of the list.
type providerRow struct {
	ID, Submitted, Program, Module, Group, Dates, Status string
	// Monthly is the regular month's payment; Split says who pays it.
	Monthly, Split string
	// Confirm is the quick confirmation's button; Refuse: a link to the
	// refusal on the contract page; Deliver: a link to the monthly report
	// there.
	Confirm         *postButton
	Refuse, Deliver bool
}

func (h *handler) providerContracts(w http.ResponseWriter, r *http.Request) {
	u := h.providerUser(w, r)
	if u == nil {
		return
	}
	q := r.URL.Query()
	show := q.Get("show")
	if show == "" {
		show = providerTabs[0].Key
	}
	i := slices.IndexFunc(providerTabs, func(t providerTab) bool { return t.Key == show })
	if i < 0 {
		h.fail(w, r, http.StatusBadRequest, "Такого списка нет",
			"В адресе страницы указан список, которого нет. Выберите список заявок или договоров на странице «Заявки и договоры».")
		return
	}
	tab := providerTabs[i]
	var after uuid.UUID
	if s := q.Get("after"); s != "" {
		var ok bool
		if after, ok = parseID(s); !ok {
			h.fail(w, r, http.StatusBadRequest, "Ссылка устарела", staleLinkText)
			return
		}
	}
	res, err := h.cfg.Service.Contracts(r.Context(), u.Caller, enrollment.ContractFilter{Statuses: tab.Statuses, After: after, Limit: 20})
	if err != nil {
		h.providerFailed(w, r, err)
		return
	}
	page := providerContractsPage{Tab: tab, Actions: tab.Key != "ended"}
	for _, t := range providerTabs {
		page.Tabs = append(page.Tabs, navLink{Href: providerListURL(t.Key, uuid.Nil), Label: t.Label, Current: t.Key == tab.Key})
	}
	offers := map[uuid.UUID]*enrollment.Offer{}
	for _, c := range res.Contracts {
		o, ok := offers[c.GroupID]
		if !ok {
			got, err := h.cfg.Service.Offer(r.Context(), c.GroupID)
			switch {
			case err == nil:
				o = &got
			case !errors.Is(err, enrollment.ErrNotFound):
				h.serviceFailed(w, r, err)
				return
			}
			offers[c.GroupID] = o
		}
		page.Rows = append(page.Rows, h.providerRow(c, o))
	}
	if res.Next != uuid.Nil {
		page.Next = providerListURL(tab.Key, res.Next)
	}
	if after != uuid.Nil {
		page.First = providerListURL(tab.Key, uuid.Nil)
	}
	h.render(w, r, http.StatusOK, "provider", "Заявки и договоры", page)
}

// providerListURL is the list show from after (uuid.Nil: its first page).
func providerListURL(show string, after uuid.UUID) string {
	v := url.Values{"show": {show}}
	if after != uuid.Nil {
		v.Set("after", after.String())
	}
	return "/provider?" + v.Encode()
}

// providerRow is c as its list shows it; o is its group's offer, nil
// when the group is gone.
func (h *handler) providerRow(c enrollment.Contract, o *enrollment.Offer) providerRow {
	row := providerRow{ID: c.ID.String(), Submitted: ruDate(h.regionDate(c.CreatedAt)), Status: ruContractStatus(c.Status), Program: "—"}
	if o != nil {
		row.Program, row.Module, row.Group = o.Program.Name, o.Module.Name, o.Group.Name
	}
	start, end := c.Start, c.End
	if start.IsZero() {
		start, end = c.Price.Start, c.Price.End
	}
	if !start.IsZero() {
		row.Dates = ruDate(start) + " — " + ruDate(end)
	}
	p := c.Price
	// The regular month's amounts: the first month's may differ (a start
	// within the month), as the contract page's schedule shows.
	month, cert, copay := p.Other, p.CertOther, p.CoPayOther
	if p.Months <= 1 {
		month, cert, copay = p.First, p.CertFirst, p.CoPayFirst
	}
	switch {
	case c.Scheme == certificate.DigitalSkills:
		row.Monthly, row.Split = ruMoney(p.Total), "за весь курс, оплата после завершения обучения"
	case c.Registry.BudgetFunded():
		row.Monthly, row.Split = ruMoney(month), "в месяц, из бюджета муниципалитета"
	default:
		row.Monthly, row.Split = ruMoney(month), "в месяц: сертификатом "+ruMoney(cert)+", доплата семьи "+ruMoney(copay)
	}
	switch c.Status {
	case enrollment.Requested:
		confirm := button("/contracts/"+c.ID.String()+"/confirm", "Подтвердить")
		row.Confirm, row.Refuse = &confirm, true
	case enrollment.Accepted:
		row.Refuse = true
	case enrollment.Active, enrollment.Terminating:
		row.Deliver = c.Scheme != certificate.DigitalSkills
	}
	return row
}

// ---- groups and seats ----

type providerGroupsPage struct {
	Programs    []providerProgram
	Next, First string
}

type providerProgram struct {
	ID, Name, Kind, Ages, Enrolment string
	Modules                         []providerModule
}

type providerModule struct {
	Name, Price string
	Groups      []providerGroup
}

type providerGroup struct {
	Name, Dates, Months, Seats, Address, Schedule string
	Full                                          bool
}

// providerProgramsPage is how many programs the page shows at once: each
// is read with its groups.
const providerProgramsPage = 20

func (h *handler) providerGroups(w http.ResponseWriter, r *http.Request) {
	u := h.providerUser(w, r)
	if u == nil {
		return
	}
	// The catalogue is public: a provider's programs are found by its id,
	// which its caller carries; the service has no read of "my programs".
	pid, ok := parseID(u.Caller.ID)
	if !ok {
		h.providerForbidden(w, r)
		return
	}
	s := catalog.Search{ProviderID: pid, Limit: providerProgramsPage}
	if c := r.URL.Query().Get("after"); c != "" {
		cur, ok := catalog.ParseCursor(c)
		if !ok {
			h.fail(w, r, http.StatusBadRequest, "Ссылка устарела", staleLinkText)
			return
		}
		s.After = &cur
	}
	res, err := h.cfg.Service.Search(r.Context(), enrollment.SearchRequest{Search: s})
	if err != nil {
		h.providerFailed(w, r, err)
		return
	}
	var page providerGroupsPage
	for _, f := range res.Programs {
		pg, err := h.cfg.Service.ProgramPage(r.Context(), f.Program.ID)
		if errors.Is(err, enrollment.ErrNotFound) {
			continue // gone since the search
		}
		if err != nil {
			h.serviceFailed(w, r, err)
			return
		}
		page.Programs = append(page.Programs, providerProgramView(pg))
	}
	if res.Next != nil {
		page.Next = "/provider/groups?" + url.Values{"after": {res.Next.String()}}.Encode()
	}
	if s.After != nil {
		page.First = "/provider/groups"
	}
	h.render(w, r, http.StatusOK, "provider_groups", "Группы и места", page)
}

func providerProgramView(pg enrollment.ProgramPage) providerProgram {
	p := pg.Program
	out := providerProgram{ID: p.ID.String(), Name: p.Name, Ages: ruAges(p.MinAge, p.MaxAge), Enrolment: "запись открыта"}
	switch {
	case p.Scheme == certificate.DigitalSkills:
		out.Kind = "курс для взрослых"
		if p.CompetencyArea != "" {
			out.Kind += ": " + p.CompetencyArea
		}
	default:
		out.Kind = ruDirection(p.Direction) + "; " + ruRegistry(p.Registry)
	}
	if !p.EnrolmentOpen {
		out.Enrolment = "запись закрыта"
	}
	for _, m := range pg.Modules {
		mv := providerModule{Name: m.Module.Name, Price: ruMoney(m.Module.Price)}
		for _, g := range m.Groups {
			gv := providerGroup{Name: g.Group.Name, Address: g.Address, Schedule: g.Group.Schedule, Full: g.Free == 0}
			if !g.Group.Start.IsZero() {
				gv.Dates = ruDate(g.Group.Start) + " — " + ruDate(g.Group.End)
			}
			if n := len(g.Months); n > 0 {
				gv.Months = ruMonths(g.Months) + " (" + ruCount(n, "месяц", "месяца", "месяцев") + ")"
			}
			gv.Seats = "занято " + ruInt(int64(g.Taken)) + " из " + ruInt(int64(g.Group.Capacity)) + ", свободно " + ruInt(int64(g.Free))
			mv.Groups = append(mv.Groups, gv)
		}
		out.Modules = append(out.Modules, mv)
	}
	return out
}

// ---- invoices ----

type providerInvoicesPage struct {
	Month      string // the month shown, in words
	Months     []option
	MonthError string
	Rows       []providerInvoice
	Totals     []providerTotal
	Empty      string
	// Refund: the month has a refund, which the page explains.
	Refund bool
}

type providerInvoice struct {
	Municipality, Scheme, Kind, Amount, Lines string
}

type providerTotal struct {
	Kind, Amount string
}

func (h *handler) providerInvoices(w http.ResponseWriter, r *http.Request) {
	u := h.providerUser(w, r)
	if u == nil {
		return
	}
	this := h.cfg.Service.Today().MonthOf()
	m := this
	var page providerInvoicesPage
	if s := r.URL.Query().Get("month"); s != "" {
		var err error
		if m, err = funding.ParseMonth(s); err != nil {
			page.MonthError = "Выберите месяц из списка."
			page.Months = providerMonths(this, this)
			h.render(w, r, http.StatusBadRequest, "provider_invoices", "Счета", page)
			return
		}
	}
	page.Month, page.Months = ruMonth(m), providerMonths(this, m)
	list, err := h.cfg.Service.Invoices(r.Context(), u.Caller, m, uuid.Nil)
	if err != nil {
		h.providerFailed(w, r, err)
		return
	}
	slices.SortStableFunc(list, func(a, b enrollment.Invoice) int {
		return cmp.Or(cmp.Compare(h.municipalityName(a.Municipality), h.municipalityName(b.Municipality)),
			cmp.Compare(a.Scheme, b.Scheme), cmp.Compare(invoiceKindOrder(a.Kind), invoiceKindOrder(b.Kind)))
	})
	totals := map[enrollment.InvoiceKind]funding.Money{}
	for _, inv := range list {
		page.Rows = append(page.Rows, providerInvoice{Municipality: h.municipalityName(inv.Municipality), Scheme: ruScheme(inv.Scheme),
			Kind: ruInvoiceKind(inv.Kind), Amount: ruMoney(inv.Amount), Lines: ruInt(int64(inv.Lines))})
		totals[inv.Kind] = totals[inv.Kind].Add(inv.Amount)
		page.Refund = page.Refund || inv.Kind == enrollment.RefundInvoice
	}
	for _, x := range invoiceKinds {
		if t, ok := totals[x.Kind]; ok {
			page.Totals = append(page.Totals, providerTotal{Kind: x.Name, Amount: ruMoney(t)})
		}
	}
	if len(list) == 0 {
		page.Empty = "За " + ruMonth(m) + " счетов нет: они появятся после закрытия месяца."
	}
	h.render(w, r, http.StatusOK, "provider_invoices", "Счета", page)
}

// providerMonths are the month picker's options: next month, this one and
// the twelve before it, newest first, and selected among them (added when
// it is further away).
func providerMonths(this, selected funding.Month) []option {
	var out []option
	for m := this.Next(); !m.Before(this.Add(-12)); m = m.Prev() {
		out = append(out, option{Value: m.String(), Label: ruMonth(m), Selected: m == selected})
	}
	if !selected.IsZero() && (selected.After(this.Next()) || selected.Before(this.Add(-12))) {
		out = append(out, option{Value: selected.String(), Label: ruMonth(selected), Selected: true})
	}
	return out
}
