package web_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/examples/server/demo"
	"github.com/edufund/edufund/examples/server/web"
	"github.com/edufund/edufund/funding"
)

// TestBrowserParentPath is seed 002 and 004 together in a real browser,
// on each store: a parent signs in, finds the program, applies with the
// price split shown before she submits; the provider confirms; the
// parent accepts the offer; her cabinet shows the reserve and the first
// month spent; after the monthly close the provider sees the advance
// invoice. Every figure a page shows is checked against what the service
// returns for the same question.
func TestBrowserParentPath(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		b := &tab{t: t, ctx: browser(t)}
		offer, err := e.svc.Offer(ctx, e.demo.WalkthroughGroup)
		if err != nil {
			t.Fatal(err)
		}
		misha := e.demo.CertificateID("child-active-funded")
		signInAs := func(who string) {
			t.Helper()
			b.do(chromedp.Navigate(e.srv.URL + "/signin"))
			b.do(chromedp.Click(chromedp.CSS("#who-" + who)))
			b.submit(chromedp.CSS("form.signin button[type=submit]"))
		}
		signOut := func() {
			t.Helper()
			b.submit(chromedp.CSS(`form[action="/signout"] button`))
		}

		// The parent finds the program by a word of its name.
		signInAs(demo.GuardianIvanova)
		b.do(chromedp.Navigate(e.srv.URL + "/"))
		b.do(chromedp.SendKeys(chromedp.CSS("#q"), strings.Fields(offer.Program.Name)[0]))
		b.submit(chromedp.CSS("form.search button[type=submit]"))
		b.submit(chromedp.CSS(`.programs a[href="/programs/` + offer.Program.ID.String() + `"]`))
		b.has("h1", offer.Program.Name)

		// The form: Misha's certificate, the co-payment agreed, the price
		// computed before anything is submitted.
		b.submit(chromedp.CSS(`a[href="/programs/` + offer.Program.ID.String() + `/apply?group=` + e.demo.WalkthroughGroup.String() + `"]`))
		b.do(chromedp.SetValue(chromedp.CSS("#cert"), misha.String()))
		b.do(chromedp.Click(chromedp.CSS("#copay")))
		b.submit(chromedp.CSS(`button[value=preview]`))
		want, err := e.svc.DryRun().Submit(ctx, "path-preview", enrollment.SubmitRequest{CertificateID: misha, GroupID: e.demo.WalkthroughGroup,
			CoPayAccepted: true, By: enrollment.AsHolder(demo.GuardianIvanova)})
		if err != nil {
			t.Fatal(err)
		}
		b.has(".preview .total", web.RuMoney(want.Price.Total))
		b.has(".preview .cert-share", web.RuMoney(want.Price.Cert))
		b.has(".preview .co-pay", web.RuMoney(want.Price.CoPay))
		b.has(".preview table", web.RuMoney(want.Price.CertFirst))
		b.shot("apply")
		b.submit(chromedp.CSS(`button[value=submit]`))
		b.has(".done", "Заявка подана")
		id := strings.TrimPrefix(b.location(), e.srv.URL+"/contracts/")
		id, _, _ = strings.Cut(id, "?")

		// The provider confirms it from its list of new applications.
		signOut()
		signInAs("robo-admin")
		b.do(chromedp.Navigate(e.srv.URL + "/provider?show=new"))
		b.shot("provider")
		b.submit(chromedp.CSS(`form[action="/contracts/` + id + `/confirm"] button`))
		b.has(".done", "")

		// The parent accepts the offer.
		signOut()
		signInAs(demo.GuardianIvanova)
		b.do(chromedp.Navigate(e.srv.URL + "/contracts/" + id))
		b.submit(chromedp.CSS(`form[action="/contracts/` + id + `/accept"] button`))
		b.shot("contract")

		// The cabinet: the reserve, and the first month spent at
		// activation, as the service reads them.
		b.do(chromedp.Navigate(e.srv.URL + "/cabinet/" + misha.String()))
		cab, err := e.svc.Cabinet(ctx, enrollment.AsHolder(demo.GuardianIvanova), misha)
		if err != nil {
			t.Fatal(err)
		}
		if cab.Money == nil || !cab.Money.Spent.IsPositive() || !cab.Money.Reserved.IsPositive() {
			t.Fatalf("the service's cabinet: %+v, want a reserve and a month spent", cab.Money)
		}
		b.has(".money", web.RuMoney(cab.Money.Reserved))
		b.has(".money", web.RuMoney(cab.Money.Spent))
		b.has("#contracts + *", offer.Program.Name)
		b.shot("cabinet")

		// The monthly close of the next month (the region's job, from its
		// 1st: it charges that month and invoices its advance), then the
		// provider's invoices of that month.
		month := e.svc.Today().MonthOf()
		next := month.Next()
		e.clock.T = time.Date(next.Year, next.Month, 1, 9, 0, 0, 0, time.UTC)
		for _, m := range []funding.Month{month, next} {
			if _, err := e.svc.CloseMonth(ctx, m, nil); err != nil {
				t.Fatal(err)
			}
		}
		invoices, err := e.svc.Invoices(ctx, enrollment.AsProvider(offer.Provider.ID), next, offer.Provider.ID)
		if err != nil {
			t.Fatal(err)
		}
		signOut()
		signInAs("robo-admin")
		b.do(chromedp.Navigate(e.srv.URL + "/provider/invoices?month=" + next.String()))
		b.shot("invoices")
		var advance bool
		for _, inv := range invoices {
			if inv.Kind == enrollment.AdvanceInvoice {
				advance = true
				b.has("table.invoices", "аванс")
				b.has("table.invoices", web.RuMoney(inv.Amount))
			}
		}
		if !advance {
			t.Errorf("no advance invoice for %s after its close: %+v", next, invoices)
		}

		// The municipality that pays the invoice sees its budget move.
		signOut()
		signInAs("novograd-officer")
		b.do(chromedp.Navigate(e.srv.URL + "/municipality/budget"))
		b.has("h1", "Бюджет")
		b.shot("municipality")
	})
}
