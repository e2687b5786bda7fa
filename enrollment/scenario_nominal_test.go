package enrollment_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/funding"
	"github.com/edufund/edufund/storage"
	"github.com/edufund/edufund/storage/storagetest"
)

// TestNominalChange: a category's nominal changed mid-period moves every
// funded certificate's nominal and balance by (new − old) with an Adjust
// posting; a cut that some balance does not cover is refused as a whole,
// naming the certificate, with nothing written; a replay or a second run
// moves nothing twice; the category's sum cap counts the new nominal.
func TestNominalChange(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		r := storagetest.NewRegion(t, db, storagetest.RegionOptions{})
		certs := r.Children(3)
		_, err := r.Service.Submit(ctx, r.Key(), enrollment.SubmitRequest{CertificateID: certs[0].ID, GroupID: r.Group.ID, By: enrollment.AsHolder("parent-1")})
		require.NoError(t, err)
		r.At(2025, time.October, 1)
		ops := enrollment.AsRegional("ops")
		city := func(nominal string) certificate.Category {
			return certificate.Category{Code: "city", Nominal: funding.MustMoney(nominal), MaxSum: funding.MustMoney("100000.00")}
		}
		money := func() (nominal, balance [3]string) {
			for i, c := range certs {
				m := r.Money(c.ID)
				nominal[i], balance[i] = m.Nominal.String(), m.Balance.String()
			}
			return
		}

		raise := r.Key()
		_, err = r.Service.SaveCategory(ctx, raise, city("31000.00"), ops)
		require.NoError(t, err)
		nominal, balance := money()
		require.Equal(t, [3]string{"31000.00", "31000.00", "31000.00"}, nominal)
		require.Equal(t, [3]string{"26978.02", "31000.00", "31000.00"}, balance)
		storagetest.CheckInvariants(t, db)

		// The same request again, and a run of its own: nothing moves twice.
		_, err = r.Service.SaveCategory(ctx, raise, city("31000.00"), ops)
		require.NoError(t, err)
		rep, err := r.Service.ApplyNominal(ctx, "city", ops)
		require.NoError(t, err)
		require.Zero(t, rep.Adjusted)
		nominal, _ = money()
		require.Equal(t, [3]string{"31000.00", "31000.00", "31000.00"}, nominal)

		// 31000 → 4000 would take 27000.00 from a balance of 26978.02.
		_, err = r.Service.SaveCategory(ctx, r.Key(), city("4000.00"), ops)
		require.ErrorIs(t, err, enrollment.ErrNominalCut)
		require.ErrorContains(t, err, string(certs[0].Number))
		require.NotContains(t, err.Error(), string(certs[1].Number))
		nominal, balance = money()
		require.Equal(t, [3]string{"31000.00", "31000.00", "31000.00"}, nominal, "a refused cut changes nothing")
		require.Equal(t, [3]string{"26978.02", "31000.00", "31000.00"}, balance)

		// Four funded certificates would need more than the cap.
		_, err = r.Service.SaveCategory(ctx, r.Key(), city("34000.00"), ops)
		require.ErrorIs(t, err, enrollment.ErrLimitBelowUse)
		nominal, _ = money()
		require.Equal(t, [3]string{"31000.00", "31000.00", "31000.00"}, nominal, "a refused raise changes nothing")

		_, err = r.Service.SaveCategory(ctx, r.Key(), city("29000.00"), ops)
		require.NoError(t, err)
		nominal, balance = money()
		require.Equal(t, [3]string{"29000.00", "29000.00", "29000.00"}, nominal)
		require.Equal(t, [3]string{"24978.02", "29000.00", "29000.00"}, balance)
		storagetest.CheckInvariants(t, db)

		require.NoError(t, db.InTx(ctx, func(ctx context.Context, tx enrollment.Tx) error {
			ps, err := tx.Postings(ctx, certs[1].ID, storagetest.Autumn)
			require.NoError(t, err)
			var adjusts []string
			for _, p := range ps {
				if p.Posting.Kind == funding.Adjust {
					require.Equal(t, "category_nominal_change", p.Rule)
					require.Equal(t, "regional:ops", p.Actor)
					adjusts = append(adjusts, p.Posting.Amount.String())
				}
			}
			require.Equal(t, []string{"1000.00", "-2000.00"}, adjusts)
			slots, err := tx.Counter(ctx, "category:city")
			require.NoError(t, err)
			require.Equal(t, int64(3), slots.Used)
			require.Equal(t, int64(3), slots.Limit, "100000.00 of nominals at 29000.00 fund 3 certificates")
			return nil
		}))

		_, err = r.Service.SaveCategory(ctx, r.Key(), city("30000.00"), enrollment.AsMunicipality(storagetest.Municipality))
		require.ErrorIs(t, err, enrollment.ErrForbidden)
	})
}

// TestNominalVersions: a category's nominal is a dated parameter. A
// version from the first day of a later period changes nothing now and is
// granted at that period's rollover; one from today moves the balances at
// once, as saving the category does, and saving it records a version too;
// any other date, or a category that does not exist, is refused.
func TestNominalVersions(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		r := storagetest.NewRegion(t, db, storagetest.RegionOptions{})
		cert := r.Child(0)
		r.At(2025, time.October, 15)
		ops := enrollment.AsRegional("ops")
		version := func(from funding.Date, scope, value string) error {
			_, err := r.Service.SetParameter(ctx, r.Key(), enrollment.ParameterRequest{Name: "category_nominal", Scope: scope, From: from, Value: value, Reason: "постановление № 5", By: ops})
			return err
		}
		winter := funding.MustDate(2026, time.January, 1)
		require.NoError(t, version(winter, "city", "32000.00"))
		require.Equal(t, "30000.00", r.Money(cert.ID).Nominal.String(), "a version for the next period changes nothing now")

		var ve *funding.ValidationError
		require.ErrorAs(t, version(funding.MustDate(2025, time.November, 20), "city", "32000.00"), &ve)
		require.Equal(t, "from", ve.Field)
		require.ErrorAs(t, version(r.Service.Today(), "nowhere", "32000.00"), &ve)
		require.Equal(t, "scope", ve.Field)

		require.NoError(t, version(r.Service.Today(), "city", "29000.00"))
		m := r.Money(cert.ID)
		require.Equal(t, [2]string{"29000.00", "29000.00"}, [2]string{m.Nominal.String(), m.Balance.String()}, "a version from today moves the balance at once")

		_, err := r.Service.SaveCategory(ctx, r.Key(), certificate.Category{Code: "city", Nominal: funding.MustMoney("31000.00")}, ops)
		require.NoError(t, err)
		require.Equal(t, "31000.00", r.Money(cert.ID).Nominal.String())
		vs, err := r.Service.ParameterVersions(ctx, ops)
		require.NoError(t, err)
		var history []string
		for _, v := range vs {
			if v.Name == "category_nominal" {
				history = append(history, v.From.String()+" "+v.Value+" "+v.Actor+" "+v.Reason)
			}
		}
		require.Equal(t, []string{
			"2025-10-15 29000.00 regional:ops постановление № 5",
			"2025-10-15 31000.00 regional:ops category saved",
			"2026-01-01 32000.00 regional:ops постановление № 5",
		}, history, "saving the category records its nominal's version; nothing is overwritten")

		r.At(2026, time.January, 1)
		_, err = r.Service.Rollover(ctx, storagetest.Autumn, nil)
		require.NoError(t, err)
		require.Equal(t, "32000.00", r.Money(cert.ID).Nominal.String(), "the new period's nominal is the version from its first day")
		storagetest.CheckInvariants(t, db)
	})
}
