package api_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/edufund/edufund/examples/server/demo"
)

type searchJSON struct {
	Items []struct {
		Program struct{ ID, Name string }
		Tags    []string
		Rank    int
	}
	Total      int
	Directions map[string]int
	Next       string
}

// TestSearchOverHTTP: the navigator needs no token; Russian words find a
// program by its texts, a Latin one by its title; pages follow each other
// by the cursor; bad parameters are refused naming them.
func TestSearchOverHTTP(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		get := func(q url.Values) searchJSON {
			t.Helper()
			var out searchJSON
			e.must(http.StatusOK, "GET", "/v1/catalog?"+q.Encode(), "", "", nil).json(t, &out)
			return out
		}
		lego := get(url.Values{"q": {"lego"}})
		if lego.Total != 1 || lego.Items[0].Program.Name != "Робототехника на LEGO" || lego.Items[0].Rank == 0 {
			t.Fatalf("lego: %+v", lego)
		}
		robots := get(url.Values{"q": {"роботами соревнования"}})
		if robots.Total != 1 || robots.Items[0].Program.ID != lego.Items[0].Program.ID {
			t.Fatalf("words of the description: %+v", robots)
		}

		all := get(url.Values{"limit": {"100"}})
		counted := 0
		for _, n := range all.Directions {
			counted += n
		}
		if counted != all.Total {
			t.Fatalf("the directions count %d programs of %d", counted, all.Total)
		}
		if free := get(url.Values{"free_seats": {"true"}, "max_price": {"10000.00"}}); free.Total == 0 || free.Total >= all.Total {
			t.Fatalf("free seats at 10000.00 at most: %d of %d", free.Total, all.Total)
		}
		var paged []string
		q := url.Values{"limit": {"3"}}
		for {
			page := get(q)
			for _, it := range page.Items {
				paged = append(paged, it.Program.ID)
			}
			if page.Next == "" {
				break
			}
			q.Set("cursor", page.Next)
		}
		if len(paged) != all.Total || all.Total < 7 {
			t.Fatalf("paged through %d of %d", len(paged), all.Total)
		}
		for i, it := range all.Items {
			if paged[i] != it.Program.ID {
				t.Fatalf("page order differs at %d", i)
			}
		}

		// For a certificate, as its guardian: each program says whether
		// the child can enrol now; a stranger's certificate does not exist.
		misha := e.demo.CertificateID("child-active-funded").String()
		var forMisha struct {
			Items []struct {
				Program struct{ Name string }
				Refusal *struct{ Code, Message string }
			}
			Total int
		}
		guardian := e.holder(demo.GuardianIvanova)
		e.must(http.StatusOK, "GET", "/v1/certificates/"+misha+"/search?"+url.Values{"limit": {"100"}}.Encode(), guardian, "", nil).json(t, &forMisha)
		refused := 0
		for _, it := range forMisha.Items {
			if it.Refusal != nil {
				refused++
				if it.Refusal.Code == "" || it.Refusal.Message == "" {
					t.Fatalf("a refusal without its code or reason: %+v", it)
				}
			}
		}
		if forMisha.Total != all.Total || refused == 0 || refused == len(forMisha.Items) {
			t.Fatalf("for a certificate: %d programs, %d refused", len(forMisha.Items), refused)
		}
		var only searchJSON
		e.must(http.StatusOK, "GET", "/v1/certificates/"+misha+"/search?"+url.Values{"limit": {"100"}, "only_enrollable": {"true"}}.Encode(), guardian, "", nil).json(t, &only)
		if len(only.Items) != len(forMisha.Items)-refused {
			t.Fatalf("only where he can enrol: %d, want %d", len(only.Items), len(forMisha.Items)-refused)
		}
		e.must(http.StatusNotFound, "GET", "/v1/certificates/"+misha+"/search", e.holder("guardian-stranger"), "", nil)
		e.must(http.StatusUnauthorized, "GET", "/v1/certificates/"+misha+"/search", "", "", nil)

		e.validate = false // the requests below break the document's rules on purpose
		for param, bad := range map[string]string{"cursor": "not-a-cursor", "limit": "1000", "age": "old", "direction": "cooking", "provider_id": "x", "colour": "red", "month": "2026-13", "free_seats": "yes", "max_price": "-1.00"} {
			p := e.must(http.StatusBadRequest, "GET", "/v1/catalog?"+url.Values{param: {bad}}.Encode(), "", "", nil).problem(t)
			if p.Field != param {
				t.Errorf("%s=%s: refused naming %q", param, bad, p.Field)
			}
		}
	})
}
