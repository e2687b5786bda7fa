package web_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/edufund/edufund/examples/server/demo"
)

// TestLabels: on every page of every role, each control a person fills
// in (an input other than hidden, a select, a textarea) has an id and a
// <label for> naming it, so that a screen reader says what it is and a
// click on the label reaches it; and each page says its language and
// has one h1.
func TestLabels(t *testing.T) {
	misha := shared.demo.CertificateID("child-active-funded").String()
	offer, err := shared.svc.Offer(t.Context(), shared.demo.WalkthroughGroup)
	if err != nil {
		t.Fatal(err)
	}
	pages := map[string][]string{
		"": {"/", "/?q=робот&age=9", "/programs/" + offer.Program.ID.String(), "/signin"},
		demo.GuardianIvanova: {"/?cert=" + misha, "/cabinet", "/cabinet/" + misha, "/contracts/" + shared.demo.Contract.String(),
			"/programs/" + offer.Program.ID.String() + "/apply?group=" + shared.demo.WalkthroughGroup.String(), "/adult",
			"/certificates/" + misha + "/statement", "/certificates/" + misha + "/attendance"},
		demo.AdultOrlova:   {"/adult"},
		"sport-admin":      {"/provider", "/provider?show=active", "/provider/groups", "/provider/invoices", "/contracts/" + shared.demo.Contract.String()},
		"novograd-officer": {"/municipality", "/municipality/issue", "/municipality/budget"},
		"region-operator":  {"/municipality?m=" + demo.MunRural, "/municipality/budget?m=" + demo.MunRural},
		"federal-operator": {"/adult/queue"},
	}
	control := regexp.MustCompile(`<(input|select|textarea)\b[^>]*>`)
	attr := func(tag, name string) (string, bool) {
		m := regexp.MustCompile(`\s` + name + `="([^"]*)"`).FindStringSubmatch(tag)
		if m == nil {
			return "", false
		}
		return m[1], true
	}
	checked := 0
	for who, paths := range pages {
		c := shared.client(t)
		if who != "" {
			signIn(t, c, who)
		}
		for _, path := range paths {
			p := c.get(path)
			if p.status != 200 {
				t.Errorf("%s as %q: status %d", path, who, p.status)
				continue
			}
			if !strings.Contains(p.body, `<html lang="ru">`) || strings.Count(p.body, "<h1") != 1 {
				t.Errorf("%s as %q: want lang=ru and one h1", path, who)
			}
			for _, tag := range control.FindAllString(p.body, -1) {
				if typ, _ := attr(tag, "type"); typ == "hidden" || typ == "submit" {
					continue
				}
				checked++
				id, ok := attr(tag, "id")
				if !ok {
					t.Errorf("%s as %q: a control without an id: %s", path, who, tag)
					continue
				}
				if _, labelled := attr(tag, "aria-label"); !labelled && !strings.Contains(p.body, `for="`+id+`"`) {
					t.Errorf("%s as %q: no <label for=%q> for %s", path, who, id, tag)
				}
			}
		}
	}
	if checked < 40 {
		t.Errorf("only %d controls checked: the pages' forms were not found", checked)
	}
}
