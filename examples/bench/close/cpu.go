package main

import (
	"os"
	"strconv"

	"github.com/edufund/edufund/examples/bench/internal/benchutil"
)

// CPU accounting. The two cores are shared by the client and the server
// (and by whatever else runs on the machine), so the time of a close moves
// with the load; the CPU it costs moves much less. The bench reports, for
// the floor and for the close, this process's CPU (getrusage) and that of
// every PostgreSQL process (backends, checkpointer, WAL writer, background
// writer, autovacuum), read from /proc before and after: a process that
// starts and exits in between is not seen, which is why the pool's
// connections are opened before the floor.

// serverCPU is the CPU seconds of every process named postgres, by pid.
func serverCPU() map[string]float64 {
	out := map[string]float64{}
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return out
	}
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if comm, c, ok := benchutil.ProcCPU(pid); ok && comm == "postgres" {
			out[e.Name()] = c
		}
	}
	return out
}

// cpuMeter measures the client's and the server's CPU over an interval.
type cpuMeter struct {
	self   float64
	server map[string]float64
}

func startCPU() cpuMeter { return cpuMeter{self: benchutil.SelfCPU(), server: serverCPU()} }

// stop returns the client's and the server's CPU seconds since start.
func (m cpuMeter) stop() (client, server float64) {
	client = benchutil.SelfCPU() - m.self
	for pid, c := range serverCPU() {
		server += c - m.server[pid] // a process started meanwhile counts whole
	}
	return client, server
}
