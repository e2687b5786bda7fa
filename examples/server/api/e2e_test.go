package api_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/edufund/edufund/examples/server/api"
	"github.com/edufund/edufund/examples/server/demo"
)

type certificateJSON struct {
	ID     string `json:"id"`
	Number string `json:"number"`
	Kind   string `json:"kind"`
	Status string `json:"status"`
}

type issueJSON struct {
	Certificate   certificateJSON `json:"certificate"`
	Queued        bool            `json:"queued"`
	QueuePosition int             `json:"queue_position"`
}

type priceJSON struct {
	Days, Months           int
	Total, Normative, Cert string
	CoPay                  string `json:"co_pay"`
	CertFirst              string `json:"cert_first"`
	CertOther              string `json:"cert_other"`
	Start, End             string
}

type contractJSON struct {
	ID            string    `json:"id"`
	CertificateID string    `json:"certificate_id"`
	ProviderID    string    `json:"provider_id"`
	Status        string    `json:"status"`
	Start         string    `json:"start"`
	End           string    `json:"end"`
	Price         priceJSON `json:"price"`
}

type noteJSON struct {
	Kind       string `json:"kind"`
	Message    string `json:"message"`
	Rule       string `json:"rule"`
	Amount     string `json:"amount"`
	Due        string `json:"due"`
	ContractID string `json:"contract_id"`
}

// findNote returns the first (newest) notification made by rule (or of
// kind rule, for those that are not postings).
func findNote(ns []noteJSON, rule string) *noteJSON {
	for i := range ns {
		if ns[i].Rule == rule || (ns[i].Rule == "" && ns[i].Kind == rule) {
			return &ns[i]
		}
	}
	return nil
}

type cabinetJSON struct {
	Certificate   certificateJSON `json:"certificate"`
	Notifications []noteJSON      `json:"notifications"`
	Money         *struct {
		Nominal, Usable, Balance, Reserved, Spent, Depleted, Expired string
	} `json:"money"`
	Contracts []contractJSON `json:"contracts"`
}

type invoiceJSON struct {
	Scheme       string `json:"scheme"`
	Municipality string `json:"municipality"`
	ProviderID   string `json:"provider_id"`
	Month        string `json:"month"`
	Kind         string `json:"kind"`
	Amount       string `json:"amount"`
	Lines        int    `json:"lines"`
}

const guardianE2E = "guardian-e2e"

// issueChild issues a funded city certificate for a new child of guardian
// and activates it; it returns the certificate's id and number.
func (e *env) issueChild(guardian, person, name string) certificateJSON {
	e.t.Helper()
	var out issueJSON
	e.must(http.StatusCreated, "POST", "/v1/certificates", e.regional(), "issue-"+person, map[string]any{
		"holder": map[string]any{"person_id": person, "full_name": name, "birth_date": "2017-05-01",
			"municipality": demo.MunCity, "citizenship": "RU", "registration": "permanent"},
		"guardian_id": guardian, "category": demo.CategoryCity, "funded": true, "protection": "by_name",
	}).json(e.t, &out)
	if out.Certificate.Kind != "funded" || out.Certificate.Status != "issued" || out.Queued {
		e.t.Fatalf("issued %+v, want a funded, issued, unqueued certificate", out)
	}
	var c certificateJSON
	e.must(http.StatusOK, "POST", "/v1/certificates/"+out.Certificate.ID+"/activate", e.municipality(demo.MunCity), "activate-"+person, nil).json(e.t, &c)
	if c.Status != "active" {
		e.t.Fatalf("activated certificate is %s", c.Status)
	}
	return c
}

