package api_test

import (
	"maps"
	"net/http"
	"testing"

	"github.com/edufund/edufund/examples/server/demo"
	"github.com/edufund/edufund/funding"
	"github.com/edufund/edufund/storage/storagetest"
)

type forecastJSON struct {
	Municipality string
	Period       struct{ Start, End string }
	Unlimited    bool
	Limit        *funding.Money
	Spent        funding.Money
	Reserved     funding.Money
	Contracts    int
	Scheduled    []struct {
		Month  string
		Amount funding.Money
	}
	Queued     int
	QueueMoney funding.Money `json:"queue_money"`
	Need       funding.Money
	Headroom   *funding.Money
	Over       bool
}

type whatIfJSON struct {
	Proposal  string
	Parameter *parameterJSON
	Category  *struct {
		Before        *struct{ Code string }
		After         struct{ Code string }
		NominalBefore funding.Money `json:"nominal_before"`
		NominalAfter  funding.Money `json:"nominal_after"`
	}
	Refusal  *struct{ Code, Message string }
	Affected int
	Changes  []struct {
		Number        string
		Municipality  string
		BalanceBefore funding.Money `json:"balance_before"`
		BalanceAfter  funding.Money `json:"balance_after"`
	}
	Moved    funding.Money
	Refused  int
	Refusals []struct{ Number, Municipality, Reason string }
	Budget   []struct {
		Municipality  string
		Before, After forecastJSON
	}
	AdvanceMonth string `json:"advance_month"`
	Advances     []struct {
		Municipality  string
		Before, After funding.Money
	}
	Notes []string
}

// TestForecastAPI: GET /v1/admin/forecast gives every official the budget
// forecast of the municipalities it may see (a municipal authority its
// own), each month's schedule adding up to the reserve, the demo's queued
// rural child priced at its category's nominal; other roles are refused.
func TestForecastAPI(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		var all struct{ Items []forecastJSON }
		e.must(http.StatusOK, "GET", "/v1/admin/forecast", e.regional(), "", nil).json(t, &all)
		if len(all.Items) != 2 || all.Items[0].Municipality != demo.MunCity || all.Items[1].Municipality != demo.MunRural {
			t.Fatalf("the region's forecast: %+v", all.Items)
		}
		for _, f := range all.Items {
			sum := funding.Zero
			for _, m := range f.Scheduled {
				sum = sum.Add(m.Amount)
			}
			if !sum.Equal(f.Reserved) || f.Scheduled[0].Month != "2026-03" || f.Scheduled[len(f.Scheduled)-1].Month != "2026-12" {
				t.Errorf("%s: scheduled %+v adds up to %s, reserved %s", f.Municipality, f.Scheduled, sum, f.Reserved)
			}
			if f.Period.Start != "2026-01-01" || f.Period.End != "2026-12-31" {
				t.Errorf("%s: period %+v", f.Municipality, f.Period)
			}
			if !f.Need.Equal(f.Spent.Add(f.Reserved).Add(f.QueueMoney)) {
				t.Errorf("%s: need %s ≠ spent + reserved + queue", f.Municipality, f.Need)
			}
			if f.Unlimited != (f.Limit == nil) || f.Unlimited != (f.Headroom == nil) {
				t.Errorf("%s: unlimited %v with limit %v and headroom %v", f.Municipality, f.Unlimited, f.Limit, f.Headroom)
			}
			if f.Limit != nil && !f.Headroom.Equal(f.Limit.Sub(f.Need)) {
				t.Errorf("%s: headroom %s ≠ %s − %s", f.Municipality, f.Headroom, f.Limit, f.Need)
			}
		}
		if city := all.Items[0]; city.Contracts == 0 || !city.Reserved.IsPositive() {
			t.Errorf("Novograd's live contracts: %+v", city)
		}
		if rural := all.Items[1]; rural.Queued != 1 || !rural.QueueMoney.Equal(demo.NominalRural) {
			t.Errorf("Zarechye's queue: %d for %s, want 1 for %s", rural.Queued, rural.QueueMoney, demo.NominalRural)
		}

		var own struct{ Items []forecastJSON }
		for i, mun := range []string{demo.MunCity, demo.MunRural} {
			e.must(http.StatusOK, "GET", "/v1/admin/forecast", e.municipality(mun), "", nil).json(t, &own)
			if len(own.Items) != 1 || own.Items[0].Municipality != mun || !own.Items[0].Need.Equal(all.Items[i].Need) {
				t.Errorf("%s sees %+v", mun, own.Items)
			}
		}
		e.must(http.StatusOK, "GET", "/v1/admin/forecast", e.federal(), "", nil)
		for _, tok := range []string{e.holder(demo.GuardianIvanova), e.provider("Робоцентр")} {
			if p := e.must(http.StatusForbidden, "GET", "/v1/admin/forecast", tok, "", nil).problem(t); p.Code != "forbidden" {
				t.Errorf("a holder or provider: %+v", p)
			}
		}
		e.validate = false
		if p := e.must(http.StatusBadRequest, "GET", "/v1/admin/forecast?municipality=zarechye", e.municipality(demo.MunCity), "", nil).problem(t); p.Field != "municipality" {
			t.Errorf("an unknown query parameter: %+v", p)
		}
	})
}

