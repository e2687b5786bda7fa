// Command server is edufund's reference HTTP server, the one a region runs.
// "server -h" lists its commands and the flags of serve, "server COMMAND -h"
// the flags of another:
//
//	server [flags]                     serve the API (default)
//	server migrate [flags]             apply the database migrations
//	server demo [flags]                load the demo region (idempotent) and print its ids
//	server close -month 2026-10        run the monthly close of a month
//	server rollover -year 2026         close a funding year and open the next
//	server token -role regional -subject op [-tenant T]
//	                                   print a bearer token signed with -jwt-key
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
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"regexp"
	"strings"
	"syscall"
	"time"

	"github.com/google/uuid"

	"github.com/edufund/edufund/catalog"
	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/examples/server/api"
	"github.com/edufund/edufund/examples/server/demo"
	"github.com/edufund/edufund/examples/server/region"
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
	region           string
	tokenTTL         time.Duration
	demo             bool
	month            string
	role, subject    string
	tenant           string
	year             int
	batch            enrollment.BatcherOptions
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
	run   func(ctx context.Context, s *session) error
	// inUse says what to do instead while another process holds the
	// SQLite file (see lockDatabase).
	inUse string
}

// A session is what a command runs with: its options, and the database,
// service and region for the commands that use them.
type session struct {
	o      options
	stdout io.Writer
	logger *slog.Logger
	db     *storage.DB
	svc    *enrollment.Service
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
			res, err := demo.Load(ctx, s.svc, s.today)
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
			return closeMonth(ctx, s.svc, s.db, m, s.stdout)
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
			return rollover(ctx, s.svc, s.db, s.o.year, s.stdout)
		},
		inUse: "run the rollover through the server's API instead (POST /v1/admin/rollover with a regional token), or stop the server first",
	},
	{
		name: "token", synopsis: "-jwt-key KEY -role regional -subject op [-tenant T] [flags]", summary: "print a bearer token signed with -jwt-key",
		flags: func(fs *flag.FlagSet, o *options) {
			fs.StringVar(&o.jwtKey, "jwt-key", "", "HS256 signing key of the server, at least 32 bytes (env EDUFUND_JWT_KEY; required)")
			fs.DurationVar(&o.tokenTTL, "ttl", 8*time.Hour, "lifetime of the token")
			fs.StringVar(&o.role, "role", "", "holder, provider, municipality, regional or federal (required)")
			fs.StringVar(&o.subject, "subject", "", "who the caller is, for logs and the ledger (required)")
			fs.StringVar(&o.tenant, "tenant", "", "what the caller acts for: guardian or person id, provider id, municipality code")
		},
		noDB: true, run: runToken,
	},
}

func serveFlags(fs *flag.FlagSet, o *options) {
	fs.StringVar(&o.addr, "addr", "127.0.0.1:8080", "listen address")
	fs.StringVar(&o.jwtKey, "jwt-key", "", "HS256 signing key, at least 32 bytes (env EDUFUND_JWT_KEY); empty: a random key for this run")
	fs.DurationVar(&o.tokenTTL, "token-ttl", 24*time.Hour, "lifetime of the demo tokens printed at start")
	fs.BoolVar(&o.demo, "demo", true, "load the demo region into a new, empty database and print demo tokens")
	fs.IntVar(&o.batch.Flushers, "batch-flushers", 0, "applications' batches committed at once (0: 2 on PostgreSQL, 1 on SQLite)")
	fs.DurationVar(&o.batch.Linger, "batch-linger", 0, "how long a batch waits at most for the applications of callers just answered (0: 300µs; negative: never)")
	fs.IntVar(&o.batch.MaxBatch, "batch-max", 0, "applications per batch at most (0: 128)")
}

// envFlags are the flags an environment variable sets when the command
// line does not. They are applied after parsing rather than as defaults,
// so that -h never prints a signing key or a database password.
var envFlags = []struct{ flag, env string }{
	{"db", "EDUFUND_DB"},
	{"region", "EDUFUND_REGION"},
	{"jwt-key", "EDUFUND_JWT_KEY"},
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
	}
	if c.flags != nil {
		c.flags(fs, o)
	}
	return fs
}

// usage writes the list of commands and the flags of serve, the default.
func usage(w io.Writer) {
	fmt.Fprint(w, "usage: server [command] [flags]\n\ncommands:\n")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, "  help      print this list; \"help COMMAND\" or \"COMMAND -h\" prints a command's flags\n\n")
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
	if fs.NArg() > 0 {
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
	}
	s := &session{o: o, stdout: stdout}
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
	}

	if file := storage.SQLiteFile(o.db); file != "" {
		release, err := lockDatabase(file, cmd)
		if err != nil {
			return err
		}
		defer release()
	}
	s.logger = slog.New(slog.NewJSONHandler(stderr, nil))
	db, err := storage.Open(ctx, o.db, storage.WithLogger(s.logger))
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		return err
	}
	s.db = db
	s.svc = enrollment.NewService(db, funding.SystemClock{}, cfg)
	s.today = funding.DateOf(time.Now())
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
	auth, err := api.NewAuth([]byte(o.jwtKey), o.tokenTTL)
	if err != nil {
		return err
	}
	tok, err := auth.Issue(api.Principal{Role: api.Role(o.role), Subject: o.subject, Tenant: o.tenant})
	if err != nil {
		return err
	}
	fmt.Fprintln(s.stdout, tok)
	return nil
}

