package enrollment_test

import (
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/edufund/edufund/catalog"
	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/funding"
)

func TestCanProlong(t *testing.T) {
	end := d(2025, time.December, 31)
	tests := []struct {
		name string
		c    enrollment.Contract
		on   funding.Date
		ok   bool
	}{
		{"closed at its end", enrollment.Contract{Status: enrollment.Closed, End: end, ClosedOn: end}, d(2026, time.January, 5), true},
		{"active, ending this month", enrollment.Contract{Status: enrollment.Active, End: end}, d(2025, time.December, 20), true},
		{"active, ended, not yet closed", enrollment.Contract{Status: enrollment.Active, End: end}, d(2026, time.January, 1), true},
		{"active, ending next month", enrollment.Contract{Status: enrollment.Active, End: end}, d(2025, time.November, 30), false},
		{"terminating", enrollment.Contract{Status: enrollment.Terminating, End: end, TerminatedOn: d(2025, time.October, 20)}, d(2026, time.January, 5), false},
		{"closed after termination", enrollment.Contract{Status: enrollment.Closed, End: end, ClosedOn: d(2025, time.October, 31), TerminatedOn: d(2025, time.October, 20)}, d(2026, time.January, 5), false},
		{"closed before its end", enrollment.Contract{Status: enrollment.Closed, End: end, ClosedOn: d(2025, time.October, 31)}, d(2026, time.January, 5), false},
		{"refused", enrollment.Contract{Status: enrollment.Refused, End: end}, d(2026, time.January, 5), false},
		{"withdrawn", enrollment.Contract{Status: enrollment.Withdrawn, End: end}, d(2026, time.January, 5), false},
		{"requested", enrollment.Contract{Status: enrollment.Requested, End: end}, d(2026, time.January, 5), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := enrollment.CanProlong(tt.c, tt.on)
			if tt.ok {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, enrollment.ErrNotProlongable)
			var re *funding.RuleError
			require.True(t, errors.As(err, &re))
			require.Equal(t, "not_prolongable", re.Code)
		})
	}
}

func TestProlong(t *testing.T) {
	c := exampleContract(enrollment.Closed, d(2025, time.August, 20))
	c.ClosedOn = c.End
	c.ProgramID = uuid.MustParse("01890000-0000-7000-8000-0000000000a1")
	c.GroupID = uuid.MustParse("01890000-0000-7000-8000-0000000000a2")
	c.ModuleID = uuid.MustParse("01890000-0000-7000-8000-0000000000a3")
	mod := catalog.Module{ID: c.ModuleID, ProgramID: c.ProgramID}
	// The same group for the next period: starts the day after the old end.
	same := catalog.Group{ID: c.GroupID, ModuleID: c.ModuleID, Start: d(2025, time.September, 1), End: d(2026, time.May, 31)}
	on := d(2025, time.December, 29)
	n, err := enrollment.Prolong(c, same, mod, on)
	require.NoError(t, err)
	require.NotEqual(t, uuid.Nil, n.ID)
	require.NotEqual(t, c.ID, n.ID)
	require.Equal(t, c.ID, n.ProlongedFrom)
	require.Equal(t, enrollment.Accepted, n.Status)
	require.Equal(t, on, n.OfferedOn)
	require.Equal(t, d(2026, time.January, 1), n.Start)
	require.Equal(t, d(2026, time.May, 31), n.End)
	require.Equal(t, c.CertificateID, n.CertificateID)
	require.Equal(t, c.ProviderID, n.ProviderID)
	require.Equal(t, c.Municipality, n.Municipality)
	require.Equal(t, c.ProgramID, n.ProgramID)

	// The next module, starting later than the old contract's end.
	next := catalog.Module{ID: uuid.MustParse("01890000-0000-7000-8000-0000000000b3"), ProgramID: c.ProgramID}
	g := catalog.Group{ID: uuid.MustParse("01890000-0000-7000-8000-0000000000b2"), ModuleID: next.ID, Start: d(2026, time.February, 1), End: d(2026, time.May, 31)}
	n, err = enrollment.Prolong(c, g, next, on)
	require.NoError(t, err)
	require.Equal(t, d(2026, time.February, 1), n.Start)
	require.Equal(t, next.ID, n.ModuleID)
	require.Equal(t, g.ID, n.GroupID)

	// Offered late: no back-dating, starts on the day of the offer.
	n, err = enrollment.Prolong(c, same, mod, d(2026, time.January, 12))
	require.NoError(t, err)
	require.Equal(t, d(2026, time.January, 12), n.Start)

	// A group that is over.
	over := same
	over.End = d(2025, time.December, 31)
	_, err = enrollment.Prolong(c, over, mod, on)
	require.ErrorIs(t, err, enrollment.ErrProlongationTarget)

	// The module is not the group's.
	_, err = enrollment.Prolong(c, g, mod, on)
	require.ErrorIs(t, err, funding.ErrInvalid)

	// A terminated contract.
	c.TerminatedOn = d(2025, time.December, 2)
	_, err = enrollment.Prolong(c, same, mod, on)
	require.ErrorIs(t, err, enrollment.ErrNotProlongable)
}

func TestSilenceAccepts(t *testing.T) {
	offered := d(2026, time.January, 1)
	tests := []struct {
		on   funding.Date
		days int
		want bool
	}{
		{offered, 7, false},
		{d(2026, time.January, 7), 7, false},
		{d(2026, time.January, 8), 7, true},
		{d(2026, time.January, 30), 7, true},
		{d(2026, time.January, 7), 0, false}, // default 7
		{d(2026, time.January, 8), 0, true},
		{d(2026, time.January, 3), 2, true},
		{d(2026, time.January, 2), 2, false},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, enrollment.SilenceAccepts(offered, tt.on, tt.days), "%s, %d days", tt.on, tt.days)
	}
}

func TestOfferOutcome(t *testing.T) {
	offered := d(2026, time.January, 1)
	early, late := d(2026, time.January, 3), d(2026, time.January, 8)
	require.Equal(t, enrollment.Accepted, enrollment.OfferOutcome(offered, early, 7, enrollment.NoAnswer))
	require.Equal(t, enrollment.Active, enrollment.OfferOutcome(offered, late, 7, enrollment.NoAnswer))
	require.Equal(t, enrollment.Active, enrollment.OfferOutcome(offered, early, 7, enrollment.Agree))
	require.Equal(t, enrollment.Withdrawn, enrollment.OfferOutcome(offered, early, 7, enrollment.Decline))
	// Every outcome is a move the state machine allows from the offer.
	for _, s := range []enrollment.Status{enrollment.Active, enrollment.Withdrawn} {
		require.NoError(t, enrollment.Transition(enrollment.Accepted, s))
	}
}
