package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/funding"
)

// The forecast and what-if commands: reads that write nothing, as the
// system (enrollment.Service.Forecast and WhatIf).

// forecast prints each municipality's budget forecast to the end of the
// current period: a summary table, then what its live contracts will
// still be charged month by month.
func (o operator) forecast(ctx context.Context) error {
	fc, err := o.svc.Forecast(ctx, enrollment.AsSystem("forecast"))
	if err != nil {
		return err
	}
	if len(fc) == 0 {
		fmt.Fprintln(o.out, "no municipality takes part in the children's scheme")
		return nil
	}
	fmt.Fprintf(o.out, "budget forecast of %s on %s (nothing written)\n\n", fc[0].Period, o.svc.Today())
	if err := forecastTable(o.out, fc); err != nil {
		return err
	}
	fmt.Fprintln(o.out, "\nstill to be charged from the live contracts' reserves, by month:")
	tw := tabwriter.NewWriter(o.out, 0, 0, 2, ' ', tabwriter.AlignRight)
	head := []string{"MUNICIPALITY"}
	for _, m := range fc[0].Scheduled {
		head = append(head, m.Month.String())
	}
	fmt.Fprintln(tw, strings.Join(head, "\t")+"\t")
	for _, f := range fc {
		row := []string{f.Municipality}
		for _, m := range f.Scheduled {
			row = append(row, m.Amount.String())
		}
		fmt.Fprintln(tw, strings.Join(row, "\t")+"\t")
	}
	return tw.Flush()
}

// forecastTable prints one line per municipality: its limit, what is
// spent, reserved and queued, the need and the headroom.
func forecastTable(w io.Writer, fc []enrollment.MunicipalityForecast) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "MUNICIPALITY\tLIMIT\tSPENT\tRESERVED\tCONTRACTS\tQUEUED\tQUEUE MONEY\tNEED\tHEADROOM\t")
	for _, f := range fc {
		limit, headroom := "no limit", "-"
		if !f.Unlimited {
			limit, headroom = f.Limit.String(), f.Headroom.String()
			if f.Over() {
				headroom += " OVER"
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\t%s\t%s\t%s\t\n", f.Municipality, limit, f.Spent, f.Reserved, f.Contracts, f.Queued, f.QueueMoney, f.Need, headroom)
	}
	return tw.Flush()
}

// whatIfChange is the what-if command's flags: a parameter's version or
// a category's change.
type whatIfChange struct {
	parameter, scope, from, value, reason string
	category, nominal, maxSum             string
	maxCount                              int
}

// whatIfFlag names the flag of a field of the service's refusal.
var whatIfFlag = map[string]string{
	"name": "parameter", "scope": "scope", "from": "from", "value": "value", "reason": "reason",
	"category.code": "category", "category.nominal": "nominal", "category.max_count": "max-count", "category.max_sum": "max-sum",
}

// whatIf prints what a parameter's version or a category would do if it
// were made now; nothing is written.
func (o operator) whatIf(ctx context.Context, ch whatIfChange) error {
	p := enrollment.Proposal{By: enrollment.AsSystem("what-if")}
	switch {
	case (ch.parameter == "") == (ch.category == ""):
		return errors.New("-parameter or -category: name either a parameter (with -from and -value) or a category (with -nominal)")
	case ch.parameter != "":
		if ch.nominal != "" || ch.maxSum != "" || ch.maxCount >= 0 {
			return errors.New("-nominal, -max-count, -max-sum: they go with -category, not -parameter")
		}
		var from funding.Date
		if ch.from != "" {
			var err error
			if from, err = funding.ParseDate(ch.from); err != nil {
				return fmt.Errorf("-from: must be a date such as 2026-09-01, got %q", ch.from)
			}
		}
		p.Parameter = &enrollment.ParameterRequest{Name: ch.parameter, Scope: ch.scope, From: from, Value: ch.value, Reason: ch.reason}
	default:
		if ch.scope != "" || ch.from != "" || ch.value != "" || ch.reason != "" {
			return errors.New("-scope, -from, -value, -reason: they go with -parameter, not -category")
		}
		cat, err := o.proposedCategory(ctx, categoryChange{code: ch.category, nominal: ch.nominal, maxSum: ch.maxSum, maxCount: ch.maxCount})
		if err != nil {
			return err
		}
		p.Category = &cat
	}
	rep, err := o.svc.WhatIf(ctx, p)
	var ve *funding.ValidationError
	if errors.As(err, &ve) {
		if flag, ok := whatIfFlag[ve.Field]; ok {
			named := *ve
			named.Field = flag
			return fmt.Errorf("-%w", &named)
		}
	}
	if err != nil {
		return err
	}
	printWhatIf(o.out, rep)
	return nil
}

// proposedCategory is the category as it is with the flags' changes, as
// the category command makes it.
func (o operator) proposedCategory(ctx context.Context, ch categoryChange) (certificate.Category, error) {
	cur, err := o.svc.Category(ctx, ch.code)
	isNew := errors.Is(err, enrollment.ErrNotFound)
	if err != nil && !isNew {
		return cur, err
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
			return next, fmt.Errorf("%s: must be an amount such as 30000.00, got %q", f.flag, f.value)
		}
	}
	if ch.maxCount >= 0 {
		next.MaxCount = ch.maxCount
	}
	if isNew && ch.nominal == "" {
		return next, fmt.Errorf("-nominal: category %q does not exist yet; its nominal is required", ch.code)
	}
	return next, nil
}

