// Package catalogtest generates realistic Russian catalogue content for
// tests and benchmarks: providers ("Дом детского творчества «Радуга»",
// "Детская школа искусств № 3") and their programs ("Шахматы для
// начинающих", "Студия современного танца «Вдохновение»", "Юный
// программист: Python", "Футбол (мальчики 7–9 лет)"), each with its
// direction, registry, age range, annotation, description, goals and
// tags, one module and its groups; and the searches parents type to find
// them (Queries). Everything follows from a seed: the same seed gives the
// same catalogue, ids included. Pure Go: saving it is the caller's
// business.
package catalogtest

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/edufund/edufund/catalog"
	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/funding"
)

// Options say what New generates.
type Options struct {
	Seed int64
	// Programs is how many programs (each with a module and its groups).
	Programs int
	// Municipalities are the codes providers and their programs are in,
	// the first the largest (a city), each next one smaller (default
	// DefaultMunicipalities).
	Municipalities []string
	// Period is when the groups run: from its start (a quarter of them a
	// month later) to its end. Default: the school year 1 September 2025 –
	// 31 May 2026.
	Period funding.Period
}

// DefaultMunicipalities are the municipalities of a catalogue whose
// options name none.
var DefaultMunicipalities = []string{"mo-01", "mo-02", "mo-03", "mo-04", "mo-05", "mo-06", "mo-07", "mo-08", "mo-09", "mo-10"}

// Catalogue is a generated catalogue.
type Catalogue struct {
	Providers []catalog.Provider
	Programs  []Program
}

// Program is a generated program with its module and groups (one to
// three), as they are saved.
type Program struct {
	catalog.Program
	// Activity is the plain name of what it teaches ("Шахматы" for
	// "Шахматный клуб «Ладья»"): what a quality test expects a search for
	// the activity to find.
	Activity string
	Module   catalog.Module
	Groups   []catalog.Group
}

// Programs generates n programs from seed in DefaultMunicipalities, and
// their providers.
func Programs(seed int64, n int) Catalogue {
	return New(Options{Seed: seed, Programs: n})
}

// New generates the catalogue o describes. Each provider's programs have
// different names; every provider, program, module and group is valid
// (catalog.NewProvider, NewProgram, NewModule, NewGroup accept it as it
// is).
func New(o Options) Catalogue {
	if len(o.Municipalities) == 0 {
		o.Municipalities = DefaultMunicipalities
	}
	if o.Period.Start.IsZero() || o.Period.End.IsZero() {
		o.Period = funding.Period{Start: funding.MustDate(2025, time.September, 1), End: funding.MustDate(2026, time.May, 31)}
	}
	g := &gen{rng: rand.New(rand.NewPCG(uint64(o.Seed), 0x9e3779b97f4a7c15)), o: o}
	var out Catalogue
	for len(out.Programs) < o.Programs {
		prov, kind, private := g.provider()
		out.Providers = append(out.Providers, prov)
		n := kind.min + g.rng.IntN(kind.max-kind.min+1)
		n = min(n, o.Programs-len(out.Programs))
		names := map[string]bool{}
		for range n {
			out.Programs = append(out.Programs, g.program(prov, kind, private, names))
		}
	}
	return out
}

type gen struct {
	rng *rand.Rand
	o   Options
}

func (g *gen) id() uuid.UUID {
	var u uuid.UUID
	for i := 0; i < 16; i += 8 {
		x := g.rng.Uint64()
		for j := range 8 {
			u[i+j] = byte(x >> (8 * j))
		}
	}
	u[6] = u[6]&0x0f | 0x40 // version 4
	u[8] = u[8]&0x3f | 0x80 // RFC 4122 variant
	return u
}

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

// weighted picks an index by weight.
func weighted(r *rand.Rand, n int, weight func(int) int) int {
	total := 0
	for i := range n {
		total += weight(i)
	}
	x := r.IntN(total)
	for i := range n {
		if x -= weight(i); x < 0 {
			return i
		}
	}
	return n - 1
}

