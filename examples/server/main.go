// Command server is edufund's reference HTTP server, the one a region runs.
// "server -h" lists its commands and the flags of serve, "server COMMAND -h"
// the flags of another:
//
//	server [flags]                     serve the API (default)
//	server migrate [flags]             apply the database migrations
//	server demo [flags]                load the demo region (idempotent) and print its ids
//	server close -month 2026-10        run the monthly close of a month
//	server rollover -year 2026         close a funding year and open the next
//	server cancel-overdue              cancel the adult certificates whose documents are overdue
//	server category -code city -nominal 30000.00
//	                                   create or change a category
//	server budget -municipality m -year 2026 -limit 5000000.00
//	                                   set a municipality's budget limit
//	server parameters                  list the versions of the region's parameters
//	server parameter -name N [-scope S] -from 2026-09-01 -value V -reason R
//	                                   set a parameter of the region from a date on
//	server forecast                    print each municipality's budget forecast to the end of the period
//	server what-if -parameter N [-scope S] -from 2026-09-01 -value V | -category C -nominal N
//	                                   print what a parameter's version or a category would do, writing nothing
//	server token -role regional -subject op [-tenant T]
//	                                   print a bearer token signed with -jwt-key
//	server revoke -jti ID | -subject S [-issued-before T]
//	                                   revoke one token, or a subject's tokens
//	server scenarios [-v] FILES…       run scenario files, each on a fresh in-memory store
//	server backup -o COPY|DIR          copy the database while the server runs
//	server verify -db sqlite:COPY      check a copy: its migrations and the ledger's invariants
//	server restore -from COPY          put a backup in place of the database, servers stopped
//	server export -kind invoice-lines -month 2026-03 -format xlsx -o FILE
//	                                   write a report (invoice lines, a register, completions) as CSV or XLSX
//	server import [-check] DIR|FILE    set up a region in bulk from CSV files or a JSON file
//
// The commands that change money, certificates or the region's parameters
// take -dry-run: they run the same rules, print what they would do and write
// nothing.
//
// -region region.json (or EDUFUND_REGION) loads a real region's parameters
// (participating municipalities and regions, minimum ages, the period shape,
// the advance share, registry quotas, the adult quota and documents
// deadline; see region.example.json) instead of the demo region's. The demo
// data is loaded only with the built-in demo region.
//
// The database is the SQLite file edufund.db in the working directory unless
// -db or EDUFUND_DB names another (sqlite:PATH, sqlite::memory: or
// postgres://…). On a new, empty database the server loads the demo region
// and prints a bearer token for each demo role. A SQLite file is used by one
// process at a time (see lockDatabase).
package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"regexp"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/google/uuid"

	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/enrollment/batch"
	"github.com/edufund/edufund/examples/server/api"
	"github.com/edufund/edufund/examples/server/demo"
	"github.com/edufund/edufund/examples/server/region"
	"github.com/edufund/edufund/examples/server/web"
	"github.com/edufund/edufund/examples/server/webhook"
	"github.com/edufund/edufund/funding"
	"github.com/edufund/edufund/storage"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "server:", err)
		os.Exit(1)
	}
}

type options struct {
	addr, db, jwtKey string
	pprof            string
	portable         bool
	region           string
	tokenTTL         time.Duration
	demo             bool
	month            string
	role, subject    string
	tenant           string
	year             int
	batch            batch.BatcherOptions
	dryRun           bool
	category         categoryChange
	municipality     string
	limit            string
	parameter        parameterChange
	whatIf           whatIfChange
	clock            string

	maxTTL, revocationRefresh time.Duration
	oidc, jti, issuedBefore   string
	verbose                   bool
	backup                    backupFlags
	imp                       importFlags // cmd_import.go
	export                    exportFlags // cmd_export.go
}

// A command is one sub-command of the server. The usage text and run both
// read commands, so a command added there is listed, parsed and run.
type command struct {
	name     string
	synopsis string // the usage line's arguments after the name
	summary  string
	// flags declares the command's own flags; the commands that use the
	// database also take -db and -region.
	flags func(fs *flag.FlagSet, o *options)
	noDB  bool // the command does not use the database
	args  bool // the command takes arguments after its flags (session.args)
	run   func(ctx context.Context, s *session) error
	// inUse says what to do instead while another process holds the
	// SQLite file (see lockDatabase).
	inUse string
}

