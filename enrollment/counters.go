package enrollment

import (
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
)

// SortCounterKeys sorts counter keys into the order every transaction
// takes them in: seats, program, provider, direction, then budget, each
// class by key. The seats come first because a batch under locks locks its
// groups' seats when it reads them and the other counts only at its end;
// with the seats anywhere else, a batch and a single submission or release
// could each hold what the other waits for (deadlocks, which PostgreSQL
// breaks only after deadlock_timeout, one second by default).
func SortCounterKeys(keys []string) {
	slices.SortFunc(keys, CompareCounterKeys)
}

// CompareCounterKeys orders two counter keys as SortCounterKeys does.
func CompareCounterKeys(a, b string) int {
	if ca, cb := ClassOf(a), ClassOf(b); ca != cb {
		return int(ca) - int(cb)
	}
	return strings.Compare(a, b)
}

// CounterClass is what a counter counts. The classes are numbered in the
// order of SortCounterKeys.
type CounterClass int

const (
	SeatsCounter     CounterClass = iota // a group's seats
	ProgramCounter                       // a program's live contracts
	ProviderCounter                      // a provider's live contracts
	DirectionCounter                     // a municipality's live contracts in a direction and period
	BudgetCounter                        // a municipality's budget of a period, in kopecks
	OtherCounter                         // the rest: categories, the adult quota
)

// ClassOf tells what the counter of key counts.
func ClassOf(key string) CounterClass {
	for i, p := range []string{"seats:", "program:", "provider:", "direction:", "budget:"} {
		if strings.HasPrefix(key, p) {
			return SeatsCounter + CounterClass(i)
		}
	}
	return OtherCounter
}

// SubmitCounters lists the counters Enrol reads and takes for application
// r to offer o by a certificate of municipality mun, received at: its
// group's seats, its program's and provider's live contracts, and its
// municipality's direction count and budget for the period its contract
// would fall in. A batch runner reads them all before it runs its
// applications.
func (s *Service) SubmitCounters(mun string, o Offer, r SubmitRequest, at time.Time) []string {
	period := s.cfg.PeriodOf(startOf(r, o, s.dateOf(at)))
	return []string{
		programKey(o.Program.ID), providerKey(o.Provider.ID),
		directionKey(mun, string(o.Program.Direction), period),
		seatsKey(o.Group.ID), budgetKey(mun, period),
	}
}

// SeatsKey is the counter of a group's seats, for a batch runner that does
// not know the group's offer yet (SubmitCounters names it with the rest).
func SeatsKey(group uuid.UUID) string { return seatsKey(group) }
