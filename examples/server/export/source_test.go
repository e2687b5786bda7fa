package export_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/xml"
	"fmt"
	"io"
	"runtime"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/examples/server/export"
	"github.com/edufund/edufund/funding"
)

// generated is a register of n certificates made up page by page as the
// service would page them, newest first: a page is at most the filter's
// Limit, which must be within the service's bound. It notes the pages it
// served, the largest Limit asked, and (when sample is set) the heap.
type generated struct {
	n        int
	pages    int
	maxLimit int
	sample   bool
	peak     uint64 // the largest HeapAlloc seen at a page
}

// idOf is the id of the i-th certificate, 0 the newest: ids fall as i
// grows, as UUIDv7 ids do read newest first.
func idOf(i int) uuid.UUID {
	var id uuid.UUID
	binary.BigEndian.PutUint64(id[8:], uint64(1<<62-i))
	return id
}

func indexOf(id uuid.UUID) int { return int(1<<62 - binary.BigEndian.Uint64(id[8:])) }

func (g *generated) Certificates(_ context.Context, by enrollment.Caller, f enrollment.CertificateFilter) (enrollment.CertificatePage, error) {
	if f.Limit < 1 || f.Limit > enrollment.MaxListLimit {
		return enrollment.CertificatePage{}, fmt.Errorf("limit %d outside 1..%d", f.Limit, enrollment.MaxListLimit)
	}
	g.pages++
	g.maxLimit = max(g.maxLimit, f.Limit)
	if g.sample {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		g.peak = max(g.peak, ms.HeapAlloc)
	}
	start := 0
	if f.After != uuid.Nil {
		start = indexOf(f.After) + 1
	}
	var page enrollment.CertificatePage
	for i := start; i < g.n && i < start+f.Limit; i++ {
		page.Certificates = append(page.Certificates, certificate.Certificate{
			ID: idOf(i), Number: certificate.Number(fmt.Sprintf("5400%08d", i)), Scheme: certificate.Supplementary,
			Holder: certificate.Holder{PersonID: fmt.Sprintf("child-%d", i), FullName: fmt.Sprintf("Иванов Иван Петрович %d", i),
				BirthDate: funding.MustDate(2010+i%8, time.Month(1+i%12), 1+i%28)},
			Municipality: "novograd", Category: "city", Kind: certificate.Funded, Status: certificate.Active,
			IssuedOn: funding.MustDate(2025, time.September, 1), ValidUntil: funding.MustDate(2028, time.May, 31),
		})
	}
	if end := start + f.Limit; end < g.n {
		page.Next = idOf(end - 1)
	}
	return page, nil
}

// TestCertificatesPaged: the source reads the register page by page at
// most enrollment.MaxListLimit rows a page, every row once, in order; a
// smaller page size is kept; a consumer that stops early reads no more.
func TestCertificatesPaged(t *testing.T) {
	ctx := context.Background()
	by := enrollment.AsRegional("test")
	for _, tc := range []struct {
		n, limit, pages, maxLimit int
	}{
		{n: 0, limit: 0, pages: 1, maxLimit: enrollment.MaxListLimit},
		{n: 450, limit: 0, pages: 3, maxLimit: enrollment.MaxListLimit},
		{n: 400, limit: 0, pages: 2, maxLimit: enrollment.MaxListLimit},
		{n: 7, limit: 2, pages: 4, maxLimit: 2},
	} {
		g := &generated{n: tc.n}
		i := 0
		for r, err := range export.Certificates(ctx, g, by, enrollment.CertificateFilter{Limit: tc.limit}) {
			require.NoError(t, err)
			require.Equal(t, fmt.Sprintf("5400%08d", i), r.Value("number"))
			i++
		}
		require.Equal(t, tc.n, i, "rows of %d", tc.n)
		require.Equal(t, tc.pages, g.pages, "pages of %d", tc.n)
		require.Equal(t, tc.maxLimit, g.maxLimit)
	}
	g := &generated{n: 1000}
	for range export.Certificates(ctx, g, by, enrollment.CertificateFilter{}) {
		break
	}
	require.Equal(t, 1, g.pages, "a consumer that stopped after a row read one page")
}

// exportRows is the size of the memory test: a region's 500,000 certificates.
const exportRows = 500_000

// maxExportHeap bounds the heap while a 500,000-row register is written
// (the rows alone take some 250 MiB). CSV holds one page and csv.Writer's
// 4 KiB buffer. The XLSX writer spools its sheet past excelize's 16 MiB
// chunk, whose buffer grows to 32 MiB before it is flushed, and the
// garbage collector lets the heap reach about twice what is live.
var maxExportHeap = map[export.Format]uint64{export.CSV: 16 << 20, export.XLSX: 80 << 20}

