package storage_test

import (
	"context"
	"testing"
	"time"

	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/enrollment/batch"
	"github.com/edufund/edufund/storage/storagetest"
)

// historyDepth is how many contracts a certificate of history has had: a
// child who applied and withdrew that many times (issue 31: 30).
const historyDepth = 30

// BenchmarkHistory measures an application of a certificate with
// historyDepth earlier contracts (withdrawn, their holds released) beside
// one of a fresh certificate, interleaved in one loop, and reports the
// ratio: the cost of an application must not grow with its certificate's
// history (no read scans a certificate's past contracts, postings or
// holds). An operation is an application and its withdrawal, through the
// Batcher (the reference server's path) and through Service.Submit.
//
//	go test ./storage -run '^$' -bench History -benchtime 400x
func BenchmarkHistory(b *testing.B) {
	for _, kind := range storagetest.Kinds() {
		if kind == storagetest.SQLiteMemory {
			continue // the file is what a region runs
		}
		b.Run(kind, func(b *testing.B) {
			for _, path := range []string{"batcher", "submit"} {
				b.Run(path, func(b *testing.B) { benchHistory(b, kind, path == "batcher") })
			}
		})
	}
}

func benchHistory(b *testing.B, kind string, batched bool) {
	ctx := context.Background()
	db := storagetest.Open(b, kind)
	r := storagetest.NewRegion(b, db, storagetest.RegionOptions{Capacity: 100000})
	svc := r.Service
	submit := func(key string, req enrollment.SubmitRequest) (enrollment.Contract, error) {
		return svc.Submit(ctx, key, req)
	}
	if batched {
		bt := batch.NewBatcher(svc, batch.BatcherOptions{})
		b.Cleanup(bt.Close)
		submit = func(key string, req enrollment.SubmitRequest) (enrollment.Contract, error) {
			return bt.Submit(ctx, key, req)
		}
	}
	by := enrollment.AsHolder("parent-1")
	apply := func(cert certificate.Certificate) time.Duration {
		t0 := time.Now()
		k, err := submit(r.Key(), enrollment.SubmitRequest{CertificateID: cert.ID, GroupID: r.Group.ID, By: by})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := svc.Withdraw(ctx, r.Key(), enrollment.ContractRequest{ContractID: k.ID, By: by}); err != nil {
			b.Fatal(err)
		}
		return time.Since(t0)
	}
	const n = 8
	fresh, old := r.Children(n), r.Children(n)
	for _, c := range old {
		for range historyDepth {
			apply(c)
		}
	}
	// The fresh certificates get the same history as they are measured;
	// keeping them at one or two contracts is what the ratio is against,
	// so each is measured once and then replaced.
	var tFresh, tOld time.Duration
	b.ResetTimer()
	for i := range b.N {
		if i%n == 0 && i > 0 {
			b.StopTimer()
			fresh = r.Children(n)
			b.StartTimer()
		}
		tFresh += apply(fresh[i%n])
		tOld += apply(old[i%n])
	}
	b.ReportMetric(float64(tFresh.Nanoseconds())/float64(b.N), "ns/fresh")
	b.ReportMetric(float64(tOld.Nanoseconds())/float64(b.N), "ns/history")
	b.ReportMetric(float64(tOld)/float64(tFresh), "history/fresh")
}
