package web_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/edufund/edufund/examples/server/api"
	"github.com/edufund/edufund/examples/server/demo"
)

// TestNavigator: a search shows the count with its plural, the facets as
// links that narrow it, and a «Дальше» link to the next page, which
// shows other programs and a link back to the first.
func TestNavigator(t *testing.T) {
	c := shared.client(t)
	p := c.get("/?q=" + url.QueryEscape("шахматы"))
	if p.status != http.StatusOK {
		t.Fatalf("status %d", p.status)
	}
	p.has(t, `<html lang="ru">`, `<label for="q">`, `value="шахматы"`, "Найдено 8_программ", "По направлениям",
		`Физкультурно-спортивная</a> <span class="count">8</span>`, "По реестрам", "Шахматы",
		"Сегодня в регионе 10_марта 2026_г.")
	p.lacks(t, "Дальше")

	first := c.get("/?direction=arts")
	first.has(t, "Найдено ", "Художественная</strong>", `rel="next"`, "Дальше")
	next := regexp.MustCompile(`<a href="([^"]+)" rel="next">Дальше</a>`).FindStringSubmatch(first.body)
	if next == nil {
		t.Fatalf("no next link in:\n%s", first.body)
	}
	second := c.get(strings.ReplaceAll(next[1], "&amp;", "&"))
	second.has(t, "В начало", "Художественная</strong>")
	if ids(first) == ids(second) || ids(second) == "" {
		t.Errorf("the second page repeats the first: %s", ids(second))
	}
}

// ids are the program links of a page, in order.
func ids(p page) string {
	return strings.Join(regexp.MustCompile(`/programs/[0-9a-f-]{36}`).FindAllString(p.body, -1), " ")
}

// TestNavigatorBadInput: a parameter the search refuses re-renders the
// form with a Russian message next to the input it names (400), never a
// 500, an English rule or a stack trace.
func TestNavigatorBadInput(t *testing.T) {
	c := shared.client(t)
	for _, tt := range []struct {
		query string
		id    string // the input the message is about, "" for the message above the form
		want  string
	}{
		{"age=abc", "age", "Укажите возраст целым числом лет"},
		{"age=200", "age", "Укажите возраст от 0 до 120 лет."},
		{"age=-1", "age", "Укажите возраст от 0 до 120 лет."},
		{"q=" + strings.Repeat("я", 201), "q", "Запрос слишком длинный: не больше 200_символов."},
		{"q=%00", "q", "В запросе есть недопустимые символы"},
		{"q=%FF%FE", "q", "В запросе есть недопустимые символы"},
		{"age=99999999999999999999", "age", "Укажите возраст целым числом лет"},
		{"direction=magic", "direction", "Такого направления нет"},
		{"registry=nope", "registry", "Такого реестра нет"},
		{"municipality=atlantis", "municipality", "Такого муниципалитета нет"},
		{"cursor=garbage", "", "Ссылка на следующую страницу устарела"},
		{"cert=" + uuid.NewString(), "cert", "Войдите, чтобы искать по своему сертификату."},
		{"only=1", "only", "Выберите сертификат"},
	} {
		t.Run(tt.query[:min(len(tt.query), 20)], func(t *testing.T) {
			p := c.get("/?" + tt.query)
			if p.status != http.StatusBadRequest {
				t.Errorf("status %d, want 400", p.status)
			}
			p.has(t, `<html lang="ru">`, tt.want)
			if tt.id != "" && tt.id != "cert" && tt.id != "only" {
				p.has(t, `id="`+tt.id+`" name="`+tt.id+`"`, `aria-describedby="`+tt.id+`-error"`, `<p class="error" id="`+tt.id+`-error">`)
			}
			p.lacks(t, "Найдено")
			noEnglish(t, p)
		})
	}
}

