package web_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/examples/server/demo"
	"github.com/edufund/edufund/examples/server/web"
	"github.com/edufund/edufund/funding"
)

// TestStatementPage: the certificate's statement shows, for the period,
// the child, the certificate, its money as the service counts it and
// every posting of the period as a line (date, operation, the contract's
// program, amount), with the way to print it; the cabinet links to it; a
// past period can be picked, a bad one is refused; with the budget limit
// reached the family reads the notice in place of the money. On each
// store.
func TestStatementPage(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		misha := e.demo.CertificateID("child-active-funded")
		path := "/certificates/" + misha.String() + "/statement"
		st, err := e.svc.Statement(ctx, enrollment.AsHolder(demo.GuardianIvanova), misha, e.svc.Today())
		if err != nil {
			t.Fatal(err)
		}
		if st.Money == nil || len(st.Postings) < 2 {
			t.Fatalf("the demo's certificate has no money or too few postings to show: %+v", st)
		}
		c := e.clientAs(t, demo.GuardianIvanova)

		cab := c.get("/cabinet/" + misha.String())
		cab.has(t, `<a href="`+path+`">Выписка по сертификату</a>`,
			`<a href="/certificates/`+misha.String()+`/attendance">Справка о посещении кружков</a>`)

		p := c.get(path)
		if p.status != http.StatusOK {
			t.Fatalf("status %d:\n%s", p.status, p.body)
		}
		p.has(t, "<h1>Выписка по сертификату № "+string(st.Certificate.Number)+"</h1>", "Иванов Михаил Петрович",
			web.RuDate(st.Certificate.Holder.BirthDate), "сертификат персонифицированного финансирования", "Новоград",
			"с 01.01.2026 по 31.12.2026",
			"<dt>Номинал</dt><dd>"+web.RuMoney(st.Money.Nominal)+"</dd>",
			"<dt>Остаток</dt><dd>"+web.RuMoney(st.Money.Balance)+"</dd>",
			"<dt>Зарезервировано</dt><dd>"+web.RuMoney(st.Money.Reserved)+"</dd>",
			"<dt>Списано</dt><dd>"+web.RuMoney(st.Money.Spent)+"</dd>",
			"Начисление номинала на период", "Резервирование на оплату договора",
			`<a href="/contracts/`+e.demo.Contract.String()+`">«Футбол»`, "Спортклуб «Заречье»",
			"Ctrl+P", `<option value="2026-01-01" selected>01.01.2026 — 31.12.2026</option>`,
			`<a href="/cabinet/`+misha.String()+`">Кабинет сертификата</a>`)
		body := p.body[strings.Index(p.body, `id="postings"`):]
		if n := strings.Count(body, "<tr>") - 1; n != len(st.Postings) { // less the head's row
			t.Errorf("%d lines for %d postings:\n%s", n, len(st.Postings), body)
		}
		for _, rec := range st.Postings {
			p.has(t, `<td class="num">`+web.RuMoney(rec.Posting.Amount)+`</td>`)
		}
		noEnglish(t, p)

		// The year before: picked from the list, without the postings of
		// this one.
		past := c.get(path + "?period=2025-01-01")
		if past.status != http.StatusOK {
			t.Fatalf("past period: status %d", past.status)
		}
		past.has(t, "с 01.01.2025 по 31.12.2025", `<option value="2025-01-01" selected>`)
		past.lacks(t, "Резервирование на оплату договора")
		for _, bad := range []string{"2026-13-01", "вчера", "2026-03-11"} { // the last: after today
			q := c.get(path + "?period=" + bad)
			if q.status != http.StatusBadRequest {
				t.Errorf("period %q: status %d, want 400", bad, q.status)
			}
			q.has(t, "Период указан неверно")
			q.lacks(t, "Иванов Михаил")
		}

		// The budget limit reached: the family reads the notice, as in the
		// cabinet, and still each line.
		reachBudget(t, e, demo.MunCity)
		b := c.get(path)
		b.has(t, "исчерпан", "Резервирование на оплату договора")
		b.lacks(t, "<dt>Остаток</dt>")
		// The municipality, which funds it, reads the figures.
		m := e.clientAs(t, "novograd-officer").get(path)
		m.has(t, "<dt>Остаток</dt>", `<a href="/municipality">Сертификаты</a>`)
	})
}

// TestAttendancePage: the statement of enrolments lists the child's
// contracts under which it studied in the period (active, terminated,
// closed) with program, provider, group, dates and where they stand, and
// none that is only an application; on each store.
func TestAttendancePage(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		misha := e.demo.CertificateID("child-active-funded")
		path := "/certificates/" + misha.String() + "/attendance"
		football, err := e.svc.Contract(ctx, enrollment.AsSystem("test"), e.demo.Contract)
		if err != nil {
			t.Fatal(err)
		}
		robotics, err := e.svc.Offer(ctx, e.demo.WalkthroughGroup)
		if err != nil {
			t.Fatal(err)
		}
		applied, err := e.svc.Submit(ctx, uuid.NewString(), enrollment.SubmitRequest{CertificateID: misha, GroupID: e.demo.WalkthroughGroup,
			CoPayAccepted: true, By: enrollment.AsHolder(demo.GuardianIvanova)})
		if err != nil {
			t.Fatal(err)
		}
		c := e.clientAs(t, demo.GuardianIvanova)

		p := c.get(path)
		if p.status != http.StatusOK {
			t.Fatalf("status %d:\n%s", p.status, p.body)
		}
		p.has(t, "<h1>Справка о посещении кружков</h1>", "(получатель — Иванов Михаил Петрович, дата рождения ", "в период с 01.01.2026 по 31.12.2026",
			`<a href="/contracts/`+football.ID.String()+`">Футбол</a>`, "Спортклуб «Заречье»",
			web.RuDate(football.Start)+" — "+web.RuDate(football.End), "занятия идут")
		p.lacks(t, applied.ID.String(), robotics.Program.Name)
		noEnglish(t, p)

		// Terminated: still listed, since the child studied under it.
		if _, err := e.svc.Terminate(ctx, uuid.NewString(), enrollment.ContractRequest{ContractID: football.ID, By: enrollment.AsHolder(demo.GuardianIvanova)}); err != nil {
			t.Fatal(err)
		}
		q := c.get(path)
		q.has(t, "Футбол", "договор расторгнут "+web.RuDate(funding.DateOf(e.clock.T)))
		q.lacks(t, "занятия идут")

		// His sister's certificate has none of his contracts.
		o := c.get("/certificates/" + e.demo.CertificateID("child-issued-accounting").String() + "/attendance")
		o.has(t, "Иванова Ольга Петровна", "договоров об обучении по сертификату не было")
		o.lacks(t, "Футбол")
	})
}
