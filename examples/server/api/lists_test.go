package api_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/edufund/edufund/examples/server/demo"
)

type listedCertificate struct {
	ID           string `json:"id"`
	Scheme       string `json:"scheme"`
	Municipality string `json:"municipality"`
	Status       string `json:"status"`
}

type certificatePageJSON struct {
	Items []listedCertificate `json:"items"`
	Next  string              `json:"next"`
}

type listedContract struct {
	contractJSON
	Municipality string `json:"municipality"`
	Reason       string `json:"reason"`
}

type contractPageJSON struct {
	Items []listedContract `json:"items"`
	Next  string           `json:"next"`
}

// listAll follows a list's pages from path (which has a query) to the
// last, limit items a page, and returns the ids in order. It fails on an
// id seen twice, a page larger than limit, a next on a short page, or a
// last page that names a next.
func listAll(t *testing.T, e *env, path, token string, limit int) []string {
	t.Helper()
	var (
		ids   []string
		after string
	)
	for pages := 0; ; pages++ {
		if pages > 100 {
			t.Fatalf("%s: more than 100 pages", path)
		}
		q := fmt.Sprintf("%s&limit=%d", path, limit)
		if after != "" {
			q += "&after=" + after
		}
		r := e.must(http.StatusOK, "GET", q, token, "", nil)
		var page struct {
			Items []struct {
				ID string `json:"id"`
			} `json:"items"`
			Next *string `json:"next"`
		}
		r.json(t, &page)
		if len(page.Items) > limit {
			t.Fatalf("GET %s: %d items, limit %d", q, len(page.Items), limit)
		}
		for _, it := range page.Items {
			if slices.Contains(ids, it.ID) {
				t.Fatalf("GET %s: %s again", q, it.ID)
			}
			ids = append(ids, it.ID)
		}
		if page.Next == nil {
			return ids
		}
		if len(page.Items) < limit || *page.Next != page.Items[len(page.Items)-1].ID {
			t.Fatalf("GET %s: next %s after %d items", q, *page.Next, len(page.Items))
		}
		after = *page.Next
	}
}

func certificateIDs(t *testing.T, e *env, query, token string) []string {
	t.Helper()
	var page certificatePageJSON
	e.must(http.StatusOK, "GET", "/v1/certificates"+query, token, "", nil).json(t, &page)
	if page.Next != "" {
		t.Fatalf("GET /v1/certificates%s: a next on a page of %d", query, len(page.Items))
	}
	ids := []string{}
	for _, c := range page.Items {
		ids = append(ids, c.ID)
	}
	return ids
}

func contractList(t *testing.T, e *env, query, token string) []listedContract {
	t.Helper()
	var page contractPageJSON
	e.must(http.StatusOK, "GET", "/v1/contracts"+query, token, "", nil).json(t, &page)
	if page.Next != "" {
		t.Fatalf("GET /v1/contracts%s: a next on a page of %d", query, len(page.Items))
	}
	return page.Items
}

func contractIDs(ks []listedContract) []string {
	ids := []string{}
	for _, k := range ks {
		ids = append(ids, k.ID)
	}
	return ids
}

// sameSet fails unless got and want hold the same ids, in any order.
func sameSet(t *testing.T, what string, got, want []string) {
	t.Helper()
	g, w := slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(want))
	if !slices.Equal(g, w) {
		t.Errorf("%s: %v, want %v", what, g, w)
	}
}

// badParam asserts that GET path is refused with 400 invalid naming field.
func badParam(t *testing.T, e *env, path, token, field string) {
	t.Helper()
	r := e.do("GET", path, token, "", nil)
	if p := r.problem(t); r.status != http.StatusBadRequest || p.Code != "invalid" || p.Field != field {
		t.Errorf("GET %s: %d %s, want 400 invalid naming %s", path, r.status, r.body, field)
	}
}

