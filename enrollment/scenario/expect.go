package scenario

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
	"go.yaml.in/yaml/v3"

	"github.com/edufund/edufund/catalog"
	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/funding"
)

// expectation is what the file expects at an event's date. Each part names
// what it looks at (a person's certificate, a contract, a provider's
// month) and the values it wants; a value left out is not checked.
type expectation struct {
	// Refusal is the code the event just before was refused with.
	Refusal  *string             `yaml:"refusal"`
	Cabinet  named[cabinetWant]  `yaml:"cabinet"`  // by the holder's name
	Contract named[contractWant] `yaml:"contract"` // by the contract's name
	Invoices []invoiceWant       `yaml:"invoices"`
	Queue    named[int]          `yaml:"queue"` // by the holder's name: the place in the queue, 0 when not queued
	Budget   []budgetWant        `yaml:"budget"`
	Score    named[scoreWant]    `yaml:"score"` // by the program's name
}

// The wants below compare their pointer and map fields, those the file
// gives, with the same fields filled from the services; their other fields
// say what to look at.

type cabinetWant struct {
	By         callerSpec               `yaml:"by"`        // who reads it; the system by default
	PeriodOf   funding.Date             `yaml:"period_of"` // a past period's cabinet: the one holding this date
	Status     *string                  `yaml:"status"`
	Kind       *string                  `yaml:"kind"`
	Category   *string                  `yaml:"category"`
	ValidUntil *funding.Date            `yaml:"valid_until"`
	Position   *int                     `yaml:"position"`
	Nominal    *funding.Money           `yaml:"nominal"`
	Usable     *funding.Money           `yaml:"usable"`
	Balance    *funding.Money           `yaml:"balance"`
	Reserved   *funding.Money           `yaml:"reserved"`
	Spent      *funding.Money           `yaml:"spent"`
	Depleted   *funding.Money           `yaml:"depleted"`
	Expired    *funding.Money           `yaml:"expired"`
	Notice     *string                  `yaml:"budget_notice"`
	Registries map[catalog.Registry]int `yaml:"registries"`
	// The weekly hours of a certificate in hours, and what its contracts hold.
	HoursBase      *int `yaml:"hours_base"`
	HoursExtra     *int `yaml:"hours_extra"`
	HoursUsedBase  *int `yaml:"hours_used_base"`
	HoursUsedExtra *int `yaml:"hours_used_extra"`
}

type contractWant struct {
	Status        *string                         `yaml:"status"`
	Start         *funding.Date                   `yaml:"start"`
	End           *funding.Date                   `yaml:"end"`
	Days          *int                            `yaml:"days"`
	Months        *int                            `yaml:"months"`
	All           *funding.Money                  `yaml:"all"`
	Norm          *funding.Money                  `yaml:"norm"`
	Cert          *funding.Money                  `yaml:"cert"`
	CoPay         *funding.Money                  `yaml:"co_pay"`
	First         *funding.Money                  `yaml:"first"`
	Other         *funding.Money                  `yaml:"other"`
	CertFirst     *funding.Money                  `yaml:"cert_first"`
	CertOther     *funding.Money                  `yaml:"cert_other"`
	CoPayFirst    *funding.Money                  `yaml:"co_pay_first"`
	CoPayOther    *funding.Money                  `yaml:"co_pay_other"`
	Schedule      map[funding.Month]funding.Money `yaml:"schedule"` // the certificate's payment of each month
	OfferedOn     *funding.Date                   `yaml:"offered_on"`
	ActivatedOn   *funding.Date                   `yaml:"activated_on"`
	TerminatedOn  *funding.Date                   `yaml:"terminated_on"`
	ClosedOn      *funding.Date                   `yaml:"closed_on"`
	ProlongedFrom *string                         `yaml:"prolonged_from"`
	// The weekly hours the contract holds of a certificate in hours.
	HoursBase  *int `yaml:"hours_base"`
	HoursExtra *int `yaml:"hours_extra"`
}

type invoiceWant struct {
	Provider string         `yaml:"provider,required"`
	Month    funding.Month  `yaml:"month,required"`
	Advance  *invoiceAmount `yaml:"advance"`
	Final    *invoiceAmount `yaml:"final"`
	Refund   *invoiceAmount `yaml:"refund"`
}

// invoiceAmount is an invoice's total, and its number of lines when the
// file asks: "808.78", or {amount: "1617.56", lines: 2}.
type invoiceAmount struct {
	Amount funding.Money `yaml:"amount,required"`
	Lines  *int          `yaml:"lines"`
}

func (a *invoiceAmount) decodeNode(d *decoder, n *yaml.Node, path string) error {
	if n.Kind == yaml.ScalarNode {
		return d.decode(n, reflect.ValueOf(&a.Amount).Elem(), path)
	}
	type plain invoiceAmount // without decodeNode
	return d.decode(n, reflect.ValueOf((*plain)(a)).Elem(), path)
}

func (a invoiceAmount) String() string {
	if a.Lines == nil {
		return a.Amount.String()
	}
	return fmt.Sprintf("%s in %d lines", a.Amount, *a.Lines)
}

