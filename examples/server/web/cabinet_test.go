package web_test

import (
	"context"
	"net/http"
	"strconv"
	"testing"

	"github.com/google/uuid"

	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/examples/server/demo"
	"github.com/edufund/edufund/examples/server/web"
)

// cabinetOf is the cabinet of the demo certificate labelled label as its
// guardian reads it through the service.
func cabinetOf(t *testing.T, e *env, guardian, label string) enrollment.Cabinet {
	t.Helper()
	cab, err := e.svc.Cabinet(context.Background(), enrollment.AsHolder(guardian), e.demo.CertificateID(label))
	if err != nil {
		t.Fatalf("cabinet of %s: %v", label, err)
	}
	return cab
}

// TestCabinetList: a parent sees each of their children's certificates as
// a card linking to its cabinet, with its number, status, kind and
// municipality in Russian, and none of another family's.
func TestCabinetList(t *testing.T) {
	c := shared.clientAs(t, demo.GuardianIvanova)
	misha := cabinetOf(t, shared, demo.GuardianIvanova, "child-active-funded").Certificate
	olga := cabinetOf(t, shared, demo.GuardianIvanova, "child-issued-accounting").Certificate

	p := c.get("/cabinet")
	if p.status != http.StatusOK {
		t.Fatalf("status %d", p.status)
	}
	p.has(t, "<h1>Мои сертификаты</h1>", "Сертификаты детей",
		`<a href="/cabinet/`+misha.ID.String()+`">Иванов Михаил Петрович</a>`, string(misha.Number),
		`<a href="/cabinet/`+olga.ID.String()+`">Иванова Ольга Петровна</a>`, string(olga.Number),
		"активен", "выдан", "сертификат персонифицированного финансирования", "учётный сертификат", "Новоград",
		`aria-current="page">Мои сертификаты</a>`)
	p.lacks(t, "Петров Иван", "Петрова Анна", shared.demo.CertificateID("child-suspended").String(),
		shared.demo.CertificateID("child-cancelled").String(), "Сертификат для взрослых</h2>")
	noEnglish(t, p)

	// The other family sees their own and none of Ivanova's.
	c2 := shared.clientAs(t, demo.GuardianPetrov)
	q := c2.get("/cabinet")
	q.has(t, "Петров Иван Сергеевич", "Петрова Анна Сергеевна", "приостановлен", "аннулирован")
	q.lacks(t, "Иванов Михаил", "Иванова Ольга", misha.ID.String(), olga.ID.String())

	// An adult's own certificate is listed, linking to its own page.
	c3 := shared.clientAs(t, demo.AdultOrlova)
	a := c3.get("/cabinet")
	a.has(t, "Сертификат для взрослых</h2>", `<a href="/adult">Орлова Наталья Викторовна</a>`)
	a.lacks(t, "Сертификаты детей")
}

// TestCabinet: one certificate's cabinet shows what the service's Cabinet
// says, in Russian: the money, the registries, the live contract linking
// to its page, the switcher between the family's children, the protection
// mode and the notifications.
func TestCabinet(t *testing.T) {
	c := shared.clientAs(t, demo.GuardianIvanova)
	cab := cabinetOf(t, shared, demo.GuardianIvanova, "child-active-funded")
	if cab.Money == nil {
		t.Fatal("the demo's budget is reached: no money to show")
	}
	misha, olga := cab.Certificate.ID.String(), shared.demo.CertificateID("child-issued-accounting").String()
	m := cab.Money

	p := c.get("/cabinet/" + misha)
	if p.status != http.StatusOK {
		t.Fatalf("status %d:\n%s", p.status, p.body)
	}
	p.has(t, "<h1>Иванов Михаил Петрович</h1>", "№ "+string(cab.Certificate.Number), "активен",
		"сертификат персонифицированного финансирования", "городская", "Новоград",
		"Действует до</dt><dd>"+cab.Certificate.ValidUntil.Time().Format("02.01.2006"),
		"с 01.01.2026 по 31.12.2026",
		"<dt>Номинал</dt><dd>"+web.RuMoney(m.Nominal)+"</dd>",
		"<dt>Доступно сейчас</dt><dd>"+web.RuMoney(m.Usable)+"</dd>",
		"<dt>Остаток</dt><dd>"+web.RuMoney(m.Balance)+"</dd>",
		"<dt>Зарезервировано</dt><dd>"+web.RuMoney(m.Reserved)+"</dd>",
		"<dt>Списано</dt><dd>"+web.RuMoney(m.Spent)+"</dd>",
		`<a href="/?cert=`+misha+`">Найти программу</a>`,
		// The switcher: a GET form over both children, Misha selected.
		`<form method="get" action="/cabinet"`, `<label for="cert">Ребёнок</label>`,
		`<option value="`+misha+`" selected>Иванов Михаил Петрович, сертификат № `,
		`<option value="`+olga+`">Иванова Ольга Петровна, сертификат № `,
		// Protection by name.
		"по номеру и ФИО", "Организация может подать заявку за вас",
		// The live contract.
		`<a href="/contracts/`+shared.demo.Contract.String()+`">Футбол</a>`, "Футбол "+strconv.Itoa(shared.demo.Year)+"-A",
		"договор действует", "Уведомления", "Начислен номинал")
	if !m.Depleted.IsZero() {
		p.has(t, "Сгорело до первой заявки</dt><dd>"+web.RuMoney(m.Depleted)+"</dd>")
	}
	for _, r := range cab.Registries {
		p.has(t, "<td class=\"num\">"+strconv.Itoa(r.Used)+" из "+strconv.Itoa(r.Allowed)+"</td>")
	}
	p.has(t, "Социально значимые: бесплатно")
	noEnglish(t, p)
	p.lacks(t, "(rule ")

	// The switcher's form leads to the picked child's cabinet.
	sw := noFollow(shared.clientAs(t, demo.GuardianIvanova))
	r := sw.get("/cabinet?cert=" + olga)
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/cabinet/"+olga {
		t.Errorf("switch: %d to %q", r.status, r.header.Get("Location"))
	}
	o := c.get("/cabinet/" + olga)
	o.has(t, "<h1>Иванова Ольга Петровна</h1>", "учётный сертификат", "Учётный сертификат не несёт денег",
		"заявки подаёте только вы", "Заявок и договоров по сертификату пока нет")
	o.lacks(t, "<dt>Остаток</dt>", shared.demo.Contract.String())
}