// municipality picks one, the first weighing most: weights n, n-1, …, 1
// doubled for the first.
func (g *gen) municipality() string {
	ms := g.o.Municipalities
	i := weighted(g.rng, len(ms), func(i int) int {
		w := len(ms) - i
		if i == 0 {
			w *= 2
		}
		return w
	})
	return ms[i]
}

// provider makes a provider, its kind and, for a private studio, which of
// the kind's names it has (-1 otherwise).
func (g *gen) provider() (catalog.Provider, providerKind, int) {
	k := providerKinds[weighted(g.rng, len(providerKinds), func(i int) int { return providerKinds[i].weight })]
	ti := g.rng.IntN(len(k.names))
	name := k.names[ti]
	private := -1
	if k.dirs == nil {
		private = ti
	}
	dir := catalog.Direction("")
	if private >= 0 {
		dir = privateDirections[ti]
	}
	if strings.Contains(name, "%s") {
		q := quotedAny
		if dir != "" && g.rng.IntN(3) > 0 {
			q = quoted[dir]
		}
		name = strings.Replace(name, "%s", pick(g.rng, q), 1)
	}
	name = strings.Replace(name, "%d", strconv.Itoa(1+g.rng.IntN(150)), 1)
	name = strings.Replace(name, "%r", pick(g.rng, districts), 1)
	inn := make([]byte, 10)
	for i := range inn {
		inn[i] = byte('0' + g.rng.IntN(10))
	}
	inn[0] = byte('1' + g.rng.IntN(9))
	p := catalog.Provider{
		ID: g.id(), Name: name, INN: string(inn), Municipality: g.municipality(),
		Address: fmt.Sprintf("%s, %d", pick(g.rng, streets), 1+g.rng.IntN(120)),
		Phone:   fmt.Sprintf("+7 (383) %03d-%02d-%02d", 200+g.rng.IntN(800), g.rng.IntN(100), g.rng.IntN(100)),
	}
	return p, k, private
}

// activity picks what a program of kind teaches.
func (g *gen) activity(k providerKind, private int) activity {
	var dir catalog.Direction
	if private >= 0 {
		dir = privateDirections[private]
		if want := privateActivities[private]; want != "" && g.rng.IntN(4) > 0 {
			for _, a := range activities {
				if a.title == want {
					return a
				}
			}
		}
	} else {
		dirs := make([]catalog.Direction, 0, len(k.dirs))
		for _, d := range catalog.Directions { // a fixed order: the map's is random
			if k.dirs[d] > 0 {
				dirs = append(dirs, d)
			}
		}
		dir = dirs[weighted(g.rng, len(dirs), func(i int) int { return k.dirs[dirs[i]] })]
	}
	var of []activity
	for _, a := range activities {
		if a.dir == dir {
			of = append(of, a)
		}
	}
	return of[weighted(g.rng, len(of), func(i int) int { return of[i].weight })]
}

// program makes a program of provider p, its name not yet in names.
func (g *gen) program(p catalog.Provider, k providerKind, private int, names map[string]bool) Program {
	var a activity
	var name string
	var lo, hi int
	for try := 0; ; try++ {
		a = g.activity(k, private)
		name, lo, hi = g.name(a, p)
		if !names[name] {
			break
		}
		if try >= 20 {
			// A provider with many programs of one activity: a group
			// name tells them apart, as a real catalogue's do.
			for i := 2; names[name]; i++ {
				name = fmt.Sprintf("%s (группа %d)", strings.TrimSuffix(name, "."), i)
			}
			break
		}
	}
	names[name] = true
	reg := g.registry(a.dir)
	prog := catalog.Program{
		ID: g.id(), ProviderID: p.ID, Name: name, Scheme: certificate.Supplementary, Direction: a.dir, Registry: reg,
		MinAge: lo, MaxAge: hi, Certified: reg == catalog.Certified, EnrolmentOpen: g.rng.IntN(10) > 0, Municipality: p.Municipality,
	}
	prog.Annotation, prog.Description, prog.Goals = g.texts(a, lo, hi)
	prog.Tags = g.tags(a)
	out := Program{Program: prog, Activity: a.title}
	out.Module, out.Groups = g.offer(prog)
	return out
}

