package catalog_test

import (
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/edufund/edufund/catalog"
)

func TestCursor(t *testing.T) {
	c := catalog.Cursor{Rank: 16, ProgramID: uuid.MustParse("01a2058b-92e4-7ad1-80c4-9bb73f9f863a")}
	got, ok := catalog.ParseCursor(c.String())
	require.True(t, ok)
	require.Equal(t, c, got)
	for _, bad := range []string{"", "!", "MTY", "LTEuMDFhMjA1OGItOTJlNC03YWQxLTgwYzQtOWJiNzNmOWY4NjNh" /* rank -1 */, "MTYueA" /* 16.x */} {
		_, ok := catalog.ParseCursor(bad)
		require.False(t, ok, "%q", bad)
	}
}

// FuzzParseCursor: any text is either refused or a cursor that writes
// itself back the same.
func FuzzParseCursor(f *testing.F) {
	f.Add(catalog.Cursor{Rank: 16, ProgramID: uuid.New()}.String())
	f.Add("MTYueA")
	f.Fuzz(func(t *testing.T, s string) {
		c, ok := catalog.ParseCursor(s)
		if !ok {
			return
		}
		back, ok := catalog.ParseCursor(c.String())
		if !ok || back != c {
			t.Fatalf("%q: %v, then %v", s, c, back)
		}
	})
}
