package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"testing"

	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/examples/server/demo"
)

// TestPagesAuthorization is the API's authorisation matrix repeated for
// the pages: every page answers each demo role as the service decides
// for the same caller: a family only its own children, a provider only
// its own applications, a municipality only its own certificates, an
// operator only its scheme. A refused page shows none of what it guards
// (the child's name and certificate number, the contract), and a refused
// form changes nothing.
func TestPagesAuthorization(t *testing.T) {
	misha := shared.demo.CertificateID("child-active-funded")
	mishaCab, err := shared.svc.Cabinet(t.Context(), enrollment.AsHolder(demo.GuardianIvanova), misha)
	if err != nil {
		t.Fatal(err)
	}
	contract := shared.demo.Contract.String() // Misha's football, Спортклуб «Заречье», Novograd's budget
	offer, err := shared.svc.Offer(t.Context(), shared.demo.WalkthroughGroup)
	if err != nil {
		t.Fatal(err)
	}
	apply := "/programs/" + offer.Program.ID.String() + "/apply"
	// guarded is what no refused page may show.
	guarded := []string{mishaCab.Certificate.Holder.FullName, string(mishaCab.Certificate.Number), contract}

	const (
		ivanova  = demo.GuardianIvanova
		petrov   = demo.GuardianPetrov
		orlova   = demo.AdultOrlova
		robo     = "robo-admin"
		sport    = "sport-admin"
		novograd = "novograd-officer"
		zarechye = "zarechye-officer"
		regional = "region-operator"
		federal  = "federal-operator"
	)
	everyone := []string{ivanova, petrov, orlova, robo, sport, novograd, zarechye, regional, federal}
	for _, tc := range []struct {
		path string
		// ok are the roles that get the page (200); refused the ones that
		// get 403 or 404 (never 200, never 500); a role named in neither
		// is not asked (the page is theirs in another sense).
		ok []string
	}{
		{"/cabinet", []string{ivanova, petrov, orlova}},
		{"/cabinet/" + misha.String(), []string{ivanova}},
		{"/contracts/" + contract, []string{ivanova, sport, novograd, regional}},
		{apply, []string{ivanova, petrov, orlova}},
		{"/provider", []string{robo, sport}},
		{"/provider/groups", []string{robo, sport}},
		{"/provider/invoices", []string{robo, sport}},
		{"/municipality", []string{novograd, zarechye, regional}},
		{"/municipality/budget", []string{novograd, zarechye, regional}},
		{"/municipality/issue", []string{novograd, zarechye, regional}},
		{"/adult", []string{ivanova, petrov, orlova}},
		{"/adult/queue", []string{federal}},
		{"/certificates/" + misha.String() + "/statement", []string{ivanova, novograd, regional}},
		{"/certificates/" + misha.String() + "/attendance", []string{ivanova, novograd, regional}},
	} {
		for _, who := range everyone {
			c := shared.client(t)
			signIn(t, c, who)
			p := c.get(tc.path)
			want := false
			for _, o := range tc.ok {
				want = want || o == who
			}
			switch {
			case want && p.status != http.StatusOK:
				t.Errorf("%s as %s: status %d, want 200", tc.path, who, p.status)
			case !want && p.status != http.StatusForbidden && p.status != http.StatusNotFound:
				t.Errorf("%s as %s: status %d, want 403 or 404", tc.path, who, p.status)
			case !want:
				p.lacks(t, guarded...)
			}
		}
	}

	// Signed out, every page but the navigator's asks to sign in first.
	anon := shared.client(t)
	anon.hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	for _, path := range []string{"/cabinet", "/contracts/" + contract, apply, "/provider", "/municipality", "/adult", "/adult/queue",
		"/certificates/" + misha.String() + "/statement", "/certificates/" + misha.String() + "/attendance"} {
		if p := anon.get(path); p.status != http.StatusSeeOther {
			t.Errorf("%s signed out: status %d, want 303 to the sign-in", path, p.status)
		}
	}

	// Forms posted by the wrong party are refused and change nothing.
	before := contractState(t)
	for _, tc := range []struct {
		who, path string
		form      url.Values
	}{
		{petrov, "/contracts/" + contract + "/terminate", nil},
		{robo, "/contracts/" + contract + "/terminate", nil},
		{ivanova, "/contracts/" + contract + "/confirm", nil},
		{novograd, "/contracts/" + contract + "/terminate", nil},
		{zarechye, "/municipality/certificates/" + misha.String() + "/suspend", nil},
		{robo, "/municipality/certificates/" + misha.String() + "/suspend", nil},
		{petrov, apply, url.Values{"step": {"submit"}, "group": {shared.demo.WalkthroughGroup.String()}, "cert": {misha.String()}, "copay": {"1"}}},
	} {
		c := shared.client(t)
		signIn(t, c, tc.who)
		form := url.Values{"key": {"authz-" + tc.who + tc.path}, "reason": {"проверка"}}
		for k, v := range tc.form {
			form[k] = v
		}
		p := c.post(tc.path, form, nil)
		if p.status < 400 || p.status >= 500 {
			t.Errorf("POST %s as %s: status %d, want a refusal", tc.path, tc.who, p.status)
		}
		p.lacks(t, guarded[1:]...)
	}
	// The parent herself, from another site: the CSRF guard.
	c := shared.client(t)
	signIn(t, c, ivanova)
	if p := c.post("/contracts/"+contract+"/terminate", url.Values{"key": {"authz-csrf"}},
		map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}); p.status != http.StatusForbidden {
		t.Errorf("a cross-site terminate: status %d, want 403", p.status)
	}
	if after := contractState(t); after != before {
		t.Errorf("the refused forms changed the region: %s, was %s", after, before)
	}
}

// contractState is what the refused forms of TestPagesAuthorization must
// leave alone: the demo contract's status and Misha's certificate's.
func contractState(t *testing.T) string {
	t.Helper()
	k, err := shared.svc.Contract(t.Context(), enrollment.AsSystem("test"), shared.demo.Contract)
	if err != nil {
		t.Fatal(err)
	}
	cab, err := shared.svc.Cabinet(t.Context(), enrollment.AsSystem("test"), shared.demo.CertificateID("child-active-funded"))
	if err != nil {
		t.Fatal(err)
	}
	n, err := shared.svc.Contracts(t.Context(), enrollment.AsSystem("test"), enrollment.ContractFilter{Limit: enrollment.MaxListLimit})
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%s/%s/%d", k.Status, cab.Certificate.Status, len(n.Contracts))
}
