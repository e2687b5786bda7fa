package scenario

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/edufund/edufund/catalog"
	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/funding"
)

// Opener opens a fresh, empty store for one scenario.
type Opener func(ctx context.Context) (enrollment.Store, error)

// Result is what running a scenario found.
type Result struct {
	Failures []Failure
	// Pending is a scenario marked pending that fails, as its mark says
	// it does: its failures are the rule the code does not follow yet.
	Pending bool
}

// Passed reports whether the scenario ran as its file says.
func (r Result) Passed() bool { return !r.Pending && len(r.Failures) == 0 }

// Failure is one thing that went otherwise than the file says: an
// expectation whose values differ (Diffs), or an event that failed.
type Failure struct {
	File  string
	Line  int
	What  string // "contract k1 on 2025-10-01", "submit on 2025-09-01"
	Diffs []Diff
	Err   error // an event that failed, or a refusal nobody expected
}

// Diff is one value an expectation wants and the one the services gave.
type Diff struct {
	Key       string
	Want, Got string
}

// String writes the failure as a diff under its file and line:
//
//	examples/scenarios/pricing.yaml:42: contract k1 on 2025-09-01 (- want, + got)
//	  - cert: 4021.98
//	  + cert: 4021.97
func (f Failure) String() string {
	var fe *Error
	if errors.As(f.Err, &fe) {
		return fe.Error() // the file is wrong, not the services
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s:%d: %s", f.File, f.Line, f.What)
	if f.Err != nil {
		fmt.Fprintf(&b, ": %v", f.Err)
	}
	if len(f.Diffs) > 0 {
		b.WriteString(" (- want, + got)")
		for _, d := range f.Diffs {
			fmt.Fprintf(&b, "\n  - %s: %s\n  + %s: %s", d.Key, d.Want, d.Key, d.Got)
		}
	}
	return b.String()
}

// Run runs the scenario on a store that open opens for it.
func (sc *Scenario) Run(ctx context.Context, open Opener) Result {
	var res Result
	st, err := open(ctx)
	if err != nil {
		res.Failures = append(res.Failures, Failure{File: sc.File, Line: 1, What: "open a store", Err: err})
		return res
	}
	if c, ok := st.(io.Closer); ok {
		defer c.Close()
	}
	r := newRunner(ctx, sc, st)
	r.run()
	if ch, ok := st.(interface{ CheckInvariants(context.Context) error }); ok {
		if err := ch.CheckInvariants(ctx); err != nil {
			r.fail(Failure{Line: 1, What: "the store's invariants after the scenario", Err: err})
		}
	}
	res.Failures = r.failures
	switch {
	case sc.Pending != "" && len(res.Failures) > 0:
		res.Pending = true
	case sc.Pending != "":
		res.Failures = []Failure{{File: sc.File, Line: sc.lines["pending"], What: "pending",
			Err: errors.New("the scenario passes now: remove its pending mark")}}
	}
	return res
}

// runner is one run of a scenario: the services on a store, a clock it
// moves to each event's date and time, and what the names of the file
// stand for.
type runner struct {
	ctx   context.Context
	sc    *Scenario
	store enrollment.Store
	svc   *enrollment.Service
	clock *funding.FixedClock

	people    map[string]*person
	providers map[string]catalog.Provider
	programs  map[string]catalog.Program
	groups    map[string]catalog.Group
	contracts map[string]uuid.UUID
	names     map[uuid.UUID]string // contract id → name
	keys      int

	// refused is the refusal of the last event, until an expectation
	// takes it.
	refused *refused
	// at is the event running, for errors.
	at       *event
	failures []Failure
}

// person is a person of the scenario and the certificates issued to them,
// the latest last.
type person struct {
	name   string
	holder certificate.Holder
	certs  []uuid.UUID
}

func newRunner(ctx context.Context, sc *Scenario, st enrollment.Store) *runner {
	r := &runner{
		ctx: ctx, sc: sc, store: st, clock: &funding.FixedClock{},
		people: map[string]*person{}, providers: map[string]catalog.Provider{}, programs: map[string]catalog.Program{},
		groups:    map[string]catalog.Group{},
		contracts: map[string]uuid.UUID{}, names: map[uuid.UUID]string{},
	}
	r.svc = enrollment.NewService(st, r.clock, sc.region.config)
	for _, p := range sc.people {
		r.people[p.Name] = &person{name: p.Name, holder: sc.region.person(p.Name, p.Value)}
	}
	return r
}

func (r *runner) fail(f Failure) {
	if f.File == "" {
		f.File = r.sc.File
	}
	r.failures = append(r.failures, f)
}

// run sets the scenario up at the first event's date and runs its events,
// stopping at the first event that fails otherwise than by a refusal.
func (r *runner) run() {
	if err := r.setUp(); err != nil {
		r.fail(Failure{Line: 1, What: "set up the categories and the catalog", Err: err})
		return
	}
	for i := range r.sc.events {
		e := &r.sc.events[i]
		r.at = e
		if e.kind != "expect" {
			r.unexpected()
		}
		if err := r.tick(e); err != nil {
			r.fail(Failure{Line: e.line, What: e.kind, Err: err})
			return
		}
		err := kinds[e.kind].run(r, e, e.args)
		if rf, ok := asRefusal(err); ok {
			r.refused = &refused{refusal: rf, event: e}
			continue
		}
		if err != nil {
			r.fail(Failure{Line: e.line, What: r.what(e), Err: err})
			return
		}
	}
	r.unexpected()
}

// unexpected reports the last event's refusal that no expectation took.
func (r *runner) unexpected() {
	if rf := r.refused; rf != nil {
		r.refused = nil
		r.fail(Failure{Line: rf.event.line, What: r.what(rf.event), Err: fmt.Errorf("refused: %s: %s (an expect with refusal: %s after it says that it should be)", rf.code, rf.detail, rf.code)})
	}
}

func (r *runner) what(e *event) string {
	return e.kind + " on " + r.today().String()
}

// tick moves the clock to the event's date and time. Events on the same
// date follow each other a second apart, so that their order is the order
// of their instants (a queue's, say).
func (r *runner) tick(e *event) error {
	loc := r.sc.region.config.Location
	if e.On.IsZero() && !e.At.set {
		r.clock.T = r.clock.T.Add(time.Second)
		return nil
	}
	on := e.On
	if on.IsZero() {
		on = r.today()
	}
	h, m := 9, 0
	if e.At.set {
		h, m = e.At.hour, e.At.minute
	}
	t := time.Date(on.Year(), on.Month(), on.Day(), h, m, 0, 0, loc)
	if !t.After(r.clock.T) {
		if t.Before(r.clock.T) && !r.clock.T.IsZero() {
			return r.sc.errorAt(join(e.path, "on"), "goes back in time to %s %02d:%02d: the events are in the order they happen", on, h, m)
		}
		t = r.clock.T.Add(time.Second)
	}
	r.clock.T = t
	return nil
}

// today is the region's date now.
func (r *runner) today() funding.Date { return r.svc.Today() }

// key is the running event's idempotency key: its own, or a new one.
func (r *runner) key() string {
	if r.at != nil && r.at.Key != "" {
		return r.at.Key
	}
	r.keys++
	return fmt.Sprintf("scenario-%d", r.keys)
}

// setUp saves the categories and the catalog through the services, at the
// first event's date.
func (r *runner) setUp() error {
	if len(r.sc.events) == 0 || r.sc.events[0].On.IsZero() {
		return r.sc.errorAt("events[0].on", "is required: the first event says on which date the scenario starts")
	}
	if err := r.tick(&r.sc.events[0]); err != nil {
		return err
	}
	r.clock.T = r.clock.T.Add(-time.Second) // the first event runs at its own time
	for _, c := range r.sc.categories {
		if err := r.saveCategory(c); err != nil {
			return err
		}
	}
	for _, p := range r.sc.catalog {
		if err := r.saveProvider(p); err != nil {
			return err
		}
	}
	return nil
}

func (r *runner) saveCategory(c categorySpec) error {
	_, err := r.svc.SaveCategory(r.ctx, r.key(), certificate.Category{Code: c.Code, Nominal: c.Nominal, MaxCount: c.MaxCount, MaxSum: c.MaxSum, HoursBase: c.HoursBase, HoursExtra: c.HoursExtra}, enrollment.AsRegional("scenario"))
	return err
}

func (r *runner) saveProvider(p entry[providerSpec]) error {
	spec := p.Value
	mun := r.sc.region.municipalities[0]
	prov := catalog.Provider{Name: cmp.Or(spec.Name, p.Name), INN: cmp.Or(spec.INN, "7707083893"), Municipality: cmp.Or(spec.Municipality, mun), EnrolmentLimit: spec.EnrolmentLimit}
	for _, a := range spec.Agreements {
		prov.Agreements = append(prov.Agreements, catalog.Agreement{Municipality: cmp.Or(a.Municipality, prov.Municipality), Period: funding.Period(a.Period)})
	}
	prov, err := r.svc.SaveProvider(r.ctx, r.key(), prov, enrollment.AsRegional("scenario"))
	if err != nil {
		return r.sc.errorAt(p.Path, "%v", err)
	}
	r.providers[p.Name] = prov
	for _, pe := range spec.Programs {
		if err := r.saveProgram(prov, pe); err != nil {
			return err
		}
	}
	return nil
}

func (r *runner) saveProgram(prov catalog.Provider, pe entry[programSpec]) error {
	spec := pe.Value
	prog := catalog.Program{
		ProviderID: prov.ID, Name: cmp.Or(spec.Name, pe.Name), Scheme: certificate.Scheme(cmp.Or(spec.Scheme, string(certificate.Supplementary))),
		Direction: catalog.Direction(spec.Direction), Registry: catalog.Registry(spec.Registry), MinAge: spec.MinAge, MaxAge: spec.MaxAge,
		Municipality: cmp.Or(spec.Municipality, prov.Municipality), EnrolmentLimit: spec.EnrolmentLimit,
		CompetencyArea: spec.CompetencyArea, AcademicHours: spec.AcademicHours, EnrolmentOpen: true,
	}
	if prog.Scheme == certificate.Supplementary {
		prog.Direction = catalog.Direction(cmp.Or(spec.Direction, string(catalog.TechnicalRobotics)))
		prog.Registry = catalog.Registry(cmp.Or(spec.Registry, string(catalog.Certified)))
		if prog.MaxAge == 0 {
			prog.MaxAge = catalog.MaxChildAge
		}
		prog.Certified = prog.Registry == catalog.Certified
	}
	if spec.Certified != nil {
		prog.Certified = *spec.Certified
	}
	if spec.EnrolmentOpen != nil {
		prog.EnrolmentOpen = *spec.EnrolmentOpen
	}
	prog, err := r.svc.SaveProgram(r.ctx, r.key(), prog, enrollment.AsRegional("scenario"))
	if err != nil {
		return r.sc.errorAt(pe.Path, "%v", err)
	}
	r.programs[pe.Name] = prog
	for _, me := range spec.Modules {
		m := me.Value
		mod, err := r.svc.SaveModule(r.ctx, r.key(), catalog.Module{
			ProgramID: prog.ID, Name: cmp.Or(m.Name, me.Name), Price: m.Price, NormativePrice: m.NormativePrice,
			Hours: cmp.Or(m.Hours, 72), MinChildren: m.MinChildren, MaxChildren: m.MaxChildren, WeeklyHours: m.WeeklyHours,
		}, enrollment.AsRegional("scenario"))
		if err != nil {
			return r.sc.errorAt(me.Path, "%v", err)
		}
		for _, ge := range m.Groups {
			g := ge.Value
			grp, err := r.svc.SaveGroup(r.ctx, r.key(), catalog.Group{
				ModuleID: mod.ID, Name: cmp.Or(g.Name, ge.Name), Start: g.Start, End: g.End, Capacity: g.Capacity, Schedule: g.Schedule,
			}, enrollment.AsRegional("scenario"))
			if err != nil {
				return r.sc.errorAt(ge.Path, "%v", err)
			}
			r.groups[ge.Name] = grp
		}
	}
	return nil
}

// refusal is a rule saying no: its stable code and why.
type refusal struct {
	code, detail string
}

// refused is an event's refusal.
type refused struct {
	refusal
	event *event
}

// asRefusal tells a refusal by a rule (or of input a rule finds wrong)
// from a failure: a *funding.RuleError gives its code, an ineligible
// applicant the codes of the rules failed, a forbidden status move
// forbidden_transition, invalid input "invalid".
func asRefusal(err error) (refusal, bool) {
	if err == nil {
		return refusal{}, false
	}
	var re *funding.RuleError
	var ie *enrollment.IneligibleError
	switch {
	case errors.As(err, &ie):
		codes := make([]string, len(ie.Reasons))
		for i, reason := range ie.Reasons {
			codes[i] = reason.Rule
		}
		return refusal{strings.Join(codes, ", "), err.Error()}, true
	case errors.As(err, &re):
		return refusal{re.Code, err.Error()}, true
	case errors.Is(err, enrollment.ErrForbiddenTransition), errors.Is(err, certificate.ErrForbiddenTransition):
		return refusal{enrollment.CodeForbiddenTransition, err.Error()}, true
	case errors.Is(err, funding.ErrInvalid):
		return refusal{"invalid", err.Error()}, true
	}
	return refusal{}, false
}
