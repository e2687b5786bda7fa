package importer

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
)

// Loc is where a record was read: its file and the line it starts on.
type Loc struct {
	File string
	Line int
}

func (l Loc) String() string {
	if l.Line == 0 {
		return l.File
	}
	return l.File + ":" + strconv.Itoa(l.Line)
}

// Record is one row of a section: its cells by column name, as read.
type Record struct {
	Loc    Loc
	Fields map[string]string
}

// Source is what was read: the records of each section, in file order.
type Source struct {
	sections map[string][]Record
	// bad are the problems found while reading (an unknown column, a line
	// that does not parse): reported with the rows' own.
	bad []RowError
}

// Section names, in the order Import writes them.
const (
	Categories      = "categories"
	Providers       = "providers"
	Agreements      = "agreements"
	Programs        = "programs"
	Modules         = "modules"
	Groups          = "groups"
	Budgets         = "budgets"
	DirectionLimits = "direction_limits"
	Certificates    = "certificates"
	Guardians       = "guardians"
)

// columns are each section's columns; a name ending in * is required.
var columns = map[string][]string{
	Categories: {"code*", "nominal", "max_count", "max_sum", "hours_base", "hours_extra"},
	Providers: {"id*", "name*", "inn*", "municipality", "enrolment_limit", "address", "phone", "email", "site",
		"kpp", "bank_name", "bic", "account", "correspondent_account"},
	Agreements: {"provider_id*", "municipality*", "period_start*", "period_end"},
	Programs: {"id*", "provider_id*", "name*", "scheme*", "direction", "registry", "min_age", "max_age", "enrolment_open",
		"municipality", "enrolment_limit", "competency_area", "academic_hours", "annotation", "description", "goals", "tags"},
	Modules:         {"id*", "program_id*", "name*", "price*", "normative_price*", "hours*", "min_children", "max_children", "weekly_hours"},
	Groups:          {"id*", "module_id*", "name*", "start*", "end*", "capacity*", "schedule", "address"},
	Budgets:         {"municipality*", "period_start*", "limit*"},
	DirectionLimits: {"municipality*", "direction*", "period_start*", "limit*"},
	Certificates: {"number*", "person_id*", "full_name*", "birth_date*", "holder_municipality*", "category*", "issued_on*",
		"sex", "municipality", "guardian_id", "status", "funded"},
	Guardians: {"guardian_id*", "child_id*"},
}

// SectionNames lists the sections in the order Import writes them.
var SectionNames = []string{Categories, Providers, Agreements, Programs, Modules, Groups, Budgets, DirectionLimits, Certificates, Guardians}

func known(section, column string) (ok, required bool) {
	for _, c := range columns[section] {
		if name, req := strings.CutSuffix(c, "*"); name == column {
			return true, req
		}
	}
	return false, false
}

// NewSource returns an empty source; Add, ReadCSV and ReadJSON fill it.
func NewSource() *Source { return &Source{sections: map[string][]Record{}} }

// Add adds a record to a section. Its cells are trimmed; a column the
// section does not have is reported as a bad row by Import.
func (s *Source) Add(section string, r Record) {
	if _, ok := columns[section]; !ok {
		s.bad = append(s.bad, RowError{Loc: r.Loc, Section: section, Rule: "is not a section: the sections are " + strings.Join(SectionNames, ", ")})
		return
	}
	fields := make(map[string]string, len(r.Fields))
	for k, v := range r.Fields {
		k = strings.ToLower(strings.TrimSpace(k))
		if ok, _ := known(section, k); !ok {
			s.bad = append(s.bad, RowError{Loc: r.Loc, Section: section, Field: k, Rule: "is not a column of " + section})
			continue
		}
		fields[k] = strings.TrimSpace(v)
	}
	r.Fields = fields
	s.sections[section] = append(s.sections[section], r)
}

// Records returns a section's records, in the order they were added.
func (s *Source) Records(section string) []Record { return s.sections[section] }

