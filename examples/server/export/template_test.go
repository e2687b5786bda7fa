package export_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/edufund/edufund/examples/server/export"
	"github.com/edufund/edufund/funding"
)

// TestDefaultTemplates: every report's default template passes its check,
// and shows its report's keys in Russian.
func TestDefaultTemplates(t *testing.T) {
	for _, r := range export.Reports {
		require.NoError(t, r.Check(r.Default), r.Name)
		require.Equal(t, r.Name, r.Default.Report)
	}
	// The registry of education documents' field set (seed 001).
	var keys []string
	for _, f := range export.CompletionsReport.Default.Fields {
		keys = append(keys, f.Key)
	}
	require.Equal(t, "001", export.CompletionsReport.Default.Version)
	require.Equal(t, []string{"surname", "first_name", "patronymic", "birth_date", "snils", "program", "hours", "start", "end",
		"document_number", "document_date"}, keys)
}

// TestTemplateCheck: a region's template is refused with the field it
// breaks.
func TestTemplateCheck(t *testing.T) {
	r := export.CompletionsReport
	tests := []struct {
		name  string
		edit  func(*export.Template)
		field string // "" = valid
	}{
		{"the default", func(*export.Template) {}, ""},
		{"picked and renamed", func(t *export.Template) {
			t.Fields = []export.Field{{Key: "full_name", Header: "ФИО слушателя", Kind: export.Text}, {Key: "hours", Header: "Часы", Kind: export.Number}}
		}, ""},
		{"a date shown as text", func(t *export.Template) { t.Fields[3].Kind = export.Text }, ""},
		{"another report's", func(t *export.Template) { t.Report = "contracts" }, "report"},
		{"no version", func(t *export.Template) { t.Version = " " }, "version"},
		{"no sheet", func(t *export.Template) { t.Sheet = "" }, "sheet"},
		{"a long sheet", func(t *export.Template) { t.Sheet = strings.Repeat("я", 32) }, "sheet"},
		{"a sheet with a slash", func(t *export.Template) { t.Sheet = "2026/03" }, "sheet"},
		{"no fields", func(t *export.Template) { t.Fields = nil }, "fields"},
		{"too many fields", func(t *export.Template) {
			t.Fields = make([]export.Field, export.MaxFields+1)
		}, "fields"},
		{"an unknown key", func(t *export.Template) { t.Fields[1].Key = "name" }, "fields[1].key"},
		{"a key twice", func(t *export.Template) { t.Fields[2] = t.Fields[0] }, "fields[2].key"},
		{"an unknown kind", func(t *export.Template) { t.Fields[6].Kind = "float" }, "fields[6].kind"},
		{"a number shown as a date", func(t *export.Template) { t.Fields[6].Kind = export.Date }, "fields[6].kind"},
		{"no header", func(t *export.Template) { t.Fields[0].Header = " " }, "fields[0].header"},
		{"a header with a NUL", func(t *export.Template) { t.Fields[0].Header = "Фамилия\x00" }, "fields[0].header"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tpl := r.Default
			tpl.Fields = append([]export.Field(nil), tpl.Fields...)
			tt.edit(&tpl)
			err := r.Check(tpl)
			if tt.field == "" {
				require.NoError(t, err)
				return
			}
			var ve *funding.ValidationError
			require.ErrorAs(t, err, &ve)
			require.Equal(t, tt.field, ve.Field)
		})
	}
}

// TestParseTemplate: a region's template in JSON, for one of the reports;
// unknown members and reports are refused.
func TestParseTemplate(t *testing.T) {
	in := `{"report": "completions", "version": "002", "sheet": "ДПО",
		"fields": [{"key": "snils", "header": "СНИЛС", "kind": "text"}, {"key": "document_date", "header": "Дата выдачи", "kind": "date"}]}`
	got, err := export.ParseTemplate(strings.NewReader(in), export.Reports...)
	require.NoError(t, err)
	require.Equal(t, export.Template{Report: "completions", Version: "002", Sheet: "ДПО", Fields: []export.Field{
		{Key: "snils", Header: "СНИЛС", Kind: export.Text}, {Key: "document_date", Header: "Дата выдачи", Kind: export.Date}}}, got)

	_, err = export.ParseTemplate(strings.NewReader(`{"report": "completions", "colour": "red"}`), export.Reports...)
	require.ErrorContains(t, err, "colour")
	_, err = export.ParseTemplate(strings.NewReader(`{"report": "payroll", "version": "1", "sheet": "x", "fields": []}`), export.Reports...)
	var ve *funding.ValidationError
	require.ErrorAs(t, err, &ve)
	require.Equal(t, "report", ve.Field)
}
