package api_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/edufund/edufund/examples/server/demo"
)

var year2026 = map[string]string{"start": "2026-01-01", "end": "2026-12-31"}

type eligibilityJSON struct {
	Eligible bool
	On       string
	Reasons  []struct{ Rule, Message string }
}

func (r eligibilityJSON) rules() string {
	var rs []string
	for _, x := range r.Reasons {
		rs = append(rs, x.Rule)
	}
	return strings.Join(rs, ",")
}

// TestEligibility decides both schemes over HTTP with the region's policy
// and the person's certificates, and answers a parent only about a child
// linked to them: nobody else learns whether a child holds a certificate.
func TestEligibility(t *testing.T) {
	e := newEnv(t, storeKinds()[0])
	check := func(token string, body map[string]any) eligibilityJSON {
		t.Helper()
		var out eligibilityJSON
		e.must(http.StatusOK, "POST", "/v1/eligibility", token, "", body).json(t, &out)
		if out.On != "2026-03-10" {
			t.Fatalf("decided on %s", out.On)
		}
		return out
	}
	child := func(person, birth, mun string) map[string]any {
		return map[string]any{"scheme": "supplementary", "holder": map[string]any{"person_id": person, "full_name": "Ребёнок", "birth_date": birth, "municipality": mun}}
	}
	regional := e.regional()
	if r := check(regional, child("child-new", "2018-01-01", demo.MunCity)); !r.Eligible || len(r.Reasons) != 0 {
		t.Errorf("an 8-year-old of Novograd: %+v", r)
	}
	if r := check(regional, child("child-young", "2023-01-01", "atlantis")); r.Eligible || r.rules() != "age_below_minimum,municipality_not_participating" {
		t.Errorf("a 3-year-old of Atlantis: %+v", r)
	}
	// Misha holds a certificate: everyone learns that one exists, nobody its
	// number (a credential of the ByName protection).
	var cab struct{ Certificate struct{ Number string } }
	e.must(http.StatusOK, "GET", "/v1/certificates/"+e.demo.CertificateID("child-active-funded").String(), e.holder(demo.GuardianIvanova), "", nil).json(t, &cab)
	misha := child("child-ivanov-misha", "2017-03-14", demo.MunCity)
	for who, tok := range map[string]string{"regional": regional, "guardian": e.holder(demo.GuardianIvanova), "municipality": e.municipality(demo.MunCity)} {
		if r := check(tok, misha); r.Eligible || r.rules() != "certificate_already_issued" || strings.Contains(r.Reasons[0].Message, cab.Certificate.Number) {
			t.Errorf("%s on Misha: %+v", who, r)
		}
	}
	// Another parent learns nothing, not even that a certificate exists:
	// a parent asks only about a child linked to them.
	for _, body := range []map[string]any{misha, child("child-new", "2018-01-01", demo.MunCity)} {
		r := e.must(http.StatusForbidden, "POST", "/v1/eligibility", e.holder(demo.GuardianPetrov), "", body)
		if p := r.problem(t); p.Code != "not_guardian" || strings.Contains(string(r.body), "already") {
			t.Errorf("another parent on %v: %s", body["holder"], r.body)
		}
	}
	// Ivanova asks about her son Kolya, linked to her and without a certificate yet.
	if r := check(e.holder(demo.GuardianIvanova), child(demo.ChildKolya, "2017-05-01", demo.MunCity)); !r.Eligible {
		t.Errorf("Ivanova on Kolya: %+v", r)
	}
	// Adults: for themselves, or the federal operator for anyone.
	adult := func(person, education string) map[string]any {
		return map[string]any{"scheme": "digital_skills", "holder": map[string]any{"person_id": person, "full_name": "Взрослый", "birth_date": "1990-05-05",
			"sex": "female", "citizenship": "RU", "education": education, "region": demo.Region, "registration": "permanent", "municipality": demo.MunCity}}
	}
	if r := check(e.holder("person-new"), adult("person-new", "higher")); !r.Eligible {
		t.Errorf("an eligible adult: %+v", r)
	}
	if r := check(e.holder(demo.AdultOrlova), adult(demo.AdultOrlova, "higher")); r.Eligible || r.rules() != "certificate_already_issued_this_year" {
		t.Errorf("Orlova again this year: %+v", r)
	}
	if r := check(e.federal(), adult("person-school", "general")); r.Eligible || r.rules() != "education_not_eligible" {
		t.Errorf("an adult with general education: %+v", r)
	}
	e.must(http.StatusForbidden, "POST", "/v1/eligibility", e.holder(demo.AdultKuznetsov), "", adult(demo.AdultOrlova, "higher"))
	e.must(http.StatusForbidden, "POST", "/v1/eligibility", e.federal(), "", misha)
	e.must(http.StatusForbidden, "POST", "/v1/eligibility", e.municipality(demo.MunRural), "", misha)
	if p := e.must(http.StatusBadRequest, "POST", "/v1/eligibility", regional, "", map[string]any{"scheme": "supplementary", "holder": map[string]any{"person_id": "x", "full_name": "y", "birth_date": "2015-02-30"}}).problem(t); p.Field != "holder.birth_date" {
		t.Errorf("bad date: %+v", p)
	}
}

