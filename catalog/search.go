package catalog

import (
	"encoding/base64"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/edufund/edufund/funding"
)

// The navigator's search, as the stores run it. A program is indexed by
// its terms (Analyse), each with the weight of the field it stands in:
// its title above its provider's name above its texts. A search matches
// every term of the query, each either exactly or by its root (its first
// RootLen letters, so that "шахматный" finds "Шахматы" though their stems
// differ), and ranks a program by the sum, over the query's terms, of the
// best weight it matched with, an exact match counting whole and a root
// match a third (so an exact word of a text outranks a root of a
// provider's name). The ranks are integers computed the same way by both stores,
// so both return the same programs in the same order: rank, then id.

// The weights of the fields a term stands in; a root match counts
// 1/RootDivisor of them, rounded down.
const (
	WeightTitle    = 12
	WeightProvider = 6
	WeightText     = 4
	RootDivisor    = 3
)

// RootLen is how many letters of a query's word match by root: a word of
// at least RootLen letters matches the terms starting with its first
// RootLen letters, at a third of the weight.
const RootLen = 5

// Search limits.
const (
	DefaultSearchLimit = 20
	MaxSearchLimit     = 100
	MaxSearchText      = 200
)

// Search is what a parent asks the navigator: words and filters, and where
// the previous page ended.
type Search struct {
	Text         string
	Municipality string
	Direction    Direction
	Registry     Registry
	// Age is the child's age in whole years: programs whose range holds it
	// (0: any).
	Age        int
	ProviderID uuid.UUID
	// A program matches the following through one of its groups: one
	// running in Month (zero: any), with a seat free when FreeSeats, of a
	// module priced at most MaxPrice (zero: any price).
	Month     funding.Month
	FreeSeats bool
	MaxPrice  funding.Money
	// After is where the previous page ended; nil for the first.
	After *Cursor
	// Limit is the page's size, 1 to MaxSearchLimit (0: DefaultSearchLimit).
	Limit int
}

// Cursor is a place in the order of a search's results.
type Cursor struct {
	Rank      int
	ProgramID uuid.UUID
}

// String is the cursor as a caller carries it to the next page: opaque
// text safe in a URL.
func (c Cursor) String() string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.Itoa(c.Rank) + "." + c.ProgramID.String()))
}

// ParseCursor reads a cursor that String wrote; ok is false for any
// other text.
func ParseCursor(s string) (c Cursor, ok bool) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return Cursor{}, false
	}
	rank, id, ok := strings.Cut(string(b), ".")
	n, err := strconv.Atoi(rank)
	if !ok || err != nil || n < 0 {
		return Cursor{}, false
	}
	u, err := uuid.Parse(id)
	if err != nil {
		return Cursor{}, false
	}
	return Cursor{Rank: n, ProgramID: u}, true
}

// Hit is a program a search found, with its rank (0 when the search has
// no words: every program matches, in id order).
type Hit struct {
	ProgramID uuid.UUID
	Rank      int
}

// Results is a page of a search: its hits, how many programs match in
// all, how many by direction and by registry, and where the next page
// starts (nil after the last).
type Results struct {
	Hits       []Hit
	Total      int
	Directions map[Direction]int
	Registries map[Registry]int
	Next       *Cursor
}

// Matcher is one word of a query as the stores match it: index terms equal
// to Exact count the whole weight; other terms starting with Root count a
// third (RootDivisor); and a program sharing at least TypoShare of Trigrams with its
// title's words counts WeightTypo (a misspelt title word).
type Matcher struct {
	Exact, Root string
	Trigrams    []string
}

// A misspelt title word matches at the lowest weight, when at least
// TypoShare (as tenths) of the query word's trigrams are the title's.
const (
	WeightTypo = 1
	TypoShare  = 6
)

// Check validates s (its text by funding.Text's rules: no control
// characters, NFC, at most MaxSearchText) and fills in its default limit.
func (s *Search) Check() error {
	text, err := funding.Text("q", s.Text, MaxSearchText)
	if err != nil {
		return err
	}
	s.Text = text
	if s.Direction != "" && !s.Direction.Known() {
		return &funding.ValidationError{Field: "direction", Rule: "must be one of the seven directions", Value: string(s.Direction)}
	}
	if s.Registry != "" && !s.Registry.Known() {
		return &funding.ValidationError{Field: "registry", Rule: "must be a registry", Value: string(s.Registry)}
	}
	if s.Age < 0 || s.Age > 120 {
		return &funding.ValidationError{Field: "age", Rule: "must be from 0 to 120", Value: strconv.Itoa(s.Age)}
	}
	if s.MaxPrice.IsNegative() {
		return &funding.ValidationError{Field: "max_price", Rule: "must not be negative", Value: s.MaxPrice.String()}
	}
	switch {
	case s.Limit == 0:
		s.Limit = DefaultSearchLimit
	case s.Limit < 0 || s.Limit > MaxSearchLimit:
		return &funding.ValidationError{Field: "limit", Rule: "must be from 1 to " + strconv.Itoa(MaxSearchLimit), Value: strconv.Itoa(s.Limit)}
	}
	return nil
}

// Matchers are the query's words as the stores match them, one per word;
// none when it has no words. The unfinished last word of a query is
// matched by what has been typed so far.
func (s Search) Matchers() []Matcher {
	q := AnalyseQuery(s.Text)
	out := make([]Matcher, 0, len(q.Terms)+1)
	for i, t := range q.Terms {
		m := matcher(t)
		if w := q.Words[i]; utf8.RuneCountInString(w) >= MinTypoLen {
			m.Trigrams = Trigrams(w)
		}
		out = append(out, m)
	}
	if q.Prefix != "" {
		m := Matcher{Exact: q.Prefix, Root: q.Prefix}
		if n := len(out); n > 0 && q.Words[n-1] == q.Prefix {
			// The last word, still being typed: its stem whole, and by
			// root whatever starts as it was typed so far.
			m = out[n-1]
			if utf8.RuneCountInString(q.Prefix) < utf8.RuneCountInString(m.Root) {
				m.Root = q.Prefix
			}
			out = out[:n-1]
		}
		out = append(out, m)
	}
	return out
}

func matcher(t string) Matcher {
	if utf8.RuneCountInString(t) <= RootLen {
		return Matcher{Exact: t, Root: t}
	}
	r := []rune(t)
	return Matcher{Exact: t, Root: string(r[:RootLen])}
}

// IndexTerms are the terms a program is found by, each with the best
// weight of a field it stands in.
func IndexTerms(title, provider string, texts ...string) map[string]int {
	out := map[string]int{}
	add := func(text string, w int) {
		for _, t := range Analyse(text) {
			if out[t] < w {
				out[t] = w
			}
		}
	}
	add(title, WeightTitle)
	add(provider, WeightProvider)
	for _, t := range texts {
		add(t, WeightText)
	}
	return out
}

// PrefixEnd is the least string greater than every string starting with
// prefix: a range [prefix, PrefixEnd(prefix)) holds exactly the strings
// that start with it, in code-point order.
func PrefixEnd(prefix string) string {
	return prefix + string(utf8.MaxRune)
}
