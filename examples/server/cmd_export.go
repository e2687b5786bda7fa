package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"iter"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/examples/server/export"
	"github.com/edufund/edufund/funding"
)

// The export command writes one of package export's reports to a file,
// as the region's own job (it sees the whole region; the flags narrow
// it), with a progress line on stderr every export.ProgressEvery rows.
// The file is written beside its name and renamed when whole, so that an
// export that fails leaves no half file behind for someone to send on.

// exportFlags are the flags of export.
type exportFlags struct {
	kind, format, out, template   string
	month, municipality, provider string
	scheme, status, from, to      string
}

var exportCmd = &command{
	name:     "export",
	synopsis: "-kind invoice-lines|contracts|certificates|completions [filters] [-format csv|xlsx] [-template FILE] -o FILE|-",
	summary:  "write a report as CSV or XLSX: a month's invoice lines, the registers of contracts or certificates, adult courses' completions",
	flags: func(fs *flag.FlagSet, o *options) {
		e := &o.export
		fs.StringVar(&e.kind, "kind", "", "the report: invoice-lines, contracts, certificates or completions (required)")
		fs.StringVar(&e.format, "format", "", "csv or xlsx (default: xlsx for an -o ending in .xlsx, csv otherwise)")
		fs.StringVar(&e.out, "o", "", "the file to write, or - for stdout (required)")
		fs.StringVar(&e.template, "template", "", "a region's template of the report's columns (JSON; see package examples/server/export); default: the built-in one")
		fs.StringVar(&e.month, "month", "", "invoice-lines: the billed month, 2026-03 (required)")
		fs.StringVar(&e.municipality, "municipality", "", "invoice-lines, contracts, certificates: one municipality's")
		fs.StringVar(&e.provider, "provider", "", "invoice-lines, contracts, completions: one provider's (its id)")
		fs.StringVar(&e.scheme, "scheme", "", "invoice-lines, contracts, certificates: supplementary or digital_skills")
		fs.StringVar(&e.status, "status", "", "contracts: statuses separated by commas; certificates: one status")
		fs.StringVar(&e.from, "from", "", "completions: completed on or after this day, 2026-01-01")
		fs.StringVar(&e.to, "to", "", "completions: completed on or before this day, 2026-12-31")
	},
	run:   runExport,
	inUse: "export through the server's API instead (GET /v1/exports/…), or stop the server first",
}

func runExport(ctx context.Context, s *session) error {
	e := s.o.export
	if e.out == "" {
		return errors.New("-o: the file to write is required (or - for stdout)")
	}
	format, err := exportFileFormat(e.format, e.out)
	if err != nil {
		return err
	}
	report, rows, err := exportRows(ctx, s.svc, e)
	if err != nil {
		return err
	}
	tpl := report.Default
	if e.template != "" {
		f, err := os.Open(e.template)
		if err != nil {
			return fmt.Errorf("-template: %w", err)
		}
		tpl, err = export.ParseTemplate(f, report)
		f.Close()
		if err != nil {
			return fmt.Errorf("-template %s: %w", e.template, err)
		}
	}
	// A refusal or a bad filter is said before a file is made.
	if rows, err = export.Peek(rows); err != nil {
		return err
	}
	start := time.Now()
	progress := func(n int) {
		fmt.Fprintf(s.stderr, "export: %d rows (%s)\n", n, time.Since(start).Round(time.Millisecond))
	}
	if e.out == "-" {
		n, err := export.Write(s.stdout, format, tpl, rows, progress)
		if err != nil {
			return fmt.Errorf("export: after %d rows: %w", n, err)
		}
		return nil
	}
	tmp, err := os.CreateTemp(filepath.Dir(e.out), "."+filepath.Base(e.out)+".part-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // gone once renamed; removed if anything failed
	n, err := export.Write(tmp, format, tpl, rows, progress)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("export: after %d rows: %w (nothing written to %s)", n, err, e.out)
	}
	if err := os.Rename(tmp.Name(), e.out); err != nil {
		return err
	}
	st, err := os.Stat(e.out)
	if err != nil {
		return err
	}
	fmt.Fprintf(s.stderr, "export: wrote %d rows of %s (template %s) to %s, %d bytes, in %s\n",
		n, report.Name, tpl.Version, e.out, st.Size(), time.Since(start).Round(time.Millisecond))
	return nil
}

