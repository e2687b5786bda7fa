package api_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/edufund/edufund/examples/server/api"
	"github.com/edufund/edufund/examples/server/demo"
)

// TestAuthorization runs the matrix endpoints × roles × own/foreign tenant:
// reads of foreign resources are 404 (their existence is not revealed),
// writes on them 403, roles that may not act at all 403; and no refused
// answer carries the foreign resource's data.
func TestAuthorization(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		d := e.demo
		misha := d.CertificateID("child-active-funded").String()
		suspended := d.CertificateID("child-suspended").String()
		adult := d.CertificateID("adult-issued").String()
		queuedAdult := d.CertificateID("adult-queued").String()
		contract := d.Contract.String()
		sportID := d.ProviderID("Спортклуб «Заречье»").String()

		// Secrets of Misha's certificate that no foreign caller may see.
		var cab struct {
			Certificate struct {
				Number string
				Holder struct {
					FullName string `json:"full_name"`
				}
			}
		}
		e.must(http.StatusOK, "GET", "/v1/certificates/"+misha, e.holder(demo.GuardianIvanova), "", nil).json(t, &cab)
		secrets := []string{cab.Certificate.Number, cab.Certificate.Holder.FullName, "child-ivanov-misha"}

		ivanova, petrov := e.holder(demo.GuardianIvanova), e.holder(demo.GuardianPetrov)
		orlova, kuznetsov := e.holder(demo.AdultOrlova), e.holder(demo.AdultKuznetsov)
		robo, sport := e.provider("Робоцентр"), e.provider("Спортклуб «Заречье»")
		novograd, zarechye := e.municipality(demo.MunCity), e.municipality(demo.MunRural)
		regional, federal := e.regional(), e.federal()
		// An organisation Novograd authorised (the demo's school: issue and
		// activate), and one nobody authorised.
		school := e.token(api.RoleAuthorised, "school7-clerk", d.Authorised.String())
		mfc := e.token(api.RoleAuthorised, "mfc-clerk", "0190f000-0000-7000-8000-00000000a001")

		type tc struct {
			who, token   string
			method, path string
			body         any
			want         int
		}
		var cases []tc
		add := func(method, path string, body any, want map[string]int) {
			tokens := map[string]string{"ivanova": ivanova, "petrov": petrov, "orlova": orlova, "kuznetsov": kuznetsov,
				"robo": robo, "sport": sport, "novograd": novograd, "zarechye": zarechye, "regional": regional, "federal": federal,
				"anonymous": "", "auditor": e.auditor(), "school": school, "mfc": mfc}
			for who, status := range want {
				cases = append(cases, tc{who, tokens[who], method, path, body, status})
			}
		}
		everyone := func(status int, except map[string]int) map[string]int {
			m := map[string]int{}
			for _, w := range []string{"ivanova", "petrov", "orlova", "kuznetsov", "robo", "sport", "novograd", "zarechye", "regional", "federal"} {
				m[w] = status
			}
			for k, v := range except {
				m[k] = v
			}
			return m
		}
		// Reads.
		add("GET", "/v1/certificates/"+misha, nil, everyone(404, map[string]int{"ivanova": 200, "novograd": 200, "regional": 200}))
		add("GET", "/v1/certificates/"+adult, nil, everyone(404, map[string]int{"orlova": 200, "federal": 200}))
		add("GET", "/v1/certificates/"+queuedAdult+"/queue", nil, everyone(404, map[string]int{"kuznetsov": 200, "federal": 200}))
		add("GET", "/v1/contracts/"+contract, nil, everyone(404, map[string]int{"ivanova": 200, "sport": 200, "novograd": 200, "regional": 200}))
		add("GET", "/v1/invoices?month=2026-03", nil, everyone(200, map[string]int{"ivanova": 403, "petrov": 403, "orlova": 403, "kuznetsov": 403}))
		add("GET", "/v1/invoices?month=2026-03&provider_id="+sportID, nil, map[string]int{"robo": 404, "sport": 200, "ivanova": 403})
		// The exports (exports_test.go checks what they hold): the
		// service's reach, a holder none; another provider's lines or
		// completions not found.
		noHolders := map[string]int{"ivanova": 403, "petrov": 403, "orlova": 403, "kuznetsov": 403, "anonymous": 401}
		add("GET", "/v1/exports/invoice-lines?month=2026-03", nil, everyone(200, noHolders))
		add("GET", "/v1/exports/invoice-lines?month=2026-03&format=xlsx&provider_id="+sportID, nil,
			map[string]int{"robo": 404, "sport": 200, "novograd": 200, "regional": 200, "ivanova": 403})
		add("GET", "/v1/exports/contracts", nil, everyone(200, noHolders))
		add("GET", "/v1/exports/contracts?provider_id="+sportID+"&format=xlsx", nil, everyone(200, noHolders))
		add("GET", "/v1/exports/certificates", nil, everyone(200, map[string]int{"robo": 403, "sport": 403, "ivanova": 403, "petrov": 403,
			"orlova": 403, "kuznetsov": 403, "anonymous": 401}))
		add("GET", "/v1/exports/completions", nil, everyone(403, map[string]int{"robo": 200, "sport": 200, "federal": 200, "anonymous": 401}))
		add("GET", "/v1/exports/completions?provider_id="+sportID, nil, map[string]int{"robo": 404, "sport": 200, "federal": 200, "regional": 403})
		add("GET", "/v1/groups/"+d.WalkthroughGroup.String(), nil, everyone(200, nil))
		add("GET", "/v1/groups/"+d.WalkthroughGroup.String(), nil, map[string]int{"anonymous": 401})
		// The navigator's search and a program's page are public: no token
		// needed, and a token changes nothing.
		add("GET", "/v1/catalog?municipality="+demo.MunCity, nil, everyone(200, map[string]int{"anonymous": 200}))
		var walk struct{ Program struct{ ID string } }
		e.must(http.StatusOK, "GET", "/v1/groups/"+d.WalkthroughGroup.String(), regional, "", nil).json(t, &walk)
		add("GET", "/v1/catalog/programs/"+walk.Program.ID, nil, everyone(200, map[string]int{"anonymous": 200}))
		add("GET", "/v1/catalog/competency-areas", nil, everyone(200, map[string]int{"anonymous": 200}))
		// The lists: every caller within its reach (lists_test.go checks
		// what they hold); a provider lists no certificates, a holder the
		// contracts of one certificate they act for, another family's not
		// found; a filter outside the caller's reach is an empty page.
		holders400 := map[string]int{"ivanova": 400, "petrov": 400, "orlova": 400, "kuznetsov": 400}
		add("GET", "/v1/certificates", nil, everyone(200, map[string]int{"robo": 403, "sport": 403, "anonymous": 401}))
		add("GET", "/v1/certificates?holder="+demo.GuardianIvanova+"&municipality="+demo.MunCity, nil, everyone(200, map[string]int{"robo": 403, "sport": 403}))
		add("GET", "/v1/contracts", nil, everyone(200, map[string]int{"ivanova": 400, "petrov": 400, "orlova": 400, "kuznetsov": 400, "anonymous": 401}))
		add("GET", "/v1/contracts?provider_id="+sportID, nil, everyone(200, holders400))
		add("GET", "/v1/contracts?certificate_id="+misha, nil, everyone(200, map[string]int{"petrov": 404, "orlova": 404, "kuznetsov": 404}))
		add("GET", "/v1/contracts?certificate_id="+adult+"&status=requested,active", nil, everyone(200, map[string]int{"ivanova": 404, "petrov": 404, "kuznetsov": 404}))
		// Writes refused: foreign tenant (403) or a role that may not (403).
		// Protection is the holder's own choice: the child's guardian, the
		// adult; never the municipality or an operator (asking for the
		// mode it has changes nothing).
		add("POST", "/v1/certificates/"+misha+"/protection", map[string]any{"mode": "by_name"}, everyone(403, map[string]int{"ivanova": 200}))
		add("POST", "/v1/certificates/"+adult+"/protection", map[string]any{"mode": "forbidden"}, everyone(403, map[string]int{"orlova": 200}))
		// A second guardian is linked by the guardian recorded on the
		// certificate only: another family does not find it; no official.
		add("POST", "/v1/certificates/"+misha+"/guardians", map[string]any{"guardian_id": "authz-second-guardian"},
			everyone(403, map[string]int{"ivanova": 200, "petrov": 404, "orlova": 404, "kuznetsov": 404}))
		add("POST", "/v1/certificates/"+adult+"/guardians", map[string]any{"guardian_id": "authz-second-guardian"},
			everyone(403, map[string]int{"orlova": 400, "ivanova": 404, "petrov": 404, "kuznetsov": 404}))
		// The federal operator's review: the federal operator only (the
		// demo region asks for none, so its application is not under
		// review); the auditor reads the worklist.
		add("POST", "/v1/certificates/"+adult+"/review", map[string]any{"approve": true},
			everyone(403, map[string]int{"federal": 409, "auditor": 403, "anonymous": 401}))
		add("GET", "/v1/adult/reviews?status=pending", nil, everyone(403, map[string]int{"federal": 200, "auditor": 200, "anonymous": 401}))
		add("POST", "/v1/certificates/"+suspended+"/resume", nil, everyone(403, nil)) // petrov's child, novograd: everyone but novograd and regional
		add("POST", "/v1/contracts/"+contract+"/terminate", nil, everyone(403, nil))
		// A waitlist: read as the certificate is; confirmed or left by a holder only (waitlist_test.go walks one).
		add("GET", "/v1/certificates/"+misha+"/waitlist", nil, everyone(404, map[string]int{"ivanova": 200, "novograd": 200, "regional": 200, "auditor": 200, "anonymous": 401}))
		noEntry := "0190f000-0000-7000-8000-00000000beef"
		add("POST", "/v1/waitlist/"+noEntry+"/confirm", nil, everyone(403, map[string]int{"ivanova": 404, "petrov": 404, "orlova": 404, "kuznetsov": 404, "auditor": 403}))
		add("POST", "/v1/admin/expire-waitlist-offers", nil, everyone(403, map[string]int{"regional": 200, "auditor": 403}))
		add("POST", "/v1/waitlist/"+noEntry+"/leave", nil, everyone(403, map[string]int{"ivanova": 404, "petrov": 404, "orlova": 404, "kuznetsov": 404, "auditor": 403}))
		add("POST", "/v1/contracts/"+contract+"/withdraw", nil, everyone(403, map[string]int{"ivanova": 409}))
		add("POST", "/v1/contracts/"+contract+"/confirm", nil, everyone(403, map[string]int{"sport": 409}))
		add("POST", "/v1/contracts/"+contract+"/refuse", map[string]any{"reason": "Группа набрана"}, everyone(403, map[string]int{"sport": 409}))
		add("POST", "/v1/contracts/"+contract+"/delivery", map[string]any{"month": "2026-03", "percent": 100}, everyone(403, map[string]int{"sport": 200}))
		add("POST", "/v1/applications", map[string]any{"certificate_id": misha, "group_id": d.WalkthroughGroup.String()},
			everyone(403, map[string]int{"ivanova": 422, "robo": 400, "sport": 400}))
		add("POST", "/v1/applications", map[string]any{"number": cab.Certificate.Number, "full_name": "Someone Else", "group_id": d.WalkthroughGroup.String()},
			map[string]int{"robo": 422, "sport": 403, "ivanova": 400, "novograd": 403})
		add("POST", "/v1/certificates", map[string]any{"holder": map[string]any{"person_id": "x-1", "full_name": "Х Х", "birth_date": "2015-01-01", "municipality": demo.MunRural},
			"guardian_id": demo.GuardianIvanova, "category": demo.CategoryRural},
			map[string]int{"petrov": 403, "novograd": 403, "robo": 403, "federal": 403})
		add("POST", "/v1/admin/close", map[string]string{"month": "2026-03"}, everyone(403, map[string]int{"regional": 200}))
		add("POST", "/v1/certificates/"+adult+"/cancel-overdue", nil, everyone(403, map[string]int{"federal": 422}))
		add("POST", "/v1/adult/applications", map[string]any{"holder": map[string]any{"person_id": demo.AdultKuznetsov, "full_name": "К", "birth_date": "1985-01-01", "municipality": demo.MunCity}},
			map[string]int{"orlova": 403, "ivanova": 403, "robo": 403, "novograd": 403, "regional": 403})
		add("POST", "/v1/certificates/"+adult+"/documents", map[string]any{"uploaded": true, "valid_reason": "illness"},
			map[string]int{"orlova": 403, "kuznetsov": 403, "regional": 403})

		// Eligibility: holders for themselves (a child: a parent linked to
		// it), operators in their scheme.
		add("POST", "/v1/eligibility", map[string]any{"scheme": "supplementary", "holder": map[string]any{"person_id": "child-x", "full_name": "Х", "birth_date": "2017-01-01", "municipality": demo.MunCity}},
			everyone(403, map[string]int{"novograd": 200, "regional": 200}))
		add("POST", "/v1/eligibility", map[string]any{"scheme": "supplementary", "holder": map[string]any{"person_id": "child-ivanov-misha", "full_name": "Х", "birth_date": "2017-03-14", "municipality": demo.MunCity}},
			everyone(403, map[string]int{"ivanova": 200, "novograd": 200, "regional": 200}))
		// A parent issues only for a child linked to them: never for
		// another guardian, an adult holder, or a stranger's child.
		for _, person := range []string{demo.GuardianPetrov, demo.AdultOrlova, "child-petrov-ivan", "child-unknown"} {
			add("POST", "/v1/certificates", map[string]any{"holder": map[string]any{"person_id": person, "full_name": "Подброшенный Ребёнок", "birth_date": "2016-01-01", "municipality": demo.MunCity},
				"category": demo.CategoryCity}, map[string]int{"ivanova": 403})
		}
		// Misha's person id written otherwise is Misha: no second
		// certificate, for anyone; a NUL or an escape sequence is bad input
		// for everyone who may issue, never a 500.
		for _, person := range []string{"child-ivanov-misha ", "child-\u200bivanov-misha", "CHILD-IVANOV-MISHA", " child-ivanov-misha\ufeff"} {
			add("POST", "/v1/certificates", map[string]any{"holder": map[string]any{"person_id": person, "full_name": "Иванов Михаил Петрович", "birth_date": "2017-03-14",
				"municipality": demo.MunCity}, "guardian_id": demo.GuardianIvanova, "category": demo.CategoryCity},
				map[string]int{"regional": 422, "novograd": 422, "ivanova": 422, "petrov": 403, "robo": 403, "federal": 403})
		}
		for _, bad := range []string{"Иванов\u0000Миша", "a\u0007\u001b[31mb"} {
			add("POST", "/v1/certificates", map[string]any{"holder": map[string]any{"person_id": "child-bad-text", "full_name": bad, "birth_date": "2017-03-14",
				"municipality": demo.MunCity}, "guardian_id": demo.GuardianIvanova, "category": demo.CategoryCity},
				map[string]int{"regional": 400, "novograd": 400, "ivanova": 400, "robo": 403})
		}
		add("POST", "/v1/guardianships", map[string]any{"guardian_id": demo.GuardianPetrov, "child_id": "child-linked-by-x"},
			everyone(403, map[string]int{"novograd": 200, "zarechye": 200, "regional": 200}))
		add("POST", "/v1/eligibility", map[string]any{"scheme": "digital_skills", "holder": map[string]any{"person_id": demo.AdultOrlova, "full_name": "О", "birth_date": "1990-01-01", "municipality": demo.MunCity}},
			everyone(403, map[string]int{"orlova": 200, "federal": 200}))
		// Limits: the region, or the municipality for its own.
		add("POST", "/v1/admin/budgets", map[string]any{"municipality": demo.MunCity, "period": year2026, "limit": "5000000.00"},
			everyone(403, map[string]int{"novograd": 200, "regional": 200}))
		add("POST", "/v1/admin/direction-limits", map[string]any{"municipality": demo.MunCity, "direction": "sport", "period": year2026, "limit": 200},
			everyone(403, map[string]int{"novograd": 200, "regional": 200}))
		add("POST", "/v1/admin/categories", map[string]any{"code": demo.CategoryCity, "nominal": "30000.00", "max_count": 1000}, everyone(403, map[string]int{"regional": 200}))
		add("POST", "/v1/admin/providers", map[string]any{"name": "New School", "inn": "5401000077"}, everyone(403, map[string]int{"regional": 200}))
		// The catalog: the owning provider, or the region.
		var offer struct {
			Module struct{ ID string }
			Group  struct{ Name, Start, End string }
		}
		e.must(http.StatusOK, "GET", "/v1/groups/"+d.WalkthroughGroup.String(), regional, "", nil).json(t, &offer)
		add("POST", "/v1/catalog/programs", map[string]any{"provider_id": d.ProviderID("Робоцентр").String(), "name": "Chess", "scheme": "supplementary", "direction": "social_pedagogical", "registry": "general", "max_age": 17},
			everyone(403, map[string]int{"robo": 200, "regional": 200}))
		// The page's content of Робоцентр's robotics program: Робоцентр
		// or the region; any other provider is refused.
		var page struct{ Program map[string]any }
		e.must(http.StatusOK, "GET", "/v1/catalog/programs/"+walk.Program.ID, "", "", nil).json(t, &page)
		page.Program["annotation"], page.Program["tags"] = "Роботы", []string{"роботы"}
		page.Program["provider_id"] = d.ProviderID("Робоцентр").String()
		add("POST", "/v1/catalog/programs", page.Program, everyone(403, map[string]int{"robo": 200, "regional": 200}))
		// Certification: Робоцентр submits and withdraws its own programs,
		// the region certifies or denies; another provider's is foreign.
		var draft, denied struct{ ID string }
		for i, into := range []*struct{ ID string }{&draft, &denied} {
			e.must(http.StatusOK, "POST", "/v1/catalog/programs", robo, fmt.Sprintf("authz-cert-%d", i), map[string]any{"name": fmt.Sprintf("Шахматы %d", i), "scheme": "supplementary",
				"direction": "social_pedagogical", "registry": "certified", "max_age": 17}).json(t, into)
		}
		e.must(http.StatusOK, "POST", "/v1/catalog/programs/"+denied.ID+"/submit", robo, "authz-cert-submit", nil)
		add("POST", "/v1/catalog/programs/"+draft.ID+"/submit", nil, everyone(403, map[string]int{"robo": 200}))
		add("POST", "/v1/catalog/programs/"+draft.ID+"/certify", nil, everyone(403, map[string]int{"regional": 200}))
		add("POST", "/v1/catalog/programs/"+draft.ID+"/withdraw", nil, everyone(403, map[string]int{"robo": 200}))
		add("POST", "/v1/catalog/programs/"+denied.ID+"/deny", map[string]any{"reason": "Нет учебного плана"}, everyone(403, map[string]int{"regional": 200}))
		add("POST", "/v1/catalog/groups", map[string]any{"id": d.WalkthroughGroup.String(), "module_id": offer.Module.ID, "name": offer.Group.Name, "start": offer.Group.Start, "end": offer.Group.End, "capacity": 15},
			everyone(403, map[string]int{"robo": 200, "regional": 200}))
		// Prolongation: the contract's provider (the football runs until December).
		var football struct {
			GroupID string `json:"group_id"`
		}
		e.must(http.StatusOK, "GET", "/v1/contracts/"+contract, sport, "", nil).json(t, &football)
		add("POST", "/v1/contracts/"+contract+"/prolong", map[string]any{"group_id": football.GroupID}, everyone(403, map[string]int{"sport": 422}))
		// The region's parameters: every official reads them; a parameter's
		// roles set it, a municipality for itself only.
		add("GET", "/v1/admin/parameters", nil, everyone(403, map[string]int{"novograd": 200, "zarechye": 200, "regional": 200, "federal": 200}))
		add("POST", "/v1/admin/parameters", map[string]any{"name": "children.min_age", "scope": demo.MunCity, "from": "2026-09-01", "value": "6", "reason": "decree"},
			everyone(403, map[string]int{"novograd": 201, "regional": 201}))
		// The budget forecast: every official (a municipality sees its own
		// row); the what-if of a change: whoever may make the change.
		add("GET", "/v1/admin/forecast", nil, everyone(403, map[string]int{"novograd": 200, "zarechye": 200, "regional": 200, "federal": 200}))
		add("POST", "/v1/admin/what-if", map[string]any{"parameter": map[string]any{"name": "registry_quota", "scope": "general", "from": "2026-09-01", "value": "1"}},
			everyone(403, map[string]int{"regional": 200}))
		add("POST", "/v1/admin/what-if", map[string]any{"parameter": map[string]any{"name": "children.min_age", "scope": demo.MunCity, "from": "2026-09-01", "value": "6"}},
			everyone(403, map[string]int{"novograd": 200, "regional": 200}))
		add("POST", "/v1/admin/what-if", map[string]any{"category": map[string]any{"code": demo.CategoryCity, "nominal": "31000.00"}},
			everyone(403, map[string]int{"regional": 200}))
		// A child's week: the cabinet's readers.
		add("GET", "/v1/certificates/"+misha+"/schedule", nil, everyone(404, map[string]int{"ivanova": 200, "novograd": 200, "regional": 200, "auditor": 200, "anonymous": 401}))
		add("GET", "/v1/certificates/"+adult+"/schedule", nil, everyone(404, map[string]int{"orlova": 200, "federal": 200, "auditor": 200}))
		// Activation on a signed paper application: the contract's provider
		// alone; the football is active already.
		add("POST", "/v1/contracts/"+contract+"/activate-paper", map[string]any{"application_number": "З-1", "signed_on": "2026-01-10",
			"number": cab.Certificate.Number, "full_name": cab.Certificate.Holder.FullName}, everyone(403, map[string]int{"sport": 409, "anonymous": 401}))
		// The completion of an adult course: its provider; the football is a children's contract.
		add("POST", "/v1/contracts/"+contract+"/complete", nil, everyone(403, map[string]int{"sport": 422}))
		// The outbox: the feed for the systems of providers, municipalities
		// and operators (holders read notifications), each caller's own
		// notifications, the subscriptions the operators manage within
		// their scheme.
		add("GET", "/v1/events", nil, everyone(200, map[string]int{"ivanova": 403, "petrov": 403, "orlova": 403, "kuznetsov": 403, "auditor": 200, "anonymous": 401}))
		add("GET", "/v1/events?provider_id="+sportID, nil, map[string]int{"robo": 200, "sport": 200, "ivanova": 403})
		add("GET", "/v1/notifications", nil, everyone(200, map[string]int{"anonymous": 401}))
		add("POST", "/v1/notifications/read", map[string]any{"ids": []string{contract}}, everyone(200, nil))
		add("POST", "/v1/admin/subscriptions", map[string]any{"url": "https://accounting.example.ru/hook", "secret": strings.Repeat("s", 32), "role": "municipality", "tenant": demo.MunCity},
			everyone(403, map[string]int{"regional": 201}))
		add("POST", "/v1/admin/subscriptions", map[string]any{"url": "https://registry.example.ru/hook", "secret": strings.Repeat("s", 32), "role": "federal"},
			everyone(403, map[string]int{"federal": 201}))
		add("GET", "/v1/admin/subscriptions", nil, everyone(403, map[string]int{"regional": 200, "federal": 200, "auditor": 200, "anonymous": 401}))
		add("POST", "/v1/admin/subscriptions/"+contract+"/remove", nil, everyone(403, map[string]int{"regional": 404, "federal": 404}))
		// The region's runs.
		add("POST", "/v1/admin/accept-by-silence", nil, everyone(403, map[string]int{"regional": 200}))
		add("POST", "/v1/admin/rollover", map[string]any{"period": year2026}, everyone(403, map[string]int{"regional": 422}))
		add("POST", "/v1/admin/close", map[string]string{"month": "2026-05"}, map[string]int{"regional": 422, "novograd": 403})
		// Reading what the admin routes write (admin_reads_test.go checks
		// what each caller reads): the children's scheme's officials and
		// the auditor the categories and limits, a municipality its own (it
		// names another's: refused); everyone signed in the providers and
		// their catalogue, a provider another's public card only. A region
		// is imported by the regional operator (a check here: no write).
		for _, path := range []string{"/v1/admin/categories", "/v1/admin/categories/" + demo.CategoryCity, "/v1/admin/budgets", "/v1/admin/direction-limits"} {
			add("GET", path, nil, everyone(403, map[string]int{"novograd": 200, "zarechye": 200, "regional": 200, "auditor": 200, "anonymous": 401}))
		}
		add("GET", "/v1/admin/budgets?municipality="+demo.MunCity, nil, everyone(403, map[string]int{"novograd": 200, "regional": 200, "auditor": 200}))
		add("GET", "/v1/admin/direction-limits?municipality="+demo.MunRural, nil, everyone(403, map[string]int{"zarechye": 200, "regional": 200, "auditor": 200}))
		add("GET", "/v1/admin/categories/atlantis", nil, map[string]int{"novograd": 404, "robo": 403})
		for _, path := range []string{"/v1/providers", "/v1/providers/" + sportID, "/v1/providers/" + sportID + "/programs"} {
			add("GET", path, nil, everyone(200, map[string]int{"auditor": 200, "anonymous": 401}))
		}
		add("POST", "/v1/admin/import?check=true", map[string]any{"budgets": []any{map[string]any{"municipality": demo.MunRural, "period_start": "2026-01-01", "limit": "1000000.00"}}},
			everyone(403, map[string]int{"regional": 200, "auditor": 403}))
		// Another provider, a family: the public card of Спортклуб only, never
		// its INN or agreements.
		for who, tok := range map[string]string{"robo": robo, "ivanova": ivanova, "orlova": orlova} {
			for _, path := range []string{"/v1/providers/" + sportID, "/v1/providers?municipality=" + demo.MunRural, "/v1/providers/" + sportID + "/programs"} {
				body := string(e.must(http.StatusOK, "GET", path, tok, "", nil).body)
				if strings.Contains(body, "5401000003") || strings.Contains(body, `"agreements"`) || strings.Contains(body, `"live"`) {
					t.Errorf("%s GET %s reads Спортклуб's own data: %s", who, path, body)
				}
			}
		}

		// The audit trail of the ledger: every role within its reach (a
		// holder names a certificate they act for; another's is not found).
		add("GET", "/v1/audit/postings", nil, everyone(200, map[string]int{"ivanova": 400, "petrov": 400, "orlova": 400, "kuznetsov": 400,
			"auditor": 200, "anonymous": 401}))
		add("GET", "/v1/audit/postings?certificate_id="+misha, nil, everyone(200, map[string]int{"petrov": 404, "orlova": 404, "kuznetsov": 404, "auditor": 200}))
		add("GET", "/v1/audit/postings?certificate_id="+adult+"&provider_id="+sportID, nil, everyone(200, map[string]int{"ivanova": 404, "petrov": 404, "kuznetsov": 404}))
		// An invoice's moves: its payer only (the municipality, the federal
		// operator); March has no invoice of the football's yet.
		march := map[string]string{"scheme": "supplementary", "municipality": demo.MunCity, "provider_id": sportID, "month": "2026-03", "kind": "advance"}
		for _, move := range []string{"accept", "pay"} {
			add("POST", "/v1/invoices/"+move, march, everyone(403, map[string]int{"novograd": 404, "zarechye": 404, "federal": 404, "auditor": 403}))
		}
		// The auditor reads what the region holds, of both schemes, and
		// changes nothing (TestAuditorOnlyReads tries every write).
		for _, path := range []string{"/v1/certificates/" + misha, "/v1/certificates/" + adult, "/v1/certificates/" + queuedAdult + "/queue",
			"/v1/contracts/" + contract, "/v1/certificates", "/v1/certificates?scheme=digital_skills", "/v1/contracts", "/v1/invoices?month=2026-03",
			"/v1/admin/parameters", "/v1/groups/" + d.WalkthroughGroup.String()} {
			add("GET", path, nil, map[string]int{"auditor": 200})
		}
		add("GET", "/v1/admin/forecast", nil, map[string]int{"auditor": 403})
		add("POST", "/v1/eligibility", map[string]any{"scheme": "digital_skills", "holder": map[string]any{"person_id": demo.AdultOrlova, "full_name": "О", "birth_date": "1990-01-01", "municipality": demo.MunCity}},
			map[string]int{"auditor": 403})
		add("POST", "/v1/certificates/"+misha+"/suspend", nil, map[string]int{"auditor": 403})
		add("POST", "/v1/admin/close", map[string]string{"month": "2026-03"}, map[string]int{"auditor": 403})

		// Authorised organisations: granted and revoked by a municipality
		// for itself or the region, listed within reach; the school issues
		// and activates Novograd's children's certificates and reads those
		// it registered; every other write is refused.
		add("POST", "/v1/admin/authorisations", map[string]any{"organisation_id": "0190f000-0000-7000-8000-00000000a002", "name": "МФЦ «Мои документы»",
			"municipality": demo.MunCity, "may_activate": false, "from": "2026-01-01"},
			everyone(403, map[string]int{"novograd": 201, "regional": 201, "auditor": 403, "school": 403, "mfc": 403, "anonymous": 401}))
		add("GET", "/v1/admin/authorisations", nil, everyone(403, map[string]int{"novograd": 200, "zarechye": 200, "regional": 200, "auditor": 200,
			"school": 200, "mfc": 200, "anonymous": 401}))
		var rural struct{ ID string }
		e.must(http.StatusCreated, "POST", "/v1/admin/authorisations", regional, "authz-rural-auth", map[string]any{"organisation_id": "0190f000-0000-7000-8000-00000000a003",
			"name": "Школа Заречья", "municipality": demo.MunRural, "from": "2026-01-01"}).json(t, &rural)
		add("POST", "/v1/admin/authorisations/"+rural.ID+"/revoke", nil, everyone(403, map[string]int{"novograd": 404, "zarechye": 200, "regional": 200,
			"auditor": 403, "school": 403}))
		paper := func(person, mun, category string) map[string]any {
			return map[string]any{"holder": map[string]any{"person_id": person, "full_name": "Смирнова Анна Сергеевна", "birth_date": "2017-05-20",
				"municipality": mun}, "category": category}
		}
		var issued issueJSON
		e.must(http.StatusCreated, "POST", "/v1/certificates", school, "authz-school-issue", paper("child-paper-1", demo.MunCity, demo.CategoryCity)).json(t, &issued)
		paperCert := issued.Certificate.ID
		add("GET", "/v1/certificates/"+paperCert, nil, map[string]int{"school": 200, "mfc": 404, "novograd": 200, "zarechye": 404, "robo": 404, "ivanova": 404, "auditor": 200})
		add("POST", "/v1/certificates/"+paperCert+"/activate", nil, map[string]int{"mfc": 403, "zarechye": 403, "robo": 403, "ivanova": 403, "auditor": 403})
		add("POST", "/v1/certificates/"+paperCert+"/activate", nil, map[string]int{"school": 200})
		add("POST", "/v1/certificates/"+paperCert+"/suspend", nil, map[string]int{"school": 403, "mfc": 403})
		add("POST", "/v1/certificates", paper("child-paper-2", demo.MunRural, demo.CategoryRural), map[string]int{"school": 403, "mfc": 403})
		add("POST", "/v1/certificates", paper("child-paper-3", demo.MunCity, demo.CategoryCity), map[string]int{"mfc": 403})
		for _, path := range []string{"/v1/certificates/" + misha, "/v1/contracts/" + contract, "/v1/certificates/" + misha + "/schedule", "/v1/certificates/" + queuedAdult + "/queue"} {
			add("GET", path, nil, map[string]int{"school": 404})
		}
		for _, path := range []string{"/v1/certificates", "/v1/contracts", "/v1/invoices?month=2026-03", "/v1/audit/postings", "/v1/events", "/v1/admin/parameters"} {
			add("GET", path, nil, map[string]int{"school": 403})
		}
		add("POST", "/v1/certificates/"+misha+"/protection", map[string]any{"mode": "by_name"}, map[string]int{"school": 403})
		add("POST", "/v1/applications", map[string]any{"certificate_id": misha, "group_id": d.WalkthroughGroup.String()}, map[string]int{"school": 403})
		add("POST", "/v1/guardianships", map[string]any{"guardian_id": demo.GuardianPetrov, "child_id": "child-paper-1"}, map[string]int{"school": 403})
		add("POST", "/v1/notifications/read", map[string]any{"ids": []string{contract}}, map[string]int{"school": 403})

		for i, c := range cases {
			// The resume of Petrov's suspended child is the municipality's and
			// the region's; everyone else is refused. Skip the two allowed
			// callers so the state does not change under the other rows.
			if strings.HasSuffix(c.path, "/resume") && (c.who == "novograd" || c.who == "regional") {
				continue
			}
			if strings.HasSuffix(c.path, "/terminate") && (c.who == "ivanova" || c.who == "sport") {
				continue
			}
			key := ""
			if c.method == "POST" {
				key = fmt.Sprintf("authz-%d-%s", i, c.who)
			}
			r := e.do(c.method, c.path, c.token, key, c.body)
			if r.status != c.want {
				t.Errorf("%s %s %s → %d %s, want %d", c.who, c.method, c.path, r.status, r.body, c.want)
				continue
			}
			if r.status >= 400 {
				for _, s := range secrets {
					if s != "" && strings.Contains(string(r.body), s) {
						t.Errorf("%s %s %s → %d leaks %q: %s", c.who, c.method, c.path, r.status, s, r.body)
					}
				}
			}
		}

		// A municipality sees only its own invoices; the region all of them.
		e.clock.T = time.Date(2026, time.April, 1, 6, 0, 0, 0, time.UTC)
		e.must(http.StatusOK, "POST", "/v1/admin/close", regional, "authz-close-04", map[string]string{"month": "2026-04"})
		var list struct {
			Items []struct{ Municipality string }
		}
		e.must(http.StatusOK, "GET", "/v1/invoices?month=2026-04", zarechye, "", nil).json(t, &list)
		for _, inv := range list.Items {
			if inv.Municipality != demo.MunRural {
				t.Errorf("zarechye sees an invoice of %s", inv.Municipality)
			}
		}
		e.must(http.StatusOK, "GET", "/v1/invoices?month=2026-04", regional, "", nil).json(t, &list)
		if len(list.Items) == 0 {
			t.Errorf("the region sees no invoices for April")
		}
	})
}

