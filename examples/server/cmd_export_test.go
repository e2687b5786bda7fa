package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
)

// TestExportCommand: export writes the register of certificates as XLSX
// and the month's invoice lines as CSV, read back by cell, with progress
// on stderr; a bad flag is refused naming it, and a failed export leaves
// no file.
func TestExportCommand(t *testing.T) {
	ctx := context.Background()
	db := demoFile(t)
	dir := t.TempDir()

	xlsx := filepath.Join(dir, "certificates.xlsx")
	var stdout, stderr bytes.Buffer
	if err := run(ctx, []string{"export", "-db", db, "-kind", "certificates", "-o", xlsx}, &stdout, &stderr); err != nil {
		t.Fatalf("export: %v\n%s", err, stderr.String())
	}
	if !strings.Contains(stderr.String(), "export: wrote ") || !strings.Contains(stderr.String(), " rows of certificates (template 1) to "+xlsx) {
		t.Errorf("stderr: %q", stderr.String())
	}
	f, err := excelize.OpenFile(xlsx)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := f.GetRows(f.GetSheetName(0))
	if err != nil || len(rows) < 4 || rows[0][0] != "Номер сертификата" {
		t.Fatalf("the register: %v %q", err, rows)
	}
	names := map[string]bool{}
	for _, r := range rows[1:] {
		names[r[1]] = true
	}
	if !names["Орлова Наталья Викторовна"] {
		t.Errorf("the register has no Орлова: %q", rows)
	}

	lines := filepath.Join(dir, "lines.csv")
	stderr.Reset()
	if err := run(ctx, []string{"export", "-db", db, "-kind", "invoice-lines", "-month", "2026-03", "-o", lines}, io.Discard, &stderr); err != nil {
		t.Fatalf("export: %v", err)
	}
	body, err := os.ReadFile(lines)
	if err != nil {
		t.Fatal(err)
	}
	r := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(body, []byte("\uFEFF"))))
	r.Comma = ';'
	recs, err := r.ReadAll()
	if err != nil || len(recs) == 0 || recs[0][0] != "Поставщик" || recs[0][len(recs[0])-1] != "Сумма, руб." {
		t.Fatalf("the lines: %v %q", err, recs)
	}

	// A region's template: its columns, renamed, a date shown as text.
	tpl := filepath.Join(dir, "template.json")
	if err := os.WriteFile(tpl, []byte(`{"report": "certificates", "version": "2026-1", "sheet": "Сертификаты",
		"fields": [{"key": "number", "header": "№", "kind": "text"}, {"key": "birth_date", "header": "Родился", "kind": "text"}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	var csvOut bytes.Buffer
	if err := run(ctx, []string{"export", "-db", db, "-kind", "certificates", "-template", tpl, "-o", "-"}, &csvOut, io.Discard); err != nil {
		t.Fatalf("export with a template: %v", err)
	}
	r = csv.NewReader(bytes.NewReader(bytes.TrimPrefix(csvOut.Bytes(), []byte("\uFEFF"))))
	r.Comma = ';'
	if recs, err = r.ReadAll(); err != nil || len(recs) < 2 || strings.Join(recs[0], "|") != "№|Родился" || len(recs[1][1]) != len("02.01.2006") {
		t.Fatalf("the region's template: %v %q", err, recs)
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-kind", "certificates"}, "-o"},
		{[]string{"-kind", "payroll", "-o", "x.csv"}, "-kind"},
		{[]string{"-kind", "invoice-lines", "-o", "x.csv"}, "-month"},
		{[]string{"-kind", "certificates", "-month", "2026-03", "-o", "x.csv"}, "-month"},
		{[]string{"-kind", "completions", "-from", "yesterday", "-o", "x.csv"}, "-from"},
		{[]string{"-kind", "contracts", "-format", "pdf", "-o", "x.csv"}, "-format"},
		{[]string{"-kind", "contracts", "-status", "lost", "-o", "x.csv"}, "status"},
		{[]string{"-kind", "completions", "-template", filepath.Join(dir, "none.json"), "-o", "x.csv"}, "-template"},
	} {
		out := filepath.Join(dir, "bad.csv")
		for i, a := range tc.args {
			if a == "x.csv" {
				tc.args[i] = out
			}
		}
		err := run(ctx, append([]string{"export", "-db", db}, tc.args...), io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("export %q: %v, want an error naming %s", tc.args, err, tc.want)
		}
		if _, err := os.Stat(out); !os.IsNotExist(err) {
			t.Errorf("export %q left %s behind", tc.args, out)
		}
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".*part*")); len(left) != 0 {
		t.Errorf("partial files left: %v", left)
	}
}