// Len counts the records of every section.
func (s *Source) Len() int {
	n := 0
	for _, rs := range s.sections {
		n += len(rs)
	}
	return n
}

var bom = []byte("\ufeff")

// ReadCSV reads a section's CSV file: a header line of column names, then
// one record a line. The separator is ";" when the header holds one and
// "," otherwise; a UTF-8 byte order mark is skipped. name is the file's
// name in reports.
func (s *Source) ReadCSV(section, name string, r io.Reader) error {
	if _, ok := columns[section]; !ok {
		return fmt.Errorf("%s: %q is not a section: the sections are %s", name, section, strings.Join(SectionNames, ", "))
	}
	br := bufio.NewReader(r)
	if b, err := br.Peek(len(bom)); err == nil && bytes.Equal(b, bom) {
		_, _ = br.Discard(len(bom))
	}
	head, err := br.Peek(4096)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return fmt.Errorf("%s: %w", name, err)
	}
	first, _, _ := bytes.Cut(head, []byte("\n"))
	cr := csv.NewReader(br)
	cr.Comma = ','
	if bytes.Contains(first, []byte(";")) {
		cr.Comma = ';'
	}
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil
	}
	if err != nil {
		s.bad = append(s.bad, csvError(section, name, err))
		return nil
	}
	for i := range header {
		header[i] = strings.ToLower(strings.TrimSpace(header[i]))
	}
	seen := map[string]bool{}
	for _, h := range header {
		if seen[h] {
			s.bad = append(s.bad, RowError{Loc: Loc{name, 1}, Section: section, Field: h, Rule: "is given twice in the header"})
		}
		seen[h] = true
	}
	for _, c := range columns[section] {
		if name2, req := strings.CutSuffix(c, "*"); req && !seen[name2] {
			s.bad = append(s.bad, RowError{Loc: Loc{name, 1}, Section: section, Field: name2, Rule: "is a required column, missing from the header"})
		}
	}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			s.bad = append(s.bad, csvError(section, name, err))
			var pe *csv.ParseError
			if errors.As(err, &pe) && errors.Is(pe.Err, csv.ErrFieldCount) {
				continue
			}
			return nil // the rest of a file that does not parse is not read
		}
		line, _ := cr.FieldPos(0)
		if len(rec) != len(header) {
			s.bad = append(s.bad, RowError{Loc: Loc{name, line}, Section: section,
				Rule: fmt.Sprintf("has %d fields, the header %d", len(rec), len(header))})
			continue
		}
		if !slices.ContainsFunc(rec, func(v string) bool { return strings.TrimSpace(v) != "" }) {
			continue // a line of separators only, as spreadsheets leave them
		}
		fields := make(map[string]string, len(rec))
		for i, v := range rec {
			fields[header[i]] = v
		}
		s.Add(section, Record{Loc: Loc{name, line}, Fields: fields})
	}
}

func csvError(section, name string, err error) RowError {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return RowError{Loc: Loc{name, pe.Line}, Section: section, Rule: "is not valid CSV: " + pe.Err.Error()}
	}
	return RowError{Loc: Loc{name, 0}, Section: section, Rule: "could not be read: " + err.Error()}
}