// TestProgramPage: a program's page shows its texts, provider with
// contacts, and its module's groups with the schedule, the months in
// Russian, the price as money and the seats.
func TestProgramPage(t *testing.T) {
	offer, err := shared.svc.Offer(context.Background(), shared.demo.WalkthroughGroup)
	if err != nil {
		t.Fatal(err)
	}
	p := shared.client(t).get("/programs/" + offer.Program.ID.String())
	if p.status != http.StatusOK {
		t.Fatalf("status %d", p.status)
	}
	p.has(t, `<html lang="ru">`, "<h1>Робототехника на LEGO</h1>", "Собираем и программируем роботов",
		"<li>освоить визуальное программирование;</li>", "Техническая: робототехника", "Сертифицированные: за счёт сертификата", "7–14_лет",
		"Робоцентр", "г. Новоград, ул. Ленина, 12, 2 этаж", `href="tel:&#43;73832001001"`, "mailto:info@robo.novograd.example",
		"Робототехника на LEGO, годовой курс", `<strong class="price">18_250,00_₽</strong>`, "144_часа",
		"вт, чт 16:00–17:30", "с 01.01.2026 по 31.12.2026", "январь — декабрь_2026", "(12_месяцев)", "свободно 15_мест из 15")
}

// TestNotFound: a program id that is no UUID or names no program, and a
// path the pages do not have, get the Russian 404 page.
func TestNotFound(t *testing.T) {
	c := shared.client(t)
	for _, path := range []string{"/programs/not-a-uuid", "/programs/" + uuid.NewString(), "/programs/00000000-0000-0000-0000-000000000000", "/nowhere", "/programs/"} {
		p := c.get(path)
		if p.status != http.StatusNotFound {
			t.Errorf("%s: status %d, want 404", path, p.status)
		}
		p.has(t, `<html lang="ru">`, "не найдена")
		noEnglish(t, p)
	}
	// The API's paths stay the API's.
	if p := c.get("/v1/nope"); p.status != http.StatusNotFound || !strings.Contains(p.header.Get("Content-Type"), "problem+json") {
		t.Errorf("/v1/nope: %d %s, want the API's 404 problem", p.status, p.header.Get("Content-Type"))
	}
	if p := c.get("/healthz"); p.status != http.StatusOK || !strings.Contains(p.body, "ok") {
		t.Errorf("/healthz: %d %s", p.status, p.body)
	}
}

// signIn signs c in as the demo principal subject.
func signIn(t *testing.T, c *client, subject string) page {
	t.Helper()
	old := c.hc.CheckRedirect
	c.hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	defer func() { c.hc.CheckRedirect = old }()
	p := c.post("/signin", url.Values{"who": {subject}, "next": {"/?q=футбол"}}, nil)
	if loc, _ := url.QueryUnescape(p.header.Get("Location")); p.status != http.StatusSeeOther || loc != "/?q=футбол" {
		t.Fatalf("sign-in: %d to %q, want 303 to the page it came from", p.status, p.header.Get("Location"))
	}
	return p
}

