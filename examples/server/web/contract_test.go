package web_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/examples/server/demo"
	"github.com/edufund/edufund/funding"
)

// contractStatus is the contract's status as the system reads it.
func contractStatus(t *testing.T, e *env, id uuid.UUID) enrollment.Status {
	t.Helper()
	c, err := e.svc.Contract(context.Background(), enrollment.AsSystem("test"), id)
	if err != nil {
		t.Fatal(err)
	}
	return c.Status
}

// applyInput is the walkthrough group's application form as the parent posts it.
type applyInput struct {
	program, group, cert, key string
}

func (a applyInput) form(step string, coPay bool) url.Values {
	v := url.Values{"key": {a.key}, "group": {a.group}, "cert": {a.cert}, "month": {"2026-03"}, "step": {step}}
	if coPay {
		v.Set("copay", "1")
	}
	return v
}

func applyWalkthrough(t *testing.T, e *env, c *client) applyInput {
	t.Helper()
	o, err := e.svc.Offer(context.Background(), e.demo.WalkthroughGroup)
	if err != nil {
		t.Fatal(err)
	}
	a := applyInput{program: "/programs/" + o.Program.ID.String() + "/apply", group: e.demo.WalkthroughGroup.String(),
		cert: e.demo.CertificateID("child-active-funded").String()}
	p := c.get(a.program + "?group=" + a.group + "&cert=" + a.cert)
	if p.status != http.StatusOK {
		t.Fatalf("the form: status %d\n%s", p.status, p.body)
	}
	a.key = formKey(t, p, a.program)
	return a
}

// mishaMoney is Misha's certificate account as his mother reads it.
func mishaMoney(t *testing.T, e *env) (enrollment.CabinetMoney, int) {
	t.Helper()
	cab, err := e.svc.Cabinet(context.Background(), enrollment.AsHolder(demo.GuardianIvanova), e.demo.CertificateID("child-active-funded"))
	if err != nil || cab.Money == nil {
		t.Fatalf("cabinet: %v %+v", err, cab)
	}
	return *cab.Money, len(cab.Contracts)
}

