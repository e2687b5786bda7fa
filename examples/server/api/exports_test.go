package api_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/examples/server/demo"
	"github.com/edufund/edufund/examples/server/export"
	"github.com/edufund/edufund/funding"
)

// table is an export read back: its header and rows, as strings.
type table struct {
	header []string
	rows   [][]string
}

// col is the cells of the column headed h.
func (tb table) col(t *testing.T, h string) []string {
	t.Helper()
	i := slices.Index(tb.header, h)
	if i < 0 {
		t.Fatalf("no column %q in %q", h, tb.header)
	}
	out := make([]string, len(tb.rows))
	for j, r := range tb.rows {
		if i < len(r) {
			out[j] = r[i]
		}
	}
	return out
}

// exportCSV fetches an export as CSV and reads it as Excel would in
// Russia: the BOM, then fields separated by ';'.
func (e *env) exportCSV(t *testing.T, path, token string) table {
	t.Helper()
	r := e.must(http.StatusOK, "GET", path, token, "", nil)
	if ct := r.header.Get("Content-Type"); ct != "text/csv; charset=utf-8" {
		t.Fatalf("GET %s: Content-Type %q", path, ct)
	}
	if _, params, err := mime.ParseMediaType(r.header.Get("Content-Disposition")); err != nil || !strings.HasSuffix(params["filename"], ".csv") {
		t.Fatalf("GET %s: Content-Disposition %q", path, r.header.Get("Content-Disposition"))
	}
	if r.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("GET %s: Cache-Control %q, want no-store", path, r.header.Get("Cache-Control"))
	}
	body, ok := bytes.CutPrefix(r.body, []byte("\uFEFF"))
	if !ok {
		t.Fatalf("GET %s: no byte order mark", path)
	}
	cr := csv.NewReader(bytes.NewReader(body))
	cr.Comma = ';'
	recs, err := cr.ReadAll()
	if err != nil || len(recs) == 0 {
		t.Fatalf("GET %s: %v (%d records)", path, err, len(recs))
	}
	return table{header: recs[0], rows: recs[1:]}
}