// TestWhatIfAPI: POST /v1/admin/what-if answers what a parameter's version
// or a category would do, without an Idempotency-Key and writing nothing;
// whoever may make the change may ask (a municipality for its own scope);
// a proposal of the wrong form is 400 naming its field.
func TestWhatIfAPI(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		regional, novograd := e.regional(), e.municipality(demo.MunCity)
		misha := "/v1/certificates/" + e.demo.CertificateID("child-active-funded").String()
		cabinet := string(e.must(http.StatusOK, "GET", misha, regional, "", nil).body)
		rows := storagetest.RowCounts(t, e.db)
		param := func(name, scope, value string) map[string]any {
			return map[string]any{"parameter": map[string]any{"name": name, "scope": scope, "from": "2026-09-01", "value": value}}
		}
		city := func(nominal string) map[string]any {
			return map[string]any{"category": map[string]any{"code": demo.CategoryCity, "nominal": nominal, "max_count": 1000}}
		}

		var rep whatIfJSON
		e.must(http.StatusOK, "POST", "/v1/admin/what-if", regional, "", param("registry_quota", "general", "0")).json(t, &rep)
		if rep.Parameter == nil || rep.Parameter.Value != "0" || rep.Parameter.Reason != "what-if" || rep.Refusal != nil || len(rep.Budget) != 2 || len(rep.Notes) != 1 {
			t.Fatalf("registry_quota: %+v", rep)
		}
		for _, b := range rep.Budget {
			if !b.Before.Need.Equal(b.After.Need) {
				t.Errorf("a parameter moved %s's budget: %+v", b.Municipality, b)
			}
		}

		// A cut below a balance: refused, naming the certificates; nothing moves.
		e.must(http.StatusOK, "POST", "/v1/admin/what-if", regional, "", city("1.00")).json(t, &rep)
		if rep.Refusal == nil || rep.Refusal.Code != "nominal_cut_exceeds_balance" || rep.Refused == 0 || len(rep.Refusals) != rep.Refused ||
			!rep.Moved.IsZero() || len(rep.Changes) != 0 || rep.Category == nil || !rep.Category.NominalAfter.Equal(funding.MustMoney("1.00")) {
			t.Fatalf("a cut: %+v", rep)
		}
		// A raise moves 1000.00 on every funded certificate of the category.
		e.must(http.StatusOK, "POST", "/v1/admin/what-if", regional, "", city("31000.00")).json(t, &rep)
		if rep.Refusal != nil || rep.Affected == 0 || len(rep.Changes) != rep.Affected ||
			!rep.Moved.Equal(funding.MustMoney("1000.00").MulInt(int64(rep.Affected))) {
			t.Fatalf("a raise: %+v", rep)
		}
		for _, c := range rep.Changes {
			if !c.BalanceAfter.Sub(c.BalanceBefore).Equal(funding.MustMoney("1000.00")) || c.Municipality == "" {
				t.Errorf("a raise's change: %+v", c)
			}
		}

		// An advance share: the advances of September before and after.
		e.must(http.StatusOK, "POST", "/v1/admin/what-if", regional, "", param("advance_share", "", "0.5")).json(t, &rep)
		if rep.AdvanceMonth != "2026-09" || len(rep.Advances) != 2 {
			t.Fatalf("advance_share: %+v", rep)
		}

		// A municipality asks about its own minimum age only, and about nothing the region sets.
		e.must(http.StatusOK, "POST", "/v1/admin/what-if", novograd, "", param("children.min_age", demo.MunCity, "17")).json(t, &rep)
		if len(rep.Budget) != 1 || rep.Budget[0].Municipality != demo.MunCity || rep.Refused == 0 {
			t.Fatalf("Novograd's minimum age: %+v", rep)
		}
		for _, x := range rep.Refusals {
			if x.Municipality != demo.MunCity {
				t.Errorf("Novograd sees a certificate of %s", x.Municipality)
			}
		}
		for _, c := range []struct {
			body any
			code string
		}{
			{param("children.min_age", demo.MunRural, "6"), "foreign"},
			{param("registry_quota", "general", "1"), "foreign"},
			{city("31000.00"), "foreign"},
		} {
			if p := e.must(http.StatusForbidden, "POST", "/v1/admin/what-if", novograd, "", c.body).problem(t); p.Code != c.code {
				t.Errorf("Novograd asks %v: %+v, want %s", c.body, p, c.code)
			}
		}
		e.must(http.StatusOK, "POST", "/v1/admin/what-if", e.federal(), "", param("adult_quota", "", "5"))
		e.must(http.StatusForbidden, "POST", "/v1/admin/what-if", e.federal(), "", param("registry_quota", "general", "1"))
		e.must(http.StatusForbidden, "POST", "/v1/admin/what-if", e.holder(demo.GuardianIvanova), "", param("registry_quota", "general", "1"))

		// The wrong form: 400 naming the field.
		e.validate = false
		for _, c := range []struct {
			body  any
			field string
		}{
			{param("registry_quota", "general", "99"), "parameter.value"},
			{param("registry_quota", "everything", "1"), "parameter.scope"},
			{param("advance", "", "0.5"), "parameter.name"},
			{map[string]any{"parameter": map[string]any{"name": "advance_share", "from": "01.09.2026", "value": "0.5"}}, "parameter.from"},
			{map[string]any{"parameter": map[string]any{"name": "advance_share", "from": "2020-01-01", "value": "0.5"}}, "parameter.from"},
			{map[string]any{"parameter": map[string]any{"name": "advance_share", "from": "2026-09-01"}}, "parameter.value"},
			{city("abc"), "category.nominal"},
			{city("-5.00"), "category.nominal"},
			{map[string]any{}, "body"},
			{map[string]any{"parameter": param("advance_share", "", "0.5")["parameter"], "category": city("1.00")["category"]}, "body"},
		} {
			if p := e.must(http.StatusBadRequest, "POST", "/v1/admin/what-if", regional, "", c.body).problem(t); p.Code != "invalid" || p.Field != c.field {
				t.Errorf("%v: %+v, want invalid %s", c.body, p, c.field)
			}
		}
		e.validate = true

		if got := string(e.must(http.StatusOK, "GET", misha, regional, "", nil).body); got != cabinet {
			t.Errorf("a what-if changed a cabinet:\n%s\n%s", cabinet, got)
		}
		if after := storagetest.RowCounts(t, e.db); !maps.Equal(rows, after) {
			t.Errorf("a what-if wrote rows: %v → %v", rows, after)
		}
		var params parameterListJSON
		e.must(http.StatusOK, "GET", "/v1/admin/parameters", regional, "", nil).json(t, &params)
		if len(params.Items) != 0 {
			t.Errorf("a what-if stored a version: %+v", params.Items)
		}
	})
}