func closeMonth(ctx context.Context, svc *enrollment.Service, db *storage.DB, m funding.Month, out io.Writer) error {
	start := time.Now()
	fmt.Fprintf(out, "closing %s …\n", m)
	rep, err := svc.CloseMonthBatched(ctx, db, m, enrollment.CloseBatchOptions{Workers: 2, Progress: func(r enrollment.CloseReport) {
		fmt.Fprintf(out, "  %6d contracts  %6d charged (%s)  %4d closed  %4d refused  %4d invoice lines  %d failed\n",
			r.Contracts, r.Charged, r.Amount, r.Closed, r.Refused, r.Lines, len(r.Failed))
	}})
	for id, ferr := range rep.Failed {
		fmt.Fprintf(out, "  failed: contract %s: %v\n", id, ferr)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "closed %s in %s: %d contracts, %d charged for %s, %d closed, %d refused, %d invoice lines, %d failed\n",
		m, time.Since(start).Round(time.Millisecond), rep.Contracts, rep.Charged, rep.Amount, rep.Closed, rep.Refused, rep.Lines, len(rep.Failed))
	if len(rep.Failed) > 0 {
		return fmt.Errorf("%d contracts failed; run the close again to retry them", len(rep.Failed))
	}
	return nil
}

func rollover(ctx context.Context, svc *enrollment.Service, db *storage.DB, year int, out io.Writer) error {
	start := time.Now()
	// The funding year named by -year is the period holding its 31 December:
	// the calendar year, or the school year starting on 1 September.
	from := svc.Config().PeriodOf(funding.MustDate(year, time.December, 31))
	fmt.Fprintf(out, "rolling over %s …\n", from)
	rep, err := svc.Rollover(ctx, db, from, func(r enrollment.RolloverReport) {
		fmt.Fprintf(out, "  %6d certificates  %6d granted  %s expired  %d failed\n", r.Certificates, r.Granted, r.Expired, len(r.Failed))
	})
	for id, ferr := range rep.Failed {
		fmt.Fprintf(out, "  failed: certificate %s: %v\n", id, ferr)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "rolled %s over to %s in %s: %d certificates, %d granted, %s expired, %d failed\n",
		rep.From, rep.To, time.Since(start).Round(time.Millisecond), rep.Certificates, rep.Granted, rep.Expired, len(rep.Failed))
	if len(rep.Failed) > 0 {
		return fmt.Errorf("%d certificates failed; run the rollover again to retry them", len(rep.Failed))
	}
	return nil
}

// empty reports whether the database holds no catalog and no certificates.
func empty(ctx context.Context, db *storage.DB) (bool, error) {
	ids, err := db.CertificateIDs(ctx, uuid.Nil, 1)
	if err != nil || len(ids) > 0 {
		return false, err
	}
	var offers []enrollment.Offer
	err = db.InTx(ctx, func(ctx context.Context, tx enrollment.Tx) error {
		var err error
		offers, err = tx.Catalog(ctx, catalog.Filter{})
		return err
	})
	return len(offers) == 0, err
}

func serve(ctx context.Context, o options, db *storage.DB, svc *enrollment.Service, today funding.Date, logger *slog.Logger, out io.Writer, regionName string) error {
	key := []byte(o.jwtKey)
	randomKey := len(key) == 0
	if randomKey {
		key = make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return err
		}
	}
	auth, err := api.NewAuth(key, o.tokenTTL)
	if err != nil {
		return fmt.Errorf("-jwt-key: %w", err)
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
			r, err := demo.Load(ctx, svc, today)
			if err != nil {
				return err
			}
			res = &r
		}
	}

	// Applications arriving together share a commit (each is still
	// answered alone, after it); Close runs those waiting when the server
	// stops.
	batcher := enrollment.NewBatcher(svc, o.batch)
	defer batcher.Close()
	h, err := api.New(api.Config{
		Service: svc, Submitter: batcher, Store: db, Pager: db, Auth: auth, Logger: logger, Clock: funding.SystemClock{},
		Owners: api.StoreOwners(db),
		Ready:  func(ctx context.Context) error { return db.Bun().PingContext(ctx) },
	})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	base := "http://" + ln.Addr().String()
	fmt.Fprintf(out, "edufund listening on %s (database: %s, region: %s)\n", base, db.Dialect(), regionName)
	bo := batcher.Options()
	fmt.Fprintf(out, "  applications: batches of up to %d, %d at once, linger %v\n", bo.MaxBatch, bo.Flushers, bo.Linger)
	fmt.Fprintf(out, "  OpenAPI document: %s/v1/openapi.json   health: %s/healthz   metrics: %s/metrics\n", base, base, base)
	if randomKey {
		fmt.Fprintln(out, "  signing key: random for this run (set -jwt-key or EDUFUND_JWT_KEY to keep tokens across restarts)")
	}
	if res != nil {
		printIDs(out, *res)
		printTokens(out, auth, *res, o.tokenTTL, base)
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

var nonWord = regexp.MustCompile(`[^A-Z0-9]+`)

func envName(prefix, s string) string {
	return prefix + strings.Trim(nonWord.ReplaceAllString(strings.ToUpper(s), "_"), "_")
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
	fmt.Fprintf(out, "#   curl -s -H \"Authorization: Bearer $TOKEN_GUARDIAN_IVANOVA\" '%s/v1/catalog?age=9&municipality=%s'\n\n", base, demo.MunCity)
}
