package api_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/edufund/edufund/examples/server/demo"
)

// TestIdempotency: the same key with the same body returns the same answer
// and has one effect; with another body it is 409; without a key, 400; and
// keys are per caller.
func TestIdempotency(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		holder := e.holder(guardianE2E)
		cert := e.issueChild(guardianE2E, "child-idem", "Кот Матвей Ильич")
		body := map[string]any{"certificate_id": cert.ID, "group_id": e.demo.WalkthroughGroup.String()}

		first := e.must(http.StatusCreated, "POST", "/v1/applications", holder, "idem-1", body)
		again := e.must(http.StatusCreated, "POST", "/v1/applications", holder, "idem-1", body)
		if !bytes.Equal(first.body, again.body) {
			t.Fatalf("replay differs:\n%s\n%s", first.body, again.body)
		}
		var cab cabinetJSON
		e.must(http.StatusOK, "GET", "/v1/certificates/"+cert.ID, holder, "", nil).json(t, &cab)
		if len(cab.Contracts) != 1 || cab.Money.Reserved != "14850.00" {
			t.Fatalf("two sends made %d contracts, reserve %s", len(cab.Contracts), cab.Money.Reserved)
		}

		other := map[string]any{"certificate_id": cert.ID, "group_id": e.demo.WalkthroughGroup.String(), "start": "2026-04-01"}
		if p := e.must(http.StatusConflict, "POST", "/v1/applications", holder, "idem-1", other).problem(t); p.Code != "idempotency_conflict" {
			t.Fatalf("reused key: %+v", p)
		}
		// Requests the document forbids are sent unchecked from here on.
		e.validate = false
		if p := e.must(http.StatusBadRequest, "POST", "/v1/applications", holder, "", body).problem(t); p.Code != "idempotency_key_missing" {
			t.Fatalf("missing key: %+v", p)
		}
		// The same key sent by another caller is another request.
		if r := e.do("POST", "/v1/certificates/"+cert.ID+"/suspend", e.municipality(demo.MunCity), "idem-1", nil); r.status != http.StatusOK {
			t.Fatalf("another caller's idem-1: %d %s", r.status, r.body)
		}
		// Same for a second action with the same key on a contract: replayed.
		var k contractJSON
		first.json(t, &k)
		robo := e.provider("Робоцентр")
		why := map[string]string{"reason": "Группа набрана"}
		a := e.do("POST", "/v1/contracts/"+k.ID+"/refuse", robo, "idem-refuse", why)
		b := e.do("POST", "/v1/contracts/"+k.ID+"/refuse", robo, "idem-refuse", why)
		if a.status != http.StatusOK || b.status != http.StatusOK || !bytes.Equal(a.body, b.body) {
			t.Fatalf("refuse twice with one key: %d %s / %d %s", a.status, a.body, b.status, b.body)
		}
		// A new key is a new request: the contract is refused already.
		if p := e.must(http.StatusConflict, "POST", "/v1/contracts/"+k.ID+"/refuse", robo, "idem-refuse", map[string]string{"reason": "Другая причина"}).problem(t); p.Code != "idempotency_conflict" {
			t.Fatalf("the key again with another reason: %+v", p)
		}
		if p := e.must(http.StatusConflict, "POST", "/v1/contracts/"+k.ID+"/refuse", robo, "idem-refuse-2", why).problem(t); p.Code != "forbidden_transition" {
			t.Fatalf("second refusal: %+v", p)
		}
	})
}