// name makes a program's name and its age range.
func (g *gen) name(a activity, p catalog.Provider) (string, int, int) {
	lo, hi := g.ages(a)
	type pattern struct {
		w    int
		make func() string
	}
	patterns := []pattern{
		{6, func() string { return a.title }},
		{5, func() string { return a.title + pick(g.rng, levels) }},
	}
	if len(a.named) > 0 {
		patterns = append(patterns,
			pattern{3, func() string { return pick(g.rng, a.named) }},
			pattern{5, func() string { return pick(g.rng, a.named) + " «" + g.quote(a.dir) + "»" }})
	}
	if a.persona != "" {
		patterns = append(patterns, pattern{3, func() string {
			if len(a.variants) > 0 && g.rng.IntN(2) == 0 {
				return a.persona + ": " + pick(g.rng, a.variants).label
			}
			return a.persona
		}})
	}
	if len(a.variants) > 0 {
		patterns = append(patterns, pattern{6, func() string { return a.title + " " + pick(g.rng, a.variants).suffix }})
	}
	if a.of != "" {
		patterns = append(patterns, pattern{2, func() string {
			if strings.HasPrefix(a.of, "игры ") { // "Основы игры на гитаре", not "Мир игры на гитаре"
				return "Основы " + a.of
			}
			return pick(g.rng, []string{"Основы ", "Азбука ", "Мир "}) + a.of
		}})
	}
	// Names that say whom the program is for set its ages.
	if a.sexed {
		patterns = append(patterns, pattern{6, func() string {
			lo, hi = g.band(a)
			who := []string{"мальчики", "девочки"}
			if lo >= 13 {
				who = []string{"юноши", "девушки"}
			}
			return fmt.Sprintf("%s (%s %d–%d лет)", a.title, pick(g.rng, who), lo, hi)
		}})
	}
	var fits []audience
	for _, au := range audiences {
		if au.min >= a.min && au.max <= a.max {
			fits = append(fits, au)
		}
	}
	if len(fits) > 0 {
		patterns = append(patterns, pattern{3, func() string {
			au := pick(g.rng, fits)
			lo, hi = au.min, au.max
			return a.title + au.text
		}})
	}
	patterns = append(patterns, pattern{2, func() string {
		lo, hi = g.band(a)
		return fmt.Sprintf("%s для детей %d–%d лет", a.title, lo, hi)
	}})
	pt := patterns[weighted(g.rng, len(patterns), func(i int) int { return patterns[i].w })]
	return pt.make(), lo, hi
}

// quote is a name in quotes for a studio of direction dir.
func (g *gen) quote(dir catalog.Direction) string {
	if g.rng.IntN(4) == 0 {
		return pick(g.rng, quotedAny)
	}
	return pick(g.rng, quoted[dir])
}

// ages is a program's age range within its activity's: at least two
// years, most often four to six.
func (g *gen) ages(a activity) (int, int) {
	span := a.max - a.min
	w := min(span, 2+g.rng.IntN(5))
	lo := a.min + g.rng.IntN(span-w+1)
	return lo, lo + w
}

// band is a narrow age range, as a sports group's: two or three years.
func (g *gen) band(a activity) (int, int) {
	w := min(a.max-a.min, 2+g.rng.IntN(2))
	lo := a.min + g.rng.IntN(a.max-a.min-w+1)
	return lo, lo + w
}