// exportXLSX fetches an export as XLSX and opens it.
func (e *env) exportXLSX(t *testing.T, path, token string) *excelize.File {
	t.Helper()
	r := e.must(http.StatusOK, "GET", path, token, "", nil)
	if ct := r.header.Get("Content-Type"); ct != export.XLSX.ContentType() {
		t.Fatalf("GET %s: Content-Type %q", path, ct)
	}
	f, err := excelize.OpenReader(bytes.NewReader(r.body))
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// cellOf reads a cell of the sheet: its type, its raw value and its
// value as shown.
func cellOf(t *testing.T, f *excelize.File, cell string) (excelize.CellType, string, string) {
	t.Helper()
	sheet := f.GetSheetName(0)
	typ, err := f.GetCellType(sheet, cell)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := f.GetCellValue(sheet, cell, excelize.Options{RawCellValue: true})
	if err != nil {
		t.Fatal(err)
	}
	shown, err := f.GetCellValue(sheet, cell)
	if err != nil {
		t.Fatal(err)
	}
	return typ, raw, shown
}

// columnOf is the letter of the column headed h in the sheet's first row.
func columnOf(t *testing.T, f *excelize.File, h string) string {
	t.Helper()
	rows, err := f.GetRows(f.GetSheetName(0))
	if err != nil || len(rows) == 0 {
		t.Fatalf("the sheet: %v", err)
	}
	i := slices.Index(rows[0], h)
	if i < 0 {
		t.Fatalf("no column %q in %q", h, rows[0])
	}
	name, _ := excelize.ColumnNumberToName(i + 1)
	return name
}

// kopecks sums amounts written with a decimal comma (CSV) or point.
func kopecks(t *testing.T, amounts []string) int64 {
	t.Helper()
	var sum int64
	for _, a := range amounts {
		m, err := funding.ParseMoney(strings.Replace(a, ",", ".", 1))
		if err != nil {
			t.Fatalf("amount %q: %v", a, err)
		}
		sum += m.Kopecks()
	}
	return sum
}

// completeAdultCourse runs Orlova's course at Цифровая академия to its
// completion with body (the document, or nil) and returns the contract.
func (e *env) completeAdultCourse(t *testing.T, body any) contractJSON {
	t.Helper()
	orlova := e.holder(demo.AdultOrlova)
	digital := e.provider("Цифровая академия")
	cert := e.demo.CertificateID("adult-issued").String()
	var python string
	for _, g := range e.demo.Groups {
		if strings.HasPrefix(g.Name, "Python") {
			python = g.ID.String()
		}
	}
	e.must(http.StatusOK, "POST", "/v1/certificates/"+cert+"/activate", e.federal(), "x-activate", nil)
	var k contractJSON
	e.must(http.StatusCreated, "POST", "/v1/applications", orlova, "x-apply", map[string]any{"certificate_id": cert, "group_id": python}).json(t, &k)
	e.must(http.StatusOK, "POST", "/v1/contracts/"+k.ID+"/confirm", digital, "x-confirm", nil)
	e.must(http.StatusOK, "POST", "/v1/contracts/"+k.ID+"/accept", orlova, "x-accept", nil)
	e.must(http.StatusOK, "POST", "/v1/contracts/"+k.ID+"/complete", digital, "x-complete", body)
	return k
}

// TestExportInvoiceLines: a month's invoice lines read back from CSV and
// XLSX hold what accounting pays by (the provider's INN, KPP and bank
// details from the demo), each line's certificate number, and amounts
// that add up to the month's invoices, for each caller within its reach.
func TestExportInvoiceLines(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		// The adult course's final line is March's; the children's
		// advances are April's, at its close.
		adult := e.completeAdultCourse(t, nil)
		e.clock.T = time.Date(2026, time.April, 1, 6, 0, 0, 0, time.UTC)
		e.must(http.StatusOK, "POST", "/v1/admin/close", e.regional(), "x-close-04", map[string]string{"month": "2026-04"})
		const path = "/v1/exports/invoice-lines?month=2026-04"

		// The region: the children's scheme's lines, adding up to its invoices.
		tb := e.exportCSV(t, path, e.regional())
		want := []string{"Поставщик", "ИНН", "КПП", "Банк", "БИК", "Расчётный счёт", "Корреспондентский счёт", "Муниципалитет",
			"Вид сертификата", "Месяц", "Вид счёта", "Договор (идентификатор)", "Номер сертификата", "Сумма, руб."}
		if !slices.Equal(tb.header, want) {
			t.Fatalf("header %q, want %q", tb.header, want)
		}
		if len(tb.rows) == 0 {
			t.Fatal("no lines for April")
		}
		var invoices struct{ Items []invoiceJSON }
		e.must(http.StatusOK, "GET", "/v1/invoices?month=2026-04", e.regional(), "", nil).json(t, &invoices)
		var inv []string
		for _, i := range invoices.Items {
			inv = append(inv, i.Amount)
		}
		if got, want := kopecks(t, tb.col(t, "Сумма, руб.")), kopecks(t, inv); got != want {
			t.Errorf("the lines add up to %d kopecks, the invoices to %d", got, want)
		}
		for i, s := range tb.col(t, "Вид сертификата") {
			if s != "дополнительное образование детей" || tb.col(t, "Месяц")[i] != "04.2026" {
				t.Errorf("row %d: %q", i, tb.rows[i])
			}
		}
		// The demo's football: Спортклуб «Заречье»'s details and Misha's certificate.
		var misha struct{ Certificate struct{ Number string } }
		e.must(http.StatusOK, "GET", "/v1/certificates/"+e.demo.CertificateID("child-active-funded").String(), e.regional(), "", nil).json(t, &misha)
		i := slices.Index(tb.col(t, "Договор (идентификатор)"), e.demo.Contract.String())
		if i < 0 {
			t.Fatalf("no line of the football contract %s", e.demo.Contract)
		}
		row := tb.rows[i]
		got := []string{row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[10], row[12]}
		wantRow := []string{"Спортклуб «Заречье»", "5401000003", "544501001", "АО «Заречный сельский банк»", "045004998",
			"40703810000000000303", "30101810800000000998", "аванс", misha.Certificate.Number}
		if !slices.Equal(got, wantRow) {
			t.Errorf("the football's line %q, want %q", got, wantRow)
		}

		// A provider: its own lines only; another provider's not found.
		sport := e.provider("Спортклуб «Заречье»")
		for _, p := range e.exportCSV(t, path, sport).col(t, "Поставщик") {
			if p != "Спортклуб «Заречье»" {
				t.Errorf("the club sees a line of %q", p)
			}
		}
		if p := e.must(http.StatusNotFound, "GET", path+"&provider_id="+e.demo.ProviderID("Робоцентр").String(), sport, "", nil).problem(t); p.Code != "not_found" {
			t.Errorf("another provider's lines: %+v", p)
		}
		// A municipality: its own.
		for _, m := range e.exportCSV(t, path, e.municipality(demo.MunRural)).col(t, "Муниципалитет") {
			if m != demo.MunRural {
				t.Errorf("zarechye sees a line of %q", m)
			}
		}

		// The federal operator, as XLSX: the adult course's final line,
		// its amount a number, the academy's details (no KPP: an
		// individual entrepreneur).
		f := e.exportXLSX(t, "/v1/exports/invoice-lines?month=2026-03&format=xlsx", e.federal())
		rows, err := f.GetRows(f.GetSheetName(0))
		if err != nil || len(rows) != 2 {
			t.Fatalf("the federal operator's lines: %v %q", err, rows)
		}
		amount := columnOf(t, f, "Сумма, руб.") + "2"
		typ, raw, _ := cellOf(t, f, amount)
		if typ != excelize.CellTypeUnset && typ != excelize.CellTypeNumber {
			t.Errorf("the amount's cell is of type %v", typ)
		}
		if v, err := strconv.ParseFloat(raw, 64); err != nil || fmt.Sprintf("%.2f", v) != adult.Price.Cert {
			t.Errorf("the amount %q, want the certificate's part %s", raw, adult.Price.Cert)
		}
		line := rows[1]
		if line[0] != "Цифровая академия" || line[1] != "770100000004" || line[2] != "" || line[4] != "044525999" ||
			line[8] != "цифровые навыки взрослых" || line[10] != "окончательный" || line[11] != adult.ID {
			t.Errorf("the adult course's line %q", line)
		}
	})
}

