package api_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/google/uuid"

	"github.com/edufund/edufund/examples/server/demo"
)

// programPageJSON is what the tests read of a program's page.
type programPageJSON struct {
	Program struct {
		ID, Name, Annotation, Description, Goals string
		Registry, Direction                      string
		MinAge                                   int `json:"min_age"`
		MaxAge                                   int `json:"max_age"`
		Tags                                     []string
	}
	Provider struct{ ID, Name, Address, Phone, Email, Site string }
	Modules  []struct {
		ID, Name, Price string
		Normative       string `json:"normative_price"`
		Groups          []struct {
			ID, Name, Start, End, Schedule, Address string
			Months                                  []string
			Capacity                                int
			SeatsFree                               int `json:"seats_free"`
		}
	}
	Rating struct {
		Results, Staff, Means, Satisfaction string
		Active, Closed                      int
	}
}

// TestProgramPage reads a program's page without a token, as a navigator
// does: the demo's content, the seats free after the demo's enrolment, the
// months its group runs, and the rating after a parent rates. An unknown
// program is 404, a bad id or a query parameter 400 naming it. The
// program's provider edits the page's content, another provider may not.
func TestProgramPage(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		d := e.demo
		ivanova, robo, sport, regional := e.holder(demo.GuardianIvanova), e.provider("Робоцентр"), e.provider("Спортклуб «Заречье»"), e.regional()
		var football struct {
			ProgramID string `json:"program_id"`
			GroupID   string `json:"group_id"`
		}
		e.must(http.StatusOK, "GET", "/v1/contracts/"+d.Contract.String(), ivanova, "", nil).json(t, &football)

		var pg programPageJSON
		e.must(http.StatusOK, "GET", "/v1/catalog/programs/"+football.ProgramID, "", "", nil).json(t, &pg)
		if pg.Program.ID != football.ProgramID || pg.Program.Name != "Футбол" || pg.Program.Registry != "certified" || pg.Program.Direction != "sport" ||
			pg.Program.MinAge != 6 || pg.Program.MaxAge != 16 || pg.Program.Annotation == "" || pg.Program.Description == "" || pg.Program.Goals == "" {
			t.Errorf("football's program: %+v", pg.Program)
		}
		if len(pg.Program.Tags) == 0 || pg.Program.Tags[0] != "футбол" {
			t.Errorf("football's tags: %v", pg.Program.Tags)
		}
		if pg.Provider.Name != "Спортклуб «Заречье»" || pg.Provider.Phone == "" || pg.Provider.Email == "" || pg.Provider.Site == "" || pg.Provider.Address == "" {
			t.Errorf("football's provider: %+v", pg.Provider)
		}
		if len(pg.Modules) != 1 || pg.Modules[0].Price != "24000.00" || pg.Modules[0].Normative != "24000.00" || len(pg.Modules[0].Groups) != 1 {
			t.Fatalf("football's modules: %+v", pg.Modules)
		}
		g := pg.Modules[0].Groups[0]
		if g.ID != football.GroupID || g.Capacity != 20 || g.SeatsFree != 19 || g.Address != pg.Provider.Address || g.Schedule == "" {
			t.Errorf("football's group, Misha's seat taken, at the club's address: %+v", g)
		}
		if len(g.Months) != 12 || g.Months[0] != "2026-01" || g.Months[11] != "2026-12" {
			t.Errorf("football's months: %v", g.Months)
		}
		if pg.Rating.Results != "0.00" || pg.Rating.Active != 0 || pg.Rating.Closed != 0 {
			t.Errorf("football's rating before any: %+v", pg.Rating)
		}

		// A token is not needed, nor looked at.
		e.must(http.StatusOK, "GET", "/v1/catalog/programs/"+football.ProgramID, "not-a-jwt", "", nil)

		// Ivanova rates Misha's football: the page shows it.
		e.must(http.StatusOK, "POST", "/v1/contracts/"+d.Contract.String()+"/rating", ivanova, "page-rate",
			map[string]int{"results": 80, "staff": 70, "means": 60, "satisfaction": 90})
		e.must(http.StatusOK, "GET", "/v1/catalog/programs/"+football.ProgramID, "", "", nil).json(t, &pg)
		if r := pg.Rating; r.Results != "80.00" || r.Staff != "70.00" || r.Means != "60.00" || r.Satisfaction != "90.00" || r.Active != 1 {
			t.Errorf("football's rating: %+v", r)
		}

		// A group with an address of its own: the hikes meet at a school.
		var hikes programPageJSON
		e.must(http.StatusOK, "GET", "/v1/catalog/programs/"+programOf(t, e, "Краеведческие походы"), "", "", nil).json(t, &hikes)
		if g := hikes.Modules[0].Groups[0]; g.Address == "" || g.Address == hikes.Provider.Address {
			t.Errorf("the hikes' group meets at its own address: %q (the club's %q)", g.Address, hikes.Provider.Address)
		}

		// Unknown: 404; a bad id or a query parameter: 400 naming it.
		if p := e.must(http.StatusNotFound, "GET", "/v1/catalog/programs/"+uuid.NewString(), "", "", nil).problem(t); p.Code != "not_found" {
			t.Errorf("unknown program: %+v", p)
		}
		e.validate = false // the requests below break the document's rules on purpose
		if p := e.must(http.StatusBadRequest, "GET", "/v1/catalog/programs/not-a-uuid", "", "", nil).problem(t); p.Code != "invalid" || p.Field != "id" {
			t.Errorf("bad id: %+v", p)
		}
		if p := e.must(http.StatusBadRequest, "GET", "/v1/catalog/programs/"+football.ProgramID+"?lang=ru", "", "", nil).problem(t); p.Field != "lang" {
			t.Errorf("a query parameter: %+v", p)
		}
		e.validate = true

		// Робоцентр edits its robotics program's page; the sports club may not.
		robotics := programOf(t, e, "Робототехника на LEGO")
		var page struct{ Program map[string]any }
		e.must(http.StatusOK, "GET", "/v1/catalog/programs/"+robotics, "", "", nil).json(t, &page)
		body := page.Program
		body["annotation"] = "  Роботы\u200b из LEGO  "
		body["description"] = "Первая строка\nвторая"
		body["tags"] = []string{"Робототехника", "LEGO", "Шахматы"}
		var saved struct {
			Annotation, Description string
			Tags                    []string
		}
		e.must(http.StatusOK, "POST", "/v1/catalog/programs", robo, "page-edit-robo", body).json(t, &saved)
		if saved.Annotation != "Роботы из LEGO" || saved.Description != "Первая строка\nвторая" || len(saved.Tags) != 3 || saved.Tags[2] != "шахматы" {
			t.Errorf("saved: %+v", saved)
		}
		e.must(http.StatusOK, "GET", "/v1/catalog/programs/"+robotics, "", "", nil).json(t, &pg)
		if pg.Program.Annotation != "Роботы из LEGO" || len(pg.Program.Tags) != 3 || pg.Program.Tags[1] != "lego" {
			t.Errorf("the page after the edit: %+v", pg.Program)
		}
		if p := e.must(http.StatusForbidden, "POST", "/v1/catalog/programs", sport, "page-edit-sport", body).problem(t); p.Code != "foreign" {
			t.Errorf("another provider edits: %+v", p)
		}
		body["tags"] = []string{"Лего", " лего"}
		if p := e.must(http.StatusBadRequest, "POST", "/v1/catalog/programs", robo, "page-edit-dup", body).problem(t); p.Field != "tags[1]" {
			t.Errorf("a tag twice: %+v", p)
		}
		body["tags"] = []string{"лего", "a\u0000b"}
		if p := e.must(http.StatusBadRequest, "POST", "/v1/catalog/programs", robo, "page-edit-nul", body).problem(t); p.Field != "tags[1]" {
			t.Errorf("a NUL in a tag: %+v", p)
		}

		// The region edits a provider's contacts; a bad one is named.
		prov := map[string]any{"id": d.ProviderID("Робоцентр").String(), "name": "Робоцентр", "inn": "5401000001", "municipality": demo.MunCity,
			"address": "г. Новоград, ул. Новая, 1", "phone": "8 800 000-00-00", "email": "new@robo.example", "site": "https://robo.example",
			"agreements": []any{map[string]any{"municipality": demo.MunCity, "period": year2026}, map[string]any{"municipality": demo.MunRural, "period": year2026}}}
		var savedProv struct{ Address, Phone string }
		e.must(http.StatusOK, "POST", "/v1/admin/providers", regional, "page-provider", prov).json(t, &savedProv)
		if savedProv.Phone != "8 800 000-00-00" || savedProv.Address != "г. Новоград, ул. Новая, 1" {
			t.Errorf("saved provider: %+v", savedProv)
		}
		e.must(http.StatusOK, "GET", "/v1/catalog/programs/"+robotics, "", "", nil).json(t, &pg)
		if pg.Provider.Phone != "8 800 000-00-00" || pg.Modules[0].Groups[0].Address != "г. Новоград, ул. Новая, 1" {
			t.Errorf("the page after the provider's edit: %+v %+v", pg.Provider, pg.Modules[0].Groups[0])
		}
		for field, bad := range map[string]string{"phone": "позвоните", "email": "robo", "site": "ftp://robo.example"} {
			b := map[string]any{}
			for k, v := range prov {
				b[k] = v
			}
			b[field] = bad
			if p := e.must(http.StatusBadRequest, "POST", "/v1/admin/providers", regional, "page-provider-"+field, b).problem(t); p.Field != field {
				t.Errorf("bad %s: %+v", field, p)
			}
		}

		// A group of its own address, by its provider.
		grp := pg.Modules[0].Groups[0]
		var savedGroup struct{ Address string }
		e.must(http.StatusOK, "POST", "/v1/catalog/groups", robo, "page-group", map[string]any{"id": grp.ID, "module_id": pg.Modules[0].ID,
			"name": grp.Name, "start": grp.Start, "end": grp.End, "capacity": grp.Capacity, "schedule": grp.Schedule, "address": "ул. Садовая, 5"}).json(t, &savedGroup)
		if savedGroup.Address != "ул. Садовая, 5" {
			t.Errorf("saved group: %+v", savedGroup)
		}
		e.must(http.StatusOK, "GET", "/v1/catalog/programs/"+robotics, "", "", nil).json(t, &pg)
		if g := pg.Modules[0].Groups[0]; g.Address != "ул. Садовая, 5" {
			t.Errorf("the group's address: %+v", g)
		}
	})
}

// programOf is the id of the demo's program of the given name, as the
// navigator finds it.
func programOf(t *testing.T, e *env, name string) string {
	t.Helper()
	var list struct {
		Items []struct {
			Program struct{ ID, Name string }
		}
	}
	// By its name: the demo's catalogue is longer than a page.
	e.must(http.StatusOK, "GET", "/v1/catalog?"+url.Values{"q": {name}}.Encode(), "", "", nil).json(t, &list)
	for _, o := range list.Items {
		if o.Program.Name == name {
			return o.Program.ID
		}
	}
	t.Fatalf("no program %q in the catalog", name)
	return ""
}
