package catalog_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/edufund/edufund/catalog"
	"github.com/edufund/edufund/funding"
)

func TestNewSessions(t *testing.T) {
	ok := catalog.Session{Weekday: 1, Start: "15:00", End: "16:30", Place: "каб. 12"}
	tests := []struct {
		name  string
		in    []catalog.Session
		field string // "" is valid
	}{
		{"none", nil, ""},
		{"one", []catalog.Session{ok}, ""},
		{"sunday", []catalog.Session{{Weekday: 7, Start: "10:00", End: "11:00"}}, ""},
		{"weekday 0", []catalog.Session{{Weekday: 0, Start: "10:00", End: "11:00"}}, "sessions[0].weekday"},
		{"weekday 8", []catalog.Session{ok, {Weekday: 8, Start: "10:00", End: "11:00"}}, "sessions[1].weekday"},
		{"bad start", []catalog.Session{{Weekday: 2, Start: "9:00", End: "11:00"}}, "sessions[0].start"},
		{"start 24:00", []catalog.Session{{Weekday: 2, Start: "24:00", End: "11:00"}}, "sessions[0].start"},
		{"bad end", []catalog.Session{{Weekday: 2, Start: "09:00", End: "11-00"}}, "sessions[0].end"},
		{"end = start", []catalog.Session{{Weekday: 2, Start: "09:00", End: "09:00"}}, "sessions[0].end"},
		{"end before start", []catalog.Session{{Weekday: 2, Start: "09:00", End: "08:59"}}, "sessions[0].end"},
		{"control in place", []catalog.Session{{Weekday: 2, Start: "09:00", End: "10:00", Place: "a\x00b"}}, "sessions[0].place"},
		{"overlap", []catalog.Session{ok, {Weekday: 1, Start: "16:00", End: "17:00"}}, "sessions"},
		{"adjacent", []catalog.Session{ok, {Weekday: 1, Start: "16:30", End: "17:00"}}, ""},
		{"too many", make([]catalog.Session, catalog.MaxSessions+1), "sessions"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := catalog.NewSessions(tt.in)
			if tt.field == "" {
				require.NoError(t, err)
				require.Len(t, out, len(tt.in))
				return
			}
			var ve *funding.ValidationError
			require.ErrorAs(t, err, &ve)
			require.Equal(t, tt.field, ve.Field)
		})
	}
	out, err := catalog.NewSessions([]catalog.Session{{Weekday: 3, Start: "10:00", End: "11:00"}, {Weekday: 1, Start: "18:00", End: "19:00"}, ok})
	require.NoError(t, err)
	require.Equal(t, []int{1, 1, 3}, []int{out[0].Weekday, out[1].Weekday, out[2].Weekday})
	require.Equal(t, "15:00", out[0].Start)
}
