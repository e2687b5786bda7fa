package web

import (
	"strconv"
	"strings"
	"time"

	"github.com/edufund/edufund/funding"
)

// Russian formatting of what the pages show. The pages never format a
// number, a date or an amount any other way, so that a parent reads the
// same form everywhere: 02.09.2025, сентябрь 2025, 1 010,98 ₽.

// nbsp keeps a number's groups and its unit on one line.
const nbsp = "\u00a0"

// monthNames are the months in the nominative ("сентябрь 2025") and
// monthGenitive in the genitive ("2 сентября 2025 г.", "с января").
var (
	monthNames = [...]string{"январь", "февраль", "март", "апрель", "май", "июнь",
		"июль", "август", "сентябрь", "октябрь", "ноябрь", "декабрь"}
	monthGenitive = [...]string{"января", "февраля", "марта", "апреля", "мая", "июня",
		"июля", "августа", "сентября", "октября", "ноября", "декабря"}
)

// ruDate is 02.09.2025; "" for the zero date.
func ruDate(d funding.Date) string {
	if d.IsZero() {
		return ""
	}
	return d.Time().Format("02.01.2006")
}

// regionDate is the region's date at instant t, the date the rules saw
// (a contract's submission, a notification's); the zero date for the zero
// instant.
func (h *handler) regionDate(t time.Time) funding.Date {
	if t.IsZero() {
		return funding.Date{}
	}
	if loc := h.cfg.Service.Config().Location; loc != nil {
		t = t.In(loc)
	}
	return funding.DateOf(t)
}

// ruLongDate is "2 сентября 2025 г.".
func ruLongDate(d funding.Date) string {
	if d.IsZero() {
		return ""
	}
	return strconv.Itoa(d.Day()) + nbsp + monthGenitive[d.Month()-1] + " " + strconv.Itoa(d.Year()) + nbsp + "г."
}

// ruMonth is "сентябрь 2025".
func ruMonth(m funding.Month) string {
	if m.IsZero() {
		return ""
	}
	return monthNames[m.Month-1] + nbsp + strconv.Itoa(m.Year)
}

// ruMonths is the span of months a group runs in: "январь — декабрь 2026"
// within a year, "сентябрь 2025 — май 2026" across years, the month alone
// for one month.
func ruMonths(ms []funding.Month) string {
	switch len(ms) {
	case 0:
		return ""
	case 1:
		return ruMonth(ms[0])
	}
	first, last := ms[0], ms[len(ms)-1]
	if first.Year == last.Year {
		return monthNames[first.Month-1] + " — " + ruMonth(last)
	}
	return ruMonth(first) + " — " + ruMonth(last)
}

// ruMoney is 1 010,98 ₽: roubles in groups of three split by a no-break
// space, a decimal comma, always the kopecks, and the sign of the rouble
// after a no-break space. It reads the kopecks, not a float, so that no
// amount is ever rounded on a page.
func ruMoney(m funding.Money) string {
	k := m.Kopecks()
	sign := ""
	if k < 0 {
		sign, k = "−", -k // U+2212, the minus sign; Money never holds MinInt64
	}
	c := k % 100
	return sign + ruInt(k/100) + "," + string(rune('0'+c/10)) + string(rune('0'+c%10)) + nbsp + "₽"
}

// ruInt groups a whole number's digits by three with no-break spaces:
// 1 000 000. Russian typography leaves four-digit numbers whole only in
// dates and codes, which the pages do not pass here.
func ruInt(n int64) string {
	if n < 0 {
		return "−" + ruInt(-n)
	}
	s := strconv.FormatInt(n, 10)
	var b strings.Builder
	for i, d := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteString(nbsp)
		}
		b.WriteRune(d)
	}
	return b.String()
}

// pluralForm picks the form of a noun for n: one (1, 21, 101: месяц),
// few (2–4, 22–24: месяца) or many (0, 5–20, 25–30, 111–114: месяцев).
func pluralForm(n int, one, few, many string) string {
	if n < 0 {
		n = -n
	}
	switch d, h := n%10, n%100; {
	case d == 1 && h != 11:
		return one
	case d >= 2 && d <= 4 && (h < 12 || h > 14):
		return few
	}
	return many
}

// ruCount is the number with its noun: "1 месяц", "5 месяцев",
// "1 200 программ".
func ruCount(n int, one, few, many string) string {
	return ruInt(int64(n)) + nbsp + pluralForm(n, one, few, many)
}

// ruYearsGen is an age in the genitive, as after "с", "от", "до" or
// "нет": "1 года", "18 лет".
func ruYearsGen(n int) string { return ruCount(n, "года", "лет", "лет") }

// ruFound is the navigator's count: "Найдена 1 программа", "Найдено 5
// программ"; the verb agrees with the number as the noun does.
func ruFound(n int) string {
	if n == 0 {
		return "Ничего не найдено"
	}
	return pluralForm(n, "Найдена", "Найдено", "Найдено") + " " + ruCount(n, "программа", "программы", "программ")
}

// ruAges is a program's age range: "7–14 лет", "от 18 лет", "до 6 лет",
// "любой"; the noun agrees with the last number, as one says it.
func ruAges(min, max int) string {
	years := func(n int) string { return pluralForm(n, "год", "года", "лет") }
	switch {
	case min > 0 && max > 0 && min == max:
		return ruCount(max, "год", "года", "лет")
	case min > 0 && max > 0:
		return strconv.Itoa(min) + "–" + strconv.Itoa(max) + nbsp + years(max)
	case min > 0:
		return "от " + ruYearsGen(min)
	case max > 0:
		return "до " + ruYearsGen(max)
	}
	return "любой"
}
