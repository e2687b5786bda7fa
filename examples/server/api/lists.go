package api

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/funding"
)

// The cabinets' lists (GET /v1/certificates, GET /v1/contracts): a page at
// a time, newest first, within what the caller may read. The service
// narrows the filter to the caller's reach; a filter outside it gives an
// empty page, never another tenant's data. A page's next is the after of
// the next page, left out on the last.

type pageOut[T any] struct {
	Items []T `json:"items"`
	// Next is the id to pass as after for the next page; empty on the last.
	Next string `json:"next,omitempty"`
}

func nextOut(id uuid.UUID) string {
	if id == uuid.Nil {
		return ""
	}
	return id.String()
}

// listLimit reads the limit query parameter: a whole number; the service
// bounds it (1 to enrollment.MaxListLimit, absent or 0 the default).
func listLimit(p *parser, q url.Values) int {
	v, ok := q["limit"]
	if !ok {
		return 0
	}
	n, err := strconv.Atoi(v[0])
	if err != nil {
		p.fail("limit", "must be a whole number between 1 and "+strconv.Itoa(enrollment.MaxListLimit))
		return 0
	}
	if n < 1 || n > enrollment.MaxListLimit {
		// 0 would be the service's default: the API takes only a page size.
		p.fail("limit", "must be between 1 and "+strconv.Itoa(enrollment.MaxListLimit))
	}
	return n
}

// certificates lists the certificates the caller may read: a holder those
// they act for, a municipality its own, the regional operator the
// children's, the federal operator the adults'.
func (h *Handler) certificates(w http.ResponseWriter, r *http.Request, c call) error {
	q := r.URL.Query()
	if err := onlyParams(q, "scheme", "municipality", "status", "holder", "after", "limit"); err != nil {
		return err
	}
	var p parser
	f := enrollment.CertificateFilter{
		Scheme:       certificate.Scheme(q.Get("scheme")),
		Municipality: p.text("municipality", q.Get("municipality"), 40, false),
		Status:       certificate.Status(q.Get("status")),
		Holder:       p.personID("holder", q.Get("holder"), false),
		After:        p.uuid("after", q.Get("after"), false),
		Limit:        listLimit(&p, q),
	}
	if p.err != nil {
		return p.err
	}
	page, err := h.cfg.Service.Certificates(r.Context(), c.p.Caller(), f)
	if err != nil {
		return err
	}
	out := pageOut[certificateOut]{Items: []certificateOut{}, Next: nextOut(page.Next)}
	for _, cert := range page.Certificates {
		out.Items = append(out.Items, certificateDTO(cert))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// contracts lists the contracts (applications included) the caller may
// read: a provider its own, a municipality those of its certificates, the
// operators their scheme's, a holder those of one certificate they act for
// (certificate_id is then required). status takes several statuses
// separated by commas (status=requested,accepted).
func (h *Handler) contracts(w http.ResponseWriter, r *http.Request, c call) error {
	q := r.URL.Query()
	if err := onlyParams(q, "scheme", "provider_id", "municipality", "certificate_id", "status", "after", "limit"); err != nil {
		return err
	}
	var p parser
	f := enrollment.ContractFilter{
		Scheme:       certificate.Scheme(q.Get("scheme")),
		Provider:     p.uuid("provider_id", q.Get("provider_id"), false),
		Municipality: p.text("municipality", q.Get("municipality"), 40, false),
		Certificate:  p.uuid("certificate_id", q.Get("certificate_id"), false),
		Statuses:     contractStatuses(&p, q),
		After:        p.uuid("after", q.Get("after"), false),
		Limit:        listLimit(&p, q),
	}
	if p.err != nil {
		return p.err
	}
	page, err := h.cfg.Service.Contracts(r.Context(), c.p.Caller(), f)
	if err != nil {
		return err
	}
	out := pageOut[contractOut]{Items: []contractOut{}, Next: nextOut(page.Next)}
	for _, k := range page.Contracts {
		out.Items = append(out.Items, contractDTO(k))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// contractStatuses reads the status query parameter: contract statuses
// separated by commas, each known, none empty.
func contractStatuses(p *parser, q url.Values) []enrollment.Status {
	v, ok := q["status"]
	if !ok {
		return nil
	}
	var out []enrollment.Status
	for s := range strings.SplitSeq(v[0], ",") {
		st := enrollment.Status(s)
		if !st.Known() {
			p.fail("status", "must be contract statuses separated by commas, each one of "+statusNames())
			return nil
		}
		out = append(out, st)
	}
	return out
}

func statusNames() string {
	names := make([]string, len(enrollment.Statuses))
	for i, s := range enrollment.Statuses {
		names[i] = string(s)
	}
	return strings.Join(names, ", ")
}

type refuseIn struct {
	// Reason is why the provider refuses: required, shown to the family.
	Reason string `json:"reason"`
}

// refuse is the provider turning down an application or an offer, saying
// why: the service requires the reason of a provider.
func (h *Handler) refuse(w http.ResponseWriter, r *http.Request, c call) error {
	id, err := h.pathID(r)
	if err != nil {
		return err
	}
	var in refuseIn
	if err := decode(w, r, &in, false); err != nil {
		return err
	}
	var p parser
	req := contractRequest(c, id)
	req.Reason = p.multiline("reason", in.Reason, funding.MaxNoteLen)
	if p.err != nil {
		return p.err
	}
	k, err := h.cfg.Service.Refuse(r.Context(), c.key, req)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, contractDTO(k))
	return nil
}
