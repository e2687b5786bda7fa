package web_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/examples/server/demo"
	"github.com/edufund/edufund/examples/server/web"
	"github.com/edufund/edufund/funding"
)

// The demo's children, by municipality: what each officer must see and
// must not.
var (
	munNovograd = []string{"Иванов Михаил Петрович", "Иванова Ольга Петровна", "Петров Иван Сергеевич", "Петрова Анна Сергеевна"}
	munZarechye = []string{"Сидоров Глеб Андреевич", "Сидорова Вера Андреевна"}
)

// munNumber is the number of the demo certificate labelled label.
func munNumber(t *testing.T, e *env, label string) string {
	t.Helper()
	c := munCert(t, e, label)
	return string(c.Number)
}

func munCert(t *testing.T, e *env, label string) certificate.Certificate {
	t.Helper()
	cab, err := e.svc.Cabinet(context.Background(), enrollment.AsRegional("test"), e.demo.CertificateID(label))
	if err != nil {
		t.Fatal(err)
	}
	return cab.Certificate
}

// munActionKey is the idempotency key of the list's button that moves
// certificate id by action; "" when the list has no such button.
func munActionKey(p page, id uuid.UUID, action string) string {
	return keyOf(p, "/municipality/certificates/"+id.String()+"/"+action)
}

// TestMunicipalityList: each officer sees their own municipality's
// children's certificates, in Russian, with the buttons each status
// allows, and none of the other municipality's (nor the adults').
func TestMunicipalityList(t *testing.T) {
	for _, tt := range []struct {
		subject          string
		own, other       []string
		ownLabel, others string
	}{
		{"novograd-officer", munNovograd, munZarechye, "child-issued-accounting", "child-rural-funded"},
		{"zarechye-officer", munZarechye, munNovograd, "child-rural-funded", "child-active-funded"},
	} {
		t.Run(tt.subject, func(t *testing.T) {
			c := shared.clientAs(t, tt.subject)
			p := c.get("/municipality")
			if p.status != http.StatusOK {
				t.Fatalf("status %d", p.status)
			}
			p.has(t, tt.own...)
			p.has(t, munNumber(t, shared, tt.ownLabel), `<th scope="col">Дата рождения</th>`, `<label for="status">Статус</label>`)
			p.lacks(t, tt.other...)
			p.lacks(t, munNumber(t, shared, tt.others), "Орлова", "Кузнецов", `name="m"`)
			noEnglish(t, p)
		})
	}

	c := shared.clientAs(t, "novograd-officer")
	p := c.get("/municipality")
	olga := munCert(t, shared, "child-issued-accounting")
	p.has(t, "Сертификаты: Новоград", "<td>"+string(olga.Number)+"</td>", "<td>Иванова Ольга Петровна</td>",
		"<td>14.03.2020</td>", "<td>городская</td>", "учётный сертификат", "сертификат персонифицированного финансирования",
		`<span class="status">выдан</span>`, `<span class="status">активен</span>`, `<span class="status">приостановлен</span>`,
		`<span class="status">аннулирован</span>`, "<td>10.03.2026</td>", "<td>13.03.2038</td>",
		">Активировать</button>", ">Приостановить</button>", ">Возобновить</button>")
	for _, tt := range []struct {
		label   string
		allowed string
	}{
		{"child-issued-accounting", "activate"},
		{"child-active-funded", "suspend"},
		{"child-suspended", "resume"},
		{"child-cancelled", ""},
	} {
		for _, a := range []string{"activate", "suspend", "resume"} {
			if got := munActionKey(p, shared.demo.CertificateID(tt.label), a) != ""; got != (a == tt.allowed) {
				t.Errorf("%s: button %s shown %v", tt.label, a, got)
			}
		}
	}

	// The filter: active only, and a status that is none.
	act := c.get("/municipality?status=active")
	act.has(t, "Иванов Михаил Петрович", `<option value="active" selected>активен</option>`)
	act.lacks(t, "Иванова Ольга Петровна", "Петров Иван Сергеевич")
	bad := c.get("/municipality?status=lost")
	if bad.status != http.StatusBadRequest {
		t.Errorf("status=lost: %d, want 400", bad.status)
	}
	bad.has(t, `<p class="error" id="status-error">Такого статуса нет`)
	noEnglish(t, bad)
	if p := c.get("/municipality?after=garbage"); p.status != http.StatusBadRequest || !strings.Contains(p.body, "Ссылка на следующую страницу устарела") {
		t.Errorf("after=garbage: %d", p.status)
	}
}

