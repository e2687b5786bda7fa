package importer

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/edufund/edufund/catalog"
	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/funding"
)

// Options tune an import.
type Options struct {
	// By is who imports: the regional operator or the system. Every write
	// is the service's with this caller, recorded as its actor.
	By enrollment.Caller
	// CheckOnly checks every row and counts what would change, writing
	// nothing.
	CheckOnly bool
	// PageSize is how many certificates are written in one transaction
	// (ImportCertificates), and how many rows go between two progress
	// reports; 500 when 0. Every other row is written in a transaction of
	// its own, through the service's method for it.
	PageSize int
	// Progress, if set, is told of each page checked and written.
	Progress func(Progress)
}

// Progress is where an import is: Stage "check" or "write", the section,
// and how many of its rows are done.
type Progress struct {
	Stage       string
	Section     string
	Done, Total int
}

// Counts are a section's rows by what the import does with them.
type Counts struct {
	Created, Updated, Unchanged int
}

// SectionResult is a section's counts.
type SectionResult struct {
	Section string
	Counts
}

// Result is what an import did, or, with CheckOnly, would do.
type Result struct {
	Sections []SectionResult // in the order written; agreements count with their providers
	// Written is the number of rows written (0 with CheckOnly).
	Written   int
	CheckOnly bool
}

// Changed is the number of rows created or updated.
func (r Result) Changed() int {
	n := 0
	for _, s := range r.Sections {
		n += s.Created + s.Updated
	}
	return n
}