// A session is what a command runs with: its options, and the database,
// service and region for the commands that use them.
type session struct {
	o      options
	args   []string
	stdout io.Writer
	stderr io.Writer // progress lines, beside the output
	logger *slog.Logger
	db     *storage.DB
	svc    *enrollment.Service
	op     operator
	today  funding.Date
	region string // the region's name
}

// commands are the server's sub-commands, the default first.
var commands = []*command{
	{
		name: "serve", synopsis: "[flags]", summary: "serve the API (the default command)",
		flags: serveFlags,
		run: func(ctx context.Context, s *session) error {
			return serve(ctx, s.o, s.db, s.svc, s.today, s.logger, s.stdout, s.region)
		},
		inUse: "stop it first, or give this server another -db",
	},
	{
		name: "migrate", summary: "apply the database migrations",
		run: func(ctx context.Context, s *session) error {
			fmt.Fprintf(s.stdout, "migrations applied to %s database\n", s.db.Dialect())
			return nil
		},
		inUse: "serve applies the migrations when it starts: stop the server and start it again",
	},
	{
		name: "demo", summary: "load the demo region (idempotent) and print its ids",
		run: func(ctx context.Context, s *session) error {
			res, err := loadDemo(ctx, s.svc, s.today)
			if err != nil {
				return err
			}
			printIDs(s.stdout, res)
			return nil
		},
		inUse: "serve loads the demo region into an empty database when it starts; stop the server first",
	},
	{
		name: "close", synopsis: "-month 2026-10 [flags]", summary: "run the monthly close of a month",
		flags: func(fs *flag.FlagSet, o *options) {
			fs.StringVar(&o.month, "month", "", "the month to close, YYYY-MM (required)")
		},
		run: func(ctx context.Context, s *session) error {
			m, err := funding.ParseMonth(s.o.month)
			if err != nil {
				return fmt.Errorf("-month: %w", err)
			}
			return s.op.closeMonth(ctx, m)
		},
		inUse: "run the close through the server's API instead (POST /v1/admin/close with a regional token), or stop the server first",
	},
	{
		name: "rollover", synopsis: "-year 2026 [flags]", summary: "close a funding year and open the next",
		flags: func(fs *flag.FlagSet, o *options) {
			fs.IntVar(&o.year, "year", 0, "the funding year to close; its successor is opened (required)")
		},
		run: func(ctx context.Context, s *session) error {
			if s.o.year < 1900 || s.o.year > 2998 {
				return errors.New("-year: a year such as 2026 is required")
			}
			return s.op.rollover(ctx, s.o.year)
		},
		inUse: "run the rollover through the server's API instead (POST /v1/admin/rollover with a regional token), or stop the server first",
	},
	{
		name: "cancel-overdue", summary: "cancel the adult certificates whose documents are overdue",
		run:   func(ctx context.Context, s *session) error { return s.op.cancelOverdue(ctx) },
		inUse: "cancel them one by one through the server's API (POST /v1/certificates/{id}/cancel-overdue with a federal token), or stop the server first",
	},
	{
		name: "category", synopsis: "-code city [-nominal 30000.00 | -hours-base 6 -hours-extra 2] [-max-count N] [-max-sum S] [flags]", summary: "create or change a category",
		flags: func(fs *flag.FlagSet, o *options) {
			fs.StringVar(&o.category.code, "code", "", "the category's code (required)")
			fs.StringVar(&o.category.nominal, "nominal", "", "the nominal a period, such as 30000.00 (required for a new category)")
			fs.IntVar(&o.category.maxCount, "max-count", -1, "funded certificates the category may hold at most (0: no limit; unset: unchanged)")
			fs.StringVar(&o.category.maxSum, "max-sum", "", "the sum of its certificates' nominals at most (0.00: no limit; unset: unchanged)")
			fs.IntVar(&o.category.hoursBase, "hours-base", -1, "for a nominal in weekly hours: hours a week on any program (unset: unchanged)")
			fs.IntVar(&o.category.hoursExtra, "hours-extra", -1, "with -hours-base: hours a week only on programs of the significant registry (unset: unchanged)")
		},
		run:   func(ctx context.Context, s *session) error { return s.op.category(ctx, s.o.category) },
		inUse: "change it through the server's API instead (POST /v1/admin/categories with a regional token), or stop the server first",
	},
	{
		name: "budget", synopsis: "-municipality m -year 2026 -limit 5000000.00 [flags]", summary: "set a municipality's budget limit for a funding year",
		flags: func(fs *flag.FlagSet, o *options) {
			fs.StringVar(&o.municipality, "municipality", "", "the municipality's code (required)")
			fs.IntVar(&o.year, "year", 0, "the funding year, as for rollover (required)")
			fs.StringVar(&o.limit, "limit", "", "the limit of the money its certificates reserve and spend in the year, such as 5000000.00 (required)")
		},
		run: func(ctx context.Context, s *session) error {
			if s.o.year < 1900 || s.o.year > 2998 {
				return errors.New("-year: a year such as 2026 is required")
			}
			return s.op.budget(ctx, s.o.municipality, s.o.year, s.o.limit)
		},
		inUse: "set it through the server's API instead (POST /v1/admin/budgets), or stop the server first",
	},
	{
		name: "parameters", summary: "list the versions of the region's parameters, in the order they apply",
		run:   func(ctx context.Context, s *session) error { return s.op.parameters(ctx) },
		inUse: "read them through the server's API instead (GET /v1/admin/parameters), or stop the server first",
	},
	{
		name: "parameter", synopsis: "-name N [-scope S] -from 2026-09-01 -value V -reason R [flags]",
		summary: "set a parameter of the region from a date on: a new version",
		flags: func(fs *flag.FlagSet, o *options) {
			fs.StringVar(&o.parameter.name, "name", "", "the parameter (required): "+parameterNames())
			fs.StringVar(&o.parameter.scope, "scope", "", "the municipality, registry or holder category the version applies to, for a parameter set per scope (empty: the whole region)")
			fs.StringVar(&o.parameter.from, "from", "", "the date the value applies from, YYYY-MM-DD: today or later; the 1st of a later month for a parameter of whole months (required)")
			fs.StringVar(&o.parameter.value, "value", "", "the new value, such as 0.7, 6 or true (required)")
			fs.StringVar(&o.parameter.reason, "reason", "", "why the parameter changes: the regional act or decision (required)")
		},
		run:   func(ctx context.Context, s *session) error { return s.op.parameter(ctx, s.o.parameter) },
		inUse: "set it through the server's API instead (POST /v1/admin/parameters), or stop the server first",
	},
	{
		name: "forecast", summary: "print each municipality's budget forecast to the end of the current period (writes nothing)",
		run:   func(ctx context.Context, s *session) error { return s.op.forecast(ctx) },
		inUse: "read it through the server's API instead (GET /v1/admin/forecast), or stop the server first",
	},
	{
		name: "what-if", synopsis: "-parameter N [-scope S] -from 2026-09-01 -value V | -category C [-nominal N] [-max-count N] [-max-sum S] [flags]",
		summary: "print what a parameter's new version or a category's change would do now (writes nothing)",
		flags: func(fs *flag.FlagSet, o *options) {
			fs.StringVar(&o.whatIf.parameter, "parameter", "", "the parameter to try a version of: "+parameterNames())
			fs.StringVar(&o.whatIf.scope, "scope", "", "with -parameter: the municipality, registry or holder category the version applies to (empty: the whole region)")
			fs.StringVar(&o.whatIf.from, "from", "", "with -parameter: the date the value would apply from, YYYY-MM-DD")
			fs.StringVar(&o.whatIf.value, "value", "", "with -parameter: the value to try, such as 0.7, 6 or true")
			fs.StringVar(&o.whatIf.reason, "reason", "", "with -parameter: why (optional: nothing is stored)")
			fs.StringVar(&o.whatIf.category, "category", "", "the category to try a change of")
			fs.StringVar(&o.whatIf.nominal, "nominal", "", "with -category: the nominal a period, such as 30000.00 (unset: unchanged)")
			fs.IntVar(&o.whatIf.maxCount, "max-count", -1, "with -category: funded certificates it may hold at most (0: no limit; unset: unchanged)")
			fs.StringVar(&o.whatIf.maxSum, "max-sum", "", "with -category: the sum of its certificates' nominals at most (0.00: no limit; unset: unchanged)")
		},
		run:   func(ctx context.Context, s *session) error { return s.op.whatIf(ctx, s.o.whatIf) },
		inUse: "ask the server's API instead (POST /v1/admin/what-if), or stop the server first",
	},
	{
		name: "token", synopsis: "-jwt-key KEY -role regional -subject op [-tenant T] [flags]", summary: "print a bearer token signed with -jwt-key",
		flags: func(fs *flag.FlagSet, o *options) {
			fs.StringVar(&o.jwtKey, "jwt-key", "", "HS256 signing key of the server, at least 32 bytes (env EDUFUND_JWT_KEY; required)")
			fs.DurationVar(&o.tokenTTL, "ttl", 8*time.Hour, "lifetime of the token")
			fs.StringVar(&o.role, "role", "", "holder, provider, municipality, regional, federal, auditor or authorised (required)")
			fs.StringVar(&o.subject, "subject", "", "who the caller is, for logs and the ledger (required)")
			fs.StringVar(&o.tenant, "tenant", "", "what the caller acts for: guardian or person id, provider id, municipality code")
			maxTTLFlag(fs, o)
		},
		noDB: true, run: runToken,
	},
	{
		name: "revoke", synopsis: "-jti ID | -subject S [-issued-before T] [flags]", summary: "revoke one token, or every token of a subject",
		flags: func(fs *flag.FlagSet, o *options) {
			fs.StringVar(&o.jti, "jti", "", "the id (jti) of the one token to revoke")
			fs.StringVar(&o.subject, "subject", "", "the subject whose tokens to revoke")
			fs.StringVar(&o.issuedBefore, "issued-before", "", "with -subject: revoke the tokens issued before this instant (RFC 3339; default now)")
			maxTTLFlag(fs, o)
		},
		run:   func(ctx context.Context, s *session) error { return revoke(ctx, s.o, s.db, s.stdout) },
		inUse: "revoke through the server's API instead (POST /v1/admin/tokens/revoke with a regional token), or stop the server first",
	},
	{
		name: "scenarios", synopsis: "[-v] FILE|DIR…", summary: "run scenario files, each on a fresh in-memory store; print each failure as a diff",
		flags: func(fs *flag.FlagSet, o *options) {
			fs.BoolVar(&o.verbose, "v", false, "also name each scenario that passes or is pending")
		},
		noDB: true, args: true, run: runScenarios,
	},
	backupCmd, verifyCmd, restoreCmd, // cmd_backup.go
	importCmd, // cmd_import.go
	exportCmd, // cmd_export.go
}

