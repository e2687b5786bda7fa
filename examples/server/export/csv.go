package export

import (
	"encoding/csv"
	"io"
	"strings"
)

// bom is the UTF-8 byte order mark: without it Excel reads a CSV in the
// system's ANSI code page (Windows-1251) and the Cyrillic is garbled.
const bom = "\uFEFF"

// csvWriter writes CSV as Excel opens it in a Russian locale: a BOM, ';'
// between fields (',' is the decimal separator there), CRLF, quotes where
// a field needs them.
type csvWriter struct {
	w      *csv.Writer
	fields []Field
	rec    []string
}

func newCSV(w io.Writer, fields []Field) (*csvWriter, error) {
	if _, err := io.WriteString(w, bom); err != nil {
		return nil, err
	}
	cw := csv.NewWriter(w)
	cw.Comma, cw.UseCRLF = ';', true
	e := &csvWriter{w: cw, fields: fields, rec: make([]string, len(fields))}
	for i, f := range fields {
		e.rec[i] = f.Header
	}
	if err := cw.Write(e.rec); err != nil {
		return nil, err
	}
	return e, nil
}

func (e *csvWriter) Write(r Record) error {
	for i, f := range e.fields {
		v := r.Value(f.Key)
		s := text(v)
		if _, isText := v.(string); isText {
			s = defuse(s)
		}
		e.rec[i] = s
	}
	// csv.Writer buffers (4 KiB) and writes through: memory stays flat.
	return e.w.Write(e.rec)
}

func (e *csvWriter) Close() error {
	e.w.Flush()
	return e.w.Error()
}

func (e *csvWriter) Abort() {}

// defuse keeps a text Excel would run as a formula (its first character
// one of = + - @, or a tab or carriage return before one) a text, with an
// apostrophe before it, as OWASP's advice on CSV injection has it: names
// and programs are typed by people outside the region's staff. The XLSX
// cells are typed strings and need nothing.
func defuse(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
