package enrollment_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/funding"
	"github.com/edufund/edufund/storage"
	"github.com/edufund/edufund/storage/storagetest"
)

// TestImportCertificate: an existing children's certificate keeps its
// number and date of issue, gets its status, guardian, decision and funds
// as Issue would give them; it is registered once; a number of another
// child's, a second certificate of a child, a caller outside its reach and
// a certificate that could not be issued today are refused; a page with a
// refused certificate registers none of it.
func TestImportCertificate(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		r := storagetest.NewRegion(t, db, storagetest.RegionOptions{})
		regional := enrollment.AsRegional("op")
		existing := func(number, person string) enrollment.ExistingCertificate {
			return enrollment.ExistingCertificate{Number: certificate.Number(number),
				Holder:     certificate.Holder{PersonID: person, FullName: "Импортов Иван", BirthDate: funding.MustDate(2016, time.January, 10), Municipality: storagetest.Municipality},
				GuardianID: "parent-" + person, Category: "city", IssuedOn: funding.MustDate(2024, time.September, 2), Status: certificate.Active, Funded: true, By: regional}
		}
		res, err := r.Service.ImportCertificate(ctx, "imp-1", existing("1234567890", "imported-1"))
		require.NoError(t, err)
		c := res.Certificate
		assert.Equal(t, []any{certificate.Number("1234567890"), funding.MustDate(2024, time.September, 2), certificate.Active, certificate.Funded},
			[]any{c.Number, c.IssuedOn, c.Status, c.Kind})
		cab, err := r.Service.Cabinet(ctx, enrollment.AsHolder("parent-imported-1"), c.ID)
		require.NoError(t, err, "the guardian is linked")
		assert.True(t, funding.MustMoney("30000.00").Equal(cab.Money.Nominal), "funded: the period's nominal")
		require.NotNil(t, cab.Decision, "the decision it was registered on is kept")
		assert.Equal(t, r.Service.Today(), cab.Decision.DecidedOn)

		again, err := r.Service.ImportCertificate(ctx, "imp-1", existing("1234567890", "imported-1"))
		require.NoError(t, err)
		assert.Equal(t, c.ID, again.Certificate.ID, "the same key replays")
		found, err := r.Service.CheckExistingCertificate(ctx, existing("1234567890", "imported-1"))
		require.NoError(t, err)
		assert.True(t, found)

		for name, tc := range map[string]struct {
			r    enrollment.ExistingCertificate
			want error
		}{
			"registered already":     {existing("1234567890", "imported-1"), enrollment.ErrExists},
			"another child's number": {existing("1234567890", "imported-2"), enrollment.ErrExists},
			"a second for the child": {existing("1234567891", "imported-1"), enrollment.ErrIneligible},
			"another municipality's": {func() enrollment.ExistingCertificate {
				x := existing("1234567892", "imported-3")
				x.By = enrollment.AsMunicipality("mun-2")
				return x
			}(), enrollment.ErrForbidden},
			"a cancelled one": {func() enrollment.ExistingCertificate {
				x := existing("1234567893", "imported-4")
				x.Status = certificate.Cancelled
				return x
			}(), funding.ErrInvalid},
			"issued tomorrow": {func() enrollment.ExistingCertificate {
				x := existing("1234567894", "imported-5")
				x.IssuedOn = r.Service.Today().AddDays(1)
				return x
			}(), funding.ErrInvalid},
			"of age today": {func() enrollment.ExistingCertificate {
				x := existing("1234567895", "imported-6")
				x.Holder.BirthDate = funding.MustDate(2007, time.June, 1)
				return x
			}(), enrollment.ErrIneligible},
			"an unknown category": {func() enrollment.ExistingCertificate {
				x := existing("1234567896", "imported-7")
				x.Category = "sea"
				return x
			}(), funding.ErrInvalid},
			"a parent for the operator": {func() enrollment.ExistingCertificate {
				x := existing("1234567897", "imported-8")
				x.By = enrollment.AsHolder("parent-1")
				return x
			}(), enrollment.ErrForbidden},
		} {
			_, err := r.Service.ImportCertificate(ctx, "imp-"+name, tc.r)
			assert.ErrorIs(t, err, tc.want, name)
		}

		// A page: the third is a second certificate of imported-1, so the
		// page registers nothing; without it, the page registers two and
		// leaves the one registered already as it is.
		page := []enrollment.ExistingCertificate{existing("2000000001", "paged-1"), existing("1234567890", "imported-1"), existing("2000000003", "imported-1")}
		_, err = r.Service.ImportCertificates(ctx, "page-1", page)
		var pe *enrollment.ImportPageError
		require.ErrorAs(t, err, &pe)
		assert.Equal(t, 2, pe.Index)
		assert.ErrorIs(t, err, enrollment.ErrIneligible)
		found, err = r.Service.CheckExistingCertificate(ctx, page[0])
		require.NoError(t, err)
		assert.False(t, found, "the refused page registered none of it")
		n, err := r.Service.ImportCertificates(ctx, "page-2", append(page[:2], existing("2000000002", "paged-2")))
		require.NoError(t, err)
		assert.Equal(t, 2, n)
		storagetest.CheckInvariants(t, db)
	})
}
