// Package scenariotest runs scenario files as Go subtests: the test helper
// of the scenario kit, apart from it so that a program running scenarios
// (the reference server's scenarios command) does not link package testing.
package scenariotest

import (
	"path/filepath"
	"testing"

	"github.com/edufund/edufund/enrollment/scenario"
)

// Run runs every scenario file glob matches as a subtest of t, named by
// the file, each on a fresh store from open. A file that cannot be read
// fails its subtest with the error naming file, line and key; every
// failure of a scenario is reported with its diff. A pending scenario that
// fails as its mark says is skipped with its failures; one that passes
// fails, so that the mark goes with the fix. No file matching glob fails t.
func Run(t *testing.T, glob string, open scenario.Opener) {
	t.Helper()
	files, err := filepath.Glob(glob)
	if err != nil {
		t.Fatalf("scenario: %s: %v", glob, err)
	}
	if len(files) == 0 {
		t.Fatalf("scenario: no file matches %s", glob)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			sc, err := scenario.Load(file)
			if err != nil {
				t.Fatal(err)
			}
			res := sc.Run(t.Context(), open)
			if res.Pending {
				t.Skipf("pending: %s\n%s", sc.Pending, res.Report())
			}
			for _, f := range res.Failures {
				t.Error(f)
			}
		})
	}
}
