package api_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/edufund/edufund/examples/server/api"
	"github.com/edufund/edufund/examples/server/demo"
)

func (e *env) auditor() string { return e.token(api.RoleAuditor, "auditor", "") }

type postingJSON struct {
	ID            string
	CertificateID string `json:"certificate_id"`
	ContractID    string `json:"contract_id"`
	Kind, Rule    string
	Actor         string
	Params        map[string]string
	RulesVersion  int64 `json:"rules_version"`
}

type decisionJSON struct {
	Scheme   string
	Eligible bool
	Actor    string
	Inputs   map[string]string
	Checked  []string
}

type ledgerJSON struct {
	Items    []postingJSON
	Next     string
	Decision *decisionJSON
}

type invoiceStateJSON struct {
	Scheme, Municipality, Kind, Month, Amount, Status string
	ProviderID                                        string `json:"provider_id"`
	Accepted, Paid                                    *struct {
		Actor, Amount string
		Lines         int
	}
}

// TestAuditAPI reads the ledger's audit trail and a certificate's
// eligibility decision, and moves an invoice to paid, through the API.
func TestAuditAPI(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		misha := e.demo.CertificateID("child-active-funded").String()
		ivanova := e.holder(demo.GuardianIvanova)

		// The certificate's read shows the decision it was issued on.
		var cab struct{ Decision *decisionJSON }
		e.must(http.StatusOK, "GET", "/v1/certificates/"+misha, ivanova, "", nil).json(t, &cab)
		if d := cab.Decision; d == nil || !d.Eligible || d.Scheme != "supplementary" || d.Inputs["age"] == "" || len(d.Checked) == 0 {
			t.Errorf("decision in the cabinet: %+v", d)
		}

		// The auditor reads every posting, newest first, a page at a time.
		var all ledgerJSON
		e.must(http.StatusOK, "GET", "/v1/audit/postings?limit=200", e.auditor(), "", nil).json(t, &all)
		if len(all.Items) < 2 || all.Next != "" {
			t.Fatalf("the auditor's ledger: %d postings, next %q", len(all.Items), all.Next)
		}
		var first, second ledgerJSON
		e.must(http.StatusOK, "GET", "/v1/audit/postings?limit=1", e.auditor(), "", nil).json(t, &first)
		e.must(http.StatusOK, "GET", "/v1/audit/postings?limit=1&after="+first.Next, e.auditor(), "", nil).json(t, &second)
		if len(first.Items) != 1 || len(second.Items) != 1 || first.Items[0].ID != all.Items[0].ID || second.Items[0].ID != all.Items[1].ID {
			t.Errorf("pages of one: %+v then %+v, want the first two of %d", first.Items, second.Items, len(all.Items))
		}
		for _, p := range all.Items {
			if p.Rule == "" || p.Actor == "" || p.Kind == "" || p.Params == nil {
				t.Errorf("a posting without its why: %+v", p)
			}
		}
		// A parent reads their child's, with its decision; another parent nothing.
		var mine ledgerJSON
		e.must(http.StatusOK, "GET", "/v1/audit/postings?certificate_id="+misha, ivanova, "", nil).json(t, &mine)
		if len(mine.Items) == 0 || mine.Decision == nil {
			t.Errorf("Ivanova's ledger of Misha: %+v", mine)
		}
		for _, p := range mine.Items {
			if p.CertificateID != misha {
				t.Errorf("Ivanova reads a posting of %s", p.CertificateID)
			}
		}
		e.must(http.StatusNotFound, "GET", "/v1/audit/postings?certificate_id="+misha, e.holder(demo.GuardianPetrov), "", nil)
		e.validate = false // the requests break the document on purpose
		for _, bad := range []string{"limit=201", "from=yesterday", "certificate_id=x", "from=2026-03-10T00:00:00Z&to=2026-03-01T00:00:00Z", "scheme=other", "colour=red"} {
			if p := e.must(http.StatusBadRequest, "GET", "/v1/audit/postings?"+bad, e.auditor(), "", nil).problem(t); p.Code != "invalid" {
				t.Errorf("%s: %+v", bad, p)
			}
		}
		e.validate = true

		// April's advances are issued by April's close; Novograd, which
		// pays the football, accepts then pays its advance.
		e.clock.T = time.Date(2026, time.April, 1, 6, 0, 0, 0, time.UTC)
		e.must(http.StatusOK, "POST", "/v1/admin/close", e.regional(), "audit-close-04", map[string]string{"month": "2026-04"})
		novograd := e.municipality(demo.MunCity)
		var list struct{ Items []invoiceStateJSON }
		e.must(http.StatusOK, "GET", "/v1/invoices?month=2026-04", novograd, "", nil).json(t, &list)
		i := slices.IndexFunc(list.Items, func(inv invoiceStateJSON) bool { return inv.Kind == "advance" })
		if i < 0 {
			t.Fatalf("no advance for April: %+v", list.Items)
		}
		inv := list.Items[i]
		if inv.Status != "issued" || inv.Accepted != nil || inv.Paid != nil {
			t.Errorf("a new invoice: %+v", inv)
		}
		body := map[string]string{"scheme": inv.Scheme, "municipality": inv.Municipality, "provider_id": inv.ProviderID, "month": inv.Month, "kind": inv.Kind}
		if p := e.must(http.StatusConflict, "POST", "/v1/invoices/pay", novograd, "audit-pay-early", body).problem(t); p.Code != "forbidden_transition" {
			t.Errorf("paid before accepted: %+v", p)
		}
		if p := e.must(http.StatusForbidden, "POST", "/v1/invoices/accept", e.municipality(demo.MunRural), "audit-accept-rural", body).problem(t); p.Code != "foreign" {
			t.Errorf("accepted by another municipality: %+v", p)
		}
		var moved invoiceStateJSON
		e.must(http.StatusOK, "POST", "/v1/invoices/accept", novograd, "audit-accept", body).json(t, &moved)
		if moved.Status != "accepted" || moved.Accepted == nil || moved.Accepted.Amount != inv.Amount || !strings.HasPrefix(moved.Accepted.Actor, "municipality:") {
			t.Errorf("accepted: %+v", moved)
		}
		e.must(http.StatusOK, "POST", "/v1/invoices/pay", novograd, "audit-pay", body).json(t, &moved)
		if moved.Status != "paid" || moved.Paid == nil || moved.Paid.Amount != inv.Amount {
			t.Errorf("paid: %+v", moved)
		}
		for _, who := range []string{e.auditor(), e.provider("Спортклуб «Заречье»"), e.regional()} {
			e.must(http.StatusOK, "GET", "/v1/invoices?month=2026-04", who, "", nil).json(t, &list)
			if i := slices.IndexFunc(list.Items, func(x invoiceStateJSON) bool { return x.Kind == "advance" && x.ProviderID == inv.ProviderID }); i < 0 ||
				list.Items[i].Status != "paid" || list.Items[i].Paid == nil {
				t.Errorf("the paid invoice as listed: %+v", list.Items)
			}
		}
		missing := withField(body, "kind", "final")
		missing["month"] = "2027-01"
		if p := e.must(http.StatusNotFound, "POST", "/v1/invoices/accept", novograd, "audit-missing", missing).problem(t); p.Code != "not_found" {
			t.Errorf("no such invoice: %+v", p)
		}
		e.validate = false
		for field, v := range map[string]string{"kind": "bonus", "scheme": "other", "provider_id": "x", "month": "March", "municipality": ""} {
			if p := e.must(http.StatusBadRequest, "POST", "/v1/invoices/accept", novograd, "audit-bad-"+field, withField(body, field, v)).problem(t); p.Code != "invalid" {
				t.Errorf("%s %q: %+v", field, v, p)
			}
		}
	})
}

