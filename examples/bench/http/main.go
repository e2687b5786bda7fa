// Command http measures enrolment end to end, as a region serves it: the
// reference server (examples/server) started with its default flags and
// environment, N clients posting applications (POST /v1/applications)
// with holder bearer tokens and distinct Idempotency-Keys over keep-alive
// HTTP. On PostgreSQL it runs pgbench's tpcb-like script at scale 50 and a
// raw-SQL floor (the rows an enrolment writes, by hand-written batched
// SQL) interleaved with the service, on SQLite the raw-SQL floor of the
// enrol bench. After each service run it checks the ledger's invariants
// and that every 201 made one contract; after the measured runs, one short
// run with -pprof gives a CPU profile summary of the server.
//
//	go run ./examples/bench/http -pg 'postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable' -duration 10s -rounds 3
//	go run ./examples/bench/http -sqlite -duration 10s
//
// It creates and drops its own databases (edufund_http_*), or a temporary
// directory on SQLite.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

type options struct {
	pg         string
	sqlite     bool
	keep       bool
	duration   time.Duration
	workers    []int
	rounds     int
	certs      int
	groups     int
	history    int
	floorBatch int
	pgbench    string
	skipBase   bool
	profile    time.Duration
	server     string
}

func main() {
	var o options
	var workers string
	flag.StringVar(&o.pg, "pg", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable", "PostgreSQL server (an admin database); the bench creates and drops edufund_http_* databases")
	flag.BoolVar(&o.sqlite, "sqlite", false, "measure the server on an SQLite file in a temporary directory instead of PostgreSQL")
	flag.DurationVar(&o.duration, "duration", 10*time.Second, "length of each measured run")
	flag.StringVar(&workers, "workers", "8,32", "concurrent HTTP clients, comma separated")
	flag.IntVar(&o.rounds, "rounds", 1, "interleaved rounds (baselines and service per client count); the summary is the median")
	flag.IntVar(&o.certs, "certs", 2000, "funded, active certificates added to the demo region, each with a guardian (and token) of its own")
	flag.IntVar(&o.groups, "groups", 200, "groups the load applies to (one program and module each); every (certificate, group) pair is applied for once at most")
	flag.IntVar(&o.history, "history", 0, "contracts each certificate holds before the measured runs (made through the library, in groups of their own)")
	flag.IntVar(&o.floorBatch, "floor-batch", 32, "enrolments per transaction of the raw-SQL floor on PostgreSQL")
	flag.StringVar(&o.pgbench, "pgbench", "", "pgbench binary (default: /usr/lib/postgresql/*/bin/pgbench)")
	flag.BoolVar(&o.skipBase, "skip-baseline", false, "run no baseline (pgbench, raw-SQL floors)")
	flag.DurationVar(&o.profile, "profile", 5*time.Second, "CPU profile of the server in one extra run after the measured ones (0: none)")
	flag.StringVar(&o.server, "server", "", "the reference server's binary (default: built from ./examples/server into a temporary directory)")
	flag.StringVar(&serverGOGC, "server-gogc", "", "start the server with GOGC set to this (such as 100, Go's default) instead of leaving it its own collector policy (GOGC=400 and a soft limit), to measure both")
	flag.BoolVar(&o.keep, "keep", false, "keep the databases (or the SQLite directory) after the run")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: go run ./examples/bench/http [-pg URL | -sqlite] [flags]\n\n"+
			"Enrolments per second through the reference server over HTTP, against pgbench tpcb-like s50 and\n"+
			"a raw-SQL floor (PostgreSQL) or the raw-SQL floor (SQLite), with CPU and allocations per request.\n\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	for _, w := range strings.Split(workers, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(w))
		if err != nil || n <= 0 {
			fmt.Fprintf(os.Stderr, "bad -workers %q\n", workers)
			os.Exit(2)
		}
		o.workers = append(o.workers, n)
	}
	if o.certs < 1 || o.groups < 1 || o.history < 0 || o.floorBatch < 1 {
		fmt.Fprintln(os.Stderr, "-certs, -groups and -floor-batch must be positive, -history not negative")
		os.Exit(2)
	}
	if err := run(context.Background(), o); err != nil {
		fmt.Fprintln(os.Stderr, "http bench:", err)
		os.Exit(1)
	}
}
