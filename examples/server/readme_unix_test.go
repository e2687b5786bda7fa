//go:build unix

package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"
)

// readmeStep is one block of commands of the README's walkthrough and the
// output the README shows for it (empty when it shows none).
type readmeStep struct {
	line     int // of the commands' fence in README.md
	commands string
	output   string
}

// walkthrough reads the ```sh blocks of the README's walkthrough (the
// section "## One enrolment…"), each with the ```json block that follows
// it, if any, as the output a reader sees.
func walkthrough(readme []byte) ([]readmeStep, error) {
	var (
		steps   []readmeStep
		in      bool   // inside the walkthrough's section
		fence   string // the open fence's language, "" outside one
		block   strings.Builder
		started int
	)
	sc := bufio.NewScanner(bytes.NewReader(readme))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		switch {
		case fence == "" && strings.HasPrefix(line, "## "):
			in = strings.HasPrefix(line, "## One enrolment")
		case !in:
		case fence == "" && strings.HasPrefix(line, "```"):
			fence, started = strings.TrimPrefix(line, "```"), n
			block.Reset()
		case fence != "" && line == "```":
			switch fence {
			case "sh":
				steps = append(steps, readmeStep{line: started, commands: block.String()})
			case "json":
				if len(steps) == 0 || steps[len(steps)-1].output != "" {
					return nil, fmt.Errorf("README.md:%d: an output block that follows no commands", started)
				}
				steps[len(steps)-1].output = block.String()
			default:
				return nil, fmt.Errorf("README.md:%d: a ```%s block in the walkthrough", started, fence)
			}
			fence = ""
		case fence != "":
			block.WriteString(line + "\n")
		}
	}
	if len(steps) == 0 {
		return nil, errors.New("README.md: no walkthrough found")
	}
	return steps, sc.Err()
}

// jsonValues decodes a stream of JSON values, however they are laid out.
func jsonValues(s string) ([]any, error) {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var out []any
	for {
		var v any
		err := dec.Decode(&v)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
}

// TestREADME runs the README's walkthrough as a reader does: its blocks in
// one bash from the repository root, and checks that each prints what the
// README shows (as JSON values: the README lays them out for reading). It
// needs bash, curl and jq; without them it is skipped, unless
// EDUFUND_TEST_README is set (.ci/run sets it), when it fails.
func TestREADME(t *testing.T) {
	for _, tool := range []string{"bash", "curl", "jq"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("EDUFUND_TEST_README") != "" {
				t.Fatalf("the README's walkthrough needs %s: %v", tool, err)
			}
			t.Skipf("the README's walkthrough needs %s (set EDUFUND_TEST_README=1 to fail instead)", tool)
		}
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	steps, err := walkthrough(readme)
	if err != nil {
		t.Fatal(err)
	}
	const mark = "@@@ end of README step"
	var script strings.Builder
	for i, s := range steps {
		fmt.Fprintf(&script, "%s\necho '%s %d'\n", s.commands, mark, i)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-c", script.String())
	cmd.Dir = "../.."
	// The walkthrough starts a server in the background; its own process
	// group lets the test stop whatever a failed run leaves behind.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()
	if cmd.Process != nil {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	if runErr != nil {
		t.Fatalf("the walkthrough failed: %v\nstdout:\n%s\nstderr:\n%s", runErr, stdout.String(), stderr.String())
	}

	outputs := strings.Split(stdout.String(), mark+" ")
	if len(outputs) != len(steps)+1 {
		t.Fatalf("%d of %d steps ran:\n%s\nstderr:\n%s", len(outputs)-1, len(steps), stdout.String(), stderr.String())
	}
	for i, s := range steps {
		got := outputs[i]
		if i > 0 {
			_, got, _ = strings.Cut(got, "\n") // the step number ending the mark
		}
		gotValues, err := jsonValues(got)
		if err != nil {
			t.Errorf("README.md:%d: the commands printed what is not JSON (%v):\n%s", s.line, err, got)
			continue
		}
		want, err := jsonValues(s.output)
		if err != nil {
			t.Fatalf("README.md:%d: the output shown is not JSON: %v", s.line, err)
		}
		if !reflect.DeepEqual(gotValues, want) {
			t.Errorf("README.md:%d: the README shows\n%s\nbut the commands print\n%s", s.line, s.output, got)
		}
	}
	if t.Failed() {
		t.Logf("stderr:\n%s", stderr.String())
	}
}
