package enrollment_test

import (
	"context"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/edufund/edufund/catalog"
	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/funding"
	"github.com/edufund/edufund/storage"
	"github.com/edufund/edufund/storage/storagetest"
)

// TestAdvanceShareVersion: a new advance share applies to the invoices of
// its month on; the month before keeps its own share in its final, so no
// month is split between two shares. The charges record the version.
func TestAdvanceShareVersion(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		r := storagetest.NewRegion(t, db, storagetest.RegionOptions{})
		c := activeContract(t, r)
		v, err := r.Service.SetParameter(ctx, r.Key(), enrollment.ParameterRequest{
			Name: "advance_share", From: funding.MustDate(2025, time.November, 1), Value: "0.50",
			Reason: "приказ министерства № 7", By: enrollment.AsRegional("ops"),
		})
		require.NoError(t, err)
		require.Positive(t, v.Version)
		require.Equal(t, "0.5", v.Value, "stored in canonical form")
		require.Equal(t, "regional:ops", v.Actor)

		old, half := decimal.RequireFromString("0.8"), decimal.RequireFromString("0.5")
		pay := c.Price.CertOther
		for _, m := range []time.Month{time.September, time.October, time.November} {
			r.At(2025, m, 1)
			_, err := r.Service.CloseMonth(ctx, funding.Month{Year: 2025, Month: m}, nil)
			require.NoError(t, err)
		}
		invoices := func(m time.Month) map[enrollment.InvoiceKind]string {
			inv, err := r.Service.Invoices(ctx, enrollment.AsRegional("ops"), funding.Month{Year: 2025, Month: m}, r.Provider.ID)
			require.NoError(t, err)
			return storagetest.InvoiceAmounts(inv)
		}
		require.Equal(t, map[enrollment.InvoiceKind]string{
			enrollment.AdvanceInvoice: funding.Advance(pay, old).String(),
			enrollment.FinalInvoice:   pay.Sub(funding.Advance(pay, old)).String(),
		}, invoices(time.October), "October: advance and final at its own share")
		require.Equal(t, map[enrollment.InvoiceKind]string{
			enrollment.AdvanceInvoice: funding.Advance(pay, half).String(),
		}, invoices(time.November), "November: the new share")

		require.NoError(t, db.InTx(ctx, func(ctx context.Context, tx enrollment.Tx) error {
			ps, err := tx.Postings(ctx, c.CertificateID, storagetest.Autumn)
			require.NoError(t, err)
			rules := map[funding.Month]int64{}
			for _, p := range ps {
				if p.Posting.Kind == funding.Charge {
					rules[p.Month] = p.Rules
				}
			}
			require.Equal(t, map[funding.Month]int64{
				{Year: 2025, Month: time.September}: 0, // charged at the signing, before the change
				{Year: 2025, Month: time.October}:   v.Version, {Year: 2025, Month: time.November}: v.Version,
			}, rules, "every charge records the newest version it was computed with")
			return nil
		}))
	})
}

// activeContract is a contract of a new child in r's group, confirmed and
// signed on 1 September 2025.
func activeContract(t *testing.T, r *storagetest.Region) enrollment.Contract {
	t.Helper()
	ctx := context.Background()
	cert := r.Child(0)
	c, err := r.Service.Submit(ctx, r.Key(), enrollment.SubmitRequest{CertificateID: cert.ID, GroupID: r.Group.ID, By: enrollment.AsHolder("parent-1")})
	require.NoError(t, err)
	_, err = r.Service.Confirm(ctx, r.Key(), enrollment.ContractRequest{ContractID: c.ID, By: enrollment.AsProvider(r.Provider.ID)})
	require.NoError(t, err)
	c, err = r.Service.Accept(ctx, r.Key(), enrollment.ContractRequest{ContractID: c.ID, By: enrollment.AsHolder("parent-1")})
	require.NoError(t, err)
	return c
}

