package demo

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/google/uuid"

	"github.com/edufund/edufund/catalog"
	"github.com/edufund/edufund/catalog/catalogtest"
	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/funding"
)

// GeneratedPrograms is how many generated programs (catalog/catalogtest,
// a fixed seed) fill the demo's navigator besides the walkthrough's own,
// each with its module and one group over the year, their providers in
// Novograd and Zarechye with agreements for the year.
const GeneratedPrograms = 300

// generatedSeed fixes the generated catalogue: the same programs every
// year and on every run, so that Load replays.
const generatedSeed = 27

// Generated is the demo's generated catalogue for period: GeneratedPrograms
// programs, with ids of the year (id), leaving out those the walkthrough's
// robotics queries would find (robotics, a robot or LEGO in their texts),
// so that the README's catalog and search answer what they show; and the
// providers of the programs kept. The caller must not change it.
func Generated(period funding.Period) catalogtest.Catalogue {
	generatedMu.Lock()
	defer generatedMu.Unlock()
	if c, ok := generatedCache[period]; ok {
		return c
	}
	c := generate(period)
	generatedCache[period] = c
	return c
}

// The generated catalogues by period: the tests load the demo many times.
var (
	generatedMu    sync.Mutex
	generatedCache = map[funding.Period]catalogtest.Catalogue{}
)

func generate(period funding.Period) catalogtest.Catalogue {
	year := period.Start.Year()
	var out catalogtest.Catalogue
	for n := GeneratedPrograms * 2; ; n *= 2 {
		c := catalogtest.New(catalogtest.Options{Seed: generatedSeed, Programs: n, Municipalities: []string{MunCity, MunRural}, Period: period})
		providers := map[uuid.UUID]catalog.Provider{}
		for _, p := range c.Providers {
			providers[p.ID] = p
		}
		out = catalogtest.Catalogue{}
		kept := map[uuid.UUID]uuid.UUID{} // a kept provider's generated id: its id of the year
		for i, p := range c.Programs {
			if len(out.Programs) == GeneratedPrograms {
				break
			}
			if robotic(p.Program, providers[p.ProviderID].Name) {
				continue
			}
			prov, ok := kept[p.ProviderID]
			if !ok {
				pr := providers[p.ProviderID]
				prov = id(year, "generated:provider:"+strconv.Itoa(len(out.Providers)))
				kept[p.ProviderID] = prov
				pr.ID = prov
				pr.Agreements = []catalog.Agreement{{Municipality: pr.Municipality, Period: period}}
				out.Providers = append(out.Providers, pr)
			}
			key := "generated:" + strconv.Itoa(i)
			p.ID, p.ProviderID = id(year, key+":program"), prov
			p.Module.ID, p.Module.ProgramID = id(year, key+":module"), p.ID
			g := p.Groups[0] // one group: the demo loads quickly
			g.ID, g.ModuleID = id(year, key+":group"), p.Module.ID
			p.Groups = []catalog.Group{g}
			out.Programs = append(out.Programs, p)
		}
		if len(out.Programs) == GeneratedPrograms {
			return out
		}
	}
}

// robotic reports whether the walkthrough's robotics queries (its catalog
// of robotics for a nine-year-old, the search for "lego" and for robots)
// would find p.
func robotic(p catalog.Program, provider string) bool {
	if p.Direction == catalog.TechnicalRobotics {
		return true
	}
	text := strings.ToLower(strings.Join(append([]string{p.Name, provider, p.Annotation, p.Description, p.Goals}, p.Tags...), " "))
	return strings.Contains(text, "lego") || strings.Contains(text, "робот")
}

// generatedWorkers is how many programs of the generated catalogue are
// saved at once: on PostgreSQL the demo then loads in about two thirds of
// the time (more workers gain nothing on two cores); on SQLite, one
// connection, it changes nothing.
const generatedWorkers = 4

// generated saves the generated catalogue through the service, each
// change with a key of its own: the providers first, then each program
// with its module and group, generatedWorkers programs at a time.
func (l *loader) generated(period funding.Period) {
	if l.err != nil {
		return
	}
	c := Generated(period)
	for _, p := range c.Providers {
		l.do("provider:"+p.ID.String(), func(key string) error {
			_, err := l.svc.SaveProvider(l.ctx, key, p, enrollment.AsRegional("demo"))
			return err
		})
	}
	if l.err != nil {
		return
	}
	programs := make(chan catalogtest.Program)
	errs := make([]error, generatedWorkers)
	var wg sync.WaitGroup
	for w := range generatedWorkers {
		wg.Go(func() {
			for p := range programs {
				if errs[w] == nil {
					errs[w] = l.generatedProgram(p)
				}
			}
		})
	}
	for _, p := range c.Programs {
		programs <- p
	}
	close(programs)
	wg.Wait()
	l.err = errors.Join(errs...)
}

// generatedProgram saves a generated program, its module and its group.
func (l *loader) generatedProgram(p catalogtest.Program) error {
	by := enrollment.AsRegional("demo")
	steps := []struct {
		name string
		fn   func(key string) error
	}{
		{"program:" + p.ID.String(), func(key string) error { _, err := l.svc.SaveProgram(l.ctx, key, p.Program, by); return err }},
		{"module:" + p.Module.ID.String(), func(key string) error { _, err := l.svc.SaveModule(l.ctx, key, p.Module, by); return err }},
	}
	for _, g := range p.Groups {
		steps = append(steps, struct {
			name string
			fn   func(key string) error
		}{"group:" + g.ID.String(), func(key string) error { _, err := l.svc.SaveGroup(l.ctx, key, g, by); return err }})
	}
	for _, s := range steps {
		if err := s.fn(fmt.Sprintf("demo:%d:%s", l.year, s.name)); err != nil {
			return fmt.Errorf("demo %s: %w", s.name, err)
		}
	}
	return nil
}
