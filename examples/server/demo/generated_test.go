package demo

import (
	"testing"

	"github.com/google/uuid"

	"github.com/edufund/edufund/catalog"
	"github.com/edufund/edufund/funding"
)

// TestGenerated: the demo's generated catalogue has GeneratedPrograms
// valid programs in its municipalities, none that the walkthrough's
// robotics queries would find, the same every time for a year and with
// other ids another year.
func TestGenerated(t *testing.T) {
	period := funding.CalendarYear(2026)
	c := generate(period)
	if len(c.Programs) != GeneratedPrograms {
		t.Fatalf("%d programs, want %d", len(c.Programs), GeneratedPrograms)
	}
	providers := map[uuid.UUID]catalog.Provider{}
	for _, p := range c.Providers {
		if _, err := catalog.NewProvider(p); err != nil || !p.HasAgreement(p.Municipality, period.Start) {
			t.Fatalf("provider %q: %v, agreements %v", p.Name, err, p.Agreements)
		}
		providers[p.ID] = p
	}
	muns := map[string]int{}
	for _, p := range c.Programs {
		if _, err := catalog.NewProgram(p.Program); err != nil {
			t.Fatalf("program %q: %v", p.Name, err)
		}
		if _, ok := providers[p.ProviderID]; !ok || p.Module.ProgramID != p.ID || len(p.Groups) != 1 || p.Groups[0].ModuleID != p.Module.ID {
			t.Fatalf("program %q: its provider, module or group is not its own", p.Name)
		}
		if g := p.Groups[0]; !period.Contains(g.Start) || !period.Contains(g.End) {
			t.Fatalf("group of %q runs %s–%s, outside %s", p.Name, g.Start, g.End, period)
		}
		if robotic(p.Program, providers[p.ProviderID].Name) {
			t.Fatalf("program %q would answer the walkthrough's robotics queries", p.Name)
		}
		muns[p.Municipality]++
	}
	if muns[MunCity] == 0 || muns[MunRural] == 0 || len(muns) != 2 {
		t.Fatalf("programs by municipality: %v", muns)
	}
	again := generate(period)
	if again.Programs[0].ID != c.Programs[0].ID || again.Programs[GeneratedPrograms-1].Name != c.Programs[GeneratedPrograms-1].Name {
		t.Fatal("the generated catalogue differs between two runs")
	}
	if next := generate(funding.CalendarYear(2027)); next.Programs[0].ID == c.Programs[0].ID {
		t.Fatal("another year's generated programs have the same ids")
	}
}
