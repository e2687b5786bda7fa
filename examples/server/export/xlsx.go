package export

import (
	"archive/zip"
	"fmt"
	"io"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"

	"github.com/edufund/edufund/funding"
)

// MaxXLSXRows is how many rows a sheet holds below its header (Excel's
// 1 048 576 rows in all); a longer table is written as CSV.
const MaxXLSXRows = excelize.TotalRows - 1

// Number formats: Excel's built-in "0" and "#,##0.00" (shown with the
// reader's locale, "1 234,56" in Russia) and a date as Russians write it.
const (
	numFmtWhole = 1
	numFmtMoney = 4
	dateFormat  = "dd.mm.yyyy"
)

// xlsxWriter writes one sheet through excelize's StreamWriter: rows are
// spooled to a temporary file past 16 MiB, and Close writes the archive
// straight to the output (SetZipWriter) rather than building it in memory
// first as excelize's Write would.
type xlsxWriter struct {
	out    io.Writer
	f      *excelize.File
	sw     *excelize.StreamWriter
	fields []Field
	styles []int // each field's cell style
	row    int   // the last row written, 1 the header
	cells  []any
	done   bool
}

func newXLSX(out io.Writer, sheet string, fields []Field) (w *xlsxWriter, err error) {
	f := excelize.NewFile()
	defer func() {
		if err != nil {
			_ = f.Close()
		}
	}()
	if err := f.SetSheetName(f.GetSheetName(0), sheet); err != nil {
		return nil, fmt.Errorf("export: sheet %q: %w", sheet, err)
	}
	style := func(s *excelize.Style) (int, error) { return f.NewStyle(s) }
	header, err := style(&excelize.Style{Font: &excelize.Font{Bold: true}, Alignment: &excelize.Alignment{WrapText: true, Vertical: "top"}})
	if err != nil {
		return nil, err
	}
	whole, err := style(&excelize.Style{NumFmt: numFmtWhole})
	if err != nil {
		return nil, err
	}
	money, err := style(&excelize.Style{NumFmt: numFmtMoney})
	if err != nil {
		return nil, err
	}
	date, err := style(&excelize.Style{CustomNumFmt: ptr(dateFormat)})
	if err != nil {
		return nil, err
	}
	sw, err := f.NewStreamWriter(sheet)
	if err != nil {
		return nil, err
	}
	w = &xlsxWriter{out: out, f: f, sw: sw, fields: fields, styles: make([]int, len(fields)), cells: make([]any, len(fields)), row: 1}
	head := make([]any, len(fields))
	for i, fd := range fields {
		switch fd.Kind {
		case Number:
			w.styles[i] = whole
		case Money:
			w.styles[i] = money
		case Date:
			w.styles[i] = date
		}
		if err := sw.SetColWidth(i+1, i+1, width(fd)); err != nil {
			return nil, err
		}
		head[i] = excelize.Cell{StyleID: header, Value: fd.Header}
	}
	if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return nil, err
	}
	if err := sw.SetRow("A1", head); err != nil {
		return nil, err
	}
	return w, nil
}

// width is a column's width in characters: its header's, at least what
// its kind usually needs, at most 60.
func width(f Field) float64 {
	n := utf8.RuneCountInString(f.Header) + 2
	switch f.Kind {
	case Date:
		n = max(n, 12)
	case Money:
		n = max(n, 16)
	case Number:
		n = max(n, 8)
	default:
		n = max(n, 20)
	}
	return float64(min(n, 60))
}

func (w *xlsxWriter) Write(r Record) error {
	if w.row > MaxXLSXRows {
		return &funding.ValidationError{Field: "format", Rule: fmt.Sprintf("xlsx holds at most %d rows a sheet: export as csv", MaxXLSXRows)}
	}
	w.row++
	for i, fd := range w.fields {
		w.cells[i] = w.cell(fd, r.Value(fd.Key), w.styles[i])
	}
	ref, err := excelize.CoordinatesToCellName(1, w.row)
	if err != nil {
		return err
	}
	return w.sw.SetRow(ref, w.cells)
}

// cell is v as the cell of a field of kind fd.Kind: a number, an amount
// (roubles, as a number with two decimals), a date (an Excel date with
// the date format) or a text; nil for an empty one.
func (w *xlsxWriter) cell(fd Field, v any, style int) any {
	if fd.Kind == Text {
		if v == nil {
			return nil
		}
		return text(v)
	}
	switch v := v.(type) {
	case nil:
		return nil
	case int, int64:
		return excelize.Cell{StyleID: style, Value: v}
	case funding.Money:
		// A double holds every amount up to 2^53 kopecks exactly enough
		// for its shortest form to be the amount: 1234.56 reads back so.
		return excelize.Cell{StyleID: style, Value: float64(v.Kopecks()) / 100}
	case funding.Date:
		if v.IsZero() {
			return nil
		}
		return excelize.Cell{StyleID: style, Value: v.Time()}
	}
	return text(v)
}

func (w *xlsxWriter) Close() error {
	if w.done {
		return nil
	}
	w.done = true
	defer w.f.Close()
	if err := w.sw.Flush(); err != nil {
		return err
	}
	w.f.SetZipWriter(func(io.Writer) excelize.ZipWriter { return zip.NewWriter(w.out) })
	return w.f.Write(io.Discard)
}

func (w *xlsxWriter) Abort() {
	if !w.done {
		w.done = true
		_ = w.f.Close()
	}
}

func ptr[T any](v T) *T { return &v }