// TestMunicipalityPaging: the list pages newest first with «Дальше»,
// and the next page holds the older certificates.
func TestMunicipalityPaging(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		c := e.clientAs(t, "novograd-officer")
		// More than a page: the demo's four and 50 more.
		for i := range enrollment.DefaultListLimit {
			_, err := e.svc.Issue(context.Background(), uuid.NewString(), enrollment.IssueRequest{
				Holder: certificate.Holder{PersonID: "child-paging-" + string(rune('a'+i/26)) + string(rune('a'+i%26)), FullName: "Ребёнок Страничный",
					BirthDate: funding.MustDate(2016, time.May, 5), Municipality: demo.MunCity},
				Municipality: demo.MunCity, Category: demo.CategoryCity, By: enrollment.AsMunicipality(demo.MunCity)})
			if err != nil {
				t.Fatal(err)
			}
		}
		first := c.get("/municipality")
		first.has(t, "Ребёнок Страничный", "Дальше")
		first.lacks(t, "Иванов Михаил Петрович", "В начало")
		next := regexp.MustCompile(`<a href="([^"]+)" rel="next">Дальше</a>`).FindStringSubmatch(first.body)
		if next == nil {
			t.Fatal("no next link")
		}
		second := c.get(strings.ReplaceAll(next[1], "&amp;", "&"))
		second.has(t, "Иванов Михаил Петрович", "Петрова Анна Сергеевна", "В начало")
		second.lacks(t, "Дальше")
	})
}

// TestMunicipalityAccess: signed out, the pages ask to sign in; a parent,
// a provider and the federal operator get 403 with none of the data; the
// regional operator picks the municipality with ?m=.
func TestMunicipalityAccess(t *testing.T) {
	anon := noFollow(shared.client(t))
	for _, path := range []string{"/municipality", "/municipality/issue", "/municipality/budget"} {
		anon.get(path).sendsToSignIn(t, path)
	}

	for _, subject := range []string{demo.GuardianIvanova, "robo-admin", "federal-operator"} {
		c := shared.clientAs(t, subject)
		for _, path := range []string{"/municipality", "/municipality/issue", "/municipality/budget", "/municipality?m=novograd"} {
			p := c.get(path)
			if p.status != http.StatusForbidden {
				t.Errorf("%s %s: status %d, want 403", subject, path, p.status)
			}
			p.has(t, "Нет доступа")
			p.lacks(t, "Иванов Михаил", "Иванова Ольга", munNumber(t, shared, "child-issued-accounting"), "5_000_000")
		}
		for _, path := range []string{"/municipality/certificates/" + shared.demo.CertificateID("child-issued-accounting").String() + "/activate",
			"/municipality/budget", "/municipality/issue"} {
			if p := c.post(path, url.Values{"key": {uuid.NewString()}}, nil); p.status != http.StatusForbidden {
				t.Errorf("%s POST %s: status %d, want 403", subject, path, p.status)
			}
		}
	}

	reg := shared.clientAs(t, "region-operator")
	p := reg.get("/municipality")
	p.has(t, "Сертификаты: Новоград", `<option value="novograd" selected>Новоград</option>`, `<input type="hidden" name="m" value="novograd">`)
	p.has(t, munNovograd...)
	p.lacks(t, munZarechye...)
	p = reg.get("/municipality?m=zarechye")
	p.has(t, "Сертификаты: Заречье", `<option value="zarechye" selected>Заречье</option>`, `href="/municipality/issue?m=zarechye"`)
	p.has(t, munZarechye...)
	p.lacks(t, munNovograd...)
	reg.get("/municipality/budget?m=zarechye").has(t, "Бюджет и лимиты: Заречье", "1_500_000,00_₽")
	if p := reg.get("/municipality?m=atlantis"); p.status != http.StatusNotFound {
		t.Errorf("m=atlantis: %d, want 404", p.status)
	}

	// An officer's m is their own, whatever the link says.
	off := shared.clientAs(t, "zarechye-officer")
	p = off.get("/municipality?m=novograd")
	p.has(t, munZarechye...)
	p.lacks(t, munNovograd...)
	off.get("/municipality/budget?m=novograd").has(t, "Бюджет и лимиты: Заречье", "1_500_000,00_₽")
}

