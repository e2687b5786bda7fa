package api

import (
	"fmt"
	"net/http"
	"time"

	"github.com/google/uuid"

	"github.com/edufund/edufund/catalog"
	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/funding"
)

// The operators' endpoints: budget and direction limits, categories, the
// catalog (providers by the regional operator; programs, modules and groups
// by their provider or the regional operator), prolongation, the sweep that
// accepts prolongations by silence, and the period rollover.

// ---- wire forms ----

type periodIn struct {
	Start string `json:"start"`
	End   string `json:"end"`
}

// period parses a funding period, which must be one of the region's.
func (h *Handler) period(p *parser, field string, in *periodIn) funding.Period {
	if in == nil {
		p.fail(field, "is required")
		return funding.Period{}
	}
	start := p.date(field+".start", in.Start, true)
	end := p.date(field+".end", in.End, true)
	if p.err != nil {
		return funding.Period{}
	}
	want := h.cfg.Service.Config().PeriodOf(start)
	if want.Start != start || want.End != end {
		p.fail(field, fmt.Sprintf("must be one of the region's funding periods, such as %s..%s", want.Start, want.End))
	}
	return funding.Period{Start: start, End: end}
}

func periodDTO(p funding.Period) periodOut {
	return periodOut{Start: dateOut(p.Start), End: dateOut(p.End)}
}

type budgetIn struct {
	Municipality string    `json:"municipality"`
	Period       *periodIn `json:"period"`
	Limit        string    `json:"limit"`
}

type budgetOut struct {
	Municipality string        `json:"municipality"`
	Period       periodOut     `json:"period"`
	Limit        funding.Money `json:"limit"`
	Used         funding.Money `json:"used"`
}

type directionLimitIn struct {
	Municipality string    `json:"municipality"`
	Direction    string    `json:"direction"`
	Period       *periodIn `json:"period"`
	Limit        *int      `json:"limit"`
}

type directionLimitOut struct {
	Municipality string    `json:"municipality"`
	Direction    string    `json:"direction"`
	Period       periodOut `json:"period"`
	Limit        int64     `json:"limit"` // 0: no limit
	Used         int64     `json:"used"`
}

type categoryIO struct {
	Code       string        `json:"code"`
	Nominal    funding.Money `json:"nominal"`
	MaxCount   int           `json:"max_count"`
	MaxSum     funding.Money `json:"max_sum"`
	HoursBase  int           `json:"hours_base"`
	HoursExtra int           `json:"hours_extra"`
}

// categoryIn is a category in money (nominal) or in weekly hours
// (hours_base, hours_extra).
type categoryIn struct {
	Code       string `json:"code"`
	Nominal    string `json:"nominal,omitempty"`
	MaxCount   int    `json:"max_count,omitempty"`
	MaxSum     string `json:"max_sum,omitempty"`
	HoursBase  int    `json:"hours_base,omitempty"`
	HoursExtra int    `json:"hours_extra,omitempty"`
}

type agreementIO struct {
	Municipality string    `json:"municipality"`
	Period       *periodIn `json:"period"`
}

type providerIn struct {
	ID             string        `json:"id,omitempty"`
	Name           string        `json:"name"`
	INN            string        `json:"inn"`
	Municipality   string        `json:"municipality,omitempty"`
	EnrolmentLimit int           `json:"enrolment_limit,omitempty"`
	Agreements     []agreementIO `json:"agreements,omitempty"`
	Address        string        `json:"address,omitempty"`
	Phone          string        `json:"phone,omitempty"`
	Email          string        `json:"email,omitempty"`
	Site           string        `json:"site,omitempty"`
	KPP            string        `json:"kpp,omitempty"`
	Bank           *bankIO       `json:"bank,omitempty"`
}

type agreementOut struct {
	Municipality string    `json:"municipality"`
	Period       periodOut `json:"period"`
}

type providerFullOut struct {
	ID             uuid.UUID      `json:"id"`
	Name           string         `json:"name"`
	INN            string         `json:"inn"`
	Municipality   string         `json:"municipality,omitempty"`
	EnrolmentLimit int            `json:"enrolment_limit"`
	Agreements     []agreementOut `json:"agreements"`
	contactsOut
	accountingIO
}