// TestParameterRefusals: a change names a known parameter, a valid value
// and scope, a reason, a date from today on (whole months for a share),
// and comes from a role that may make it; a refused change stores nothing.
func TestParameterRefusals(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		r := storagetest.NewRegion(t, db, storagetest.RegionOptions{})
		r.At(2025, time.September, 10)
		ok := enrollment.ParameterRequest{Name: "children.min_age", Scope: storagetest.Municipality, From: funding.MustDate(2025, time.October, 1),
			Value: "6", Reason: "решение думы", By: enrollment.AsMunicipality(storagetest.Municipality)}
		for _, tc := range []struct {
			name  string
			edit  func(*enrollment.ParameterRequest)
			field string // of the ValidationError; "" for a refusal by role
		}{
			{"unknown name", func(p *enrollment.ParameterRequest) { p.Name = "advance" }, "name"},
			{"value out of range", func(p *enrollment.ParameterRequest) { p.Value = "18" }, "value"},
			{"value not a number", func(p *enrollment.ParameterRequest) { p.Value = "six" }, "value"},
			{"yesterday", func(p *enrollment.ParameterRequest) { p.From = funding.MustDate(2025, time.September, 9) }, "from"},
			{"no date", func(p *enrollment.ParameterRequest) { p.From = funding.Date{} }, "from"},
			{"no reason", func(p *enrollment.ParameterRequest) { p.Reason = "  " }, "reason"},
			{"a scope of the region's own parameter", func(p *enrollment.ParameterRequest) {
				*p = enrollment.ParameterRequest{Name: "advance_share", Scope: "mun-1", From: funding.MustDate(2025, time.October, 1), Value: "0.7", Reason: "x", By: enrollment.AsRegional("ops")}
			}, "scope"},
			{"a share from mid-month", func(p *enrollment.ParameterRequest) {
				*p = enrollment.ParameterRequest{Name: "advance_share", From: funding.MustDate(2025, time.October, 15), Value: "0.7", Reason: "x", By: enrollment.AsRegional("ops")}
			}, "from"},
			{"a share from this month", func(p *enrollment.ParameterRequest) {
				*p = enrollment.ParameterRequest{Name: "advance_share", From: funding.MustDate(2025, time.September, 1), Value: "0.7", Reason: "x", By: enrollment.AsRegional("ops")}
			}, "from"},
			{"a share above 1", func(p *enrollment.ParameterRequest) {
				*p = enrollment.ParameterRequest{Name: "advance_share", From: funding.MustDate(2025, time.October, 1), Value: "1.2", Reason: "x", By: enrollment.AsRegional("ops")}
			}, "value"},
			{"a registry that is not budget-funded", func(p *enrollment.ParameterRequest) {
				*p = enrollment.ParameterRequest{Name: "registry_quota", Scope: "certified", From: funding.MustDate(2025, time.October, 1), Value: "2", Reason: "x", By: enrollment.AsRegional("ops")}
			}, "scope"},
			{"a municipality that does not participate", func(p *enrollment.ParameterRequest) { p.Scope = "mun-9"; p.By = enrollment.AsRegional("ops") }, "scope"},
			{"another municipality's age", func(p *enrollment.ParameterRequest) { p.Scope = "mun-2" }, ""},
			{"a holder", func(p *enrollment.ParameterRequest) { p.By = enrollment.AsHolder("parent-1") }, ""},
			{"a provider", func(p *enrollment.ParameterRequest) { p.By = enrollment.AsProvider(r.Provider.ID) }, ""},
			{"the federal operator on the children's scheme", func(p *enrollment.ParameterRequest) { p.By = enrollment.AsFederal("ops") }, ""},
			{"the regional operator on the adult quota", func(p *enrollment.ParameterRequest) {
				*p = enrollment.ParameterRequest{Name: "adult_quota", From: funding.MustDate(2025, time.October, 1), Value: "7", Reason: "x", By: enrollment.AsRegional("ops")}
			}, ""},
		} {
			t.Run(tc.name, func(t *testing.T) {
				req := ok
				tc.edit(&req)
				_, err := r.Service.SetParameter(ctx, r.Key(), req)
				if tc.field == "" {
					require.ErrorIs(t, err, enrollment.ErrForbidden)
					return
				}
				var ve *funding.ValidationError
				require.ErrorAs(t, err, &ve)
				require.Equal(t, tc.field, ve.Field, "%v", err)
			})
		}
		vs, err := r.Service.ParameterVersions(ctx, enrollment.AsRegional("ops"))
		require.NoError(t, err)
		require.Empty(t, vs, "nothing stored by a refused change")

		_, err = r.Service.SetParameter(ctx, r.Key(), ok)
		require.NoError(t, err, "the municipality's own minimum age")
		_, err = r.Service.ParameterVersions(ctx, enrollment.AsHolder("parent-1"))
		require.ErrorIs(t, err, enrollment.ErrForbidden)
	})
}

