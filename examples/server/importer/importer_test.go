package importer_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/xuri/excelize/v2"

	"github.com/edufund/edufund/catalog"
	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/examples/server/importer"
	"github.com/edufund/edufund/funding"
	"github.com/edufund/edufund/storage"
	"github.com/edufund/edufund/storage/storagetest"
)

var (
	robo     = uuid.MustParse("0190a5c2-0000-7000-8000-000000000001")
	sport    = uuid.MustParse("0190a5c2-0000-7000-8000-000000000002")
	robotics = uuid.MustParse("0190a5c2-0000-7000-8000-000000000101")
	year2026 = funding.CalendarYear(2026)
	operator = enrollment.AsRegional("operator")
)

// newService is a region of two municipalities on db, on 10 March 2026.
func newService(db *storage.DB) *enrollment.Service {
	cfg := enrollment.DefaultConfig()
	cfg.Children.Municipalities = map[string]bool{"mun-a": true, "mun-b": true}
	return enrollment.NewService(db, &funding.FixedClock{T: time.Date(2026, time.March, 10, 9, 0, 0, 0, time.UTC)}, cfg)
}

func readRegion(t *testing.T) *importer.Source {
	t.Helper()
	src, err := importer.ReadDir(os.DirFS("testdata"), "region")
	require.NoError(t, err)
	return src
}

// written is every row the services write, the events and the
// idempotency records included: what a no-op import must leave as it is.
func written(t *testing.T, db *storage.DB) map[string]int {
	t.Helper()
	out := storagetest.RowCounts(t, db)
	for _, table := range []string{"events", "providers", "agreements", "programs", "modules", "study_groups", "categories", "guardianships", "parameters"} {
		n, err := db.Bun().NewSelect().Table(table).Count(context.Background())
		require.NoError(t, err, table)
		out[table] = int(n)
	}
	return out
}