// TestMunicipalityBudget: the budget page shows the forecast, the limit
// and its use, the direction limits and the categories, in Russian.
func TestMunicipalityBudget(t *testing.T) {
	c := shared.clientAs(t, "novograd-officer")
	p := c.get("/municipality/budget")
	if p.status != http.StatusOK {
		t.Fatalf("status %d", p.status)
	}
	fc, err := shared.svc.Forecast(context.Background(), enrollment.AsMunicipality(demo.MunCity))
	if err != nil || len(fc) != 1 {
		t.Fatalf("forecast: %v %d", err, len(fc))
	}
	p.has(t, "Бюджет и лимиты: Новоград", "Период с 01.01.2026 по 31.12.2026", "<dt>Лимит бюджета</dt><dd>5_000_000,00_₽</dd>",
		"<dt>Зарезервировано</dt><dd>"+web.RuMoney(fc[0].Reserved)+" (1_договор)</dd>", "<dt>Потребность</dt><dd>"+web.RuMoney(fc[0].Need)+"</dd>",
		"<td>март_2026</td>", "<td>декабрь_2026</td>",
		"Использовано (израсходовано и зарезервировано)", `value="5000000,00"`, `<label for="budget-limit">`,
		"<td>Физкультурно-спортивная</td>\n<td class=\"num\">1</td>\n<td class=\"num\">200</td>",
		"<td>Техническая: робототехника</td>\n<td class=\"num\">0</td>\n<td class=\"num\">100</td>",
		"<td>Художественная</td>\n<td class=\"num\">0</td>\n<td class=\"num\">без ограничения</td>",
		`<label for="limit-sport">`,
		"<tr><td>городская</td><td class=\"num\">30_000,00_₽</td><td class=\"num\">2</td><td class=\"num\">1_000</td><td class=\"num\">0</td></tr>",
		"<tr><td>сельская</td><td class=\"num\">36_000,00_₽</td><td class=\"num\">1</td><td class=\"num\">1</td><td class=\"num\">1</td></tr>")
	p.lacks(t, `class="alert"`, "Заречье</h1>")
	noEnglish(t, p)

	// Zarechye's queue: one certificate waiting for a rural slot.
	z := shared.clientAs(t, "zarechye-officer").get("/municipality/budget")
	z.has(t, "<dt>Очередь на финансирование</dt><dd>1_сертификат на 36_000,00_₽</dd>", "<dt>Лимит бюджета</dt><dd>1_500_000,00_₽</dd>")
}

