package importer

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/xuri/excelize/v2"
)

// dateColumns are the columns whose cells a workbook may hold as dates.
var dateColumns = map[string]bool{"period_start": true, "period_end": true, "start": true, "end": true,
	"birth_date": true, "issued_on": true}

// ReadXLSX reads a workbook whose sheets are named for sections
// (providers, programs …), each as its CSV file: the first row the column
// names, then one record a row; sheets of other names are ignored. The
// cells are read as stored, not as displayed: a number as it is, a date
// cell of a date column as its date, whatever format shows it.
func (s *Source) ReadXLSX(name string, r io.Reader) error {
	f, err := excelize.OpenReader(r, excelize.Options{RawCellValue: true})
	if err != nil {
		return fmt.Errorf("%s: not a workbook: %w", name, err)
	}
	defer f.Close()
	found := false
	for _, sheet := range f.GetSheetList() {
		section := strings.ToLower(strings.TrimSpace(sheet))
		if _, ok := columns[section]; !ok {
			continue
		}
		found = true
		if err := s.readSheet(f, name, sheet, section); err != nil {
			return err
		}
	}
	if !found {
		return fmt.Errorf("%s: no sheet is named for a section (%s)", name, strings.Join(SectionNames, ", "))
	}
	return nil
}

func (s *Source) readSheet(f *excelize.File, name, sheet, section string) error {
	rows, err := f.Rows(sheet)
	if err != nil {
		return fmt.Errorf("%s: sheet %s: %w", name, sheet, err)
	}
	defer rows.Close()
	file := name + "#" + sheet
	var header []string
	for line := 1; rows.Next(); line++ {
		cells, err := rows.Columns()
		if err != nil {
			return fmt.Errorf("%s:%d: %w", file, line, err)
		}
		if header == nil {
			for _, h := range cells {
				header = append(header, strings.ToLower(strings.TrimSpace(h)))
			}
			if len(header) == 0 {
				return nil
			}
			continue
		}
		fields := map[string]string{}
		blank := true
		for i, v := range cells {
			if i >= len(header) || header[i] == "" {
				if strings.TrimSpace(v) != "" {
					s.bad = append(s.bad, RowError{Loc: Loc{file, line}, Section: section, Rule: fmt.Sprintf("has a value in column %d, which the header does not name", i+1)})
				}
				continue
			}
			if strings.TrimSpace(v) != "" {
				blank = false
			}
			if dateColumns[header[i]] {
				v = excelDate(v)
			}
			fields[header[i]] = v
		}
		if !blank {
			s.Add(section, Record{Loc: Loc{file, line}, Fields: fields})
		}
	}
	return rows.Error()
}

// excelDate turns a date cell's serial number into YYYY-MM-DD; any other
// text is left for the date rule to judge.
func excelDate(v string) string {
	n, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil || n < 1 || n > 2958465 {
		return v
	}
	t, err := excelize.ExcelDateToTime(n, false)
	if err != nil {
		return v
	}
	return t.Format("2006-01-02")
}