// dryRun is the -dry-run flag of the commands that change money,
// certificates or the region's parameters.
func dryRun(c *command) bool {
	switch c.name {
	case "close", "rollover", "cancel-overdue", "category", "budget", "parameter":
		return true
	}
	return false
}

func maxTTLFlag(fs *flag.FlagSet, o *options) {
	fs.DurationVar(&o.maxTTL, "max-token-ttl", api.DefaultMaxTokenTTL, "longest token lifetime issued or accepted (env EDUFUND_MAX_TOKEN_TTL)")
}

func serveFlags(fs *flag.FlagSet, o *options) {
	fs.StringVar(&o.addr, "addr", "127.0.0.1:8080", "listen address")
	fs.StringVar(&o.jwtKey, "jwt-key", "", "HS256 signing key, at least 32 bytes (env EDUFUND_JWT_KEY); empty: a random key for this run")
	fs.DurationVar(&o.tokenTTL, "token-ttl", 24*time.Hour, "lifetime of the demo tokens printed at start")
	fs.BoolVar(&o.demo, "demo", true, "load the demo region into a new, empty database and print demo tokens")
	fs.IntVar(&o.batch.Flushers, "batch-flushers", 0, "applications' batches committed at once (0: 2 on PostgreSQL, 1 on SQLite)")
	fs.DurationVar(&o.batch.Linger, "batch-linger", 0, "how long a batch waits at most for the applications of callers just answered (0: 300µs; negative: never)")
	fs.IntVar(&o.batch.MaxBatch, "batch-max", 0, "applications per batch at most (0: 128)")
	fs.StringVar(&o.clock, "clock", "", "demo and rehearsal only: start the server's clock at this local time of the demo region, such as 2026-12-10T10:00, and let it run on (refused with -region)")
	fs.StringVar(&o.oidc, "oidc", "", "the region's identity provider: OIDC configuration file (env EDUFUND_OIDC); with it, demo tokens need -jwt-key")
	fs.StringVar(&o.pprof, "pprof", "", "for profiling; never expose: serve net/http/pprof on this address (such as 127.0.0.1:6060), a listener of its own; empty: off")
	fs.DurationVar(&o.revocationRefresh, "revocation-refresh", 5*time.Second, "how often the revocation list is reloaded: the longest a token revoked elsewhere still works here")
	maxTTLFlag(fs, o)
}

