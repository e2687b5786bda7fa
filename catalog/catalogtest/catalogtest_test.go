package catalogtest_test

import (
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/edufund/edufund/catalog"
	"github.com/edufund/edufund/catalog/catalogtest"
)

// TestDeterministic: a seed gives the same catalogue and queries, ids
// included; another seed another one.
func TestDeterministic(t *testing.T) {
	a, b := catalogtest.Programs(7, 500), catalogtest.Programs(7, 500)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("the same seed gave two catalogues")
	}
	if c := catalogtest.Programs(8, 500); c.Programs[0].ID == a.Programs[0].ID || c.Programs[0].Name+c.Programs[1].Name == a.Programs[0].Name+a.Programs[1].Name {
		t.Fatal("another seed gave the same catalogue")
	}
	if !reflect.DeepEqual(catalogtest.Queries(7, 200), catalogtest.Queries(7, 200)) {
		t.Fatal("the same seed gave two lists of queries")
	}
	if len(a.Programs) != 500 {
		t.Fatalf("%d programs, want 500", len(a.Programs))
	}
}

// TestValid: everything generated is as the constructors leave it, and
// each program belongs to a provider of the catalogue in its
// municipality, its module to it and its groups to the module.
func TestValid(t *testing.T) {
	c := catalogtest.New(catalogtest.Options{Seed: 1, Programs: 5000, Municipalities: []string{"novograd", "zarechye"}})
	providers := map[uuid.UUID]catalog.Provider{}
	for _, p := range c.Providers {
		got, err := catalog.NewProvider(p)
		if err != nil {
			t.Fatalf("provider %q: %v", p.Name, err)
		}
		if !reflect.DeepEqual(got, p) {
			t.Fatalf("provider %q is changed by NewProvider:\n%+v\n%+v", p.Name, p, got)
		}
		providers[p.ID] = p
	}
	ids := map[uuid.UUID]bool{}
	for _, p := range c.Programs {
		got, err := catalog.NewProgram(p.Program)
		if err != nil {
			t.Fatalf("program %q: %v", p.Name, err)
		}
		if !reflect.DeepEqual(got, p.Program) {
			t.Fatalf("program %q is changed by NewProgram:\n%+v\n%+v", p.Name, p.Program, got)
		}
		prov, ok := providers[p.ProviderID]
		if !ok || prov.Municipality != p.Municipality {
			t.Fatalf("program %q: provider %v, municipality %q", p.Name, p.ProviderID, p.Municipality)
		}
		if p.Activity == "" || p.Annotation == "" || p.Description == "" || len(p.Tags) == 0 {
			t.Fatalf("program %q lacks content: %+v", p.Name, p)
		}
		if m, err := catalog.NewModule(p.Module); err != nil || m != p.Module || p.Module.ProgramID != p.ID {
			t.Fatalf("module of %q: %v %+v", p.Name, err, p.Module)
		}
		if len(p.Groups) == 0 {
			t.Fatalf("program %q has no group", p.Name)
		}
		for _, g := range p.Groups {
			if got, err := catalog.NewGroup(g, &p.Module); err != nil || !reflect.DeepEqual(got, g) {
				t.Fatalf("group of %q: %v %+v", p.Name, err, g)
			}
			ids[g.ID] = true
		}
		for _, id := range []uuid.UUID{p.ID, p.Module.ID} {
			if ids[id] {
				t.Fatalf("id %v twice", id)
			}
			ids[id] = true
		}
	}
}