// registry picks a program's registry: most are certified, the
// pre-professional ones are arts and sport.
func (g *gen) registry(dir catalog.Direction) catalog.Registry {
	x := g.rng.IntN(100)
	switch {
	case x < 45:
		return catalog.Certified
	case x < 60:
		return catalog.Significant
	case x < 80:
		return catalog.General
	case x < 88 && (dir == catalog.Arts || dir == catalog.Sport):
		return catalog.PreProfessional
	default:
		return catalog.Paid
	}
}

// texts are a program's annotation (one or two sentences), description
// and goals.
func (g *gen) texts(a activity, lo, hi int) (annotation, description, goalsText string) {
	scene := a.scene
	if scene == "" {
		scene = string(a.dir)
	}
	cs := closers[scene]
	one := g.rng.IntN(len(cs))
	second := (one + 1 + g.rng.IntN(len(cs)-1)) % len(cs) // another one
	annotation = pick(g.rng, leads) + a.about + "."
	if g.rng.IntN(2) == 0 {
		annotation += " " + cs[one]
	}
	years := 1 + g.rng.IntN(3)
	yw := map[int]string{1: "год", 2: "года", 3: "года"}[years]
	freq := pick(g.rng, []string{"раз в неделю", "дважды в неделю", "три раза в неделю"})
	minutes := pick(g.rng, []int{45, 60, 90})
	var first string
	switch g.rng.IntN(4) {
	case 0, 1:
		first = fmt.Sprintf("Программа для детей %d–%d лет рассчитана на %d %s; занятия %s по %d минут.", lo, hi, years, yw, freq, minutes)
	case 2:
		first = fmt.Sprintf("Срок обучения — %d %s, занятия %s по %d минут; принимаются дети от %d до %d лет.", years, yw, freq, minutes, lo, hi)
	default:
		first = fmt.Sprintf("Группы занимаются %s по %d минут; курс рассчитан на %d %s.", freq, minutes, years, yw)
	}
	description = first + "\n" + cs[second]
	goalsText = "Цель: " + pick(g.rng, goals[a.dir]) + "."
	return annotation, description, goalsText
}

// tags are a program's: some of its activity's and its direction's.
func (g *gen) tags(a activity) []string {
	n := 1 + g.rng.IntN(len(a.tags))
	out := append([]string{}, a.tags[:n]...)
	if t := directionTags[a.dir]; g.rng.IntN(2) == 0 && !contains(out, t) {
		out = append(out, t)
	}
	return out
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// offer is a program's module and its groups over the school year.
func (g *gen) offer(p catalog.Program) (catalog.Module, []catalog.Group) {
	hours := pick(g.rng, []int{36, 72, 108, 144})
	price := funding.Kopecks(int64(200+g.rng.IntN(380)) * 5000) // 10000.00–28950.00, by 50.00
	m := catalog.Module{
		ID: g.id(), ProgramID: p.ID, Name: pick(g.rng, []string{"Первый год обучения", "Основной курс", "Учебный год", "Модуль 1"}),
		Price: price, NormativePrice: price, Hours: hours, MinChildren: 5, MaxChildren: 25, WeeklyHours: 2 * (1 + hours/72),
	}
	if m.WeeklyHours > certificate.MaxWeeklyHours {
		m.WeeklyHours = certificate.MaxWeeklyHours
	}
	n := 1 + g.rng.IntN(3)
	groups := make([]catalog.Group, n)
	for i := range groups {
		start := g.o.Period.Start
		if later := start.AddMonths(1); g.rng.IntN(4) == 0 && !later.After(g.o.Period.End) {
			start = later
		}
		groups[i] = catalog.Group{
			ID: g.id(), ModuleID: m.ID, Name: fmt.Sprintf("Группа %d", i+1),
			Start: start, End: g.o.Period.End,
			Capacity: 8 + g.rng.IntN(18), Schedule: pick(g.rng, schedules),
		}
	}
	return m, groups
}