// TestOperators sets limits and categories, builds a provider's catalog
// with the tenant checks, and runs a prolongation to its acceptance by the
// holder's silence, on every store.
func TestOperators(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		regional, novograd, zarechye := e.regional(), e.municipality(demo.MunCity), e.municipality(demo.MunRural)

		// Budget and direction limits: the region for any municipality, a
		// municipality for its own; only the region's periods.
		var b struct {
			Municipality, Limit, Used string
			Period                    struct{ Start, End string }
		}
		e.must(http.StatusOK, "POST", "/v1/admin/budgets", novograd, "budget-1", map[string]any{"municipality": demo.MunCity, "period": year2026, "limit": "6000000.00"}).json(t, &b)
		if b.Limit != "6000000.00" || b.Used == "" || b.Period.Start != "2026-01-01" {
			t.Fatalf("budget: %+v", b)
		}
		e.must(http.StatusForbidden, "POST", "/v1/admin/budgets", zarechye, "budget-2", map[string]any{"municipality": demo.MunCity, "period": year2026, "limit": "1.00"})
		// Below what is already reserved and spent (Misha's football): refused.
		if p := e.must(http.StatusUnprocessableEntity, "POST", "/v1/admin/budgets", regional, "budget-3", map[string]any{"municipality": demo.MunCity, "period": year2026, "limit": "1.00"}).problem(t); p.Code != "limit_below_use" {
			t.Fatalf("budget below use: %+v", p)
		}
		if p := e.must(http.StatusBadRequest, "POST", "/v1/admin/budgets", regional, "budget-4", map[string]any{"municipality": demo.MunCity, "period": map[string]string{"start": "2026-03-01", "end": "2026-12-31"}, "limit": "1.00"}).problem(t); p.Field != "period" {
			t.Fatalf("budget for a period not the region's: %+v", p)
		}
		if p := e.must(http.StatusBadRequest, "POST", "/v1/admin/budgets", regional, "budget-5", map[string]any{"municipality": "atlantis", "period": year2026, "limit": "1.00"}).problem(t); p.Field != "municipality" {
			t.Fatalf("budget of a stranger: %+v", p)
		}
		var dl struct{ Limit, Used int }
		e.must(http.StatusOK, "POST", "/v1/admin/direction-limits", regional, "dir-1", map[string]any{"municipality": demo.MunRural, "direction": "arts", "period": year2026, "limit": 0}).json(t, &dl)
		if dl.Limit != 0 {
			t.Fatalf("direction limit 0 (none): %+v", dl)
		}
		var cat struct{ Code, Nominal string }
		e.must(http.StatusOK, "POST", "/v1/admin/categories", regional, "cat-1", map[string]any{"code": "disabled", "nominal": "45000.00"}).json(t, &cat)
		if cat.Code != "disabled" || cat.Nominal != "45000.00" {
			t.Fatalf("category: %+v", cat)
		}
		e.must(http.StatusForbidden, "POST", "/v1/admin/categories", novograd, "cat-2", map[string]any{"code": "x", "nominal": "1.00"})

		// The region registers a provider; the provider builds its catalog.
		var prov struct{ ID string }
		e.must(http.StatusOK, "POST", "/v1/admin/providers", regional, "prov-1", map[string]any{"name": "Kvantorium", "inn": "5401000099", "municipality": demo.MunCity,
			"agreements": []any{map[string]any{"municipality": demo.MunCity, "period": year2026}}}).json(t, &prov)
		kvant := e.token("provider", "kvant-admin", prov.ID)
		robo := e.provider("Робоцентр")
		var prog, mod, modB struct {
			ID         string
			ProviderID string `json:"provider_id"`
		}
		program := map[string]any{"name": "Drones", "scheme": "supplementary", "direction": "technical_robotics", "registry": "certified", "min_age": 7, "max_age": 14, "enrolment_open": true}
		e.must(http.StatusOK, "POST", "/v1/catalog/programs", kvant, "prog-1", program).json(t, &prog)
		// Only the region puts it into the certified registry.
		e.must(http.StatusOK, "POST", "/v1/catalog/programs/"+prog.ID+"/submit", kvant, "prog-1-submit", nil)
		e.must(http.StatusOK, "POST", "/v1/catalog/programs/"+prog.ID+"/certify", regional, "prog-1-certify", nil)
		if prog.ProviderID != prov.ID {
			t.Fatalf("program of %s, want the caller's %s", prog.ProviderID, prov.ID)
		}
		module := func(name string) map[string]any {
			return map[string]any{"program_id": prog.ID, "name": name, "price": "3100.00", "normative_price": "3100.00", "hours": 36}
		}
		e.must(http.StatusForbidden, "POST", "/v1/catalog/modules", robo, "mod-robo", module("stolen"))
		e.must(http.StatusOK, "POST", "/v1/catalog/modules", kvant, "mod-1", module("Drones, March")).json(t, &mod)
		e.must(http.StatusOK, "POST", "/v1/catalog/modules", kvant, "mod-2", module("Drones, spring")).json(t, &modB)
		// Another provider may neither take over the program nor add to it.
		taken := map[string]any{"id": prog.ID, "name": "Mine now", "scheme": "supplementary", "direction": "technical_robotics", "registry": "certified", "max_age": 14}
		e.must(http.StatusForbidden, "POST", "/v1/catalog/programs", robo, "prog-robo", taken)
		if p := e.must(http.StatusUnprocessableEntity, "POST", "/v1/catalog/programs", regional, "prog-nobody",
			map[string]any{"provider_id": "01a2058b-92e4-7ad1-80c4-9bb73f9f863a", "name": "x", "scheme": "supplementary", "direction": "arts", "registry": "general", "max_age": 10}).problem(t); p.Code != "unknown_reference" || p.Field != "provider_id" {
			t.Fatalf("program of an unknown provider: %+v", p)
		}
		var groupA, groupB struct{ ID string }
		e.must(http.StatusOK, "POST", "/v1/catalog/groups", kvant, "grp-1", map[string]any{"module_id": mod.ID, "name": "Drones March", "start": "2026-03-01", "end": "2026-03-31", "capacity": 10}).json(t, &groupA)
		e.must(http.StatusOK, "POST", "/v1/catalog/groups", kvant, "grp-2", map[string]any{"module_id": modB.ID, "name": "Drones spring", "start": "2026-04-01", "end": "2026-05-31", "capacity": 10}).json(t, &groupB)
		e.must(http.StatusForbidden, "POST", "/v1/catalog/groups", robo, "grp-robo", map[string]any{"id": groupA.ID, "module_id": mod.ID, "name": "x", "start": "2026-03-01", "end": "2026-03-31", "capacity": 1})
		if p := e.must(http.StatusUnprocessableEntity, "POST", "/v1/catalog/groups", kvant, "grp-none", map[string]any{"module_id": prov.ID, "name": "x", "start": "2026-03-01", "end": "2026-03-31", "capacity": 1}).problem(t); p.Field != "module_id" {
			t.Fatalf("group of an unknown module: %+v", p)
		}
		e.must(http.StatusOK, "GET", "/v1/groups/"+groupA.ID, e.holder(guardianE2E), "", nil)

		// A child studies in March; Kvantorium prolongs into spring on the
		// 20th; the holder says nothing for 7 days.
		holder := e.holder(guardianE2E)
		cert := e.issueChild(guardianE2E, "child-drones", "Лебедев Артём Ильич")
		var k contractJSON
		before := e.submitted.Load()
		e.must(http.StatusCreated, "POST", "/v1/applications", holder, "drones-submit", map[string]any{"certificate_id": cert.ID, "group_id": groupA.ID}).json(t, &k)
		if n := e.submitted.Load() - before; n != 1 {
			t.Fatalf("the application went %d times through the configured Submitter, want once", n)
		}
		e.must(http.StatusOK, "POST", "/v1/contracts/"+k.ID+"/confirm", kvant, "drones-confirm", nil)
		e.must(http.StatusOK, "POST", "/v1/contracts/"+k.ID+"/accept", holder, "drones-accept", nil)
		e.clock.T = time.Date(2026, time.March, 20, 9, 0, 0, 0, time.UTC)
		e.must(http.StatusForbidden, "POST", "/v1/contracts/"+k.ID+"/prolong", robo, "prolong-robo", map[string]any{"group_id": groupB.ID})
		e.must(http.StatusForbidden, "POST", "/v1/contracts/"+k.ID+"/prolong", holder, "prolong-holder", map[string]any{"group_id": groupB.ID})
		var next contractJSON
		e.must(http.StatusCreated, "POST", "/v1/contracts/"+k.ID+"/prolong", kvant, "prolong-1", map[string]any{"group_id": groupB.ID}).json(t, &next)
		if next.Status != "accepted" || next.Start != "2026-04-01" {
			t.Fatalf("prolongation: %+v", next)
		}
		var cab cabinetJSON
		e.must(http.StatusOK, "GET", "/v1/certificates/"+cert.ID, holder, "", nil).json(t, &cab)
		if n := findNote(cab.Notifications, "offer"); n == nil || n.ContractID != next.ID || n.Due != "2026-03-27" || !strings.Contains(n.Message, "silence accepts it on 2026-03-27") {
			t.Fatalf("prolongation notification: %+v", cab.Notifications)
		}
		var sweep struct{ Accepted int }
		e.clock.T = time.Date(2026, time.March, 26, 9, 0, 0, 0, time.UTC)
		e.must(http.StatusOK, "POST", "/v1/admin/accept-by-silence", regional, "silence-1", nil).json(t, &sweep)
		if sweep.Accepted != 0 {
			t.Fatalf("accepted %d before the silence ran out", sweep.Accepted)
		}
		e.must(http.StatusForbidden, "POST", "/v1/admin/accept-by-silence", novograd, "silence-x", nil)
		e.clock.T = time.Date(2026, time.March, 27, 9, 0, 0, 0, time.UTC)
		e.must(http.StatusOK, "POST", "/v1/admin/accept-by-silence", regional, "silence-2", nil).json(t, &sweep)
		if sweep.Accepted != 1 {
			t.Fatalf("accepted %d by silence, want 1", sweep.Accepted)
		}
		e.must(http.StatusOK, "GET", "/v1/contracts/"+next.ID, holder, "", nil).json(t, &next)
		if next.Status != "active" {
			t.Fatalf("after the silence the prolongation is %s", next.Status)
		}
	})
}