type budgetWant struct {
	Municipality string         `yaml:"municipality"` // the region's first by default
	Period       span           `yaml:"period"`       // today's by default
	Used         *funding.Money `yaml:"used"`
	Limit        *funding.Money `yaml:"limit"`
}

type scoreWant struct {
	Results      *decimal.Decimal `yaml:"results"`
	Staff        *decimal.Decimal `yaml:"staff"`
	Means        *decimal.Decimal `yaml:"means"`
	Satisfaction *decimal.Decimal `yaml:"satisfaction"`
	Active       *int             `yaml:"active"`
	Closed       *int             `yaml:"closed"`
}

// expect checks everything an expectation wants, reporting each part that
// differs as a failure of its own.
func expect(r *runner, e *event, x *expectation) error {
	on := r.today()
	if x.Refusal != nil {
		r.checkRefusal(e, *x.Refusal)
	} else {
		r.unexpected()
	}
	for _, c := range x.Cabinet {
		var got cabinetWant
		if err := r.readCabinet(c, &got); err != nil {
			return err
		}
		r.compare(c.Line, fmt.Sprintf("cabinet of %s on %s", c.Name, on), c.Value, got)
	}
	for _, c := range x.Contract {
		k, err := r.contract(c.Name, c.Path)
		if err != nil {
			return err
		}
		r.compare(c.Line, fmt.Sprintf("contract %s on %s", c.Name, on), c.Value, r.contractGot(k, c.Value))
	}
	for i, w := range x.Invoices {
		path := fmt.Sprintf("%s[%d]", e.arg("invoices"), i)
		got, err := r.invoices(w, path)
		if err != nil {
			return err
		}
		r.compare(r.sc.lines[path], fmt.Sprintf("invoices of %s for %s on %s", w.Provider, w.Month, on), w, got)
	}
	for _, q := range x.Queue {
		c, err := r.certificate(q.Name, q.Path)
		if err != nil {
			return err
		}
		pos, err := r.svc.QueuePosition(r.ctx, enrollment.AsSystem("scenario"), c.ID)
		if err != nil {
			return err
		}
		if pos != q.Value {
			r.fail(Failure{Line: q.Line, What: fmt.Sprintf("queue place of %s on %s", q.Name, on),
				Diffs: []Diff{{Key: "position", Want: strconv.Itoa(q.Value), Got: strconv.Itoa(pos)}}})
		}
	}
	for i, w := range x.Budget {
		path := fmt.Sprintf("%s[%d]", e.arg("budget"), i)
		mun, period := r.municipalPeriod(w.Municipality, w.Period)
		used := funding.Zero
		got := budgetWant{Used: &used}
		b, err := r.svc.Budget(r.ctx, mun, period)
		switch {
		case errors.Is(err, enrollment.ErrNotFound):
		case err != nil:
			return err
		default:
			used = funding.Kopecks(b.Used)
			if b.Limit < enrollment.Unlimited {
				limit := funding.Kopecks(b.Limit)
				got.Limit = &limit
			}
		}
		r.compare(r.sc.lines[path], fmt.Sprintf("budget of %s for %s", mun, period), w, got)
	}
	for _, s := range x.Score {
		got, err := r.score(s.Name, s.Path)
		if err != nil {
			return err
		}
		r.compare(s.Line, fmt.Sprintf("score of %s on %s", s.Name, on), s.Value, got)
	}
	return nil
}

// checkRefusal checks the refusal of the event before the expectation.
func (r *runner) checkRefusal(e *event, code string) {
	line := r.sc.lines[e.arg("refusal")]
	got := "(none: it was not refused)"
	if rf := r.refused; rf != nil {
		got = rf.code
		if rf.code == code {
			r.refused = nil
			return
		}
		got += " (" + rf.detail + ")"
	}
	r.refused = nil
	r.fail(Failure{Line: line, What: "refusal of the event before", Diffs: []Diff{{Key: "refusal", Want: code, Got: got}}})
}

func (r *runner) readCabinet(c entry[cabinetWant], got *cabinetWant) error {
	cert, err := r.certificate(c.Name, c.Path)
	if err != nil {
		return err
	}
	by, err := r.callerAs(c.Value.By, enrollment.RoleSystem, subject{cert: &cert}, join(c.Path, "by"))
	if err != nil {
		return err
	}
	on := c.Value.PeriodOf
	if on.IsZero() {
		on = r.today()
	}
	cab, err := r.svc.CabinetOn(r.ctx, by, cert.ID, on)
	if err != nil {
		return err
	}
	status, kind, cat := string(cab.Certificate.Status), string(cab.Certificate.Kind), cab.Certificate.Category
	*got = cabinetWant{Status: &status, Kind: &kind, Category: &cat, ValidUntil: &cab.Certificate.ValidUntil,
		Position: &cab.Position, Notice: &cab.BudgetNotice, Registries: map[catalog.Registry]int{}}
	if m := cab.Money; m != nil {
		got.Nominal, got.Usable, got.Balance, got.Reserved = &m.Nominal, &m.Usable, &m.Balance, &m.Reserved
		got.Spent, got.Depleted, got.Expired = &m.Spent, &m.Depleted, &m.Expired
	}
	for _, u := range cab.Registries {
		got.Registries[u.Registry] = u.Used
	}
	if h := cab.Hours; h != nil {
		got.HoursBase, got.HoursExtra, got.HoursUsedBase, got.HoursUsedExtra = &h.Base, &h.Extra, &h.UsedBase, &h.UsedExtra
	}
	return nil
}