// envFlags are the flags an environment variable sets when the command
// line does not. They are applied after parsing rather than as defaults,
// so that -h never prints a signing key or a database password.
var envFlags = []struct{ flag, env string }{
	{"db", "EDUFUND_DB"},
	{"region", "EDUFUND_REGION"},
	{"jwt-key", "EDUFUND_JWT_KEY"},
	{"oidc", "EDUFUND_OIDC"},
	{"max-token-ttl", "EDUFUND_MAX_TOKEN_TTL"},
}

func lookup(name string) *command {
	for _, c := range commands {
		if c.name == name {
			return c
		}
	}
	return nil
}

func (c *command) flagSet(o *options) *flag.FlagSet {
	fs := flag.NewFlagSet("server "+c.name, flag.ContinueOnError)
	// Parse returns its errors; run prints the usage, to stdout when it
	// was asked for and to stderr after a mistake.
	fs.SetOutput(io.Discard)
	if !c.noDB {
		fs.StringVar(&o.db, "db", "sqlite:edufund.db", "database: sqlite:PATH, sqlite::memory: or postgres://… (env EDUFUND_DB)")
		fs.StringVar(&o.region, "region", "", "region parameters file (env EDUFUND_REGION; see region.example.json); empty: the built-in demo region")
		fs.BoolVar(&o.portable, "portable", false, "PostgreSQL: the portable profile a Postgres-compatible distributed engine (CockroachDB, YugabyteDB) needs: no fast paths of one PostgreSQL server, every transaction serializable (storage.WithPortable)")
	}
	if c.flags != nil {
		c.flags(fs, o)
	}
	if dryRun(c) {
		fs.BoolVar(&o.dryRun, "dry-run", false, "print what the command would do and write nothing")
	}
	return fs
}