// TestMunicipalityIssue: the Novograd officer issues a certificate through
// the form and finds it in the list; a funded one in a full category is
// issued as an accounting one and queued; bad input is said in Russian
// next to its field and writes nothing.
func TestMunicipalityIssue(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		c := e.clientAs(t, "novograd-officer")
		form := c.get("/municipality/issue")
		form.has(t, "Выдать сертификат: Новоград", `<label for="personid">СНИЛС или идентификатор</label>`, `type="date" id="birthdate"`,
			`<option value="city" selected>городская: номинал 30_000,00_₽ в год</option>`, `<option value="novograd" selected>Новоград</option>`,
			`id="funded" name="funded" value="1" checked`, `<label for="guardian">`)
		noEnglish(t, form)
		issue := func(key string, set ...string) url.Values {
			v := url.Values{"key": {key}, "personid": {"112-233-445 95"}, "fullname": {"Смирнов Артём Ильич"}, "birthdate": {"2017-03-14"},
				"sex": {"male"}, "citizenship": {"RU"}, "education": {""}, "registration": {"permanent"}, "residence": {"novograd"},
				"guardian": {"guardian-smirnova"}, "category": {"city"}, "funded": {"1"}, "protection": {"by_name"}}
			for i := 0; i+1 < len(set); i += 2 {
				if set[i+1] == "-" {
					v.Del(set[i])
				} else {
					v.Set(set[i], set[i+1])
				}
			}
			return v
		}
		before := c.get("/municipality").body

		for _, tt := range []struct {
			name   string
			set    []string
			status int
			field  string
			want   string
		}{
			{"date typed wrong", []string{"birthdate", "31.02.2017"}, 400, "birthdate", "Укажите дату рождения в виде ДД.ММ.ГГГГ"},
			{"date not a date", []string{"birthdate", "вчера"}, 400, "birthdate", "Укажите дату рождения в виде ДД.ММ.ГГГГ"},
			{"born in the future", []string{"birthdate", "2030-01-01"}, 422, "birthdate", "Сертификат выдаётся детям с 5_лет"},
			{"too young", []string{"birthdate", "2024-01-01"}, 422, "birthdate", "ещё нет 5_лет"},
			{"grown up", []string{"birthdate", "2000-01-01"}, 422, "birthdate", "Ребёнку уже исполнилось 18_лет"},
			{"no birth date", []string{"birthdate", ""}, 422, "birthdate", "Укажите дату рождения."},
			{"bad SNILS", []string{"personid", "112-233-445 96"}, 400, "personid", "В СНИЛС неверное контрольное число"},
			{"bad id", []string{"personid", "Иван!"}, 400, "personid", "Укажите СНИЛС (11 цифр"},
			{"bad guardian", []string{"guardian", "мама"}, 400, "guardian", "Укажите СНИЛС (11 цифр"},
			{"no name", []string{"fullname", "  "}, 400, "fullname", "Укажите фамилию, имя и отчество ребёнка."},
			{"unknown category", []string{"category", "gold"}, 400, "category", "Выберите значение из списка."},
			{"short passphrase", []string{"protection", "by_passphrase", "passphrase", "abc"}, 400, "passphrase", "Кодовое слово — не короче 8_символов."},
			{"second certificate", []string{"personid", "child-ivanova-olga"}, 409, "", "У ребёнка уже есть сертификат дополнительного образования"},
		} {
			t.Run(tt.name, func(t *testing.T) {
				p := c.post("/municipality/issue", issue(uuid.NewString(), tt.set...), nil)
				if p.status != tt.status {
					t.Errorf("status %d, want %d", p.status, tt.status)
				}
				p.has(t, tt.want)
				if tt.field != "" {
					p.has(t, `aria-describedby="`+tt.field+`-error"`, `<p class="error" id="`+tt.field+`-error">`)
				} else {
					p.has(t, `<p class="alert" role="alert">`)
				}
				// The form comes back as typed (the passphrase excepted).
				typed := issue("", tt.set...)
				for _, k := range []string{"personid", "fullname", "birthdate", "guardian"} {
					p.has(t, `name="`+k+`" value="`+typed.Get(k)+`"`)
				}
				noEnglish(t, p)
			})
		}
		if after := c.get("/municipality").body; munRows(after) != munRows(before) {
			t.Fatalf("a refused form wrote:\n%s\n---\n%s", munRows(before), munRows(after))
		}

		noFollow(c)
		key := uuid.NewString()
		p := c.post("/municipality/issue", issue(key), nil)
		if p.status != http.StatusSeeOther || !strings.HasPrefix(p.header.Get("Location"), "/municipality?done=issued") {
			t.Fatalf("issue: %d to %q\n%s", p.status, p.header.Get("Location"), p.body)
		}
		// A second submit of the same form is the same certificate.
		again := c.post("/municipality/issue", issue(key), nil)
		if again.header.Get("Location") != p.header.Get("Location") {
			t.Errorf("a double submit: %q, then %q", p.header.Get("Location"), again.header.Get("Location"))
		}
		list := c.get(p.header.Get("Location"))
		list.has(t, `<p class="done" role="status">Сертификат № `, " выдан.</p>", "<td>Смирнов Артём Ильич</td>", "<td>14.03.2017</td>")
		if n := strings.Count(list.body, "Смирнов Артём Ильич"); n != 1 {
			t.Errorf("the new certificate is listed %d times", n)
		}
		page, err := e.svc.Certificates(context.Background(), enrollment.AsMunicipality(demo.MunCity), enrollment.CertificateFilter{Limit: 1})
		if err != nil || len(page.Certificates) != 1 {
			t.Fatal(err)
		}
		got := page.Certificates[0]
		if got.Holder.PersonID != "11223344595" || got.Kind != certificate.Funded || got.GuardianID != "guardian-smirnova" ||
			got.Protection.Mode != certificate.ByName || got.Municipality != demo.MunCity {
			t.Errorf("issued %+v", got)
		}

		// The rural category is full: a funded one waits in its queue.
		z := e.clientAs(t, "zarechye-officer")
		p = z.post("/municipality/issue", issue(uuid.NewString(), "personid", "child-kuzmin-lev", "fullname", "Кузьмин Лев Олегович",
			"category", "rural", "residence", "zarechye"), nil)
		p.has(t, "выдан как учётный и поставлен в очередь на персонифицированное финансирование, позиция 2.", "<td>Кузьмин Лев Олегович</td>")

		// The Zarechye officer cannot issue for Novograd: its m is its
		// own, so the certificate is one Zarechye funds.
		p = z.post("/municipality/issue?m=novograd", issue(uuid.NewString(), "personid", "child-other", "fullname", "Другой Ребёнок",
			"residence", "novograd", "m", "novograd"), nil)
		p.has(t, "Сертификаты: Заречье", "<td>Другой Ребёнок</td>")
		page, err = e.svc.Certificates(context.Background(), enrollment.AsRegional("test"), enrollment.CertificateFilter{Limit: 1})
		if err != nil || len(page.Certificates) != 1 || page.Certificates[0].Holder.FullName != "Другой Ребёнок" || page.Certificates[0].Municipality != demo.MunRural {
			t.Errorf("issued %+v, %v", page.Certificates, err)
		}
	})
}

