package storage_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edufund/edufund/catalog"
	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/enrollment/batch"
	"github.com/edufund/edufund/funding"
	"github.com/edufund/edufund/storage"
	"github.com/edufund/edufund/storage/storagetest"
)

// TestReadBatchAsPrefetch: the optimistic batch's read (ReadBatch, which
// decodes its rows' binary values itself) reads what the locked batch's
// reads (through pgx's scanning) read of the same rows: the idempotency
// records, certificates, accounts, contracts, counters and offers, among
// them a program with tags and texts (which neither reads), a provider with an agreement and
// one without (its agreement's columns NULL in the same result), and a
// key, certificate and group that do not exist.
func TestReadBatchAsPrefetch(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		if !db.OptimisticBatches() {
			t.Skip("the store has no optimistic batches")
		}
		ctx := context.Background()
		r := storagetest.NewRegion(t, db, storagetest.RegionOptions{})
		sys := enrollment.AsSystem("test")
		bare, err := r.Service.SaveProvider(ctx, r.Key(), catalog.Provider{Name: "Без соглашения", INN: "7736207543", Municipality: storagetest.Municipality}, sys)
		require.NoError(t, err)
		p, err := r.Service.SaveProgram(ctx, r.Key(), catalog.Program{ProviderID: bare.ID, Name: "Шахматы", Scheme: certificate.Supplementary,
			Direction: catalog.TechnicalRobotics, Registry: catalog.General, MaxAge: 17, EnrolmentOpen: true, Municipality: storagetest.Municipality}, sys)
		require.NoError(t, err)
		m, err := r.Service.SaveModule(ctx, r.Key(), catalog.Module{ProgramID: p.ID, Name: "Дебюты", Price: funding.MustMoney("900.00"),
			NormativePrice: funding.MustMoney("900.00"), Hours: 36}, sys)
		require.NoError(t, err)
		second := r.AddGroup(m, 10)
		a, b := r.Child(1), r.Child(2)
		keys := []string{"read-1", "read-2", "read-absent"}
		by := enrollment.AsHolder("parent-1")
		_, err = r.Service.Submit(ctx, keys[0], enrollment.SubmitRequest{CertificateID: a.ID, GroupID: r.Group.ID, By: by})
		require.NoError(t, err)
		_, err = r.Service.Submit(ctx, keys[1], enrollment.SubmitRequest{CertificateID: b.ID, GroupID: r.Group.ID, By: by})
		require.NoError(t, err)
		stored := make([]string, len(keys))
		for i, k := range keys {
			stored[i] = enrollment.StoredKey("contract.submit", by, k)
		}
		certs := []uuid.UUID{a.ID, b.ID, uuid.New()}
		groups := []uuid.UUID{r.Group.ID, second.ID, uuid.New()}
		counters := []string{enrollment.SeatsKey(r.Group.ID), enrollment.SeatsKey(second.ID), "seats:absent"}

		recs, got, err := db.ReadBatch(ctx, stored, certs, groups, counters)
		require.NoError(t, err)
		var (
			wantRecs     []enrollment.IdempotencyRecord
			want         batch.Rows
			wantCounters []enrollment.Counter
			wantCerts    []certificate.Certificate
		)
		require.NoError(t, db.InBatchTx(ctx, func(ctx context.Context, tx batch.Tx) error {
			var err error
			if wantRecs, err = tx.IdempotencyRecords(ctx, stored); err != nil {
				return err
			}
			for _, id := range certs[:2] {
				c, err := tx.Certificate(ctx, id)
				if err != nil {
					return err
				}
				wantCerts = append(wantCerts, c)
			}
			if want, err = tx.Prefetch(ctx, certs, groups); err != nil {
				return err
			}
			wantCounters, err = tx.LockCounters(ctx, nil, counters)
			return err
		}))

		assert.Len(t, recs, 2)
		assert.ElementsMatch(t, wantRecs, recs)
		assert.Len(t, got.Certificates, 2)
		assert.ElementsMatch(t, wantCerts, got.Certificates)
		assert.Len(t, got.CertVersions, 2)
		require.Len(t, got.Accounts, 2)
		for i := range got.Accounts {
			assert.NotZero(t, got.Accounts[i].Version, "an account's version")
			got.Accounts[i].Version = 0 // the locked batch holds the row and reads none
		}
		assert.ElementsMatch(t, want.Accounts, got.Accounts)
		assert.Len(t, got.Contracts, 2)
		assert.ElementsMatch(t, want.Contracts, got.Contracts)
		assert.Len(t, got.Counters, 2)
		assert.ElementsMatch(t, wantCounters, got.Counters)
		require.Len(t, got.Offers, 2)
		assert.ElementsMatch(t, want.Offers, got.Offers)
		for _, o := range got.Offers {
			switch o.Group.ID {
			case r.Group.ID:
				assert.True(t, o.Provider.HasAgreement(storagetest.Municipality, funding.MustDate(2025, time.October, 1)), "the first provider's agreement")
				assert.Equal(t, "Robotics", o.Program.Name)
				assert.Empty(t, o.Program.Description, "a batch does not read a program's texts")
				assert.Empty(t, o.Program.Tags, "a batch does not read a program's texts")
			case second.ID:
				assert.Empty(t, o.Provider.Agreements, "no agreement carried over from the row before")
			}
		}
	})
}