// ReadJSON reads a region's JSON file: one object whose keys are section
// names and whose values are arrays of objects keyed by column names.
// Each record's line is the line its object starts on.
func (s *Source) ReadJSON(name string, r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	data = bytes.TrimPrefix(data, bom)
	lineAt := lineIndex(data)
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	fail := func(off int64, rule string) error {
		return &Report{Errors: []RowError{{Loc: Loc{name, lineAt(off)}, Rule: rule}}}
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return fail(dec.InputOffset(), "must be a JSON object of sections")
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return fail(dec.InputOffset(), "is not valid JSON: "+err.Error())
		}
		section := tok.(string)
		if _, ok := columns[section]; !ok {
			return fail(dec.InputOffset(), fmt.Sprintf("%q is not a section: the sections are %s", section, strings.Join(SectionNames, ", ")))
		}
		if tok, err := dec.Token(); err != nil || tok != json.Delim('[') {
			return fail(dec.InputOffset(), section+" must be an array of objects")
		}
		for dec.More() {
			off := dec.InputOffset()
			var obj map[string]cell
			if err := dec.Decode(&obj); err != nil {
				return fail(off, section+": each item must be an object of columns: "+strings.TrimPrefix(err.Error(), "json: "))
			}
			fields := make(map[string]string, len(obj))
			for k, v := range obj {
				fields[k] = string(v)
			}
			s.Add(section, Record{Loc: Loc{name, lineAt(skipSpace(data, off))}, Fields: fields})
		}
		if _, err := dec.Token(); err != nil {
			return fail(dec.InputOffset(), "is not valid JSON: "+err.Error())
		}
	}
	if _, err := dec.Token(); err != nil {
		return fail(dec.InputOffset(), "is not valid JSON: "+err.Error())
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return fail(dec.InputOffset(), "must hold one JSON object and nothing after it")
	}
	return nil
}

// cell is a JSON value read as a column's text: a string, a number as
// written, true or false, null as empty, an array of those joined by "|".
type cell string

func (c *cell) UnmarshalJSON(b []byte) error {
	var v any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return err
	}
	scalar := func(v any) (string, bool) {
		switch x := v.(type) {
		case nil:
			return "", true
		case string:
			return x, true
		case json.Number:
			return x.String(), true
		case bool:
			return strconv.FormatBool(x), true
		}
		return "", false
	}
	if s, ok := scalar(v); ok {
		*c = cell(s)
		return nil
	}
	if arr, ok := v.([]any); ok {
		parts := make([]string, 0, len(arr))
		for _, x := range arr {
			s, ok := scalar(x)
			if !ok {
				return errors.New("an array of a column must hold strings or numbers")
			}
			parts = append(parts, s)
		}
		*c = cell(strings.Join(parts, "|"))
		return nil
	}
	return errors.New("a column's value must be a string, a number, true, false, null or an array of strings")
}

// lineIndex returns the line (1-based) of a byte offset in data.
func lineIndex(data []byte) func(off int64) int {
	var starts []int64
	for i, b := range data {
		if b == '\n' {
			starts = append(starts, int64(i))
		}
	}
	return func(off int64) int {
		n, _ := slices.BinarySearch(starts, off)
		return n + 1
	}
}

// skipSpace moves past the blanks and the comma before an array's item.
func skipSpace(data []byte, off int64) int64 {
	for off < int64(len(data)) && strings.IndexByte(" \t\r\n,", data[off]) >= 0 {
		off++
	}
	return off
}

// ReadDir reads a region from a directory of fsys: region.json and
// region.xlsx if they are there, and each section's CSV file
// (providers.csv …) that is. Other files are ignored, so that a directory
// may hold notes.
func ReadDir(fsys fs.FS, dir string) (*Source, error) {
	s := NewSource()
	found := false
	for _, whole := range []struct {
		name string
		read func(string, io.Reader) error
	}{{"region.json", s.ReadJSON}, {"region.xlsx", s.ReadXLSX}} {
		f, err := fsys.Open(path.Join(dir, whole.name))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		found = true
		err = whole.read(whole.name, f)
		f.Close()
		if err != nil {
			return nil, err
		}
	}
	for _, sec := range SectionNames {
		name := sec + ".csv"
		f, err := fsys.Open(path.Join(dir, name))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		found = true
		err = s.ReadCSV(sec, name, f)
		f.Close()
		if err != nil {
			return nil, err
		}
	}
	if !found {
		return nil, fmt.Errorf("%s: no region.json, no region.xlsx and no section's CSV file (%s.csv …)", dir, SectionNames[0])
	}
	return s, nil
}
