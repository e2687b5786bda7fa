// Command server is edufund's reference HTTP server, the one a region runs.
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
//	server token -role regional -subject op [-tenant T]
//	                                   print a bearer token signed with -jwt-key
//	server revoke -jti ID | -subject S [-issued-before T]
//	                                   revoke one token, or a subject's tokens
//
// The commands that change money or certificates take -dry-run: they run the
// same rules, print what they would do and write nothing.
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
// and prints a bearer token for each demo role.
package main

import (
	"context"
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
	dryRun           bool
	category         categoryChange
	municipality     string
	limit            string
	clock            string

	maxTTL, revocationRefresh time.Duration
	oidc, jti, issuedBefore   string
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	var o options
	fs := flag.NewFlagSet("server "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.db, "db", envOr("EDUFUND_DB", "sqlite:edufund.db"), "database: sqlite:PATH, sqlite::memory: or postgres://… (env EDUFUND_DB)")
	fs.StringVar(&o.region, "region", os.Getenv("EDUFUND_REGION"), "region parameters file (env EDUFUND_REGION; see region.example.json); empty: the built-in demo region")
	switch cmd {
	case "serve", "token", "revoke":
		maxTTL, err := maxTokenTTL()
		if err != nil {
			return err
		}
		fs.DurationVar(&o.maxTTL, "max-token-ttl", maxTTL, "longest token lifetime issued or accepted (env EDUFUND_MAX_TOKEN_TTL)")
	}
	switch cmd {
	case "serve":
		fs.StringVar(&o.addr, "addr", "127.0.0.1:8080", "listen address")
		fs.StringVar(&o.jwtKey, "jwt-key", os.Getenv("EDUFUND_JWT_KEY"), "HS256 signing key, at least 32 bytes (env EDUFUND_JWT_KEY); empty: a random key for this run")
		fs.DurationVar(&o.tokenTTL, "token-ttl", 24*time.Hour, "lifetime of the demo tokens printed at start")
		fs.BoolVar(&o.demo, "demo", true, "load the demo region into a new, empty database and print demo tokens")
		fs.IntVar(&o.batch.Flushers, "batch-flushers", 0, "applications' batches committed at once (0: 2 on PostgreSQL, 1 on SQLite)")
		fs.DurationVar(&o.batch.Linger, "batch-linger", 0, "how long a batch waits at most for the applications of callers just answered (0: 300µs; negative: never)")
		fs.IntVar(&o.batch.MaxBatch, "batch-max", 0, "applications per batch at most (0: 128)")
		fs.StringVar(&o.clock, "clock", "", "demo and rehearsal only: start the server's clock at this local time of the demo region, such as 2026-12-10T10:00, and let it run on (refused with -region)")
		fs.StringVar(&o.oidc, "oidc", os.Getenv("EDUFUND_OIDC"), "the region's identity provider: OIDC configuration file (env EDUFUND_OIDC); with it, demo tokens need -jwt-key")
		fs.DurationVar(&o.revocationRefresh, "revocation-refresh", 5*time.Second, "how often the revocation list is reloaded: the longest a token revoked elsewhere still works here")
	case "token":
		fs.StringVar(&o.jwtKey, "jwt-key", os.Getenv("EDUFUND_JWT_KEY"), "HS256 signing key of the server, at least 32 bytes (env EDUFUND_JWT_KEY; required)")
		fs.DurationVar(&o.tokenTTL, "ttl", 8*time.Hour, "lifetime of the token")
		fs.StringVar(&o.role, "role", "", "holder, provider, municipality, regional or federal (required)")
		fs.StringVar(&o.subject, "subject", "", "who the caller is, for logs and the ledger (required)")
		fs.StringVar(&o.tenant, "tenant", "", "what the caller acts for: guardian or person id, provider id, municipality code")
	case "revoke":
		fs.StringVar(&o.jti, "jti", "", "the id (jti) of the one token to revoke")
		fs.StringVar(&o.subject, "subject", "", "the subject whose tokens to revoke")
		fs.StringVar(&o.issuedBefore, "issued-before", "", "with -subject: revoke the tokens issued before this instant (RFC 3339; default now)")
	case "demo", "migrate":
	case "close":
		fs.StringVar(&o.month, "month", "", "the month to close, YYYY-MM (required)")
	case "rollover":
		fs.IntVar(&o.year, "year", 0, "the funding year to close; its successor is opened (required)")
	case "cancel-overdue":
	case "category":
		fs.StringVar(&o.category.code, "code", "", "the category's code (required)")
		fs.StringVar(&o.category.nominal, "nominal", "", "the nominal a period, such as 30000.00 (required for a new category)")
		fs.IntVar(&o.category.maxCount, "max-count", -1, "funded certificates the category may hold at most (0: no limit; unset: unchanged)")
		fs.StringVar(&o.category.maxSum, "max-sum", "", "the sum of its certificates' nominals at most (0.00: no limit; unset: unchanged)")
	case "budget":
		fs.StringVar(&o.municipality, "municipality", "", "the municipality's code (required)")
		fs.IntVar(&o.year, "year", 0, "the funding year, as for rollover (required)")
		fs.StringVar(&o.limit, "limit", "", "the limit of the money its certificates reserve and spend in the year, such as 5000000.00 (required)")
	default:
		return fmt.Errorf("unknown command %q: want serve, migrate, demo, close, rollover, cancel-overdue, category, budget, token or revoke", cmd)
	}
	switch cmd {
	case "close", "rollover", "cancel-overdue", "category", "budget":
		fs.BoolVar(&o.dryRun, "dry-run", false, "print what the command would do and write nothing")
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	switch {
	case o.batch.Flushers < 0:
		return fmt.Errorf("-batch-flushers: %d: must be 0 (the default) or more", o.batch.Flushers)
	case o.batch.MaxBatch < 0:
		return fmt.Errorf("-batch-max: %d: must be 0 (the default) or more", o.batch.MaxBatch)
	}
	if cmd == "token" {
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
		fmt.Fprintln(stdout, tok)
		return nil
	}
	cfg := demo.Config(enrollment.DefaultConfig())
	regionName := "demo region " + demo.Region
	if o.region != "" {
		r, err := region.Load(o.region)
		if err != nil {
			return fmt.Errorf("-region: %w", err)
		}
		cfg, regionName = r.Apply(enrollment.DefaultConfig()), r.Name
		demoSet := false
		fs.Visit(func(f *flag.Flag) { demoSet = demoSet || f.Name == "demo" })
		switch {
		case cmd == "demo", cmd == "serve" && demoSet && o.demo:
			return errors.New("the demo data needs the built-in demo region: drop -region to load it")
		case cmd == "serve":
			o.demo = false
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

	logger := slog.New(slog.NewJSONHandler(stderr, nil))
	db, err := storage.Open(ctx, o.db, storage.WithLogger(logger))
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		return err
	}
	svc := enrollment.NewService(db, clock, cfg)
	today := svc.Today()
	op := newOperator(svc, db, stdout, o.dryRun)

	switch cmd {
	case "migrate":
		fmt.Fprintf(stdout, "migrations applied to %s database\n", db.Dialect())
		return nil
	case "demo":
		res, err := demo.Load(ctx, svc, today)
		if err != nil {
			return err
		}
		printIDs(stdout, res)
		return nil
	case "close":
		m, err := funding.ParseMonth(o.month)
		if err != nil {
			return fmt.Errorf("-month: %w", err)
		}
		return op.closeMonth(ctx, m)
	case "revoke":
		return revoke(ctx, o, db, stdout)
	case "rollover":
		if o.year < 1900 || o.year > 2998 {
			return errors.New("-year: a year such as 2026 is required")
		}
		return op.rollover(ctx, o.year)
	case "cancel-overdue":
		return op.cancelOverdue(ctx)
	case "category":
		return op.category(ctx, o.category)
	case "budget":
		if o.year < 1900 || o.year > 2998 {
			return errors.New("-year: a year such as 2026 is required")
		}
		return op.budget(ctx, o.municipality, o.year, o.limit)
	}
	return serve(ctx, o, db, svc, today, logger, stdout, regionName)
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
		Service: svc, Submitter: batcher, Store: db, Pager: db, Auth: auth, Verifier: verifier, Revocations: revs, Logger: logger,
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
	fmt.Fprintf(out, "edufund listening on %s (database: %s, region: %s, today there: %s)\n", base, db.Dialect(), regionName, svc.Today())
	bo := batcher.Options()
	fmt.Fprintf(out, "  applications: batches of up to %d, %d at once, linger %v\n", bo.MaxBatch, bo.Flushers, bo.Linger)
	fmt.Fprintf(out, "  OpenAPI document: %s/v1/openapi.json   health: %s/healthz   metrics: %s/metrics\n", base, base, base)
	fmt.Fprintf(out, "  sign-in: %s\n  tokens live at most %v; revocations made elsewhere are seen within %v\n", signInNote, o.maxTTL, o.revocationRefresh)
	if res != nil {
		printIDs(out, *res)
		if auth != nil {
			printTokens(out, auth, *res, o.tokenTTL, base)
		}
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

// shiftedClock is the wall clock moved by an offset: the demo's -clock,
// which plays a day the calendar is not at (startedAt reads at when made).
type shiftedClock struct{ offset time.Duration }

func startedAt(at time.Time) shiftedClock { return shiftedClock{offset: time.Until(at)} }

func (c shiftedClock) Now() time.Time { return time.Now().Add(c.offset) }

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
