package web_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/examples/server/demo"
)

// TestRatingShown: the parent's rating of a contract is shown on the
// contract and fills its form again; the program's page and the
// navigator show the program's score with how many ratings make it.
func TestRatingShown(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		c := e.clientAs(t, demo.GuardianIvanova)
		path := "/contracts/" + e.demo.Contract.String()
		p := c.get(path)
		p.lacks(t, "Ваша оценка программы")
		r := noFollow(c).post(path+"/rate", url.Values{"key": {formKey(t, p, path+"/rate")},
			"results": {"80"}, "staff": {"100"}, "means": {"70"}, "satisfaction": {"90"}}, nil)
		if r.status != http.StatusSeeOther {
			t.Fatalf("rate: status %d\n%s", r.status, r.body)
		}
		again := c.get(path)
		again.has(t, "Ваша оценка программы", "Достигнутые результаты</dt><dd>80_баллов", "Общая удовлетворённость</dt><dd>90_баллов",
			`<option value="70" selected>`)
		k, err := e.svc.Contract(context.Background(), enrollment.AsSystem("test"), e.demo.Contract)
		if err != nil {
			t.Fatal(err)
		}
		prog := c.get("/programs/" + k.ProgramID.String())
		prog.has(t, "Оценка программы", "Педагоги</dt><dd>100 из 100", "Оценок: 1.")
		o, err := e.svc.Offer(context.Background(), k.GroupID)
		if err != nil {
			t.Fatal(err)
		}
		nav := e.client(t).get("/?q=" + url.QueryEscape(o.Program.Name))
		nav.has(t, "Удовлетворённость: 90 из 100 (оценок: 1)")
		// Another family sees the program's score, never the rating's author.
		other := e.clientAs(t, demo.GuardianPetrov).get("/programs/" + k.ProgramID.String())
		other.has(t, "Оценок: 1.")
	})
}