// usage writes the list of commands and the flags of serve, the default.
func usage(w io.Writer) {
	fmt.Fprint(w, "usage: server [command] [flags]\n\ncommands:\n")
	width := len("help")
	for _, c := range commands {
		width = max(width, len(c.name))
	}
	for _, c := range commands {
		fmt.Fprintf(w, "  %-*s %s\n", width, c.name, c.summary)
	}
	fmt.Fprintf(w, "  %-*s %s\n\n", width, "help", `print this list; "help COMMAND" or "COMMAND -h" prints a command's flags`)
	fmt.Fprintf(w, "flags of %s:\n", commands[0].name)
	commands[0].printFlags(w)
}

// usage writes the command's usage line and flags.
func (c *command) usage(w io.Writer) {
	fmt.Fprintf(w, "usage: server %s %s\n\n%s\n\nflags:\n", c.name, cmp.Or(c.synopsis, "[flags]"), c.summary)
	c.printFlags(w)
}

func (c *command) printFlags(w io.Writer) {
	fs := c.flagSet(new(options))
	fs.SetOutput(w)
	fs.PrintDefaults()
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	name, named := commands[0].name, false
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		name, args, named = args[0], args[1:], true
	}
	if name == "help" {
		return help(args, stdout, stderr)
	}
	cmd := lookup(name)
	if cmd == nil {
		usage(stderr)
		return fmt.Errorf("unknown command %q", name)
	}
	var o options
	fs := cmd.flagSet(&o)
	if err := fs.Parse(args); err != nil {
		switch {
		case errors.Is(err, flag.ErrHelp) && named:
			cmd.usage(stdout)
			return nil
		case errors.Is(err, flag.ErrHelp):
			usage(stdout)
			return nil
		}
		cmd.usage(stderr)
		return err
	}
	if fs.NArg() > 0 && !cmd.args {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	for _, e := range envFlags {
		if v := os.Getenv(e.env); v != "" && !set[e.flag] && fs.Lookup(e.flag) != nil {
			if err := fs.Set(e.flag, v); err != nil {
				return fmt.Errorf("%s: %w", e.env, err)
			}
		}
	}
	switch {
	case o.batch.Flushers < 0:
		return fmt.Errorf("-batch-flushers: %d: must be 0 (the default) or more", o.batch.Flushers)
	case o.batch.MaxBatch < 0:
		return fmt.Errorf("-batch-max: %d: must be 0 (the default) or more", o.batch.MaxBatch)
	case fs.Lookup("max-token-ttl") != nil && o.maxTTL <= 0:
		return fmt.Errorf("-max-token-ttl (or EDUFUND_MAX_TOKEN_TTL): %v: must be a positive duration such as 24h", o.maxTTL)
	}
	s := &session{o: o, args: fs.Args(), stdout: stdout, stderr: stderr}
	if cmd.noDB {
		return cmd.run(ctx, s)
	}

	cfg := demo.Config(enrollment.DefaultConfig())
	s.region = "demo region " + demo.Region
	if o.region != "" {
		r, err := region.Load(o.region)
		if err != nil {
			return fmt.Errorf("-region: %w", err)
		}
		cfg, s.region = r.Apply(enrollment.DefaultConfig()), r.Name
		switch {
		case cmd.name == "demo", cmd.name == "serve" && set["demo"] && o.demo:
			return errors.New("the demo data needs the built-in demo region: drop -region to load it")
		case cmd.name == "serve":
			s.o.demo = false
		}
		if o.clock != "" {
			return errors.New("-clock is for the demo region only: a real region's server runs on the real clock")
		}
	}
	var clock funding.Clock = funding.SystemClock{}
	if o.clock != "" {
		at, err := time.ParseInLocation("2006-01-02T15:04", o.clock, cfg.Location)
		if err != nil {
			return fmt.Errorf("-clock: must be a local time such as 2026-12-10T10:00, got %q", o.clock)
		}
		clock = startedAt(at)
	}

	if file := storage.SQLiteFile(o.db); file != "" {
		release, err := lockDatabase(file, cmd)
		if err != nil {
			return err
		}
		defer release()
	}
	s.logger = slog.New(slog.NewJSONHandler(stderr, nil))
	opts := []storage.Option{storage.WithLogger(s.logger)}
	if o.portable {
		opts = append(opts, storage.WithPortable())
	}
	db, err := storage.Open(ctx, o.db, opts...)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		return err
	}
	s.db = db
	s.svc = enrollment.NewService(db, clock, cfg)
	s.op = newOperator(s.svc, db, stdout, o.dryRun)
	s.today = s.svc.Today()
	return cmd.run(ctx, s)
}