// Import checks every row of src and, when none is bad, writes those
// that change something through svc (see the package's doc). A bad row
// gives a *Report and nothing is written; a row the service refuses while
// writing (someone changed the region meanwhile) an *ApplyError.
func Import(ctx context.Context, svc *enrollment.Service, src *Source, opt Options) (Result, error) {
	if err := opt.By.Validate(); err != nil {
		return Result{}, err
	}
	if opt.By.Role != enrollment.RoleRegional && opt.By.Role != enrollment.RoleSystem {
		return Result{}, fmt.Errorf("%w: a region is imported by the regional operator or the system, not %s", enrollment.ErrForbidden, opt.By.Role)
	}
	if opt.PageSize <= 0 {
		opt.PageSize = 500
	}
	p := &plan{svc: svc, opt: opt, src: src, errs: slices.Clone(src.bad)}
	if err := p.build(ctx); err != nil {
		return Result{}, err
	}
	if len(p.errs) > 0 {
		return Result{}, p.report()
	}
	res := Result{CheckOnly: opt.CheckOnly}
	for _, sec := range SectionNames {
		if sec == Agreements {
			continue
		}
		var c Counts
		for _, o := range p.ops[sec] {
			switch o.change {
			case created:
				c.Created++
			case updated:
				c.Updated++
			default:
				c.Unchanged++
			}
		}
		res.Sections = append(res.Sections, SectionResult{Section: sec, Counts: c})
	}
	if opt.CheckOnly {
		return res, nil
	}
	for _, sec := range SectionNames {
		ops := p.ops[sec]
		todo := 0
		for _, o := range ops {
			if o.change != unchanged {
				todo++
			}
		}
		if todo == 0 {
			continue
		}
		// A page of certificates is one transaction (ImportCertificates);
		// every other row is one of its own.
		size := 1
		if sec == Certificates {
			size = opt.PageSize
		}
		done := 0
		var page []op
		flush := func() error {
			if len(page) == 0 {
				return nil
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			failed, err := writePage(ctx, svc, page)
			if err != nil {
				o := page[failed]
				if re, ok := rowError(o.loc, o.section, o.field, err); ok {
					return &ApplyError{Row: re, Written: res.Written, Err: err}
				}
				return fmt.Errorf("%s: writing %s after %d rows were written (import again to write the rest): %w", o.loc, o.section, res.Written, err)
			}
			res.Written += len(page)
			before := done
			done += len(page)
			page = page[:0]
			if done/opt.PageSize > before/opt.PageSize || done == todo {
				p.progress("write", sec, done, todo)
			}
			return nil
		}
		for _, o := range ops {
			if o.change == unchanged {
				continue
			}
			if page = append(page, o); len(page) >= size {
				if err := flush(); err != nil {
					return res, err
				}
			}
		}
		if err := flush(); err != nil {
			return res, err
		}
	}
	return res, nil
}

// writePage writes a page of ops: certificates together, in one
// transaction; any other op alone. On an error it returns the index of
// the op at fault.
func writePage(ctx context.Context, svc *enrollment.Service, page []op) (int, error) {
	if page[0].cert == nil {
		return 0, page[0].write(ctx, svc, page[0].key)
	}
	rs := make([]enrollment.ExistingCertificate, len(page))
	h := sha256.New()
	for i, o := range page {
		rs[i] = *o.cert
		h.Write([]byte(o.key))
	}
	_, err := svc.ImportCertificates(ctx, "import:certificates:page:"+hex.EncodeToString(h.Sum(nil))[:40], rs)
	var pe *enrollment.ImportPageError
	if errors.As(err, &pe) {
		return pe.Index, pe.Err
	}
	return 0, err
}

type change int

const (
	unchanged change = iota
	created
	updated
)

// An op is one row's write: what it changes, and the service call that
// writes it with an idempotency key.
type op struct {
	section string
	loc     Loc
	field   string // the column a refusal without a field is about
	change  change
	key     string
	write   func(ctx context.Context, svc *enrollment.Service, key string) error
	// cert is a certificate's row instead of write: certificates are
	// written a page at a time (writePage).
	cert *enrollment.ExistingCertificate
}

// plan is an import being checked: the rows' errors, and the writes.
type plan struct {
	svc  *enrollment.Service
	opt  Options
	src  *Source
	errs []RowError
	ops  map[string][]op
	cfg  enrollment.Config

	// What the file brings, by key, for the references between rows.
	categories map[string]certificate.Category
	providers  map[uuid.UUID]*providerRow
	programs   map[uuid.UUID]catalog.Program
	modules    map[uuid.UUID]catalog.Module
	// What the store holds, read as the rows need it.
	storedCategories map[string]certificate.Category
	pages            map[uuid.UUID]*enrollment.ProgramPage // by program id; nil: none
	storedModules    map[uuid.UUID]catalog.Module
	storedGroups     map[uuid.UUID]enrollment.GroupPage
}

type providerRow struct {
	loc        Loc
	fields     map[string]string
	p          catalog.Provider
	agreements []Record // the agreements rows naming it, in file order
	bad        bool
}

func (p *plan) progress(stage, section string, done, total int) {
	if p.opt.Progress != nil {
		p.opt.Progress(Progress{Stage: stage, Section: section, Done: done, Total: total})
	}
}

// add records a row's write; bad rows have none.
func (p *plan) add(o op) { p.ops[o.section] = append(p.ops[o.section], o) }

// fail records what the service refused of a row, or returns an error
// that is not the row's (the import stops on it).
func (p *plan) fail(loc Loc, section, field string, err error) error {
	re, ok := rowError(loc, section, field, err)
	if !ok {
		return fmt.Errorf("%s: checking %s: %w", loc, section, err)
	}
	p.errs = append(p.errs, re)
	return nil
}

func (p *plan) report() *Report {
	order := map[string]int{}
	for i, s := range SectionNames {
		order[s] = i
	}
	errs := slices.Clone(p.errs)
	slices.SortStableFunc(errs, func(a, b RowError) int {
		return cmp.Or(cmp.Compare(order[a.Section], order[b.Section]), cmp.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line))
	})
	return &Report{Errors: errs}
}

// rowKey is the idempotency key of a row's write: its section, its cells
// and what the store held of it when the import read it, so that the same
// row written over a change made since is a new request, and a row
// written already is its first request again.
func rowKey(section string, fields map[string]string, extra ...any) string {
	h := sha256.New()
	h.Write([]byte(section))
	for _, k := range slices.Sorted(maps.Keys(fields)) {
		fmt.Fprintf(h, "\x00%s=%s", k, fields[k])
	}
	for _, e := range extra {
		b, _ := json.Marshal(e)
		h.Write([]byte{0})
		h.Write(b)
	}
	return "import:" + section + ":" + hex.EncodeToString(h.Sum(nil))[:40]
}

// dup reports a key seen on an earlier row of the section.
func dup[K comparable](seen map[K]Loc, k K, c *cells, field string) bool {
	if at, ok := seen[k]; ok {
		c.bad(field, "repeats the row of "+at.String(), fmt.Sprint(k))
		return true
	}
	seen[k] = c.rec.Loc
	return false
}

