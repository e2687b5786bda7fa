package enrollment_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/funding"
)

// allowed is written out from rules.md independently of the transition table.
var allowed = map[[2]enrollment.Status]bool{
	{enrollment.Requested, enrollment.Accepted}:  true,
	{enrollment.Requested, enrollment.Refused}:   true,
	{enrollment.Requested, enrollment.Withdrawn}: true,
	{enrollment.Accepted, enrollment.Active}:     true,
	{enrollment.Accepted, enrollment.Refused}:    true,
	{enrollment.Accepted, enrollment.Withdrawn}:  true,
	{enrollment.Active, enrollment.Terminating}:  true,
	{enrollment.Active, enrollment.Closed}:       true,
	{enrollment.Terminating, enrollment.Closed}:  true,
}

func TestTransitionEveryPair(t *testing.T) {
	all := []enrollment.Status{"requested", "accepted", "active", "terminating", "closed", "refused", "withdrawn", "bogus"}
	require.Len(t, enrollment.Statuses, 7)
	n := 0
	for _, from := range all {
		for _, to := range all {
			err := enrollment.Transition(from, to)
			if allowed[[2]enrollment.Status{from, to}] {
				require.NoError(t, err, "%s → %s", from, to)
				n++
				continue
			}
			require.Error(t, err, "%s → %s", from, to)
			require.ErrorIs(t, err, enrollment.ErrForbiddenTransition)
			var te *enrollment.TransitionError
			require.True(t, errors.As(err, &te))
			require.Equal(t, from, te.From)
			require.Equal(t, to, te.To)
		}
	}
	require.Equal(t, len(allowed), n)
}

func TestLiveAndTerminal(t *testing.T) {
	tests := []struct {
		s              enrollment.Status
		live, terminal bool
	}{
		{enrollment.Requested, true, false},
		{enrollment.Accepted, true, false},
		{enrollment.Active, true, false},
		{enrollment.Terminating, false, false},
		{enrollment.Closed, false, true},
		{enrollment.Refused, false, true},
		{enrollment.Withdrawn, false, true},
	}
	for _, tt := range tests {
		require.Equal(t, tt.live, tt.s.Live(), "%s live", tt.s)
		require.Equal(t, tt.terminal, tt.s.Terminal(), "%s terminal", tt.s)
		require.True(t, tt.s.Known())
	}
	require.False(t, enrollment.Status("bogus").Known())
}

func TestCanAccept(t *testing.T) {
	for _, st := range []certificate.Status{certificate.Issued, certificate.Suspended, certificate.Cancelled, certificate.Expired} {
		err := enrollment.CanAccept(certificate.Certificate{Number: "1234567890", Status: st})
		require.ErrorIs(t, err, enrollment.ErrCertificateNotActive, st)
		var re *funding.RuleError
		require.True(t, errors.As(err, &re))
		require.Equal(t, "certificate_not_active", re.Code)
	}
	require.NoError(t, enrollment.CanAccept(certificate.Certificate{Status: certificate.Active}))
}

// allowedOnPaper is the paper path written out from seed 004 independently
// of paperTransitions: only an application or an offer becomes active.
var allowedOnPaper = map[[2]enrollment.Status]bool{
	{enrollment.Requested, enrollment.Active}: true,
	{enrollment.Accepted, enrollment.Active}:  true,
}

func TestTransitionOnPaperEveryPair(t *testing.T) {
	all := []enrollment.Status{"requested", "accepted", "active", "terminating", "closed", "refused", "withdrawn", "bogus"}
	n := 0
	for _, from := range all {
		for _, to := range all {
			err := enrollment.TransitionOnPaper(from, to)
			if allowedOnPaper[[2]enrollment.Status{from, to}] {
				require.NoError(t, err, "%s → %s", from, to)
				n++
				continue
			}
			require.ErrorIs(t, err, enrollment.ErrForbiddenTransition, "%s → %s", from, to)
			var te *enrollment.TransitionError
			require.True(t, errors.As(err, &te))
			require.Equal(t, from, te.From)
			require.Equal(t, to, te.To)
		}
	}
	require.Equal(t, len(allowedOnPaper), n)
	// The direct move is the paper path's alone.
	require.ErrorIs(t, enrollment.Transition(enrollment.Requested, enrollment.Active), enrollment.ErrForbiddenTransition)
}

func TestActivateOnPaperDates(t *testing.T) {
	on := funding.MustDate(2026, 10, 5)
	for _, from := range enrollment.Statuses {
		c := enrollment.Contract{Status: from}
		err := c.ActivateOnPaper(on)
		if !allowedOnPaper[[2]enrollment.Status{from, enrollment.Active}] {
			require.ErrorIs(t, err, enrollment.ErrForbiddenTransition, from)
			require.Equal(t, from, c.Status)
			continue
		}
		require.NoError(t, err, from)
		require.Equal(t, enrollment.Active, c.Status)
		require.Equal(t, on, c.ActivatedOn)
		require.Equal(t, from == enrollment.Requested, c.OfferedOn == on, from)
	}
}
