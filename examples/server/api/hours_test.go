package api_test

import (
	"net/http"
	"testing"

	"github.com/edufund/edufund/examples/server/demo"
)

// TestHoursOverHTTP: a category whose nominal is weekly hours, a module's
// weekly hours and the region's cost of a child-hour are set through the
// admin API; a certificate of the category applies and its contract holds
// the module's hours, which its cabinet shows beside the money they are
// worth; a category cannot be both.
func TestHoursOverHTTP(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		regional := e.regional()
		var cat struct {
			Code       string
			HoursBase  int `json:"hours_base"`
			HoursExtra int `json:"hours_extra"`
		}
		e.must(http.StatusOK, "POST", "/v1/admin/categories", regional, "cat-weekly", map[string]any{"code": "weekly", "hours_base": 6, "hours_extra": 2}).json(t, &cat)
		if cat.HoursBase != 6 || cat.HoursExtra != 2 {
			t.Fatalf("category: %+v", cat)
		}
		if p := e.must(http.StatusBadRequest, "POST", "/v1/admin/categories", regional, "cat-both", map[string]any{"code": "both", "nominal": "100.00", "hours_base": 6}).problem(t); p.Field != "category.nominal" {
			t.Fatalf("a category in money and hours: %+v", p)
		}
		e.must(http.StatusCreated, "POST", "/v1/admin/parameters", regional, "hour-cost", map[string]any{
			"name": "child_hour_cost", "from": "2026-03-10", "value": "150.00", "reason": "приказ № 3"})

		var prov, prog, mod, group struct{ ID string }
		e.must(http.StatusOK, "POST", "/v1/admin/providers", regional, "prov-h", map[string]any{"name": "Weekly school", "inn": "5401000099", "municipality": demo.MunCity,
			"agreements": []any{map[string]any{"municipality": demo.MunCity, "period": map[string]string{"start": "2026-01-01", "end": "2026-12-31"}}}}).json(t, &prov)
		school := e.token("provider", "weekly-admin", prov.ID)
		e.must(http.StatusOK, "POST", "/v1/catalog/programs", school, "prog-h", map[string]any{"name": "Chess", "scheme": "supplementary",
			"direction": "social_pedagogical", "registry": "certified", "min_age": 5, "max_age": 17, "enrolment_open": true}).json(t, &prog)
		// A provider's program enters the certified registry only when the
		// region certifies it.
		e.must(http.StatusOK, "POST", "/v1/catalog/programs/"+prog.ID+"/submit", school, "prog-h-submit", nil)
		e.must(http.StatusOK, "POST", "/v1/catalog/programs/"+prog.ID+"/certify", regional, "prog-h-certify", nil)
		var m struct {
			ID          string
			WeeklyHours int `json:"weekly_hours"`
		}
		e.must(http.StatusOK, "POST", "/v1/catalog/modules", school, "mod-h", map[string]any{"program_id": prog.ID, "name": "Chess, spring",
			"price": "3100.00", "normative_price": "3100.00", "hours": 36, "weekly_hours": 3}).json(t, &m)
		if m.WeeklyHours != 3 {
			t.Fatalf("module: %+v", m)
		}
		mod.ID = m.ID
		e.must(http.StatusOK, "POST", "/v1/catalog/groups", school, "grp-h", map[string]any{"module_id": mod.ID, "name": "Chess A",
			"start": "2026-03-01", "end": "2026-05-31", "capacity": 10}).json(t, &group)

		var issued issueJSON
		e.must(http.StatusCreated, "POST", "/v1/certificates", regional, "issue-weekly", map[string]any{
			"holder": map[string]any{"person_id": "child-weekly", "full_name": "Орлова Вера", "birth_date": "2016-05-01",
				"municipality": demo.MunCity, "citizenship": "RU", "registration": "permanent"},
			"guardian_id": guardianE2E, "category": "weekly", "funded": true,
		}).json(t, &issued)
		cert := issued.Certificate.ID
		e.must(http.StatusOK, "POST", "/v1/certificates/"+cert+"/activate", e.municipality(demo.MunCity), "activate-weekly", nil)

		var k struct {
			Price struct{ Total, Cert string }
			Hours *struct{ Base, Extra int }
		}
		holder := e.holder(guardianE2E)
		e.must(http.StatusCreated, "POST", "/v1/applications", holder, "apply-weekly", map[string]any{"certificate_id": cert, "group_id": group.ID}).json(t, &k)
		if k.Hours == nil || k.Hours.Base != 3 || k.Hours.Extra != 0 || k.Price.Cert != k.Price.Total {
			t.Fatalf("contract: %+v", k)
		}
		var cab struct {
			Money *struct{ Nominal, Balance, Reserved string }
			Hours *struct {
				Base      int
				Extra     int
				UsedBase  int `json:"used_base"`
				UsedExtra int `json:"used_extra"`
				FreeBase  int `json:"free_base"`
				FreeExtra int `json:"free_extra"`
			}
		}
		e.must(http.StatusOK, "GET", "/v1/certificates/"+cert, holder, "", nil).json(t, &cab)
		if cab.Hours == nil || cab.Hours.Base != 6 || cab.Hours.UsedBase != 3 || cab.Hours.FreeBase != 3 || cab.Hours.FreeExtra != 2 {
			t.Fatalf("cabinet hours: %+v", cab.Hours)
		}
		if cab.Money == nil || cab.Money.Reserved != k.Price.Cert || cab.Money.Balance != "0.00" || cab.Money.Nominal != k.Price.Cert {
			t.Fatalf("cabinet money of a certificate in hours: %+v", cab.Money)
		}
	})
}