// TestEnrolment walks one enrolment through a year over the API: issue →
// activate → submit → confirm → accept → the April, May, June and July
// closes (with a rating and an under-delivered April) → termination → the
// August close that closes the contract → the rollover into 2027, asserting
// the cabinet's money and notifications and the invoices to the kopeck at
// every step. Every request and response is checked against the OpenAPI
// document; it runs on SQLite and, with EDUFUND_TEST_POSTGRES, PostgreSQL.
func TestEnrolment(t *testing.T) {
	for _, kind := range storeKinds() {
		t.Run(kind, func(t *testing.T) {
			e := newEnv(t, kind)
			holder := e.holder(guardianE2E)
			cert := e.issueChild(guardianE2E, "child-e2e", "Смирнова Алиса Игоревна")

			// Before any submission, the usable nominal shrinks month by month:
			// on 10 March 10 of 12 months remain, floor2(30000 × 10/12).
			var cab cabinetJSON
			e.must(http.StatusOK, "GET", "/v1/certificates/"+cert.ID, holder, "", nil).json(t, &cab)
			if m := cab.Money; m == nil || m.Nominal != "30000.00" || m.Usable != "25000.00" || m.Balance != "30000.00" || m.Reserved != "0.00" {
				t.Fatalf("cabinet before submission: %+v", cab.Money)
			}

			// Submit to the robotics group (2026-01-01..2026-12-31, 365 days,
			// price = normative = 18250.00) from today: 297 days, 10 months.
			group := e.demo.WalkthroughGroup.String()
			var k contractJSON
			e.must(http.StatusCreated, "POST", "/v1/applications", holder, "submit-1", map[string]any{
				"certificate_id": cert.ID, "group_id": group,
			}).json(t, &k)
			p := k.Price
			if k.Status != "requested" || k.Start != "2026-03-10" || k.End != "2026-12-31" || p.Days != 297 || p.Months != 10 ||
				p.Total != "14850.00" || p.Cert != "14850.00" || p.CoPay != "0.00" || p.CertFirst != "1100.07" || p.CertOther != "1527.77" {
				t.Fatalf("submitted contract: %+v", k)
			}

			// The cabinet explains the ledger: the depletion fixed by the first
			// submission and the reserve, and the application waiting.
			e.must(http.StatusOK, "GET", "/v1/certificates/"+cert.ID, holder, "", nil).json(t, &cab)
			if n := findNote(cab.Notifications, "reserve_on_submit"); n == nil || n.ContractID != k.ID ||
				n.Message != `14850.00 reserved for "Робототехника на LEGO" (group Робототехника на LEGO 2026-A) (rule reserve_on_submit)` {
				t.Fatalf("reserve notification: %+v", cab.Notifications)
			}
			if n := findNote(cab.Notifications, "depletion"); n == nil || n.Amount != "5000.00" {
				t.Fatalf("depletion notification: %+v", cab.Notifications)
			}
			if n := findNote(cab.Notifications, "application"); n == nil || n.ContractID != k.ID {
				t.Fatalf("application notification: %+v", cab.Notifications)
			}

			robo := e.provider("Робоцентр")
			e.must(http.StatusOK, "POST", "/v1/contracts/"+k.ID+"/confirm", robo, "confirm-1", nil).json(t, &k)
			if k.Status != "accepted" {
				t.Fatalf("confirmed contract is %s", k.Status)
			}
			e.must(http.StatusOK, "GET", "/v1/certificates/"+cert.ID, holder, "", nil).json(t, &cab)
			if n := findNote(cab.Notifications, "offer"); n == nil || n.ContractID != k.ID || n.Due != "" {
				t.Fatalf("offer notification: %+v", cab.Notifications)
			}
			e.must(http.StatusOK, "POST", "/v1/contracts/"+k.ID+"/accept", holder, "accept-1", "{}").json(t, &k)
			if k.Status != "active" {
				t.Fatalf("accepted contract is %s", k.Status)
			}

			// The first submission fixed the depletion (5000.00); the
			// activation charged March's 1100.07 from the reserve.
			e.must(http.StatusOK, "GET", "/v1/certificates/"+cert.ID, holder, "", nil).json(t, &cab)
			m := cab.Money
			if m == nil || m.Nominal != "30000.00" || m.Depleted != "5000.00" || m.Balance != "10150.00" ||
				m.Reserved != "13749.93" || m.Spent != "1100.07" || m.Usable != "10150.00" {
				t.Fatalf("cabinet after acceptance: %+v", m)
			}
			if len(cab.Contracts) != 1 || cab.Contracts[0].ID != k.ID || cab.Contracts[0].Status != "active" {
				t.Fatalf("cabinet contracts: %+v", cab.Contracts)
			}

			// The provider sees the contract; the municipality too.
			e.must(http.StatusOK, "GET", "/v1/contracts/"+k.ID, robo, "", nil)
			e.must(http.StatusOK, "GET", "/v1/contracts/"+k.ID, e.municipality(demo.MunCity), "", nil)

			// The April close charges April (1527.77) with its 80% advance,
			// round2(1222.216) = 1222.22, and invoices March, charged at
			// activation, in full.
			e.clock.T = time.Date(2026, time.April, 1, 6, 0, 0, 0, time.UTC)
			var rep struct {
				Contracts, Charged, Failed int
				Amount                     string
			}
			e.must(http.StatusOK, "POST", "/v1/admin/close", e.regional(), "close-2026-04", map[string]string{"month": "2026-04"}).json(t, &rep)
			if rep.Failed != 0 || rep.Charged < 1 {
				t.Fatalf("close report: %+v", rep)
			}
			invoices := func(month string) map[string]invoiceJSON {
				var list struct{ Items []invoiceJSON }
				e.must(http.StatusOK, "GET", "/v1/invoices?month="+month, robo, "", nil).json(t, &list)
				out := map[string]invoiceJSON{}
				for _, inv := range list.Items {
					if inv.ProviderID != e.demo.ProviderID("Робоцентр").String() {
						t.Fatalf("provider sees a foreign invoice: %+v", inv)
					}
					out[inv.Municipality+"/"+inv.Kind] = inv
				}
				return out
			}
			if inv := invoices("2026-04")[demo.MunCity+"/advance"]; inv.Amount != "1222.22" || inv.Lines != 1 {
				t.Fatalf("April advance: %+v", invoices("2026-04"))
			}
			// March was charged at the activation, so its final is the whole
			// payment. That needs the store to keep the contract's activation
			// date; until it does, the close treats March as its own.
			var stored struct {
				ActivatedOn string `json:"activated_on"`
			}
			e.must(http.StatusOK, "GET", "/v1/contracts/"+k.ID, robo, "", nil).json(t, &stored)
			// March was charged at activation, so its final is the whole payment, with no advance.
			wantMarch := "1100.07"
			if stored.ActivatedOn == "" {
				t.Fatalf("contract %s has no activated_on after acceptance", k.ID)
			}
			if inv := invoices("2026-03")[demo.MunCity+"/final"]; inv.Amount != wantMarch || inv.Lines != 1 {
				t.Fatalf("March final: %+v, want %s", invoices("2026-03"), wantMarch)
			}
			e.must(http.StatusOK, "GET", "/v1/certificates/"+cert.ID, holder, "", nil).json(t, &cab)
			if m := cab.Money; m.Spent != "2627.84" || m.Reserved != "12222.16" || m.Balance != "10150.00" {
				t.Fatalf("cabinet after the April close: %+v", m)
			}

			// The holder rates the program; the provider reports 50% of April.
			e.must(http.StatusOK, "POST", "/v1/contracts/"+k.ID+"/rating", holder, "rate-1",
				map[string]int{"results": 90, "staff": 100, "means": 80, "satisfaction": 100})
			e.must(http.StatusOK, "POST", "/v1/contracts/"+k.ID+"/delivery", robo, "delivery-1",
				map[string]any{"month": "2026-04", "percent": 50})
			e.must(http.StatusOK, "GET", "/v1/certificates/"+cert.ID, holder, "", nil).json(t, &cab)
			// round2(1527.77 × 0.5) = 763.89 delivered; 763.88 returns to the balance.
			if m := cab.Money; m.Balance != "10913.88" || m.Spent != "1863.96" {
				t.Fatalf("cabinet after the delivery report: %+v", m)
			}

			// May, June and July: each close charges the month's 1527.77
			// from the reserve, invoices its 80% advance (1222.22) and the
			// previous month's final (1527.77 − 1222.22 = 305.55).
			wantMoney := func(step, balance, reserved, spent string) {
				t.Helper()
				e.must(http.StatusOK, "GET", "/v1/certificates/"+cert.ID, holder, "", nil).json(t, &cab)
				m := cab.Money
				if m == nil || m.Balance != balance || m.Reserved != reserved || m.Spent != spent || m.Nominal != "30000.00" || m.Depleted != "5000.00" {
					t.Fatalf("cabinet %s: %+v, want balance %s, reserved %s, spent %s", step, m, balance, reserved, spent)
				}
			}
			for i, step := range []struct{ month, prev, reserved, spent string }{
				{"2026-05", "2026-04", "10694.39", "3391.73"},
				{"2026-06", "2026-05", "9166.62", "4919.50"},
				{"2026-07", "2026-06", "7638.85", "6447.27"},
			} {
				m, _ := time.Parse("2006-01", step.month)
				e.clock.T = m.Add(6 * time.Hour)
				holder, robo = e.holder(guardianE2E), e.provider("Робоцентр") // tokens of the new day
				e.must(http.StatusOK, "POST", "/v1/admin/close", e.regional(), "close-"+step.month, map[string]string{"month": step.month}).json(t, &rep)
				if rep.Failed != 0 || rep.Charged < 1 {
					t.Fatalf("close %s: %+v", step.month, rep)
				}
				if inv := invoices(step.month)[demo.MunCity+"/advance"]; inv.Amount != "1222.22" || inv.Lines != 1 {
					t.Fatalf("advance of %s: %+v", step.month, invoices(step.month))
				}
				if inv := invoices(step.prev)[demo.MunCity+"/final"]; inv.Amount != "305.55" || inv.Lines != 1 {
					t.Fatalf("final of %s (close %d): %+v", step.prev, i+2, invoices(step.prev))
				}
				wantMoney("after the "+step.month+" close", "10913.88", step.reserved, step.spent)
			}
			// April's under-delivery is its refund invoice.
			if inv := invoices("2026-04")[demo.MunCity+"/refund"]; inv.Amount != "763.88" {
				t.Fatalf("April refund: %+v", invoices("2026-04"))
			}

			// Termination on 15 July returns the whole remaining reserve at once.
			e.clock.T = time.Date(2026, time.July, 15, 10, 0, 0, 0, time.UTC)
			holder = e.holder(guardianE2E)
			e.must(http.StatusOK, "POST", "/v1/contracts/"+k.ID+"/terminate", holder, "terminate-1", nil).json(t, &k)
			if k.Status != "terminating" {
				t.Fatalf("terminated contract is %s", k.Status)
			}
			wantMoney("after termination", "18552.73", "0.00", "6447.27")
			if n := findNote(cab.Notifications, "terminated"); n == nil || n.Amount != "7638.85" || n.Kind != "posting" || n.ContractID != k.ID {
				t.Fatalf("no notification of the released reserve: %+v", cab.Notifications)
			}

			// The August close closes it at the end of July, invoices July's
			// final and charges nothing more.
			e.clock.T = time.Date(2026, time.August, 1, 6, 0, 0, 0, time.UTC)
			holder, robo = e.holder(guardianE2E), e.provider("Робоцентр")
			e.must(http.StatusOK, "POST", "/v1/admin/close", e.regional(), "close-2026-08", map[string]string{"month": "2026-08"}).json(t, &rep)
			var closed struct {
				Status   string `json:"status"`
				ClosedOn string `json:"closed_on"`
			}
			e.must(http.StatusOK, "GET", "/v1/contracts/"+k.ID, robo, "", nil).json(t, &closed)
			if closed.Status != "closed" || closed.ClosedOn != "2026-07-31" {
				t.Fatalf("after the August close the contract is %+v", closed)
			}
			if inv := invoices("2026-07")[demo.MunCity+"/final"]; inv.Amount != "305.55" {
				t.Fatalf("July final: %+v", invoices("2026-07"))
			}
			if inv, ok := invoices("2026-08")[demo.MunCity+"/advance"]; ok {
				t.Fatalf("August advance for a closed contract: %+v", inv)
			}
			wantMoney("after the August close", "18552.73", "0.00", "6447.27")

			// The rollover is refused before the year has ended, then on
			// 1 January 2027 the unused 18552.73 expires and 2027's nominal
			// arrives in full.
			year := map[string]any{"period": map[string]string{"start": "2026-01-01", "end": "2026-12-31"}}
			if p := e.must(http.StatusUnprocessableEntity, "POST", "/v1/admin/rollover", e.regional(), "rollover-early", year).problem(t); p.Code != "period_not_ended" {
				t.Fatalf("early rollover: %+v", p)
			}
			e.clock.T = time.Date(2027, time.January, 1, 3, 0, 0, 0, time.UTC)
			holder = e.holder(guardianE2E)
			var roll struct {
				From, To              struct{ Start, End string }
				Certificates, Granted int
				Failed                int
				Expired               string
			}
			e.must(http.StatusOK, "POST", "/v1/admin/rollover", e.regional(), "rollover-2026", year).json(t, &roll)
			if roll.Failed != 0 || roll.To.Start != "2027-01-01" || roll.To.End != "2027-12-31" || roll.Granted < 1 {
				t.Fatalf("rollover: %+v", roll)
			}
			e.must(http.StatusOK, "GET", "/v1/certificates/"+cert.ID, holder, "", nil).json(t, &cab)
			if m := cab.Money; m == nil || m.Nominal != "30000.00" || m.Balance != "30000.00" || m.Usable != "30000.00" || m.Reserved != "0.00" || m.Spent != "0.00" {
				t.Fatalf("cabinet of 2027: %+v", cab.Money)
			}
			if n := findNote(cab.Notifications, "category_nominal"); n == nil || n.Amount != "30000.00" {
				t.Fatalf("no notification of the 2027 grant: %+v", cab.Notifications)
			}
			// 2026 as it ended: every kopeck of its nominal is accounted for,
			// the 18552.73 that expired included, and nothing is usable.
			e.must(http.StatusOK, "GET", "/v1/certificates/"+cert.ID+"?on=2026-12-31", holder, "", nil).json(t, &cab)
			if m := cab.Money; m == nil || m.Nominal != "30000.00" || m.Balance != "0.00" || m.Expired != "18552.73" || m.Usable != "0.00" || m.Spent != "6447.27" {
				t.Fatalf("cabinet of 2026 after its rollover: %+v", cab.Money)
			}
			if p := e.must(http.StatusBadRequest, "GET", "/v1/certificates/"+cert.ID+"?on=2027-01-02", holder, "", nil).problem(t); p.Field != "on" {
				t.Fatalf("a cabinet of tomorrow: %+v", p)
			}
			// A second run grants nothing twice.
			e.must(http.StatusOK, "POST", "/v1/admin/rollover", e.regional(), "rollover-2026-again", year).json(t, &roll)
			if roll.Granted != 0 {
				t.Fatalf("second rollover granted %d", roll.Granted)
			}
		})
	}
}

