package catalog

import (
	"strings"

	"github.com/edufund/edufund/funding"
)

// Filter is a catalog search. Every zero field matches everything.
type Filter struct {
	Text         string         // case-insensitive substring of the program's or provider's name; ё and е are the same letter
	Age          int            // age in whole years that the program accepts; 0 = any
	Municipality string         // the program's municipality (the provider's when the program names none)
	Registry     Registry       // "" = any
	Direction    Direction      // "" = any
	StartMonth   *funding.Month // the month the group starts in; nil = any
}

// Match reports whether group g of program prog run by prov passes f.
func (f Filter) Match(prov Provider, prog Program, g Group) bool {
	if t := fold(strings.TrimSpace(f.Text)); t != "" &&
		!strings.Contains(fold(prog.Name), t) && !strings.Contains(fold(prov.Name), t) {
		return false
	}
	if f.Age != 0 && !prog.AcceptsAge(f.Age) {
		return false
	}
	if f.Municipality != "" {
		m := prog.Municipality
		if m == "" {
			m = prov.Municipality
		}
		if m != f.Municipality {
			return false
		}
	}
	if f.Registry != "" && prog.Registry != f.Registry {
		return false
	}
	if f.Direction != "" && prog.Direction != f.Direction {
		return false
	}
	if f.StartMonth != nil && g.Start.MonthOf() != *f.StartMonth {
		return false
	}
	return true
}

// fold lowers s and writes ё as е, so that "Ёлка", "елка" and "ЁЛКА" compare equal.
func fold(s string) string {
	return strings.ReplaceAll(strings.ToLower(s), "ё", "е")
}
