package api

import (
	"net/http"

	"github.com/google/uuid"

	"github.com/edufund/edufund/catalog"
	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/funding"
)

// Reading what the admin routes write: categories, budgets and direction
// limits with their use (GET /v1/admin/…), providers and their catalogue
// (GET /v1/providers…). The service narrows each read to the caller's
// reach: a municipality its own limits, the public card of a provider to
// everyone but the provider itself, the officials and the municipalities
// it works with.

// limitReaders read the categories, the budgets and the direction limits.
var limitReaders = []Role{RoleMunicipality, RoleRegional, RoleAuditor}

type categoryUseOut struct {
	categoryIO
	Funded int64 `json:"funded"`
	Queued int   `json:"queued"`
}

func categoryUseDTO(u enrollment.CategoryUse) categoryUseOut {
	c := u.Category
	return categoryUseOut{categoryIO: categoryIO{Code: c.Code, Nominal: c.Nominal, MaxCount: c.MaxCount, MaxSum: c.MaxSum,
		HoursBase: c.HoursBase, HoursExtra: c.HoursExtra}, Funded: u.Funded, Queued: u.Queued}
}

// categories lists the region's categories with their use.
func (h *Handler) categories(w http.ResponseWriter, r *http.Request, c call) error {
	if err := onlyParams(r.URL.Query()); err != nil {
		return err
	}
	us, err := h.cfg.Service.Categories(r.Context(), c.p.Caller())
	if err != nil {
		return err
	}
	out := listOut[categoryUseOut]{Items: []categoryUseOut{}}
	for _, u := range us {
		out.Items = append(out.Items, categoryUseDTO(u))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// category reads one category with its use.
func (h *Handler) category(w http.ResponseWriter, r *http.Request, c call) error {
	if err := onlyParams(r.URL.Query()); err != nil {
		return err
	}
	var p parser
	code := p.text("code", r.PathValue("code"), funding.MaxCodeLen, true)
	if p.err != nil {
		return p.err
	}
	u, err := h.cfg.Service.ReadCategory(r.Context(), c.p.Caller(), code)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, categoryUseDTO(u))
	return nil
}

type monthInvoicedOut struct {
	Month   funding.Month `json:"month"`
	Advance funding.Money `json:"advance"`
	Final   funding.Money `json:"final"`
	Refunds funding.Money `json:"refunds"`
}

type budgetUseOut struct {
	Municipality string    `json:"municipality"`
	Period       periodOut `json:"period"`
	// Limit is left out when none is set (Unlimited).
	Limit     *funding.Money     `json:"limit,omitempty"`
	Unlimited bool               `json:"unlimited"`
	Used      funding.Money      `json:"used"`
	Months    []monthInvoicedOut `json:"months"`
}

type cursorPageOut[T any] struct {
	Items []T    `json:"items"`
	Next  string `json:"next,omitempty"`
}

// budgets lists the budgets with their use and the invoices of each month.
func (h *Handler) budgets(w http.ResponseWriter, r *http.Request, c call) error {
	q := r.URL.Query()
	if err := onlyParams(q, "municipality", "after", "limit"); err != nil {
		return err
	}
	var p parser
	f := enrollment.BudgetFilter{
		Municipality: p.text("municipality", q.Get("municipality"), funding.MaxCodeLen, false),
		After:        p.text("after", q.Get("after"), 400, false),
		Limit:        listLimit(&p, q),
	}
	if p.err != nil {
		return p.err
	}
	page, err := h.cfg.Service.Budgets(r.Context(), c.p.Caller(), f)
	if err != nil {
		return err
	}
	out := cursorPageOut[budgetUseOut]{Items: []budgetUseOut{}, Next: page.Next}
	for _, b := range page.Budgets {
		o := budgetUseOut{Municipality: b.Municipality, Period: periodDTO(b.Period), Unlimited: b.Unlimited, Used: b.Used, Months: []monthInvoicedOut{}}
		if !b.Unlimited {
			o.Limit = &b.Limit
		}
		for _, m := range b.Months {
			o.Months = append(o.Months, monthInvoicedOut{Month: m.Month, Advance: m.Advance, Final: m.Final, Refunds: m.Refunds})
		}
		out.Items = append(out.Items, o)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// directionLimits lists the direction counters with their limits.
func (h *Handler) directionLimits(w http.ResponseWriter, r *http.Request, c call) error {
	q := r.URL.Query()
	if err := onlyParams(q, "municipality", "direction", "after", "limit"); err != nil {
		return err
	}
	var p parser
	f := enrollment.DirectionLimitFilter{
		Municipality: p.text("municipality", q.Get("municipality"), funding.MaxCodeLen, false),
		Direction:    catalog.Direction(q.Get("direction")),
		After:        p.text("after", q.Get("after"), 400, false),
		Limit:        listLimit(&p, q),
	}
	if f.Direction != "" && !f.Direction.Known() {
		p.fail("direction", "must be one of the seven directions")
	}
	if p.err != nil {
		return p.err
	}
	page, err := h.cfg.Service.DirectionLimits(r.Context(), c.p.Caller(), f)
	if err != nil {
		return err
	}
	out := cursorPageOut[directionLimitOut]{Items: []directionLimitOut{}, Next: page.Next}
	for _, d := range page.Limits {
		out.Items = append(out.Items, directionLimitOut{Municipality: d.Municipality, Direction: string(d.Direction),
			Period: periodDTO(d.Period), Limit: d.Limit, Used: d.Used})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

type bankOut struct {
	Name                 string `json:"name"`
	BIC                  string `json:"bic"`
	Account              string `json:"account"`
	CorrespondentAccount string `json:"correspondent_account,omitempty"`
}

// providerCardOut is a provider as the caller may read it: the public
// card (name, municipality, contacts), and with full the rest.
type providerCardOut struct {
	ID           uuid.UUID `json:"id"`
	Name         string    `json:"name"`
	Municipality string    `json:"municipality,omitempty"`
	contactsOut
	Full           bool           `json:"full"`
	INN            string         `json:"inn,omitempty"`
	KPP            string         `json:"kpp,omitempty"`
	Bank           *bankOut       `json:"bank,omitempty"`
	EnrolmentLimit *int           `json:"enrolment_limit,omitempty"`
	Agreements     []agreementOut `json:"agreements,omitempty"`
	Live           *int64         `json:"live,omitempty"`
}

func providerCardDTO(c enrollment.ProviderCard) providerCardOut {
	p := c.Provider
	out := providerCardOut{ID: p.ID, Name: p.Name, Municipality: p.Municipality, contactsOut: contactsDTO(p), Full: c.Full}
	if !c.Full {
		return out
	}
	out.INN, out.KPP, out.EnrolmentLimit, out.Live = p.INN, p.KPP, &p.EnrolmentLimit, &c.Live
	if p.Bank != (catalog.BankDetails{}) {
		out.Bank = &bankOut{Name: p.Bank.Name, BIC: p.Bank.BIC, Account: p.Bank.Account, CorrespondentAccount: p.Bank.CorrespondentAccount}
	}
	out.Agreements = []agreementOut{}
	for _, a := range p.Agreements {
		out.Agreements = append(out.Agreements, agreementOut{Municipality: a.Municipality, Period: periodDTO(a.Period)})
	}
	return out
}

// providers lists the providers, newest first.
func (h *Handler) providers(w http.ResponseWriter, r *http.Request, c call) error {
	q := r.URL.Query()
	if err := onlyParams(q, "municipality", "after", "limit"); err != nil {
		return err
	}
	var p parser
	f := enrollment.ProviderFilter{
		Municipality: p.text("municipality", q.Get("municipality"), funding.MaxCodeLen, false),
		After:        p.uuid("after", q.Get("after"), false),
		Limit:        listLimit(&p, q),
	}
	if p.err != nil {
		return p.err
	}
	page, err := h.cfg.Service.Providers(r.Context(), c.p.Caller(), f)
	if err != nil {
		return err
	}
	out := pageOut[providerCardOut]{Items: []providerCardOut{}, Next: nextOut(page.Next)}
	for _, card := range page.Providers {
		out.Items = append(out.Items, providerCardDTO(card))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// provider reads one provider.
func (h *Handler) provider(w http.ResponseWriter, r *http.Request, c call) error {
	id, err := h.pathID(r)
	if err != nil {
		return err
	}
	if err := onlyParams(r.URL.Query()); err != nil {
		return err
	}
	card, err := h.cfg.Service.Provider(r.Context(), c.p.Caller(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, providerCardDTO(card))
	return nil
}

type cardGroupOut struct {
	groupFullOut
	Months     []funding.Month `json:"months"`
	SeatsTaken int             `json:"seats_taken"`
	SeatsFree  int             `json:"seats_free"`
}

type cardModuleOut struct {
	moduleFullOut
	Groups []cardGroupOut `json:"groups"`
}

// programCardOut is a program of a provider's catalogue with its modules
// and groups; live (the program's live contracts) only with full.
type programCardOut struct {
	Program programCertifiedOut `json:"program"`
	Full    bool                `json:"full"`
	Live    *int64              `json:"live,omitempty"`
	Modules []cardModuleOut     `json:"modules"`
}

func programCardDTO(c enrollment.ProgramCard) programCardOut {
	out := programCardOut{Program: programCertifiedDTO(c.Program), Full: c.Full, Modules: []cardModuleOut{}}
	if c.Full {
		out.Live = &c.Live
	}
	for _, m := range c.Modules {
		mo := cardModuleOut{moduleFullOut: moduleFullOut{ProgramID: m.Module.ProgramID, MinChildren: m.Module.MinChildren, MaxChildren: m.Module.MaxChildren},
			Groups: []cardGroupOut{}}
		mo.moduleOut = offerDTO(enrollment.Offer{Module: m.Module}).Module
		for _, g := range m.Groups {
			gf := groupFullOut{ModuleID: g.Group.ModuleID, Address: g.Group.Address, Sessions: sessionsOut(g.Group.Sessions)}
			gf.groupOut = offerDTO(enrollment.Offer{Group: g.Group}).Group
			mo.Groups = append(mo.Groups, cardGroupOut{groupFullOut: gf, Months: append([]funding.Month{}, g.Months...),
				SeatsTaken: g.Taken, SeatsFree: g.Free})
		}
		out.Modules = append(out.Modules, mo)
	}
	return out
}

// providerPrograms lists a provider's programs with their modules and
// groups, newest first.
func (h *Handler) providerPrograms(w http.ResponseWriter, r *http.Request, c call) error {
	id, err := h.pathID(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	if err := onlyParams(q, "after", "limit"); err != nil {
		return err
	}
	var p parser
	f := enrollment.ProgramFilter{Provider: id, After: p.uuid("after", q.Get("after"), false), Limit: listLimit(&p, q)}
	if p.err != nil {
		return p.err
	}
	page, err := h.cfg.Service.ProviderPrograms(r.Context(), c.p.Caller(), f)
	if err != nil {
		return err
	}
	out := pageOut[programCardOut]{Items: []programCardOut{}, Next: nextOut(page.Next)}
	for _, card := range page.Programs {
		out.Items = append(out.Items, programCardDTO(card))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
