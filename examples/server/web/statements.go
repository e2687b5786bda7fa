package web

import (
	"cmp"
	"net/http"
	"slices"

	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/funding"
)

// The holder's printable documents of a certificate for a funding period:
// «Выписка по сертификату» (GET /certificates/{id}/statement), its money
// and every posting that moved it, and «Справка о посещении кружков»
// (GET /certificates/{id}/attendance), the child's contracts under which
// it studied. ?period=YYYY-MM-DD picks the period holding that date; today's
// by default. Each is a page to print (the style sheet's print rules leave
// the site's menus off the paper) rather than a PDF: the pages already
// speak Russian, and a browser prints or saves a page as PDF itself.
//
// Whoever may read the certificate's cabinet may read them, as the
// service decides (Service.Statement): the family, the municipality that
// funds the certificate, the operator of its scheme. To anyone else the
// certificate does not exist.

func (h *handler) statementRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /certificates/{id}/statement", h.statementPage)
	mux.HandleFunc("GET /certificates/{id}/attendance", h.attendancePage)
}

// maxStatementPeriods bounds the periods a document offers to pick.
const maxStatementPeriods = 10

// document is what both documents show of the certificate and the period.
type document struct {
	ID, Name, Birth, Number, Status, Kind, Category, Municipality string
	Adult                                                         bool
	PeriodStart, PeriodEnd, Made                                  string
	// Periods are the periods to pick from, this one selected; Action is
	// the form's own path.
	Periods []option
	Action  string
	// Back is the page the reader came from: the family's cabinet, or an
	// official's list.
	Back navLink
}

type statementPage struct {
	document
	Money        *cabinetMoney
	BudgetNotice string
	Funded       bool
	Rows         []postingRow
}

// postingRow is a line of the statement: a posting explained.
type postingRow struct {
	Date, Operation, Program, Amount string
	// URL is the page of the contract the posting is about.
	URL string
}

type attendancePage struct {
	document
	Rows []attendanceRow
}

type attendanceRow struct {
	URL, Program, Provider, Group, Dates, Status string
}

// readStatement reads the statement r asks for; on false it has
// answered r.
func (h *handler) readStatement(w http.ResponseWriter, r *http.Request) (*user, enrollment.Statement, bool) {
	u := h.signedIn(w, r, r.URL.RequestURI())
	if u == nil {
		return nil, enrollment.Statement{}, false
	}
	id, ok := parseID(r.PathValue("id"))
	if !ok {
		h.cabinetNotFound(w, r)
		return nil, enrollment.Statement{}, false
	}
	today := h.cfg.Service.Today()
	on := today
	if q := r.URL.Query().Get("period"); q != "" {
		d, err := funding.ParseDate(q)
		if err != nil || d.After(today) {
			h.fail(w, r, http.StatusBadRequest, "Период указан неверно",
				"Такого периода нет. Откройте документ заново и выберите период из списка.")
			return nil, enrollment.Statement{}, false
		}
		on = d
	}
	st, err := h.cfg.Service.Statement(r.Context(), u.Caller, id, on)
	if err != nil {
		h.cabinetFailed(w, r, err)
		return nil, enrollment.Statement{}, false
	}
	return u, st, true
}

// document is the head of a document of st, at the page's path.
func (h *handler) document(u *user, st enrollment.Statement, path string) document {
	c := st.Certificate
	d := document{ID: c.ID.String(), Name: c.Holder.FullName, Birth: ruDate(c.Holder.BirthDate), Number: string(c.Number),
		Status: ruCertificateStatus(c.Status), Kind: ruKind(c), Category: ruCategory(c.Category),
		Municipality: h.municipalityName(c.Municipality), Adult: c.Scheme == certificate.DigitalSkills,
		PeriodStart: ruDate(st.Period.Start), PeriodEnd: ruDate(st.Period.End), Made: ruLongDate(h.cfg.Service.Today()),
		Action: path}
	switch {
	case u.Caller.Role == enrollment.RoleHolder && d.Adult:
		d.Back = navLink{Href: "/adult", Label: "Сертификат для взрослых"}
	case u.Caller.Role == enrollment.RoleHolder:
		d.Back = navLink{Href: "/cabinet/" + d.ID, Label: "Кабинет сертификата"}
	default:
		if m := menus[u.Principal.Role]; len(m) > 0 {
			d.Back = m[0]
		}
	}
	// The periods from the current one back to the one the certificate
	// was issued in.
	cfg := h.cfg.Service.Config()
	for p := cfg.PeriodOf(h.cfg.Service.Today()); len(d.Periods) < maxStatementPeriods; p = cfg.PeriodOf(p.Start.AddDays(-1)) {
		d.Periods = append(d.Periods, option{Value: p.Start.String(), Label: ruDate(p.Start) + " — " + ruDate(p.End), Selected: p == st.Period})
		if c.IssuedOn.IsZero() || !p.Start.After(c.IssuedOn) {
			break
		}
	}
	// A period the list does not reach, asked for by its address, is
	// still named.
	if !slices.ContainsFunc(d.Periods, func(o option) bool { return o.Selected }) {
		d.Periods = append(d.Periods, option{Value: st.Period.Start.String(), Label: ruDate(st.Period.Start) + " — " + ruDate(st.Period.End), Selected: true})
	}
	return d
}

