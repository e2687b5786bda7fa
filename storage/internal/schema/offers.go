package schema

import (
	"bytes"
	"reflect"
	"slices"
	"strings"
	"sync"

	"github.com/uptrace/bun/dialect/pgdialect"

	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/funding"
)

// Offer is one row of the offers query: a group with its module,
// program, provider and one of the provider's agreements (if any).
type Offer struct {
	G       Group    `bun:"embed:g_"`
	M       Module   `bun:"embed:m_"`
	P       Program  `bun:"embed:p_"`
	V       Provider `bun:"embed:v_"`
	AgMun   *string  `bun:"ag_municipality"`
	AgStart Date     `bun:"ag_period_start"`
	AgEnd   Date     `bun:"ag_period_end"`
}

// OfferColumns lists every column of the four tables, prefixed as Offer
// embeds them, and the agreement's.
var OfferColumns = sync.OnceValue(func() string {
	var cols []string
	tables := pgdialect.New().Tables()
	for _, x := range []struct {
		alias string
		typ   reflect.Type
	}{
		{"g", reflect.TypeFor[Group]()}, {"m", reflect.TypeFor[Module]()},
		{"p", reflect.TypeFor[Program]()}, {"v", reflect.TypeFor[Provider]()},
	} {
		for _, f := range tables.Get(x.typ).Fields {
			cols = append(cols, x.alias+"."+f.Name+" AS "+x.alias+"_"+f.Name)
		}
	}
	cols = append(cols, "ag.municipality AS ag_municipality", "ag.period_start AS ag_period_start", "ag.period_end AS ag_period_end")
	return strings.Join(cols, ", ")
})

func offerLess(a, b *Offer) bool {
	if c := bytes.Compare(a.G.ID[:], b.G.ID[:]); c != 0 {
		return c < 0
	}
	as, bs := funding.Date(a.AgStart), funding.Date(b.AgStart)
	if !as.Equal(bs) {
		return as.Before(bs)
	}
	var am, bm string
	if a.AgMun != nil {
		am = *a.AgMun
	}
	if b.AgMun != nil {
		bm = *b.AgMun
	}
	return am < bm
}

// SortOffers orders the rows of the offers statements as JoinOffers needs
// them: by group, then agreement.
func SortOffers(offers []Offer) []Offer {
	slices.SortStableFunc(offers, func(a, b Offer) int {
		switch {
		case offerLess(&a, &b):
			return -1
		case offerLess(&b, &a):
			return 1
		}
		return 0
	})
	return offers
}

// JoinOffers folds the rows of one group (one per agreement) into its offer.
func JoinOffers(rows []Offer) []enrollment.Offer {
	var out []enrollment.Offer
	for i := 0; i < len(rows); {
		j := i
		var ags []Agreement
		for ; j < len(rows) && rows[j].G.ID == rows[i].G.ID; j++ {
			if rows[j].AgMun != nil {
				ags = append(ags, Agreement{ProviderID: rows[j].V.ID, Municipality: *rows[j].AgMun, PeriodStart: rows[j].AgStart, PeriodEnd: rows[j].AgEnd})
			}
		}
		r := &rows[i]
		out = append(out, enrollment.Offer{Group: r.G.Domain(), Module: r.M.Domain(), Program: r.P.Domain(), Provider: r.V.Domain(ags)})
		i = j
	}
	return out
}
