package enrollment

import (
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"

	"github.com/edufund/edufund/funding"
)

// TestCounterKeys checks the keys of the counters an application takes,
// made as one string each: their text, and one allocation a key.
func TestCounterKeys(t *testing.T) {
	p := funding.Period{Start: funding.MustDate(2026, time.September, 1), End: funding.MustDate(2027, time.August, 31)}
	assert.Equal(t, "budget:novograd:2026-09-01", budgetKey("novograd", p))
	assert.Equal(t, "direction:novograd:tech:2026-09-01", directionKey("novograd", "tech", p))
	assert.Equal(t, "budget:novograd:", budgetKey("novograd", funding.Period{}), "the zero period has no first day")
	id := uuid.MustParse("01890a5d-ac96-774b-bcce-b302099a8057")
	assert.Equal(t, "seats:"+id.String(), seatsKey(id))
	assert.Equal(t, "program:"+id.String(), programKey(id))
	assert.Equal(t, "provider:00000000-0000-0000-0000-000000000000", providerKey(uuid.Nil))
	for name, f := range map[string]func(){
		"seats":     func() { _ = seatsKey(id) },
		"budget":    func() { _ = budgetKey("novograd", p) },
		"direction": func() { _ = directionKey("novograd", "tech", p) },
	} {
		assert.LessOrEqual(t, testing.AllocsPerRun(10, f), 1.0, name)
	}
}