// munRows are the rows of a list page: what it lists.
func munRows(body string) string {
	return strings.Join(regexp.MustCompile(`<tr id="cert-[^"]+">`).FindAllString(body, -1), " ")
}

// TestMunicipalityStatus: the Novograd officer activates an issued
// certificate, suspends and resumes an active one; a move the status
// table refuses is said in Russian; the Zarechye officer cannot move a
// Novograd certificate.
func TestMunicipalityStatus(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		c := e.clientAs(t, "novograd-officer")
		olga := e.demo.CertificateID("child-issued-accounting")
		misha := e.demo.CertificateID("child-active-funded")

		// The Zarechye officer first: refused, and nothing changes.
		z := e.clientAs(t, "zarechye-officer")
		p := z.post("/municipality/certificates/"+olga.String()+"/activate", url.Values{"key": {uuid.NewString()}}, nil)
		if p.status != http.StatusForbidden && p.status != http.StatusNotFound {
			t.Errorf("zarechye activates olga: %d", p.status)
		}
		p.lacks(t, "Иванова Ольга")
		if st := munCert(t, e, "child-issued-accounting").Status; st != certificate.Issued {
			t.Fatalf("olga is %s", st)
		}

		// c follows the redirects; nf stops at them, to see the 303.
		nf := noFollow(e.clientAs(t, "novograd-officer"))
		list := nf.get("/municipality")
		p = nf.post("/municipality/certificates/"+olga.String()+"/activate", url.Values{"key": {munActionKey(list, olga, "activate")}}, nil)
		if p.status != http.StatusSeeOther || p.header.Get("Location") != "/municipality?done=activated" {
			t.Fatalf("activate: %d to %q\n%s", p.status, p.header.Get("Location"), p.body)
		}
		p = c.get("/municipality?done=activated")
		p.has(t, "Сертификат активирован")
		if st := munCert(t, e, "child-issued-accounting").Status; st != certificate.Active {
			t.Errorf("olga is %s, want active", st)
		}
		if munActionKey(p, olga, "suspend") == "" || munActionKey(p, olga, "activate") != "" {
			t.Error("olga's buttons are not an active certificate's")
		}

		// Suspend and resume Misha, from the list filtered by status: the
		// list comes back filtered.
		list = c.get("/municipality?status=active")
		p = c.post("/municipality/certificates/"+misha.String()+"/suspend", url.Values{"key": {munActionKey(list, misha, "suspend")}, "status": {"active"}}, nil)
		p.has(t, "Действие сертификата приостановлено.", `<option value="active" selected>`)
		p.lacks(t, "Иванов Михаил Петрович")
		if st := munCert(t, e, "child-active-funded").Status; st != certificate.Suspended {
			t.Errorf("misha is %s, want suspended", st)
		}
		list = c.get("/municipality")
		p = c.post("/municipality/certificates/"+misha.String()+"/resume", url.Values{"key": {munActionKey(list, misha, "resume")}}, nil)
		p.has(t, "Действие сертификата возобновлено.")
		if st := munCert(t, e, "child-active-funded").Status; st != certificate.Active {
			t.Errorf("misha is %s, want active", st)
		}

		// A move the status table refuses: a stale button.
		p = c.post("/municipality/certificates/"+misha.String()+"/resume", url.Values{"key": {uuid.NewString()}}, nil)
		if p.status != http.StatusConflict {
			t.Errorf("resume an active certificate: %d, want 409", p.status)
		}
		p.has(t, `<p class="alert" role="alert">Возобновить можно только приостановленный сертификат: этот сейчас активен.</p>`, "Иванов Михаил Петрович")
		noEnglish(t, p)
		anna := e.demo.CertificateID("child-cancelled")
		p = c.post("/municipality/certificates/"+anna.String()+"/activate", url.Values{"key": {uuid.NewString()}}, nil)
		p.has(t, "Активировать можно только выданный сертификат: этот сейчас аннулирован.")

		// No key, an unknown action, an unknown certificate.
		if p := c.post("/municipality/certificates/"+misha.String()+"/suspend", nil, nil); p.status != http.StatusBadRequest {
			t.Errorf("no key: %d, want 400", p.status)
		}
		if p := c.post("/municipality/certificates/"+misha.String()+"/cancel", url.Values{"key": {uuid.NewString()}}, nil); p.status != http.StatusNotFound {
			t.Errorf("cancel: %d, want 404", p.status)
		}
		if p := c.post("/municipality/certificates/"+uuid.NewString()+"/suspend", url.Values{"key": {uuid.NewString()}}, nil); p.status != http.StatusNotFound {
			t.Errorf("unknown certificate: %d, want 404", p.status)
		}
		if st := munCert(t, e, "child-active-funded").Status; st != certificate.Active {
			t.Errorf("misha is %s, want active", st)
		}
	})
}