// build checks every section in the order they are written, and plans
// the writes of the rows that change something.
func (p *plan) build(ctx context.Context) error {
	p.ops = map[string][]op{}
	p.cfg = p.svc.Config()
	p.categories, p.providers = map[string]certificate.Category{}, map[uuid.UUID]*providerRow{}
	p.programs, p.modules = map[uuid.UUID]catalog.Program{}, map[uuid.UUID]catalog.Module{}
	p.pages, p.storedModules, p.storedGroups = map[uuid.UUID]*enrollment.ProgramPage{}, map[uuid.UUID]catalog.Module{}, map[uuid.UUID]enrollment.GroupPage{}
	for _, step := range []struct {
		section string
		check   func(ctx context.Context) error
	}{
		{Categories, p.checkCategories}, {Providers, p.checkProviders}, {Programs, p.checkPrograms},
		{Modules, p.checkModules}, {Groups, p.checkGroups}, {Budgets, p.checkBudgets},
		{DirectionLimits, p.checkDirectionLimits}, {Certificates, p.checkCertificates}, {Guardians, p.checkGuardians},
	} {
		if err := step.check(ctx); err != nil {
			return err
		}
		if n := len(p.src.Records(step.section)); n > 0 {
			p.progress("check", step.section, n, n)
		}
	}
	return nil
}

// same compares a row with what the store holds, an empty slice equal to
// none.
func same(a, b any) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb)
}

// ---- categories ----

func (p *plan) checkCategories(ctx context.Context) error {
	stored, err := p.svc.Categories(ctx, p.opt.By)
	if err != nil {
		return fmt.Errorf("reading the categories: %w", err)
	}
	p.storedCategories = map[string]certificate.Category{}
	for _, u := range stored {
		p.storedCategories[u.Category.Code] = u.Category
	}
	seen := map[string]Loc{}
	for _, rec := range p.src.Records(Categories) {
		c := &cells{rec: rec, section: Categories}
		code, err := funding.Text("code", c.str("code"), funding.MaxCodeLen)
		c.domain(err)
		cat := certificate.Category{Code: code, Nominal: c.money("nominal"), MaxCount: c.int("max_count", 0, 100_000_000),
			MaxSum: c.money("max_sum"), HoursBase: c.int("hours_base", 0, certificate.MaxWeeklyHours),
			HoursExtra: c.int("hours_extra", 0, certificate.MaxWeeklyHours)}
		if len(c.errs) == 0 && c.domain(cat.Validate()) && !dup(seen, code, c, "code") {
			p.categories[code] = cat
		}
		if len(c.errs) > 0 {
			p.errs = append(p.errs, c.errs...)
			continue
		}
		old, ok := p.storedCategories[code]
		o := op{section: Categories, loc: rec.Loc, field: "code", change: created, key: rowKey(Categories, rec.Fields, old),
			write: func(ctx context.Context, svc *enrollment.Service, key string) error {
				_, err := svc.SaveCategory(ctx, key, cat, p.opt.By)
				return err
			}}
		switch {
		case ok && reflect.DeepEqual(old, cat):
			o.change = unchanged
		case ok:
			o.change = updated
			// A changed nominal or cap runs against the category's
			// certificates: the dry run tells whether the service allows it.
			if err := o.write(ctx, p.svc.DryRun(), o.key); err != nil {
				if err := p.fail(rec.Loc, Categories, "nominal", err); err != nil {
					return err
				}
				continue
			}
		}
		p.add(o)
	}
	return nil
}

// ---- providers and their agreements ----

