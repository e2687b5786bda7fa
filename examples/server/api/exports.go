package api

import (
	"iter"
	"log/slog"
	"mime"
	"net/http"
	"time"

	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/examples/server/export"
)

// The exports (GET /v1/exports/…): the tables a region's accounting and
// registries take in, as CSV or XLSX (?format=csv|xlsx, csv by default),
// in the default template of each report (package export). The rows are
// read a page at a time as the caller, so the service decides what they
// hold, and written to the response as they come: no whole file is held.
// A refusal (a filter out of the caller's reach, a bad parameter) is a
// problem before the file starts; an error after it started cuts the
// connection, so that a client never takes a truncated file for a whole
// one.

// exportWriteTimeout is how long a write of an export may take; each
// write and each ProgressEvery rows give the response that long again, so
// that a long export outlives the server's WriteTimeout while a stalled
// client does not hold it forever.
const exportWriteTimeout = time.Minute

// exportRoles may call an export route at all; the service narrows.
var exportRoles = []Role{RoleProvider, RoleMunicipality, RoleRegional, RoleFederal, RoleAuditor}

func (h *Handler) exportInvoiceLines(w http.ResponseWriter, r *http.Request, c call) error {
	q := r.URL.Query()
	if err := onlyParams(q, "month", "provider_id", "municipality", "scheme", "format"); err != nil {
		return err
	}
	var p parser
	f := enrollment.InvoiceLineFilter{
		Month:        p.month("month", q.Get("month"), true),
		Provider:     p.uuid("provider_id", q.Get("provider_id"), false),
		Municipality: p.text("municipality", q.Get("municipality"), 40, false),
		Scheme:       certificate.Scheme(q.Get("scheme")),
	}
	format := exportFormat(&p, q.Get("format"))
	if p.err != nil {
		return p.err
	}
	rows := export.InvoiceLines(r.Context(), h.cfg.Service, c.p.Caller(), f)
	return h.writeExport(w, r, format, export.InvoiceLinesReport.Default, rows, "invoice-lines-"+f.Month.String())
}

func (h *Handler) exportContracts(w http.ResponseWriter, r *http.Request, c call) error {
	q := r.URL.Query()
	if err := onlyParams(q, "municipality", "provider_id", "scheme", "status", "format"); err != nil {
		return err
	}
	var p parser
	f := enrollment.ContractFilter{
		Municipality: p.text("municipality", q.Get("municipality"), 40, false),
		Provider:     p.uuid("provider_id", q.Get("provider_id"), false),
		Scheme:       certificate.Scheme(q.Get("scheme")),
		Statuses:     contractStatuses(&p, q),
	}
	format := exportFormat(&p, q.Get("format"))
	if p.err != nil {
		return p.err
	}
	rows := export.Contracts(r.Context(), h.cfg.Service, c.p.Caller(), f)
	return h.writeExport(w, r, format, export.ContractsReport.Default, rows, "contracts")
}

func (h *Handler) exportCertificates(w http.ResponseWriter, r *http.Request, c call) error {
	q := r.URL.Query()
	if err := onlyParams(q, "municipality", "scheme", "status", "format"); err != nil {
		return err
	}
	var p parser
	f := enrollment.CertificateFilter{
		Municipality: p.text("municipality", q.Get("municipality"), 40, false),
		Scheme:       certificate.Scheme(q.Get("scheme")),
		Status:       certificate.Status(q.Get("status")),
	}
	format := exportFormat(&p, q.Get("format"))
	if p.err != nil {
		return p.err
	}
	rows := export.Certificates(r.Context(), h.cfg.Service, c.p.Caller(), f)
	return h.writeExport(w, r, format, export.CertificatesReport.Default, rows, "certificates")
}

func (h *Handler) exportCompletions(w http.ResponseWriter, r *http.Request, c call) error {
	q := r.URL.Query()
	if err := onlyParams(q, "from", "to", "provider_id", "format"); err != nil {
		return err
	}
	var p parser
	f := enrollment.CompletionFilter{
		From:     p.date("from", q.Get("from"), false),
		To:       p.date("to", q.Get("to"), false),
		Provider: p.uuid("provider_id", q.Get("provider_id"), false),
	}
	format := exportFormat(&p, q.Get("format"))
	if p.err != nil {
		return p.err
	}
	rows := export.Completions(r.Context(), h.cfg.Service, c.p.Caller(), f)
	return h.writeExport(w, r, format, export.CompletionsReport.Default, rows, "completions")
}

func exportFormat(p *parser, s string) export.Format {
	f, err := export.ParseFormat(s)
	if err != nil {
		p.fail("format", "must be csv or xlsx")
	}
	return f
}

// writeExport answers the first page's refusal as a problem, or streams
// the table named name (the file's name without its extension).
func (h *Handler) writeExport(w http.ResponseWriter, r *http.Request, format export.Format, t export.Template, rows iter.Seq2[export.Record, error], name string) error {
	rows, err := export.Peek(rows)
	if err != nil {
		return err
	}
	hd := w.Header()
	hd.Set("Content-Type", format.ContentType())
	hd.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name + "." + string(format)}))
	// Registers of people and money: no cache keeps a copy.
	hd.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	extend := func() { _ = rc.SetWriteDeadline(time.Now().Add(exportWriteTimeout)) }
	extend()
	n, err := export.Write(deadlineWriter{w, extend}, format, t, rows, func(int) { extend() })
	if err != nil {
		level := slog.LevelError
		if r.Context().Err() != nil {
			level = slog.LevelWarn // the client went away
		}
		h.log.Log(r.Context(), level, "export cut off after it started", "route", r.Pattern, "rows", n, "err", err)
		// The status is sent: only a cut connection tells the client
		// that the file is not whole.
		panic(http.ErrAbortHandler)
	}
	return nil
}

// deadlineWriter extends the response's write deadline before each write.
type deadlineWriter struct {
	w      http.ResponseWriter
	extend func()
}

func (d deadlineWriter) Write(p []byte) (int, error) {
	d.extend()
	return d.w.Write(p)
}
