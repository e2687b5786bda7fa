package storage_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/edufund/edufund/catalog"
	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/funding"
	"github.com/edufund/edufund/storage/storagetest"
)

// TestMigrateCompletions: migration 00022 records the adult courses
// completed before it (closed, not terminated) as completions without a
// document, and no other contract; the providers it finds have no
// accounting details.
func TestMigrateCompletions(t *testing.T) {
	for _, kind := range storagetest.Kinds() {
		t.Run(kind, func(t *testing.T) {
			db := storagetest.OpenEmpty(t, kind)
			require.NoError(t, db.MigrateBefore(ctx, "00022"))
			f := storagetest.NewOffer(t, "выпуск", catalog.Certified)
			require.NoError(t, db.InsertOfferAsOf(ctx, f))
			closedOn := funding.MustDate(2026, time.March, 20)
			var completed enrollment.Contract
			for i, tc := range []struct {
				scheme     certificate.Scheme
				status     enrollment.Status
				terminated bool
			}{
				{certificate.DigitalSkills, enrollment.Closed, false}, // completed
				{certificate.DigitalSkills, enrollment.Closed, true},  // terminated, closed by the month
				{certificate.DigitalSkills, enrollment.Active, false},
				{certificate.Supplementary, enrollment.Closed, false},
			} {
				c := adult(t, "person-migrate-"+string(rune('a'+i)), funding.MustDate(2026, time.January, 10))
				if tc.scheme == certificate.Supplementary {
					c = child(t, "child-migrate")
				}
				require.NoError(t, db.InsertCertificateAsOf(ctx, c))
				k := contractFor(t, c, f, time.Now())
				k.Scheme, k.Status = tc.scheme, tc.status
				if tc.status == enrollment.Closed {
					k.ClosedOn = closedOn
				}
				if tc.terminated {
					k.TerminatedOn = closedOn.AddDays(-10)
				}
				require.NoError(t, db.InsertContractAsOf(ctx, k))
				if i == 0 {
					completed = k
				}
			}
			require.NoError(t, db.Migrate(ctx))

			got, err := db.Completions(ctx, enrollment.CompletionFilter{Limit: 10})
			require.NoError(t, err)
			require.Len(t, got, 1)
			require.Equal(t, enrollment.Completion{ContractID: completed.ID, ProviderID: f.Provider.ID, On: closedOn}, got[0].Completion)
			var p catalog.Provider
			run(t, db, func(tx enrollment.Tx) error {
				p, err = tx.Provider(ctx, f.Provider.ID)
				return err
			})
			require.Empty(t, p.KPP)
			require.Equal(t, catalog.BankDetails{}, p.Bank)
		})
	}
}