// printWhatIf writes a what-if report.
func printWhatIf(w io.Writer, rep enrollment.WhatIfReport) {
	fmt.Fprintf(w, "what-if, nothing written: %s\n", rep.Proposal)
	if c := rep.Category; c != nil {
		was := "new"
		if c.Before != nil {
			was = describeCategory(*c.Before)
		}
		fmt.Fprintf(w, "  category %s: %s → %s; nominal for %s: %s → %s\n", c.After.Code, was, describeCategory(c.After), c.Period, c.NominalBefore, c.NominalAfter)
	}
	if r := rep.Refusal; r != nil {
		fmt.Fprintf(w, "  would be refused (%s): %s\n", r.Code, r.Message)
	}
	fmt.Fprintf(w, "  certificates affected: %d; balances moved: %s; certificates refused: %d\n", rep.Affected, rep.Moved, rep.Refused)
	if len(rep.Changes) > 0 {
		fmt.Fprintf(w, "\nbalances that would move (%d of %d):\n", len(rep.Changes), rep.Affected)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  NUMBER\tMUNICIPALITY\tBALANCE\tAFTER")
		for _, c := range rep.Changes {
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", c.Number, c.Municipality, c.Before, c.After)
		}
		_ = tw.Flush()
	}
	if len(rep.Refusals) > 0 {
		fmt.Fprintf(w, "\nrefusals it would cause (%d of %d):\n", len(rep.Refusals), rep.Refused)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  NUMBER\tMUNICIPALITY\tWHY")
		for _, r := range rep.Refusals {
			fmt.Fprintf(tw, "  %s\t%s\t%s\n", r.Number, r.Municipality, r.Reason)
		}
		_ = tw.Flush()
	}
	if len(rep.Budget) > 0 {
		fmt.Fprintln(w, "\nbudgets to the end of the period, before → after:")
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  MUNICIPALITY\tLIMIT\tNEED\tHEADROOM")
		for _, b := range rep.Budget {
			limit, headroom := "no limit", "-"
			if !b.After.Unlimited {
				limit, headroom = b.After.Limit.String(), b.Before.Headroom.String()+" → "+b.After.Headroom.String()
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s → %s\t%s\n", b.Municipality, limit, b.Before.Need, b.After.Need, headroom)
		}
		_ = tw.Flush()
	}
	if len(rep.Advances) > 0 {
		fmt.Fprintf(w, "\nadvance invoices of %s, before → after:\n", rep.AdvanceMonth)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		for _, a := range rep.Advances {
			fmt.Fprintf(tw, "  %s\t%s → %s\n", a.Municipality, a.Before, a.After)
		}
		_ = tw.Flush()
	}
	for _, n := range rep.Notes {
		if n != "" {
			fmt.Fprintf(w, "\nnote: %s\n", n)
		}
	}
}
