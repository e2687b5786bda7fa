package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/enrollment/scenario"
	"github.com/edufund/edufund/storage"
)

// runScenarios is "server scenarios [-v] FILE|DIR…": it runs each scenario
// file (a directory stands for its *.yaml files) on a fresh in-memory
// SQLite store through the same services as the server, prints each
// failure as a diff under its file and line, and ends with the line
// "N passed, N failed". Any failure makes it exit with status 1.
func runScenarios(ctx context.Context, s *session) error {
	files, err := scenarioFiles(s.args)
	if err != nil {
		return err
	}
	out := s.stdout
	passed, failed, pending := 0, 0, 0
	for _, file := range files {
		sc, err := scenario.Load(file)
		if err != nil {
			failed++
			fmt.Fprintf(out, "FAIL %v\n", err)
			continue
		}
		res := sc.Run(ctx, memoryStore)
		switch {
		case res.Pending:
			pending++
			if s.o.verbose {
				fmt.Fprintf(out, "pending %s: %s\n", file, sc.Name)
			}
		case res.Passed():
			passed++
			if s.o.verbose {
				fmt.Fprintf(out, "ok %s: %s\n", file, sc.Name)
			}
		default:
			failed++
			fmt.Fprintf(out, "FAIL %s: %s\n%s\n", file, sc.Name, res.Report())
		}
	}
	if pending > 0 {
		fmt.Fprintf(out, "%d pending: they document rules the services do not follow yet (see their pending:)\n", pending)
	}
	fmt.Fprintf(out, "%d passed, %d failed\n", passed, failed)
	if failed > 0 {
		return fmt.Errorf("%d of %d scenarios failed", failed, len(files))
	}
	return nil
}

// scenarioFiles lists the files args name: a file as it is, a directory
// as its *.yaml files.
func scenarioFiles(args []string) ([]string, error) {
	if len(args) == 0 {
		return nil, errors.New("name the scenario files or their directory, such as examples/scenarios")
	}
	var files []string
	for _, a := range args {
		fi, err := os.Stat(a)
		if err != nil {
			return nil, err
		}
		if !fi.IsDir() {
			files = append(files, a)
			continue
		}
		in, err := filepath.Glob(filepath.Join(a, "*.yaml"))
		if err != nil {
			return nil, err
		}
		if len(in) == 0 {
			return nil, fmt.Errorf("%s: no *.yaml scenario files", a)
		}
		files = append(files, in...)
	}
	return files, nil
}

// checkedDB is a scenario's store: its invariants are checked after the
// scenario.
type checkedDB struct{ *storage.DB }

func (c checkedDB) CheckInvariants(ctx context.Context) error {
	return storage.CheckInvariants(ctx, c.DB)
}

// memoryStore opens a fresh, migrated in-memory SQLite store.
func memoryStore(ctx context.Context) (enrollment.Store, error) {
	db, err := storage.Open(ctx, "sqlite::memory:")
	if err == nil {
		err = db.Migrate(ctx)
	}
	if err != nil {
		if db != nil {
			db.Close()
		}
		return nil, err
	}
	return checkedDB{db}, nil
}