// TestSignIn: the sign-in page lists the demo's principals in Russian;
// picking one keeps its token in an HttpOnly SameSite=Lax cookie, and
// the pages then name the reader and offer the parent's own
// certificates, those the service lets them read; signing out clears the
// cookie and revokes the token, for the API too.
func TestSignIn(t *testing.T) {
	c := shared.client(t)
	p := c.get("/signin")
	p.has(t, `<html lang="ru">`, "<h1>Вход</h1>", "<legend>Родители и взрослые</legend>", `for="who-guardian-ivanova"`,
		"Иванова Елена Викторовна", "Управление образования Новограда", "Региональный оператор")

	resp := signIn(t, c, demo.GuardianIvanova)
	cookie := resp.header.Get("Set-Cookie")
	for _, want := range []string{"edufund_token=", "Path=/", "HttpOnly", "SameSite=Lax"} {
		if !strings.Contains(cookie, want) {
			t.Errorf("cookie %q: no %s", cookie, want)
		}
	}
	token := regexp.MustCompile(`edufund_token=([^;]+)`).FindStringSubmatch(cookie)[1]

	home := c.get("/")
	misha := shared.demo.CertificateID("child-active-funded").String()
	home.has(t, `<strong class="user-name">Иванова Елена Викторовна</strong>`, "Выйти", `<label for="cert">Сертификат</label>`,
		`value="`+misha+`"`, "Иванов Михаил Петрович", "Иванова Ольга Петровна")
	home.lacks(t, "Петров Иван", shared.demo.CertificateID("child-suspended").String())

	// The search for Misha (9, funded, Novograd) says where he can enrol.
	found := c.get("/?q=" + url.QueryEscape("шахматы") + "&cert=" + misha)
	found.has(t, "Можно записаться по сертификату", "Нельзя записаться: возраст не подходит программе.")
	only := c.get("/?q=" + url.QueryEscape("шахматы") + "&cert=" + misha + "&only=1")
	only.has(t, "Можно записаться по сертификату", "Показаны только программы")
	only.lacks(t, "Нельзя записаться")

	// Signed out: the cookie is cleared and the token no longer works.
	out := c.post("/signout", nil, nil)
	out.has(t, "Войти")
	out.lacks(t, "Иванова Елена Викторовна")
	req, _ := http.NewRequest("GET", shared.srv.URL+"/v1/certificates/"+misha, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	if r := c.do(req); r.status != http.StatusUnauthorized {
		t.Errorf("the signed-out token on the API: %d, want 401", r.status)
	}
}

// TestSignInRefusals: no principal picked re-renders the page with a
// Russian message; a cookie with a forged token signs nobody in.
func TestSignInRefusals(t *testing.T) {
	c := shared.client(t)
	for _, who := range []string{"", "nobody"} {
		p := c.post("/signin", url.Values{"who": {who}}, nil)
		if p.status != http.StatusBadRequest {
			t.Errorf("who=%q: status %d, want 400", who, p.status)
		}
		p.has(t, "Выберите, кем войти.")
	}
	forged, err := api.NewAuth([]byte("another-key-that-is-at-least-32-bytes"), 3600e9, api.DefaultMaxTokenTTL)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := forged.Issue(api.Principal{Role: api.RoleRegional, Subject: "mallory"})
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("GET", shared.srv.URL+"/", nil)
	req.AddCookie(&http.Cookie{Name: "edufund_token", Value: tok})
	p := c.do(req)
	p.has(t, "Войти")
	p.lacks(t, "mallory", "Выйти")
	if sc := p.header.Get("Set-Cookie"); !strings.Contains(sc, "edufund_token=;") || !strings.Contains(sc, "Max-Age=0") {
		t.Errorf("the forged cookie is not cleared: %q", sc)
	}
}

// TestForeignCertificate: a parent's search for another family's
// certificate is refused as the API refuses it, by the service.
func TestForeignCertificate(t *testing.T) {
	c := shared.clientAs(t, demo.GuardianPetrov)
	p := c.get("/?cert=" + shared.demo.CertificateID("child-active-funded").String())
	if p.status != http.StatusBadRequest {
		t.Errorf("status %d, want 400", p.status)
	}
	p.has(t, "Сертификат не найден среди ваших")
	p.lacks(t, "Можно записаться", "Иванов Михаил")
}

// TestCrossOrigin: a POST from another site is refused (403) and changes
// nothing: no one is signed in, no one signed out.
func TestCrossOrigin(t *testing.T) {
	c := shared.client(t)
	for _, hdr := range []map[string]string{
		{"Sec-Fetch-Site": "cross-site"},
		{"Sec-Fetch-Site": "same-site"},
		{"Sec-Fetch-Site": "", "Origin": "http://evil.example"},
	} {
		p := c.post("/signin", url.Values{"who": {demo.GuardianIvanova}}, hdr)
		if p.status != http.StatusForbidden {
			t.Errorf("%v: status %d, want 403", hdr, p.status)
		}
		p.has(t, `<html lang="ru">`, "Форма отправлена с чужого сайта")
		if sc := p.header.Get("Set-Cookie"); sc != "" {
			t.Errorf("%v: a cookie was set: %q", hdr, sc)
		}
	}
	signIn(t, c, demo.GuardianIvanova)
	if p := c.post("/signout", nil, map[string]string{"Sec-Fetch-Site": "cross-site"}); p.status != http.StatusForbidden {
		t.Errorf("a cross-site sign-out: status %d, want 403", p.status)
	}
	c.get("/").has(t, "Иванова Елена Викторовна")
}

// TestHeaders: the pages forbid scripts and frames, and the style sheet
// is served from the binary.
func TestHeaders(t *testing.T) {
	c := shared.client(t)
	p := c.get("/")
	if csp := p.header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("Content-Security-Policy %q", csp)
	}
	if p.header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("X-Content-Type-Options %q", p.header.Get("X-Content-Type-Options"))
	}
	css := c.get("/static/style.css")
	if css.status != http.StatusOK || !strings.HasPrefix(css.header.Get("Content-Type"), "text/css") || !strings.Contains(css.body, ":focus-visible") {
		t.Errorf("style.css: %d %s", css.status, css.header.Get("Content-Type"))
	}
}