// TestApplyAndContract walks seed 002: a parent previews the price the
// service would fix, applies, the provider confirms, the parent accepts;
// on the way, the wrong family, the wrong provider, a cross-site form and
// a refusal without a reason change nothing.
func TestApplyAndContract(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		parent := noFollow(e.clientAs(t, demo.GuardianIvanova))

		// The form from the program's page.
		o, err := e.svc.Offer(context.Background(), e.demo.WalkthroughGroup)
		if err != nil {
			t.Fatal(err)
		}
		prog := parent.get("/programs/" + o.Program.ID.String())
		prog.has(t, `/apply?group=`+e.demo.WalkthroughGroup.String()+`">Подать заявку</a>`)
		a := applyWalkthrough(t, e, parent)
		form := parent.get(a.program + "?group=" + a.group + "&cert=" + a.cert)
		form.has(t, "Заявка на программу «Робототехника на LEGO»", `<label for="group">Группа</label>`, `<label for="cert">Сертификат</label>`,
			`<label for="month">Начало занятий</label>`, `<option value="2026-03" selected>март_2026</option>`,
			`<label for="copay">Согласен оплатить часть стоимости, не покрытую сертификатом</label>`, "Иванов Михаил Петрович", "Рассчитать")
		form.lacks(t, `value="submit"`, "Петров Иван")

		// The preview without the co-payment agreed: the service refuses,
		// and the page says what there is to agree to, writing nothing.
		before, contracts := mishaMoney(t, e)
		p := parent.post(a.program, a.form("preview", false), nil)
		if p.status != http.StatusUnprocessableEntity {
			t.Errorf("preview without the co-payment: status %d, want 422", p.status)
		}
		p.has(t, `<p class="error" id="copay-error">Сертификат покрывает не всю стоимость: отметьте согласие оплатить 9_872,48_₽ самостоятельно.</p>`)
		p.lacks(t, `value="submit"`)

		// The preview: the split and a row per month, as the service prices it.
		p = parent.post(a.program, a.form("preview", true), nil)
		if p.status != http.StatusOK {
			t.Fatalf("preview: status %d\n%s", p.status, p.body)
		}
		p.has(t, "14_850,00_₽ на 10_месяцев", `<dd class="cert-share">4_977,52_₽</dd>`, `<dd class="co-pay">9_872,48_₽</dd>`,
			"с 10.03.2026 по 31.12.2026", `<th scope="col" class="num">Сертификатом</th>`,
			`<tr><td>март_2026</td><td class="num">1_100,07_₽</td><td class="num">368,71_₽</td><td class="num">731,36_₽</td></tr>`,
			`<tr><td>декабрь_2026</td><td class="num">1_527,77_₽</td><td class="num">512,09_₽</td><td class="num">1_015,68_₽</td></tr>`,
			`value="`+a.key+`"`, `<button type="submit" name="step" value="submit">Подать заявку</button>`)
		if n := strings.Count(p.body, `<tr><td>`); n != 10 {
			t.Errorf("%d schedule rows, want 10", n)
		}
		if after, n := mishaMoney(t, e); after != before || n != contracts {
			t.Fatalf("the preview wrote: %+v (%d contracts), was %+v (%d)", after, n, before, contracts)
		}

		// The submission, twice with the same key: one contract.
		var id uuid.UUID
		for i := range 2 {
			p = parent.post(a.program, a.form("submit", true), nil)
			loc := p.header.Get("Location")
			m := regexp.MustCompile(`^/contracts/([0-9a-f-]{36})\?done=applied$`).FindStringSubmatch(loc)
			if p.status != http.StatusSeeOther || m == nil {
				t.Fatalf("submit %d: %d to %q\n%s", i, p.status, loc, p.body)
			}
			if i == 1 && m[1] != id.String() {
				t.Errorf("the second submit made contract %s, the first %s", m[1], id)
			}
			id = uuid.MustParse(m[1])
		}
		after, n := mishaMoney(t, e)
		if n != contracts+1 || !after.Reserved.Equal(before.Reserved.Add(funding.MustMoney("4977.52"))) {
			t.Errorf("after the submissions: %d contracts (was %d), reserved %s (was %s)", n, contracts, after.Reserved, before.Reserved)
		}
		path := "/contracts/" + id.String()
		p = parent.get(path + "?done=applied")
		p.has(t, `<p class="done" role="status">Заявка подана`, `<span class="status">заявка подана</span>`, "«Робототехника на LEGO»",
			"Робототехника на LEGO 2026-A", "Робоцентр", "Иванов Михаил Петрович", "Заявка подана</dt><dd>10.03.2026",
			`<dd class="cert-share">4_977,52_₽</dd>`, "март_2026", "Отозвать заявку")
		p.lacks(t, "Подтвердить зачисление", "Причина отказа", "Принять оферту")

		// Another family and another provider see nothing and change nothing.
		petrov := noFollow(e.clientAs(t, demo.GuardianPetrov))
		if p := petrov.get(path); p.status != http.StatusNotFound {
			t.Errorf("another family: status %d, want 404", p.status)
		} else {
			p.lacks(t, "Robotics", "Иванов")
		}
		sport := noFollow(e.clientAs(t, "sport-admin"))
		if p := sport.get(path); p.status != http.StatusNotFound {
			t.Errorf("another provider reads: status %d, want 404", p.status)
		}
		if p := sport.post(path+"/confirm", url.Values{"key": {uuid.NewString()}}, nil); p.status != http.StatusNotFound && p.status != http.StatusForbidden {
			t.Errorf("another provider confirms: status %d, want 403 or 404", p.status)
		}
		// The municipality reads the contract but is no party to it.
		officer := noFollow(e.clientAs(t, "novograd-officer"))
		officer.get(path).has(t, `<span class="status">заявка подана</span>`, "Иванов Михаил Петрович")
		if p := officer.post(path+"/confirm", url.Values{"key": {uuid.NewString()}}, nil); p.status != http.StatusForbidden {
			t.Errorf("the municipality confirms: status %d, want 403", p.status)
		} else {
			p.has(t, "Действие недоступно")
		}
		// A parent applying with another family's certificate is told it is
		// not theirs.
		p = petrov.post(a.program, url.Values{"key": {uuid.NewString()}, "group": {a.group}, "cert": {a.cert}, "month": {"2026-03"},
			"copay": {"1"}, "step": {"submit"}}, nil)
		if p.status != http.StatusBadRequest {
			t.Errorf("another family's certificate: status %d, want 400", p.status)
		}
		p.has(t, "Сертификат не найден среди ваших")
		p.lacks(t, "Иванов Михаил")
		if s := contractStatus(t, e, id); s != enrollment.Requested {
			t.Fatalf("status %s after another provider's confirm", s)
		}
		if _, n := mishaMoney(t, e); n != contracts+1 {
			t.Errorf("%d contracts, want %d", n, contracts+1)
		}

		// The provider: a refusal needs a reason; then it confirms.
		robo := noFollow(e.clientAs(t, "robo-admin"))
		p = robo.get(path)
		p.has(t, "Подтвердить зачисление", `<label for="reason">Причина отказа</label>`, "Подтвердите зачисление или откажите")
		p.lacks(t, "Отозвать заявку", "Иванов Михаил")
		p = robo.post(path+"/refuse", url.Values{"key": {formKey(t, p, path+"/refuse")}, "reason": {"  "}}, nil)
		if p.status != http.StatusBadRequest {
			t.Errorf("a refusal without a reason: status %d, want 400", p.status)
		}
		p.has(t, `aria-describedby="reason-error"`, `<p class="error" id="reason-error">Укажите причину отказа`)
		if s := contractStatus(t, e, id); s != enrollment.Requested {
			t.Fatalf("status %s after a refusal without a reason", s)
		}
		p = robo.post(path+"/confirm", url.Values{"key": {formKey(t, p, path+"/confirm")}}, nil)
		if p.status != http.StatusSeeOther || p.header.Get("Location") != path+"?done=confirm" {
			t.Fatalf("confirm: %d to %q\n%s", p.status, p.header.Get("Location"), p.body)
		}
		robo.get(path+"?done=confirm").has(t, "Зачисление подтверждено", `<span class="status">оферта направлена</span>`)

		// A form from another site is refused, whoever is signed in.
		p = parent.get(path)
		p.has(t, `<span class="status">оферта направлена</span>`, "Примите оферту", "Принять оферту")
		accept := url.Values{"key": {formKey(t, p, path+"/accept")}}
		if x := parent.post(path+"/accept", accept, map[string]string{"Sec-Fetch-Site": "cross-site"}); x.status != http.StatusForbidden {
			t.Errorf("a cross-site accept: status %d, want 403", x.status)
		}
		if s := contractStatus(t, e, id); s != enrollment.Accepted {
			t.Fatalf("status %s after a cross-site accept", s)
		}

		// The parent accepts: the contract is active.
		p = parent.post(path+"/accept", accept, nil)
		if p.status != http.StatusSeeOther || p.header.Get("Location") != path+"?done=accept" {
			t.Fatalf("accept: %d to %q\n%s", p.status, p.header.Get("Location"), p.body)
		}
		p = parent.get(path + "?done=accept")
		p.has(t, "Оферта принята: договор заключён", `<span class="status">договор действует</span>`, "Договор заключён</dt><dd>10.03.2026",
			"Расторгнуть договор", `<label for="results">Достигнутые результаты</label>`, `<option value="100">100_баллов</option>`)
		p.lacks(t, "Принять оферту", "Отозвать заявку")
		if s := contractStatus(t, e, id); s != enrollment.Active {
			t.Errorf("status %s, want active", s)
		}

		// The provider reports March's delivery: a charged month.
		p = robo.get(path)
		p.has(t, `<option value="2026-03" selected>март_2026</option>`, `<label for="percent">`)
		p = robo.post(path+"/delivery", url.Values{"key": {formKey(t, p, path+"/delivery")}, "month": {"2026-03"}, "percent": {"150"}}, nil)
		if p.status != http.StatusBadRequest {
			t.Errorf("150 %%: status %d, want 400", p.status)
		}
		p.has(t, `<p class="error" id="percent-error">`, `value="150"`)
		p = robo.post(path+"/delivery", url.Values{"key": {formKey(t, p, path+"/delivery")}, "month": {"2026-03"}, "percent": {"50"}}, nil)
		if p.status != http.StatusSeeOther {
			t.Errorf("delivery: status %d\n%s", p.status, p.body)
		}
	})
}

