package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestREADMEScenario keeps the README's scenario section true: the file
// it shows is the repository's, and the two outputs it shows, of that file
// and of a region's copy with a wrong expectation, are what the command
// prints.
func TestREADMEScenario(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	section := string(readme)
	if i := strings.Index(section, "## A region's rules as scenarios"); i >= 0 {
		section = section[i:]
	} else {
		t.Fatal("the README has no scenarios section")
	}
	blocks := fenced(section)
	if len(blocks) < 4 {
		t.Fatalf("the scenarios section shows %d blocks, want the commands, the file and two outputs", len(blocks))
	}
	file, passed, failed := blocks[1], blocks[2], blocks[3]
	good, err := os.ReadFile("../scenarios/pricing-one-month.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if file != string(good) {
		t.Errorf("the README shows another pricing-one-month.yaml than examples/scenarios has")
	}

	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(root)
	var out bytes.Buffer
	if err := run(context.Background(), []string{"scenarios", "-v", "examples/scenarios/pricing-one-month.yaml"}, &out, &bytes.Buffer{}); err != nil {
		t.Fatalf("scenarios: %v\n%s", err, out.String())
	}
	if out.String() != passed {
		t.Errorf("the command prints\n%s\nthe README shows\n%s", out.String(), passed)
	}

	t.Chdir(t.TempDir())
	wrong := strings.Replace(string(good), `          cert: "3000.00"`, `          cert: "2999.00"`, 1)
	if err := os.Mkdir("my-region", 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile("my-region/pricing-one-month.yaml", []byte(wrong), 0o600); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := run(context.Background(), []string{"scenarios", "my-region"}, &out, &bytes.Buffer{}); err == nil {
		t.Error("a failing scenario left the command successful")
	}
	if out.String() != failed {
		t.Errorf("the command prints\n%s\nthe README shows\n%s", out.String(), failed)
	}
}

// fenced is the contents of the fenced code blocks of markdown text, in
// order.
func fenced(text string) []string {
	var blocks []string
	var cur *strings.Builder
	for line := range strings.Lines(text) {
		if strings.HasPrefix(line, "```") {
			if cur == nil {
				cur = new(strings.Builder)
				continue
			}
			blocks = append(blocks, cur.String())
			cur = nil
			continue
		}
		if cur != nil {
			cur.WriteString(line)
		}
	}
	return blocks
}
