package storage_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/edufund/edufund/catalog"
	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/storage/storagetest"
)

// TestMigrateProgramCertification: migration 00027 keeps every program
// certified before it certified, and makes every other one a draft of its
// provider, on each engine.
func TestMigrateProgramCertification(t *testing.T) {
	for _, kind := range storagetest.Kinds() {
		t.Run(kind, func(t *testing.T) {
			ctx := context.Background()
			db := storagetest.OpenEmpty(t, kind)
			require.NoError(t, db.MigrateBefore(ctx, "00027"))
			certified := storagetest.NewOffer(t, "сертифицированная", catalog.Certified)
			draft := storagetest.NewOffer(t, "черновик", catalog.Certified)
			draft.Program.Certified = false
			for _, o := range []enrollment.Offer{certified, draft} {
				require.NoError(t, db.InsertOfferAsOf(ctx, o))
			}
			require.NoError(t, db.Migrate(ctx))
			for _, tc := range []struct {
				o    enrollment.Offer
				want string
			}{{certified, "certified"}, {draft, "draft"}} {
				var got string
				require.NoError(t, db.Bun().NewRaw("SELECT certification FROM programs WHERE id = ?", tc.o.Program.ID).Scan(ctx, &got))
				require.Equal(t, tc.want, got, "the stored status of %s", tc.o.Program.Name)
			}
			require.NoError(t, db.InTx(ctx, func(ctx context.Context, tx enrollment.Tx) error {
				for _, tc := range []struct {
					o    enrollment.Offer
					want catalog.Certification
				}{{certified, catalog.ProgramCertified}, {draft, catalog.ProgramDraft}} {
					p, err := tx.Program(ctx, tc.o.Program.ID)
					require.NoError(t, err)
					require.Equal(t, tc.want, catalog.CertificationOf(p), tc.o.Program.Name)
					require.Equal(t, tc.want == catalog.ProgramCertified, p.Certified)
				}
				return nil
			}))
		})
	}
}