// TestCabinetQueued: a certificate waiting for a funded slot says where it
// stands in the queue.
func TestCabinetQueued(t *testing.T) {
	cab := cabinetOf(t, shared, demo.GuardianSidorov, "child-rural-queued")
	if cab.Position == 0 {
		t.Skip("the demo's rural certificate is not queued")
	}
	// Sidorov is no principal of the sign-in page: clientAs signs him in
	// with a token.
	p := shared.clientAs(t, demo.GuardianSidorov).get("/cabinet/" + cab.Certificate.ID.String())
	p.has(t, "Сертификат в очереди на финансирование: позиция "+strconv.Itoa(cab.Position), "Заречье")
}

// TestCabinetAccess: another family's certificate does not exist for the
// reader; an official reads no family's cabinet here; a bad id is a 404,
// never a 500; signed out, the reader is sent to the sign-in.
func TestCabinetAccess(t *testing.T) {
	misha := shared.demo.CertificateID("child-active-funded").String()
	number := string(cabinetOf(t, shared, demo.GuardianIvanova, "child-active-funded").Certificate.Number)
	mishaData := []string{"Иванов Михаил", number, "Футбол", shared.demo.Contract.String()}

	petrov := shared.clientAs(t, demo.GuardianPetrov)
	p := petrov.get("/cabinet/" + misha)
	if p.status != http.StatusNotFound {
		t.Errorf("another family's cabinet: status %d, want 404", p.status)
	}
	p.has(t, "Сертификат не найден")
	p.lacks(t, mishaData...)
	// Nor through the switcher.
	p = petrov.get("/cabinet?cert=" + misha)
	if p.status != http.StatusNotFound {
		t.Errorf("another family's cabinet by the switcher: status %d, want 404", p.status)
	}
	p.lacks(t, mishaData...)

	for _, tt := range []struct{ subject, area string }{
		{"robo-admin", "/provider"}, {"sport-admin", "/provider"}, {"novograd-officer", "/municipality"},
		{"region-operator", "/municipality"}, {"federal-operator", "/adult/queue"},
	} {
		t.Run(tt.subject, func(t *testing.T) {
			c := shared.clientAs(t, tt.subject)
			for _, path := range []string{"/cabinet", "/cabinet/" + misha} {
				p := c.get(path)
				if p.status != http.StatusForbidden {
					t.Errorf("%s: status %d, want 403", path, p.status)
				}
				p.has(t, "Личный кабинет — для семей", `<a href="`+tt.area+`">`)
				p.lacks(t, append(mishaData, "Иванова Ольга", "Петров Иван")...)
			}
		})
	}

	ivanova := shared.clientAs(t, demo.GuardianIvanova)
	for _, path := range []string{"/cabinet/nope", "/cabinet/" + uuid.Nil.String(), "/cabinet/" + uuid.NewString(),
		"/cabinet/%00", "/cabinet?cert=garbage", "/cabinet?cert="} {
		p := ivanova.get(path)
		if p.status != http.StatusNotFound {
			t.Errorf("%s: status %d, want 404", path, p.status)
		}
		p.has(t, "Сертификат не найден")
	}

	out := noFollow(shared.client(t))
	for _, path := range []string{"/cabinet", "/cabinet/" + misha} {
		p := out.get(path)
		p.sendsToSignIn(t, path)
		p.lacks(t, mishaData...)
	}
}

// TestCabinetBudgetReached: when the municipality's budget limit is
// reached, the parent's cabinet shows the service's notice in place of
// the money (rules.md), and no balance.
func TestCabinetBudgetReached(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		reachBudget(t, e, demo.MunCity)
		cab := cabinetOf(t, e, demo.GuardianIvanova, "child-active-funded")
		if cab.Money != nil || cab.BudgetNotice == "" {
			t.Fatalf("the service still shows the money: %+v", cab)
		}
		c := e.clientAs(t, demo.GuardianIvanova)
		p := c.get("/cabinet/" + cab.Certificate.ID.String())
		if p.status != http.StatusOK {
			t.Fatalf("status %d", p.status)
		}
		p.has(t, `<p class="notice">`+cab.BudgetNotice+"</p>", "Лимит средств муниципалитета")
		p.lacks(t, "<dt>Остаток</dt>", "<dt>Номинал</dt>", "Доступно сейчас")
	})
}