// maxExportWrite bounds one write to the output: the archive is written
// as it is compressed, not built in memory and written at once (excelize's
// own Write would hand over the whole 20 MiB in one write).
const maxExportWrite = 1 << 20

// TestExportMemoryBound writes the register of 500,000 certificates, read
// page by page from a generated register, as CSV and as XLSX, and checks
// that the heap stays under maxExportHeap throughout (sampled at every
// page); storage/BENCHMARKS.md records the figures. The writer's memory
// is what is measured: the rows are made up as the service would page
// them, since issuing 500,000 certificates through the service takes
// hours.
func TestExportMemoryBound(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 500,000 rows twice")
	}
	for _, f := range []export.Format{export.CSV, export.XLSX} {
		t.Run(string(f), func(t *testing.T) {
			runtime.GC()
			g := &generated{n: exportRows, sample: true}
			var out countingWriter
			start := time.Now()
			n, err := export.Write(&out, f, export.CertificatesReport.Default,
				export.Certificates(context.Background(), g, enrollment.AsRegional("test"), enrollment.CertificateFilter{}), nil)
			require.NoError(t, err)
			require.Equal(t, exportRows, n)
			require.Equal(t, enrollment.MaxListLimit, g.maxLimit)
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			g.peak = max(g.peak, ms.HeapAlloc)
			t.Logf("%s: %d rows, %d pages, %.1f MiB written in %s, at most %d KiB a write; peak heap %.1f MiB (bound %d MiB)",
				f, n, g.pages, float64(out.n)/(1<<20), time.Since(start).Round(time.Millisecond), out.max>>10,
				float64(g.peak)/(1<<20), maxExportHeap[f]>>20)
			require.Less(t, g.peak, maxExportHeap[f], "peak heap")
			require.LessOrEqual(t, out.max, int64(maxExportWrite), "the largest write")
		})
	}
}

// BenchmarkExport writes b.N rows of the register of certificates in each
// format; its B/op shows what a row costs in allocation, not in live heap.
func BenchmarkExport(b *testing.B) {
	for _, f := range []export.Format{export.CSV, export.XLSX} {
		b.Run(string(f), func(b *testing.B) {
			g := &generated{n: b.N}
			b.ReportAllocs()
			if _, err := export.Write(io.Discard, f, export.CertificatesReport.Default,
				export.Certificates(context.Background(), g, enrollment.AsRegional("test"), enrollment.CertificateFilter{}), nil); err != nil {
				b.Fatal(err)
			}
		})
	}
}

// countingWriter counts the bytes written and notes the largest write.
type countingWriter struct{ n, max int64 }

func (w *countingWriter) Write(p []byte) (int, error) {
	w.n += int64(len(p))
	w.max = max(w.max, int64(len(p)))
	return len(p), nil
}

// TestXLSXSpilled: a sheet larger than excelize's in-memory chunk (16 MiB
// of XML: here 60,000 rows) goes through the temporary file and still
// reads back whole. The sheet is read as XML, row by row: excelize would
// take seconds to load it.
func TestXLSXSpilled(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 60,000 rows")
	}
	const n = 60_000
	var out bytes.Buffer
	g := &generated{n: n}
	_, err := export.Write(&out, export.XLSX, export.CertificatesReport.Default,
		export.Certificates(context.Background(), g, enrollment.AsRegional("test"), enrollment.CertificateFilter{}), nil)
	require.NoError(t, err)
	zr, err := zip.NewReader(bytes.NewReader(out.Bytes()), int64(out.Len()))
	require.NoError(t, err)
	sheet, err := zr.Open("xl/worksheets/sheet1.xml")
	require.NoError(t, err)
	defer sheet.Close()
	st, err := sheet.Stat()
	require.NoError(t, err)
	require.Greater(t, st.Size(), int64(16<<20), "the sheet outgrew the in-memory chunk")
	var (
		rows  int
		first string // the first cell of the last row
	)
	dec := xml.NewDecoder(sheet)
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		el, ok := tok.(xml.StartElement)
		switch {
		case ok && el.Name.Local == "row":
			rows++
			var r struct {
				C []struct {
					T string `xml:"is>t"`
				} `xml:"c"`
			}
			require.NoError(t, dec.DecodeElement(&r, &el))
			first = r.C[0].T
		}
	}
	require.Equal(t, n+1, rows, "the header and every row")
	require.Equal(t, fmt.Sprintf("5400%08d", n-1), first)
}
