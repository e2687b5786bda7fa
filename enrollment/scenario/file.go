package scenario

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/edufund/edufund/funding"
)

// Scenario is one scenario file, read and checked: run it with Run.
type Scenario struct {
	File        string // the path it was read from, as given
	Name        string
	Description string
	// Pending, when set, says why the scenario is known to fail: it
	// documents a rule the code does not follow yet. It still runs; it is
	// reported as pending while it fails and as a failure once it passes,
	// so that the mark is removed with the fix.
	Pending string

	region     region
	categories []categorySpec
	people     named[personSpec]
	catalog    named[providerSpec]
	events     []event
	lines      map[string]int // key path → line, for errors found while running
}

// fileSpec is a scenario file's form.
type fileSpec struct {
	Name        string `yaml:"name,required"`
	Description string `yaml:"description"`
	Pending     string `yaml:"pending"`
	// RegionFile is a region file (the reference server's JSON, or the same
	// keys in YAML), relative to the scenario file; Region's keys override it.
	RegionFile string              `yaml:"region_file"`
	Region     yaml.Node           `yaml:"region"`
	Categories []categorySpec      `yaml:"categories"`
	People     named[personSpec]   `yaml:"people"`
	Catalog    named[providerSpec] `yaml:"catalog"`
	Events     []event             `yaml:"events,required"`
}

// Load reads and checks the scenario file at path.
func Load(path string) (*Scenario, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, &Error{File: path, Msg: err.Error()}
	}
	return Parse(path, b)
}

// Parse checks the contents of the scenario file named file. A region_file
// it names is read relative to file's directory. Every error is an *Error
// naming file, line and key.
func Parse(file string, b []byte) (*Scenario, error) {
	d := &decoder{file: file, lines: map[string]int{}}
	root, err := document(file, b)
	if err != nil {
		return nil, err
	}
	var f fileSpec
	if err := d.decode(root, reflect.ValueOf(&f).Elem(), ""); err != nil {
		return nil, err
	}
	sc := &Scenario{File: file, Name: f.Name, Description: f.Description, Pending: f.Pending,
		categories: f.Categories, people: f.People, catalog: f.Catalog, events: f.Events, lines: d.lines}
	var spec regionSpec
	// where tells which file, and which line, gave a region's key: the
	// scenario's region, else its region_file, else the scenario's line
	// that names the region.
	where := func(key string) (string, int) {
		if line, ok := d.lines["region."+key]; ok {
			return file, line
		}
		return file, cmp.Or(d.lines["region"], d.lines["region_file"])
	}
	if f.RegionFile != "" {
		path := f.RegionFile
		if !filepath.IsAbs(path) {
			path = filepath.Join(filepath.Dir(file), path)
		}
		rd, err := readRegionFile(path, &spec)
		if err != nil {
			return nil, err
		}
		inline := where
		where = func(key string) (string, int) {
			if _, ok := d.lines["region."+key]; !ok {
				if line, ok := rd.lines[key]; ok {
					return rd.file, line
				}
			}
			return inline(key)
		}
	}
	if f.Region.Kind != 0 {
		if err := d.decode(&f.Region, reflect.ValueOf(&spec).Elem(), "region"); err != nil {
			return nil, err
		}
	} else if f.RegionFile == "" {
		return nil, &Error{File: file, Line: root.Line, Key: "region", Msg: "is required (or region_file): the region's parameters, time_zone and children.municipalities at least"}
	}
	if sc.region, err = spec.region(where); err != nil {
		return nil, err
	}
	if err := sc.checkNames(d); err != nil {
		return nil, err
	}
	return sc, nil
}

// document parses b as one YAML document and returns its root node.
func document(file string, b []byte) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &Error{File: file, Msg: "is empty"}
		}
		return nil, syntaxError(file, err)
	}
	var next yaml.Node
	if err := dec.Decode(&next); !errors.Is(err, io.EOF) {
		return nil, &Error{File: file, Line: next.Line, Msg: "holds more than one document (---): one scenario per file"}
	}
	return doc.Content[0], nil
}

// readRegionFile reads the region file at path into spec; the decoder
// returned knows the lines of its keys.
func readRegionFile(path string, spec *regionSpec) (*decoder, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, &Error{File: path, Msg: err.Error()}
	}
	root, err := document(path, b)
	if err != nil {
		return nil, err
	}
	d := &decoder{file: path, lines: map[string]int{}}
	return d, d.decode(root, reflect.ValueOf(spec).Elem(), "")
}

// errorAt is an *Error at key path of the file, on the line of the key or,
// when the file does not give it, of the nearest key around it.
func (sc *Scenario) errorAt(path, format string, args ...any) error {
	line, ok := sc.lines[path]
	for p := path; !ok && p != ""; line, ok = sc.lines[p] {
		p = p[:max(strings.LastIndexAny(p, ".["), 0)]
	}
	return &Error{File: sc.File, Line: line, Key: path, Msg: fmt.Sprintf(format, args...)}
}

