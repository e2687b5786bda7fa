package enrollment_test

import (
	"errors"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/funding"
)

func TestNewRating(t *testing.T) {
	tests := []struct {
		name                  string
		res, staff, means, sa int
		field                 string
	}{
		{"all zero", 0, 0, 0, 0, ""},
		{"all hundred", 100, 100, 100, 100, ""},
		{"mixed", 10, 50, 90, 70, ""},
		{"results not a step", 55, 50, 50, 50, "results"},
		{"results negative", -10, 50, 50, 50, "results"},
		{"staff above 100", 50, 110, 50, 50, "staff"},
		{"means not a step", 50, 50, 1, 50, "means"},
		{"satisfaction above 100", 50, 50, 50, 101, "satisfaction"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := enrollment.NewRating(tt.res, tt.staff, tt.means, tt.sa)
			if tt.field == "" {
				require.NoError(t, err)
				require.Equal(t, enrollment.Rating{Results: tt.res, Staff: tt.staff, Means: tt.means, Satisfaction: tt.sa}, r)
				return
			}
			require.ErrorIs(t, err, funding.ErrInvalid)
			var ve *funding.ValidationError
			require.True(t, errors.As(err, &ve))
			require.Equal(t, tt.field, ve.Field)
		})
	}
}

func TestCanRateStatus(t *testing.T) {
	ended := d(2025, time.December, 31)
	tests := []struct {
		name string
		s    enrollment.Status
		on   funding.Date
		ok   bool
	}{
		{"active", enrollment.Active, d(2025, time.October, 1), true},
		{"closed on the day it ended", enrollment.Closed, ended, true},
		{"closed a month later", enrollment.Closed, d(2026, time.January, 31), true},
		{"closed a month and a day later", enrollment.Closed, d(2026, time.February, 1), false},
		{"terminating within the month", enrollment.Terminating, d(2026, time.January, 15), true},
		{"requested", enrollment.Requested, d(2025, time.October, 1), false},
		{"accepted", enrollment.Accepted, d(2025, time.October, 1), false},
		{"refused", enrollment.Refused, d(2025, time.October, 1), false},
		{"withdrawn", enrollment.Withdrawn, d(2025, time.October, 1), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := enrollment.CanRateStatus(tt.s, ended, tt.on, 1)
			if tt.ok {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, enrollment.ErrRatingClosed)
			var re *funding.RuleError
			require.True(t, errors.As(err, &re))
			require.Equal(t, "rating_not_allowed", re.Code)
		})
	}
}

func TestCanRateContract(t *testing.T) {
	c := enrollment.Contract{Status: enrollment.Closed, End: d(2025, time.December, 31), ClosedOn: d(2025, time.October, 31)}
	require.NoError(t, enrollment.CanRate(c, d(2025, time.November, 30), 1))
	require.ErrorIs(t, enrollment.CanRate(c, d(2025, time.December, 1), 1), enrollment.ErrRatingClosed)

	// A region's window of three months.
	require.NoError(t, enrollment.CanRate(c, d(2026, time.January, 31), 3))
	require.ErrorIs(t, enrollment.CanRate(c, d(2026, time.February, 1), 3), enrollment.ErrRatingClosed)

	c = enrollment.Contract{Status: enrollment.Terminating, End: d(2025, time.December, 31), TerminatedOn: d(2025, time.October, 20)}
	require.NoError(t, enrollment.CanRate(c, d(2025, time.November, 30), 1))
	require.ErrorIs(t, enrollment.CanRate(c, d(2025, time.December, 1), 1), enrollment.ErrRatingClosed)
}

func TestProgramScore(t *testing.T) {
	dec := decimal.RequireFromString
	r := func(v int) enrollment.Rating {
		return enrollment.Rating{Results: v, Staff: v, Means: v, Satisfaction: v}
	}

	got := enrollment.ProgramScore(nil)
	require.True(t, got.Results.IsZero())
	require.Equal(t, 0, got.Active+got.Closed)

	// (100 + 2·90) / (1 + 2) = 93.333… → 93.33
	got = enrollment.ProgramScore([]enrollment.ScoredRating{{Rating: r(100)}, {Rating: r(90), Closed: true}})
	require.True(t, dec("93.33").Equal(got.Results), got.Results.String())
	require.Equal(t, 1, got.Active)
	require.Equal(t, 1, got.Closed)

	// Closed weighs double: (100 + 2·40 + 2·50) / (1 + 4) = 56; unweighted would be 63.33.
	got = enrollment.ProgramScore([]enrollment.ScoredRating{
		{Rating: enrollment.Rating{Results: 100, Staff: 0, Means: 10, Satisfaction: 100}},
		{Rating: enrollment.Rating{Results: 40, Staff: 50, Means: 10, Satisfaction: 0}, Closed: true},
		{Rating: enrollment.Rating{Results: 50, Staff: 50, Means: 10, Satisfaction: 0}, Closed: true},
	})
	require.True(t, dec("56").Equal(got.Results), got.Results.String())
	require.True(t, dec("40").Equal(got.Staff), got.Staff.String())
	require.True(t, dec("10").Equal(got.Means), got.Means.String())
	require.True(t, dec("20").Equal(got.Satisfaction), got.Satisfaction.String())

	// Half rounds away from zero: 10/16 = 0.625 → 0.63.
	rs := []enrollment.ScoredRating{{Rating: r(10)}}
	for range 15 {
		rs = append(rs, enrollment.ScoredRating{Rating: r(0)})
	}
	got = enrollment.ProgramScore(rs)
	require.True(t, dec("0.63").Equal(got.Results), got.Results.String())
}