func (r *runner) contractGot(k enrollment.Contract, want contractWant) contractWant {
	p := k.Price
	status := string(k.Status)
	got := contractWant{
		Status: &status, Start: &k.Start, End: &k.End, Days: &p.Days, Months: &p.Months,
		All: &p.Total, Norm: &p.Normative, Cert: &p.Cert, CoPay: &p.CoPay, First: &p.First, Other: &p.Other,
		CertFirst: &p.CertFirst, CertOther: &p.CertOther, CoPayFirst: &p.CoPayFirst, CoPayOther: &p.CoPayOther,
		Schedule:  map[funding.Month]funding.Money{},
		HoursBase: &k.Hours.Base, HoursExtra: &k.Hours.Extra,
	}
	for m := range want.Schedule {
		got.Schedule[m] = p.MonthlyPayment(m)
	}
	for _, d := range []struct {
		got **funding.Date
		on  funding.Date
	}{
		{&got.OfferedOn, k.OfferedOn}, {&got.ActivatedOn, k.ActivatedOn}, {&got.TerminatedOn, k.TerminatedOn}, {&got.ClosedOn, k.ClosedOn},
	} {
		if !d.on.IsZero() {
			*d.got = &d.on
		}
	}
	if k.ProlongedFrom != uuid.Nil {
		name := r.names[k.ProlongedFrom]
		got.ProlongedFrom = &name
	}
	return got
}

func (r *runner) invoices(w invoiceWant, path string) (invoiceWant, error) {
	prov, ok := r.providers[w.Provider]
	if !ok {
		return w, r.sc.errorAt(join(path, "provider"), "names no provider of the catalog: %q", w.Provider)
	}
	inv, err := r.store.Invoices(r.ctx, prov.ID, w.Month)
	if err != nil {
		return w, err
	}
	got := invoiceWant{}
	for _, k := range []struct {
		kind enrollment.InvoiceKind
		want *invoiceAmount
		got  **invoiceAmount
	}{{enrollment.AdvanceInvoice, w.Advance, &got.Advance}, {enrollment.FinalInvoice, w.Final, &got.Final}, {enrollment.RefundInvoice, w.Refund, &got.Refund}} {
		sum := invoiceAmount{Amount: funding.Zero}
		lines := 0
		for _, i := range inv {
			if i.Kind == k.kind {
				sum.Amount = sum.Amount.Add(i.Amount)
				lines += i.Lines
			}
		}
		if k.want != nil && k.want.Lines != nil {
			sum.Lines = &lines
		}
		*k.got = &sum
	}
	return got, nil
}

// score is a program's score as the service reads it (closed contracts
// count double).
func (r *runner) score(program, key string) (scoreWant, error) {
	prog, ok := r.programs[program]
	if !ok {
		return scoreWant{}, r.sc.errorAt(key, "names no program of the catalog: %q", program)
	}
	s, err := r.svc.ProgramScore(r.ctx, prog.ID)
	if err != nil {
		return scoreWant{}, err
	}
	return scoreWant{Results: &s.Results, Staff: &s.Staff, Means: &s.Means, Satisfaction: &s.Satisfaction, Active: &s.Active, Closed: &s.Closed}, nil
}

// compare reports a failure at line when a value want gives differs from
// got's: the pointer fields want sets, and each key of its map fields.
func (r *runner) compare(line int, what string, want, got any) {
	var diffs []Diff
	wv, gv := reflect.ValueOf(want), reflect.ValueOf(got)
	for i := range wv.NumField() {
		name, _, _ := strings.Cut(wv.Type().Field(i).Tag.Get("yaml"), ",")
		w, g := wv.Field(i), gv.Field(i)
		switch w.Kind() {
		case reflect.Pointer:
			if w.IsNil() {
				continue
			}
			if ws, gs := show(w), show(g); ws != gs {
				diffs = append(diffs, Diff{Key: name, Want: ws, Got: gs})
			}
		case reflect.Map:
			keys := w.MapKeys()
			slices.SortFunc(keys, func(a, b reflect.Value) int { return strings.Compare(fmt.Sprint(a), fmt.Sprint(b)) })
			for _, k := range keys {
				gk := g.MapIndex(k)
				ws, gs := show(w.MapIndex(k)), "(none)"
				if gk.IsValid() {
					gs = show(gk)
				}
				if ws != gs {
					diffs = append(diffs, Diff{Key: fmt.Sprintf("%s.%v", name, k), Want: ws, Got: gs})
				}
			}
		}
	}
	if len(diffs) > 0 {
		r.fail(Failure{Line: line, What: what, Diffs: diffs})
	}
}

// show is how a value reads in a diff.
func show(v reflect.Value) string {
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return "(none)"
		}
		v = v.Elem()
	}
	return fmt.Sprint(v.Interface())
}
