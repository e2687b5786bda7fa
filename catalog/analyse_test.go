package catalog_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/edufund/edufund/catalog"
)

func TestAnalyse(t *testing.T) {
	tests := []struct {
		name, text string
		want       []string
	}{
		{"inflections of a noun share a stem", "шахматы шахматам шахматами", []string{"шахмат", "шахмат", "шахмат"}},
		{"ё is е", "Ёлочка ёлочки", []string{"елочк", "елочк"}},
		{"case and punctuation", "Робототехника: LEGO-конструирование!", []string{"робототехник", "lego", "конструирован"}},
		{"stop words drop", "кружок для детей и подростков", []string{"кружок", "дет", "подростк"}},
		{"numbers and Latin stay", "3D-моделирование в Blender", []string{"3d", "моделирован", "blender"}},
		{"a decomposed й is one letter", "и\u0306ога", []string{"йог"}},
		{"a zero-width space joins", "шах\u200bматы", []string{"шахмат"}},
		{"nothing", " …, ", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, catalog.Analyse(tt.text))
		})
	}
}

func TestAnalyseQuery(t *testing.T) {
	tests := []struct {
		text   string
		terms  []string
		prefix string
	}{
		{"шахм", []string{"шахм"}, "шахм"},
		{"шахматы ", []string{"шахмат"}, ""},
		{"футбол для мал", []string{"футбол", "мал"}, "мал"},
		{"по", []string{}, "по"},
		{"Ёжик?", []string{"ежик"}, ""},
		{"", []string{}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			q := catalog.AnalyseQuery(tt.text)
			require.Equal(t, tt.terms, q.Terms)
			require.Equal(t, tt.prefix, q.Prefix)
		})
	}
}

// FuzzAnalyse: any text analyses without a panic into terms, each one word
// (analysed again, at most one term).
func FuzzAnalyse(f *testing.F) {
	for _, s := range []string{"шахматы", "Ёж", "a\x00b", "\xff\xfe", "и\u0306", "3D-моделирование"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, term := range catalog.Analyse(s) {
			require.NotEmpty(t, term)
			require.NotContains(t, term, " ")
			require.LessOrEqual(t, len(catalog.Analyse(term)), 1, "a term is one word")
		}
		_ = catalog.AnalyseQuery(s)
	})
}
