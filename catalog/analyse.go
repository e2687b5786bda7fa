package catalog

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/kljensen/snowball/russian"
	"golang.org/x/text/unicode/norm"
)

// The navigator's analyser: one in Go for both stores, so that the
// PostgreSQL and the SQLite search index the same terms and match a query
// the same way. The Snowball stemmer is kljensen/snowball's Russian one, a
// pure-Go port of the algorithm PostgreSQL's russian dictionary uses.

// Analyse is the terms text is indexed by: its words in lower case with ё
// as е (a parent rarely types the ё), split on everything that is neither
// a letter nor a digit, stop words dropped, each Cyrillic word reduced to
// its stem ("шахматам" and "шахматы" are both "шахмат"). A Latin word or a
// number is kept as it is ("lego", "3d").
func Analyse(text string) []string {
	var out []string
	for _, w := range words(text) {
		if t, ok := term(w); ok {
			out = append(out, t)
		}
	}
	return out
}

// Query is what a parent typed, analysed.
type Query struct {
	// Terms are the analysed words (Analyse), each to be matched, and
	// Words the words they were typed as (normalised, unstemmed).
	Terms, Words []string
	// Prefix is the last word as typed, normalised and unstemmed, when the
	// text does not end in a space or punctuation: a parent typing "шахм"
	// is still typing, and the navigator matches it as the start of a word.
	Prefix string
}

// AnalyseQuery analyses a parent's query. Its last word, unless the text
// ends after it, is also the Prefix; the stop words of a query are dropped
// as they are from the index, but a lone stop word the parent is typing
// stays a prefix ("по" may become "подготовка").
func AnalyseQuery(text string) Query {
	ws := words(text)
	q := Query{Terms: []string{}, Words: []string{}}
	for _, w := range ws {
		if t, ok := term(w); ok {
			q.Terms = append(q.Terms, t)
			q.Words = append(q.Words, w)
		}
	}
	if len(ws) > 0 && !endsAfterWord(text) {
		q.Prefix = ws[len(ws)-1]
	}
	return q
}

// words splits text into normalised words: NFC, lower case, ё as е,
// invisible characters removed, cut at anything but letters and digits.
func words(text string) []string {
	text = norm.NFC.String(text)
	var out []string
	var b strings.Builder
	flush := func() {
		if b.Len() > 0 {
			out = append(out, b.String())
			b.Reset()
		}
	}
	for _, r := range text {
		switch {
		case unicode.Is(unicode.Cf, r): // zero-width and other format characters join, not split
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			r = unicode.ToLower(r)
			if r == 'ё' {
				r = 'е'
			}
			b.WriteRune(r)
		default:
			flush()
		}
	}
	flush()
	return out
}

// endsAfterWord reports whether text ends with something other than a
// letter or a digit: its last word is finished.
func endsAfterWord(text string) bool {
	t := []rune(text)
	if len(t) == 0 {
		return true
	}
	r := t[len(t)-1]
	return !(unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Cf, r))
}

// term is the index term of a normalised word, or false for a stop word.
func term(w string) (string, bool) {
	if !cyrillic(w) {
		return w, true
	}
	if russian.IsStopWord(w) {
		return "", false
	}
	return russian.Stem(w, false), true
}

// cyrillic reports whether w has a Cyrillic letter: the stemmer's business.
func cyrillic(w string) bool {
	for _, r := range w {
		if unicode.Is(unicode.Cyrillic, r) {
			return true
		}
	}
	return false
}

// Trigrams are the three-letter pieces of a normalised word, padded as
// PostgreSQL's pg_trgm pads it (two spaces before, one after), each once:
// "шахматы" and the misspelt "шохматы" share 5 of their 8.
func Trigrams(word string) []string {
	r := []rune("  " + word + " ")
	seen := map[string]bool{}
	var out []string
	for i := 0; i+3 <= len(r); i++ {
		t := string(r[i : i+3])
		if !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	return out
}

// TitleTrigrams are the trigrams of a title's words of MinTypoLen letters
// or more: what a misspelt word of a query is matched against.
func TitleTrigrams(title string) []string {
	seen := map[string]bool{}
	var out []string
	for _, w := range words(title) {
		if utf8.RuneCountInString(w) < MinTypoLen {
			continue
		}
		for _, t := range Trigrams(w) {
			if !seen[t] {
				seen[t] = true
				out = append(out, t)
			}
		}
	}
	return out
}

// MinTypoLen is the shortest word a search forgives a typo in.
const MinTypoLen = 4
