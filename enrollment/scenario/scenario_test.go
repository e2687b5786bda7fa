package scenario_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/enrollment/scenario"
	"github.com/edufund/edufund/enrollment/scenario/scenariotest"
	"github.com/edufund/edufund/storage"
)

// checked is a store whose invariants are checked after each scenario.
type checked struct{ *storage.DB }

func (c checked) CheckInvariants(ctx context.Context) error {
	return storage.CheckInvariants(ctx, c.DB)
}

// memory opens a fresh, migrated in-memory SQLite store.
func memory(ctx context.Context) (enrollment.Store, error) {
	db, err := storage.Open(ctx, "sqlite::memory:")
	if err != nil {
		return nil, err
	}
	if err := db.Migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return checked{db}, nil
}

// TestScenarios runs every scenario file of the repository.
func TestScenarios(t *testing.T) {
	scenariotest.Run(t, "../../examples/scenarios/*.yaml", memory)
}

// base is a small scenario that runs; the tests below break it.
const base = `name: base
region:
  time_zone: Europe/Moscow
  children: {municipalities: [mun-1]}
categories:
  - {code: city, nominal: "30000.00"}
people:
  parent: {}
  misha: {born: 2015-03-10, sex: male}
catalog:
  school:
    agreements: [{period: 2025-01-01..2025-12-31}]
    programs:
      robotics:
        modules:
          basics:
            price: "3000.00"
            normative_price: "3000.00"
            groups:
              g1: {start: 2025-02-01, end: 2025-05-31, capacity: 1}
events:
  - on: 2025-01-10
    issue: {child: misha, guardian: parent, category: city, funded: true}
  - submit: {certificate: misha, group: g1}
    as: k1
  - expect:
      contract:
        k1: {status: requested, cert: "3000.00"}
      cabinet:
        misha: {balance: "27000.00", reserved: "3000.00"}
`

// replace is base with old replaced by new, which must be in it.
func replace(t *testing.T, old, new string) []byte {
	t.Helper()
	if !strings.Contains(base, old) {
		t.Fatalf("base has no %q", old)
	}
	return []byte(strings.Replace(base, old, new, 1))
}

// TestParseErrors: a broken file is refused with an error naming the
// file, the line and the key, wherever the mistake is.
func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		name, old, new string
		line           int
		key, msg       string
	}{
		{"unknown top-level key", "name: base", "name: base\nnmae: typo", 2, "nmae", "is not a known key here"},
		{"unknown region key", "  time_zone: Europe/Moscow", "  time_zone: Europe/Moscow\n  timezone: UTC", 4, "region.timezone", "is not a known key"},
		{"unknown key in a group", "capacity: 1}", "capacity: 1, seats: 2}", 20, "catalog.school.programs.robotics.modules.basics.groups.g1.seats", "is not a known key"},
		{"unknown key in an event", "    as: k1", "    as: k1\n    when: now", 26, "events[1].when", "is not an event kind nor a key of an event"},
		{"unknown event kind", "  - submit:", "  - sumbit:", 24, "events[1].sumbit", "is not an event kind"},
		{"unknown key in an event's arguments", "group: g1}", "group: g1, grup: g2}", 24, "events[1].submit.grup", "is not a known key"},
		{"unknown key in an expectation", "k1: {status: requested,", "k1: {stauts: requested,", 28, "events[2].expect.contract.k1.stauts", "is not a known key"},
		{"two kinds in one event", "    as: k1", "    as: k1\n    confirm: k1", 26, "events[1].confirm", "second event kind"},
		{"no kind", "  - submit: {certificate: misha, group: g1}\n    as: k1", "  - as: k1", 24, "events[1]", "names no event kind"},
		{"as: on an event that creates no contract", "    issue: {child", "    as: x\n    issue: {child", 22, "events[0].as", "creates none"},
		{"an amount with three decimals", `nominal: "30000.00"`, `nominal: "30000.001"`, 6, "categories[0].nominal", "at most two decimals"},
		{"an amount with a comma", `price: "3000.00"`, `price: "3000,00"`, 17, "catalog.school.programs.robotics.modules.basics.price", "must be digits"},
		{"a bad date", "born: 2015-03-10", "born: 2015-02-30", 9, "people.misha.born", "YYYY-MM-DD"},
		{"a bad period", "2025-01-01..2025-12-31", "2025-12-31..2025-01-01", 12, "catalog.school.agreements[0].period", "must not be before"},
		{"a bad caller", "    as: k1", "    as: k1\n    by: parent", 26, "events[1].by", "must be holder, provider"},
		{"a bad number", "capacity: 1}", "capacity: one}", 20, "catalog.school.programs.robotics.modules.basics.groups.g1.capacity", "whole number"},
		{"a missing required key", "    issue: {child: misha, guardian", "    issue: {guardian", 23, "events[0].issue.child", "is required"},
		{"a key given twice", "sex: male}", "sex: male, sex: female}", 9, "people.misha.sex", "given twice"},
		{"a name used twice", "  parent: {}", "  parent: {}\n  g1: {}", 21, "catalog.school.programs.robotics.modules.basics.groups.g1", "already used by a person"},
		{"a list where a mapping goes", "  parent: {}\n  misha: {born: 2015-03-10, sex: male}", "  - parent\n  - misha", 8, "people", "mapping of names"},
		{"no time zone", "  time_zone: Europe/Moscow\n", "", 2, "region.time_zone", "is required"},
		{"a wrong time zone", "Europe/Moscow", "Europe/Mordor", 3, "region.time_zone", "IANA time zone"},
		{"no events", "events:", "evnts:", 21, "evnts", "is not a known key"},
		{"not YAML", "  - submit: {certificate: misha, group: g1}", "  - submit: {certificate: misha, group: g1", 24, "", "not valid YAML"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := scenario.Parse("broken.yaml", replace(t, tc.old, tc.new))
			var se *scenario.Error
			if !errors.As(err, &se) {
				t.Fatalf("Parse = %v, want a *scenario.Error", err)
			}
			if se.File != "broken.yaml" || se.Line != tc.line || se.Key != tc.key || !strings.Contains(se.Msg, tc.msg) {
				t.Errorf("Parse = %q (line %d, key %q), want line %d, key %q, saying %q", se, se.Line, se.Key, tc.line, tc.key, tc.msg)
			}
			if !strings.HasPrefix(se.Error(), fmt.Sprintf("broken.yaml:%d: ", tc.line)) {
				t.Errorf("Error() = %q, want it to start with file:line", se)
			}
		})
	}
}

