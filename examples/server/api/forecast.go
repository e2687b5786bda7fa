package api

import (
	"errors"
	"net/http"

	"github.com/google/uuid"

	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/funding"
)

// The budget forecast and the what-if: reads of the officials that write
// nothing (enrollment.Service.Forecast and WhatIf). The what-if is a query
// with a body, so it is a POST without an Idempotency-Key, like
// POST /v1/eligibility.

// ---- wire forms ----

type monthAmountOut struct {
	Month  string        `json:"month"`
	Amount funding.Money `json:"amount"`
}

// forecastOut is one municipality's forecast; limit and headroom are
// absent when it has no limit.
type forecastOut struct {
	Municipality string           `json:"municipality"`
	Period       periodOut        `json:"period"`
	Unlimited    bool             `json:"unlimited"`
	Limit        *funding.Money   `json:"limit,omitempty"`
	Spent        funding.Money    `json:"spent"`
	Reserved     funding.Money    `json:"reserved"`
	Contracts    int              `json:"contracts"`
	Scheduled    []monthAmountOut `json:"scheduled"`
	Queued       int              `json:"queued"`
	QueueMoney   funding.Money    `json:"queue_money"`
	Need         funding.Money    `json:"need"`
	Headroom     *funding.Money   `json:"headroom,omitempty"`
	Over         bool             `json:"over"`
}

type forecastListOut struct {
	Items []forecastOut `json:"items"`
}

func forecastDTO(f enrollment.MunicipalityForecast) forecastOut {
	out := forecastOut{Municipality: f.Municipality, Period: periodDTO(f.Period), Unlimited: f.Unlimited, Spent: f.Spent, Reserved: f.Reserved,
		Contracts: f.Contracts, Scheduled: []monthAmountOut{}, Queued: f.Queued, QueueMoney: f.QueueMoney, Need: f.Need, Over: f.Over()}
	if !f.Unlimited {
		limit, headroom := f.Limit, f.Headroom
		out.Limit, out.Headroom = &limit, &headroom
	}
	for _, m := range f.Scheduled {
		out.Scheduled = append(out.Scheduled, monthAmountOut{Month: m.Month.String(), Amount: m.Amount})
	}
	return out
}

// whatIfParameterIn is a parameter's version to try: as POST
// /v1/admin/parameters takes it, the reason optional.
type whatIfParameterIn struct {
	Name   string `json:"name"`
	Scope  string `json:"scope,omitempty"`
	From   string `json:"from"`
	Value  string `json:"value"`
	Reason string `json:"reason,omitempty"`
}

// whatIfCategoryIn is a category to try: as POST /v1/admin/categories
// takes it.
type whatIfCategoryIn struct {
	Code     string `json:"code"`
	Nominal  string `json:"nominal"`
	MaxCount int    `json:"max_count,omitempty"`
	MaxSum   string `json:"max_sum,omitempty"`
}

type whatIfIn struct {
	Parameter *whatIfParameterIn `json:"parameter,omitempty"`
	Category  *whatIfCategoryIn  `json:"category,omitempty"`
}

type categoryChangeOut struct {
	Period        periodOut     `json:"period"`
	Before        *categoryIO   `json:"before,omitempty"`
	After         categoryIO    `json:"after"`
	NominalBefore funding.Money `json:"nominal_before"`
	NominalAfter  funding.Money `json:"nominal_after"`
}

type whatIfRefusalOut struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

type certificateChangeOut struct {
	CertificateID uuid.UUID     `json:"certificate_id"`
	Number        string        `json:"number"`
	Municipality  string        `json:"municipality"`
	BalanceBefore funding.Money `json:"balance_before"`
	BalanceAfter  funding.Money `json:"balance_after"`
}

type certificateRefusalOut struct {
	CertificateID uuid.UUID `json:"certificate_id"`
	Number        string    `json:"number"`
	Municipality  string    `json:"municipality"`
	Reason        string    `json:"reason"`
}

type budgetChangeOut struct {
	Municipality string      `json:"municipality"`
	Before       forecastOut `json:"before"`
	After        forecastOut `json:"after"`
}

type advanceChangeOut struct {
	Municipality string        `json:"municipality"`
	Before       funding.Money `json:"before"`
	After        funding.Money `json:"after"`
}

type whatIfOut struct {
	Proposal     string                  `json:"proposal"`
	Parameter    *parameterOut           `json:"parameter,omitempty"`
	Category     *categoryChangeOut      `json:"category,omitempty"`
	Refusal      *whatIfRefusalOut       `json:"refusal,omitempty"`
	Affected     int                     `json:"affected"`
	Changes      []certificateChangeOut  `json:"changes"`
	Moved        funding.Money           `json:"moved"`
	Refused      int                     `json:"refused"`
	Refusals     []certificateRefusalOut `json:"refusals"`
	Budget       []budgetChangeOut       `json:"budget"`
	AdvanceMonth string                  `json:"advance_month,omitempty"`
	Advances     []advanceChangeOut      `json:"advances"`
	Notes        []string                `json:"notes"`
}