// TestAdultScheme covers the adult endpoints: a third applicant queues
// behind the demo's quota of one, sees its place, and the federal operator
// manages documents.
func TestAdultScheme(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		person := "person-e2e-adult"
		tok := e.holder(person)
		var out issueJSON
		e.must(http.StatusCreated, "POST", "/v1/adult/applications", tok, "adult-1", map[string]any{
			"holder": map[string]any{"person_id": person, "full_name": "Волкова Ирина Павловна", "birth_date": "1990-07-01", "sex": "female",
				"citizenship": "RU", "education": "higher", "region": demo.Region, "municipality": demo.MunCity, "registration": "permanent"},
		}).json(t, &out)
		if !out.Queued || out.QueuePosition != 2 {
			t.Fatalf("third adult: %+v, want queued at 2", out)
		}
		var q struct{ Position int }
		e.must(http.StatusOK, "GET", "/v1/certificates/"+out.Certificate.ID+"/queue", tok, "", nil).json(t, &q)
		if q.Position != 2 {
			t.Fatalf("queue position %d, want 2", q.Position)
		}
		e.must(http.StatusOK, "POST", "/v1/certificates/"+out.Certificate.ID+"/documents", tok, "docs-1", map[string]any{"uploaded": true})
		// Not overdue yet: refused with its rule code.
		issued := e.demo.CertificateID("adult-issued").String()
		if p := e.must(http.StatusUnprocessableEntity, "POST", "/v1/certificates/"+issued+"/cancel-overdue", e.federal(), "overdue-1", nil).problem(t); p.Code != "documents_not_overdue" {
			t.Fatalf("cancel-overdue problem %+v", p)
		}
		// Past the 30-day deadline without documents the federal operator cancels,
		// and the quota place goes to the head of the queue.
		e.clock.T = testNow.AddDate(0, 0, 40)
		var c certificateJSON
		e.must(http.StatusOK, "POST", "/v1/certificates/"+issued+"/cancel-overdue", e.federal(), "overdue-2", nil).json(t, &c)
		if c.Status != "cancelled" {
			t.Fatalf("cancelled certificate is %s", c.Status)
		}
		queued := e.demo.CertificateID("adult-queued").String()
		var cab cabinetJSON
		e.must(http.StatusOK, "GET", "/v1/certificates/"+queued, e.holder(demo.AdultKuznetsov), "", nil).json(t, &cab)
		if cab.Certificate.Kind != "funded" {
			t.Fatalf("the head of the queue was not promoted: %+v", cab.Certificate)
		}
		e.must(http.StatusOK, "GET", "/v1/certificates/"+out.Certificate.ID+"/queue", tok, "", nil).json(t, &q)
		if q.Position != 1 {
			t.Fatalf("queue position %d after promotion, want 1", q.Position)
		}
	})
}