// TestRegionFile: a scenario reads a region file, its own region keys
// override the file's, and a mistake in the file is named in the file.
func TestRegionFile(t *testing.T) {
	for _, tc := range []struct {
		name, file, inline string
		errFile            string // "" when the scenario reads
		line               int
		key                string
	}{
		{"read", `{"name": "R", "time_zone": "Asia/Novosibirsk", "children": {"municipalities": ["mun-1"]}}`, "", "", 0, ""},
		{"an unknown key", "{\n  \"name\": \"R\",\n  \"time_zon\": \"UTC\"\n}", "", "region.json", 3, "time_zon"},
		{"a wrong value", "{\n  \"name\": \"R\",\n  \"time_zone\": \"Mars/Base\",\n  \"children\": {\"municipalities\": [\"mun-1\"]}\n}", "", "region.json", 3, "region.time_zone"},
		{"a wrong value overridden", `{"time_zone": "Mars/Base", "children": {"municipalities": ["mun-1"]}}`, "region:\n  time_zone: UTC\n", "", 0, ""},
		{"a wrong override", `{"time_zone": "UTC", "children": {"municipalities": ["mun-1"]}}`, "region:\n  time_zone: Mars/Base\n", "s.yaml", 4, "region.time_zone"},
		{"a key missing from both", `{"time_zone": "UTC"}`, "", "s.yaml", 2, "region.children.municipalities"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "region.json"), []byte(tc.file), 0o600); err != nil {
				t.Fatal(err)
			}
			b := replace(t, "region:\n  time_zone: Europe/Moscow\n  children: {municipalities: [mun-1]}\n", "region_file: region.json\n"+tc.inline)
			sc, err := scenario.Parse(filepath.Join(dir, "s.yaml"), b)
			if tc.errFile == "" {
				if err != nil {
					t.Fatal(err)
				}
				if res := sc.Run(t.Context(), memory); !res.Passed() {
					t.Fatal(res.Report())
				}
				return
			}
			var se *scenario.Error
			if !errors.As(err, &se) || se.File != filepath.Join(dir, tc.errFile) || se.Line != tc.line || se.Key != tc.key {
				t.Fatalf("Parse = %v, want an error at %s:%d naming %s", err, tc.errFile, tc.line, tc.key)
			}
		})
	}
}