func categoryDTO(c certificate.Category) categoryIO {
	return categoryIO{Code: c.Code, Nominal: c.Nominal, MaxCount: c.MaxCount, MaxSum: c.MaxSum}
}

func whatIfDTO(rep enrollment.WhatIfReport) whatIfOut {
	out := whatIfOut{Proposal: rep.Proposal, Affected: rep.Affected, Changes: []certificateChangeOut{}, Moved: rep.Moved,
		Refused: rep.Refused, Refusals: []certificateRefusalOut{}, Budget: []budgetChangeOut{}, Advances: []advanceChangeOut{}, Notes: []string{}}
	if v := rep.Parameter; v != nil {
		p := parameterDTO(*v)
		out.Parameter = &p
	}
	if c := rep.Category; c != nil {
		ch := &categoryChangeOut{Period: periodDTO(c.Period), After: categoryDTO(c.After), NominalBefore: c.NominalBefore, NominalAfter: c.NominalAfter}
		if c.Before != nil {
			b := categoryDTO(*c.Before)
			ch.Before = &b
		}
		out.Category = ch
	}
	if r := rep.Refusal; r != nil {
		out.Refusal = &whatIfRefusalOut{Code: r.Code, Message: r.Message}
	}
	for _, c := range rep.Changes {
		out.Changes = append(out.Changes, certificateChangeOut{CertificateID: c.CertificateID, Number: string(c.Number), Municipality: c.Municipality,
			BalanceBefore: c.Before, BalanceAfter: c.After})
	}
	for _, r := range rep.Refusals {
		out.Refusals = append(out.Refusals, certificateRefusalOut{CertificateID: r.CertificateID, Number: string(r.Number), Municipality: r.Municipality, Reason: r.Reason})
	}
	for _, b := range rep.Budget {
		out.Budget = append(out.Budget, budgetChangeOut{Municipality: b.Municipality, Before: forecastDTO(b.Before), After: forecastDTO(b.After)})
	}
	if !rep.AdvanceMonth.IsZero() {
		out.AdvanceMonth = rep.AdvanceMonth.String()
	}
	for _, a := range rep.Advances {
		out.Advances = append(out.Advances, advanceChangeOut{Municipality: a.Municipality, Before: a.Before, After: a.After})
	}
	for _, n := range rep.Notes {
		if n != "" {
			out.Notes = append(out.Notes, n)
		}
	}
	return out
}

// ---- handlers ----

// forecast is each municipality's budget forecast to the end of the
// period: a municipal authority's own, the operators' every one.
func (h *Handler) forecast(w http.ResponseWriter, r *http.Request, c call) error {
	if err := onlyParams(r.URL.Query()); err != nil {
		return err
	}
	fc, err := h.cfg.Service.Forecast(r.Context(), c.p.Caller())
	if err != nil {
		return err
	}
	out := forecastListOut{Items: []forecastOut{}}
	for _, f := range fc {
		out.Items = append(out.Items, forecastDTO(f))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// whatIf reports what a parameter's version or a category would do if it
// were made now, writing nothing. The handler checks the form; the service
// checks the proposal as SetParameter or SaveCategory would (its field
// named under parameter. or category.) and who may ask.
func (h *Handler) whatIf(w http.ResponseWriter, r *http.Request, c call) error {
	var in whatIfIn
	if err := decode(w, r, &in, false); err != nil {
		return err
	}
	var p parser
	prop := enrollment.Proposal{By: c.p.Caller()}
	switch {
	case (in.Parameter == nil) == (in.Category == nil):
		p.fail("body", "must hold either parameter or category")
	case in.Parameter != nil:
		v := in.Parameter
		prop.Parameter = &enrollment.ParameterRequest{
			Name:   p.text("parameter.name", v.Name, funding.MaxCodeLen, true),
			Scope:  p.text("parameter.scope", v.Scope, funding.MaxCodeLen, false),
			From:   p.date("parameter.from", v.From, true),
			Value:  p.text("parameter.value", v.Value, funding.MaxNameLen, true),
			Reason: p.text("parameter.reason", v.Reason, funding.MaxNoteLen, false),
		}
	default:
		v := in.Category
		cat := certificate.Category{
			Code:     p.text("category.code", v.Code, 40, true),
			Nominal:  p.money("category.nominal", v.Nominal),
			MaxCount: v.MaxCount,
		}
		if v.MaxSum != "" {
			cat.MaxSum = p.money("category.max_sum", v.MaxSum)
		}
		prop.Category = &cat
	}
	if p.err != nil {
		return p.err
	}
	rep, err := h.cfg.Service.WhatIf(r.Context(), prop)
	var ve *funding.ValidationError
	if prop.Parameter != nil && errors.As(err, &ve) {
		named := *ve
		named.Field = "parameter." + ve.Field
		return &named
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, whatIfDTO(rep))
	return nil
}
