package api

import (
	"context"
	"net/http"
	"net/url"

	"github.com/google/uuid"

	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/enrollment/batch"
	"github.com/edufund/edufund/funding"
)

// ---- certificates ----

func parseProtection(p *parser, s string) certificate.ProtectionMode {
	switch m := certificate.ProtectionMode(s); m {
	case "", certificate.Forbidden, certificate.ByName, certificate.ByPassphrase:
		return m
	}
	p.fail("protection", "must be forbidden, by_name or by_passphrase")
	return ""
}

func (h *Handler) issueCertificate(w http.ResponseWriter, r *http.Request, c call) error {
	var in issueIn
	if err := decode(w, r, &in, false); err != nil {
		return err
	}
	var p parser
	req := enrollment.IssueRequest{
		Holder:       in.Holder.parse(&p),
		GuardianID:   p.personID("guardian_id", in.GuardianID, false),
		Municipality: p.text("municipality", in.Municipality, 40, false),
		Category:     p.text("category", in.Category, 40, false),
		Funded:       in.Funded,
		Protection:   parseProtection(&p, in.Protection),
		Passphrase:   p.secret("passphrase", in.Passphrase, 200),
		By:           c.p.Caller(),
	}
	if p.err != nil {
		return p.err
	}
	res, err := h.cfg.Service.Issue(r.Context(), c.key, req)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, issueDTO(res))
	return nil
}

func (h *Handler) getCertificate(w http.ResponseWriter, r *http.Request, c call) error {
	id, err := h.pathID(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	if err := onlyParams(q, "on"); err != nil {
		return err
	}
	var p parser
	on := p.date("on", q.Get("on"), false)
	if p.err != nil {
		return p.err
	}
	if on.IsZero() {
		on = h.today()
	}
	cab, err := h.cfg.Service.CabinetOn(r.Context(), c.p.Caller(), id, on)
	if err != nil {
		return err
	}
	out := cabinetDTO(cab)
	if out.Notifications, err = h.notifications(r.Context(), cab); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// changeStatus serves the route of one of the certificate's actions.
func changeStatus(action enrollment.CertificateAction) handler {
	return func(h *Handler, w http.ResponseWriter, r *http.Request, c call) error {
		id, err := h.pathID(r)
		if err != nil {
			return err
		}
		if err := decode(w, r, &struct{}{}, true); err != nil {
			return err
		}
		cert, err := h.cfg.Service.ChangeStatus(r.Context(), c.key, id, action, c.p.Caller())
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, certificateDTO(cert))
		return nil
	}
}

func (h *Handler) fundCertificate(w http.ResponseWriter, r *http.Request, c call) error {
	id, err := h.pathID(r)
	if err != nil {
		return err
	}
	if err := decode(w, r, &struct{}{}, true); err != nil {
		return err
	}
	res, err := h.cfg.Service.RequestFunding(r.Context(), c.key, id, c.p.Caller())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, issueDTO(res))
	return nil
}

type guardianshipIO struct {
	GuardianID string `json:"guardian_id"`
	ChildID    string `json:"child_id"`
}

// linkGuardian records that a person is a child's guardian, as a municipal
// authority saw it in the documents: the guardian may then issue and manage
// the child's certificate.
func (h *Handler) linkGuardian(w http.ResponseWriter, r *http.Request, c call) error {
	var in guardianshipIO
	if err := decode(w, r, &in, false); err != nil {
		return err
	}
	var p parser
	req := enrollment.LinkRequest{
		GuardianID: p.text("guardian_id", in.GuardianID, 100, true),
		ChildID:    p.text("child_id", in.ChildID, 100, true),
		By:         c.p.Caller(),
	}
	if p.err != nil {
		return p.err
	}
	l, err := h.cfg.Service.LinkGuardian(r.Context(), c.key, req)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, guardianshipIO{GuardianID: l.GuardianID, ChildID: l.ChildID})
	return nil
}

// ---- catalog ----

// onlyParams refuses query parameters other than the allowed ones.
func onlyParams(q url.Values, allowed ...string) error {
	for k, vs := range q {
		ok := false
		for _, a := range allowed {
			if k == a {
				ok = true
			}
		}
		if !ok {
			return invalidField(k, "is not a known query parameter")
		}
		if len(vs) > 1 {
			return invalidField(k, "must be given once")
		}
	}
	return nil
}

