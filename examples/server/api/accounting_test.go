package api_test

import (
	"net/http"
	"testing"
)

// TestProviderAccounting: the region saves a provider's KPP and bank
// details and reads them back; a bad one is refused naming its field.
func TestProviderAccounting(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		bank := map[string]any{"name": "АО «Банк»", "bic": "0450 04999", "account": "40702810000000000777", "correspondent_account": "30101810900000000999"}
		var out struct {
			KPP  string `json:"kpp"`
			Bank struct {
				Name, BIC, Account   string
				CorrespondentAccount string `json:"correspondent_account"`
			}
		}
		e.must(http.StatusOK, "POST", "/v1/admin/providers", e.regional(), "acc-1",
			map[string]any{"name": "Школа счетов", "inn": "5401000078", "kpp": "540101001", "bank": bank}).json(t, &out)
		if out.KPP != "540101001" || out.Bank.BIC != "045004999" || out.Bank.Account != "40702810000000000777" ||
			out.Bank.CorrespondentAccount != "30101810900000000999" || out.Bank.Name != "АО «Банк»" {
			t.Errorf("saved %+v", out)
		}
		var none map[string]any
		e.must(http.StatusOK, "POST", "/v1/admin/providers", e.regional(), "acc-2", map[string]any{"name": "Школа без счёта", "inn": "5401000079"}).json(t, &none)
		if _, ok := none["bank"]; ok {
			t.Errorf("a provider without bank details shows %v", none["bank"])
		}
		for i, tc := range []struct {
			body  map[string]any
			field string
		}{
			{map[string]any{"kpp": "54010100"}, "kpp"},
			{map[string]any{"bank": map[string]any{"name": "Банк", "bic": "04500499", "account": "40702810000000000777"}}, "bank.bic"},
			{map[string]any{"bank": map[string]any{"name": "Банк", "bic": "045004999", "account": "4070281000000000077"}}, "bank.account"},
			{map[string]any{"bank": map[string]any{"name": "", "bic": "045004999", "account": "40702810000000000777"}}, "bank.name"},
		} {
			tc.body["name"], tc.body["inn"] = "Школа", "5401000080"
			e.validate = false // the document refuses some of these itself
			p := e.must(http.StatusBadRequest, "POST", "/v1/admin/providers", e.regional(), "acc-bad-"+string(rune('a'+i)), tc.body).problem(t)
			e.validate = true
			if p.Code != "invalid" || p.Field != tc.field {
				t.Errorf("%v: %+v, want invalid %s", tc.body, p, tc.field)
			}
		}
	})
}
