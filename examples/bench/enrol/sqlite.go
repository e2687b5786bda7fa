package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"time"

	"github.com/edufund/edufund/examples/bench/internal/benchutil"
	"github.com/edufund/edufund/funding"
	"github.com/edufund/edufund/storage"
)

// runSQLite measures the embedded store: the service through the Batcher
// and through Submit, against raw database/sql doing the same writes per
// enrolment, one transaction each and many per transaction, on a file with
// the store's own pragmas (WAL, synchronous=FULL, one connection).
func runSQLite(ctx context.Context, o options) error {
	dir, err := os.MkdirTemp("", "edufund-bench-sqlite-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	fmt.Printf("# enrolment throughput, embedded SQLite\n\n")
	fmt.Printf("- machine: %d CPUs (%s), Go %s, %s\n", runtime.NumCPU(), benchutil.CPUModel(), runtime.Version(), gcSetting())
	fmt.Printf("- command: %s\n", joinArgs())
	fmt.Printf("- region: %d funded certificates, %d groups, one municipal budget; batcher max %d, flushers %s; %s per run; file in %s\n",
		o.certs, o.groups, o.maxBatch, flushersText(o.flushers), o.duration, dir)
	var all []result
	n := 0
	fresh := func() (*storage.DB, error) {
		n++
		return benchutil.OpenMigrated(ctx, "sqlite:"+filepath.Join(dir, "bench-"+strconv.Itoa(n)+".db"))
	}
	for round := 1; round <= o.rounds; round++ {
		for _, w := range o.workers {
			kinds := []string{"service, Batcher"}
			if o.unbatched {
				kinds = append(kinds, "service, Submit")
			}
			if !o.skipBase {
				kinds = append(kinds, "raw SQL, 1 tx each", "raw SQL, batched")
			}
			for _, k := range kinds {
				db, err := fresh()
				if err != nil {
					return err
				}
				var r result
				switch k {
				case "service, Batcher", "service, Submit":
					r, err = serviceRun(ctx, db, o, k, w, k == "service, Batcher", func() int64 { return 0 }, nil, nil)
				default:
					r, err = rawRun(ctx, db, o, w, k == "raw SQL, batched")
					r.name = k
				}
				db.Close()
				if err != nil {
					return err
				}
				r.round = round
				all = append(all, r)
			}
		}
	}
	printTable("SQLite: enrolments per second", all, []string{"raw SQL, 1 tx each", "raw SQL, batched"})
	return nil
}

func joinArgs() string {
	s := ""
	for i, a := range os.Args {
		if i > 0 {
			s += " "
		}
		s += a
	}
	return s
}

// rawRun loads the same region and enrols with benchutil.RawSQLite's
// hand-written statements.
func rawRun(ctx context.Context, db *storage.DB, o options, workers int, batched bool) (result, error) {
	r, err := loadRegion(ctx, db, o.certs, o.groups)
	if err != nil {
		return result{}, err
	}
	year := schoolYear(funding.MustDate(2025, time.September, 1))
	submit, done, err := benchutil.RawSQLite(ctx, db, benchutil.RawRegion{
		Certs: r.certs, Groups: r.groups, Municipality: benchMun, Period: year,
		End: funding.MustDate(year.Start.Year()+1, time.May, 31), Now: time.Date(2025, time.September, 1, 9, 0, 0, 0, time.UTC),
	}, batched, o.maxBatch)
	if err != nil {
		return result{}, err
	}
	res := drive(ctx, workers, o.duration, len(r.certs), len(r.groups), submit)
	done()
	fmt.Fprintf(os.Stderr, "  raw batched=%v w=%d: %.0f/s\n", batched, workers, res.rate)
	return res, nil
}