// TestImportRegion: a region's CSV files import, read back through the
// officials' reads as they were written, and importing them again writes
// nothing.
func TestImportRegion(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		svc := newService(db)
		var pages []importer.Progress
		res, err := importer.Import(ctx, svc, readRegion(t), importer.Options{By: enrollment.AsSystem("import"), PageSize: 2,
			Progress: func(p importer.Progress) { pages = append(pages, p) }})
		require.NoError(t, err)
		want := map[string]importer.Counts{
			importer.Categories: {Created: 2}, importer.Providers: {Created: 2}, importer.Programs: {Created: 2},
			importer.Modules: {Created: 2}, importer.Groups: {Created: 2}, importer.Budgets: {Created: 2},
			importer.DirectionLimits: {Created: 2}, importer.Certificates: {Created: 4}, importer.Guardians: {Created: 1},
		}
		for _, s := range res.Sections {
			assert.Equal(t, want[s.Section], s.Counts, s.Section)
		}
		assert.Equal(t, 19, res.Written)
		assert.Contains(t, pages, importer.Progress{Stage: "write", Section: importer.Certificates, Done: 2, Total: 4})

		// The categories, with the certificates they fund and queue.
		cats, err := svc.Categories(ctx, operator)
		require.NoError(t, err)
		require.Len(t, cats, 2)
		assert.Equal(t, certificate.Category{Code: "city", Nominal: funding.MustMoney("30000.00"), MaxCount: 2}, cats[0].Category)
		assert.Equal(t, int64(2), cats[0].Funded)
		assert.Equal(t, 1, cats[0].Queued, "the third funded certificate of city waits for a slot")

		// The providers, in full for the operator, with their agreements.
		card, err := svc.Provider(ctx, operator, robo)
		require.NoError(t, err)
		assert.True(t, card.Full)
		assert.Equal(t, "5401000001", card.Provider.INN)
		assert.Equal(t, "540101001", card.Provider.KPP)
		assert.Equal(t, "045004641", card.Provider.Bank.BIC)
		assert.Equal(t, []catalog.Agreement{{Municipality: "mun-a", Period: year2026}, {Municipality: "mun-b", Period: year2026}}, card.Provider.Agreements)
		list, err := svc.Providers(ctx, operator, enrollment.ProviderFilter{Limit: 1})
		require.NoError(t, err)
		require.Len(t, list.Providers, 1)
		assert.Equal(t, sport, list.Providers[0].Provider.ID, "newest first")
		assert.Equal(t, sport, list.Next)

		// The catalogue, with the seats of each group.
		progs, err := svc.ProviderPrograms(ctx, operator, enrollment.ProgramFilter{Provider: robo})
		require.NoError(t, err)
		require.Len(t, progs.Programs, 1)
		p := progs.Programs[0]
		assert.Equal(t, robotics, p.Program.ID)
		assert.Equal(t, "Первая строка\nвторая строка", p.Program.Description)
		assert.Equal(t, []string{"роботы", "конструирование"}, p.Program.Tags)
		assert.Equal(t, 30, p.Program.EnrolmentLimit)
		require.Len(t, p.Modules, 1)
		assert.True(t, funding.MustMoney("10000.00").Equal(p.Modules[0].Module.NormativePrice))
		require.Len(t, p.Modules[0].Groups, 1)
		assert.Equal(t, 12, p.Modules[0].Groups[0].Free)

		// The limits.
		budgets, err := svc.Budgets(ctx, operator, enrollment.BudgetFilter{Municipality: "mun-a"})
		require.NoError(t, err)
		require.Len(t, budgets.Budgets, 1)
		assert.Equal(t, year2026, budgets.Budgets[0].Period)
		assert.True(t, funding.MustMoney("5000000.00").Equal(budgets.Budgets[0].Limit))
		dirs, err := svc.DirectionLimits(ctx, operator, enrollment.DirectionLimitFilter{})
		require.NoError(t, err)
		assert.Equal(t, []enrollment.DirectionLimitUse{
			{Municipality: "mun-a", Direction: catalog.TechnicalRobotics, Period: year2026, Limit: 100},
			{Municipality: "mun-b", Direction: catalog.Sport, Period: year2026},
		}, dirs.Limits)

		// The certificates with their numbers, statuses and guardians.
		certs, err := svc.Certificates(ctx, operator, enrollment.CertificateFilter{})
		require.NoError(t, err)
		byNumber := map[string]certificate.Certificate{}
		for _, c := range certs.Certificates {
			byNumber[string(c.Number)] = c
		}
		require.Len(t, byNumber, 4)
		assert.Equal(t, certificate.Active, byNumber["0000000001"].Status)
		assert.Equal(t, certificate.Funded, byNumber["0000000001"].Kind)
		assert.Equal(t, funding.MustDate(2025, time.September, 1), byNumber["0000000001"].IssuedOn)
		assert.Equal(t, certificate.Suspended, byNumber["0000000003"].Status)
		assert.Equal(t, certificate.Accounting, byNumber["0000000003"].Kind, "queued: city funds two")
		assert.Equal(t, certificate.Issued, byNumber["0000000004"].Status)
		assert.Equal(t, "mun-b", byNumber["0000000004"].Municipality)
		for _, link := range [][2]string{{"parent-1", "child-1"}, {"parent-2b", "child-2"}} {
			ok, err := svc.GuardianLinked(ctx, operator, link[0], link[1])
			require.NoError(t, err)
			assert.True(t, ok, link)
		}
		mine, err := svc.Certificates(ctx, enrollment.AsHolder("parent-2b"), enrollment.CertificateFilter{})
		require.NoError(t, err)
		require.Len(t, mine.Certificates, 1, "a linked guardian lists the child's certificate")
		storagetest.CheckInvariants(t, db)

		// The same files again: every row holds, nothing is written.
		before := written(t, db)
		again, err := importer.Import(ctx, svc, readRegion(t), importer.Options{By: operator})
		require.NoError(t, err)
		assert.Zero(t, again.Changed())
		assert.Zero(t, again.Written)
		assert.Equal(t, before, written(t, db))

		// A changed row is written, and only it.
		src := importer.NewSource()
		require.NoError(t, src.ReadCSV(importer.Budgets, "budgets.csv", strings.NewReader("municipality,period_start,limit\nmun-a,2026-01-01,6000000.00\nmun-b,2026-01-01,1000000.00\n")))
		res, err = importer.Import(ctx, svc, src, importer.Options{By: operator})
		require.NoError(t, err)
		assert.Equal(t, importer.Counts{Updated: 1, Unchanged: 1}, res.Sections[5].Counts)
		budgets, err = svc.Budgets(ctx, operator, enrollment.BudgetFilter{Municipality: "mun-a"})
		require.NoError(t, err)
		assert.True(t, funding.MustMoney("6000000.00").Equal(budgets.Budgets[0].Limit))
	})
}