// TestCloseMonthNotStarted: the close of a month that has not begun is 422
// month_not_started; it changes nothing.
func TestCloseMonthNotStarted(t *testing.T) {
	e := newEnv(t, storeKinds()[0])
	p := e.must(http.StatusUnprocessableEntity, "POST", "/v1/admin/close", e.regional(), "close-early", map[string]string{"month": "2026-04"}).problem(t)
	if p.Code != "month_not_started" {
		t.Fatalf("close of April on 10 March: %+v", p)
	}
	// On 1 April it runs, with the same key: the refusal left nothing behind.
	e.clock.T = time.Date(2026, time.April, 1, 0, 0, 0, 0, time.UTC)
	e.must(http.StatusOK, "POST", "/v1/admin/close", e.regional(), "close-early", map[string]string{"month": "2026-04"})
}

// TestPassphraseLockout: a provider creating applications with wrong
// passphrases locks the certificate out after the fifth; the right one is
// refused until the lock ends.
func TestPassphraseLockout(t *testing.T) {
	e := newEnv(t, storeKinds()[0])
	var out issueJSON
	e.must(http.StatusCreated, "POST", "/v1/certificates", e.regional(), "issue-pass", map[string]any{
		"holder":      map[string]any{"person_id": "child-pass", "full_name": "Зайцева Мария", "birth_date": "2016-04-04", "municipality": demo.MunCity},
		"guardian_id": guardianE2E, "category": demo.CategoryCity, "funded": true, "protection": "by_passphrase", "passphrase": "blue whale 42",
	}).json(t, &out)
	e.must(http.StatusOK, "POST", "/v1/certificates/"+out.Certificate.ID+"/activate", e.municipality(demo.MunCity), "activate-pass", nil)
	robo := e.provider("Робоцентр")
	apply := func(i int, pass string) attempt {
		r := e.do("POST", "/v1/applications", robo, fmt.Sprintf("pass-%d", i), map[string]any{
			"number": out.Certificate.Number, "passphrase": pass, "group_id": e.demo.WalkthroughGroup.String()})
		if r.status == http.StatusCreated {
			return attempt{status: r.status}
		}
		return attempt{status: r.status, code: r.problem(t).Code}
	}
	for i := range 5 {
		if p := apply(i, "wrong guess"); p.status != http.StatusUnprocessableEntity || p.code != "wrong_passphrase" {
			t.Fatalf("wrong attempt %d: %+v", i+1, p)
		}
	}
	if p := apply(5, "blue whale 42"); p.status != http.StatusUnprocessableEntity || p.code != "locked_out" {
		t.Fatalf("right passphrase while locked out: %+v", p)
	}
	e.clock.T = e.clock.T.Add(16 * time.Minute)
	robo = e.provider("Робоцентр")
	if p := apply(6, "blue whale 42"); p.status != http.StatusCreated {
		t.Fatalf("right passphrase after the lock: %+v", p)
	}
}

