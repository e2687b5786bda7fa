package main

import "os"

// CPU accounting. The machine's two cores are shared by the client and
// the server, and on a shared machine by whatever else runs, so the rate
// alone moves with the load; the CPU time each operation costs does not,
// much. A run's CPU is the client process's (getrusage) plus that of the
// PostgreSQL backends serving its database (benchutil.BackendMeter).

// gcSetting is the Go garbage collector's target: the client's CPU per
// enrolment depends on it (a third of it is the collector at GOGC=100).
func gcSetting() string {
	if v := os.Getenv("GOGC"); v != "" {
		return "GOGC=" + v
	}
	return "GOGC=100 (default)"
}
