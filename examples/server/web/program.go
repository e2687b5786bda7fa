package web

import (
	"html/template"
	"net/http"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/edufund/edufund/enrollment"
)

// A program's page (GET /programs/{id}): public, as the API's. It shows
// the program as enrollment.Service.ProgramPage reads it: its texts, its
// provider with contacts, and its modules with their groups.

type programPage struct {
	Name, Annotation          string
	Description, Goals        []textBlock
	Tags                      []string
	Direction, Registry, Ages string
	// CompetencyArea and Hours describe an adult course.
	CompetencyArea, Hours string
	Provider              providerView
	Modules               []moduleView
	Rating                ratingView
}

// ratingView is a program's score (rules.md: each parameter 0–100,
// closed contracts weigh double), in Russian; Count is how many ratings
// make it, "" before the first.
type ratingView struct {
	Results, Staff, Means, Satisfaction, Count string
}

func ratingOf(s enrollment.Score) ratingView {
	n := s.Active + s.Closed
	if n == 0 {
		return ratingView{}
	}
	score := func(d decimal.Decimal) string { return strings.Replace(d.StringFixed(0), ".", ",", 1) }
	return ratingView{Results: score(s.Results), Staff: score(s.Staff), Means: score(s.Means), Satisfaction: score(s.Satisfaction),
		Count: ruInt(int64(n))}
}

// textBlock is a paragraph, or the list its "- " lines make.
type textBlock struct {
	Text  string
	Items []string
}

type providerView struct {
	Name, Address, Phone, Email, Site string
	PhoneURL                          template.URL
}

type moduleView struct {
	Name, Price, Hours string
	Groups             []groupView
}

type groupView struct {
	// ApplyURL is the application form for the group.
	ApplyURL                                                string
	Name, Schedule, Address, Dates, Months, Duration, Seats string
	Full                                                    bool
}

func (h *handler) program(w http.ResponseWriter, r *http.Request) {
	pg, ok := h.programOf(w, r)
	if !ok {
		return
	}
	h.render(w, r, http.StatusOK, "program", pg.Program.Name, programView(pg))
}

func (h *handler) programNotFound(w http.ResponseWriter, r *http.Request) {
	h.fail(w, r, http.StatusNotFound, "Программа не найдена",
		"Такой программы нет в навигаторе: возможно, ссылка неполная или программу убрали. Найдите её поиском.")
}

func programView(pg enrollment.ProgramPage) programPage {
	p, v := pg.Program, pg.Provider
	out := programPage{
		Name: p.Name, Annotation: p.Annotation, Description: blocks(p.Description), Goals: blocks(p.Goals), Tags: p.Tags,
		Direction: ruDirection(p.Direction), Registry: ruRegistry(p.Registry), Ages: ruAges(p.MinAge, p.MaxAge),
		CompetencyArea: p.CompetencyArea,
		Provider: providerView{Name: v.Name, Address: v.Address, Phone: v.Phone, PhoneURL: phoneURL(v.Phone),
			Email: v.Email, Site: v.Site},
		Rating: ratingOf(pg.Score),
	}
	if p.AcademicHours > 0 {
		out.Hours = ruCount(p.AcademicHours, "академический час", "академических часа", "академических часов")
	}
	for _, m := range pg.Modules {
		mv := moduleView{Name: m.Module.Name, Price: ruMoney(m.Module.Price)}
		if m.Module.Hours > 0 {
			mv.Hours = ruCount(m.Module.Hours, "час", "часа", "часов")
		}
		for _, g := range m.Groups {
			gv := groupView{ApplyURL: "/programs/" + p.ID.String() + "/apply?group=" + g.Group.ID.String(), Name: g.Group.Name, Schedule: g.Group.Schedule, Address: g.Address,
				Months: ruMonths(g.Months), Full: g.Free == 0,
				Seats: "свободно " + ruCount(g.Free, "место", "места", "мест") + " из " + ruInt(int64(g.Group.Capacity))}
			if !g.Group.Start.IsZero() {
				gv.Dates = "с " + ruDate(g.Group.Start) + " по " + ruDate(g.Group.End)
			}
			if n := len(g.Months); n > 0 {
				gv.Duration = ruCount(n, "месяц", "месяца", "месяцев")
			}
			if gv.Full {
				gv.Seats = "мест нет: все " + ruInt(int64(g.Group.Capacity)) + " заняты"
			}
			mv.Groups = append(mv.Groups, gv)
		}
		out.Modules = append(out.Modules, mv)
	}
	return out
}

// blocks splits a page's text into paragraphs by line, its "- " lines
// into lists, as the provider wrote them.
func blocks(text string) []textBlock {
	var out []textBlock
	for line := range strings.SplitSeq(text, "\n") {
		line = strings.TrimSpace(line)
		switch item, ok := strings.CutPrefix(line, "- "); {
		case line == "":
		case ok && len(out) > 0 && out[len(out)-1].Items != nil:
			out[len(out)-1].Items = append(out[len(out)-1].Items, item)
		case ok:
			out = append(out, textBlock{Items: []string{item}})
		default:
			out = append(out, textBlock{Text: line})
		}
	}
	return out
}

// phoneURL is the tel: link of a phone as the catalog keeps it ("+7 (383)
// 200-10-01"): its digits and a leading plus, nothing a link could abuse.
func phoneURL(phone string) template.URL {
	var b strings.Builder
	for i, r := range phone {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == '+' && i == 0:
			b.WriteRune(r)
		}
	}
	if b.Len() == 0 {
		return ""
	}
	return template.URL("tel:" + b.String())
}
