package scenario

import (
	"cmp"
	"context"
	"fmt"
	"strings"

	"github.com/google/uuid"

	"github.com/edufund/edufund/catalog"
	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/enrollment/batch"
	"github.com/edufund/edufund/funding"
)

// eventKind is one named kind of event: the form of its arguments and what
// it does through the services.
type eventKind struct {
	args func() any // a pointer to a new value of its arguments
	run  func(r *runner, e *event, args any) error
	// contract says it creates a contract, which the event may name (as:).
	contract bool
}

// kind makes the eventKind whose arguments are an A.
func kind[A any](run func(r *runner, e *event, a *A) error) eventKind {
	return eventKind{
		args: func() any { return new(A) },
		run:  func(r *runner, e *event, a any) error { return run(r, e, a.(*A)) },
	}
}

// creates marks k as creating a contract.
func creates(k eventKind) eventKind {
	k.contract = true
	return k
}

// kinds is the vocabulary of events, by the name a file gives them. A new
// kind of event is one row here: its name, its arguments' type and the
// function that runs it.
var kinds = map[string]eventKind{
	// People and certificates.
	"link_guardian":      kind(linkGuardian),
	"issue":              kind(issue),
	"request_funding":    kind(requestFunding),
	"activate":           kind(changeStatus(enrollment.ActivateCertificate)),
	"suspend":            kind(changeStatus(enrollment.SuspendCertificate)),
	"resume":             kind(changeStatus(enrollment.ResumeCertificate)),
	"cancel":             kind(changeStatus(enrollment.CancelCertificate)),
	"apply_adult":        kind(applyAdult),
	"record_documents":   kind(recordDocuments),
	"cancel_overdue":     kind(cancelOverdue),
	"cancel_all_overdue": kind(cancelAllOverdue),

	// Contracts.
	"submit":            creates(kind(submit)),
	"confirm":           kind(contractMove(enrollment.RoleProvider, (*enrollment.Service).Confirm)),
	"accept":            kind(contractMove(enrollment.RoleHolder, (*enrollment.Service).Accept)),
	"refuse":            kind(refuse),
	"withdraw":          kind(contractMove(enrollment.RoleHolder, (*enrollment.Service).Withdraw)),
	"terminate":         kind(contractMove(enrollment.RoleHolder, (*enrollment.Service).Terminate)),
	"complete":          kind(contractMove(enrollment.RoleProvider, (*enrollment.Service).Complete)),
	"report_delivery":   kind(reportDelivery),
	"prolong":           creates(kind(prolong)),
	"accept_by_silence": kind(acceptBySilence),
	"rate":              kind(rate),

	// The region's jobs.
	"close_month": kind(closeMonth),
	"rollover":    kind(rollover),

	// The region's parameters.
	"save_category":       kind(saveCategory),
	"set_budget":          kind(setBudget),
	"set_direction_limit": kind(setDirectionLimit),
	"change_parameter":    kind(changeParameter),

	// What the file expects at this point.
	"expect": kind(expect),
}

// The arguments of the events and what they do. A name in the arguments
// (a person, a group, a contract) is the one the file gave; who acts is
// the kind's usual caller unless the event says by:.

type linkArgs struct {
	Guardian string `yaml:"guardian,required"`
	Child    string `yaml:"child,required"`
}

func linkGuardian(r *runner, e *event, a *linkArgs) error {
	g, err := r.person(a.Guardian, e.arg("guardian"))
	if err != nil {
		return err
	}
	c, err := r.person(a.Child, e.arg("child"))
	if err != nil {
		return err
	}
	by, err := r.caller(enrollment.RoleMunicipality, subject{municipality: c.holder.Municipality})
	if err != nil {
		return err
	}
	_, err = r.svc.LinkGuardian(r.ctx, r.key(), enrollment.LinkRequest{GuardianID: g.holder.PersonID, ChildID: c.holder.PersonID, By: by})
	return err
}

type issueArgs struct {
	Child        string `yaml:"child,required"`
	Guardian     string `yaml:"guardian"`
	Category     string `yaml:"category"`
	Funded       bool   `yaml:"funded"`
	Municipality string `yaml:"municipality"` // the funding one; the child's by default
	Protection   string `yaml:"protection"`   // forbidden (default), by_name, by_passphrase
	Passphrase   string `yaml:"passphrase"`
}