// TestDatedMinimumAge: a municipality's new minimum age applies to the
// events from its date: a five-year-old gets a certificate the day before
// and not on the day.
func TestDatedMinimumAge(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		r := storagetest.NewRegion(t, db, storagetest.RegionOptions{})
		_, err := r.Service.SetParameter(ctx, r.Key(), enrollment.ParameterRequest{Name: "children.min_age", Scope: storagetest.Municipality,
			From: funding.MustDate(2025, time.October, 1), Value: "6", Reason: "решение думы", By: enrollment.AsMunicipality(storagetest.Municipality)})
		require.NoError(t, err)
		issue := func(person string) error {
			_, err := r.Service.Issue(ctx, r.Key(), enrollment.IssueRequest{
				Holder: certificate.Holder{PersonID: person, FullName: "Петрова Анна", BirthDate: funding.MustDate(2020, time.March, 1),
					Citizenship: "RU", Municipality: storagetest.Municipality, Registration: certificate.Permanent},
				GuardianID: "parent-2", Category: "city", Funded: true, By: enrollment.AsSystem("test"),
			})
			return err
		}
		r.At(2025, time.September, 30)
		require.NoError(t, issue("anna-1"), "aged 5 the day before the change")
		r.At(2025, time.October, 1)
		var inel *enrollment.IneligibleError
		require.ErrorAs(t, issue("anna-2"), &inel, "aged 5 on the day the minimum becomes 6")
	})
}

// TestAdultQuotaVersion: a raised adult quota funds the queue at once; a
// quota below the certificates a year has funded is refused.
func TestAdultQuotaVersion(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		r := storagetest.NewRegion(t, db, storagetest.RegionOptions{}) // a quota of 5
		var queued []enrollment.IssueResult
		for i := range 7 {
			res, err := r.Service.ApplyAdult(ctx, r.Key(), adultApplication(i))
			require.NoError(t, err)
			if res.Queued {
				queued = append(queued, res)
			}
		}
		require.Len(t, queued, 2)
		set := func(v string) error {
			_, err := r.Service.SetParameter(ctx, r.Key(), enrollment.ParameterRequest{Name: "adult_quota", From: r.Service.Today(),
				Value: v, Reason: "распоряжение", By: enrollment.AsFederal("ops")})
			return err
		}
		require.ErrorIs(t, set("4"), enrollment.ErrLimitBelowUse)
		require.NoError(t, set("6"))
		first, err := r.Service.Cabinet(ctx, enrollment.AsSystem("test"), queued[0].Certificate.ID)
		require.NoError(t, err)
		require.Equal(t, certificate.Funded, first.Certificate.Kind, "the first in the queue takes the new place")
		second, err := r.Service.Cabinet(ctx, enrollment.AsSystem("test"), queued[1].Certificate.ID)
		require.NoError(t, err)
		require.Equal(t, certificate.Accounting, second.Certificate.Kind)
	})
}

func adultApplication(i int) enrollment.AdultApplication {
	return enrollment.AdultApplication{
		Holder: certificate.Holder{PersonID: "adult-" + string(rune('a'+i)), FullName: "Сидоров Иван", BirthDate: funding.MustDate(1990, time.May, 5),
			Sex: certificate.Male, Citizenship: "RU", Education: certificate.EducationHigher, Region: "reg-1", Municipality: storagetest.Municipality, Registration: certificate.Permanent},
		By: enrollment.AsHolder("adult-" + string(rune('a'+i))),
	}
}