// badRegion breaks a rule in one cell of most sections; the line of each
// is in the comment of the row's expected error.
const badRegion = `{
  "categories": [
    {"code": "city", "nominal": "30000.00"},
    {"code": "rural", "nominal": "много"}
  ],
  "providers": [
    {"id": "0190a5c2-0000-7000-8000-000000000001", "name": "Робоцентр", "inn": "5401000001"},
    {"id": "0190a5c2-0000-7000-8000-000000000009", "name": "Без ИНН", "inn": "123"}
  ],
  "agreements": [
    {"provider_id": "0190a5c2-0000-7000-8000-000000000001", "municipality": "mun-a", "period_start": "2026-02-01"},
    {"provider_id": "0190a5c2-0000-7000-8000-00000000dead", "municipality": "mun-a", "period_start": "2026-01-01"}
  ],
  "programs": [
    {"id": "0190a5c2-0000-7000-8000-000000000101", "provider_id": "0190a5c2-0000-7000-8000-000000000001",
     "name": "Кулинария", "scheme": "supplementary", "direction": "cooking", "registry": "general", "max_age": 12}
  ],
  "modules": [
    {"id": "0190a5c2-0000-7000-8000-000000000201", "program_id": "0190a5c2-0000-7000-8000-00000000beef",
     "name": "Основы", "price": "9000.00", "normative_price": "9000.00", "hours": 72}
  ],
  "groups": [
    {"id": "0190a5c2-0000-7000-8000-000000000301", "module_id": "0190a5c2-0000-7000-8000-000000000201",
     "name": "Группа", "start": "2026-09-01", "end": "2026-05-31", "capacity": 10}
  ],
  "budgets": [{"municipality": "mun-x", "period_start": "2026-01-01", "limit": "100.00"}],
  "direction_limits": [{"municipality": "mun-a", "direction": "sport", "period_start": "2026-01-01", "limit": -1}],
  "certificates": [
    {"number": "0000000001", "person_id": "child-old", "full_name": "Старший Ученик", "birth_date": "2005-01-01",
     "holder_municipality": "mun-a", "category": "city", "issued_on": "2020-09-01"},
    {"number": "12", "person_id": "child-2", "full_name": "Петрова Анна", "birth_date": "2016-05-20",
     "holder_municipality": "mun-a", "category": "city", "issued_on": "2025-09-01"},
    {"number": "0000000003", "person_id": "child-3", "full_name": "Сидоров Олег", "birth_date": "2015-01-10",
     "holder_municipality": "mun-a", "category": "sea", "issued_on": "2025-09-01", "colour": "blue"}
  ],
  "guardians": [{"guardian_id": "parent-1", "child_id": "PARENT-1"}]
}
`

// TestImportBadRows: every bad row is reported with its file, line and
// column, and nothing at all is written, not even the good rows.
func TestImportBadRows(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		svc := newService(db)
		src := importer.NewSource()
		require.NoError(t, src.ReadJSON("region.json", strings.NewReader(badRegion)))
		before := written(t, db)
		_, err := importer.Import(ctx, svc, src, importer.Options{By: enrollment.AsSystem("import")})
		var rep *importer.Report
		require.ErrorAs(t, err, &rep)
		assert.True(t, errors.Is(err, funding.ErrInvalid))
		type at struct {
			line  int
			field string
		}
		var got []at
		for _, e := range rep.Errors {
			assert.Equal(t, "region.json", e.File)
			assert.NotEmpty(t, e.Rule, e.Error())
			got = append(got, at{e.Line, e.Field})
		}
		assert.Equal(t, []at{
			{4, "nominal"},       // categories: not an amount
			{8, "inn"},           // providers: not 10 or 12 digits
			{11, "period_start"}, // agreements: not the first day of a period
			{12, "provider_id"},  // agreements: no provider of the file
			{15, "direction"},    // programs: not one of the seven
			{19, "program_id"},   // modules: no such program
			{23, "end"},          // groups: before the start
			{26, "municipality"}, // budgets: not in the scheme
			{27, "limit"},        // direction limits: negative
			{29, ""},             // certificates: 21 years old, not eligible today
			{31, "number"},       // certificates: not ten digits
			{33, "colour"},       // certificates: no such column
			{33, "category"},     // certificates: no such category
			{36, "child_id"},     // guardians: the guardian, written otherwise
		}, got, "%v", err)
		assert.Contains(t, err.Error(), "region.json:8: inn: must be 10 or 12 digits (got \"123\")")
		assert.Equal(t, before, written(t, db), "a bad row writes nothing")
	})
}