func issue(r *runner, e *event, a *issueArgs) error {
	child, err := r.person(a.Child, e.arg("child"))
	if err != nil {
		return err
	}
	req := enrollment.IssueRequest{Holder: child.holder, Municipality: a.Municipality, Category: a.Category, Funded: a.Funded,
		Protection: certificate.ProtectionMode(cmp.Or(a.Protection, string(certificate.Forbidden))), Passphrase: a.Passphrase}
	var sub subject
	if a.Guardian != "" {
		g, err := r.person(a.Guardian, e.arg("guardian"))
		if err != nil {
			return err
		}
		req.GuardianID, sub.holder = g.holder.PersonID, g.holder.PersonID
	}
	sub.municipality = cmp.Or(a.Municipality, child.holder.Municipality)
	if req.By, err = r.caller(enrollment.RoleMunicipality, sub); err != nil {
		return err
	}
	res, err := r.svc.Issue(r.ctx, r.key(), req)
	if err == nil {
		child.issued(res.Certificate.ID)
	}
	return err
}

func requestFunding(r *runner, e *event, name *string) error {
	c, by, err := r.certificateBy(*name, e.arg(""), enrollment.RoleHolder)
	if err != nil {
		return err
	}
	_, err = r.svc.RequestFunding(r.ctx, r.key(), c.ID, by)
	return err
}

// changeStatus is activate, suspend, resume or cancel: by the municipality
// that funds a child's certificate, by the federal operator an adult's.
func changeStatus(action enrollment.CertificateAction) func(r *runner, e *event, name *string) error {
	return func(r *runner, e *event, name *string) error {
		c, err := r.certificate(*name, e.arg(""))
		if err != nil {
			return err
		}
		by, err := r.caller(officer(c), subject{cert: &c})
		if err != nil {
			return err
		}
		_, err = r.svc.ChangeStatus(r.ctx, r.key(), c.ID, action, by)
		return err
	}
}

// officer is who changes a certificate's status.
func officer(c certificate.Certificate) enrollment.Role {
	if c.Scheme == certificate.DigitalSkills {
		return enrollment.RoleFederal
	}
	return enrollment.RoleMunicipality
}

type adultArgs struct {
	Person   string `yaml:"person,required"`
	Category string `yaml:"category"`
}

func applyAdult(r *runner, e *event, a *adultArgs) error {
	p, err := r.person(a.Person, e.arg("person"))
	if err != nil {
		return err
	}
	by, err := r.caller(enrollment.RoleHolder, subject{holder: p.holder.PersonID})
	if err != nil {
		return err
	}
	res, err := r.svc.ApplyAdult(r.ctx, r.key(), enrollment.AdultApplication{Holder: p.holder, Category: a.Category, By: by})
	if err == nil {
		p.issued(res.Certificate.ID)
	}
	return err
}

type documentsArgs struct {
	Certificate string `yaml:"certificate,required"`
	Uploaded    bool   `yaml:"uploaded"`
	ValidReason string `yaml:"valid_reason"`
}

// recordDocuments is the holder uploading the documents, or the federal
// operator recording a valid reason for their delay.
func recordDocuments(r *runner, e *event, a *documentsArgs) error {
	role := enrollment.RoleHolder
	if a.ValidReason != "" {
		role = enrollment.RoleFederal
	}
	c, by, err := r.certificateBy(a.Certificate, e.arg("certificate"), role)
	if err != nil {
		return err
	}
	_, err = r.svc.RecordDocuments(r.ctx, r.key(), enrollment.DocumentsRequest{CertificateID: c.ID, Uploaded: a.Uploaded, ValidReason: a.ValidReason, By: by})
	return err
}

func cancelOverdue(r *runner, e *event, name *string) error {
	c, by, err := r.certificateBy(*name, e.arg(""), enrollment.RoleFederal)
	if err != nil {
		return err
	}
	_, err = r.svc.CancelOverdue(r.ctx, r.key(), c.ID, by)
	return err
}

type none struct{}

func cancelAllOverdue(r *runner, e *event, _ *none) error {
	by, err := r.caller(enrollment.RoleFederal, subject{})
	if err != nil {
		return err
	}
	rep, err := r.svc.CancelAllOverdue(r.ctx, by, nil)
	if err != nil {
		return err
	}
	return failed("certificates", rep.Failed)
}

