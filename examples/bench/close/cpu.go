package main

import (
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// CPU accounting. The two cores are shared by the client and the server
// (and by whatever else runs on the machine), so the time of a close moves
// with the load; the CPU it costs moves much less. The bench reports, for
// the floor and for the close, this process's CPU (getrusage) and that of
// every PostgreSQL process (backends, checkpointer, WAL writer, background
// writer, autovacuum), read from /proc before and after: a process that
// starts and exits in between is not seen, which is why the pool's
// connections are opened before the floor.

// clockTicks is USER_HZ, the unit of /proc/<pid>/stat's times: 100 on Linux.
const clockTicks = 100

// procStat is a process's command and utime+stime in seconds.
func procStat(pid string) (string, float64, bool) {
	b, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return "", 0, false
	}
	s := string(b)
	i, j := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if i < 0 || j < i {
		return "", 0, false
	}
	f := strings.Fields(s[j+1:])
	// After the command: state(0) ... utime(11) stime(12).
	if len(f) < 13 {
		return "", 0, false
	}
	u, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return "", 0, false
	}
	return s[i+1 : j], float64(u+st) / clockTicks, true
}

// serverCPU is the CPU seconds of every process named postgres, by pid.
func serverCPU() map[string]float64 {
	out := map[string]float64{}
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return out
	}
	for _, e := range ents {
		name := e.Name()
		if name == "" || name[0] < '0' || name[0] > '9' {
			continue
		}
		if comm, c, ok := procStat(name); ok && comm == "postgres" {
			out[name] = c
		}
	}
	return out
}

// selfCPU is this process's user+system CPU in seconds.
func selfCPU() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// cpuMeter measures the client's and the server's CPU over an interval.
type cpuMeter struct {
	self   float64
	server map[string]float64
}

func startCPU() cpuMeter { return cpuMeter{self: selfCPU(), server: serverCPU()} }

// stop returns the client's and the server's CPU seconds since start.
func (m cpuMeter) stop() (client, server float64) {
	client = selfCPU() - m.self
	for pid, c := range serverCPU() {
		server += c - m.server[pid] // a process started meanwhile counts whole
	}
	return client, server
}