// TestImportStateRules: what the store holds decides too. A number of
// another child's certificate, a second certificate of a child, a budget
// below what its contracts use and a group's capacity below its seats
// taken are bad rows; nothing is written.
func TestImportStateRules(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		svc := newService(db)
		_, err := importer.Import(ctx, svc, readRegion(t), importer.Options{By: operator})
		require.NoError(t, err)
		// Misha and Anna apply to the robotics group: two seats and mun-a's budget.
		for _, parent := range []string{"parent-1", "parent-2"} {
			certs, err := svc.Certificates(ctx, enrollment.AsHolder(parent), enrollment.CertificateFilter{})
			require.NoError(t, err)
			require.Len(t, certs.Certificates, 1)
			_, err = svc.Submit(ctx, "apply-"+parent, enrollment.SubmitRequest{CertificateID: certs.Certificates[0].ID,
				GroupID: uuid.MustParse("0190a5c2-0000-7000-8000-000000000301"), By: enrollment.AsHolder(parent)})
			require.NoError(t, err)
		}
		before := written(t, db)
		src := importer.NewSource()
		require.NoError(t, src.ReadCSV(importer.Certificates, "certificates.csv", strings.NewReader(
			"number;person_id;full_name;birth_date;holder_municipality;category;issued_on\n"+
				"0000000001;child-9;Другой Ребёнок;2016-01-01;mun-a;city;2025-09-01\n"+
				"0000000009;child-1;Иванов Михаил Петрович;2017-03-14;mun-a;city;2025-09-01\n")))
		require.NoError(t, src.ReadCSV(importer.Budgets, "budgets.csv", strings.NewReader(
			"municipality;period_start;limit\nmun-a;2026-01-01;1.00\nmun-b;2026-01-01;1000000.00\n")))
		require.NoError(t, src.ReadCSV(importer.Groups, "groups.csv", strings.NewReader(
			"id;module_id;name;start;end;capacity\n"+
				"0190a5c2-0000-7000-8000-000000000301;0190a5c2-0000-7000-8000-000000000201;Группа 1;2026-04-01;2026-12-31;1\n"+
				"0190a5c2-0000-7000-8000-000000000302;0190a5c2-0000-7000-8000-000000000202;Младшие;2026-04-01;2026-11-30;30\n")))
		_, err = importer.Import(ctx, svc, src, importer.Options{By: operator})
		var rep *importer.Report
		require.ErrorAs(t, err, &rep)
		want := []struct {
			file  string
			line  int
			field string
			rule  string
		}{
			{"groups.csv", 2, "capacity", "must not be below the 2 seats"},
			{"budgets.csv", 2, "limit", "more than the new limit"},
			{"certificates.csv", 2, "", "number 0000000001 belongs to another certificate"},
			{"certificates.csv", 3, "", "the child already holds a certificate"},
		}
		require.Len(t, rep.Errors, len(want), "%v", err)
		for i, w := range want {
			e := rep.Errors[i]
			assert.Equal(t, []any{w.file, w.line, w.field}, []any{e.File, e.Line, e.Field}, e.Error())
			assert.Contains(t, e.Rule, w.rule)
		}
		assert.Equal(t, before, written(t, db))
	})
}