// help is "server help [command]".
func help(args []string, stdout, stderr io.Writer) error {
	switch {
	case len(args) == 0:
		usage(stdout)
		return nil
	case len(args) > 1:
		return fmt.Errorf("unexpected arguments %q", args[1:])
	}
	cmd := lookup(args[0])
	if cmd == nil {
		usage(stderr)
		return fmt.Errorf("unknown command %q", args[0])
	}
	cmd.usage(stdout)
	return nil
}

func runToken(ctx context.Context, s *session) error {
	o := s.o
	if o.jwtKey == "" {
		return errors.New("-jwt-key (or EDUFUND_JWT_KEY) is required: the token must be signed with the server's key")
	}
	auth, err := api.NewAuth([]byte(o.jwtKey), o.tokenTTL, o.maxTTL)
	if err != nil {
		return fmt.Errorf("-jwt-key, -ttl, -max-token-ttl: %w", err)
	}
	tok, err := auth.Issue(api.Principal{Role: api.Role(o.role), Subject: o.subject, Tenant: o.tenant})
	if err != nil {
		return err
	}
	fmt.Fprintln(s.stdout, tok)
	return nil
}

// loadDemo loads the demo region, or replays it on a database that holds
// it. A database whose demo another version of edufund made is refused by
// the replay (its requests differ): say what to do rather than how it failed.
func loadDemo(ctx context.Context, svc *enrollment.Service, today funding.Date) (demo.Result, error) {
	res, err := demo.Load(ctx, svc, today)
	if errors.Is(err, enrollment.ErrIdempotencyConflict) {
		return res, fmt.Errorf("the demo region in this database was made by another version of edufund; "+
			"start on a new database (-db sqlite:PATH) or remove the old file: %w", err)
	}
	return res, err
}