// TestInvoicesByPayer: an adult course completed with a provider is
// invoiced to the federal operator, who sees only the adult scheme's
// invoices; the regional operator and the municipality see only the
// children's scheme's; the provider sees its own of both.
func TestInvoicesByPayer(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		orlova := e.holder(demo.AdultOrlova)
		digital := e.demo.ProviderID("Цифровая академия")
		digitalTok := e.token(api.RoleProvider, "digital-admin", digital.String())
		var python struct{ ID string }
		for _, g := range e.demo.Groups {
			if strings.HasPrefix(g.Name, "Python") {
				python.ID = g.ID.String()
			}
		}
		e.must(http.StatusOK, "POST", "/v1/certificates/"+e.demo.CertificateID("adult-issued").String()+"/activate", e.federal(), "adult-activate", nil)
		var k contractJSON
		e.must(http.StatusCreated, "POST", "/v1/applications", orlova, "adult-apply", map[string]any{"certificate_id": e.demo.CertificateID("adult-issued").String(), "group_id": python.ID}).json(t, &k)
		e.must(http.StatusOK, "POST", "/v1/contracts/"+k.ID+"/confirm", digitalTok, "adult-confirm", nil)
		e.must(http.StatusOK, "POST", "/v1/contracts/"+k.ID+"/accept", orlova, "adult-accept", nil)
		e.must(http.StatusOK, "POST", "/v1/contracts/"+k.ID+"/complete", digitalTok, "adult-complete", nil)
		// March also has the children's invoices of the demo's football.
		e.must(http.StatusOK, "POST", "/v1/admin/close", e.regional(), "close-2026-03", map[string]string{"month": "2026-03"})

		schemes := func(token string) map[string]int {
			var list struct{ Items []invoiceJSON }
			e.must(http.StatusOK, "GET", "/v1/invoices?month=2026-03", token, "", nil).json(t, &list)
			out := map[string]int{}
			for _, i := range list.Items {
				out[i.Scheme]++
			}
			return out
		}
		if got := schemes(e.federal()); got["digital_skills"] != 1 || got["supplementary"] != 0 {
			t.Errorf("the federal operator sees %v", got)
		}
		for who, tok := range map[string]string{"regional": e.regional(), "novograd": e.municipality(demo.MunCity)} {
			if got := schemes(tok); got["digital_skills"] != 0 {
				t.Errorf("%s sees %v", who, got)
			}
		}
		if got := schemes(digitalTok); got["digital_skills"] != 1 {
			t.Errorf("the provider sees %v", got)
		}
	})
}