type attempt struct {
	status int
	code   string
}

// TestDatabaseDown: with the store closed under it, the API answers 503
// problem+json with Retry-After — never 500 — and is not ready.
func TestDatabaseDown(t *testing.T) {
	e := newEnv(t, storeKinds()[0])
	cert := e.demo.CertificateID("child-active-funded").String()
	holder := e.holder(demo.GuardianIvanova)
	if err := e.db.Close(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		method, path string
		body         any
	}{
		{"GET", "/v1/certificates/" + cert, nil},
		{"POST", "/v1/applications", map[string]any{"certificate_id": cert, "group_id": e.demo.WalkthroughGroup.String()}},
		{"GET", "/v1/invoices?month=2026-03", nil},
		{"POST", "/v1/eligibility", map[string]any{"scheme": "supplementary", "holder": map[string]any{"person_id": "p", "full_name": "n", "birth_date": "2016-01-01", "municipality": demo.MunCity}}},
		{"GET", "/readyz", nil},
	} {
		tok := holder
		if strings.HasPrefix(c.path, "/v1/invoices") {
			tok = e.regional()
		}
		r := e.do(c.method, c.path, tok, "down-1", c.body)
		if r.status != http.StatusServiceUnavailable || r.header.Get("Retry-After") == "" {
			t.Errorf("%s %s with the database down: %d %s (Retry-After %q), want 503 with Retry-After", c.method, c.path, r.status, r.body, r.header.Get("Retry-After"))
		}
	}
}