// run parses b and runs it on a fresh in-memory store.
func run(t *testing.T, b []byte) scenario.Result {
	t.Helper()
	sc, err := scenario.Parse("s.yaml", b)
	if err != nil {
		t.Fatal(err)
	}
	return sc.Run(t.Context(), memory)
}

// TestRunFailures: what the services do otherwise than the file says is
// reported as a diff of want and got at the expectation's line, or as the
// event's error at its line.
func TestRunFailures(t *testing.T) {
	for _, tc := range []struct {
		name, old, new string
		want           []string // the failures, as printed
	}{
		{"as the file says", "", "", nil},
		{"a wrong amount and status", `k1: {status: requested, cert: "3000.00"}`, `k1: {status: accepted, cert: "3000.01"}`, []string{
			"s.yaml:28: contract k1 on 2025-01-10 (- want, + got)\n  - status: accepted\n  + status: requested\n  - cert: 3000.01\n  + cert: 3000.00",
		}},
		{"a catalog the services refuse", "start: 2025-02-01", "start: 2025-06-01", []string{
			"s.yaml:20: catalog.school.programs.robotics.modules.basics.groups.g1: end: must not be before start",
		}},
		{"a refusal expected and not given", "  - expect:\n", "  - expect:\n      refusal: group_full\n", []string{
			"s.yaml:27: refusal of the event before (- want, + got)\n  - refusal: group_full\n  + refusal: (none: it was not refused)",
		}},
		{"an unexpected refusal", "  - expect:\n", "  - submit: {certificate: misha, group: g1}\n  - expect:\n", []string{
			"s.yaml:26: submit on 2025-01-10: refused: group_full: group full: 1 live contracts for 1 seats (an expect with refusal: group_full after it says that it should be)",
		}},
		{"an unknown name", "group: g1}", "group: g2}", []string{
			`s.yaml:24: events[1].submit.group: names no group of the catalog: "g2"`,
		}},
		{"time going back", "    as: k1\n", "    as: k1\n  - on: 2025-01-09\n    confirm: k1\n", []string{
			"s.yaml:26: events[2].on: goes back in time to 2025-01-09 09:00: the events are in the order they happen",
		}},
		{"time going back within a day", "    as: k1\n", "    as: k1\n  - at: \"08:00\"\n    confirm: k1\n", []string{
			"s.yaml:26: events[2].on: goes back in time to 2025-01-10 08:00: the events are in the order they happen",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := []byte(base)
			if tc.old != "" {
				b = replace(t, tc.old, tc.new)
			}
			res := run(t, b)
			if len(res.Failures) != len(tc.want) {
				t.Fatalf("failures:\n%s\nwant %d", res.Report(), len(tc.want))
			}
			for i, f := range res.Failures {
				if got := f.String(); !strings.HasPrefix(got, tc.want[i]) {
					t.Errorf("failure %d:\n%s\nwant it to start with\n%s", i, got, tc.want[i])
				}
			}
			if res.Passed() != (len(tc.want) == 0) {
				t.Errorf("Passed() = %v with %d failures", res.Passed(), len(res.Failures))
			}
		})
	}
}

// TestPending: a pending scenario that fails is pending, not failed; one
// that passes fails, so that its mark is removed with the fix.
func TestPending(t *testing.T) {
	pending := strings.NewReplacer("name: base", "name: base\npending: the services refuse it", `cert: "3000.00"`, `cert: "2999.99"`)
	failing := run(t, []byte(pending.Replace(base)))
	if !failing.Pending || failing.Passed() || len(failing.Failures) != 1 {
		t.Errorf("a failing pending scenario: Pending %v, Passed %v, failures:\n%s", failing.Pending, failing.Passed(), failing.Report())
	}
	passing := run(t, replace(t, "name: base", "name: base\npending: the services refuse it"))
	if passing.Pending || passing.Passed() || !strings.Contains(passing.Report(), "s.yaml:2: pending: the scenario passes now: remove its pending mark") {
		t.Errorf("a passing pending scenario: Pending %v, Passed %v, failures:\n%s", passing.Pending, passing.Passed(), passing.Report())
	}
}

// TestGuideExample: the example of the methodologists' guide runs as it
// says.
func TestGuideExample(t *testing.T) {
	guide, err := os.ReadFile("../../examples/scenarios/README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(guide), "```yaml\n")
	example, _, closed := strings.Cut(rest, "```\n")
	if !ok || !closed {
		t.Fatal("the guide has no ```yaml example")
	}
	if res := run(t, []byte(example)); !res.Passed() {
		t.Fatalf("the guide's example:\n%s", res.Report())
	}
}
