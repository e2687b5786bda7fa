package web_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/examples/server/demo"
)

// TestProtectionForm: the parent switches Misha's protection from the
// cabinet; a form error is shown at its input and changes nothing;
// another family, an official and a stale form change nothing.
func TestProtectionForm(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		misha := e.demo.CertificateID("child-active-funded")
		path := "/cabinet/" + misha.String()
		action := path + "/protection"
		mode := func() certificate.Protection {
			t.Helper()
			cab, err := e.svc.Cabinet(context.Background(), enrollment.AsSystem("test"), misha)
			if err != nil {
				t.Fatal(err)
			}
			return cab.Certificate.Protection
		}
		c := e.clientAs(t, demo.GuardianIvanova)
		p := c.get(path)
		p.has(t, `<label for="mode">Режим защиты</label>`, `selected>по номеру и ФИО</option>`,
			`<label for="passphrase">`, `autocomplete="new-password"`)
		post := func(c *client, mode, pass string) page {
			t.Helper()
			p := c.get(path)
			key := keyOf(p, action)
			if key == "" {
				key = "00000000-0000-7000-8000-000000000000"
			}
			return c.post(action, url.Values{"key": {key}, "mode": {mode}, "passphrase": {pass}}, nil)
		}

		for _, tc := range []struct{ mode, pass, want string }{
			{"by_passphrase", "", "Задайте кодовое слово"},
			{"by_passphrase", "кит", "не короче 8 символов"},
			{"by_face", "", "Выберите один из режимов."},
		} {
			p := post(c, tc.mode, tc.pass)
			if p.status != http.StatusBadRequest {
				t.Fatalf("%s %q: status %d", tc.mode, tc.pass, p.status)
			}
			p.has(t, tc.want, `aria-invalid="true"`)
			if m := mode(); m.Mode != certificate.ByName {
				t.Fatalf("%s %q changed the mode to %s", tc.mode, tc.pass, m.Mode)
			}
		}

		// Neither another family nor an official may change it.
		for _, who := range []string{demo.GuardianPetrov, "novograd-officer"} {
			if p := post(e.clientAs(t, who), "forbidden", ""); p.status < 400 {
				t.Fatalf("%s: status %d", who, p.status)
			}
			if m := mode(); m.Mode != certificate.ByName {
				t.Fatalf("%s changed the mode to %s", who, m.Mode)
			}
		}
		if p := c.post(action, url.Values{"key": {"stale"}, "mode": {"forbidden"}}, nil); p.status != http.StatusBadRequest {
			t.Fatalf("a form without its key: status %d", p.status)
		}

		p = post(c, "by_passphrase", "зелёный слон")
		if p.status != http.StatusOK {
			t.Fatalf("status %d:\n%s", p.status, p.body)
		}
		p.has(t, "Режим защиты сохранён.", "<strong>по номеру и кодовому слову</strong>",
			`selected>по номеру и кодовому слову</option>`)
		p.lacks(t, "зелёный слон")
		if m := mode(); m.Mode != certificate.ByPassphrase || m.PassphraseHash == "" {
			t.Fatalf("after the form: %+v", m)
		}
		// The passphrase field counts only with by_passphrase.
		p = post(c, "forbidden", "зелёный слон")
		p.has(t, "Режим защиты сохранён.", "<strong>заявки подаёте только вы</strong>")
		if m := mode(); m != (certificate.Protection{Mode: certificate.Forbidden}) {
			t.Fatalf("after forbidden: %+v", m)
		}
	})
}
