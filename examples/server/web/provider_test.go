package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/examples/server/demo"
	"github.com/edufund/edufund/examples/server/web"
	"github.com/edufund/edufund/funding"
)

// TestProviderContracts: each provider sees its own applications and
// contracts, by tab, and never another's; the demo's active contract
// (Misha's football) is the sports club's.
func TestProviderContracts(t *testing.T) {
	id := shared.demo.Contract.String()
	sport := shared.clientAs(t, "sport-admin")
	p := sport.get("/provider?show=active")
	if p.status != http.StatusOK {
		t.Fatalf("status %d\n%s", p.status, p.body)
	}
	p.has(t, "<h1>Заявки и договоры</h1>", `aria-current="page"><strong>Действующие договоры</strong>`,
		`<a href="/contracts/`+id+`">Открыть</a>`, "Футбол — Футбол 2026-A", "договор действует",
		"в месяц: сертификатом ", `<a href="/contracts/`+id+`#delivery">Отчёт о посещении</a>`, `<th scope="col">Подана</th>`)
	p.lacks(t, "Подтвердить</button>")
	sport.get("/provider").lacks(t, id) // new applications: the contract is past them

	robo := shared.clientAs(t, "robo-admin")
	for _, show := range []string{"", "new", "offers", "active", "ended"} {
		p := robo.get("/provider?show=" + show)
		if p.status != http.StatusOK {
			t.Errorf("show=%s: status %d", show, p.status)
		}
		p.lacks(t, id, "Футбол")
	}
	robo.get("/provider").has(t, "Новых заявок нет.")
	robo.get("/provider?show=ended").has(t, "Завершённых договоров, отказов и отозванных заявок нет.")
}

// TestProviderGroups: the provider's programs with their groups and
// seats, never another provider's.
func TestProviderGroups(t *testing.T) {
	robo := shared.clientAs(t, "robo-admin")
	p := robo.get("/provider/groups")
	if p.status != http.StatusOK {
		t.Fatalf("status %d\n%s", p.status, p.body)
	}
	p.has(t, "<h1>Группы и места</h1>", "Робототехника на LEGO", "3D-моделирование", "Юный эколог",
		"Робототехника на LEGO 2026-A", "занято 0 из 15, свободно 15", "01.01.2026 — 31.12.2026", "январь — декабрь_2026 (12_месяцев)",
		"вт, чт 16:00–17:30", "18_250,00_₽", `<th scope="col">Места</th>`)
	p.lacks(t, "Футбол", "Краеведческие походы", "Живопись", "мест нет")

	sport := shared.clientAs(t, "sport-admin")
	p = sport.get("/provider/groups")
	p.has(t, "Футбол 2026-A", "занято 1 из 20, свободно 19", "Краеведческие походы")
	p.lacks(t, "Робототехника на LEGO")
}

// TestProviderAccess: signed out, the pages ask to sign in; any other
// role is refused and sees none of a provider's data; a query the pages
// did not make is a Russian 400, never a 500.
func TestProviderAccess(t *testing.T) {
	paths := []string{"/provider", "/provider?show=active", "/provider/groups", "/provider/invoices"}
	anon := noFollow(shared.client(t))
	for _, path := range paths {
		anon.get(path).sendsToSignIn(t, path)
	}
	for _, who := range []string{demo.GuardianIvanova, "novograd-officer", "region-operator"} {
		c := shared.clientAs(t, who)
		for _, path := range paths {
			p := c.get(path)
			if p.status != http.StatusForbidden {
				t.Errorf("%s as %s: status %d, want 403", path, who, p.status)
			}
			p.has(t, "Раздел для организаций")
			p.lacks(t, shared.demo.Contract.String(), "Футбол", "Робототехника на LEGO 2026-A")
		}
	}

	robo := shared.clientAs(t, "robo-admin")
	for _, tt := range []struct{ path, want string }{
		{"/provider?show=all", "Такого списка нет"},
		{"/provider?show=%00", "Такого списка нет"},
		{"/provider?show=new&after=garbage", "Ссылка на следующую страницу устарела или повреждена"},
		{"/provider?show=new&after=" + uuid.Nil.String(), "Ссылка на следующую страницу устарела или повреждена"},
		{"/provider/groups?after=garbage", "Ссылка на следующую страницу устарела или повреждена"},
		{"/provider/invoices?month=2026-13", "Выберите месяц из списка."},
		{"/provider/invoices?month=март", "Выберите месяц из списка."},
	} {
		p := robo.get(tt.path)
		if p.status != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400", tt.path, p.status)
		}
		p.has(t, tt.want)
		noEnglish(t, p)
	}
	// A page past the last is empty, not an error.
	robo.get("/provider?show=active&after="+uuid.NewString()).has(t, "В начало")
}

// TestProviderInvoicesEmpty: a month without invoices says when they come;
// the picker offers the last twelve months and the next one.
func TestProviderInvoicesEmpty(t *testing.T) {
	robo := shared.clientAs(t, "robo-admin")
	p := robo.get("/provider/invoices")
	if p.status != http.StatusOK {
		t.Fatalf("status %d\n%s", p.status, p.body)
	}
	p.has(t, `<label for="month">Месяц</label>`, `<option value="2026-03" selected>март_2026</option>`,
		`<option value="2026-04">апрель_2026</option>`, `<option value="2025-03">март_2025</option>`,
		"За март_2026 счетов нет: они появятся после закрытия месяца.")
	p.lacks(t, `value="2026-05"`, `value="2025-02"`)
	p = robo.get("/provider/invoices?month=2024-01")
	p.has(t, `<option value="2024-01" selected>январь_2024</option>`, "За январь_2024 счетов нет")
}

