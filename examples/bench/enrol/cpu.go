package main

import (
	"context"
	"os"
	"sync"
	"time"

	"github.com/edufund/edufund/examples/bench/internal/benchutil"
	"github.com/edufund/edufund/storage"
)

// CPU accounting. The machine's two cores are shared by the client and
// the server, and on a shared machine by whatever else runs, so the rate
// alone moves with the load; the CPU time each operation costs does not,
// much. A run's CPU is the client process's (getrusage) plus that of the
// PostgreSQL backends serving its database, sampled from /proc while it
// runs (a backend's counters are lost when it exits, so the last sample
// counts).

// backendMeter samples the CPU of the backends of one database.
type backendMeter struct {
	stop  chan struct{}
	done  sync.WaitGroup
	mu    sync.Mutex
	first map[int]float64 // at the first sample (0 for backends started later)
	last  map[int]float64
}

func startBackendMeter(ctx context.Context, admin *storage.DB, db string) *backendMeter {
	m := &backendMeter{stop: make(chan struct{}), first: map[int]float64{}, last: map[int]float64{}}
	sample := func(initial bool) {
		var pids []int
		if err := admin.Bun().NewRaw("SELECT pid FROM pg_stat_activity WHERE datname = ? AND pid <> pg_backend_pid()", db).Scan(ctx, &pids); err != nil {
			return
		}
		m.mu.Lock()
		defer m.mu.Unlock()
		for _, pid := range pids {
			_, c, ok := benchutil.ProcCPU(pid)
			if !ok {
				continue
			}
			if _, seen := m.last[pid]; !seen {
				if initial {
					m.first[pid] = c
				}
			}
			m.last[pid] = c
		}
	}
	sample(true)
	m.done.Add(1)
	go func() {
		defer m.done.Done()
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-m.stop:
				sample(false)
				return
			case <-t.C:
				sample(false)
			}
		}
	}()
	return m
}

// Stop ends the sampling and returns the backends' CPU seconds.
func (m *backendMeter) Stop() float64 {
	close(m.stop)
	m.done.Wait()
	var s float64
	for pid, c := range m.last {
		s += c - m.first[pid]
	}
	return s
}

// gcSetting is the Go garbage collector's target: the client's CPU per
// enrolment depends on it (a third of it is the collector at GOGC=100).
func gcSetting() string {
	if v := os.Getenv("GOGC"); v != "" {
		return "GOGC=" + v
	}
	return "GOGC=100 (default)"
}