// TestAuthentication refuses missing, malformed, foreign-key, expired and
// non-HS256 tokens, tokens without the tenant their role needs, tokens
// without jti or iat (they could not be revoked or capped) and tokens
// living longer than the maximum lifetime.
func TestAuthentication(t *testing.T) {
	e := newEnv(t, storeKinds()[0])
	// A read any regional operator may make, with no tenant.
	path := "/v1/admin/parameters"
	sign := func(method jwt.SigningMethod, key any, claims jwt.MapClaims) string {
		tok, err := jwt.NewWithClaims(method, claims).SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	now := e.clock.T
	good := jwt.MapClaims{"iss": api.Issuer, "sub": "x", "role": "regional", "iat": now.Unix(), "exp": now.Add(time.Hour).Unix(), "jti": "t-1"}
	with := func(k string, v any) jwt.MapClaims {
		c := jwt.MapClaims{}
		for a, b := range good {
			c[a] = b
		}
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
		return c
	}
	e.must(http.StatusOK, "GET", path, sign(jwt.SigningMethodHS256, testKey, good), "", nil)
	for name, tok := range map[string]string{
		"none":           "",
		"garbage":        "not-a-jwt",
		"other key":      sign(jwt.SigningMethodHS256, []byte("another-signing-key-of-32-bytes-or-more"), good),
		"HS512":          sign(jwt.SigningMethodHS512, testKey, good),
		"alg none":       sign(jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, good),
		"expired":        sign(jwt.SigningMethodHS256, testKey, with("exp", now.Add(-time.Hour).Unix())),
		"no exp":         sign(jwt.SigningMethodHS256, testKey, with("exp", nil)),
		"other issuer":   sign(jwt.SigningMethodHS256, testKey, with("iss", "someone")),
		"unknown role":   sign(jwt.SigningMethodHS256, testKey, with("role", "admin")),
		"holder no tnt":  sign(jwt.SigningMethodHS256, testKey, with("role", "holder")),
		"provider tnt":   sign(jwt.SigningMethodHS256, testKey, with("role", "provider")),
		"no subject":     sign(jwt.SigningMethodHS256, testKey, with("sub", nil)),
		"issued in 2030": sign(jwt.SigningMethodHS256, testKey, with("iat", now.AddDate(4, 0, 0).Unix())),
		"no jti":         sign(jwt.SigningMethodHS256, testKey, with("jti", nil)),
		"no iat":         sign(jwt.SigningMethodHS256, testKey, with("iat", nil)),
		"lives too long": sign(jwt.SigningMethodHS256, testKey, with("exp", now.Add(2001*time.Hour).Unix())),
	} {
		r := e.do("GET", path, tok, "", nil)
		if r.status != http.StatusUnauthorized || r.problem(t).Code != "unauthenticated" {
			t.Errorf("%s: %d %s, want 401", name, r.status, r.body)
		}
	}
}

// TestNoPlanting: a certificate cannot be planted in another person's
// cabinet. A parent issues only for a child a municipal authority linked to
// them; a children's certificate belongs to its child's guardians whatever
// person id its holder carries, so a certificate whose child id happens to
// be another guardian's or an adult holder's id is not theirs to read or to
// spend; a second guardian linked to a child acts for its certificate.
func TestNoPlanting(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		ivanova, petrov, orlova := e.holder(demo.GuardianIvanova), e.holder(demo.GuardianPetrov), e.holder(demo.AdultOrlova)
		group := e.demo.WalkthroughGroup.String()
		for _, person := range []string{demo.GuardianPetrov, demo.AdultOrlova} {
			body := map[string]any{"holder": map[string]any{"person_id": person, "full_name": "Подброшенный Ребёнок", "birth_date": "2016-01-01",
				"municipality": demo.MunCity}, "category": demo.CategoryCity, "funded": true}
			if p := e.must(http.StatusForbidden, "POST", "/v1/certificates", ivanova, "plant-"+person, body).problem(t); p.Code != "not_guardian" {
				t.Errorf("Ivanova plants for %s: %+v", person, p)
			}
			// Issued by an officer for the person id of someone else, with
			// Ivanova as the guardian: only Ivanova's.
			body["guardian_id"] = demo.GuardianIvanova
			var out issueJSON
			e.must(http.StatusCreated, "POST", "/v1/certificates", e.regional(), "officer-"+person, body).json(t, &out)
			cert := out.Certificate.ID
			e.must(http.StatusOK, "POST", "/v1/certificates/"+cert+"/activate", e.regional(), "activate-"+person, nil)
			for _, stranger := range []string{petrov, orlova} {
				e.must(http.StatusNotFound, "GET", "/v1/certificates/"+cert, stranger, "", nil)
				e.must(http.StatusForbidden, "POST", "/v1/applications", stranger, "spend-"+person+stranger[len(stranger)-8:],
					map[string]any{"certificate_id": cert, "group_id": group})
			}
			e.must(http.StatusOK, "GET", "/v1/certificates/"+cert, ivanova, "", nil)
		}

		// A second guardian, linked by the municipal authority, acts for the child.
		misha := e.demo.CertificateID("child-active-funded").String()
		e.must(http.StatusNotFound, "GET", "/v1/certificates/"+misha, petrov, "", nil)
		e.must(http.StatusOK, "POST", "/v1/guardianships", e.municipality(demo.MunCity), "link-petrov-misha",
			map[string]any{"guardian_id": demo.GuardianPetrov, "child_id": "child-ivanov-misha"})
		e.must(http.StatusOK, "GET", "/v1/certificates/"+misha, petrov, "", nil)
	})
}
