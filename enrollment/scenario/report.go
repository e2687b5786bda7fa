package scenario

import (
	"strings"
)

// Report is the result's failures, one after the other.
func (r Result) Report() string {
	lines := make([]string, len(r.Failures))
	for i, f := range r.Failures {
		lines[i] = f.String()
	}
	return strings.Join(lines, "\n")
}