func (h *Handler) group(w http.ResponseWriter, r *http.Request, c call) error {
	id, err := h.pathID(r)
	if err != nil {
		return err
	}
	o, err := h.cfg.Service.Offer(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, offerDTO(o))
	return nil
}

// ---- applications and contracts ----

func (h *Handler) submit(w http.ResponseWriter, r *http.Request, c call) error {
	var in submitIn
	if err := decode(w, r, &in, false); err != nil {
		return err
	}
	var p parser
	req := enrollment.SubmitRequest{
		CertificateID: p.uuid("certificate_id", in.CertificateID, c.p.Role == RoleHolder),
		GroupID:       p.uuid("group_id", in.GroupID, true),
		Start:         p.date("start", in.Start, false),
		CoPayAccepted: in.CoPayAccepted,
		By:            c.p.Caller(),
		FullName:      p.text("full_name", in.FullName, 300, false),
		Passphrase:    p.secret("passphrase", in.Passphrase, 200),
		// The service checks the version's form: the batches take it too.
		ConsentVersion: in.ConsentVersion,
	}
	if p.err != nil {
		return p.err
	}
	switch c.p.Role {
	case RoleHolder:
		if in.Number != "" || in.FullName != "" || in.Passphrase != "" {
			return invalidField("number", "number, full_name and passphrase are only for applications a provider creates")
		}
	case RoleProvider:
		n, err := certificate.ParseNumber(in.Number)
		if err != nil {
			return invalidField("number", "must be the certificate's 10-digit number")
		}
		req.Number = n
	}
	if in.Waitlist {
		if c.p.Role != RoleHolder {
			return invalidField("waitlist", "only the holder may ask for a group's waitlist")
		}
		req.Waitlist = true
		return h.submitOrWait(w, r, c, req)
	}
	k, err := h.cfg.Submitter.Submit(r.Context(), c.key, req)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, contractDTO(k))
	return nil
}

func (h *Handler) getContract(w http.ResponseWriter, r *http.Request, c call) error {
	id, err := h.pathID(r)
	if err != nil {
		return err
	}
	k, err := h.cfg.Service.Contract(r.Context(), c.p.Caller(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, contractDTO(k))
	return nil
}

// contractRequest names contract id and the caller to the service, which
// checks inside its transaction that the caller is a party to it.
func contractRequest(c call, id uuid.UUID) enrollment.ContractRequest {
	return enrollment.ContractRequest{ContractID: id, By: c.p.Caller()}
}

// contractAction serves the route of a contract's action that takes no
// data: run is the Service method it calls.
func contractAction(run func(*enrollment.Service, context.Context, string, enrollment.ContractRequest) (enrollment.Contract, error)) handler {
	return func(h *Handler, w http.ResponseWriter, r *http.Request, c call) error {
		id, err := h.pathID(r)
		if err != nil {
			return err
		}
		if err := decode(w, r, &struct{}{}, true); err != nil {
			return err
		}
		k, err := run(h.cfg.Service, r.Context(), c.key, contractRequest(c, id))
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, contractDTO(k))
		return nil
	}
}

func (h *Handler) delivery(w http.ResponseWriter, r *http.Request, c call) error {
	id, err := h.pathID(r)
	if err != nil {
		return err
	}
	var in deliveryIn
	if err := decode(w, r, &in, false); err != nil {
		return err
	}
	var p parser
	m := p.month("month", in.Month, true)
	if in.Percent == nil {
		p.fail("percent", "is required")
	} else if *in.Percent < 0 || *in.Percent > 100 {
		p.fail("percent", "must be between 0 and 100")
	}
	if p.err != nil {
		return p.err
	}
	k, err := h.cfg.Service.ReportDelivery(r.Context(), c.key, enrollment.DeliveryReport{ContractRequest: contractRequest(c, id), Month: m, Percent: *in.Percent})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, contractDTO(k))
	return nil
}

func (h *Handler) rating(w http.ResponseWriter, r *http.Request, c call) error {
	id, err := h.pathID(r)
	if err != nil {
		return err
	}
	var in ratingIn
	if err := decode(w, r, &in, false); err != nil {
		return err
	}
	vals := []struct {
		name string
		v    *int
	}{{"results", in.Results}, {"staff", in.Staff}, {"means", in.Means}, {"satisfaction", in.Satisfaction}}
	for _, v := range vals {
		if v.v == nil {
			return invalidField(v.name, "is required")
		}
	}
	rt, err := enrollment.NewRating(*in.Results, *in.Staff, *in.Means, *in.Satisfaction)
	if err != nil {
		return err
	}
	k, err := h.cfg.Service.Rate(r.Context(), c.key, enrollment.RateRequest{ContractRequest: contractRequest(c, id), Rating: rt})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, contractDTO(k))
	return nil
}