// fuzzRoutes are the endpoints FuzzHandlers drives; {cert}, {adult},
// {contract} and {group} stand for demo ids.
var fuzzRoutes = []struct{ method, path string }{
	{"POST", "/v1/certificates"},
	{"GET", "/v1/certificates/{cert}"},
	{"POST", "/v1/certificates/{cert}/activate"},
	{"POST", "/v1/certificates/{cert}/suspend"},
	{"POST", "/v1/certificates/{cert}/fund"},
	{"GET", "/v1/catalog"},
	{"GET", "/v1/groups/{group}"},
	{"POST", "/v1/applications"},
	{"GET", "/v1/contracts/{contract}"},
	{"POST", "/v1/contracts/{contract}/confirm"},
	{"POST", "/v1/contracts/{contract}/delivery"},
	{"POST", "/v1/contracts/{contract}/rating"},
	{"GET", "/v1/invoices"},
	{"POST", "/v1/adult/applications"},
	{"GET", "/v1/certificates/{adult}/queue"},
	{"POST", "/v1/certificates/{adult}/documents"},
	{"POST", "/v1/admin/close"},
	{"POST", "/v1/eligibility"},
	{"POST", "/v1/admin/budgets"},
	{"POST", "/v1/admin/direction-limits"},
	{"POST", "/v1/admin/categories"},
	{"POST", "/v1/admin/providers"},
	{"POST", "/v1/catalog/programs"},
	{"POST", "/v1/catalog/modules"},
	{"POST", "/v1/catalog/groups"},
	{"POST", "/v1/contracts/{contract}/prolong"},
	{"POST", "/v1/contracts/{raw}/prolong"},
	{"POST", "/v1/admin/accept-by-silence"},
	{"POST", "/v1/admin/rollover"},
	{"GET", "/v1/certificates/{raw}"},
	{"POST", "/v1/contracts/{raw}/terminate"},
	{"POST", "/v1/guardianships"},
	{"POST", "/v1/admin/tokens/revoke"},
	{"POST", "/v1/certificates/{adult}/cancel-overdue"},
	{"GET", "/v1/certificates"},
	{"GET", "/v1/contracts"},
	{"POST", "/v1/contracts/{contract}/refuse"},
}

