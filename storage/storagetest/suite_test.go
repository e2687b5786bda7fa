package storagetest_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/storage/storagetest"
)

// brokenEnv names the broken store TestRunFailsBrokenStores runs the
// contract against in its child process.
const brokenEnv = "STORAGETEST_BROKEN"

// broken are stores that each break one rule of the contract, wrapped
// around a store that keeps it, with the subtests that must catch it.
var broken = map[string]struct {
	wrap  func(enrollment.Store) enrollment.Store
	catch []string
}{
	// Take passes the cap.
	"uncapped": {func(s enrollment.Store) enrollment.Store {
		return txStore{s, func(tx enrollment.Tx) enrollment.Tx { return uncapped{tx} }}
	},
		[]string{"Counters", "RefusalsKeepTheTransaction", "CounterTakeRace", "MoneyCounterRace"}},
	// A second live contract on a module goes through.
	"duplicates": {func(s enrollment.Store) enrollment.Store {
		return txStore{s, func(tx enrollment.Tx) enrollment.Tx { return duplicates{tx} }}
	},
		[]string{"Contracts", "RefusalsKeepTheTransaction"}},
	// A closure that committed runs again: its effects twice.
	"twice": {func(s enrollment.Store) enrollment.Store { return twice{s} },
		[]string{"Idempotency", "NoLostUpdate"}},
}

// TestRunFailsBrokenStores runs the contract against each broken store in
// a child process and checks that the subtests meant to catch it fail: a
// contract that passes anything proves nothing.
func TestRunFailsBrokenStores(t *testing.T) {
	if name := os.Getenv(brokenEnv); name != "" {
		storagetest.Run(t, func(t *testing.T) enrollment.Store {
			return broken[name].wrap(storagetest.Open(t, storagetest.SQLiteMemory))
		})
		return
	}
	for name, b := range broken {
		t.Run(name, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestRunFailsBrokenStores$", "-test.v")
			cmd.Env = append(os.Environ(), brokenEnv+"="+name)
			out, err := cmd.CombinedOutput()
			if err == nil {
				t.Fatalf("the contract passed a store that breaks it:\n%s", out)
			}
			for _, sub := range b.catch {
				if !strings.Contains(string(out), "--- FAIL: TestRunFailsBrokenStores/"+sub+" ") {
					t.Errorf("%s did not catch it", sub)
				}
			}
		})
	}
}

// txStore hands fn its transactions wrapped.
type txStore struct {
	enrollment.Store
	wrap func(enrollment.Tx) enrollment.Tx
}

func (s txStore) InTx(ctx context.Context, fn func(ctx context.Context, tx enrollment.Tx) error) error {
	return s.Store.InTx(ctx, func(ctx context.Context, tx enrollment.Tx) error { return fn(ctx, s.wrap(tx)) })
}

type uncapped struct{ enrollment.Tx }

func (tx uncapped) Take(ctx context.Context, key string, n int64) error {
	if err := tx.Tx.Take(ctx, key, n); !errors.Is(err, enrollment.ErrCounterFull) {
		return err
	}
	return nil
}

type duplicates struct{ enrollment.Tx }

func (tx duplicates) InsertContract(ctx context.Context, c enrollment.Contract) error {
	if err := tx.Tx.InsertContract(ctx, c); !errors.Is(err, enrollment.ErrExists) {
		return err
	}
	return nil
}

type twice struct{ enrollment.Store }

func (s twice) InTx(ctx context.Context, fn func(ctx context.Context, tx enrollment.Tx) error) error {
	if err := s.Store.InTx(ctx, fn); err != nil {
		return err
	}
	return s.Store.InTx(ctx, fn)
}
