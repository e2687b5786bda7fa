package export_test

import (
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"iter"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/xuri/excelize/v2"

	"github.com/edufund/edufund/examples/server/export"
	"github.com/edufund/edufund/funding"
)

// row is a record of a test table.
type row map[string]any

func (r row) Value(key string) any { return r[key] }

// testTemplate is a table of every kind, for a report of those keys.
var (
	testReport = export.Report{Name: "test", Keys: map[string]export.Kind{
		"name": export.Text, "count": export.Number, "amount": export.Money, "on": export.Date, "sum": export.Money,
	}}
	testTemplate = export.Template{Report: "test", Version: "1", Sheet: "Проверка", Fields: []export.Field{
		{Key: "name", Header: "Наименование", Kind: export.Text},
		{Key: "count", Header: "Количество", Kind: export.Number},
		{Key: "amount", Header: "Сумма, руб.", Kind: export.Money},
		{Key: "on", Header: "Дата", Kind: export.Date},
		{Key: "sum", Header: "Сумма текстом", Kind: export.Text},
	}}
	testRows = []row{
		{"name": "Робоцентр; филиал «Север»", "count": 3, "amount": funding.MustMoney("1234.56"), "sum": funding.MustMoney("1234.56"), "on": funding.MustDate(2026, time.March, 1)},
		{"name": `Школа "Альфа"` + "\nвторая строка", "count": int64(-2), "amount": funding.MustMoney("-0.05"), "sum": funding.MustMoney("-0.05"), "on": funding.MustDate(1999, time.December, 31)},
		{"name": "=HYPERLINK(\"http://evil\")", "count": 0, "amount": funding.MustMoney("0.00"), "sum": funding.MustMoney("0.00")},
		{"name": "", "count": nil, "amount": nil, "on": funding.Date{}},
	}
)

func rowsOf(rs []row) iter.Seq2[export.Record, error] {
	return func(yield func(export.Record, error) bool) {
		for _, r := range rs {
			if !yield(r, nil) {
				return
			}
		}
	}
}

// readCSV reads a CSV as Excel would in Russia: a BOM, ';', CRLF.
func readCSV(t *testing.T, b []byte) [][]string {
	t.Helper()
	require.True(t, bytes.HasPrefix(b, []byte("\uFEFF")), "no byte order mark")
	b = b[len("\uFEFF"):]
	r := csv.NewReader(bytes.NewReader(b))
	r.Comma = ';'
	recs, err := r.ReadAll()
	require.NoError(t, err)
	return recs
}

// TestCSV: the file reads back with a ';' reader after the BOM, each
// record on a CRLF line; money with a decimal comma, dates as dd.mm.yyyy,
// a text that Excel would run as a formula kept a text.
func TestCSV(t *testing.T) {
	require.NoError(t, testReport.Check(testTemplate))
	var out bytes.Buffer
	n, err := export.Write(&out, export.CSV, testTemplate, rowsOf(testRows), nil)
	require.NoError(t, err)
	require.Equal(t, len(testRows), n)
	require.Equal(t, [][]string{
		{"Наименование", "Количество", "Сумма, руб.", "Дата", "Сумма текстом"},
		{"Робоцентр; филиал «Север»", "3", "1234,56", "01.03.2026", "1234,56"},
		{"Школа \"Альфа\"\nвторая строка", "-2", "-0,05", "31.12.1999", "-0,05"},
		{"'=HYPERLINK(\"http://evil\")", "0", "0,00", "", "0,00"},
		{"", "", "", "", ""},
	}, readCSV(t, out.Bytes()))
	// Every line ends in CRLF, a line break inside a quoted field too.
	require.True(t, strings.HasSuffix(out.String(), "\r\n"))
	require.Equal(t, strings.Count(out.String(), "\n"), strings.Count(out.String(), "\r\n"), "a bare LF")
}

