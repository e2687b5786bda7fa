package catalogtest

import (
	"math/rand/v2"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/edufund/edufund/catalog"
)

// QueryKind is what sort of search a parent typed.
type QueryKind string

const (
	// QueryWord is one word in the form a parent types it: "шахматам",
	// "футбол", "python".
	QueryWord QueryKind = "word"
	// QueryPrefix is a word still being typed, its first three to five
	// letters: "шахм", "футб".
	QueryPrefix QueryKind = "prefix"
	// QueryPhrase is two or three words: "шахматы для начинающих",
	// "футбол мальчики", "студия вдохновение".
	QueryPhrase QueryKind = "phrase"
	// QueryTypo is a word with one letter wrong: "шохматы", "рисавание".
	QueryTypo QueryKind = "typo"
	// QueryName is the name of a studio or a provider: "кванториум",
	// "дом детского творчества".
	QueryName QueryKind = "name"
)

// Query is a search a parent might type.
type Query struct {
	Text string
	Kind QueryKind
	// Activity is the plain name of the activity it looks for (as in
	// Program.Activity), and Direction its direction; both empty for a
	// name.
	Activity  string
	Direction catalog.Direction
}

// Queries are n searches drawn from seed in a realistic mix: a third
// single words, a fifth words still being typed, a fifth phrases, a tenth
// with a typo and the rest names of studios and providers. The common
// activities are searched for the most, as in a region's navigator.
func Queries(seed int64, n int) []Query {
	r := rand.New(rand.NewPCG(uint64(seed), 0x6a09e667f3bcc908))
	out := make([]Query, 0, n)
	for len(out) < n {
		a := activities[weighted(r, len(activities), func(i int) int { return activities[i].weight })]
		x := r.IntN(100)
		switch {
		case x < 35:
			out = append(out, Query{Text: pick(r, a.typed), Kind: QueryWord, Activity: a.title, Direction: a.dir})
		case x < 55:
			w := firstWord(pick(r, a.typed))
			if utf8.RuneCountInString(w) < 4 {
				continue
			}
			n := min(utf8.RuneCountInString(w)-1, 3+r.IntN(3))
			out = append(out, Query{Text: string([]rune(w)[:n]), Kind: QueryPrefix, Activity: a.title, Direction: a.dir})
		case x < 75:
			out = append(out, Query{Text: phrase(r, a), Kind: QueryPhrase, Activity: a.title, Direction: a.dir})
		case x < 85:
			t, ok := typo(r, pick(r, a.typed))
			if !ok {
				continue
			}
			out = append(out, Query{Text: t, Kind: QueryTypo, Activity: a.title, Direction: a.dir})
		default:
			out = append(out, Query{Text: name(r, a), Kind: QueryName})
		}
	}
	return out
}

// phrase is two or three words about activity a.
func phrase(r *rand.Rand, a activity) string {
	typed := pick(r, a.typed)
	if strings.Contains(typed, " ") && r.IntN(2) == 0 {
		return typed
	}
	w := firstWord(typed)
	switch r.IntN(5) {
	case 0:
		return w + pick(r, levels[:2]) // "шахматы для начинающих"
	case 1:
		if a.sexed {
			return w + " " + pick(r, []string{"мальчики", "девочки", "для мальчиков", "для девочек"})
		}
		return w + " для детей"
	case 2:
		if len(a.named) > 0 {
			n := strings.ToLower(pick(r, a.named))
			return n + " " + strings.ToLower(pick(r, quoted[a.dir]))
		}
		return w + " " + strings.ToLower(pick(r, quoted[a.dir]))
	case 3:
		if len(a.variants) > 0 {
			return w + " " + strings.ToLower(pick(r, a.variants).label)
		}
		return w + " " + pick(r, []string{"кружок", "секция", "студия"})
	default:
		return w + " " + strconv.Itoa(a.min+r.IntN(a.max-a.min+1)) + " лет" // "футбол 8 лет"
	}
}

// name is a studio's or provider's name as a parent types it.
func name(r *rand.Rand, a activity) string {
	switch r.IntN(4) {
	case 0:
		return strings.ToLower(pick(r, quoted[a.dir]))
	case 1:
		return strings.ToLower(pick(r, quotedAny))
	case 2:
		return pick(r, []string{"кванториум", "it-куб", "дом детского творчества", "школа искусств", "спортивная школа", "станция юных техников", "музыкальная школа", "дворец творчества", "центр дополнительного образования"})
	default:
		return pick(r, []string{"гимназия", "лицей", "школа"}) + " " + []string{"3", "12", "45", "7", "101"}[r.IntN(5)]
	}
}

// typo changes one vowel of the longest word of text for one that sounds
// alike, as parents misspell: "шахматы" as "шохматы". False when no word
// is long enough.
func typo(r *rand.Rand, text string) (string, bool) {
	words := strings.Fields(text)
	best := -1
	for i, w := range words {
		if utf8.RuneCountInString(w) >= 6 && (best < 0 || utf8.RuneCountInString(w) > utf8.RuneCountInString(words[best])) {
			best = i
		}
	}
	if best < 0 {
		return "", false
	}
	swap := map[rune]rune{'о': 'а', 'а': 'о', 'е': 'и', 'и': 'е', 'я': 'е'}
	w := []rune(words[best])
	var at []int
	for i := 1; i < len(w)-1; i++ { // not the first letter: people rarely miss it
		if _, ok := swap[w[i]]; ok {
			at = append(at, i)
		}
	}
	if len(at) == 0 {
		return "", false
	}
	i := pick(r, at)
	w[i] = swap[w[i]]
	words[best] = string(w)
	return strings.Join(words, " "), true
}

func firstWord(s string) string {
	if i := strings.IndexByte(s, ' '); i >= 0 {
		return s[:i]
	}
	return s
}
