package api_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edufund/edufund/examples/server/demo"
)

// importBody is a small region's addition: a category, a provider with an
// agreement and its catalogue, a budget, a child's certificate.
func importBody(nominal string) map[string]any {
	prov, prog, mod, grp := "0190a5c2-0000-7000-8000-0000000000a1", "0190a5c2-0000-7000-8000-0000000000a2",
		"0190a5c2-0000-7000-8000-0000000000a3", "0190a5c2-0000-7000-8000-0000000000a4"
	return map[string]any{
		"categories": []any{map[string]any{"code": "large-family", "nominal": nominal, "max_count": 100}},
		"providers":  []any{map[string]any{"id": prov, "name": "Шахматный клуб «Ладья»", "inn": "5401000099", "municipality": demo.MunCity}},
		"agreements": []any{map[string]any{"provider_id": prov, "municipality": demo.MunCity, "period_start": "2026-01-01"}},
		"programs": []any{map[string]any{"id": prog, "provider_id": prov, "name": "Шахматы", "scheme": "supplementary", "direction": "social_pedagogical",
			"registry": "certified", "min_age": 6, "max_age": 17, "enrolment_open": true, "tags": []string{"шахматы"}}},
		"modules": []any{map[string]any{"id": mod, "program_id": prog, "name": "Дебюты", "price": "6000.00", "normative_price": "6000.00", "hours": 64}},
		"groups":  []any{map[string]any{"id": grp, "module_id": mod, "name": "Начинающие", "start": "2026-04-01", "end": "2026-12-31", "capacity": 10}},
		"budgets": []any{map[string]any{"municipality": demo.MunRural, "period_start": "2026-01-01", "limit": "3000000.00"}},
		"certificates": []any{map[string]any{"number": "7700000001", "person_id": "child-imported-1", "full_name": "Смирнов Артём Олегович",
			"birth_date": "2016-06-01", "holder_municipality": demo.MunCity, "category": "large-family", "issued_on": "2025-09-01",
			"guardian_id": "parent-imported-1", "status": "active", "funded": true}},
	}
}

type importJSON struct {
	CheckOnly bool `json:"check_only"`
	Written   int
	Sections  []struct {
		Section                     string
		Created, Updated, Unchanged int
	}
}

// TestImport: the regional operator imports a region's rows through the
// API; they read back through the GETs; the same body again writes
// nothing; a body with bad rows answers each of them and writes nothing.
func TestImport(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		regional := e.regional()
		var res importJSON
		e.must(http.StatusOK, "POST", "/v1/admin/import?check=true", regional, "import-check", importBody("35000.00")).json(t, &res)
		assert.True(t, res.CheckOnly)
		assert.Zero(t, res.Written)
		e.must(http.StatusNotFound, "GET", "/v1/providers/0190a5c2-0000-7000-8000-0000000000a1", regional, "", nil)

		e.must(http.StatusOK, "POST", "/v1/admin/import", regional, "import-1", importBody("35000.00")).json(t, &res)
		assert.Equal(t, 7, res.Written, "agreements are written with their provider")

		var card providerCardJSON
		e.must(http.StatusOK, "GET", "/v1/providers/0190a5c2-0000-7000-8000-0000000000a1", e.municipality(demo.MunCity), "", nil).json(t, &card)
		assert.True(t, card.Full)
		assert.Equal(t, "5401000099", card.INN)
		var progs struct{ Items []programCardJSON }
		e.must(http.StatusOK, "GET", "/v1/providers/0190a5c2-0000-7000-8000-0000000000a1/programs", e.holder("parent-imported-1"), "", nil).json(t, &progs)
		require.Len(t, progs.Items, 1)
		require.Len(t, progs.Items[0].Modules, 1)
		require.Len(t, progs.Items[0].Modules[0].Groups, 1)
		assert.Equal(t, 10, progs.Items[0].Modules[0].Groups[0].SeatsFree)
		var cat struct{ Funded int64 }
		e.must(http.StatusOK, "GET", "/v1/admin/categories/large-family", regional, "", nil).json(t, &cat)
		assert.Equal(t, int64(1), cat.Funded)
		var certs struct {
			Items []struct{ Number, Status, Kind string }
		}
		e.must(http.StatusOK, "GET", "/v1/certificates", e.holder("parent-imported-1"), "", nil).json(t, &certs)
		require.Len(t, certs.Items, 1)
		assert.Equal(t, []string{"7700000001", "active", "funded"}, []string{certs.Items[0].Number, certs.Items[0].Status, certs.Items[0].Kind})

		// Again, under another key: every row holds, nothing is written.
		e.must(http.StatusOK, "POST", "/v1/admin/import", regional, "import-2", importBody("35000.00")).json(t, &res)
		assert.Zero(t, res.Written)
		for _, s := range res.Sections {
			assert.Zero(t, s.Created+s.Updated, s.Section)
		}

		// Bad rows: each is answered, and the good change in the same body
		// (a new nominal) is not written.
		bad := importBody("40000.00")
		bad["budgets"] = []any{map[string]any{"municipality": "atlantis", "period_start": "2026-02-01", "limit": "1.00"}}
		bad["certificates"].([]any)[0].(map[string]any)["number"] = "77"
		p := e.must(http.StatusBadRequest, "POST", "/v1/admin/import", regional, "import-3", bad).problem(t)
		assert.Equal(t, "invalid", p.Code)
		fields := []string{}
		for _, row := range p.Rows {
			assert.Equal(t, "body", row.File)
			assert.Positive(t, row.Line)
			fields = append(fields, row.Section+"."+row.Field)
		}
		assert.Equal(t, []string{"budgets.municipality", "budgets.period_start", "certificates.number"}, fields)
		var city struct{ Nominal string }
		e.must(http.StatusOK, "GET", "/v1/admin/categories/large-family", regional, "", nil).json(t, &city)
		assert.Equal(t, "35000.00", city.Nominal)

		e.must(http.StatusForbidden, "POST", "/v1/admin/import", e.municipality(demo.MunCity), "import-4", importBody("35000.00"))
		// A section the document does not have: the document refuses it,
		// and so does the server.
		e.validate = false
		if p := e.must(http.StatusBadRequest, "POST", "/v1/admin/import", regional, "import-5", map[string]any{"teachers": []any{}}).problem(t); len(p.Rows) != 1 {
			t.Errorf("an unknown section: %+v", p)
		}
		e.validate = true
	})
}