type submitArgs struct {
	Certificate string       `yaml:"certificate,required"`
	Group       string       `yaml:"group,required"`
	Start       funding.Date `yaml:"start"`
	CoPay       bool         `yaml:"co_pay"` // the holder accepts to pay what the balance does not cover
	// A provider applying in the holder's presence names the certificate
	// by its number (the certificate's own unless given) and, as its
	// protection asks, the child's full name or the passphrase.
	Number     string `yaml:"number"`
	FullName   string `yaml:"full_name"`
	Passphrase string `yaml:"passphrase"`
}

func submit(r *runner, e *event, a *submitArgs) error {
	c, err := r.certificate(a.Certificate, e.arg("certificate"))
	if err != nil {
		return err
	}
	g, err := r.offer(a.Group, e.arg("group"))
	if err != nil {
		return err
	}
	by, err := r.caller(enrollment.RoleHolder, subject{cert: &c, provider: g.Provider.ID})
	if err != nil {
		return err
	}
	req := enrollment.SubmitRequest{CertificateID: c.ID, GroupID: g.Group.ID, Start: a.Start, CoPayAccepted: a.CoPay, By: by}
	if by.Role == enrollment.RoleProvider {
		req.Number = certificate.Number(cmp.Or(a.Number, string(c.Number)))
		req.FullName, req.Passphrase = a.FullName, a.Passphrase
	}
	k, err := r.svc.Submit(r.ctx, r.key(), req)
	if err == nil {
		r.named(e, k)
	}
	return err
}

// contractMove is an event that moves a named contract through the
// service's method do, asked by role unless the event says by:.
func contractMove(role enrollment.Role, do func(*enrollment.Service, context.Context, string, enrollment.ContractRequest) (enrollment.Contract, error)) func(r *runner, e *event, name *string) error {
	return func(r *runner, e *event, name *string) error {
		req, err := r.contractRequest(*name, e.arg(""), role)
		if err != nil {
			return err
		}
		_, err = do(r.svc, r.ctx, r.key(), req)
		return err
	}
}

type refuseArgs struct {
	Contract string `yaml:"contract,required"`
	// Reason is what the family is told; a provider must give one.
	Reason string `yaml:"reason,required"`
}

func refuse(r *runner, e *event, a *refuseArgs) error {
	req, err := r.contractRequest(a.Contract, e.arg("contract"), enrollment.RoleProvider)
	if err != nil {
		return err
	}
	req.Reason = a.Reason
	_, err = r.svc.Refuse(r.ctx, r.key(), req)
	return err
}

type deliveryArgs struct {
	Contract string        `yaml:"contract,required"`
	Month    funding.Month `yaml:"month,required"`
	Percent  int           `yaml:"percent,required"`
}

func reportDelivery(r *runner, e *event, a *deliveryArgs) error {
	req, err := r.contractRequest(a.Contract, e.arg("contract"), enrollment.RoleProvider)
	if err != nil {
		return err
	}
	_, err = r.svc.ReportDelivery(r.ctx, r.key(), enrollment.DeliveryReport{ContractRequest: req, Month: a.Month, Percent: a.Percent})
	return err
}

type prolongArgs struct {
	Contract string `yaml:"contract,required"`
	Group    string `yaml:"group,required"`
}

func prolong(r *runner, e *event, a *prolongArgs) error {
	req, err := r.contractRequest(a.Contract, e.arg("contract"), enrollment.RoleProvider)
	if err != nil {
		return err
	}
	g, err := r.offer(a.Group, e.arg("group"))
	if err != nil {
		return err
	}
	k, err := r.svc.Prolong(r.ctx, r.key(), enrollment.ProlongRequest{ContractRequest: req, GroupID: g.Group.ID})
	if err == nil {
		r.named(e, k)
	}
	return err
}

func acceptBySilence(r *runner, _ *event, _ *none) error {
	_, err := r.svc.AcceptBySilence(r.ctx)
	return err
}

type rateArgs struct {
	Contract     string `yaml:"contract,required"`
	Results      int    `yaml:"results,required"`
	Staff        int    `yaml:"staff,required"`
	Means        int    `yaml:"means,required"`
	Satisfaction int    `yaml:"satisfaction,required"`
}

