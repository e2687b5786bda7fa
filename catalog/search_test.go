package catalog_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/edufund/edufund/catalog"
)

func TestMatchers(t *testing.T) {
	ms := catalog.Search{Text: "шахматный клуб"}.Matchers()
	require.Len(t, ms, 2)
	require.Equal(t, catalog.Matcher{Exact: "шахматн", Root: "шахма", Trigrams: catalog.Trigrams("шахматный")}, ms[0])
	require.Equal(t, "клуб", ms[1].Exact)
	require.Equal(t, "клуб", ms[1].Root, "still being typed: matched by what was typed")

	ms = catalog.Search{Text: "шахматный клуб "}.Matchers()
	require.Equal(t, catalog.Matcher{Exact: "клуб", Root: "клуб", Trigrams: catalog.Trigrams("клуб")}, ms[1])

	require.Empty(t, catalog.Search{Text: " "}.Matchers())
	ms = catalog.Search{Text: "футбол для ма"}.Matchers()
	require.Equal(t, []catalog.Matcher{{Exact: "футбол", Root: "футбо", Trigrams: catalog.Trigrams("футбол")}, {Exact: "ма", Root: "ма"}}, ms)
}

func TestTrigrams(t *testing.T) {
	require.Equal(t, []string{"  ш", " ша", "шах", "ахм", "хма", "мат", "аты", "ты "}, catalog.Trigrams("шахматы"))
	shared := 0
	typo := map[string]bool{}
	for _, g := range catalog.Trigrams("шохматы") {
		typo[g] = true
	}
	for _, g := range catalog.Trigrams("шахматы") {
		if typo[g] {
			shared++
		}
	}
	require.Equal(t, 5, shared, "a typo keeps 5 of 8")
	require.Empty(t, catalog.TitleTrigrams("3D и ИЗО"), "words under four letters give none")
}

func TestSearchCheck(t *testing.T) {
	s := catalog.Search{}
	require.NoError(t, s.Check())
	require.Equal(t, catalog.DefaultSearchLimit, s.Limit)
	for field, bad := range map[string]catalog.Search{
		"limit":     {Limit: 101},
		"age":       {Age: -1},
		"direction": {Direction: "cooking"},
		"registry":  {Registry: "secret"},
	} {
		err := bad.Check()
		require.ErrorContains(t, err, field)
	}
}