// ---- billing ----

func (h *Handler) invoices(w http.ResponseWriter, r *http.Request, c call) error {
	q := r.URL.Query()
	if err := onlyParams(q, "month", "provider_id"); err != nil {
		return err
	}
	var p parser
	m := p.month("month", q.Get("month"), true)
	pid := p.uuid("provider_id", q.Get("provider_id"), false)
	if p.err != nil {
		return p.err
	}
	list, err := h.cfg.Service.Invoices(r.Context(), c.p.Caller(), m, pid)
	if err != nil {
		return err
	}
	out := listOut[invoiceOut]{Items: []invoiceOut{}}
	for _, inv := range list {
		out.Items = append(out.Items, invoiceDTO(inv))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// ---- adult scheme ----

func (h *Handler) applyAdult(w http.ResponseWriter, r *http.Request, c call) error {
	var in adultIn
	if err := decode(w, r, &in, false); err != nil {
		return err
	}
	var p parser
	req := enrollment.AdultApplication{Holder: in.Holder.parse(&p), Category: p.text("category", in.Category, 40, false), By: c.p.Caller()}
	if p.err != nil {
		return p.err
	}
	res, err := h.cfg.Service.ApplyAdult(r.Context(), c.key, req)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, issueDTO(res))
	return nil
}

func (h *Handler) queuePosition(w http.ResponseWriter, r *http.Request, c call) error {
	id, err := h.pathID(r)
	if err != nil {
		return err
	}
	pos, err := h.cfg.Service.QueuePosition(r.Context(), c.p.Caller(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, queueOut{CertificateID: id, Position: pos})
	return nil
}

func (h *Handler) documents(w http.ResponseWriter, r *http.Request, c call) error {
	id, err := h.pathID(r)
	if err != nil {
		return err
	}
	var in documentsIn
	if err := decode(w, r, &in, false); err != nil {
		return err
	}
	var p parser
	reason := p.multiline("valid_reason", in.ValidReason, 1000)
	if p.err != nil {
		return p.err
	}
	cert, err := h.cfg.Service.RecordDocuments(r.Context(), c.key, enrollment.DocumentsRequest{CertificateID: id, Uploaded: in.Uploaded, ValidReason: reason, By: c.p.Caller()})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, certificateDTO(cert))
	return nil
}

func (h *Handler) cancelOverdue(w http.ResponseWriter, r *http.Request, c call) error {
	id, err := h.pathID(r)
	if err != nil {
		return err
	}
	if err := decode(w, r, &struct{}{}, true); err != nil {
		return err
	}
	cert, err := h.cfg.Service.CancelOverdue(r.Context(), c.key, id, c.p.Caller())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, certificateDTO(cert))
	return nil
}

// ---- administration ----

type closeOut struct {
	Month     string        `json:"month"`
	Contracts int           `json:"contracts"`
	Charged   int           `json:"charged"`
	Amount    funding.Money `json:"amount"`
	Closed    int           `json:"closed"`
	Refused   int           `json:"refused"`
	Lines     int           `json:"lines"`
	Failed    int           `json:"failed"`
}

// closeMonth runs the monthly close. It is safe to run again, so the
// Idempotency-Key is required for uniformity but a repeat simply re-runs it.
func (h *Handler) closeMonth(w http.ResponseWriter, r *http.Request, c call) error {
	var in closeIn
	if err := decode(w, r, &in, false); err != nil {
		return err
	}
	var p parser
	m := p.month("month", in.Month, true)
	if p.err != nil {
		return p.err
	}
	// A month that has not started is refused by the service
	// (month_not_started, 422).
	rep, err := batch.CloseMonth(r.Context(), h.cfg.Service, m, batch.CloseOptions{})
	if err != nil {
		return err
	}
	for id, ferr := range rep.Failed {
		h.log.ErrorContext(r.Context(), "monthly close: contract failed", "month", m.String(), "contract", id, "err", ferr)
	}
	writeJSON(w, http.StatusOK, closeOut{Month: m.String(), Contracts: rep.Contracts, Charged: rep.Charged, Amount: rep.Amount,
		Closed: rep.Closed, Refused: rep.Refused, Lines: rep.Lines, Failed: len(rep.Failed)})
	return nil
}