func rate(r *runner, e *event, a *rateArgs) error {
	req, err := r.contractRequest(a.Contract, e.arg("contract"), enrollment.RoleHolder)
	if err != nil {
		return err
	}
	rating := enrollment.Rating{Results: a.Results, Staff: a.Staff, Means: a.Means, Satisfaction: a.Satisfaction}
	_, err = r.svc.Rate(r.ctx, r.key(), enrollment.RateRequest{ContractRequest: req, Rating: rating})
	return err
}

// closeMonth runs the monthly close as the reference server does.
func closeMonth(r *runner, _ *event, m *funding.Month) error {
	rep, err := batch.CloseMonth(r.ctx, r.svc, *m, batch.CloseOptions{})
	if err != nil {
		return err
	}
	return failed("contracts", rep.Failed)
}

func rollover(r *runner, _ *event, p *span) error {
	rep, err := r.svc.Rollover(r.ctx, funding.Period(*p), nil)
	if err != nil {
		return err
	}
	return failed("certificates", rep.Failed)
}

// failed is an error listing what a run over many failed on.
func failed(what string, errs map[uuid.UUID]error) error {
	if len(errs) == 0 {
		return nil
	}
	var msgs []string
	for id, err := range errs {
		msgs = append(msgs, fmt.Sprintf("%s: %v", id, err))
	}
	return fmt.Errorf("%d %s failed: %s", len(errs), what, strings.Join(msgs, "; "))
}

func saveCategory(r *runner, _ *event, c *categorySpec) error { return r.saveCategory(*c) }

type budgetArgs struct {
	Municipality string        `yaml:"municipality"` // the region's first by default
	Period       span          `yaml:"period"`       // the period of today by default
	Limit        funding.Money `yaml:"limit,required"`
}

func setBudget(r *runner, _ *event, a *budgetArgs) error {
	mun, period := r.municipalPeriod(a.Municipality, a.Period)
	by, err := r.caller(enrollment.RoleRegional, subject{municipality: mun})
	if err != nil {
		return err
	}
	_, err = r.svc.SetBudget(r.ctx, r.key(), enrollment.BudgetRequest{Municipality: mun, Period: period, Limit: a.Limit, By: by})
	return err
}

type directionArgs struct {
	Municipality string `yaml:"municipality"`
	Direction    string `yaml:"direction,required"`
	Period       span   `yaml:"period"`
	Limit        int    `yaml:"limit,required"`
}

func setDirectionLimit(r *runner, _ *event, a *directionArgs) error {
	mun, period := r.municipalPeriod(a.Municipality, a.Period)
	by, err := r.caller(enrollment.RoleRegional, subject{municipality: mun})
	if err != nil {
		return err
	}
	_, err = r.svc.SetDirectionLimit(r.ctx, r.key(), enrollment.DirectionLimitRequest{
		Municipality: mun, Direction: catalog.Direction(a.Direction), Period: period, Limit: a.Limit, By: by})
	return err
}

type parameterArgs struct {
	Name   string       `yaml:"name,required"`
	Scope  string       `yaml:"scope"`
	From   funding.Date `yaml:"from"` // the event's date by default
	Value  string       `yaml:"value,required"`
	Reason string       `yaml:"reason"`
}

// changeParameter records a new version of a region parameter, made by the
// first role that may change it (a municipality its own scope) unless the
// event says by:.
func changeParameter(r *runner, e *event, a *parameterArgs) error {
	role := enrollment.RoleRegional
	if def, ok := enrollment.ParameterNamed(a.Name); ok && len(def.Roles) > 0 {
		role = def.Roles[0]
	}
	by, err := r.caller(role, subject{municipality: a.Scope})
	if err != nil {
		return err
	}
	from := a.From
	if from.IsZero() {
		from = r.svc.Today()
	}
	_, err = r.svc.SetParameter(r.ctx, r.key(), enrollment.ParameterRequest{
		Name: a.Name, Scope: a.Scope, From: from, Value: a.Value,
		Reason: cmp.Or(a.Reason, "scenario "+r.sc.Name), By: by,
	})
	return err
}

// municipalPeriod is a municipality and period an event names, or the
// region's first municipality and today's period.
func (r *runner) municipalPeriod(mun string, p span) (string, funding.Period) {
	period := funding.Period(p)
	if period.Start.IsZero() {
		period = r.sc.region.config.PeriodOf(r.today())
	}
	return cmp.Or(mun, r.sc.region.municipalities[0]), period
}