// TestApplyRefusals: a full group and a reached budget limit are said in
// the rules' words, with nothing written.
func TestApplyRefusals(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		c := noFollow(e.clientAs(t, demo.GuardianIvanova))
		a := applyWalkthrough(t, e, c)

		// The budget limit set at what is used: no new money.
		period := reachBudget(t, e, demo.MunCity)
		p := c.post(a.program, a.form("preview", true), nil)
		if p.status != http.StatusUnprocessableEntity {
			t.Errorf("budget limit: status %d, want 422", p.status)
		}
		p.has(t, `<p class="alert" role="alert">Лимит средств муниципалитета`, "исчерпан", "Заявку на эту программу подать нельзя.")
		p.lacks(t, `value="submit"`, "cert-share")
		if _, err := e.svc.SetBudget(ctx, uuid.NewString(), enrollment.BudgetRequest{Municipality: demo.MunCity, Period: period,
			Limit: funding.MustMoney("5000000.00"), By: enrollment.AsSystem("test")}); err != nil {
			t.Fatal(err)
		}

		// One seat, taken by Misha's application: a second is refused.
		o, err := e.svc.Offer(ctx, e.demo.WalkthroughGroup)
		if err != nil {
			t.Fatal(err)
		}
		g := o.Group
		g.Capacity = 1
		if _, err := e.svc.SaveGroup(ctx, uuid.NewString(), g, enrollment.AsSystem("test")); err != nil {
			t.Fatal(err)
		}
		p = c.post(a.program, a.form("submit", true), nil)
		if p.status != http.StatusSeeOther {
			t.Fatalf("submit: status %d\n%s", p.status, p.body)
		}
		path, _, _ := strings.Cut(p.header.Get("Location"), "?")
		_, contracts := mishaMoney(t, e)
		a.key = uuid.NewString()
		p = c.post(a.program, a.form("submit", true), nil)
		if p.status != http.StatusConflict {
			t.Errorf("a full group: status %d, want 409", p.status)
		}
		p.has(t, "В группе нет свободных мест", "мест нет)")
		if _, n := mishaMoney(t, e); n != contracts {
			t.Errorf("%d contracts after a refusal, want %d", n, contracts)
		}
		c.get("/programs/"+o.Program.ID.String()).lacks(t, "Подать заявку")

		// The provider refuses with a reason the family then reads, its
		// lines as typed in a browser's textarea.
		robo := noFollow(e.clientAs(t, "robo-admin"))
		p = robo.get(path)
		p = robo.post(path+"/refuse", url.Values{"key": {formKey(t, p, path+"/refuse")},
			"reason": {"Группа переведена на утро.\r\nПозвоните нам, подберём другую."}}, nil)
		if p.status != http.StatusSeeOther || p.header.Get("Location") != path+"?done=refuse" {
			t.Fatalf("refuse: %d to %q\n%s", p.status, p.header.Get("Location"), p.body)
		}
		p = c.get(path)
		p.has(t, `<span class="status">в зачислении отказано</span>`, "Причина отказа:", "<p>Группа переведена на утро.<br>\nПозвоните нам, подберём другую.</p>",
			"Отказ в зачислении</dt><dd>10.03.2026")
		p.lacks(t, "Отозвать заявку", "Принять оферту")
	})
}