type programIn struct {
	ID             string `json:"id,omitempty"`
	ProviderID     string `json:"provider_id,omitempty"`
	Name           string `json:"name"`
	Scheme         string `json:"scheme"`
	Direction      string `json:"direction,omitempty"`
	Registry       string `json:"registry,omitempty"`
	MinAge         int    `json:"min_age,omitempty"`
	MaxAge         int    `json:"max_age,omitempty"`
	EnrolmentOpen  bool   `json:"enrolment_open,omitempty"`
	Municipality   string `json:"municipality,omitempty"`
	EnrolmentLimit int    `json:"enrolment_limit,omitempty"`
	CompetencyArea string `json:"competency_area,omitempty"`
	AcademicHours  int    `json:"academic_hours,omitempty"`
	// The program's page.
	Annotation  string   `json:"annotation,omitempty"`
	Description string   `json:"description,omitempty"`
	Goals       string   `json:"goals,omitempty"`
	Tags        []string `json:"tags,omitempty"`
}

type programFullOut struct {
	programOut
	contentOut
	ProviderID     uuid.UUID `json:"provider_id"`
	EnrolmentLimit int       `json:"enrolment_limit"`
}

type moduleIn struct {
	ID             string `json:"id,omitempty"`
	ProgramID      string `json:"program_id"`
	Name           string `json:"name"`
	Price          string `json:"price"`
	NormativePrice string `json:"normative_price"`
	Hours          int    `json:"hours"`
	MinChildren    int    `json:"min_children,omitempty"`
	MaxChildren    int    `json:"max_children,omitempty"`
	WeeklyHours    int    `json:"weekly_hours,omitempty"`
}

type moduleFullOut struct {
	moduleOut
	ProgramID   uuid.UUID `json:"program_id"`
	MinChildren int       `json:"min_children"`
	MaxChildren int       `json:"max_children"`
}

type groupIn struct {
	ID       string `json:"id,omitempty"`
	ModuleID string `json:"module_id"`
	Name     string `json:"name"`
	Start    string `json:"start"`
	End      string `json:"end"`
	Capacity int    `json:"capacity"`
	Schedule string `json:"schedule,omitempty"`
	// Address is where the group meets, when not at its provider's.
	Address string `json:"address,omitempty"`
	// Sessions are the group's weekly meetings, the structured schedule.
	Sessions []sessionIn `json:"sessions,omitempty"`
}

type groupFullOut struct {
	groupOut
	ModuleID uuid.UUID    `json:"module_id"`
	Address  string       `json:"address,omitempty"`
	Sessions []sessionOut `json:"sessions,omitempty"`
}

type prolongIn struct {
	GroupID string `json:"group_id"`
}

type rolloverIn struct {
	Period *periodIn `json:"period"`
}

type rolloverOut struct {
	From         periodOut     `json:"from"`
	To           periodOut     `json:"to"`
	Certificates int           `json:"certificates"`
	Granted      int           `json:"granted"`
	Expired      funding.Money `json:"expired"`
	Failed       int           `json:"failed"`
}

type silenceOut struct {
	Accepted int `json:"accepted"`
}

type parameterIn struct {
	Name   string `json:"name"`
	Scope  string `json:"scope,omitempty"`
	From   string `json:"from"`
	Value  string `json:"value"`
	Reason string `json:"reason"`
}

// parameterOut is one version of a parameter; the region file's versions
// have version 0 and no time.
type parameterOut struct {
	Version int64      `json:"version"`
	Name    string     `json:"name"`
	Scope   string     `json:"scope,omitempty"`
	From    string     `json:"from"`
	Value   string     `json:"value"`
	Actor   string     `json:"actor,omitempty"`
	Reason  string     `json:"reason,omitempty"`
	At      *time.Time `json:"at,omitempty"`
}

func parameterDTO(p enrollment.Parameter) parameterOut {
	out := parameterOut{Version: p.Version, Name: p.Name, Scope: p.Scope, From: dateOut(p.From), Value: p.Value, Actor: p.Actor, Reason: p.Reason}
	if !p.At.IsZero() {
		at := p.At.UTC()
		out.At = &at
	}
	return out
}

// parameterDefOut is a parameter's definition, what a portal builds its
// form from.
type parameterDefOut struct {
	Name          string   `json:"name"`
	Scope         string   `json:"scope,omitempty"`
	ScopeRequired bool     `json:"scope_required"`
	Roles         []string `json:"roles"`
	Doc           string   `json:"doc"`
	FirstOfMonth  bool     `json:"first_of_month"`
}

type parameterListOut struct {
	Items       []parameterOut    `json:"items"`
	Definitions []parameterDefOut `json:"definitions"`
}

// today is the region's local date: the service's, so that the API and the
// rules never disagree about the day.
func (h *Handler) today() funding.Date { return h.cfg.Service.Today() }

// ---- limits and categories ----