// FuzzHandlers sends arbitrary bodies, query strings and path ids to every
// endpoint as every role and asserts that no answer is a 5xx: bad input is
// a 4xx problem, never an internal error or a panic.
func FuzzHandlers(f *testing.F) {
	seeds := []string{
		``, `{}`, `null`, `[]`, `"x"`, `1`, `{"a":1}`, `{`, `{}{}`, `{} x`,
		`{"holder":{"person_id":"p","full_name":"Н","birth_date":"2015-02-30","municipality":"novograd"},"category":"city"}`,
		`{"holder":{"person_id":"p","full_name":"Н","birth_date":"2015-01-01","municipality":"novograd"},"category":"city","funded":true}`,
		`{"holder":{"person_id":"p","full_name":"Н","birth_date":"99999-01-01"}}`,
		`{"holder":{"person_id":1e400}}`, `{"holder":"x"}`, `{"holder":{"person_id":"p","full_name":"N","birth_date":"1899-12-31","sex":"x"}}`,
		`{"holder":{"person_id":"p","full_name":"N","birth_date":"2015-01-01","municipality":"novograd"},"protection":"by_passphrase","passphrase":"short"}`,
		`{"certificate_id":"not-a-uuid","group_id":"00000000-0000-0000-0000-000000000000"}`,
		`{"certificate_id":"{00000000-0000-0000-0000-000000000001}","group_id":"urn:uuid:00000000-0000-0000-0000-000000000001"}`,
		`{"certificate_id":"01a2058b-92e4-7ad1-80c4-9bb73f9f863a","group_id":"01a2058b-92e4-7ad1-80c4-9bb73f9f863a","start":"2026-13-01"}`,
		`{"number":"12345","full_name":"x","group_id":"01a2058b-92e4-7ad1-80c4-9bb73f9f863a"}`,
		`{"number":"0000000000","passphrase":"","group_id":"01a2058b-92e4-7ad1-80c4-9bb73f9f863a","co_pay_accepted":"yes"}`,
		`{"month":"2026-00","percent":101}`, `{"month":"2026-04","percent":-1}`, `{"month":"2026-04","percent":1e30}`,
		`{"month":"2026-04","percent":99999999999999999999}`, `{"month":"9999-99"}`, `{"month":"0001-01"}`, `{"month":""}`,
		`{"results":95,"staff":100,"means":80,"satisfaction":100}`, `{"results":-10,"staff":1e9,"means":null,"satisfaction":"a"}`,
		`{"uploaded":true,"valid_reason":"` + strings.Repeat("я", 600) + `"}`,
		`{"holder":{"person_id":"` + strings.Repeat("x", 5000) + `","full_name":"N","birth_date":"1990-01-01"}}`,
		"{\"holder\":{\"person_id\":\"\u0000\",\"full_name\":\"\\ud800\",\"birth_date\":\"1990-01-01\"}}",
		`{"category":` + strings.Repeat("[", 10000) + `}`,
		`{"scheme":"supplementary","holder":{"person_id":"p","full_name":"Н","birth_date":"2015-01-01","municipality":"novograd"}}`,
		`{"scheme":"digital_skills","holder":{"person_id":"person-kuznetsov","full_name":"К","birth_date":"1985-01-01"},"municipality":"x"}`,
		`{"municipality":"novograd","period":{"start":"2026-01-01","end":"2026-12-31"},"limit":"99999999999999999999.99"}`,
		`{"municipality":"novograd","period":{"start":"2026-01-01","end":"2026-12-30"},"limit":"-1.00"}`,
		`{"municipality":"zarechye","direction":"arts","period":{"start":"2026-01-01","end":"2026-12-31"},"limit":2147483648}`,
		`{"code":"city","nominal":"1e9"}`, `{"code":"","nominal":"0.00","max_count":-1}`,
		`{"name":"P","inn":"5401000001","agreements":[{"municipality":"novograd","period":{"start":"2026-12-31","end":"2026-01-01"}}]}`,
		`{"name":"P","scheme":"supplementary","direction":"arts","registry":"general","min_age":-5,"max_age":99999}`,
		`{"name":"P","scheme":"digital_skills","competency_area":"ai","academic_hours":1000000}`,
		`{"program_id":"01a2058b-92e4-7ad1-80c4-9bb73f9f863a","name":"M","price":"1.00","normative_price":"1.00","hours":-1}`,
		`{"module_id":"01a2058b-92e4-7ad1-80c4-9bb73f9f863a","name":"G","start":"2026-05-01","end":"2026-04-01","capacity":0}`,
		`{"group_id":"01a2058b-92e4-7ad1-80c4-9bb73f9f863a"}`,
		`{"period":{"start":"2025-01-01","end":"2025-12-31"}}`, `{"period":{"start":"0001-01-01","end":"9999-12-31"}}`,
	}
	queries := []string{"", "month=2026-03", "month=2026-3", "age=-1", "age=99999999999999999999", "registry=x", "cursor=%FF&limit=101",
		"q=%FF%FE", "provider_id=zzz", "month=2026-03&month=2026-04", "unknown=1", "direction=sport&age=9&q=ёлка"}
	ids := []string{"x", "00000000-0000-0000-0000-000000000000", "01a2058b-92e4-7ad1-80c4-9bb73f9f863a", "%00", "..%2F..%2Fetc", strings.Repeat("9", 300)}
	for i, s := range seeds {
		f.Add(uint8(i), uint8(i*7), s, queries[i%len(queries)], ids[i%len(ids)])
	}
	// Texts that once reached the SQL text (NUL), a terminal (escapes) or
	// gave one child several certificates (spellings of one id), each sent
	// where a caller who may use the route (an index of tokens) sends it.
	const robo, regional, federal = 3, 5, 6
	route := func(method, path string) uint8 {
		i := slices.Index(fuzzRoutes, struct{ method, path string }{method, path})
		if i < 0 {
			f.Fatalf("%s %s is not in fuzzRoutes", method, path)
		}
		return uint8(i)
	}
	for _, s := range []struct {
		route, role uint8
		body, query string
	}{
		{route("POST", "/v1/certificates"), regional, `{"holder":{"person_id":"child-x\u0000","full_name":"a\u0007\u001b[31mb","birth_date":"2016-01-01","municipality":"novograd"},"category":"city"}`, ""},
		{route("POST", "/v1/certificates"), regional, `{"holder":{"person_id":"CHILD-IVANOV-MISHA ","full_name":"Иванов Михаи\u0306л","birth_date":"2017-03-14","municipality":"novograd"},"category":"city"}`, ""},
		{route("POST", "/v1/certificates"), regional, `{"holder":{"person_id":"child-ivanov-\u200bmisha","full_name":"Н","birth_date":"2017-03-14","municipality":"novograd","region":"\u0085"},"guardian_id":"\ud800","category":"city\u001b"}`, ""},
		{route("POST", "/v1/certificates"), regional, "{\"holder\":{\"person_id\":\"\xff\xfe\",\"full_name\":\"\xed\xa0\x80\",\"birth_date\":\"2016-01-01\",\"municipality\":\"novograd\"}}", ""},
		{route("POST", "/v1/adult/applications"), federal, `{"holder":{"person_id":"112-233-445 96","full_name":"Н","birth_date":"1990-01-01","sex":"male","region":"RU-DEMO"},"category":"\u0000"}`, ""},
		{route("POST", "/v1/certificates/{adult}/documents"), federal, `{"uploaded":false,"valid_reason":"болезнь\nсправка\u0000"}`, ""},
		{route("POST", "/v1/certificates/{adult}/documents"), federal, `{"uploaded":false,"valid_reason":"\u001b]0;x\u0007"}`, ""},
		{route("POST", "/v1/eligibility"), regional, `{"scheme":"supplementary","holder":{"person_id":"p\u0000","full_name":"Н","birth_date":"2016-01-01","municipality":"novograd"}}`, ""},
		{route("POST", "/v1/admin/categories"), regional, `{"code":"city\u0000","nominal":"1.00"}`, ""},
		{route("POST", "/v1/admin/categories"), regional, `{"code":"го\u200bрод","nominal":"1.00"}`, ""},
		{route("POST", "/v1/admin/providers"), regional, `{"name":"\u0000","inn":"5401000001","municipality":"\u001b","agreements":[{"municipality":"\u0000","period":{"start":"2026-01-01","end":"2026-12-31"}}]}`, ""},
		{route("POST", "/v1/catalog/programs"), robo, `{"name":"P\u0000","scheme":"supplementary","direction":"arts","registry":"general","municipality":"\u0000","competency_area":"\u0000"}`, ""},
		{route("POST", "/v1/catalog/programs"), robo, `{"name":"P","scheme":"digital_skills","direction":"\u0000","registry":"\u0000","competency_area":"ai","academic_hours":72}`, ""},
		{route("POST", "/v1/catalog/modules"), regional, `{"program_id":"01a2058b-92e4-7ad1-80c4-9bb73f9f863a","name":"M\u0000","price":"1.00","normative_price":"1.00","hours":1}`, ""},
		{route("POST", "/v1/catalog/groups"), regional, `{"module_id":"01a2058b-92e4-7ad1-80c4-9bb73f9f863a","name":"G\u0000","start":"2026-05-01","end":"2026-06-01","capacity":1,"schedule":"\u0000"}`, ""},
		{route("POST", "/v1/applications"), robo, `{"number":"0000000000","full_name":"\u0000","passphrase":"\u0000","group_id":"01a2058b-92e4-7ad1-80c4-9bb73f9f863a"}`, ""},
		{route("POST", "/v1/guardianships"), regional, `{"guardian_id":"guardian-ivanova\u0000","child_id":"CHILD-X"}`, ""},
		{route("POST", "/v1/guardianships"), regional, `{"guardian_id":"guardian-ivanova","child_id":" Guardian-Ivanova\u200b"}`, ""},
		{route("POST", "/v1/admin/tokens/revoke"), regional, `{"jti":"\u0000","subject":"a\u001b[31m"}`, ""},
		{route("POST", "/v1/admin/tokens/revoke"), regional, `{"subject":"x","issued_before":"2026-13-45T99:00:00Z"}`, ""},
		{route("GET", "/v1/certificates/{cert}"), regional, "", "on=2026-02-30"},
		{route("GET", "/v1/catalog"), regional, "", "q=%00"},
		{route("GET", "/v1/catalog"), regional, "", "municipality=%1B%5B31m&q=%ED%A0%80"},
		{route("GET", "/v1/catalog"), regional, "", "q=a%E2%80%8Bb&municipality=novograd%C2%AD"},
		{route("GET", "/v1/catalog"), regional, "", "q=%D1%88%D0%BE%D1%85%D0%BC&cursor=MS4x&limit=0&age=-1"},
		{route("GET", "/v1/certificates"), regional, "", "holder=%00&municipality=%1B%5B31m&limit=99999999999999999999"},
		{route("GET", "/v1/certificates"), 0, "", "status=lost&scheme=%ED%A0%80&after=00000000-0000-0000-0000-000000000000"},
		{route("GET", "/v1/contracts"), regional, "", "status=requested,,x&limit=0&provider_id=%00"},
		{route("GET", "/v1/contracts"), 0, "", "certificate_id=01a2058b-92e4-7ad1-80c4-9bb73f9f863a&status=refused"},
		{route("POST", "/v1/contracts/{contract}/refuse"), 2, `{"reason":"\u0000\u001b[31m"}`, ""},
		{route("POST", "/v1/contracts/{contract}/refuse"), 2, `{"reason":"` + strings.Repeat("я", 1001) + `"}`, ""},
	} {
		f.Add(s.route, s.role, s.body, s.query, ids[0])
	}
	// Every input goes to every engine: a value SQLite takes may be one
	// PostgreSQL refuses in its SQL, and the other way round.
	type target struct {
		e      *env
		tokens []string
		repl   *strings.Replacer
	}
	var targets []target
	for _, kind := range storeKinds() {
		e := newEnv(f, kind)
		targets = append(targets, target{e: e,
			tokens: []string{
				e.holder(demo.GuardianIvanova), e.holder(demo.AdultKuznetsov), e.provider("Спортклуб «Заречье»"), e.provider("Робоцентр"),
				e.municipality(demo.MunCity), e.regional(), e.federal(), "", "garbage",
			},
			repl: strings.NewReplacer(
				"{cert}", e.demo.CertificateID("child-active-funded").String(),
				"{adult}", e.demo.CertificateID("adult-queued").String(),
				"{contract}", e.demo.Contract.String(),
				"{group}", e.demo.WalkthroughGroup.String(),
			)})
	}
	f.Fuzz(func(t *testing.T, route, role uint8, body, query, rawID string) {
		rt := fuzzRoutes[int(route)%len(fuzzRoutes)]
		// Bytes that cannot stand in a request line make net/http itself
		// answer 400 before any handler runs; the query keeps the rest.
		query = strings.Map(func(r rune) rune {
			if r <= ' ' || r == 0x7f || r == '#' {
				return -1
			}
			return r
		}, query)
		for _, tg := range targets {
			e := tg.e
			path := strings.ReplaceAll(tg.repl.Replace(rt.path), "{raw}", url.PathEscape(rawID))
			if query != "" {
				path += "?" + query
			}
			req, err := http.NewRequest(rt.method, e.srv.URL+path, strings.NewReader(body))
			if err != nil {
				return // not a request a client can send
			}
			req.Header.Set("Content-Type", "application/json")
			if tok := tg.tokens[int(role)%len(tg.tokens)]; tok != "" {
				req.Header.Set("Authorization", "Bearer "+tok)
			}
			sum := sha256.Sum256([]byte(path + "\x00" + body))
			if role%5 != 4 {
				req.Header.Set("Idempotency-Key", hex.EncodeToString(sum[:12]))
			}
			res, err := e.srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			out, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode >= 500 {
				t.Fatalf("%s %s %q → %d %s", rt.method, path, body, res.StatusCode, out)
			}
			if res.StatusCode >= 400 && !strings.HasPrefix(res.Header.Get("Content-Type"), "application/problem+json") {
				t.Fatalf("%s %s → %d without a problem document", rt.method, path, res.StatusCode)
			}
			if n := e.h.Panics(); n != 0 {
				t.Fatalf("%d panics recovered", n)
			}
		}
	})
}