// TestContractBadInput: a contract id that is no UUID or names no
// contract, an unknown action, and a reader signed out get a Russian page,
// never a 500.
func TestContractBadInput(t *testing.T) {
	c := noFollow(shared.client(t))
	c.get("/contracts/"+shared.demo.Contract.String()).sendsToSignIn(t, "/contracts/"+shared.demo.Contract.String())
	offer, err := shared.svc.Offer(context.Background(), shared.demo.WalkthroughGroup)
	if err != nil {
		t.Fatal(err)
	}
	form := "/programs/" + offer.Program.ID.String() + "/apply"
	c.get(form).sendsToSignIn(t, form)
	provider := shared.clientAs(t, "robo-admin")
	if p := provider.get(form); p.status != http.StatusForbidden {
		t.Errorf("the form for a provider: status %d, want 403", p.status)
	} else {
		p.has(t, "Заявку подаёт получатель сертификата")
	}

	signIn(t, c, demo.GuardianIvanova)
	for _, tt := range []struct{ method, path string }{
		{"GET", "/contracts/not-a-uuid"},
		{"GET", "/contracts/" + uuid.NewString()},
		{"GET", "/contracts/00000000-0000-0000-0000-000000000000"},
		{"POST", "/contracts/not-a-uuid/withdraw"},
		{"POST", "/contracts/" + uuid.NewString() + "/accept"},
		{"POST", "/contracts/" + shared.demo.Contract.String() + "/explode"},
		{"GET", "/programs/not-a-uuid/apply"},
	} {
		var p page
		if tt.method == "GET" {
			p = c.get(tt.path)
		} else {
			p = c.post(tt.path, url.Values{"key": {uuid.NewString()}}, nil)
		}
		if p.status != http.StatusNotFound {
			t.Errorf("%s %s: status %d, want 404", tt.method, tt.path, p.status)
		}
		p.has(t, `<html lang="ru">`, "не найден")
		noEnglish(t, p)
	}
	// Misha's football: active, so only termination and the rating.
	p := c.get("/contracts/" + shared.demo.Contract.String())
	p.has(t, "«Футбол»", `<span class="status">договор действует</span>`, "Спортклуб «Заречье»", "Расторгнуть договор", "Сохранить оценку")
	p.lacks(t, "Принять оферту", "Подтвердить зачисление")
}
