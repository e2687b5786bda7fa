package catalog_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edufund/edufund/catalog"
	"github.com/edufund/edufund/certificate"
)

func TestCompetencyAreas(t *testing.T) {
	require.Len(t, catalog.CompetencyAreas, 22)
	codes, names := map[string]bool{}, map[string]bool{}
	for _, a := range catalog.CompetencyAreas {
		assert.False(t, codes[a.Code], "code %s twice", a.Code)
		assert.False(t, names[a.Name], "name %s twice", a.Name)
		codes[a.Code], names[a.Name] = true, true
		got, ok := catalog.LookupCompetencyArea(a.Code)
		assert.True(t, ok)
		assert.Equal(t, a, got)
	}
}

func TestProgramCompetencyArea(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"big_data", "Большие данные"},
		{"Big data", "Большие данные"},
		{"большие  данные", "Большие данные"},
		{"ai", "Искусственный интеллект"},
		{"системы распределенного реестра", "Системы распределённого реестра"},
		{"цифровой дизайн", "Цифровой дизайн"},
		{"астрология", ""},
		{"big-data", ""},
	} {
		t.Run(tc.in, func(t *testing.T) {
			p := validAdultProgram()
			p.CompetencyArea = tc.in
			got, err := catalog.NewProgram(p)
			if tc.want == "" {
				requireField(t, err, "competency_area")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got.CompetencyArea)
		})
	}
	// A children's program's competency area stays free text.
	p := validProgram()
	p.Scheme, p.CompetencyArea = certificate.Supplementary, "искусство"
	got, err := catalog.NewProgram(p)
	require.NoError(t, err)
	assert.Equal(t, "искусство", got.CompetencyArea)
}