// TestProviderConfirmAndInvoices walks seed 004: a parent applies to Robo
// Center, which sees the application among its new ones (and the sports
// club does not), confirms it from the list and finds it among the offers;
// after March is closed, the sports club's invoices of March are those the
// service lists, to the kopeck.
func TestProviderConfirmAndInvoices(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		k, err := e.svc.Submit(ctx, uuid.NewString(), enrollment.SubmitRequest{
			CertificateID: e.demo.CertificateID("child-active-funded"), GroupID: e.demo.WalkthroughGroup,
			Start: e.svc.Today(), CoPayAccepted: true, By: enrollment.AsHolder(demo.GuardianIvanova)})
		if err != nil {
			t.Fatal(err)
		}
		id := k.ID.String()

		sport := e.clientAs(t, "sport-admin")
		for _, show := range []string{"new", "offers", "active", "ended"} {
			sport.get("/provider?show="+show).lacks(t, id)
		}

		robo := noFollow(e.clientAs(t, "robo-admin"))
		p := robo.get("/provider")
		p.has(t, `<a href="/contracts/`+id+`">Открыть</a>`, "Робототехника на LEGO — Робототехника на LEGO 2026-A", "заявка подана",
			"10.03.2026", web.RuMoney(k.Price.Other), "в месяц: сертификатом "+web.RuMoney(k.Price.CertOther)+", доплата семьи "+web.RuMoney(k.Price.CoPayOther),
			`<a href="/contracts/`+id+`#reason">Отказать с причиной</a>`)
		done := robo.post("/contracts/"+id+"/confirm", url.Values{"key": {formKey(t, p, "/contracts/"+id+"/confirm")}}, nil)
		if loc := done.header.Get("Location"); done.status != http.StatusSeeOther || loc != "/contracts/"+id+"?done=confirm" {
			t.Fatalf("confirm: %d to %q\n%s", done.status, loc, done.body)
		}
		robo.get("/provider").lacks(t, id)
		robo.get("/provider?show=offers").has(t, id, "оферта направлена")
		robo.get("/provider/groups").has(t, "занято 1 из 15, свободно 14")

		// The region closes March on the 1st of April and April on the 1st
		// of May. Misha's football, activated in March, was charged then:
		// the close of April issues its final of March and the advance of
		// April.
		for _, m := range []funding.Month{{Year: 2026, Month: time.March}, {Year: 2026, Month: time.April}} {
			e.clock.T = time.Date(m.Year, m.Month+1, 1, 9, 0, 0, 0, time.UTC)
			if _, err := e.svc.CloseMonth(ctx, m, nil); err != nil {
				t.Fatal(err)
			}
		}
		kinds := map[enrollment.InvoiceKind]string{enrollment.AdvanceInvoice: "аванс", enrollment.FinalInvoice: "окончательный", enrollment.RefundInvoice: "возврат"}
		seen := map[enrollment.InvoiceKind]bool{}
		for _, month := range []string{"2026-03", "2026-04"} {
			m, _ := funding.ParseMonth(month)
			invs, err := e.svc.Invoices(ctx, enrollment.AsProvider(e.demo.ProviderID("Спортклуб «Заречье»")), m, uuid.Nil)
			if err != nil || len(invs) == 0 {
				t.Fatalf("the sports club's invoices of %s: %v %+v", month, err, invs)
			}
			p := sport.get("/provider/invoices?month=" + month)
			if p.status != http.StatusOK {
				t.Fatalf("status %d\n%s", p.status, p.body)
			}
			p.has(t, `<option value="`+month+`" selected>`, "Итого за ")
			p.lacks(t, "счетов нет")
			for _, inv := range invs {
				seen[inv.Kind] = true
				p.has(t, "<tr><td>"+demo.MunicipalityNames[inv.Municipality]+"</td><td>дополнительное образование детей</td><td>"+kinds[inv.Kind]+
					`</td><td class="num">`+web.RuMoney(inv.Amount)+`</td><td class="num">`+strconv.Itoa(inv.Lines)+"</td></tr>")
			}
		}
		if !seen[enrollment.AdvanceInvoice] || !seen[enrollment.FinalInvoice] {
			t.Errorf("the closes issued no advance or no final: %v", seen)
		}
		robo.get("/provider/invoices?month=2026-04").has(t, "За апрель_2026 счетов нет")

		// Refused, the application is among the ended ones, no longer an offer.
		if _, err := e.svc.Refuse(ctx, uuid.NewString(), enrollment.ContractRequest{ContractID: k.ID,
			By: enrollment.AsProvider(e.demo.ProviderID("Робоцентр")), Reason: "Группа укомплектована."}); err != nil {
			t.Fatal(err)
		}
		robo.get("/provider?show=offers").lacks(t, id)
		p = robo.get("/provider?show=ended")
		p.has(t, `<a href="/contracts/`+id+`">Открыть</a>`, "в зачислении отказано")
		p.lacks(t, "Подтвердить</button>", "Действия</th>")
	})
}