// TestListCertificates: each caller lists the certificates within its
// reach, exactly: a parent their children's, a municipality its own, the
// operators their scheme's; a provider none (403); the pages follow each
// other to the end with no repeats; a bad parameter is a 400 naming it.
func TestListCertificates(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		d := e.demo
		ids := func(labels ...string) []string {
			out := []string{}
			for _, l := range labels {
				out = append(out, d.CertificateID(l).String())
			}
			return out
		}
		ivanova, petrov, orlova := e.holder(demo.GuardianIvanova), e.holder(demo.GuardianPetrov), e.holder(demo.AdultOrlova)
		novograd, zarechye, regional, federal := e.municipality(demo.MunCity), e.municipality(demo.MunRural), e.regional(), e.federal()
		children := ids("child-active-funded", "child-issued-accounting", "child-suspended", "child-cancelled", "child-rural-funded", "child-rural-queued")

		sameSet(t, "ivanova", certificateIDs(t, e, "", ivanova), ids("child-active-funded", "child-issued-accounting"))
		sameSet(t, "petrov", certificateIDs(t, e, "", petrov), ids("child-suspended", "child-cancelled"))
		sameSet(t, "orlova", certificateIDs(t, e, "", orlova), ids("adult-issued"))
		sameSet(t, "novograd", certificateIDs(t, e, "", novograd), ids("child-active-funded", "child-issued-accounting", "child-suspended", "child-cancelled"))
		sameSet(t, "zarechye", certificateIDs(t, e, "", zarechye), ids("child-rural-funded", "child-rural-queued"))
		sameSet(t, "regional", certificateIDs(t, e, "", regional), children)
		sameSet(t, "federal", certificateIDs(t, e, "", federal), ids("adult-issued", "adult-queued"))
		var page certificatePageJSON
		e.must(http.StatusOK, "GET", "/v1/certificates", novograd, "", nil).json(t, &page)
		for _, c := range page.Items {
			if c.Municipality != demo.MunCity || c.Scheme != "supplementary" {
				t.Errorf("novograd lists %+v", c)
			}
		}

		// Filters: within the reach they narrow; outside it, an empty page.
		sameSet(t, "ivanova as petrov", certificateIDs(t, e, "?holder="+demo.GuardianPetrov, ivanova), nil)
		sameSet(t, "ivanova as herself", certificateIDs(t, e, "?holder="+demo.GuardianIvanova+"&status=active", ivanova), ids("child-active-funded"))
		sameSet(t, "novograd in zarechye", certificateIDs(t, e, "?municipality="+demo.MunRural, novograd), nil)
		sameSet(t, "novograd's adults", certificateIDs(t, e, "?scheme=digital_skills", novograd), nil)
		sameSet(t, "regional suspended", certificateIDs(t, e, "?status=suspended", regional), ids("child-suspended"))
		sameSet(t, "regional in zarechye", certificateIDs(t, e, "?municipality="+demo.MunRural+"&scheme=supplementary", regional), ids("child-rural-funded", "child-rural-queued"))
		sameSet(t, "regional for petrov", certificateIDs(t, e, "?holder="+demo.GuardianPetrov, regional), ids("child-suspended", "child-cancelled"))
		sameSet(t, "federal's children", certificateIDs(t, e, "?scheme=supplementary", federal), nil)

		// A parent linked to a child by the municipality lists its certificate.
		e.must(http.StatusOK, "POST", "/v1/guardianships", novograd, "lists-link-petrov-misha",
			map[string]any{"guardian_id": demo.GuardianPetrov, "child_id": "child-ivanov-misha"})
		sameSet(t, "petrov linked to misha", certificateIDs(t, e, "", petrov), ids("child-suspended", "child-cancelled", "child-active-funded"))

		// A provider lists none.
		for _, name := range []string{"Робоцентр", "Спортклуб «Заречье»"} {
			r := e.must(http.StatusForbidden, "GET", "/v1/certificates", e.provider(name), "", nil)
			if p := r.problem(t); p.Code != "forbidden" {
				t.Errorf("%s lists certificates: %+v", name, p)
			}
		}

		// The pages, one at a time, are the whole list in its order.
		whole := certificateIDs(t, e, "?limit=200", regional)
		for _, limit := range []int{1, 2, 5} {
			if got := listAll(t, e, "/v1/certificates?scheme=supplementary", regional, limit); !slices.Equal(got, whole) {
				t.Errorf("pages of %d: %v, want %v", limit, got, whole)
			}
		}
		if got := listAll(t, e, "/v1/certificates?status=active", novograd, 1); len(got) != 1 || got[0] != d.CertificateID("child-active-funded").String() {
			t.Errorf("novograd's active certificates by pages: %v", got)
		}
		// The last page names no next.
		r := e.must(http.StatusOK, "GET", "/v1/certificates?limit=6", regional, "", nil)
		if strings.Contains(string(r.body), `"next"`) {
			t.Errorf("the last page names a next: %s", r.body)
		}
		r = e.must(http.StatusOK, "GET", "/v1/certificates?limit=5", regional, "", nil)
		if !strings.Contains(string(r.body), `"next"`) {
			t.Errorf("a full page names no next: %s", r.body)
		}

		// Bad parameters: 400 naming them, never a 500.
		e.validate = false
		for _, c := range []struct{ query, field string }{
			{"limit=0", "limit"}, {"limit=201", "limit"}, {"limit=-1", "limit"}, {"limit=ten", "limit"},
			{"limit=99999999999999999999", "limit"}, {"limit=1&limit=2", "limit"},
			{"status=lost", "status"}, {"status=%00", "status"}, {"scheme=other", "scheme"},
			{"after=zzz", "after"}, {"after=" + uuid.NewString() + "0", "after"}, {"after=00000000-0000-0000-0000-000000000000", "after"},
			{"holder=%00", "holder"}, {"municipality=a%1B%5B31m", "municipality"}, {"unknown=1", "unknown"},
		} {
			badParam(t, e, "/v1/certificates?"+c.query, regional, c.field)
		}
		badParam(t, e, "/v1/certificates?holder=%00", ivanova, "holder")
		badParam(t, e, "/v1/certificates?limit=0", ivanova, "limit")
		e.validate = true
		// An after that is no certificate's id is still a page.
		e.must(http.StatusOK, "GET", "/v1/certificates?after="+uuid.NewString(), regional, "", nil)
	})
}

