package scenario

import (
	"path/filepath"
	"strings"
	"testing"
)

// Run runs every scenario file glob matches as a subtest of t, named by
// the file, each on a fresh store from open. A file that cannot be read
// fails its subtest with the error naming file, line and key; every
// failure of a scenario is reported with its diff. A pending scenario that
// fails as its mark says is skipped with its failures; one that passes
// fails, so that the mark goes with the fix. No file matching glob fails t.
func Run(t *testing.T, glob string, open Opener) {
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
			sc, err := Load(file)
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

// Report is the result's failures, one after the other.
func (r Result) Report() string {
	lines := make([]string, len(r.Failures))
	for i, f := range r.Failures {
		lines[i] = f.String()
	}
	return strings.Join(lines, "\n")
}
