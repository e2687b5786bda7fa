package catalog

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"github.com/edufund/edufund/funding"
)

// Session is one weekly meeting of a group: the day of the week (1 is
// Monday, 7 Sunday, as the Russian week counts), the times it starts and
// ends ("HH:MM", local to the region) and where it meets ("" is the
// group's address, or else its provider's).
type Session struct {
	Weekday int
	Start   string
	End     string
	Place   string
}

// MaxSessions bounds a group's weekly meetings: two a day every day.
const MaxSessions = 14

// Minutes parses an "HH:MM" time of day into minutes after midnight.
func Minutes(hhmm string) (int, error) {
	t, err := time.Parse("15:04", hhmm)
	if err != nil || len(hhmm) != 5 {
		return 0, fmt.Errorf("%q is not a time HH:MM", hhmm)
	}
	return t.Hour()*60 + t.Minute(), nil
}

// NewSessions validates a group's sessions and orders them by day and
// start: weekday 1–7, start and end times HH:MM with end after start, the
// place cleaned by funding.Text (at most MaxAddressLen characters), at
// most MaxSessions, and no two overlapping on one day. The field of an
// error names the session: sessions[2].end.
func NewSessions(ss []Session) ([]Session, error) {
	if len(ss) == 0 {
		return nil, nil
	}
	if len(ss) > MaxSessions {
		return nil, invalid("sessions", fmt.Sprintf("must hold at most %d sessions", MaxSessions), len(ss))
	}
	out := make([]Session, len(ss))
	for i, s := range ss {
		field := func(f string) string { return fmt.Sprintf("sessions[%d].%s", i, f) }
		if s.Weekday < 1 || s.Weekday > 7 {
			return nil, invalid(field("weekday"), "must be between 1 (Monday) and 7 (Sunday)", s.Weekday)
		}
		start, err := Minutes(s.Start)
		if err != nil {
			return nil, invalid(field("start"), "must be a time HH:MM", s.Start)
		}
		end, err := Minutes(s.End)
		if err != nil {
			return nil, invalid(field("end"), "must be a time HH:MM", s.End)
		}
		if end <= start {
			return nil, invalid(field("end"), "must be after start "+s.Start, s.End)
		}
		if s.Place, err = funding.Text(field("place"), s.Place, MaxAddressLen); err != nil {
			return nil, err
		}
		out[i] = s
	}
	slices.SortStableFunc(out, CompareSessions)
	for i := 1; i < len(out); i++ {
		if out[i].Weekday == out[i-1].Weekday && out[i].Start < out[i-1].End {
			return nil, invalid("sessions", fmt.Sprintf("overlap on weekday %d: %s–%s and %s–%s",
				out[i].Weekday, out[i-1].Start, out[i-1].End, out[i].Start, out[i].End), nil)
		}
	}
	return out, nil
}

// CompareSessions orders sessions by weekday, then start, then end.
// Validated times are HH:MM, so they compare as text.
func CompareSessions(a, b Session) int {
	return cmp.Or(cmp.Compare(a.Weekday, b.Weekday), cmp.Compare(a.Start, b.Start), cmp.Compare(a.End, b.End))
}
