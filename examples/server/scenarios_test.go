package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestScenariosCommand: "server scenarios" runs the repository's scenario
// files and ends with "N passed, 0 failed"; a broken file is named with its
// line and key, a wrong expectation is printed as a diff, and either makes
// the command fail (exit status 1) after the closing line.
func TestScenariosCommand(t *testing.T) {
	var out, errs bytes.Buffer
	if err := run(context.Background(), []string{"scenarios", "../scenarios"}, &out, &errs); err != nil {
		t.Fatalf("scenarios: %v\n%s", err, out.String())
	}
	if !regexp.MustCompile(`(^|\n)([3-9]\d|\d{3,}) passed, 0 failed\n$`).MatchString(out.String()) {
		t.Errorf("the repository's scenarios: output\n%s\nwant it to end with at least 30 passed and 0 failed", out.String())
	}

	dir := t.TempDir()
	good, err := os.ReadFile("../scenarios/pricing-one-month.yaml")
	if err != nil {
		t.Fatal(err)
	}
	write := func(name, old, new string) {
		t.Helper()
		if !bytes.Contains(good, []byte(old)) {
			t.Fatalf("pricing-one-month.yaml has no %q", old)
		}
		if err := os.WriteFile(filepath.Join(dir, name), bytes.Replace(good, []byte(old), []byte(new), 1), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("broken.yaml", "capacity: 10}", "capacity: 10, seats: 3}")
	write("wrong.yaml", `          cert: "3000.00"`, `          cert: "3000.01"`)
	write("right.yaml", "", "")
	stdout, stderr, code := serverProcess(t, nil, "scenarios", dir)
	for _, want := range []string{
		filepath.Join(dir, "broken.yaml") + ":25: catalog.school.programs.chess.modules.november.groups.g1.seats: is not a known key here",
		filepath.Join(dir, "wrong.yaml") + ":34: contract k1 on 2025-01-15 (- want, + got)\n  - cert: 3000.01\n  + cert: 3000.00\n",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output\n%s\nwant it to hold\n%s", stdout, want)
		}
	}
	if !strings.HasSuffix(stdout, "\n1 passed, 2 failed\n") || code != 1 || !strings.Contains(stderr, "server: 2 of 3 scenarios failed") {
		t.Errorf("exit %d, stdout\n%s\nstderr\n%s\nwant exit 1 after the line \"1 passed, 2 failed\"", code, stdout, stderr)
	}

	for _, args := range [][]string{{"scenarios"}, {"scenarios", filepath.Join(dir, "none.yaml")}, {"scenarios", t.TempDir()}} {
		if err := run(context.Background(), args, &out, &errs); err == nil {
			t.Errorf("%q: no error", args)
		}
	}
}
