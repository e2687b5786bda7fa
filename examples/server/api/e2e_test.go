package api_test

import (
	"net/http"
	"testing"
	"time"

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

type cabinetJSON struct {
	Certificate certificateJSON `json:"certificate"`
	Money       *struct {
		Nominal, Usable, Balance, Reserved, Spent, Depleted string
	} `json:"money"`
	Contracts []contractJSON `json:"contracts"`
}

type invoiceJSON struct {
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

// TestEnrolment walks one enrolment through the API: issue → activate →
// submit → confirm → accept → cabinet figures → monthly close → invoices,
// asserting the money of rules.md to the kopeck. Every request and response
// is checked against the OpenAPI document.
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

			robo := e.provider("Robo Center")
			e.must(http.StatusOK, "POST", "/v1/contracts/"+k.ID+"/confirm", robo, "confirm-1", nil).json(t, &k)
			if k.Status != "accepted" {
				t.Fatalf("confirmed contract is %s", k.Status)
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
					if inv.ProviderID != e.demo.ProviderID("Robo Center").String() {
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

			// Termination returns the whole remaining reserve at once.
			e.must(http.StatusOK, "POST", "/v1/contracts/"+k.ID+"/terminate", holder, "terminate-1", nil).json(t, &k)
			if k.Status != "terminating" {
				t.Fatalf("terminated contract is %s", k.Status)
			}
			e.must(http.StatusOK, "GET", "/v1/certificates/"+cert.ID, holder, "", nil).json(t, &cab)
			if m := cab.Money; m.Reserved != "0.00" || m.Balance != "23136.04" {
				t.Fatalf("cabinet after termination: %+v", m)
			}
		})
	}
}

// TestAdultScheme covers the adult endpoints: a third applicant queues
// behind the demo's quota of one, sees its place, and the federal operator
// manages documents.
func TestAdultScheme(t *testing.T) {
	e := newEnv(t, storeKinds()[0])
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
}
