package web

import (
	"strings"
	"testing"
	"time"

	"github.com/edufund/edufund/catalog"
	"github.com/edufund/edufund/funding"
)

// nb writes the no-break spaces of a want as "_", so the tables read.
func nb(s string) string { return strings.ReplaceAll(s, "_", nbsp) }

func TestRuMoney(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"0.00", "0,00_₽"},
		{"0.05", "0,05_₽"},
		{"7.5", "7,50_₽"},
		{"999.99", "999,99_₽"},
		{"1010.98", "1_010,98_₽"},
		{"18250.00", "18_250,00_₽"},
		{"100000.00", "100_000,00_₽"},
		{"1234567.89", "1_234_567,89_₽"},
		{"-1010.98", "−1_010,98_₽"},
		{"-0.01", "−0,01_₽"},
	} {
		if got := ruMoney(funding.MustMoney(tt.in)); got != nb(tt.want) {
			t.Errorf("ruMoney(%s) = %q, want %q", tt.in, got, nb(tt.want))
		}
	}
}

func TestRuPlural(t *testing.T) {
	forms := func(n int) string { return ruCount(n, "месяц", "месяца", "месяцев") }
	for n, want := range map[int]string{
		0: "0_месяцев", 1: "1_месяц", 2: "2_месяца", 4: "4_месяца", 5: "5_месяцев", 10: "10_месяцев",
		11: "11_месяцев", 12: "12_месяцев", 14: "14_месяцев", 15: "15_месяцев", 21: "21_месяц", 22: "22_месяца",
		25: "25_месяцев", 101: "101_месяц", 111: "111_месяцев", 112: "112_месяцев", 122: "122_месяца", 1001: "1_001_месяц",
	} {
		if got := forms(n); got != nb(want) {
			t.Errorf("ruCount(%d) = %q, want %q", n, got, nb(want))
		}
	}
}

func TestRuFound(t *testing.T) {
	for n, want := range map[int]string{
		0: "Ничего не найдено", 1: "Найдена 1_программа", 3: "Найдено 3_программы", 5: "Найдено 5_программ",
		11: "Найдено 11_программ", 21: "Найдена 21_программа", 308: "Найдено 308_программ", 1200: "Найдено 1_200_программ",
	} {
		if got := ruFound(n); got != nb(want) {
			t.Errorf("ruFound(%d) = %q, want %q", n, got, nb(want))
		}
	}
}

func TestRuDates(t *testing.T) {
	d := funding.MustDate(2025, time.September, 2)
	for _, tt := range []struct{ got, want string }{
		{ruDate(d), "02.09.2025"},
		{ruDate(funding.MustDate(2026, time.December, 31)), "31.12.2026"},
		{ruDate(funding.Date{}), ""},
		{ruLongDate(d), "2_сентября 2025_г."},
		{ruLongDate(funding.MustDate(2026, time.May, 1)), "1_мая 2026_г."},
		{ruMonth(funding.Month{Year: 2025, Month: time.September}), "сентябрь_2025"},
		{ruMonths(nil), ""},
		{ruMonths([]funding.Month{{Year: 2026, Month: time.May}}), "май_2026"},
		{ruMonths(months(2026, time.January, 12)), "январь — декабрь_2026"},
		{ruMonths(months(2025, time.September, 9)), "сентябрь_2025 — май_2026"},
	} {
		if tt.got != nb(tt.want) {
			t.Errorf("got %q, want %q", tt.got, nb(tt.want))
		}
	}
}

func months(y int, m time.Month, n int) []funding.Month {
	var out []funding.Month
	for i := range n {
		out = append(out, funding.Month{Year: y, Month: m}.Add(i))
	}
	return out
}

func TestRuAges(t *testing.T) {
	for _, tt := range []struct {
		min, max int
		want     string
	}{
		{7, 14, "7–14_лет"}, {5, 21, "5–21_год"}, {6, 12, "6–12_лет"}, {3, 4, "3–4_года"},
		{18, 0, "от 18_лет"}, {1, 0, "от 1_года"}, {21, 0, "от 21_года"}, {0, 6, "до 6_лет"},
		{10, 10, "10_лет"}, {0, 0, "любой"},
	} {
		if got := ruAges(tt.min, tt.max); got != nb(tt.want) {
			t.Errorf("ruAges(%d, %d) = %q, want %q", tt.min, tt.max, got, nb(tt.want))
		}
	}
}

// TestRuNames: every direction and registry the catalog knows has a
// Russian name, so a new one cannot reach a page as its code.
func TestRuNames(t *testing.T) {
	for _, d := range catalog.Directions {
		if _, ok := directionNames[d]; !ok {
			t.Errorf("direction %s has no Russian name", d)
		}
	}
	for _, r := range catalog.Registries {
		if _, ok := registryNames[r]; !ok {
			t.Errorf("registry %s has no Russian name", r)
		}
	}
}