func (h *Handler) setBudget(w http.ResponseWriter, r *http.Request, c call) error {
	var in budgetIn
	if err := decode(w, r, &in, false); err != nil {
		return err
	}
	var p parser
	req := enrollment.BudgetRequest{
		Municipality: p.text("municipality", in.Municipality, 40, true),
		Period:       h.period(&p, "period", in.Period),
		Limit:        p.money("limit", in.Limit),
		By:           c.p.Caller(),
	}
	if p.err == nil && req.Limit.IsNegative() {
		p.fail("limit", "must not be negative")
	}
	if p.err != nil {
		return p.err
	}
	cnt, err := h.cfg.Service.SetBudget(r.Context(), c.key, req)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, budgetOut{Municipality: req.Municipality, Period: periodDTO(req.Period),
		Limit: funding.Kopecks(cnt.Limit), Used: funding.Kopecks(cnt.Used)})
	return nil
}

func (h *Handler) setDirectionLimit(w http.ResponseWriter, r *http.Request, c call) error {
	var in directionLimitIn
	if err := decode(w, r, &in, false); err != nil {
		return err
	}
	var p parser
	req := enrollment.DirectionLimitRequest{
		Municipality: p.text("municipality", in.Municipality, 40, true),
		Direction:    catalog.Direction(in.Direction),
		Period:       h.period(&p, "period", in.Period),
		By:           c.p.Caller(),
	}
	if !req.Direction.Known() {
		p.fail("direction", "must be one of the seven directions")
	}
	switch {
	case in.Limit == nil:
		p.fail("limit", "is required (0: no limit)")
	case *in.Limit < 0 || *in.Limit > 10_000_000:
		p.fail("limit", "must be from 0 (no limit) to 10000000")
	default:
		req.Limit = *in.Limit
	}
	if p.err != nil {
		return p.err
	}
	cnt, err := h.cfg.Service.SetDirectionLimit(r.Context(), c.key, req)
	if err != nil {
		return err
	}
	limit := cnt.Limit
	if limit >= enrollment.Unlimited {
		limit = 0
	}
	writeJSON(w, http.StatusOK, directionLimitOut{Municipality: req.Municipality, Direction: string(req.Direction),
		Period: periodDTO(req.Period), Limit: limit, Used: cnt.Used})
	return nil
}

func (h *Handler) saveCategory(w http.ResponseWriter, r *http.Request, c call) error {
	var in categoryIn
	if err := decode(w, r, &in, false); err != nil {
		return err
	}
	var p parser
	cat := certificate.Category{
		Code:     p.text("code", in.Code, 40, true),
		MaxCount: in.MaxCount, HoursBase: in.HoursBase, HoursExtra: in.HoursExtra,
	}
	if in.Nominal != "" || in.HoursBase == 0 {
		cat.Nominal = p.money("nominal", in.Nominal)
	}
	if in.MaxSum != "" {
		cat.MaxSum = p.money("max_sum", in.MaxSum)
	}
	if p.err != nil {
		return p.err
	}
	if err := cat.Validate(); err != nil {
		return err
	}
	out, err := h.cfg.Service.SaveCategory(r.Context(), c.key, cat, c.p.Caller())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, categoryIO{Code: out.Code, Nominal: out.Nominal, MaxCount: out.MaxCount, MaxSum: out.MaxSum,
		HoursBase: out.HoursBase, HoursExtra: out.HoursExtra})
	return nil
}

// ---- the region's parameters ----

