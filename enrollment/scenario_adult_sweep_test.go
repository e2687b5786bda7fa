package enrollment_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/storage"
	"github.com/edufund/edufund/storage/storagetest"
)

// TestCancelAllOverduePaged: the documents-deadline sweep reads the
// funded certificates a page at a time (more than one page here), looks
// at every one, and is idempotent: two sweeps at once cancel each overdue
// certificate exactly once and give each freed place to the queue once; a
// sweep run again the same day changes nothing.
func TestCancelAllOverduePaged(t *testing.T) {
	if testing.Short() {
		t.Skip("applies more than a page of adults")
	}
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		r := storagetest.NewRegion(t, db, storagetest.RegionOptions{})
		op := enrollment.AsFederal("operator")
		const n = 510 // funded adult certificates: past one page of 500 ids
		_, err := r.Service.SetParameter(ctx, r.Key(), enrollment.ParameterRequest{
			Name: "adult_quota", From: r.Service.Today(), Value: "600", Reason: "тест", By: op})
		require.NoError(t, err)
		var overdue []certificate.Number
		for i := range n {
			res, err := r.Service.ApplyAdult(ctx, r.Key(), enrollment.AdultApplication{Holder: adultHolder(i + 1), By: op})
			require.NoError(t, err)
			require.False(t, res.Queued)
			if i%3 == 0 { // a third upload their documents in time
				_, err = r.Service.RecordDocuments(ctx, r.Key(), enrollment.DocumentsRequest{CertificateID: res.Certificate.ID, Uploaded: true, By: op})
				require.NoError(t, err)
				continue
			}
			overdue = append(overdue, res.Certificate.Number)
		}

		r.At(2025, time.October, 15) // past the 30 days
		// Alone (a dry run: it writes nothing), a sweep reads every page.
		pages := 0
		dry, err := r.Service.DryRun().CancelAllOverdue(ctx, op, func(enrollment.SweepReport) { pages++ })
		require.NoError(t, err)
		require.GreaterOrEqual(t, pages, 2, "read in pages")
		require.GreaterOrEqual(t, dry.Certificates, n, "every funded certificate looked at")
		require.ElementsMatch(t, overdue, dry.Cancelled)

		var (
			wg  sync.WaitGroup
			mu  sync.Mutex
			all []certificate.Number
		)
		for range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rep, err := r.Service.CancelAllOverdue(ctx, op, nil)
				if !assertNoError(t, err) {
					return
				}
				assert.Empty(t, rep.Failed)
				mu.Lock()
				all = append(all, rep.Cancelled...)
				mu.Unlock()
			}()
		}
		wg.Wait()
		require.ElementsMatch(t, overdue, all, "each overdue certificate cancelled once, by one of the sweeps")

		rep, err := r.Service.CancelAllOverdue(ctx, op, nil)
		require.NoError(t, err)
		require.Empty(t, rep.Cancelled, "again the same day: nothing")
		storagetest.CheckInvariants(t, db)
	})
}

// assertNoError reports err from a goroutine, where require may not stop the test.
func assertNoError(t *testing.T, err error) bool {
	t.Helper()
	if err != nil {
		t.Error(err)
		return false
	}
	return true
}