// empty reports whether the database holds no catalog and no certificates.
func empty(ctx context.Context, db *storage.DB) (bool, error) {
	ids, err := db.CertificateIDs(ctx, uuid.Nil, 1)
	if err != nil || len(ids) > 0 {
		return false, err
	}
	// One program is enough; a search without words would count them all.
	found, err := db.Bun().NewSelect().Table("programs").Limit(1).Exists(ctx)
	return !found, err
}

func serve(ctx context.Context, o options, db *storage.DB, svc *enrollment.Service, today funding.Date, logger *slog.Logger, out io.Writer, regionName string) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	auth, verifier, signInNote, err := signIn(ctx, o, logger)
	if err != nil {
		return err
	}
	revs, err := revocations(ctx, o, db, logger)
	if err != nil {
		return err
	}

	var res *demo.Result
	if o.demo {
		load := demo.Present(ctx, svc, today.Year())
		if !load {
			if load, err = empty(ctx, db); err != nil {
				return err
			}
		}
		if load {
			r, err := loadDemo(ctx, svc, today)
			if err != nil {
				return err
			}
			res = &r
		}
	}

	// Applications arriving together share a commit (each is still
	// answered alone, after it); Close runs those waiting when the server
	// stops.
	batcher := batch.NewBatcher(svc, o.batch)
	defer batcher.Close()
	// The outbox's relay and the webhook sender run beside the requests,
	// never inside them: a dead receiver slows only its own deliveries.
	go webhook.Relay(ctx, svc, 250*time.Millisecond, logger)
	go (&webhook.Sender{Service: svc, Logger: logger}).Run(ctx)
	h, err := api.New(api.Config{
		Service: svc, Submitter: batcher, Store: db, Auth: auth, Verifier: verifier, Revocations: revs, Logger: logger,

		Ready: func(ctx context.Context) error { return db.Bun().PingContext(ctx) },
	})
	if err != nil {
		return err
	}
	// The pages sign callers in with the API's verifier and revocations.
	pages, err := web.New(web.Config{Service: svc, Verifier: verifier, Revocations: revs, Auth: auth, Demo: res, Logger: logger})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           routes(h, pages),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	base := "http://" + ln.Addr().String()
	fmt.Fprintf(out, "edufund listening on %s (database: %s, region: %s, today there: %s)\n", base, db.Dialect(), regionName, svc.Today())
	bo := batcher.Options()
	fmt.Fprintf(out, "  applications: batches of up to %d, %d at once, linger %v\n", bo.MaxBatch, bo.Flushers, bo.Linger)
	fmt.Fprintf(out, "  memory: %s\n", gcPolicy())
	fmt.Fprintf(out, "  OpenAPI document: %s/v1/openapi.json   health: %s/healthz   metrics: %s/metrics\n", base, base, base)
	fmt.Fprintf(out, "  pages: %s/\n", base)
	fmt.Fprintf(out, "  sign-in: %s\n  tokens live at most %v; revocations made elsewhere are seen within %v\n", signInNote, o.maxTTL, o.revocationRefresh)
	if res != nil {
		printIDs(out, *res)
		if auth != nil {
			printTokens(out, auth, *res, o.tokenTTL, base)
		}
	}

	if o.pprof != "" {
		pln, err := net.Listen("tcp", o.pprof)
		if err != nil {
			return fmt.Errorf("-pprof: %w", err)
		}
		defer pln.Close()
		fmt.Fprintf(out, "  pprof (for profiling; never expose): http://%s/debug/pprof/\n", pln.Addr())
		go func() { _ = http.Serve(pln, pprofMux()) }()
	}

	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	fmt.Fprintln(out, "shutting down: finishing requests in flight …")
	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	fmt.Fprintln(out, "stopped")
	return nil
}

// The server's own policy for Go's collector, applied where the
// environment sets none (GOGC, GOMEMLIMIT win): a heap allowed to grow to
// five times what is live before a collection, capped by a soft limit.
// Under load the server's live heap is tens of MB, so the cap is seldom
// reached; at Go's default (GOGC=100) the collector took a fifth of its
// CPU per application (examples/bench/http, storage/BENCHMARKS.md). A host
// with less memory to give sets GOMEMLIMIT lower, or GOGC.
const (
	serverGOGC     = 400
	serverMemLimit = 768 << 20
)

