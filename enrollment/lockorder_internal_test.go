package enrollment

import (
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/funding"
)

// TestCounterLockOrder pins the one order in which every transaction takes
// counters: Submit and the releases (limits), the batch under locks (its
// seats when it reads them, the rest at its end) and the optimistic batch
// (SortCounterKeys). If they disagree, a batch and a single submission can
// each hold a counter the other waits for; in the fault test that was about
// one deadlock a second, each costing its transactions deadlock_timeout.
func TestCounterLockOrder(t *testing.T) {
	start := funding.DateOf(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	end := funding.DateOf(time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC))
	period, err := funding.NewPeriod(start, end)
	if err != nil {
		t.Fatal(err)
	}
	c := Contract{
		ID: uuid.New(), GroupID: uuid.New(), ProgramID: uuid.New(), ProviderID: uuid.New(),
		Municipality: "mun-1", Direction: "technical_robotics", Period: period, Scheme: certificate.Supplementary,
	}
	var keys []string
	for _, k := range limits(c, funding.Kopecks(100000)) {
		keys = append(keys, k.key)
	}
	if len(keys) != 5 {
		t.Fatalf("limits: %d counters %v, want seats, program, provider, direction and budget", len(keys), keys)
	}
	sorted := slices.Clone(keys)
	SortCounterKeys(sorted)
	if !slices.Equal(keys, sorted) {
		t.Errorf("Submit takes %v, the batches lock %v: one order for both, or they deadlock", keys, sorted)
	}
	// The batch under locks locks its seats when it reads them, before any
	// other count: the seats must come first in the order.
	if ClassOf(sorted[0]) != SeatsCounter {
		t.Errorf("the order starts with %s, want the group's seats", sorted[0])
	}
	if ClassOf(sorted[len(sorted)-1]) != BudgetCounter {
		t.Errorf("the order ends with %s, want the budget (the hottest row, held the shortest)", sorted[len(sorted)-1])
	}
}