func (h *handler) statementPage(w http.ResponseWriter, r *http.Request) {
	u, st, ok := h.readStatement(w, r)
	if !ok {
		return
	}
	p := statementPage{document: h.document(u, st, r.URL.Path), BudgetNotice: st.BudgetNotice,
		Funded: st.Certificate.Kind == certificate.Funded}
	if m := st.Money; m != nil {
		p.Money = &cabinetMoney{Nominal: ruMoney(m.Nominal), Balance: ruMoney(m.Balance), Reserved: ruMoney(m.Reserved), Spent: ruMoney(m.Spent)}
		if !m.Depleted.IsZero() {
			p.Money.Depleted = ruMoney(m.Depleted)
		}
		if !m.Expired.IsZero() {
			p.Money.Expired = ruMoney(m.Expired)
		}
	}
	contracts := map[string]enrollment.Contract{}
	for _, k := range st.Contracts {
		contracts[k.ID.String()] = k
	}
	for _, rec := range st.Postings {
		row := postingRow{Date: ruDate(h.regionDate(rec.At)), Operation: postingOperation(rec), Program: "—", Amount: ruMoney(rec.Posting.Amount)}
		if k, ok := contracts[rec.ContractID.String()]; ok {
			row.URL = "/contracts/" + k.ID.String()
			row.Program = "программа недоступна"
			if o, ok := st.Offers[k.GroupID]; ok {
				row.Program = "«" + o.Program.Name + "», группа «" + o.Group.Name + "», " + o.Provider.Name
			}
		}
		p.Rows = append(p.Rows, row)
	}
	h.render(w, r, http.StatusOK, "statement", "Выписка по сертификату № "+p.Number, p)
}

// postingOperation names what a posting did to the certificate's money,
// as the cabinet's notifications word it.
func postingOperation(rec enrollment.PostingRecord) string {
	month := ""
	if !rec.Month.IsZero() {
		month = " за " + ruMonth(rec.Month)
	}
	switch rec.Posting.Kind {
	case funding.Grant:
		return "Начисление номинала на период"
	case funding.Adjust:
		return "Изменение номинала категории"
	case funding.Reserve:
		return "Резервирование на оплату договора"
	case funding.Charge:
		return "Оплата" + month + " из резерва"
	case funding.Release:
		return "Возврат резерва на остаток"
	case funding.Deplete:
		return "Сгорание номинала до первой заявки"
	case funding.Expire:
		return "Сгорание остатка в конце периода"
	case funding.Refund:
		text := "Возврат на остаток" + month
		if pct := rec.Params["delivered_percent"]; pct != "" {
			text += ": услуга оказана на " + pct + nbsp + "%"
		}
		return text
	}
	return "Движение средств"
}

// attended are the statuses of the contracts under which a child studied:
// an application, an offer, a refusal or a withdrawal is not attendance.
var attended = []enrollment.Status{enrollment.Active, enrollment.Terminating, enrollment.Closed}

func (h *handler) attendancePage(w http.ResponseWriter, r *http.Request) {
	u, st, ok := h.readStatement(w, r)
	if !ok {
		return
	}
	p := attendancePage{document: h.document(u, st, r.URL.Path)}
	contracts := slices.Clone(st.Contracts)
	slices.SortStableFunc(contracts, func(a, b enrollment.Contract) int {
		return cmp.Or(a.Start.Compare(b.Start), cmp.Compare(a.ID.String(), b.ID.String()))
	})
	for _, k := range contracts {
		end := k.End
		if !k.ClosedOn.IsZero() && k.ClosedOn.Before(end) {
			end = k.ClosedOn
		}
		if !slices.Contains(attended, k.Status) || k.Start.After(st.Period.End) || end.Before(st.Period.Start) {
			continue
		}
		row := attendanceRow{URL: "/contracts/" + k.ID.String(), Program: "программа недоступна", Provider: "—", Group: "—",
			Dates: ruDate(k.Start) + " — " + ruDate(k.End), Status: attendanceStatus(k)}
		if o, ok := st.Offers[k.GroupID]; ok {
			row.Program, row.Provider, row.Group = o.Program.Name, o.Provider.Name, o.Group.Name
		}
		p.Rows = append(p.Rows, row)
	}
	h.render(w, r, http.StatusOK, "attendance", "Справка о посещении кружков", p)
}

// attendanceStatus is where the child's studies under k stand.
func attendanceStatus(k enrollment.Contract) string {
	switch {
	case k.Status == enrollment.Active:
		return "занятия идут"
	case !k.TerminatedOn.IsZero():
		return "договор расторгнут " + ruDate(k.TerminatedOn)
	case k.Status == enrollment.Closed:
		return "обучение завершено " + ruDate(cmp.Or(k.ClosedOn, k.End))
	}
	return ruContractStatus(k.Status)
}