// TestExportRegisters: the registers of contracts and certificates hold
// what the lists show the caller, every row once; the certificates'
// dates are dates in XLSX; the source pages the store, a page of two
// giving what a page of two hundred does.
func TestExportRegisters(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		novograd := e.municipality(demo.MunCity)
		var contracts struct{ Items []contractJSON }
		e.must(http.StatusOK, "GET", "/v1/contracts?limit=200", novograd, "", nil).json(t, &contracts)
		tb := e.exportCSV(t, "/v1/exports/contracts", novograd)
		var ids []string
		for _, k := range contracts.Items {
			ids = append(ids, k.ID)
		}
		if got := tb.col(t, "Договор (идентификатор)"); !slices.Equal(got, ids) {
			t.Errorf("the register's contracts %q, the list's %q", got, ids)
		}
		for i, m := range tb.col(t, "Муниципалитет") {
			if m != demo.MunCity {
				t.Errorf("row %d of novograd's register: %q", i, tb.rows[i])
			}
		}
		if len(ids) == 0 {
			t.Fatal("novograd has no contracts")
		}

		var certs struct {
			Items []struct {
				Number string `json:"number"`
			}
		}
		e.must(http.StatusOK, "GET", "/v1/certificates?limit=200", e.regional(), "", nil).json(t, &certs)
		f := e.exportXLSX(t, "/v1/exports/certificates?format=xlsx", e.regional())
		rows, err := f.GetRows(f.GetSheetName(0))
		if err != nil {
			t.Fatal(err)
		}
		var numbers, want []string
		for _, r := range rows[1:] {
			numbers = append(numbers, r[0])
		}
		for _, c := range certs.Items {
			want = append(want, c.Number)
		}
		if !slices.Equal(numbers, want) || len(want) < 3 {
			t.Errorf("the register's certificates %q, the list's %q", numbers, want)
		}
		birth := columnOf(t, f, "Дата рождения") + "2"
		typ, raw, shown := cellOf(t, f, birth)
		serial, err := strconv.ParseFloat(raw, 64)
		if typ != excelize.CellTypeUnset && typ != excelize.CellTypeNumber || err != nil {
			t.Errorf("a birth date's cell: type %v, value %q", typ, raw)
		}
		if at, err := excelize.ExcelDateToTime(serial, false); err != nil || at.Format("02.01.2006") != shown {
			t.Errorf("a birth date %q shown as %q", raw, shown)
		}

		// Pages of two from the store: the same rows as pages of two hundred.
		read := func(limit int) []any {
			var out []any
			for r, err := range export.Certificates(context.Background(), e.svc, enrollment.AsRegional("t"), enrollment.CertificateFilter{Limit: limit}) {
				if err != nil {
					t.Fatal(err)
				}
				out = append(out, r.Value("number"))
			}
			return out
		}
		if small, big := read(2), read(enrollment.MaxListLimit); !slices.Equal(small, big) || len(big) != len(want) {
			t.Errorf("pages of 2: %v; of 200: %v", small, big)
		}
		// A filter outside the caller's reach is a table with no rows.
		if tb := e.exportCSV(t, "/v1/exports/certificates?municipality="+demo.MunRural, novograd); len(tb.rows) != 0 {
			t.Errorf("novograd exports zarechye's certificates: %q", tb.rows)
		}
	})
}