// TestNormativeCapOff: a region that lets the normative cost inform but not
// cap the certificate's part: the certificate pays the cost within its
// balance, the parent only what the balance does not cover (seed FAQ 003).
func TestNormativeCapOff(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		r := storagetest.NewRegion(t, db, storagetest.RegionOptions{})
		pricey, err := r.Service.SaveModule(ctx, r.Key(), catalog.Module{ProgramID: r.Program.ID, Name: "Year 2", Price: funding.MustMoney("12000.00"),
			NormativePrice: funding.MustMoney("9000.00"), Hours: 72}, enrollment.AsSystem("test"))
		require.NoError(t, err)
		g := r.AddGroup(pricey, 10)
		cert := r.Child(0)
		price := func() funding.Price {
			c, err := r.Service.DryRun().Submit(ctx, r.Key(), enrollment.SubmitRequest{CertificateID: cert.ID, GroupID: g.ID, By: enrollment.AsHolder("parent-1"), CoPayAccepted: true})
			require.NoError(t, err)
			return c.Price
		}
		capped := price()
		require.True(t, capped.CoPay.IsPositive(), "with the cap the parent pays above the normative: %v", capped)
		_, err = r.Service.SetParameter(ctx, r.Key(), enrollment.ParameterRequest{Name: "normative_cap", From: r.Service.Today(), Value: "false",
			Reason: "постановление", By: enrollment.AsRegional("ops")})
		require.NoError(t, err)
		free := price()
		require.Equal(t, free.Total.String(), free.Cert.String(), "the balance covers the whole cost")
		require.True(t, free.CoPay.IsZero())
	})
}

// TestParameterVersionsReachEveryInstance: another service over the same
// store applies a change once it reads the store again (at most its
// refresh interval later); the region's own versions are listed with the
// stored ones, in the order they apply; a dry run stores nothing.
func TestParameterVersionsReachEveryInstance(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		r := storagetest.NewRegion(t, db, storagetest.RegionOptions{})
		cfg := r.Service.Config()
		cfg.RulesRefresh = time.Nanosecond
		cfg.Versions = []enrollment.Parameter{{Name: "prolongation_silence_days", From: funding.MustDate(2025, time.January, 1), Value: "10", Actor: "region", Reason: "region.json"}}
		other := enrollment.NewService(db, r.Clock, cfg)
		on := funding.MustDate(2025, time.December, 1)
		require.Equal(t, 10, other.RulesOn(on).ProlongationSilenceDays, "the region's own version")

		req := enrollment.ParameterRequest{Name: "prolongation_silence_days", From: on, Value: "14", Reason: "приказ", By: enrollment.AsRegional("ops")}
		_, err := r.Service.DryRun().SetParameter(ctx, r.Key(), req)
		require.NoError(t, err)
		_, err = r.Service.SetParameter(ctx, r.Key(), req)
		require.NoError(t, err)
		require.Equal(t, 14, r.Service.RulesOn(on).ProlongationSilenceDays, "the instance that made the change, at once")
		require.Equal(t, 7, r.Service.RulesOn(on.AddDays(-1)).ProlongationSilenceDays, "not before its date")

		vs, err := other.ParameterVersions(ctx, enrollment.AsRegional("ops"))
		require.NoError(t, err)
		require.Len(t, vs, 2, "the region's version and one stored: the dry run stored nothing")
		require.Equal(t, []string{"10", "14"}, []string{vs[0].Value, vs[1].Value})
		require.Zero(t, vs[0].Version)
		require.Equal(t, 14, other.RulesOn(on).ProlongationSilenceDays, "the other instance, after reading the store")
	})
}

// TestSilenceDueVersion: the day silence accepts a prolongation counts the
// silence days in force on the day it was offered.
func TestSilenceDueVersion(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		r := storagetest.NewRegion(t, db, storagetest.RegionOptions{})
		r.At(2025, time.September, 10)
		_, err := r.Service.SetParameter(context.Background(), r.Key(), enrollment.ParameterRequest{Name: "prolongation_silence_days",
			From: funding.MustDate(2025, time.October, 1), Value: "3", Reason: "приказ", By: enrollment.AsRegional("ops")})
		require.NoError(t, err)
		require.Equal(t, "2025-09-27", r.Service.SilenceDue(enrollment.Contract{OfferedOn: funding.MustDate(2025, time.September, 20)}).String())
		require.Equal(t, "2025-10-05", r.Service.SilenceDue(enrollment.Contract{OfferedOn: funding.MustDate(2025, time.October, 2)}).String())
	})
}
