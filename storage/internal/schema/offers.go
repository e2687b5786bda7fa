package schema

import (
	"bytes"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/funding"
)

// Offer is one row of the offers query: a group with its module,
// program, provider and one of the provider's agreements, zero when it
// has none (the agreements are outer-joined).
type Offer struct {
	G  Group     `bun:"embed:g_"`
	M  Module    `bun:"embed:m_"`
	P  Program   `bun:"embed:p_"`
	V  Provider  `bun:"embed:v_"`
	Ag Agreement `bun:"embed:ag_"`
}

// OfferFrom joins the offers' tables under the aliases of OfferColumns
// and OfferList.
const OfferFrom = ` FROM study_groups g
	JOIN modules m ON m.id = g.module_id
	JOIN programs p ON p.id = m.program_id
	JOIN providers v ON v.id = p.provider_id
	LEFT JOIN agreements ag ON ag.provider_id = v.id`

// OfferColumns lists the offers' columns renamed as Offer embeds them, for
// bun to scan by name; OfferList lists them in the order of OfferDest as a
// batch reads them, its programs' texts for people empty (programTexts).
var (
	OfferColumns = StudyGroups.Aliased("g") + ", " + Modules.Aliased("m") + ", " + Programs.Aliased("p") + ", " +
		Providers.Aliased("v") + ", " + Agreements.Aliased("ag")
	OfferList = StudyGroups.List("g") + ", " + Modules.List("m") + ", " + programRules("p") + ", " +
		Providers.List("v") + ", " + Agreements.List("ag")
)

// programTexts are the columns of a program that no rule of an application
// reads, its texts for people, as long as its provider writes them: a
// batch reads each offer of its applications, and would carry them from
// the database every time. They stand empty in their place.
var programTexts = map[string]string{"annotation": "''", "description": "''", "goals": "''", "tags": "'[]'"}

// programRules is Programs.List(alias) with programTexts in place of the
// texts.
func programRules(alias string) string {
	parts := make([]string, len(Programs.Columns))
	for i, c := range Programs.Columns {
		if e, ok := programTexts[c.Name]; ok {
			parts[i] = e
		} else {
			parts[i] = alias + "." + c.Name
		}
	}
	return strings.Join(parts, ", ")
}

// OfferDest is pointers to o's fields in the order of OfferList; a NULL
// agreement leaves o.Ag zero.
func OfferDest(o *Offer) []any {
	d := StudyGroups.Dest(&o.G)
	d = append(d, Modules.Dest(&o.M)...)
	d = append(d, Programs.Dest(&o.P)...)
	d = append(d, Providers.Dest(&o.V)...)
	return append(d, Agreements.OuterDest(&o.Ag)...)
}

func offerLess(a, b *Offer) bool {
	if c := bytes.Compare(a.G.ID[:], b.G.ID[:]); c != 0 {
		return c < 0
	}
	as, bs := funding.Date(a.Ag.PeriodStart), funding.Date(b.Ag.PeriodStart)
	if !as.Equal(bs) {
		return as.Before(bs)
	}
	return a.Ag.Municipality < b.Ag.Municipality
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
			if rows[j].Ag.ProviderID != uuid.Nil {
				ags = append(ags, rows[j].Ag)
			}
		}
		r := &rows[i]
		out = append(out, enrollment.Offer{Group: r.G.Domain(), Module: r.M.Domain(), Program: r.P.Domain(), Provider: r.V.Domain(ags)})
		i = j
	}
	return out
}
