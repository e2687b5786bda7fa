package export_test

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/examples/server/export"
	"github.com/edufund/edufund/funding"
	"github.com/edufund/edufund/storage/storagetest"
)

// sampled is a CertificateLister that notes the heap at every page.
type sampled struct {
	export.CertificateLister
	pages int
	peak  uint64
}

func (s *sampled) Certificates(ctx context.Context, by enrollment.Caller, f enrollment.CertificateFilter) (enrollment.CertificatePage, error) {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	s.peak, s.pages = max(s.peak, ms.HeapAlloc), s.pages+1
	return s.CertificateLister.Certificates(ctx, by, f)
}

// TestExportFromStore measures the register of certificates read from a
// real store through the service, page by page, and written as XLSX: the
// time and the peak heap. It runs only when EDUFUND_EXPORT_STORE_ROWS
// names how many certificates to insert (storage/BENCHMARKS.md has the
// figures); the rows are inserted straight through the store's
// transactions, 5,000 a transaction, since issuing them through the
// service would take hours.
func TestExportFromStore(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("EDUFUND_EXPORT_STORE_ROWS"))
	if n <= 0 {
		t.Skip("set EDUFUND_EXPORT_STORE_ROWS to the number of certificates to export")
	}
	for _, kind := range []string{storagetest.SQLiteFile, storagetest.Postgres} {
		t.Run(kind, func(t *testing.T) { exportFromStore(t, kind, n) })
	}
}

func exportFromStore(t *testing.T, kind string, n int) {
	db := storagetest.Open(t, kind)
	ctx := context.Background()
	start := time.Now()
	for i := 0; i < n; i += 5000 {
		storagetest.InTx(t, db, func(tx enrollment.Tx) error {
			for j := i; j < min(i+5000, n); j++ {
				c := storagetest.Child(t, fmt.Sprintf("bulk-%d", j))
				c.Municipality, c.Holder.FullName = "novograd", fmt.Sprintf("Иванов Иван Петрович %d", j)
				if err := tx.InsertCertificate(ctx, c); err != nil {
					return err
				}
			}
			return nil
		})
	}
	// As after any bulk load: without statistics PostgreSQL's planner
	// takes the 500,000 rows for a few and sorts a municipality's whole
	// remainder for every page (190 ms a page, not 0.1).
	_, err := db.Bun().ExecContext(ctx, "ANALYZE certificates")
	require.NoError(t, err)
	t.Logf("inserted %d certificates in %s", n, time.Since(start).Round(time.Second))
	svc := enrollment.NewService(db, &funding.FixedClock{T: time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)}, enrollment.DefaultConfig())
	runtime.GC()
	l := &sampled{CertificateLister: svc}
	var out countingWriter
	start = time.Now()
	rows, err := export.Write(&out, export.XLSX, export.CertificatesReport.Default,
		export.Certificates(ctx, l, enrollment.AsMunicipality("novograd"), enrollment.CertificateFilter{}), nil)
	require.NoError(t, err)
	require.Equal(t, n, rows)
	t.Logf("exported %d rows in %d pages as %.1f MiB of XLSX in %s; peak heap %.1f MiB",
		rows, l.pages, float64(out.n)/(1<<20), time.Since(start).Round(time.Millisecond), float64(l.peak)/(1<<20))
	require.Less(t, l.peak, maxExportHeap[export.XLSX])
}