// gcPolicy applies the policy and says which is in force.
func gcPolicy() string {
	gogc, limit := os.Getenv("GOGC"), os.Getenv("GOMEMLIMIT")
	if gogc == "" {
		debug.SetGCPercent(serverGOGC)
	}
	if limit == "" {
		debug.SetMemoryLimit(serverMemLimit)
	}
	return fmt.Sprintf("GOGC=%s, soft limit %s (the server's own where the environment sets none)",
		cmp.Or(gogc, strconv.Itoa(serverGOGC)), cmp.Or(limit, strconv.Itoa(serverMemLimit>>20)+" MiB"))
}

// pprofMux serves the profiles of net/http/pprof, apart from the API's
// routes so that the API's listener never exposes them.
func pprofMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}

// shiftedClock is the wall clock moved by an offset: the demo's -clock,
// which plays a day the calendar is not at (startedAt reads at when made).
type shiftedClock struct{ offset time.Duration }

func startedAt(at time.Time) shiftedClock { return shiftedClock{offset: time.Until(at)} }

func (c shiftedClock) Now() time.Time { return time.Now().Add(c.offset) }

var nonWord = regexp.MustCompile(`[^A-Z0-9]+`)

// latin spells Russian letters in Latin (the passport transliteration),
// so that a demo name in Russian makes a shell variable a reader can type.
var latin = strings.NewReplacer(
	"А", "A", "Б", "B", "В", "V", "Г", "G", "Д", "D", "Е", "E", "Ё", "E", "Ж", "ZH", "З", "Z", "И", "I", "Й", "I",
	"К", "K", "Л", "L", "М", "M", "Н", "N", "О", "O", "П", "P", "Р", "R", "С", "S", "Т", "T", "У", "U", "Ф", "F",
	"Х", "KH", "Ц", "TS", "Ч", "CH", "Ш", "SH", "Щ", "SHCH", "Ъ", "IE", "Ы", "Y", "Ь", "", "Э", "E", "Ю", "IU", "Я", "IA")

func envName(prefix, s string) string {
	return prefix + strings.Trim(nonWord.ReplaceAllString(latin.Replace(strings.ToUpper(s)), "_"), "_")
}

func printIDs(out io.Writer, r demo.Result) {
	fmt.Fprintf(out, "\n# demo region %s, %d: municipalities %s and %s\n", demo.Region, r.Year, demo.MunCity, demo.MunRural)
	for _, p := range r.Providers {
		fmt.Fprintf(out, "export %s=%s\n", envName("PROVIDER_", p.Name), p.ID)
	}
	for _, g := range r.Groups {
		fmt.Fprintf(out, "export %s=%s\n", envName("GROUP_", strings.TrimSuffix(strings.TrimSuffix(g.Name, "-A"), "-1")), g.ID)
	}
	for _, c := range r.Certificates {
		fmt.Fprintf(out, "export %s=%s\n", envName("CERT_", c.Name), c.ID)
	}
	fmt.Fprintf(out, "export CONTRACT_DEMO=%s\n", r.Contract)
}

func printTokens(out io.Writer, auth *api.Auth, r demo.Result, ttl time.Duration, base string) {
	fmt.Fprintf(out, "\n# bearer tokens of the demo roles, valid for %s\n", ttl)
	for _, p := range r.Principals {
		tok, err := auth.Issue(api.Principal{Role: api.Role(p.Role), Subject: p.Subject, Tenant: p.Tenant})
		if err != nil {
			fmt.Fprintf(out, "# %s: %v\n", p.Name, err)
			continue
		}
		fmt.Fprintf(out, "# %s\nexport %s=%s\n", p.Name, envName("TOKEN_", p.Subject), tok)
	}
	fmt.Fprintf(out, "\n# try:\n#   curl -s -H \"Authorization: Bearer $TOKEN_GUARDIAN_IVANOVA\" %s/v1/certificates/$CERT_CHILD_ACTIVE_FUNDED\n", base)
	fmt.Fprintf(out, "#   curl -s '%s/v1/catalog?age=9&municipality=%s'\n\n", base, demo.MunCity)
}