// TestMunicipalityLimits: the officer sets the budget limit and a
// direction's; a budget limit below what is used is refused with the
// amount in use.
func TestMunicipalityLimits(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		c := e.clientAs(t, "novograd-officer")
		page := c.get("/municipality/budget")
		period := regexp.MustCompile(`name="period" value="([^"]+)"`).FindStringSubmatch(page.body)[1]
		lim, err := e.svc.Limits(context.Background(), enrollment.AsMunicipality(demo.MunCity), demo.MunCity, e.svc.Today())
		if err != nil {
			t.Fatal(err)
		}
		if lim.Budget.Used <= 0 {
			t.Fatalf("the demo uses nothing of Novograd's budget: %+v", lim.Budget)
		}
		used := web.RuMoney(funding.Kopecks(lim.Budget.Used))

		p := c.post("/municipality/budget", url.Values{"key": {formKey(t, page, "/municipality/budget")}, "period": {period}, "limit": {"100"}}, nil)
		if p.status != http.StatusUnprocessableEntity {
			t.Errorf("below use: %d, want 422", p.status)
		}
		p.has(t, `<p class="error" id="budget-limit-error">Лимит меньше уже израсходованного и зарезервированного: `+used+`</p>`, `value="100"`)
		noEnglish(t, p)
		for _, bad := range []string{"", "много", "1e6", "-5"} {
			p := c.post("/municipality/budget", url.Values{"key": {uuid.NewString()}, "period": {period}, "limit": {bad}}, nil)
			if p.status != http.StatusBadRequest {
				t.Errorf("limit %q: %d, want 400", bad, p.status)
			}
			p.has(t, `id="budget-limit-error"`)
			noEnglish(t, p)
		}
		if p := c.post("/municipality/budget", url.Values{"key": {uuid.NewString()}, "period": {"2025-01-01"}, "limit": {"1"}}, nil); p.status != http.StatusConflict {
			t.Errorf("a past period: %d, want 409", p.status)
		}

		p = c.post("/municipality/budget", url.Values{"key": {uuid.NewString()}, "period": {period}, "limit": {"6 250 000,50"}}, nil)
		p.has(t, "Лимит бюджета сохранён: 6_250_000,50_₽.", "<dt>Лимит бюджета</dt><dd>6_250_000,50_₽</dd>")

		p = c.post("/municipality/budget/directions", url.Values{"key": {uuid.NewString()}, "period": {period}, "direction": {"arts"}, "limit": {"25"}}, nil)
		p.has(t, "Лимит договоров по направлению сохранён.", "<td>Художественная</td>\n<td class=\"num\">0</td>\n<td class=\"num\">25</td>")
		p = c.post("/municipality/budget/directions", url.Values{"key": {uuid.NewString()}, "period": {period}, "direction": {"sport"}, "limit": {"0"}}, nil)
		p.has(t, "<td>Физкультурно-спортивная</td>\n<td class=\"num\">1</td>\n<td class=\"num\">без ограничения</td>")
		for _, tt := range []struct{ dir, limit, want string }{
			{"arts", "-1", `<p class="error" id="limit-arts-error">Укажите целое число договоров`},
			{"arts", "пять", `<p class="error" id="limit-arts-error">Укажите целое число договоров`},
			{"magic", "5", "Такого направления нет"},
		} {
			p := c.post("/municipality/budget/directions", url.Values{"key": {uuid.NewString()}, "period": {period}, "direction": {tt.dir}, "limit": {tt.limit}}, nil)
			if p.status != http.StatusBadRequest {
				t.Errorf("%s=%s: %d, want 400", tt.dir, tt.limit, p.status)
			}
			p.has(t, tt.want)
		}

		// Zarechye's officer cannot set Novograd's: its municipality is its
		// own, whatever m says.
		z := e.clientAs(t, "zarechye-officer")
		p = z.post("/municipality/budget?m=novograd", url.Values{"key": {uuid.NewString()}, "period": {period}, "limit": {"1"}, "m": {"novograd"}}, nil)
		p.has(t, "Бюджет и лимиты: Заречье", "Лимит бюджета сохранён: 1,00_₽.",
			// Its queue alone needs 36 000,00 ₽: the forecast warns.
			`<p class="alert" role="alert">Потребность превышает лимит бюджета на 35_999,00_₽`)
		c.get("/municipality/budget").has(t, "<dt>Лимит бюджета</dt><dd>6_250_000,50_₽</dd>")

		// The regional operator sets Zarechye's.
		reg := e.clientAs(t, "region-operator")
		p = reg.post("/municipality/budget", url.Values{"key": {uuid.NewString()}, "period": {period}, "limit": {"2000000"}, "m": {"zarechye"}}, nil)
		p.has(t, "Бюджет и лимиты: Заречье", "Лимит бюджета сохранён: 2_000_000,00_₽.")
	})
}