// withField is m with key set to v, m unchanged.
func withField(m map[string]string, key, v string) map[string]string {
	out := map[string]string{}
	for k, x := range m {
		out[k] = x
	}
	out[key] = v
	return out
}

// TestAuditorOnlyReads: every operation that changes state (it takes an
// Idempotency-Key) refuses the auditor before anything else; the reads
// the auditor needs admit it.
func TestAuditorOnlyReads(t *testing.T) {
	e := newEnv(t, storeKinds()[0])
	// The bodies are empty objects: the role is refused before a body is read.
	e.validate = false
	var doc struct {
		Paths map[string]map[string]json.RawMessage
	}
	e.must(http.StatusOK, "GET", "/v1/openapi.json", "", "", nil).json(t, &doc)
	writes, reads := 0, map[string]bool{}
	for path, ops := range doc.Paths {
		for method, raw := range ops {
			var op struct {
				OperationID string   `json:"operationId"`
				Roles       []string `json:"x-roles"`
				Parameters  []struct {
					Ref string `json:"$ref"`
				}
			}
			if err := json.Unmarshal(raw, &op); err != nil {
				continue // not an operation
			}
			admitted := slices.Contains(op.Roles, string(api.RoleAuditor))
			keyed := slices.ContainsFunc(op.Parameters, func(p struct {
				Ref string `json:"$ref"`
			}) bool {
				return strings.HasSuffix(p.Ref, "/IdempotencyKey")
			})
			if !keyed {
				reads[op.OperationID] = admitted
				continue
			}
			writes++
			if admitted {
				t.Errorf("%s %s (%s) admits the auditor", strings.ToUpper(method), path, op.OperationID)
			}
			url := strings.ReplaceAll(path, "{id}", uuid.NewString())
			r := e.do(strings.ToUpper(method), url, e.auditor(), "auditor-"+op.OperationID, map[string]any{})
			if r.status != http.StatusForbidden || r.problem(t).Code != "forbidden" {
				t.Errorf("auditor %s %s → %d %s, want 403 forbidden", strings.ToUpper(method), url, r.status, r.body)
			}
		}
	}
	if writes < 20 {
		t.Fatalf("only %d writes in the document", writes)
	}
	for _, op := range []string{"Certificates", "CabinetOn", "Contracts", "Contract", "Invoices", "ParameterVersions", "Ledger", "QueuePosition"} {
		if !reads[op] {
			t.Errorf("the auditor may not read %s", op)
		}
	}
}