// TestXLSX: the file opens in excelize; numbers and amounts are number
// cells with a number format, dates are dates (a serial number shown
// through dd.mm.yyyy), texts are texts; the header is the template's.
func TestXLSX(t *testing.T) {
	var out bytes.Buffer
	n, err := export.Write(&out, export.XLSX, testTemplate, rowsOf(testRows), nil)
	require.NoError(t, err)
	require.Equal(t, len(testRows), n)
	f, err := excelize.OpenReader(&out)
	require.NoError(t, err)
	defer f.Close()
	require.Equal(t, []string{"Проверка"}, f.GetSheetList())
	const sheet = "Проверка"
	got, err := f.GetRows(sheet)
	require.NoError(t, err)
	require.Equal(t, [][]string{
		{"Наименование", "Количество", "Сумма, руб.", "Дата", "Сумма текстом"},
		{"Робоцентр; филиал «Север»", "3", "1,234.56", "01.03.2026", "1234,56"},
		{"Школа \"Альфа\"\nвторая строка", "-2", "-0.05", "31.12.1999", "-0,05"},
		{"=HYPERLINK(\"http://evil\")", "0", "0.00", "", "0,00"},
	}, got, "the cells as formatted (excelize formats in the en-US way)")

	raw := func(cell string) string {
		t.Helper()
		v, err := f.GetCellValue(sheet, cell, excelize.Options{RawCellValue: true})
		require.NoError(t, err)
		return v
	}
	typ := func(cell string) excelize.CellType {
		t.Helper()
		ct, err := f.GetCellType(sheet, cell)
		require.NoError(t, err)
		return ct
	}
	numFmt := func(cell string) (int, string) {
		t.Helper()
		id, err := f.GetCellStyle(sheet, cell)
		require.NoError(t, err)
		st, err := f.GetStyle(id)
		require.NoError(t, err)
		custom := ""
		if st.CustomNumFmt != nil {
			custom = *st.CustomNumFmt
		}
		return st.NumFmt, custom
	}
	isNumber := func(cell string) float64 {
		t.Helper()
		// A number cell has no type or type n; its value parses as a number.
		require.Contains(t, []excelize.CellType{excelize.CellTypeUnset, excelize.CellTypeNumber}, typ(cell), cell)
		v, err := strconv.ParseFloat(raw(cell), 64)
		require.NoError(t, err, cell)
		return v
	}
	// Numbers.
	require.Equal(t, 3.0, isNumber("B2"))
	require.Equal(t, -2.0, isNumber("B3"))
	fmtID, _ := numFmt("B2")
	require.Equal(t, 1, fmtID, "a whole number's format is 0")
	// Money: a number, exactly the amount, with two decimals shown.
	require.Equal(t, 1234.56, isNumber("C2"))
	require.Equal(t, "1234.56", raw("C2"))
	require.Equal(t, -0.05, isNumber("C3"))
	fmtID, _ = numFmt("C2")
	require.Equal(t, 4, fmtID, "money's format is #,##0.00")
	// Dates: a serial number (1 March 2026 is day 46082) with a date format.
	require.Equal(t, 46082.0, isNumber("D2"))
	_, custom := numFmt("D2")
	require.Equal(t, "dd.mm.yyyy", custom)
	at, err := excelize.ExcelDateToTime(isNumber("D3"), false)
	require.NoError(t, err)
	require.Equal(t, time.Date(1999, time.December, 31, 0, 0, 0, 0, time.UTC), at)
	// Texts are strings, a formula's text included; money in a text column is text.
	for _, cell := range []string{"A2", "A4", "E2"} {
		require.Contains(t, []excelize.CellType{excelize.CellTypeInlineString, excelize.CellTypeSharedString}, typ(cell), cell)
	}
	formula, err := f.GetCellFormula(sheet, "A4")
	require.NoError(t, err)
	require.Empty(t, formula, "a text is never a formula")
	// The empty row is there, empty: the next row is 6.
	for _, cell := range []string{"A5", "B5", "C5", "D5"} {
		require.Empty(t, raw(cell), cell)
	}
	// The header is bold and frozen.
	id, err := f.GetCellStyle(sheet, "A1")
	require.NoError(t, err)
	st, err := f.GetStyle(id)
	require.NoError(t, err)
	require.True(t, st.Font != nil && st.Font.Bold, "the header is bold")
	panes, err := f.GetPanes(sheet)
	require.NoError(t, err)
	require.True(t, panes.Freeze, "the header is frozen")
}

// TestWriteError: a source's error stops the file and is returned; the
// rows before it were counted.
func TestWriteError(t *testing.T) {
	boom := errors.New("boom")
	rows := func(yield func(export.Record, error) bool) {
		if yield(testRows[0], nil) {
			yield(nil, boom)
		}
	}
	for _, f := range []export.Format{export.CSV, export.XLSX} {
		n, err := export.Write(io.Discard, f, testTemplate, rows, nil)
		require.ErrorIs(t, err, boom, f)
		require.Equal(t, 1, n, f)
	}
}

// TestParseFormat: csv (the default) and xlsx; anything else names the field.
func TestParseFormat(t *testing.T) {
	for in, want := range map[string]export.Format{"": export.CSV, "csv": export.CSV, "xlsx": export.XLSX} {
		got, err := export.ParseFormat(in)
		require.NoError(t, err)
		require.Equal(t, want, got)
	}
	for _, bad := range []string{"xls", "CSV", "pdf"} {
		_, err := export.ParseFormat(bad)
		var ve *funding.ValidationError
		require.ErrorAs(t, err, &ve)
		require.Equal(t, "format", ve.Field)
	}
}

// TestProgress: called every ProgressEvery rows and at the end.
func TestProgress(t *testing.T) {
	const n = 2*export.ProgressEvery + 7
	rows := func(yield func(export.Record, error) bool) {
		for i := 0; i < n; i++ {
			if !yield(row{"name": "x", "count": i}, nil) {
				return
			}
		}
	}
	var calls []int
	_, err := export.Write(io.Discard, export.CSV, testTemplate, rows, func(k int) { calls = append(calls, k) })
	require.NoError(t, err)
	require.Equal(t, []int{export.ProgressEvery, 2 * export.ProgressEvery, n}, calls)
}

// TestPeek: the first row's error before a file starts; the rows again,
// the first included, otherwise.
func TestPeek(t *testing.T) {
	boom := errors.New("refused")
	_, err := export.Peek(func(yield func(export.Record, error) bool) { yield(nil, boom) })
	require.ErrorIs(t, err, boom)

	rows, err := export.Peek(rowsOf(testRows))
	require.NoError(t, err)
	var names []any
	for r, err := range rows {
		require.NoError(t, err)
		names = append(names, r.Value("name"))
	}
	require.Len(t, names, len(testRows))
	require.Equal(t, testRows[0]["name"], names[0])

	empty, err := export.Peek(rowsOf(nil))
	require.NoError(t, err)
	for range empty {
		t.Fatal("a row of an empty table")
	}
}