func (p *plan) checkProviders(ctx context.Context) error {
	seen := map[uuid.UUID]Loc{}
	var order []*providerRow
	for _, rec := range p.src.Records(Providers) {
		c := &cells{rec: rec, section: Providers}
		prov := catalog.Provider{
			ID: c.id("id"), Name: c.str("name"), INN: c.str("inn"), Municipality: c.str("municipality"),
			EnrolmentLimit: c.int("enrolment_limit", 0, 10_000_000),
			Address:        c.str("address"), Phone: c.str("phone"), Email: c.str("email"), Site: c.str("site"),
			KPP: c.str("kpp"), Bank: catalog.BankDetails{Name: c.str("bank_name"), BIC: c.str("bic"), Account: c.str("account"),
				CorrespondentAccount: c.str("correspondent_account")},
		}
		row := &providerRow{loc: rec.Loc, fields: rec.Fields, p: prov}
		if prov.ID != uuid.Nil && !dup(seen, prov.ID, c, "id") {
			p.providers[prov.ID] = row
			order = append(order, row)
		}
		row.bad = len(c.errs) > 0
		p.errs = append(p.errs, c.errs...)
	}
	// The agreements rows, each attached to its provider.
	seenA := map[string]Loc{}
	for _, rec := range p.src.Records(Agreements) {
		c := &cells{rec: rec, section: Agreements}
		id := c.id("provider_id")
		mun, err := funding.Text("municipality", c.str("municipality"), funding.MaxCodeLen)
		c.domain(err)
		start, end := c.date("period_start"), c.date("period_end")
		if !start.IsZero() {
			if per := p.cfg.PeriodOf(start); per.Start != start {
				c.bad("period_start", "must be the first day of one of the region's funding periods, such as "+per.Start.String(), start.String())
			} else if !end.IsZero() && end != per.End {
				c.bad("period_end", "must be the last day of the period starting on "+start.String()+": "+per.End.String(), end.String())
			}
		}
		row := p.providers[id]
		if id != uuid.Nil && row == nil {
			c.bad("provider_id", "must name a provider of the providers rows: a provider is saved with all its agreements", id.String())
		}
		if len(c.errs) == 0 && !dup(seenA, id.String()+"\x00"+mun+"\x00"+start.String(), c, "municipality") {
			row.agreements = append(row.agreements, rec)
			row.p.Agreements = append(row.p.Agreements, catalog.Agreement{Municipality: mun, Period: p.cfg.PeriodOf(start)})
		}
		if len(c.errs) > 0 && row != nil {
			row.bad = true
		}
		p.errs = append(p.errs, c.errs...)
	}
	for _, row := range order {
		if row.bad {
			continue
		}
		prov, err := catalog.NewProvider(row.p)
		if err != nil {
			p.providerError(row, err)
			continue
		}
		sortAgreements(prov.Agreements)
		row.p = prov
		card, err := p.svc.Provider(ctx, p.opt.By, prov.ID)
		var o op
		switch {
		case errors.Is(err, enrollment.ErrNotFound):
			o.change = created
		case err != nil:
			return fmt.Errorf("%s: reading provider %s: %w", row.loc, prov.ID, err)
		default:
			old := card.Provider
			sortAgreements(old.Agreements)
			if same(old, prov) {
				o.change = unchanged
			} else {
				o.change = updated
			}
			o.key = rowKey(Providers, row.fields, agreementFields(row), old)
		}
		if o.key == "" {
			o.key = rowKey(Providers, row.fields, agreementFields(row))
		}
		o.section, o.loc, o.field = Providers, row.loc, "id"
		o.write = func(ctx context.Context, svc *enrollment.Service, key string) error {
			_, err := svc.SaveProvider(ctx, key, prov, p.opt.By)
			return err
		}
		p.add(o)
	}
	return nil
}

// providerError reports what NewProvider refused: an agreement's fault at
// its own row, the rest at the provider's.
func (p *plan) providerError(row *providerRow, err error) {
	var ve *funding.ValidationError
	if errors.As(err, &ve) && strings.HasPrefix(ve.Field, "agreements[") {
		var i int
		var rest string
		if _, serr := fmt.Sscanf(ve.Field, "agreements[%d]%s", &i, &rest); serr == nil && i < len(row.agreements) {
			p.errs = append(p.errs, RowError{Loc: row.agreements[i].Loc, Section: Agreements,
				Field: strings.TrimPrefix(rest, "."), Rule: ve.Rule, Value: ve.Value})
			return
		}
	}
	if re, ok := rowError(row.loc, Providers, "", err); ok {
		p.errs = append(p.errs, re)
	} else {
		p.errs = append(p.errs, RowError{Loc: row.loc, Section: Providers, Rule: err.Error()})
	}
}

func sortAgreements(as []catalog.Agreement) {
	slices.SortFunc(as, func(a, b catalog.Agreement) int {
		return cmp.Or(a.Period.Start.Compare(b.Period.Start), strings.Compare(a.Municipality, b.Municipality))
	})
}

func agreementFields(row *providerRow) []map[string]string {
	out := make([]map[string]string, len(row.agreements))
	for i, a := range row.agreements {
		out[i] = a.Fields
	}
	return out
}

// ---- the catalogue ----