// TestExportCompletions: the completion's document reaches the registry's
// table (template 001) with the learner's name split, the program's hours
// a number and the document's date a date; a provider sees its own; bad
// documents are refused, naming the field, and nothing is completed.
func TestExportCompletions(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		digital := e.provider("Цифровая академия")
		// Refused documents first: the contract stays open.
		var k contractJSON
		{
			orlova := e.holder(demo.AdultOrlova)
			cert := e.demo.CertificateID("adult-issued").String()
			var python string
			for _, g := range e.demo.Groups {
				if strings.HasPrefix(g.Name, "Python") {
					python = g.ID.String()
				}
			}
			e.must(http.StatusOK, "POST", "/v1/certificates/"+cert+"/activate", e.federal(), "c-activate", nil)
			e.must(http.StatusCreated, "POST", "/v1/applications", orlova, "c-apply", map[string]any{"certificate_id": cert, "group_id": python}).json(t, &k)
			e.must(http.StatusOK, "POST", "/v1/contracts/"+k.ID+"/confirm", digital, "c-confirm", nil)
			e.must(http.StatusOK, "POST", "/v1/contracts/"+k.ID+"/accept", orlova, "c-accept", nil)
		}
		for i, tc := range []struct {
			body  map[string]any
			field string
		}{
			{map[string]any{"document_number": "ПК 0000001"}, "document_date"},
			{map[string]any{"document_date": "2026-03-10"}, "document_number"},
			{map[string]any{"document_number": "ПК 0000001", "document_date": "2026-03-11"}, "document_date"},
			{map[string]any{"document_number": "ПК 0000001", "document_date": "2025-03-10"}, "document_date"},
			{map[string]any{"document_number": "ПК 0000001", "document_date": "10.03.2026"}, "document_date"},
		} {
			date, _ := tc.body["document_date"].(string)
			e.validate = !strings.Contains(date, ".") // the document refuses it itself
			p := e.must(http.StatusBadRequest, "POST", "/v1/contracts/"+k.ID+"/complete", digital, fmt.Sprintf("c-bad-%d", i), tc.body).problem(t)
			e.validate = true
			if p.Code != "invalid" || p.Field != tc.field {
				t.Errorf("document %v: %+v, want invalid %s", tc.body, p, tc.field)
			}
		}
		var still contractJSON
		e.must(http.StatusOK, "GET", "/v1/contracts/"+k.ID, digital, "", nil).json(t, &still)
		if still.Status != "active" {
			t.Fatalf("after refused documents the contract is %s", still.Status)
		}
		e.must(http.StatusOK, "POST", "/v1/contracts/"+k.ID+"/complete", digital, "c-complete",
			map[string]any{"document_number": "ПК 0000001", "document_date": "2026-03-10"})

		tb := e.exportCSV(t, "/v1/exports/completions?from=2026-03-01&to=2026-03-31", digital)
		want := []string{"Фамилия", "Имя", "Отчество", "Дата рождения", "СНИЛС", "Наименование программы", "Объём, ч",
			"Дата начала обучения", "Дата окончания обучения", "Номер документа", "Дата выдачи документа"}
		if !slices.Equal(tb.header, want) {
			t.Fatalf("header %q, want %q", tb.header, want)
		}
		var cab struct {
			Certificate struct {
				Holder struct {
					BirthDate string `json:"birth_date"`
				}
			}
		}
		e.must(http.StatusOK, "GET", "/v1/certificates/"+e.demo.CertificateID("adult-issued").String(), e.federal(), "", nil).json(t, &cab)
		birth, _ := funding.ParseDate(cab.Certificate.Holder.BirthDate)
		start, _ := funding.ParseDate(k.Start)
		end, _ := funding.ParseDate(k.End)
		ru := func(d funding.Date) string { return d.Time().Format("02.01.2006") }
		wantRows := [][]string{{"Орлова", "Наталья", "Викторовна", ru(birth), "", "Python для анализа данных", "72",
			ru(start), ru(end), "ПК 0000001", "10.03.2026"}}
		if !slices.EqualFunc(tb.rows, wantRows, slices.Equal) {
			t.Errorf("rows %q, want %q", tb.rows, wantRows)
		}
		// Outside the dates, or another provider's: no rows.
		if tb := e.exportCSV(t, "/v1/exports/completions?to=2026-03-09", digital); len(tb.rows) != 0 {
			t.Errorf("completions before 10 March: %q", tb.rows)
		}
		if tb := e.exportCSV(t, "/v1/exports/completions", e.provider("Робоцентр")); len(tb.rows) != 0 {
			t.Errorf("Робоцентр sees the academy's completions: %q", tb.rows)
		}
		e.must(http.StatusNotFound, "GET", "/v1/exports/completions?provider_id="+e.demo.ProviderID("Цифровая академия").String(), e.provider("Робоцентр"), "", nil)
		e.must(http.StatusBadRequest, "GET", "/v1/exports/completions?from=2026-03-10&to=2026-03-01", digital, "", nil)

		// The federal operator's XLSX: hours a number, the document's date a date.
		f := e.exportXLSX(t, "/v1/exports/completions?format=xlsx", e.federal())
		typ, raw, _ := cellOf(t, f, columnOf(t, f, "Объём, ч")+"2")
		if (typ != excelize.CellTypeUnset && typ != excelize.CellTypeNumber) || raw != "72" {
			t.Errorf("the hours: type %v, %q", typ, raw)
		}
		typ, raw, shown := cellOf(t, f, columnOf(t, f, "Дата выдачи документа")+"2")
		if (typ != excelize.CellTypeUnset && typ != excelize.CellTypeNumber) || raw != "46091" || shown != "10.03.2026" {
			t.Errorf("the document's date: type %v, %q shown %q", typ, raw, shown)
		}
	})
}

// TestExportBadInput: a bad parameter is a problem naming it, before any
// file starts.
func TestExportBadInput(t *testing.T) {
	e := newEnv(t, storeKinds()[0])
	e.validate = false // the document refuses these requests itself
	for path, field := range map[string]string{
		"/v1/exports/invoice-lines":                           "month",
		"/v1/exports/invoice-lines?month=2026-13":             "month",
		"/v1/exports/invoice-lines?month=2026-03&scheme=pfdo": "scheme",
		"/v1/exports/certificates?format=pdf":                 "format",
		"/v1/exports/certificates?status=lost":                "status",
		"/v1/exports/contracts?colour=red":                    "colour",
		"/v1/exports/contracts?status=requested,nope":         "status",
		"/v1/exports/completions?from=yesterday":              "from",
		"/v1/exports/completions?format=xls":                  "format",
	} {
		p := e.must(http.StatusBadRequest, "GET", path, e.federal(), "", nil).problem(t)
		if p.Code != "invalid" || p.Field != field {
			t.Errorf("GET %s: %+v, want invalid %s", path, p, field)
		}
	}
}