// checkNames checks that names are unique: a person, and a provider,
// program, module or group of the catalog, is referred to by its name alone.
func (sc *Scenario) checkNames(d *decoder) error {
	seen := map[string]string{}
	claim := func(name, path, what string) error {
		if first, ok := seen[name]; ok {
			return &Error{File: d.file, Line: d.lines[path], Key: path, Msg: fmt.Sprintf("the name %q is already used by %s: names must differ", name, first)}
		}
		seen[name] = what + " at line " + fmt.Sprint(d.lines[path])
		return nil
	}
	for _, p := range sc.people {
		if err := claim(p.Name, p.Path, "a person"); err != nil {
			return err
		}
	}
	for _, prov := range sc.catalog {
		if err := claim(prov.Name, prov.Path, "a provider"); err != nil {
			return err
		}
		for _, prog := range prov.Value.Programs {
			if err := claim(prog.Name, prog.Path, "a program"); err != nil {
				return err
			}
			for _, m := range prog.Value.Modules {
				if err := claim(m.Name, m.Path, "a module"); err != nil {
					return err
				}
				for _, g := range m.Value.Groups {
					if err := claim(g.Name, g.Path, "a group"); err != nil {
						return err
					}
				}
			}
		}
	}
	return nil
}

// personSpec is a person of the scenario: a child, a parent, an adult
// learner. The name is their person id unless id says otherwise.
type personSpec struct {
	ID           string       `yaml:"id"`
	FullName     string       `yaml:"full_name"`
	Born         funding.Date `yaml:"born"`
	Sex          string       `yaml:"sex"`
	Citizenship  string       `yaml:"citizenship"`  // RU by default
	Education    string       `yaml:"education"`    // adults
	Region       string       `yaml:"region"`       // the first of region.adults.regions by default
	Municipality string       `yaml:"municipality"` // the first of region.children.municipalities by default
	Registration string       `yaml:"registration"` // permanent by default
}

// categorySpec is a category of children's certificates.
type categorySpec struct {
	Code     string        `yaml:"code,required"`
	Nominal  funding.Money `yaml:"nominal"` // money, or
	MaxCount int           `yaml:"max_count"`
	MaxSum   funding.Money `yaml:"max_sum"`
	// HoursBase and HoursExtra are a nominal in weekly hours.
	HoursBase  int `yaml:"hours_base"`
	HoursExtra int `yaml:"hours_extra"`
}

// providerSpec is a provider with its programs, their modules and groups.
type providerSpec struct {
	Name           string             `yaml:"name"`
	INN            string             `yaml:"inn"`
	Municipality   string             `yaml:"municipality"`
	EnrolmentLimit int                `yaml:"enrolment_limit"`
	Agreements     []agreementSpec    `yaml:"agreements"`
	Programs       named[programSpec] `yaml:"programs"`
}

type agreementSpec struct {
	Municipality string `yaml:"municipality"`
	Period       span   `yaml:"period,required"`
}

type programSpec struct {
	Name           string            `yaml:"name"`
	Scheme         string            `yaml:"scheme"`
	Direction      string            `yaml:"direction"`
	Registry       string            `yaml:"registry"`
	MinAge         int               `yaml:"min_age"`
	MaxAge         int               `yaml:"max_age"`
	Certified      *bool             `yaml:"certified"`
	EnrolmentOpen  *bool             `yaml:"enrolment_open"`
	Municipality   string            `yaml:"municipality"`
	EnrolmentLimit int               `yaml:"enrolment_limit"`
	CompetencyArea string            `yaml:"competency_area"`
	AcademicHours  int               `yaml:"academic_hours"`
	Modules        named[moduleSpec] `yaml:"modules"`
}

type moduleSpec struct {
	Name           string           `yaml:"name"`
	Price          funding.Money    `yaml:"price,required"`
	NormativePrice funding.Money    `yaml:"normative_price"`
	Hours          int              `yaml:"hours"`
	MinChildren    int              `yaml:"min_children"`
	MaxChildren    int              `yaml:"max_children"`
	WeeklyHours    int              `yaml:"weekly_hours"`
	Groups         named[groupSpec] `yaml:"groups"`
}

type groupSpec struct {
	Name     string       `yaml:"name"`
	Start    funding.Date `yaml:"start,required"`
	End      funding.Date `yaml:"end,required"`
	Capacity int          `yaml:"capacity,required"`
	Schedule string       `yaml:"schedule"`
}

// span is a period written "2025-09-01..2025-12-31".
type span funding.Period

func (s *span) UnmarshalText(b []byte) error {
	from, to, ok := strings.Cut(string(b), "..")
	if !ok {
		return fmt.Errorf("must be a period such as 2025-09-01..2025-12-31, got %q", b)
	}
	start, err := funding.ParseDate(strings.TrimSpace(from))
	if err != nil {
		return fmt.Errorf("must start with a date such as 2025-09-01, got %q", from)
	}
	end, err := funding.ParseDate(strings.TrimSpace(to))
	if err != nil {
		return fmt.Errorf("must end with a date such as 2025-12-31, got %q", to)
	}
	p, err := funding.NewPeriod(start, end)
	if err != nil {
		return errors.New(ruleOf(err))
	}
	*s = span(p)
	return nil
}
