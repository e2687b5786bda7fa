package export

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/edufund/edufund/funding"
)

// Kind is what a column holds, and so how each encoding writes it.
type Kind string

const (
	Text   Kind = "text"   // a string; any value can be shown as text
	Number Kind = "number" // a whole number
	Money  Kind = "money"  // an amount in roubles and kopecks (funding.Money)
	Date   Kind = "date"   // a calendar date (funding.Date)
)

// Known reports whether k is one of the four kinds.
func (k Kind) Known() bool { return k == Text || k == Number || k == Money || k == Date }

// Field is a column: the key of the records' value it shows, its header
// and its kind.
type Field struct {
	Key    string `json:"key"`
	Header string `json:"header"`
	Kind   Kind   `json:"kind"`
}

// Template is the columns of a report's table under a version: what a
// region replaces to pick, order or rename them.
type Template struct {
	// Report is the report the template is for (Report.Name).
	Report string `json:"report"`
	// Version names the template's version, as the registry or the
	// region numbers it ("001").
	Version string `json:"version"`
	// Sheet is the XLSX sheet's name: at most 31 characters, none of
	// [ ] : * ? / \.
	Sheet  string  `json:"sheet"`
	Fields []Field `json:"fields"`
}

// Bounds of a template.
const (
	MaxFields    = 100
	MaxHeaderLen = 200
	maxSheetLen  = 31 // Excel's
)

// Record is one row of a report: the value under each of the report's
// keys, one of string, int, int64, funding.Money, funding.Date, or nil
// for an empty cell.
type Record interface {
	Value(key string) any
}

// Report is a kind of table: the keys its records hold, each of a kind,
// and the template it is written with by default.
type Report struct {
	Name    string
	Keys    map[string]Kind
	Default Template
}

// Check validates t for report r: the report's name, a version, a sheet
// name Excel accepts, 1 to MaxFields fields, each a key of the report
// (once), a header of one line up to MaxHeaderLen characters, and the
// key's kind or Text. Errors are *funding.ValidationError naming the
// field ("fields[2].key").
func (r Report) Check(t Template) error {
	bad := func(field, rule string, v any) error {
		return &funding.ValidationError{Field: field, Rule: rule, Value: fmt.Sprint(v)}
	}
	if t.Report != r.Name {
		return bad("report", "must be "+r.Name, t.Report)
	}
	if strings.TrimSpace(t.Version) == "" {
		return bad("version", "must not be empty", t.Version)
	}
	if t.Sheet == "" || utf8.RuneCountInString(t.Sheet) > maxSheetLen || strings.ContainsAny(t.Sheet, `[]:*?/\`) ||
		strings.HasPrefix(t.Sheet, "'") || strings.HasSuffix(t.Sheet, "'") {
		return bad("sheet", "must be 1 to 31 characters, none of [ ] : * ? / \\ and no apostrophe first or last", t.Sheet)
	}
	if len(t.Fields) == 0 || len(t.Fields) > MaxFields {
		return bad("fields", fmt.Sprintf("must hold 1 to %d fields", MaxFields), len(t.Fields))
	}
	seen := map[string]int{}
	for i, f := range t.Fields {
		at := fmt.Sprintf("fields[%d]", i)
		kind, ok := r.Keys[f.Key]
		switch {
		case !ok:
			return bad(at+".key", "must be one of "+strings.Join(r.KeyNames(), ", "), f.Key)
		case seen[f.Key] > 0:
			return bad(at+".key", fmt.Sprintf("must not repeat fields[%d]", seen[f.Key]-1), f.Key)
		case !f.Kind.Known():
			return bad(at+".kind", "must be text, number, money or date", f.Kind)
		case f.Kind != kind && f.Kind != Text:
			return bad(at+".kind", fmt.Sprintf("must be %s or text", kind), f.Kind)
		}
		seen[f.Key] = i + 1
		if h, err := funding.Text(at+".header", f.Header, MaxHeaderLen); err != nil {
			return err
		} else if h == "" {
			return bad(at+".header", "must not be empty", f.Header)
		}
	}
	return nil
}

// KeyNames are the report's keys, sorted.
func (r Report) KeyNames() []string {
	out := make([]string, 0, len(r.Keys))
	for k := range r.Keys {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// ParseTemplate reads a template from JSON (unknown members refused) and
// checks it for its report, one of reports.
func ParseTemplate(in io.Reader, reports ...Report) (Template, error) {
	dec := json.NewDecoder(io.LimitReader(in, 1<<20))
	dec.DisallowUnknownFields()
	var t Template
	if err := dec.Decode(&t); err != nil {
		return Template{}, fmt.Errorf("export: template: %w", err)
	}
	for _, r := range reports {
		if r.Name == t.Report {
			return t, r.Check(t)
		}
	}
	names := make([]string, len(reports))
	for i, r := range reports {
		names[i] = r.Name
	}
	return Template{}, &funding.ValidationError{Field: "report", Rule: "must be one of " + strings.Join(names, ", "), Value: t.Report}
}

// Format is an encoding of a table.
type Format string

const (
	CSV  Format = "csv"
	XLSX Format = "xlsx"
)

// ParseFormat reads a format's name; "" is CSV.
func ParseFormat(s string) (Format, error) {
	switch Format(s) {
	case "", CSV:
		return CSV, nil
	case XLSX:
		return XLSX, nil
	}
	return "", &funding.ValidationError{Field: "format", Rule: "must be csv or xlsx", Value: s}
}

// ContentType is the format's media type.
func (f Format) ContentType() string {
	if f == XLSX {
		return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	}
	return "text/csv; charset=utf-8"
}