// page reads a program's page once: the program, its modules and its
// groups with their seats; nil when there is no such program.
func (p *plan) page(ctx context.Context, id uuid.UUID) (*enrollment.ProgramPage, error) {
	if pg, ok := p.pages[id]; ok {
		return pg, nil
	}
	pg, err := p.svc.ProgramPage(ctx, id)
	if errors.Is(err, enrollment.ErrNotFound) {
		p.pages[id] = nil
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading program %s: %w", id, err)
	}
	p.pages[id] = &pg
	for _, m := range pg.Modules {
		p.storedModules[m.Module.ID] = m.Module
		for _, g := range m.Groups {
			p.storedGroups[g.Group.ID] = g
		}
	}
	return &pg, nil
}

// providerKnown reports whether a provider is in the file or the store.
func (p *plan) providerKnown(ctx context.Context, id uuid.UUID) (bool, error) {
	if _, ok := p.providers[id]; ok {
		return true, nil
	}
	_, err := p.svc.Provider(ctx, p.opt.By, id)
	if errors.Is(err, enrollment.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

func (p *plan) checkPrograms(ctx context.Context) error {
	seen := map[uuid.UUID]Loc{}
	known := map[uuid.UUID]bool{}
	for _, rec := range p.src.Records(Programs) {
		c := &cells{rec: rec, section: Programs}
		prog := catalog.Program{
			ID: c.id("id"), ProviderID: c.id("provider_id"), Name: c.str("name"), Scheme: certificate.Scheme(c.str("scheme")),
			Direction: catalog.Direction(c.str("direction")), Registry: catalog.Registry(c.str("registry")),
			MinAge: c.int("min_age", 0, 150), MaxAge: c.int("max_age", 0, 150), EnrolmentOpen: c.boolean("enrolment_open"),
			Municipality: c.str("municipality"), EnrolmentLimit: c.int("enrolment_limit", 0, 10_000_000),
			CompetencyArea: c.str("competency_area"), AcademicHours: c.int("academic_hours", 0, 10_000),
			Annotation: c.str("annotation"), Description: c.str("description"), Goals: c.str("goals"), Tags: c.tags("tags"),
		}
		prog.Certified = prog.Registry == catalog.Certified
		if len(c.errs) == 0 {
			var err error
			if prog, err = catalog.NewProgram(prog); c.domain(err) {
				dup(seen, prog.ID, c, "id")
			}
		}
		if len(c.errs) == 0 {
			ok, found := known[prog.ProviderID]
			if !found {
				var err error
				if ok, err = p.providerKnown(ctx, prog.ProviderID); err != nil {
					return err
				}
				known[prog.ProviderID] = ok
			}
			if !ok {
				c.bad("provider_id", "names no provider of the file or the region", prog.ProviderID.String())
			}
		}
		if len(c.errs) > 0 {
			p.errs = append(p.errs, c.errs...)
			continue
		}
		p.programs[prog.ID] = prog
		pg, err := p.page(ctx, prog.ID)
		if err != nil {
			return err
		}
		o := op{section: Programs, loc: rec.Loc, field: "id", change: created, key: rowKey(Programs, rec.Fields),
			write: func(ctx context.Context, svc *enrollment.Service, key string) error {
				_, err := svc.SaveProgram(ctx, key, prog, p.opt.By)
				return err
			}}
		if pg != nil {
			o.change, o.key = changeOf(same(pg.Program, prog)), rowKey(Programs, rec.Fields, pg.Program)
		}
		p.add(o)
	}
	return nil
}

func changeOf(same bool) change {
	if same {
		return unchanged
	}
	return updated
}

func (p *plan) checkModules(ctx context.Context) error {
	seen := map[uuid.UUID]Loc{}
	for _, rec := range p.src.Records(Modules) {
		c := &cells{rec: rec, section: Modules}
		mod := catalog.Module{
			ID: c.id("id"), ProgramID: c.id("program_id"), Name: c.str("name"), Price: c.money("price"),
			NormativePrice: c.money("normative_price"), Hours: c.int("hours", 0, 100_000),
			MinChildren: c.int("min_children", 0, 10_000), MaxChildren: c.int("max_children", 0, 10_000),
			WeeklyHours: c.int("weekly_hours", 0, certificate.MaxWeeklyHours),
		}
		if len(c.errs) == 0 {
			var err error
			if mod, err = catalog.NewModule(mod); c.domain(err) {
				dup(seen, mod.ID, c, "id")
			}
		}
		if len(c.errs) == 0 {
			if _, ok := p.programs[mod.ProgramID]; !ok {
				pg, err := p.page(ctx, mod.ProgramID)
				if err != nil {
					return err
				}
				if pg == nil {
					c.bad("program_id", "names no program of the file or the region", mod.ProgramID.String())
				}
			}
		}
		if len(c.errs) > 0 {
			p.errs = append(p.errs, c.errs...)
			continue
		}
		p.modules[mod.ID] = mod
		o := op{section: Modules, loc: rec.Loc, field: "id", change: created, key: rowKey(Modules, rec.Fields),
			write: func(ctx context.Context, svc *enrollment.Service, key string) error {
				_, err := svc.SaveModule(ctx, key, mod, p.opt.By)
				return err
			}}
		if old, ok := p.storedModules[mod.ID]; ok {
			o.change, o.key = changeOf(same(old, mod)), rowKey(Modules, rec.Fields, old)
		}
		p.add(o)
	}
	return nil
}

func (p *plan) checkGroups(ctx context.Context) error {
	seen := map[uuid.UUID]Loc{}
	for _, rec := range p.src.Records(Groups) {
		c := &cells{rec: rec, section: Groups}
		g := catalog.Group{
			ID: c.id("id"), ModuleID: c.id("module_id"), Name: c.str("name"), Start: c.date("start"), End: c.date("end"),
			Capacity: c.int("capacity", 0, 100_000), Schedule: c.str("schedule"), Address: c.str("address"),
		}
		if len(c.errs) == 0 {
			var mod *catalog.Module
			if m, ok := p.modules[g.ModuleID]; ok {
				mod = &m
			} else if m, ok := p.storedModules[g.ModuleID]; ok {
				mod = &m
			}
			var err error
			if g, err = catalog.NewGroup(g, mod); c.domain(err) {
				dup(seen, g.ID, c, "id")
			}
		}
		if len(c.errs) > 0 {
			p.errs = append(p.errs, c.errs...)
			continue
		}
		old, ok := p.storedGroups[g.ID]
		if !ok {
			// A group moved from a module the file does not name: its
			// program's page has its seats.
			if o, err := p.svc.Offer(ctx, g.ID); err == nil {
				if _, err := p.page(ctx, o.Program.ID); err != nil {
					return err
				}
				old, ok = p.storedGroups[g.ID]
			} else if !errors.Is(err, enrollment.ErrNotFound) {
				return fmt.Errorf("%s: reading group %s: %w", rec.Loc, g.ID, err)
			}
		}
		o := op{section: Groups, loc: rec.Loc, field: "id", change: created, key: rowKey(Groups, rec.Fields),
			write: func(ctx context.Context, svc *enrollment.Service, key string) error {
				_, err := svc.SaveGroup(ctx, key, g, p.opt.By)
				return err
			}}
		if ok {
			o.change, o.key = changeOf(same(old.Group, g)), rowKey(Groups, rec.Fields, old.Group)
			if g.Capacity < old.Taken {
				c.bad("capacity", fmt.Sprintf("must not be below the %d seats its applications and contracts take", old.Taken), fmt.Sprint(g.Capacity))
				p.errs = append(p.errs, c.errs...)
				continue
			}
		}
		_, inFile := p.modules[g.ModuleID]
		if _, stored := p.storedModules[g.ModuleID]; !inFile && !stored {
			// A module of a program the file does not name: the service
			// finds it, or refuses the group, without writing.
			if err := o.write(ctx, p.svc.DryRun(), o.key); err != nil {
				if err := p.fail(rec.Loc, Groups, "module_id", err); err != nil {
					return err
				}
				continue
			}
		}
		p.add(o)
	}
	return nil
}

// ---- limits ----

// period reads a period_start column: the first day of one of the
// region's funding periods.
func (p *plan) period(c *cells) funding.Period {
	start := c.date("period_start")
	if start.IsZero() {
		return funding.Period{}
	}
	per := p.cfg.PeriodOf(start)
	if per.Start != start {
		c.bad("period_start", "must be the first day of one of the region's funding periods, such as "+per.Start.String(), start.String())
	}
	return per
}

func (p *plan) municipality(c *cells) string {
	mun, err := funding.Text("municipality", c.str("municipality"), funding.MaxCodeLen)
	c.domain(err)
	if ms := p.cfg.Children.Municipalities; mun != "" && len(ms) > 0 && !ms[mun] {
		c.bad("municipality", "does not take part in the children's scheme", mun)
	}
	return mun
}

// stored reads the counters of a class for the municipalities the rows
// name, each once.
func (p *plan) storedBudgets(ctx context.Context, mun string, cache map[string]map[string]enrollment.BudgetUse) (map[string]enrollment.BudgetUse, error) {
	if m, ok := cache[mun]; ok {
		return m, nil
	}
	m := map[string]enrollment.BudgetUse{}
	for after := ""; ; {
		page, err := p.svc.Budgets(ctx, p.opt.By, enrollment.BudgetFilter{Municipality: mun, After: after, Limit: enrollment.MaxListLimit})
		if err != nil {
			return nil, fmt.Errorf("reading the budgets of %s: %w", mun, err)
		}
		for _, b := range page.Budgets {
			m[b.Period.Start.String()] = b
		}
		if after = page.Next; after == "" {
			break
		}
	}
	cache[mun] = m
	return m, nil
}

func (p *plan) checkBudgets(ctx context.Context) error {
	seen := map[string]Loc{}
	cache := map[string]map[string]enrollment.BudgetUse{}
	for _, rec := range p.src.Records(Budgets) {
		c := &cells{rec: rec, section: Budgets}
		req := enrollment.BudgetRequest{Municipality: p.municipality(c), Period: p.period(c), Limit: c.money("limit"), By: p.opt.By}
		if len(c.errs) == 0 {
			dup(seen, req.Municipality+"\x00"+req.Period.Start.String(), c, "period_start")
		}
		if len(c.errs) > 0 {
			p.errs = append(p.errs, c.errs...)
			continue
		}
		stored, err := p.storedBudgets(ctx, req.Municipality, cache)
		if err != nil {
			return err
		}
		old, ok := stored[req.Period.Start.String()]
		o := op{section: Budgets, loc: rec.Loc, field: "limit", change: created, key: rowKey(Budgets, rec.Fields),
			write: func(ctx context.Context, svc *enrollment.Service, key string) error {
				_, err := svc.SetBudget(ctx, key, req)
				return err
			}}
		if ok {
			o.change, o.key = changeOf(!old.Unlimited && old.Limit.Equal(req.Limit)), rowKey(Budgets, rec.Fields, old.Limit, old.Unlimited)
		}
		if o.change != unchanged {
			if err := o.write(ctx, p.svc.DryRun(), o.key); err != nil {
				if err := p.fail(rec.Loc, Budgets, "limit", err); err != nil {
					return err
				}
				continue
			}
		}
		p.add(o)
	}
	return nil
}

func (p *plan) checkDirectionLimits(ctx context.Context) error {
	seen := map[string]Loc{}
	cache := map[string]map[string]enrollment.DirectionLimitUse{}
	for _, rec := range p.src.Records(DirectionLimits) {
		c := &cells{rec: rec, section: DirectionLimits}
		req := enrollment.DirectionLimitRequest{Municipality: p.municipality(c), Direction: catalog.Direction(c.str("direction")),
			Period: p.period(c), Limit: c.int("limit", 0, 10_000_000), By: p.opt.By}
		if req.Direction != "" && !req.Direction.Known() {
			c.bad("direction", "must be one of the seven directions", string(req.Direction))
		}
		id := req.Municipality + "\x00" + string(req.Direction) + "\x00" + req.Period.Start.String()
		if len(c.errs) == 0 {
			dup(seen, id, c, "direction")
		}
		if len(c.errs) > 0 {
			p.errs = append(p.errs, c.errs...)
			continue
		}
		stored, ok := cache[req.Municipality]
		if !ok {
			stored = map[string]enrollment.DirectionLimitUse{}
			for after := ""; ; {
				page, err := p.svc.DirectionLimits(ctx, p.opt.By, enrollment.DirectionLimitFilter{Municipality: req.Municipality, After: after, Limit: enrollment.MaxListLimit})
				if err != nil {
					return fmt.Errorf("reading the direction limits of %s: %w", req.Municipality, err)
				}
				for _, d := range page.Limits {
					stored[d.Municipality+"\x00"+string(d.Direction)+"\x00"+d.Period.Start.String()] = d
				}
				if after = page.Next; after == "" {
					break
				}
			}
			cache[req.Municipality] = stored
		}
		old, ok := stored[id]
		o := op{section: DirectionLimits, loc: rec.Loc, field: "limit", change: created, key: rowKey(DirectionLimits, rec.Fields),
			write: func(ctx context.Context, svc *enrollment.Service, key string) error {
				_, err := svc.SetDirectionLimit(ctx, key, req)
				return err
			}}
		if ok {
			o.change, o.key = changeOf(old.Limit == int64(req.Limit)), rowKey(DirectionLimits, rec.Fields, old.Limit)
		}
		if o.change != unchanged {
			if err := o.write(ctx, p.svc.DryRun(), o.key); err != nil {
				if err := p.fail(rec.Loc, DirectionLimits, "limit", err); err != nil {
					return err
				}
				continue
			}
		}
		p.add(o)
	}
	return nil
}

// ---- certificates and guardians ----

func (p *plan) checkCertificates(ctx context.Context) error {
	numbers, persons := map[string]Loc{}, map[string]Loc{}
	recs := p.src.Records(Certificates)
	for i, rec := range recs {
		c := &cells{rec: rec, section: Certificates}
		r := enrollment.ExistingCertificate{
			Number: certificate.Number(c.str("number")),
			Holder: certificate.Holder{PersonID: c.str("person_id"), FullName: c.str("full_name"), BirthDate: c.date("birth_date"),
				Sex: certificate.Sex(c.str("sex")), Municipality: c.str("holder_municipality")},
			GuardianID: c.str("guardian_id"), Municipality: c.str("municipality"), Category: c.str("category"),
			IssuedOn: c.date("issued_on"), Status: certificate.Status(c.str("status")), Funded: c.boolean("funded"), By: p.opt.By,
		}
		if len(c.errs) == 0 {
			dup(numbers, string(r.Number), c, "number")
			if id, err := certificate.ParsePersonID(r.Holder.PersonID); err == nil {
				dup(persons, id, c, "person_id")
			}
			_, inFile := p.categories[r.Category]
			if _, stored := p.storedCategories[r.Category]; !inFile && !stored {
				c.bad("category", "names no category of the file or the region", r.Category)
			}
		}
		if len(c.errs) > 0 {
			p.errs = append(p.errs, c.errs...)
			continue
		}
		found, err := p.svc.CheckExistingCertificate(ctx, r)
		if err != nil {
			if err := p.fail(rec.Loc, Certificates, "", err); err != nil {
				return err
			}
			continue
		}
		o := op{section: Certificates, loc: rec.Loc, field: "number", change: created, key: rowKey(Certificates, rec.Fields), cert: &r}
		if found {
			o.change = unchanged
		}
		p.add(o)
		if n := i + 1; n%p.opt.PageSize == 0 && n < len(recs) {
			p.progress("check", Certificates, n, len(recs))
		}
	}
	return nil
}

func (p *plan) checkGuardians(ctx context.Context) error {
	seen := map[string]Loc{}
	for _, rec := range p.src.Records(Guardians) {
		c := &cells{rec: rec, section: Guardians}
		req := enrollment.LinkRequest{GuardianID: c.str("guardian_id"), ChildID: c.str("child_id"), By: p.opt.By}
		if len(c.errs) == 0 {
			g, gerr := certificate.ParsePersonID(req.GuardianID)
			ch, cerr := certificate.ParsePersonID(req.ChildID)
			if gerr == nil && cerr == nil {
				dup(seen, g+"\x00"+ch, c, "child_id")
			}
		}
		if len(c.errs) > 0 {
			p.errs = append(p.errs, c.errs...)
			continue
		}
		if g, _ := certificate.ParsePersonID(req.GuardianID); g != "" && g == mustPerson(req.ChildID) {
			c.bad("child_id", "must not be the guardian", req.ChildID)
			p.errs = append(p.errs, c.errs...)
			continue
		}
		linked, err := p.svc.GuardianLinked(ctx, p.opt.By, req.GuardianID, req.ChildID)
		if err != nil {
			if err := p.fail(rec.Loc, Guardians, "", err); err != nil {
				return err
			}
			continue
		}
		o := op{section: Guardians, loc: rec.Loc, field: "child_id", change: created, key: rowKey(Guardians, rec.Fields),
			write: func(ctx context.Context, svc *enrollment.Service, key string) error {
				_, err := svc.LinkGuardian(ctx, key, req)
				return err
			}}
		if linked {
			o.change = unchanged
		}
		p.add(o)
	}
	return nil
}

func mustPerson(s string) string {
	id, _ := certificate.ParsePersonID(s)
	return id
}
