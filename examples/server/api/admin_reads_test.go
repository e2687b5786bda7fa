package api_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edufund/edufund/examples/server/demo"
)

type providerCardJSON struct {
	ID         string
	Name       string
	Full       bool
	INN        string
	Agreements []struct{ Municipality string }
	Live       *int64
}

type programCardJSON struct {
	Program struct {
		ID             string
		Name           string
		EnrolmentLimit int `json:"enrolment_limit"`
	}
	Full    bool
	Live    *int64
	Modules []struct {
		ID     string
		Groups []struct {
			ID         string
			Capacity   int
			SeatsTaken int `json:"seats_taken"`
			SeatsFree  int `json:"seats_free"`
		}
	}
}

// TestAdminReads: what the admin routes write reads back, a page at a
// time, each caller within its reach.
func TestAdminReads(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		novograd, zarechye, regional := e.municipality(demo.MunCity), e.municipality(demo.MunRural), e.regional()

		// Categories, with the certificates they fund.
		var cats struct {
			Items []struct {
				Code   string
				Funded int64
				Queued int
			}
		}
		e.must(http.StatusOK, "GET", "/v1/admin/categories", novograd, "", nil).json(t, &cats)
		require.NotEmpty(t, cats.Items)
		var city struct {
			Code    string
			Nominal string
			Funded  int64
		}
		e.must(http.StatusOK, "GET", "/v1/admin/categories/"+demo.CategoryCity, regional, "", nil).json(t, &city)
		assert.Equal(t, "30000.00", city.Nominal)
		assert.Positive(t, city.Funded, "the demo funds city certificates")
		e.must(http.StatusNotFound, "GET", "/v1/admin/categories/atlantis", regional, "", nil)

		// Budgets: a limit set reads back with its use; a municipality
		// reads its own only.
		e.must(http.StatusOK, "POST", "/v1/admin/budgets", regional, "reads-b1", map[string]any{"municipality": demo.MunCity, "period": year2026, "limit": "6000000.00"})
		e.must(http.StatusOK, "POST", "/v1/admin/budgets", regional, "reads-b2", map[string]any{"municipality": demo.MunRural, "period": year2026, "limit": "2000000.00"})
		type budgetsJSON struct {
			Items []struct {
				Municipality string
				Period       struct{ Start string }
				Limit        *string
				Unlimited    bool
				Used         string
				Months       []struct{ Month, Advance string }
			}
			Next string
		}
		var b budgetsJSON
		e.must(http.StatusOK, "GET", "/v1/admin/budgets?municipality="+demo.MunCity, novograd, "", nil).json(t, &b)
		require.Len(t, b.Items, 1)
		assert.Equal(t, "6000000.00", *b.Items[0].Limit)
		assert.Equal(t, "2026-01-01", b.Items[0].Period.Start)
		assert.NotEqual(t, "0.00", b.Items[0].Used, "the demo's contracts use novograd's budget")
		e.must(http.StatusOK, "GET", "/v1/admin/budgets", zarechye, "", nil).json(t, &b)
		require.Len(t, b.Items, 1)
		assert.Equal(t, demo.MunRural, b.Items[0].Municipality)
		if p := e.must(http.StatusForbidden, "GET", "/v1/admin/budgets?municipality="+demo.MunCity, zarechye, "", nil).problem(t); p.Code != "foreign" {
			t.Errorf("zarechye reads novograd's budget: %+v", p)
		}
		// The region's, a page at a time.
		e.must(http.StatusOK, "GET", "/v1/admin/budgets?limit=1", regional, "", nil).json(t, &b)
		require.Len(t, b.Items, 1)
		require.NotEmpty(t, b.Next)
		first := b.Items[0].Municipality
		e.must(http.StatusOK, "GET", "/v1/admin/budgets?limit=1&after="+url.QueryEscape(b.Next), regional, "", nil).json(t, &b)
		require.Len(t, b.Items, 1)
		assert.NotEqual(t, first, b.Items[0].Municipality)
		e.must(http.StatusBadRequest, "GET", "/v1/admin/budgets?after=bogus", regional, "", nil)
		// Use by month: the close of April invoices its advance.
		e.clock.T = time.Date(2026, time.April, 1, 6, 0, 0, 0, time.UTC)
		e.must(http.StatusOK, "POST", "/v1/admin/close", regional, "reads-close", map[string]string{"month": "2026-04"})
		e.must(http.StatusOK, "GET", "/v1/admin/budgets?municipality="+demo.MunCity, regional, "", nil).json(t, &b)
		require.Len(t, b.Items, 1)
		months := map[string]string{}
		for _, m := range b.Items[0].Months {
			months[m.Month] = m.Advance
		}
		require.Contains(t, months, "2026-04", "April is invoiced")
		assert.NotEqual(t, "0.00", months["2026-04"])

		// Direction limits.
		e.must(http.StatusOK, "POST", "/v1/admin/direction-limits", novograd, "reads-d1", map[string]any{"municipality": demo.MunCity, "direction": "arts", "period": year2026, "limit": 40})
		var d struct {
			Items []struct {
				Municipality, Direction string
				Limit, Used             int64
			}
		}
		e.must(http.StatusOK, "GET", "/v1/admin/direction-limits?direction=arts", novograd, "", nil).json(t, &d)
		require.Len(t, d.Items, 1)
		assert.Equal(t, int64(40), d.Items[0].Limit)
		e.must(http.StatusForbidden, "GET", "/v1/admin/direction-limits?municipality="+demo.MunCity, zarechye, "", nil)
		e.must(http.StatusOK, "GET", "/v1/admin/direction-limits?direction=arts", zarechye, "", nil).json(t, &d)
		for _, l := range d.Items {
			assert.Equal(t, demo.MunRural, l.Municipality, "zarechye reads its own")
		}

		// Providers: the public card for everyone, in full for itself.
		robo, sport := e.demo.ProviderID("Робоцентр").String(), e.demo.ProviderID("Спортклуб «Заречье»").String()
		var ps struct {
			Items []providerCardJSON
			Next  string
		}
		r := e.must(http.StatusOK, "GET", "/v1/providers", e.holder(demo.GuardianIvanova), "", nil)
		r.json(t, &ps)
		require.NotEmpty(t, ps.Items)
		for _, p := range ps.Items {
			assert.False(t, p.Full, p.Name)
		}
		assert.NotContains(t, string(r.body), "5401000001", "a family sees no INN")
		e.must(http.StatusOK, "GET", "/v1/providers", e.provider("Робоцентр"), "", nil).json(t, &ps)
		for _, p := range ps.Items {
			assert.Equal(t, p.ID == robo, p.Full, p.Name)
		}
		var card providerCardJSON
		e.must(http.StatusOK, "GET", "/v1/providers/"+sport, e.provider("Спортклуб «Заречье»"), "", nil).json(t, &card)
		assert.True(t, card.Full)
		assert.Equal(t, "5401000003", card.INN)
		assert.Len(t, card.Agreements, 2)
		require.NotNil(t, card.Live)
		r = e.must(http.StatusOK, "GET", "/v1/providers/"+sport, e.provider("Робоцентр"), "", nil)
		r.json(t, &card)
		assert.False(t, card.Full)
		assert.Equal(t, "Спортклуб «Заречье»", card.Name)
		assert.NotContains(t, string(r.body), "5401000003")
		e.must(http.StatusOK, "GET", "/v1/providers/"+e.demo.ProviderID("Художественная школа «Палитра»").String(), zarechye, "", nil).json(t, &card)
		assert.False(t, card.Full, "Палитра has no agreement with zarechye")
		e.must(http.StatusOK, "GET", "/v1/providers/"+robo, zarechye, "", nil).json(t, &card)
		assert.True(t, card.Full, "Робоцентр has an agreement with zarechye")
		e.must(http.StatusNotFound, "GET", "/v1/providers/"+strings.Repeat("0", 8)+"-0000-7000-8000-000000000000", regional, "", nil)
		// A page at a time.
		e.must(http.StatusOK, "GET", "/v1/providers?limit=1", regional, "", nil).json(t, &ps)
		require.Len(t, ps.Items, 1)
		require.NotEmpty(t, ps.Next)
		firstID := ps.Items[0].ID
		e.must(http.StatusOK, "GET", "/v1/providers?limit=200&after="+ps.Next, regional, "", nil).json(t, &ps)
		for _, p := range ps.Items {
			assert.Less(t, p.ID, firstID, "older providers after the first page")
		}
		e.must(http.StatusOK, "GET", "/v1/providers?municipality="+demo.MunRural, regional, "", nil).json(t, &ps)
		for _, p := range ps.Items {
			assert.NotEqual(t, robo, p.ID, "Робоцентр is novograd's")
		}

		// A provider's catalogue with the seats of its groups.
		var progs struct {
			Items []programCardJSON
		}
		e.must(http.StatusOK, "GET", "/v1/providers/"+sport+"/programs", e.holder(demo.GuardianIvanova), "", nil).json(t, &progs)
		require.NotEmpty(t, progs.Items)
		taken := 0
		for _, p := range progs.Items {
			assert.False(t, p.Full)
			assert.Nil(t, p.Live)
			assert.Zero(t, p.Program.EnrolmentLimit)
			for _, m := range p.Modules {
				for _, g := range m.Groups {
					assert.Equal(t, g.Capacity, g.SeatsTaken+g.SeatsFree, g.ID)
					taken += g.SeatsTaken
				}
			}
		}
		assert.Positive(t, taken, "the demo's football contract takes a seat")
		e.must(http.StatusOK, "GET", "/v1/providers/"+sport+"/programs?limit=1", e.provider("Спортклуб «Заречье»"), "", nil).json(t, &progs)
		require.Len(t, progs.Items, 1)
		assert.True(t, progs.Items[0].Full)
		assert.NotNil(t, progs.Items[0].Live)
		e.must(http.StatusNotFound, "GET", "/v1/providers/"+strings.Repeat("0", 8)+"-0000-7000-8000-000000000000/programs", regional, "", nil)
	})
}