// parameters lists every version of the region's parameters, in the order
// they apply, with the definitions of the parameters.
func (h *Handler) parameters(w http.ResponseWriter, r *http.Request, c call) error {
	if err := onlyParams(r.URL.Query()); err != nil {
		return err
	}
	vs, err := h.cfg.Service.ParameterVersions(r.Context(), c.p.Caller())
	if err != nil {
		return err
	}
	out := parameterListOut{Items: []parameterOut{}, Definitions: []parameterDefOut{}}
	for _, v := range vs {
		out.Items = append(out.Items, parameterDTO(v))
	}
	for _, d := range enrollment.Parameters {
		def := parameterDefOut{Name: d.Name, Scope: d.Scope, ScopeRequired: d.ScopeRequired, Roles: []string{}, Doc: d.Doc, FirstOfMonth: d.FirstOfMonth}
		for _, role := range d.Roles {
			def.Roles = append(def.Roles, string(role))
		}
		out.Definitions = append(out.Definitions, def)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// setParameter records a new version of a parameter. The handler checks
// the form (the date, the text rule); the service checks the rest (the
// name, the value, the scope, the date against today) and who may.
func (h *Handler) setParameter(w http.ResponseWriter, r *http.Request, c call) error {
	var in parameterIn
	if err := decode(w, r, &in, false); err != nil {
		return err
	}
	var p parser
	req := enrollment.ParameterRequest{
		Name:   p.text("name", in.Name, funding.MaxCodeLen, false),
		Scope:  p.text("scope", in.Scope, funding.MaxCodeLen, false),
		From:   p.date("from", in.From, false),
		Value:  p.text("value", in.Value, funding.MaxNameLen, false),
		Reason: p.text("reason", in.Reason, funding.MaxNoteLen, false),
		By:     c.p.Caller(),
	}
	if p.err != nil {
		return p.err
	}
	v, err := h.cfg.Service.SetParameter(r.Context(), c.key, req)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, parameterDTO(v))
	return nil
}

// ---- catalog ----

func (h *Handler) saveProvider(w http.ResponseWriter, r *http.Request, c call) error {
	var in providerIn
	if err := decode(w, r, &in, false); err != nil {
		return err
	}
	var p parser
	prov := catalog.Provider{
		ID:             p.uuid("id", in.ID, false),
		Name:           p.text("name", in.Name, 300, true),
		INN:            p.text("inn", in.INN, 12, true),
		Municipality:   p.text("municipality", in.Municipality, 40, false),
		EnrolmentLimit: in.EnrolmentLimit,
		Address:        p.text("address", in.Address, catalog.MaxAddressLen, false),
		Phone:          p.text("phone", in.Phone, catalog.MaxPhoneLen, false),
		Email:          p.text("email", in.Email, catalog.MaxEmailLen, false),
		Site:           p.text("site", in.Site, catalog.MaxSiteLen, false),
	}
	prov.KPP, prov.Bank = accounting(&p, in.KPP, in.Bank)
	if len(in.Agreements) > 100 {
		p.fail("agreements", "must hold at most 100 agreements")
	}
	for i, a := range in.Agreements {
		f := fmt.Sprintf("agreements[%d]", i)
		prov.Agreements = append(prov.Agreements, catalog.Agreement{
			Municipality: p.text(f+".municipality", a.Municipality, 40, true),
			Period:       h.period(&p, f+".period", a.Period),
		})
	}
	if p.err != nil {
		return p.err
	}
	out, err := h.cfg.Service.SaveProvider(r.Context(), c.key, prov, c.p.Caller())
	if err != nil {
		return err
	}
	res := providerFullOut{ID: out.ID, Name: out.Name, INN: out.INN, Municipality: out.Municipality, EnrolmentLimit: out.EnrolmentLimit, Agreements: []agreementOut{},
		contactsOut: contactsDTO(out), accountingIO: accountingDTO(out)}
	for _, a := range out.Agreements {
		res.Agreements = append(res.Agreements, agreementOut{Municipality: a.Municipality, Period: periodDTO(a.Period)})
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}

func (h *Handler) saveProgram(w http.ResponseWriter, r *http.Request, c call) error {
	var in programIn
	if err := decode(w, r, &in, false); err != nil {
		return err
	}
	var p parser
	prog := catalog.Program{
		ID:             p.uuid("id", in.ID, false),
		ProviderID:     p.uuid("provider_id", in.ProviderID, c.p.Role != RoleProvider),
		Name:           p.text("name", in.Name, 300, true),
		Scheme:         certificate.Scheme(p.text("scheme", in.Scheme, 40, true)),
		Direction:      catalog.Direction(p.text("direction", in.Direction, 40, false)),
		Registry:       catalog.Registry(p.text("registry", in.Registry, 40, false)),
		MinAge:         in.MinAge,
		MaxAge:         in.MaxAge,
		EnrolmentOpen:  in.EnrolmentOpen,
		Municipality:   p.text("municipality", in.Municipality, 40, false),
		EnrolmentLimit: in.EnrolmentLimit,
		CompetencyArea: p.text("competency_area", in.CompetencyArea, 300, false),
		AcademicHours:  in.AcademicHours,
		Annotation:     p.text("annotation", in.Annotation, catalog.MaxAnnotationLen, false),
		Description:    p.multiline("description", in.Description, catalog.MaxDescriptionLen),
		Goals:          p.multiline("goals", in.Goals, catalog.MaxGoalsLen),
	}
	if prog.MaxAge > 150 || prog.MinAge > 150 {
		p.fail("max_age", "must be at most 150")
	}
	if len(in.Tags) > catalog.MaxTags {
		p.fail("tags", fmt.Sprintf("must hold at most %d tags", catalog.MaxTags))
	}
	for i, tag := range in.Tags {
		if p.err != nil {
			break
		}
		prog.Tags = append(prog.Tags, p.text(fmt.Sprintf("tags[%d]", i), tag, catalog.MaxTagLen, true))
	}
	if p.err != nil {
		return p.err
	}
	// Certification is the regional operator's move (certifyProgram), not
	// a field a save sets.
	out, err := h.cfg.Service.SaveProgram(r.Context(), c.key, prog, c.p.Caller())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, programCertifiedDTO(out))
	return nil
}

func (h *Handler) saveModule(w http.ResponseWriter, r *http.Request, c call) error {
	var in moduleIn
	if err := decode(w, r, &in, false); err != nil {
		return err
	}
	var p parser
	mod := catalog.Module{
		ID:             p.uuid("id", in.ID, false),
		ProgramID:      p.uuid("program_id", in.ProgramID, true),
		Name:           p.text("name", in.Name, 300, true),
		Price:          p.money("price", in.Price),
		NormativePrice: p.money("normative_price", in.NormativePrice),
		Hours:          in.Hours,
		MinChildren:    in.MinChildren,
		MaxChildren:    in.MaxChildren,
		WeeklyHours:    in.WeeklyHours,
	}
	if p.err != nil {
		return p.err
	}
	out, err := h.cfg.Service.SaveModule(r.Context(), c.key, mod, c.p.Caller())
	if err != nil {
		return err
	}
	res := moduleFullOut{ProgramID: out.ProgramID, MinChildren: out.MinChildren, MaxChildren: out.MaxChildren}
	res.moduleOut = offerDTO(enrollment.Offer{Module: out}).Module
	writeJSON(w, http.StatusOK, res)
	return nil
}

func (h *Handler) saveGroup(w http.ResponseWriter, r *http.Request, c call) error {
	var in groupIn
	if err := decode(w, r, &in, false); err != nil {
		return err
	}
	var p parser
	g := catalog.Group{
		ID:       p.uuid("id", in.ID, false),
		ModuleID: p.uuid("module_id", in.ModuleID, true),
		Name:     p.text("name", in.Name, 300, true),
		Start:    p.date("start", in.Start, true),
		End:      p.date("end", in.End, true),
		Capacity: in.Capacity,
		Schedule: p.text("schedule", in.Schedule, 300, false),
		Address:  p.text("address", in.Address, catalog.MaxAddressLen, false),
		Sessions: sessionsIn(in.Sessions),
	}
	if p.err != nil {
		return p.err
	}
	out, err := h.cfg.Service.SaveGroup(r.Context(), c.key, g, c.p.Caller())
	if err != nil {
		return err
	}
	res := groupFullOut{ModuleID: out.ModuleID, Address: out.Address, Sessions: sessionsOut(out.Sessions)}
	res.groupOut = offerDTO(enrollment.Offer{Group: out}).Group
	writeJSON(w, http.StatusOK, res)
	return nil
}

// ---- prolongation ----

func (h *Handler) prolong(w http.ResponseWriter, r *http.Request, c call) error {
	id, err := h.pathID(r)
	if err != nil {
		return err
	}
	var in prolongIn
	if err := decode(w, r, &in, false); err != nil {
		return err
	}
	var p parser
	group := p.uuid("group_id", in.GroupID, true)
	if p.err != nil {
		return p.err
	}
	k, err := h.cfg.Service.Prolong(r.Context(), c.key, enrollment.ProlongRequest{ContractRequest: contractRequest(c, id), GroupID: group})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, contractDTO(k))
	return nil
}