// TestListContracts: a provider lists its own contracts and applications,
// never another provider's; a holder one certificate's, which they must
// name; the officials their reach; the pages follow each other to the end
// with no repeats; a bad parameter is a 400 naming it.
func TestListContracts(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		d := e.demo
		misha := d.CertificateID("child-active-funded").String()
		football := d.Contract.String()
		roboID, sportID := d.ProviderID("Робоцентр").String(), d.ProviderID("Спортклуб «Заречье»").String()
		robo, sport, palitra := e.provider("Робоцентр"), e.provider("Спортклуб «Заречье»"), e.provider("Художественная школа «Палитра»")
		ivanova, petrov := e.holder(demo.GuardianIvanova), e.holder(demo.GuardianPetrov)
		novograd, zarechye, regional, federal := e.municipality(demo.MunCity), e.municipality(demo.MunRural), e.regional(), e.federal()

		// Three applications to Робоцентр, of three children of one family.
		const family = "guardian-lists"
		var apps []string
		var certs []string
		for i := range 3 {
			c := e.issueChild(family, fmt.Sprintf("child-lists-%d", i), "Списков Ребёнок")
			var k contractJSON
			e.must(http.StatusCreated, "POST", "/v1/applications", e.holder(family), fmt.Sprintf("lists-submit-%d", i),
				map[string]any{"certificate_id": c.ID, "group_id": d.WalkthroughGroup.String()}).json(t, &k)
			if k.ProviderID != roboID || k.Status != "requested" {
				t.Fatalf("application %+v", k)
			}
			apps, certs = append(apps, k.ID), append(certs, c.ID)
		}

		// A provider: its own, and nothing of another provider's.
		sameSet(t, "robo", contractIDs(contractList(t, e, "", robo)), apps)
		sameSet(t, "sport", contractIDs(contractList(t, e, "", sport)), []string{football})
		sameSet(t, "palitra", contractIDs(contractList(t, e, "", palitra)), nil)
		sameSet(t, "robo, its own id", contractIDs(contractList(t, e, "?provider_id="+roboID, robo)), apps)
		sameSet(t, "robo as sport", contractIDs(contractList(t, e, "?provider_id="+sportID, robo)), nil)
		sameSet(t, "robo, misha's", contractIDs(contractList(t, e, "?certificate_id="+misha, robo)), nil)
		sameSet(t, "robo, requested", contractIDs(contractList(t, e, "?status=requested", robo)), apps)
		sameSet(t, "robo, active or closed", contractIDs(contractList(t, e, "?status=active,closed", robo)), nil)
		sameSet(t, "sport, active", contractIDs(contractList(t, e, "?status=active", sport)), []string{football})
		sameSet(t, "sport, requested or accepted", contractIDs(contractList(t, e, "?status=requested,accepted", sport)), nil)

		// A holder: one certificate they act for, which they must name.
		r := e.must(http.StatusBadRequest, "GET", "/v1/contracts", ivanova, "", nil)
		if p := r.problem(t); p.Code != "invalid" || p.Field != "certificate_id" {
			t.Errorf("a holder without certificate_id: %+v", p)
		}
		e.must(http.StatusBadRequest, "GET", "/v1/contracts?provider_id="+sportID, ivanova, "", nil)
		sameSet(t, "ivanova, misha's", contractIDs(contractList(t, e, "?certificate_id="+misha, ivanova)), []string{football})
		sameSet(t, "ivanova, misha's requested", contractIDs(contractList(t, e, "?certificate_id="+misha+"&status=requested", ivanova)), nil)
		sameSet(t, "the family, its first child's", contractIDs(contractList(t, e, "?certificate_id="+certs[0], e.holder(family))), apps[:1])
		for who, tok := range map[string]string{"petrov": petrov, "orlova": e.holder(demo.AdultOrlova), "the family": e.holder(family)} {
			r := e.must(http.StatusNotFound, "GET", "/v1/contracts?certificate_id="+misha, tok, "", nil)
			if p := r.problem(t); p.Code != "not_found" || strings.Contains(string(r.body), football) {
				t.Errorf("%s lists misha's contracts: %s", who, r.body)
			}
		}
		e.must(http.StatusNotFound, "GET", "/v1/contracts?certificate_id="+uuid.NewString(), ivanova, "", nil)

		// The officials: their reach.
		all := append([]string{football}, apps...)
		sameSet(t, "novograd", contractIDs(contractList(t, e, "", novograd)), all)
		sameSet(t, "zarechye", contractIDs(contractList(t, e, "", zarechye)), nil)
		sameSet(t, "regional", contractIDs(contractList(t, e, "", regional)), all)
		sameSet(t, "regional, sport's", contractIDs(contractList(t, e, "?provider_id="+sportID, regional)), []string{football})
		sameSet(t, "regional, misha's", contractIDs(contractList(t, e, "?certificate_id="+misha, regional)), []string{football})
		sameSet(t, "regional, zarechye's", contractIDs(contractList(t, e, "?municipality="+demo.MunRural, regional)), nil)
		sameSet(t, "federal", contractIDs(contractList(t, e, "", federal)), nil)
		for _, k := range contractList(t, e, "", novograd) {
			if k.Municipality != demo.MunCity {
				t.Errorf("novograd lists %+v", k)
			}
		}
		// No caller outside misha's reach lists his contract, whatever it asks.
		for who, tok := range map[string]string{"robo": robo, "palitra": palitra, "zarechye": zarechye, "federal": federal} {
			for _, q := range []string{"", "?certificate_id=" + misha, "?provider_id=" + sportID, "?municipality=" + demo.MunCity} {
				r := e.must(http.StatusOK, "GET", "/v1/contracts"+q, tok, "", nil)
				if strings.Contains(string(r.body), football) || strings.Contains(string(r.body), misha) {
					t.Errorf("%s GET /v1/contracts%s leaks misha's contract: %s", who, q, r.body)
				}
			}
		}

		// The pages, one at a time, are the whole list in its order.
		var whole []string
		for _, k := range contractList(t, e, "?limit=200", regional) {
			whole = append(whole, k.ID)
		}
		for _, limit := range []int{1, 2, 3} {
			if got := listAll(t, e, "/v1/contracts?scheme=supplementary", regional, limit); !slices.Equal(got, whole) {
				t.Errorf("pages of %d: %v, want %v", limit, got, whole)
			}
		}
		if got := listAll(t, e, "/v1/contracts?status=requested", robo, 1); !slices.Equal(slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(apps))) {
			t.Errorf("robo's applications by pages: %v, want %v", got, apps)
		}

		// Bad parameters: 400 naming them, never a 500.
		e.validate = false
		for _, c := range []struct{ query, field string }{
			{"limit=0", "limit"}, {"limit=201", "limit"}, {"limit=x", "limit"},
			{"status=lost", "status"}, {"status=requested,,active", "status"}, {"status=", "status"}, {"status=Requested", "status"},
			{"status=requested&status=active", "status"}, {"status=%00", "status"},
			{"scheme=other", "scheme"}, {"after=zzz", "after"}, {"after=00000000-0000-0000-0000-000000000000", "after"},
			{"provider_id=" + url.QueryEscape("{"+roboID+"}"), "provider_id"}, {"certificate_id=x", "certificate_id"},
			{"municipality=%00", "municipality"}, {"certificate=" + misha, "certificate"},
		} {
			badParam(t, e, "/v1/contracts?"+c.query, regional, c.field)
		}
		badParam(t, e, "/v1/contracts?certificate_id="+misha+"&limit=1000", ivanova, "limit")
		badParam(t, e, "/v1/contracts?certificate_id="+misha+"&status=lost", ivanova, "status")
	})
}