// exportFileFormat is -format, or the format -o's extension names.
func exportFileFormat(flagValue, out string) (export.Format, error) {
	if flagValue == "" && strings.EqualFold(filepath.Ext(out), ".xlsx") {
		return export.XLSX, nil
	}
	f, err := export.ParseFormat(flagValue)
	if err != nil {
		return "", fmt.Errorf("-format: %w", err)
	}
	return f, nil
}

// exportRows is the report -kind names and its rows, narrowed by the
// flags that report takes; a flag another report takes is refused rather
// than ignored.
func exportRows(ctx context.Context, svc *enrollment.Service, e exportFlags) (export.Report, iter.Seq2[export.Record, error], error) {
	by := enrollment.AsSystem("export")
	given := map[string]string{"month": e.month, "municipality": e.municipality, "provider": e.provider, "scheme": e.scheme,
		"status": e.status, "from": e.from, "to": e.to}
	only := func(allowed ...string) error {
		for name, v := range given {
			if v != "" && !strings.Contains(" "+strings.Join(allowed, " ")+" ", " "+name+" ") {
				return fmt.Errorf("-%s: not a filter of -kind %s (it takes %s)", name, e.kind, "-"+strings.Join(allowed, ", -"))
			}
		}
		return nil
	}
	var bad error
	provider := func() uuid.UUID {
		if e.provider == "" {
			return uuid.Nil
		}
		id, err := uuid.Parse(e.provider)
		if err != nil {
			bad = fmt.Errorf("-provider: %q is not a provider's id", e.provider)
		}
		return id
	}
	date := func(name, v string) funding.Date {
		if v == "" {
			return funding.Date{}
		}
		d, err := funding.ParseDate(v)
		if err != nil {
			bad = fmt.Errorf("-%s: %w", name, err)
		}
		return d
	}
	var (
		report export.Report
		rows   iter.Seq2[export.Record, error]
	)
	switch e.kind {
	case "invoice-lines":
		if err := only("month", "municipality", "provider", "scheme"); err != nil {
			return report, nil, err
		}
		m, err := funding.ParseMonth(e.month)
		if err != nil {
			return report, nil, fmt.Errorf("-month: the billed month is required, such as 2026-03: %w", err)
		}
		f := enrollment.InvoiceLineFilter{Month: m, Provider: provider(), Municipality: e.municipality, Scheme: certificate.Scheme(e.scheme)}
		report, rows = export.InvoiceLinesReport, export.InvoiceLines(ctx, svc, by, f)
	case "contracts":
		if err := only("municipality", "provider", "scheme", "status"); err != nil {
			return report, nil, err
		}
		f := enrollment.ContractFilter{Municipality: e.municipality, Provider: provider(), Scheme: certificate.Scheme(e.scheme)}
		if e.status != "" {
			for st := range strings.SplitSeq(e.status, ",") {
				f.Statuses = append(f.Statuses, enrollment.Status(strings.TrimSpace(st)))
			}
		}
		report, rows = export.ContractsReport, export.Contracts(ctx, svc, by, f)
	case "certificates":
		if err := only("municipality", "scheme", "status"); err != nil {
			return report, nil, err
		}
		f := enrollment.CertificateFilter{Municipality: e.municipality, Scheme: certificate.Scheme(e.scheme), Status: certificate.Status(e.status)}
		report, rows = export.CertificatesReport, export.Certificates(ctx, svc, by, f)
	case "completions":
		if err := only("provider", "from", "to"); err != nil {
			return report, nil, err
		}
		f := enrollment.CompletionFilter{Provider: provider(), From: date("from", e.from), To: date("to", e.to)}
		report, rows = export.CompletionsReport, export.Completions(ctx, svc, by, f)
	case "":
		return report, nil, errors.New("-kind: the report is required: invoice-lines, contracts, certificates or completions")
	default:
		return report, nil, fmt.Errorf("-kind: %q is not a report: invoice-lines, contracts, certificates or completions", e.kind)
	}
	return report, rows, bad
}
