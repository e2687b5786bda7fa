package certificate

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/edufund/edufund/funding"
)

// allowed is the expectation written independently of the table in status.go,
// straight from rules.md.
var allowed = []struct{ from, to Status }{
	{Issued, Active},
	{Active, Suspended},
	{Suspended, Active},
	{Issued, Cancelled},
	{Active, Cancelled},
	{Suspended, Cancelled},
	{Issued, Expired},
	{Active, Expired},
	{Suspended, Expired},
}

func isAllowed(from, to Status) bool {
	for _, a := range allowed {
		if a.from == from && a.to == to {
			return true
		}
	}
	return false
}

func TestTransitionEveryPair(t *testing.T) {
	all := append(Statuses(), Status(""), Status("frozen"))
	forbidden := 0
	for _, from := range all {
		for _, to := range all {
			err := Transition(from, to)
			if isAllowed(from, to) {
				require.NoError(t, err, "%s → %s", from, to)
				continue
			}
			forbidden++
			require.Error(t, err, "%s → %s must be forbidden", from, to)
			require.ErrorIs(t, err, ErrForbiddenTransition)
			var te *TransitionError
			require.True(t, errors.As(err, &te))
			require.Equal(t, from, te.From)
			require.Equal(t, to, te.To)
		}
	}
	require.Equal(t, len(all)*len(all)-len(allowed), forbidden)
}

func TestStatusTerminal(t *testing.T) {
	for _, s := range Statuses() {
		want := s == Cancelled || s == Expired
		require.Equal(t, want, s.Terminal(), s)
		require.True(t, s.Valid())
	}
	require.False(t, Status("frozen").Valid())
	require.False(t, Status("frozen").Terminal())
}

func TestCertificateMethods(t *testing.T) {
	type op struct {
		name string
		f    func(*Certificate) error
		to   Status
	}
	ops := []op{
		{"activate", (*Certificate).Activate, Active},
		{"suspend", (*Certificate).Suspend, Suspended},
		{"resume", (*Certificate).Resume, Active},
		{"cancel", (*Certificate).Cancel, Cancelled},
		{"expire", (*Certificate).Expire, Expired},
	}
	// Operation meaning narrows the table: activate only from Issued, resume only from Suspended.
	want := map[string]map[Status]bool{
		"activate": {Issued: true},
		"suspend":  {Active: true},
		"resume":   {Suspended: true},
		"cancel":   {Issued: true, Active: true, Suspended: true},
		"expire":   {Issued: true, Active: true, Suspended: true},
	}
	for _, o := range ops {
		for _, from := range Statuses() {
			c := Certificate{Status: from}
			err := o.f(&c)
			if want[o.name][from] {
				require.NoError(t, err, "%s from %s", o.name, from)
				require.Equal(t, o.to, c.Status)
				continue
			}
			require.ErrorIs(t, err, ErrForbiddenTransition, "%s from %s", o.name, from)
			require.Equal(t, from, c.Status, "status unchanged after a refusal")
		}
	}
}

func TestExpireIfDue(t *testing.T) {
	until := funding.MustDate(2025, 12, 31)
	tests := []struct {
		name   string
		status Status
		on     funding.Date
		want   bool
		after  Status
	}{
		{"last valid day", Active, until, false, Active},
		{"day after", Active, until.AddDays(1), true, Expired},
		{"suspended day after", Suspended, until.AddDays(1), true, Expired},
		{"cancelled stays", Cancelled, until.AddDays(1), false, Cancelled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Certificate{Status: tt.status, ValidUntil: until}
			require.Equal(t, tt.want, c.ExpireIfDue(tt.on))
			require.Equal(t, tt.after, c.Status)
		})
	}
}