// TestRefuseReason: a provider refuses saying why; without a reason the
// refusal is a 400 naming reason and changes nothing; the reason is then
// in the contract, for the provider and the family.
func TestRefuseReason(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		const family = "guardian-refused"
		c := e.issueChild(family, "child-refused", "Отказанов Семён Ильич")
		var k contractJSON
		e.must(http.StatusCreated, "POST", "/v1/applications", e.holder(family), "refuse-submit",
			map[string]any{"certificate_id": c.ID, "group_id": e.demo.WalkthroughGroup.String()}).json(t, &k)
		robo, path := e.provider("Робоцентр"), "/v1/contracts/"+k.ID+"/refuse"

		// The document requires the reason, so these are sent unchecked.
		e.validate = false
		for i, b := range []struct {
			body  any
			field string
		}{
			{map[string]any{}, "reason"},
			{map[string]any{"reason": ""}, "reason"},
			{map[string]any{"reason": " \t\n "}, "reason"},
			{map[string]any{"reason": "a\x00b"}, "reason"},
			{map[string]any{"reason": "\x1b[31mred"}, "reason"},
			{map[string]any{"reason": strings.Repeat("я", 1001)}, "reason"},
			{map[string]any{"reason": 1}, "reason"},
			{map[string]any{"reason": "x", "why": "y"}, "why"},
			{nil, "body"},
		} {
			r := e.do("POST", path, robo, fmt.Sprintf("refuse-bad-%d", i), b.body)
			if p := r.problem(t); r.status != http.StatusBadRequest || p.Code != "invalid" || p.Field != b.field {
				t.Errorf("refuse with %v: %d %s, want 400 naming %s", b.body, r.status, r.body, b.field)
			}
		}
		e.validate = true
		var still contractJSON
		e.must(http.StatusOK, "GET", "/v1/contracts/"+k.ID, robo, "", nil).json(t, &still)
		if still.Status != "requested" {
			t.Fatalf("after the refused refusals the application is %s", still.Status)
		}

		// Another provider, a holder: not theirs to refuse.
		e.must(http.StatusForbidden, "POST", path, e.provider("Спортклуб «Заречье»"), "refuse-foreign", map[string]any{"reason": "Нет мест"})
		e.must(http.StatusForbidden, "POST", path, e.holder(family), "refuse-holder", map[string]any{"reason": "Нет мест"})

		var out struct {
			Status string `json:"status"`
			Reason string `json:"reason"`
		}
		e.must(http.StatusOK, "POST", path, robo, "refuse-ok", map[string]any{"reason": "  Группа набрана,\nмест нет  "}).json(t, &out)
		const reason = "Группа набрана,\nмест нет"
		if out.Status != "refused" || out.Reason != reason {
			t.Fatalf("refused: %+v", out)
		}
		for who, tok := range map[string]string{"robo": robo, "the family": e.holder(family), "novograd": e.municipality(demo.MunCity)} {
			e.must(http.StatusOK, "GET", "/v1/contracts/"+k.ID, tok, "", nil).json(t, &out)
			if out.Reason != reason {
				t.Errorf("%s reads the contract's reason %q", who, out.Reason)
			}
		}
		ks := contractList(t, e, "?certificate_id="+c.ID+"&status=refused", e.holder(family))
		if len(ks) != 1 || ks[0].Reason != reason {
			t.Errorf("the family's refused contracts: %+v", ks)
		}
		var cab struct {
			Contracts []json.RawMessage `json:"contracts"`
		}
		e.must(http.StatusOK, "GET", "/v1/certificates/"+c.ID, e.holder(family), "", nil).json(t, &cab)
		if len(cab.Contracts) != 1 || !strings.Contains(string(cab.Contracts[0]), `"reason":"Группа набрана,\nмест нет"`) {
			t.Errorf("the cabinet's contract: %s", cab.Contracts)
		}
		// Other contracts have no reason at all.
		r := e.must(http.StatusOK, "GET", "/v1/contracts/"+e.demo.Contract.String(), e.provider("Спортклуб «Заречье»"), "", nil)
		if strings.Contains(string(r.body), `"reason"`) {
			t.Errorf("an active contract has a reason: %s", r.body)
		}
	})
}