// TestVaried: a provider's programs have different names; a large
// catalogue has many names, none of them dominant, every direction and
// registry, both sexes' sports groups and names in quotes.
func TestVaried(t *testing.T) {
	const n = 20000
	c := catalogtest.Programs(3, n)
	byProvider := map[uuid.UUID]map[string]bool{}
	names := map[string]int{}
	dirs := map[catalog.Direction]int{}
	regs := map[catalog.Registry]int{}
	providers := map[string]int{}
	for _, p := range c.Providers {
		providers[p.Name]++
	}
	var quotedNames, boys, girls int
	for _, p := range c.Programs {
		if byProvider[p.ProviderID] == nil {
			byProvider[p.ProviderID] = map[string]bool{}
		}
		if byProvider[p.ProviderID][p.Name] {
			t.Fatalf("provider %v has %q twice", p.ProviderID, p.Name)
		}
		byProvider[p.ProviderID][p.Name] = true
		names[p.Name]++
		dirs[p.Direction]++
		regs[p.Registry]++
		if strings.Contains(p.Name, "«") {
			quotedNames++
		}
		if strings.Contains(p.Name, "(мальчики") {
			boys++
		}
		if strings.Contains(p.Name, "(девочки") {
			girls++
		}
	}
	if len(names) < n/5 {
		t.Errorf("%d different names in %d programs", len(names), n)
	}
	for name, k := range names {
		if k > n/100 {
			t.Errorf("%q names %d programs of %d", name, k, n)
		}
	}
	if len(providers) < len(c.Providers)/3 {
		t.Errorf("%d different names of %d providers", len(providers), len(c.Providers))
	}
	for _, d := range catalog.Directions {
		if dirs[d] < n/50 {
			t.Errorf("direction %s: %d programs", d, dirs[d])
		}
	}
	for _, r := range catalog.Registries {
		if regs[r] < n/50 {
			t.Errorf("registry %s: %d programs", r, regs[r])
		}
	}
	if quotedNames < n/10 || boys == 0 || girls == 0 {
		t.Errorf("names in quotes %d, boys' groups %d, girls' %d", quotedNames, boys, girls)
	}
}

// TestQueriesFind: the generated queries are valid searches, of every
// kind, and the words a parent types find programs of the activity they
// look for, matched as the stores match them (catalog.Search.Matchers
// against catalog.IndexTerms): the vocabulary of the queries is the
// catalogue's.
func TestQueriesFind(t *testing.T) {
	c := catalogtest.Programs(5, 8000)
	type indexed struct {
		activity string
		terms    []string // sorted
	}
	provName := map[uuid.UUID]string{}
	for _, p := range c.Providers {
		provName[p.ID] = p.Name
	}
	var all []indexed
	byActivity := map[string][]indexed{}
	for _, p := range c.Programs {
		ix := indexed{p.Activity, slices.Sorted(maps.Keys(catalog.IndexTerms(p.Name, provName[p.ProviderID], p.Annotation, p.Description, p.Goals, strings.Join(p.Tags, " "))))}
		all = append(all, ix)
		byActivity[p.Activity] = append(byActivity[p.Activity], ix)
	}
	// A program matches when each word's root starts one of its terms (an
	// exact match starts with the root too).
	matches := func(terms []string, ms []catalog.Matcher) bool {
		for _, m := range ms {
			i, _ := slices.BinarySearch(terms, m.Root)
			if i == len(terms) || !strings.HasPrefix(terms[i], m.Root) {
				return false
			}
		}
		return true
	}
	qs := catalogtest.Queries(5, 1000)
	kinds := map[catalogtest.QueryKind]int{}
	found := map[catalogtest.QueryKind]int{}
	for _, q := range qs {
		s := catalog.Search{Text: q.Text}
		if err := s.Check(); err != nil || s.Text != q.Text {
			t.Fatalf("query %q: %v", q.Text, err)
		}
		kinds[q.Kind]++
		ms := s.Matchers()
		if len(ms) == 0 {
			t.Fatalf("query %q has no words", q.Text)
		}
		of := byActivity[q.Activity]
		if q.Activity == "" {
			of = all
		}
		for _, ix := range of {
			if matches(ix.terms, ms) {
				found[q.Kind]++
				break
			}
		}
	}
	for _, k := range []catalogtest.QueryKind{catalogtest.QueryWord, catalogtest.QueryPrefix, catalogtest.QueryPhrase, catalogtest.QueryTypo, catalogtest.QueryName} {
		if kinds[k] < len(qs)/20 {
			t.Errorf("%d queries of kind %s in %d", kinds[k], k, len(qs))
		}
	}
	// Words and prefixes find their activity; most phrases and names find
	// something (a phrase may ask for more than the catalogue has, as
	// parents' do). Typos are forgiven by the title's trigrams, which this
	// test does not match.
	for k, share := range map[catalogtest.QueryKind]int{catalogtest.QueryWord: 95, catalogtest.QueryPrefix: 100, catalogtest.QueryPhrase: 60, catalogtest.QueryName: 80} {
		if found[k]*100 < kinds[k]*share {
			t.Errorf("queries of kind %s: %d of %d find their activity, want %d%%", k, found[k], kinds[k], share)
		}
	}
}
