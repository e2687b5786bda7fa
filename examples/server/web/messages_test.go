package web_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"testing"

	"github.com/edufund/edufund/examples/server/demo"
)

// TestMessages: once the relay publishes the events, each party reads its
// own notifications in Russian on /messages, unread ones first marked,
// and marks them read; another family sees none of them.
func TestMessages(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		for {
			rep, err := e.svc.Publish(ctx, 500)
			if err != nil {
				t.Fatal(err)
			}
			if rep.Events == 0 {
				break
			}
		}
		c := e.clientAs(t, demo.GuardianIvanova)
		p := c.get("/messages")
		if p.status != http.StatusOK {
			t.Fatalf("status %d", p.status)
		}
		p.has(t, "<h1>Сообщения</h1>", "Непрочитанных:", "Отметить прочитанными", `aria-current="page">Сообщения</a>`)
		noEnglish(t, p)
		other := e.clientAs(t, demo.GuardianPetrov).get("/messages")
		for _, n := range []string{"Иванов Михаил"} {
			other.lacks(t, n)
		}
		r := noFollow(c).post("/messages/read", url.Values{"id": messageIDs(t, p)}, nil)
		if r.status != http.StatusSeeOther {
			t.Fatalf("mark read: status %d", r.status)
		}
		after := e.clientAs(t, demo.GuardianIvanova).get("/messages")
		after.has(t, "Все сообщения прочитаны.")
		after.lacks(t, "Отметить прочитанными")

		// A form from another site is refused and marks nothing.
		prov := e.clientAs(t, "sport-admin")
		pp := prov.get("/messages")
		pp.has(t, "Непрочитанных:")
		bad := prov.post("/messages/read", url.Values{"id": messageIDs(t, pp)}, map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"})
		if bad.status != http.StatusForbidden {
			t.Fatalf("cross-site form: status %d", bad.status)
		}
		prov.get("/messages").has(t, "Непрочитанных:")
	})
}

// messageIDs are the ids the messages page's form would mark read.
func messageIDs(t *testing.T, p page) []string {
	t.Helper()
	var out []string
	for _, m := range regexp.MustCompile(`name="id" value="([^"]+)"`).FindAllStringSubmatch(p.body, -1) {
		out = append(out, m[1])
	}
	if len(out) == 0 {
		t.Fatalf("no message to mark in the page:\n%s", p.body)
	}
	return out
}