func (h *Handler) acceptBySilence(w http.ResponseWriter, r *http.Request, c call) error {
	if err := decode(w, r, &struct{}{}, true); err != nil {
		return err
	}
	n, err := h.cfg.Service.AcceptBySilence(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, silenceOut{Accepted: n})
	return nil
}

// ---- period rollover ----

// rollover closes a funding period that has ended and opens the next; the
// service refuses a period that has not ended (period_not_ended).
func (h *Handler) rollover(w http.ResponseWriter, r *http.Request, c call) error {
	var in rolloverIn
	if err := decode(w, r, &in, false); err != nil {
		return err
	}
	var p parser
	from := h.period(&p, "period", in.Period)
	if p.err != nil {
		return p.err
	}
	rep, err := h.cfg.Service.Rollover(r.Context(), from, nil)
	if err != nil {
		return err
	}
	for id, ferr := range rep.Failed {
		h.log.ErrorContext(r.Context(), "rollover: certificate failed", "period", from.String(), "certificate", id, "err", ferr)
	}
	writeJSON(w, http.StatusOK, rolloverOut{From: periodDTO(rep.From), To: periodDTO(rep.To), Certificates: rep.Certificates,
		Granted: rep.Granted, Expired: rep.Expired, Failed: len(rep.Failed)})
	return nil
}