// TestImportRefusesHolders: only the region imports a region.
func TestImportRefusesHolders(t *testing.T) {
	db := storagetest.Open(t, storagetest.SQLiteMemory)
	_, err := importer.Import(context.Background(), newService(db), readRegion(t), importer.Options{By: enrollment.AsMunicipality("mun-a")})
	assert.ErrorIs(t, err, enrollment.ErrForbidden)
}

// TestImportTextProbe: a NUL or an escape sequence in any cell of any
// section is a bad row, reported as such, never a write or a panic.
func TestImportTextProbe(t *testing.T) {
	db := storagetest.Open(t, storagetest.SQLiteMemory)
	svc := newService(db)
	good := readRegion(t)
	before := written(t, db)
	for _, probe := range []string{"a\x00b", "a\u001b[31mb"} {
		for _, sec := range importer.SectionNames {
			for i, rec := range good.Records(sec) {
				for field := range rec.Fields {
					src := importer.NewSource()
					for _, s := range importer.SectionNames {
						for j, r := range good.Records(s) {
							fields := map[string]string{}
							for k, v := range r.Fields {
								fields[k] = v
							}
							if s == sec && j == i {
								fields[field] = probe
							}
							src.Add(s, importer.Record{Loc: r.Loc, Fields: fields})
						}
					}
					_, err := importer.Import(context.Background(), svc, src, importer.Options{By: operator, CheckOnly: true})
					var rep *importer.Report
					if !errors.As(err, &rep) {
						t.Errorf("%s %s:%d %s = %q: %v, want a bad row", sec, rec.Loc.File, rec.Loc.Line, field, probe, err)
					}
				}
			}
		}
	}
	assert.Equal(t, before, written(t, db))
}

// TestImportXLSX: a workbook of sheets named for sections imports as the
// CSV files do, its numbers as numbers and its dates as date cells.
func TestImportXLSX(t *testing.T) {
	good := readRegion(t)
	wb := excelize.NewFile()
	dates := map[string]bool{"period_start": true, "period_end": true, "start": true, "end": true, "birth_date": true, "issued_on": true}
	numbers := map[string]bool{"nominal": true, "max_count": true, "price": true, "normative_price": true, "hours": true, "capacity": true}
	for _, sec := range importer.SectionNames {
		recs := good.Records(sec)
		if len(recs) == 0 {
			continue
		}
		_, err := wb.NewSheet(sec)
		require.NoError(t, err)
		var cols []string
		for k := range recs[0].Fields {
			cols = append(cols, k)
		}
		for i, c := range cols {
			cell, _ := excelize.CoordinatesToCellName(i+1, 1)
			require.NoError(t, wb.SetCellValue(sec, cell, c))
		}
		for r, rec := range recs {
			for i, c := range cols {
				cell, _ := excelize.CoordinatesToCellName(i+1, r+2)
				v := rec.Fields[c]
				var value any = v
				if d, err := time.Parse("2006-01-02", v); err == nil && dates[c] {
					value = d
				} else if d, err := time.Parse("02.01.2006", v); err == nil && dates[c] {
					value = d
				} else if n, err := strconv.ParseFloat(strings.NewReplacer(" ", "", ",", ".").Replace(v), 64); err == nil && numbers[c] {
					value = n
				}
				require.NoError(t, wb.SetCellValue(sec, cell, value))
			}
		}
	}
	require.NoError(t, wb.SetSheetName("Sheet1", "Пояснения"))
	var buf bytes.Buffer
	require.NoError(t, wb.Write(&buf))

	src := importer.NewSource()
	require.NoError(t, src.ReadXLSX("region.xlsx", &buf))
	recs := src.Records(importer.Certificates)
	require.Len(t, recs, 4)
	assert.Equal(t, importer.Loc{File: "region.xlsx#certificates", Line: 2}, recs[0].Loc)
	assert.Equal(t, "2025-09-01", recs[0].Fields["issued_on"], "a date cell reads as its date")
	assert.Equal(t, "30000", src.Records(importer.Categories)[0].Fields["nominal"], "a number reads as it is, not as shown")

	db := storagetest.Open(t, storagetest.SQLiteMemory)
	res, err := importer.Import(context.Background(), newService(db), src, importer.Options{By: operator})
	require.NoError(t, err)
	assert.Equal(t, 19, res.Written)
}
