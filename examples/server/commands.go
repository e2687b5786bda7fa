package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/google/uuid"

	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/enrollment/batch"
	"github.com/edufund/edufund/funding"
	"github.com/edufund/edufund/storage"
)

// The operators' commands. Each that changes money, certificates or the
// region's parameters takes -dry-run: it runs the same service call on enrollment.Service.DryRun,
// which rolls back every transaction, and prints what would happen. The
// service refuses what its rules refuse (a month that has not started, a
// period that has not ended), whoever asks.

// operator is what a command runs on.
type operator struct {
	svc    *enrollment.Service
	db     *storage.DB
	out    io.Writer
	dryRun bool
}

func newOperator(svc *enrollment.Service, db *storage.DB, out io.Writer, dryRun bool) operator {
	if dryRun {
		svc = svc.DryRun()
	}
	return operator{svc: svc, db: db, out: out, dryRun: dryRun}
}

// would prefixes what a dry run reports.
func (o operator) would(done, dry string) string {
	if o.dryRun {
		return "dry run, nothing written: would have " + dry
	}
	return done
}

// key is a fresh idempotency key: a command run again is a new request, and
// the changes the commands make give the same result when repeated.
func key(cmd string) string { return "cli:" + cmd + ":" + uuid.NewString() }

func (o operator) closeMonth(ctx context.Context, m funding.Month) error {
	start := time.Now()
	fmt.Fprintf(o.out, "closing %s …\n", m)
	rep, err := batch.CloseMonth(ctx, o.svc, m, batch.CloseOptions{Workers: 2, Progress: func(r enrollment.CloseReport) {
		fmt.Fprintf(o.out, "  %6d contracts  %6d charged (%s)  %4d closed  %4d refused  %4d invoice lines  %d failed\n",
			r.Contracts, r.Charged, r.Amount, r.Closed, r.Refused, r.Lines, len(r.Failed))
	}})
	for id, ferr := range rep.Failed {
		fmt.Fprintf(o.out, "  failed: contract %s: %v\n", id, ferr)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(o.out, "%s %s in %s: %d contracts, %d charged for %s, %d closed, %d refused, %d invoice lines, %d failed\n",
		o.would("closed", "closed"), m, time.Since(start).Round(time.Millisecond), rep.Contracts, rep.Charged, rep.Amount, rep.Closed, rep.Refused, rep.Lines, len(rep.Failed))
	if len(rep.Failed) > 0 {
		return fmt.Errorf("%d contracts failed; run the close again to retry them", len(rep.Failed))
	}
	return nil
}

func (o operator) rollover(ctx context.Context, year int) error {
	start := time.Now()
	// The funding year named by -year is the period holding its 31 December:
	// the calendar year, or the school year starting on 1 September.
	from := o.svc.Config().PeriodOf(funding.MustDate(year, time.December, 31))
	fmt.Fprintf(o.out, "rolling over %s …\n", from)
	rep, err := o.svc.Rollover(ctx, from, func(r enrollment.RolloverReport) {
		fmt.Fprintf(o.out, "  %6d certificates  %6d granted  %s expired  %d failed\n", r.Certificates, r.Granted, r.Expired, len(r.Failed))
	})
	for id, ferr := range rep.Failed {
		fmt.Fprintf(o.out, "  failed: certificate %s: %v\n", id, ferr)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(o.out, "%s %s over to %s in %s: %d certificates, %d granted, %s expired, %d failed\n",
		o.would("rolled", "rolled"), rep.From, rep.To, time.Since(start).Round(time.Millisecond), rep.Certificates, rep.Granted, rep.Expired, len(rep.Failed))
	if len(rep.Failed) > 0 {
		return fmt.Errorf("%d certificates failed; run the rollover again to retry them", len(rep.Failed))
	}
	return nil
}

func (o operator) cancelOverdue(ctx context.Context) error {
	rep, err := o.svc.CancelAllOverdue(ctx, enrollment.AsSystem("cancel-overdue"), nil)
	for _, n := range rep.Cancelled {
		fmt.Fprintf(o.out, "  %s certificate %s: documents overdue\n", o.would("cancelled", "cancelled"), n)
	}
	for id, ferr := range rep.Failed {
		fmt.Fprintf(o.out, "  failed: certificate %s: %v\n", id, ferr)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(o.out, "%s %d of %d certificates for overdue documents, %d failed\n",
		o.would("cancelled", "cancelled"), len(rep.Cancelled), rep.Certificates, len(rep.Failed))
	if len(rep.Failed) > 0 {
		return fmt.Errorf("%d certificates failed; run the command again to retry them", len(rep.Failed))
	}
	return nil
}

// categoryChange is the category command's flags; empty ones keep the
// category's values.
type categoryChange struct {
	code, nominal, maxSum string
	// maxCount, hoursBase and hoursExtra are -1 when unset.
	maxCount, hoursBase, hoursExtra int
}

func (o operator) category(ctx context.Context, ch categoryChange) error {
	if ch.code == "" {
		return errors.New("-code: the category's code is required")
	}
	cur, err := o.svc.Category(ctx, ch.code)
	isNew := errors.Is(err, enrollment.ErrNotFound)
	if err != nil && !isNew {
		return err
	}
	next := cur
	next.Code = ch.code
	for _, f := range []struct {
		flag, value string
		dst         *funding.Money
	}{{"-nominal", ch.nominal, &next.Nominal}, {"-max-sum", ch.maxSum, &next.MaxSum}} {
		if f.value == "" {
			continue
		}
		if *f.dst, err = funding.ParseMoney(f.value); err != nil {
			return fmt.Errorf("%s: must be an amount such as 30000.00, got %q", f.flag, f.value)
		}
	}
	if ch.maxCount >= 0 {
		next.MaxCount = ch.maxCount
	}
	if ch.hoursBase >= 0 {
		next.HoursBase = ch.hoursBase
	}
	if ch.hoursExtra >= 0 {
		next.HoursExtra = ch.hoursExtra
	}
	if isNew && ch.nominal == "" && !next.InHours() {
		return fmt.Errorf("-nominal: category %q does not exist yet; its nominal (or -hours-base) is required", ch.code)
	}
	if err := next.Validate(); err != nil {
		return err
	}
	saved, err := o.svc.SaveCategory(ctx, key("category"), next, enrollment.AsSystem("category"))
	if err != nil {
		return err
	}
	was := "new"
	if !isNew {
		was = describeCategory(cur)
	}
	fmt.Fprintf(o.out, "%s category %s: %s → %s\n", o.would("changed", "changed"), saved.Code, was, describeCategory(saved))
	if !isNew && (!cur.Nominal.Equal(saved.Nominal) || cur.HoursBase != saved.HoursBase || cur.HoursExtra != saved.HoursExtra) {
		fmt.Fprintln(o.out, "  with it every funded certificate of the category moves to the new nominal in this period (a balance by the difference); new periods and newly funded certificates get it too")
	}
	return nil
}

func describeCategory(c certificate.Category) string {
	limit := func(n string, unlimited bool) string {
		if unlimited {
			return "no limit"
		}
		return n
	}
	if c.InHours() {
		return fmt.Sprintf("nominal %d+%d hours a week, at most %s certificates", c.HoursBase, c.HoursExtra,
			limit(fmt.Sprint(c.MaxCount), c.MaxCount == 0))
	}
	return fmt.Sprintf("nominal %s, at most %s certificates, at most %s in nominals", c.Nominal,
		limit(fmt.Sprint(c.MaxCount), c.MaxCount == 0), limit(c.MaxSum.String(), !c.MaxSum.IsPositive()))
}

func (o operator) budget(ctx context.Context, mun string, year int, limit string) error {
	if mun == "" {
		return errors.New("-municipality: the municipality's code is required")
	}
	amount, err := funding.ParseMoney(limit)
	if err != nil {
		return fmt.Errorf("-limit: must be an amount such as 5000000.00, got %q", limit)
	}
	period := o.svc.Config().PeriodOf(funding.MustDate(year, time.December, 31))
	was := "none"
	if cur, err := o.svc.Budget(ctx, mun, period); err == nil {
		was = funding.Kopecks(cur.Limit).String()
	} else if !errors.Is(err, enrollment.ErrNotFound) {
		return err
	}
	cnt, err := o.svc.SetBudget(ctx, key("budget"), enrollment.BudgetRequest{Municipality: mun, Period: period, Limit: amount, By: enrollment.AsSystem("budget")})
	if err != nil {
		return err
	}
	fmt.Fprintf(o.out, "%s the budget limit of %s for %s: %s → %s (reserved and spent: %s)\n", o.would("changed", "changed"),
		mun, period, was, funding.Kopecks(cnt.Limit), funding.Kopecks(cnt.Used))
	return nil
}

// parameterChange is the parameter command's flags.
type parameterChange struct {
	name, scope, from, value, reason string
}

// parameterNames lists the names of the parameters a region sets.
func parameterNames() string {
	names := make([]string, len(enrollment.Parameters))
	for i, d := range enrollment.Parameters {
		names[i] = d.Name
	}
	return strings.Join(names, ", ")
}

// parameters prints every version of the region's parameters, in the order
// they apply; the region file's have no version number ("file").
func (o operator) parameters(ctx context.Context) error {
	vs, err := o.svc.ParameterVersions(ctx, enrollment.AsSystem("parameters"))
	if err != nil {
		return err
	}
	if len(vs) == 0 {
		fmt.Fprintln(o.out, "no parameter versions: the region's own values apply (server parameter -h sets one)")
		return nil
	}
	tw := tabwriter.NewWriter(o.out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "VERSION\tNAME\tSCOPE\tFROM\tVALUE\tREASON")
	for _, v := range vs {
		version := "file"
		if v.Version != 0 {
			version = strconv.FormatInt(v.Version, 10)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", version, v.Name, cmp.Or(v.Scope, "-"), v.From, v.Value, v.Reason)
	}
	return tw.Flush()
}

// parameter records a new version of a parameter, as the system: the
// service checks the name, the scope, the value and the date as it does
// for an operator over HTTP, and a refusal names the flag.
func (o operator) parameter(ctx context.Context, ch parameterChange) error {
	var from funding.Date
	if ch.from != "" {
		var err error
		if from, err = funding.ParseDate(ch.from); err != nil {
			return fmt.Errorf("-from: must be a date such as 2026-09-01, got %q", ch.from)
		}
	}
	// What applied on that date before is the last version of the
	// parameter and scope from then or earlier.
	vs, err := o.svc.ParameterVersions(ctx, enrollment.AsSystem("parameter"))
	if err != nil {
		return err
	}
	saved, err := o.svc.SetParameter(ctx, key("parameter"), enrollment.ParameterRequest{Name: ch.name, Scope: ch.scope, From: from,
		Value: ch.value, Reason: ch.reason, By: enrollment.AsSystem("parameter")})
	var ve *funding.ValidationError
	if errors.As(err, &ve) {
		return fmt.Errorf("-%w", err) // its field is the flag's name
	}
	if err != nil {
		return err
	}
	was := "the region's own value"
	for _, v := range vs {
		if v.Name == saved.Name && v.Scope == saved.Scope && !v.From.After(saved.From) {
			was = v.Value
		}
	}
	scope := ""
	if saved.Scope != "" {
		scope = " for " + saved.Scope
	}
	fmt.Fprintf(o.out, "%s %s%s from %s: %s → %s (%s)\n", o.would("set", "set"), saved.Name, scope, saved.From, was, saved.Value, saved.Reason)
	return nil
}
