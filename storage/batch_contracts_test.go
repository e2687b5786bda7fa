package storage_test

import (
	"context"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/edufund/edufund/catalog"
	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/enrollment/batch"
	"github.com/edufund/edufund/funding"
	"github.com/edufund/edufund/storage"
	"github.com/edufund/edufund/storage/storagetest"
)

// TestBatchReadsTheContractsItCounts: a batch reads of its certificates'
// contracts only the live ones on the modules it applies to and those in
// budget-funded registries (schema.BatchContracts), on the locked path and
// on the optimistic one; a child's other live contracts and past ones are
// not read, so that a batch's reads do not grow with what a child holds.
func TestBatchReadsTheContractsItCounts(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		r := storagetest.NewRegion(t, db, storagetest.RegionOptions{})
		sys := enrollment.AsSystem("test")
		module := func(p catalog.Program, name string) catalog.Group {
			m, err := r.Service.SaveModule(ctx, r.Key(), catalog.Module{ProgramID: p.ID, Name: name, Price: funding.MustMoney("900.00"),
				NormativePrice: funding.MustMoney("900.00"), Hours: 72}, sys)
			require.NoError(t, err)
			return r.AddGroup(m, 10)
		}
		general, err := r.Service.SaveProgram(ctx, r.Key(), catalog.Program{ProviderID: r.Provider.ID, Name: "Общая", Scheme: certificate.Supplementary,
			Direction: catalog.TechnicalRobotics, Registry: catalog.General, MaxAge: 17, EnrolmentOpen: true, Municipality: storagetest.Municipality}, sys)
		require.NoError(t, err)
		applied, other, budget, past := module(r.Program, "A"), module(r.Program, "B"), module(general, "C"), module(r.Program, "D")
		child := r.Child(1)
		by := enrollment.AsHolder("parent-1")
		apply := func(g catalog.Group) uuid.UUID {
			k, err := r.Service.Submit(ctx, r.Key(), enrollment.SubmitRequest{CertificateID: child.ID, GroupID: g.ID, By: by})
			require.NoError(t, err)
			return k.ID
		}
		onModule, _, inBudget, withdrawn := apply(applied), apply(other), apply(budget), apply(past)
		_, err = r.Service.Withdraw(ctx, r.Key(), enrollment.ContractRequest{ContractID: withdrawn, By: by})
		require.NoError(t, err)
		want := func(t *testing.T, rows batch.Rows) {
			t.Helper()
			var got []uuid.UUID
			for _, k := range rows.Contracts {
				got = append(got, k.ID)
			}
			require.ElementsMatch(t, []uuid.UUID{onModule, inBudget}, got, "the live contracts on the module applied to and in a budget-funded registry")
		}
		groups := []uuid.UUID{applied.ID, past.ID}
		require.NoError(t, db.InBatchTx(ctx, func(ctx context.Context, tx batch.Tx) error {
			rows, err := tx.Prefetch(ctx, []uuid.UUID{child.ID}, groups)
			want(t, rows)
			return err
		}))
		if db.OptimisticBatches() {
			_, rows, err := db.ReadBatch(ctx, []string{"k"}, []uuid.UUID{child.ID}, groups, nil)
			require.NoError(t, err)
			want(t, rows)
		}
	})
}
