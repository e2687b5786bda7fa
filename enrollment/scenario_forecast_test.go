package enrollment_test

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/edufund/edufund/catalog"
	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/funding"
	"github.com/edufund/edufund/storage"
	"github.com/edufund/edufund/storage/storagetest"
)

// scheduled is a forecast's months as "2025-09 989.04" lines.
func scheduled(f enrollment.MunicipalityForecast) []string {
	var out []string
	sum := funding.Zero
	for _, m := range f.Scheduled {
		out = append(out, m.Month.String()+" "+m.Amount.String())
		sum = sum.Add(m.Amount)
	}
	if !sum.Equal(f.Reserved) {
		panic(fmt.Sprintf("Σ scheduled %s ≠ reserved %s", sum, f.Reserved))
	}
	return out
}

// queuedChild issues a child's certificate asking for a funded slot; the
// category is full, so it waits in the queue.
func queuedChild(t *testing.T, r *storagetest.Region, i int) certificate.Certificate {
	t.Helper()
	res, err := r.Service.Issue(context.Background(), r.Key(), enrollment.IssueRequest{
		Holder: certificate.Holder{
			PersonID: fmt.Sprintf("queued-%d-%s", i, uuid.NewString()[:8]), FullName: fmt.Sprintf("Петров Иван %d", i),
			BirthDate: funding.MustDate(2016, time.April, 2), Sex: certificate.Male, Citizenship: "RU",
			Region: "reg-1", Municipality: storagetest.Municipality, Registration: certificate.Permanent,
		},
		GuardianID: "parent-2", Category: "city", Funded: true, By: enrollment.AsSystem("test"),
	})
	require.NoError(t, err)
	require.True(t, res.Queued, "the category is full")
	return res.Certificate
}

// TestForecast: the budget forecast of rules.md's worked example. An
// application reserves 4021.98, scheduled 989.04 in September and 1010.98
// in each month to December; its activation charges September; the
// October close charges October. A queued certificate needs its
// category's nominal. A municipal authority sees its own row only.
func TestForecast(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		r := storagetest.NewRegion(t, db, storagetest.RegionOptions{Budget: funding.MustMoney("100000.00")})
		certs := r.Children(2)
		ops := enrollment.AsRegional("ops")
		one := func(by enrollment.Caller) enrollment.MunicipalityForecast {
			t.Helper()
			fc, err := r.Service.Forecast(ctx, by)
			require.NoError(t, err)
			require.Len(t, fc, 1)
			return fc[0]
		}

		f := one(ops)
		require.Equal(t, storagetest.Municipality, f.Municipality)
		require.Equal(t, storagetest.Autumn, f.Period)
		require.False(t, f.Unlimited)
		require.Equal(t, "100000.00", f.Limit.String())
		require.Equal(t, "0.00", f.Reserved.String())
		require.Equal(t, "100000.00", f.Headroom.String())

		c, err := r.Service.Submit(ctx, r.Key(), enrollment.SubmitRequest{CertificateID: certs[0].ID, GroupID: r.Group.ID, By: enrollment.AsHolder("parent-1")})
		require.NoError(t, err)
		f = one(ops)
		require.Equal(t, []string{"2025-09 989.04", "2025-10 1010.98", "2025-11 1010.98", "2025-12 1010.98"}, scheduled(f))
		require.Equal(t, "4021.98", f.Reserved.String())
		require.Equal(t, "0.00", f.Spent.String())
		require.Equal(t, 1, f.Contracts)
		require.Equal(t, "4021.98", f.Need.String())
		require.Equal(t, "95978.02", f.Headroom.String())

		_, err = r.Service.Confirm(ctx, r.Key(), enrollment.ContractRequest{ContractID: c.ID, By: enrollment.AsProvider(r.Provider.ID)})
		require.NoError(t, err)
		_, err = r.Service.Accept(ctx, r.Key(), enrollment.ContractRequest{ContractID: c.ID, By: enrollment.AsHolder("parent-1")})
		require.NoError(t, err)
		f = one(ops)
		require.Equal(t, []string{"2025-09 0.00", "2025-10 1010.98", "2025-11 1010.98", "2025-12 1010.98"}, scheduled(f))
		require.Equal(t, "989.04", f.Spent.String())
		require.Equal(t, "3032.94", f.Reserved.String())

		// The category is full at two: a third child waits for a slot.
		_, err = r.Service.SaveCategory(ctx, r.Key(), certificate.Category{Code: "city", Nominal: funding.MustMoney("30000.00"), MaxCount: 2}, ops)
		require.NoError(t, err)
		queuedChild(t, r, 0)
		f = one(ops)
		require.Equal(t, 1, f.Queued)
		require.Equal(t, "30000.00", f.QueueMoney.String())
		require.Equal(t, "34021.98", f.Need.String(), "989.04 spent + 3032.94 reserved + 30000.00 queued")
		require.Equal(t, "65978.02", f.Headroom.String())
		require.False(t, f.Over())

		r.At(2025, time.October, 1)
		_, err = r.Service.CloseMonth(ctx, funding.Month{Year: 2025, Month: time.October}, nil)
		require.NoError(t, err)
		f = one(ops)
		require.Equal(t, []string{"2025-10 0.00", "2025-11 1010.98", "2025-12 1010.98"}, scheduled(f))
		require.Equal(t, "2000.02", f.Spent.String())
		require.Equal(t, "2021.96", f.Reserved.String())
		require.Equal(t, "34021.98", f.Need.String())

		// A limit below the need shows a negative headroom.
		_, err = r.Service.SetBudget(ctx, r.Key(), enrollment.BudgetRequest{Municipality: storagetest.Municipality, Period: storagetest.Autumn,
			Limit: funding.MustMoney("20000.00"), By: ops})
		require.NoError(t, err)
		f = one(ops)
		require.Equal(t, "-14021.98", f.Headroom.String())
		require.True(t, f.Over())

		// A municipality: its own row only; another municipality's row is empty.
		require.Equal(t, f, one(enrollment.AsMunicipality(storagetest.Municipality)))
		other := one(enrollment.AsMunicipality("mun-2"))
		require.Equal(t, "mun-2", other.Municipality)
		require.True(t, other.Unlimited)
		require.Zero(t, other.Contracts+other.Queued)
		require.Equal(t, "0.00", other.Need.String())
		fed, err := r.Service.Forecast(ctx, enrollment.AsFederal("fed"))
		require.NoError(t, err)
		require.Len(t, fed, 1)

		for _, by := range []enrollment.Caller{enrollment.AsHolder("parent-1"), enrollment.AsProvider(r.Provider.ID)} {
			_, err := r.Service.Forecast(ctx, by)
			require.ErrorIs(t, err, enrollment.ErrForbidden)
		}
	})
}

// TestWhatIfNominal: a cut some balance does not cover lists the short
// certificate and moves nothing; a raise moves (new − old) on every funded
// certificate of the category and prices the queue at the new nominal.
// Neither changes a balance.
func TestWhatIfNominal(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		r := storagetest.NewRegion(t, db, storagetest.RegionOptions{})
		certs := r.Children(3)
		_, err := r.Service.Submit(ctx, r.Key(), enrollment.SubmitRequest{CertificateID: certs[0].ID, GroupID: r.Group.ID, By: enrollment.AsHolder("parent-1")})
		require.NoError(t, err)
		ops := enrollment.AsRegional("ops")
		_, err = r.Service.SaveCategory(ctx, r.Key(), certificate.Category{Code: "city", Nominal: funding.MustMoney("30000.00"), MaxCount: 3}, ops)
		require.NoError(t, err)
		queuedChild(t, r, 0)
		city := func(nominal string) *certificate.Category {
			return &certificate.Category{Code: "city", Nominal: funding.MustMoney(nominal), MaxCount: 3}
		}
		balances := func() []string {
			var out []string
			for _, c := range certs {
				out = append(out, r.Money(c.ID).Balance.String())
			}
			return out
		}
		was := balances()

		// 30000 → 4000 would take 26000.00 from a balance of 25978.02.
		rep, err := r.Service.WhatIf(ctx, enrollment.Proposal{Category: city("4000.00"), By: ops})
		require.NoError(t, err)
		require.NotNil(t, rep.Refusal)
		require.Equal(t, enrollment.CodeNominalCut, rep.Refusal.Code)
		require.Contains(t, rep.Refusal.Message, string(certs[0].Number))
		require.Equal(t, 1, rep.Refused)
		require.Len(t, rep.Refusals, 1)
		require.Equal(t, certs[0].Number, rep.Refusals[0].Number)
		require.Equal(t, storagetest.Municipality, rep.Refusals[0].Municipality)
		require.Contains(t, rep.Refusals[0].Reason, "25978.02")
		require.Zero(t, rep.Affected)
		require.Empty(t, rep.Changes)
		require.Equal(t, "0.00", rep.Moved.String())
		require.Equal(t, "30000.00", rep.Category.NominalBefore.String())
		require.Equal(t, "4000.00", rep.Category.NominalAfter.String())
		require.Len(t, rep.Budget, 1)
		require.Equal(t, rep.Budget[0].Before, rep.Budget[0].After, "a refused cut changes no budget")

		rep, err = r.Service.WhatIf(ctx, enrollment.Proposal{Category: city("31000.00"), By: ops})
		require.NoError(t, err)
		require.Nil(t, rep.Refusal)
		require.Equal(t, 3, rep.Affected)
		require.Equal(t, "3000.00", rep.Moved.String(), "1000.00 × 3 certificates")
		require.Len(t, rep.Changes, 3)
		for _, ch := range rep.Changes {
			require.Equal(t, "1000.00", ch.After.Sub(ch.Before).String())
			if ch.Number == certs[0].Number {
				require.Equal(t, "25978.02", ch.Before.String())
				require.Equal(t, "26978.02", ch.After.String())
			}
		}
		b := rep.Budget[0]
		require.Equal(t, "30000.00", b.Before.QueueMoney.String())
		require.Equal(t, "31000.00", b.After.QueueMoney.String())
		require.Equal(t, "34021.98", b.Before.Need.String())
		require.Equal(t, "35021.98", b.After.Need.String())
		require.True(t, b.After.Unlimited)

		// Caps below the funded certificates are refused.
		rep, err = r.Service.WhatIf(ctx, enrollment.Proposal{Category: &certificate.Category{Code: "city", Nominal: funding.MustMoney("30000.00"), MaxCount: 2}, By: ops})
		require.NoError(t, err)
		require.NotNil(t, rep.Refusal)
		require.Equal(t, enrollment.CodeLimitBelowUse, rep.Refusal.Code)

		require.Equal(t, was, balances(), "a what-if moves no balance")
		cat, err := r.Service.Category(ctx, "city")
		require.NoError(t, err)
		require.Equal(t, 3, cat.MaxCount)

		_, err = r.Service.WhatIf(ctx, enrollment.Proposal{Category: city("31000.00"), By: enrollment.AsMunicipality(storagetest.Municipality)})
		require.ErrorIs(t, err, enrollment.ErrForbidden)
		_, err = r.Service.WhatIf(ctx, enrollment.Proposal{Category: city("-1.00"), By: ops})
		requireField(t, err, "category.nominal")
		_, err = r.Service.WhatIf(ctx, enrollment.Proposal{By: ops})
		requireField(t, err, "proposal")
	})
}

func requireField(t *testing.T, err error, field string) {
	t.Helper()
	var ve *funding.ValidationError
	require.ErrorAs(t, err, &ve)
	require.Equal(t, field, ve.Field)
}

// generalContracts gives the region a program of the general registry
// (budget-funded) with two modules, and submits n[i] applications of it
// for certificate i.
func generalContracts(t *testing.T, r *storagetest.Region, certs []certificate.Certificate, n []int) {
	t.Helper()
	ctx := context.Background()
	sys := enrollment.AsSystem("test")
	prog, err := r.Service.SaveProgram(ctx, r.Key(), catalog.Program{ProviderID: r.Provider.ID, Name: "Шахматы", Scheme: certificate.Supplementary,
		Direction: catalog.SocialPedagogical, Registry: catalog.General, MinAge: 5, MaxAge: 17, EnrolmentOpen: true, Municipality: storagetest.Municipality}, sys)
	require.NoError(t, err)
	var groups []catalog.Group
	for i := range 2 {
		m, err := r.Service.SaveModule(ctx, r.Key(), catalog.Module{ProgramID: prog.ID, Name: fmt.Sprintf("Модуль %d", i+1),
			Price: funding.MustMoney("3000.00"), NormativePrice: funding.MustMoney("3000.00"), Hours: 36}, sys)
		require.NoError(t, err)
		groups = append(groups, r.AddGroup(m, 15))
	}
	for i, c := range certs {
		for k := range n[i] {
			_, err := r.Service.Submit(ctx, r.Key(), enrollment.SubmitRequest{CertificateID: c.ID, GroupID: groups[k].ID, By: enrollment.AsHolder("parent-1")})
			require.NoError(t, err)
		}
	}
}

// TestWhatIfRegistryQuota: a lower quota lists the certificates whose next
// application of the registry it would refuse (at or over it) and the
// quota in force admits; a raise lists none; a value out of range is the
// refusal of the form, naming the field.
func TestWhatIfRegistryQuota(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		r := storagetest.NewRegion(t, db, storagetest.RegionOptions{})
		certs := r.Children(3)
		generalContracts(t, r, certs, []int{2, 1, 0})
		ops := enrollment.AsRegional("ops")
		quota := func(v string) enrollment.Proposal {
			return enrollment.Proposal{Parameter: &enrollment.ParameterRequest{Name: "registry_quota", Scope: "general",
				From: funding.MustDate(2025, time.October, 1), Value: v, Reason: "приказ № 5"}, By: ops}
		}
		numbers := func(rep enrollment.WhatIfReport) []certificate.Number {
			var out []certificate.Number
			for _, x := range rep.Refusals {
				out = append(out, x.Number)
			}
			return out
		}

		rep, err := r.Service.WhatIf(ctx, quota("1"))
		require.NoError(t, err)
		require.Nil(t, rep.Refusal)
		require.Equal(t, "1", rep.Parameter.Value)
		require.Equal(t, 2, rep.Refused)
		require.Equal(t, 2, rep.Affected)
		want := []certificate.Number{certs[0].Number, certs[1].Number}
		slices.Sort(want)
		require.Equal(t, want, numbers(rep))
		for _, x := range rep.Refusals {
			if x.Number == certs[0].Number {
				require.Contains(t, x.Reason, "holds 2 live contracts of the general registry, over the new quota of 1")
			} else {
				require.Contains(t, x.Reason, "holds 1 live contracts of the general registry, at the new quota of 1")
			}
		}
		require.Len(t, rep.Budget, 1)
		require.Equal(t, rep.Budget[0].Before, rep.Budget[0].After)
		require.NotEmpty(t, rep.Notes[0])

		rep, err = r.Service.WhatIf(ctx, quota("2"))
		require.NoError(t, err)
		require.Equal(t, []certificate.Number{certs[0].Number}, numbers(rep))

		rep, err = r.Service.WhatIf(ctx, quota("5"))
		require.NoError(t, err)
		require.Zero(t, rep.Refused)
		require.Zero(t, rep.Affected)

		_, err = r.Service.WhatIf(ctx, quota("25"))
		requireField(t, err, "value")
		p := quota("1")
		p.By = enrollment.AsMunicipality(storagetest.Municipality)
		_, err = r.Service.WhatIf(ctx, p)
		require.ErrorIs(t, err, enrollment.ErrForbidden)
		p.By = enrollment.AsHolder("parent-1")
		_, err = r.Service.WhatIf(ctx, p)
		require.ErrorIs(t, err, enrollment.ErrForbidden)

		// The quota in force is unchanged: a second general application of certs[1] passes.
		vs, err := r.Service.ParameterVersions(ctx, ops)
		require.NoError(t, err)
		require.Empty(t, vs)
	})
}

// TestWhatIfParameters: a minimum age lists the funded children under it;
// a new advance share reports the advances of its first month before and
// after; the adult quota is checked against its year's use.
func TestWhatIfParameters(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		r := storagetest.NewRegion(t, db, storagetest.RegionOptions{})
		activeContract(t, r)
		r.Child(1)
		ops := enrollment.AsRegional("ops")
		mun := enrollment.AsMunicipality(storagetest.Municipality)
		param := func(name, scope, from, value string, by enrollment.Caller) enrollment.Proposal {
			d, err := funding.ParseDate(from)
			require.NoError(t, err)
			return enrollment.Proposal{Parameter: &enrollment.ParameterRequest{Name: name, Scope: scope, From: d, Value: value, Reason: "решение"}, By: by}
		}

		// The children are 10 on 1 October 2025.
		rep, err := r.Service.WhatIf(ctx, param("children.min_age", storagetest.Municipality, "2025-10-01", "11", mun))
		require.NoError(t, err)
		require.Equal(t, 2, rep.Refused)
		require.Contains(t, rep.Refusals[0].Reason, "the child is 10 on 2025-10-01, under the new minimum of 11")
		rep, err = r.Service.WhatIf(ctx, param("children.min_age", storagetest.Municipality, "2025-10-01", "10", mun))
		require.NoError(t, err)
		require.Zero(t, rep.Refused)
		_, err = r.Service.WhatIf(ctx, param("children.min_age", "mun-2", "2025-10-01", "11", mun))
		require.ErrorIs(t, err, enrollment.ErrForbidden)

		// November's advance of 1010.98: 808.78 at 0.8, 505.49 at 0.5.
		rep, err = r.Service.WhatIf(ctx, param("advance_share", "", "2025-11-01", "0.5", ops))
		require.NoError(t, err)
		require.Equal(t, funding.Month{Year: 2025, Month: time.November}, rep.AdvanceMonth)
		require.Equal(t, []enrollment.AdvanceChange{{Municipality: storagetest.Municipality,
			Before: funding.MustMoney("808.78"), After: funding.MustMoney("505.49")}}, rep.Advances)
		require.Equal(t, rep.Budget[0].Before, rep.Budget[0].After)
		_, err = r.Service.WhatIf(ctx, param("advance_share", "", "2025-09-01", "0.5", ops))
		requireField(t, err, "from")

		// Two adults take two of the year's five places: a quota of one is refused.
		for i := range 2 {
			_, err := r.Service.ApplyAdult(ctx, r.Key(), adultRequest(i))
			require.NoError(t, err)
		}
		fed := enrollment.AsFederal("fed")
		rep, err = r.Service.WhatIf(ctx, param("adult_quota", "", "2025-10-01", "1", fed))
		require.NoError(t, err)
		require.NotNil(t, rep.Refusal)
		require.Equal(t, enrollment.CodeLimitBelowUse, rep.Refusal.Code)
		rep, err = r.Service.WhatIf(ctx, param("adult_quota", "", "2025-10-01", "10", fed))
		require.NoError(t, err)
		require.Nil(t, rep.Refusal)
		require.Zero(t, rep.Affected, "nobody waits")

		for _, p := range []enrollment.Proposal{
			param("normative_cap", "", "2025-10-01", "false", ops),
			param("prolongation_silence_days", "", "2025-10-01", "10", ops),
		} {
			rep, err := r.Service.WhatIf(ctx, p)
			require.NoError(t, err)
			require.Nil(t, rep.Refusal)
			require.Zero(t, rep.Affected+rep.Refused)
			require.NotEmpty(t, rep.Notes[0])
		}
	})
}

// adultRequest is an adult's application of the region's year.
func adultRequest(i int) enrollment.AdultApplication {
	return enrollment.AdultApplication{Holder: adultHolder(i), By: enrollment.AsSystem("test")}
}

// dumpTables is every row of every table of db as text, each table's rows
// sorted: equal dumps, nothing written.
func dumpTables(t *testing.T, db *storage.DB) string {
	t.Helper()
	ctx := context.Background()
	list := "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
	if db.Dialect() == storage.Postgres {
		list = "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name"
	}
	var tables []string
	require.NoError(t, db.Bun().NewRaw(list).Scan(ctx, &tables))
	require.Greater(t, len(tables), 20, "every table of the schema: %v", tables)
	var b strings.Builder
	for _, table := range tables {
		rows, err := db.Bun().QueryContext(ctx, "SELECT * FROM "+table)
		require.NoError(t, err)
		cols, err := rows.Columns()
		require.NoError(t, err)
		vals := make([]sql.RawBytes, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		var lines []string
		for rows.Next() {
			require.NoError(t, rows.Scan(ptrs...))
			lines = append(lines, fmt.Sprintf("%q", vals))
		}
		require.NoError(t, rows.Err())
		require.NoError(t, rows.Close())
		slices.Sort(lines)
		fmt.Fprintf(&b, "== %s %v (%d rows)\n%s\n", table, cols, len(lines), strings.Join(lines, "\n"))
	}
	return b.String()
}

// TestWhatIfWritesNothing: the forecast and every kind of what-if leave
// every table byte-identical, on every engine.
func TestWhatIfWritesNothing(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		r := storagetest.NewRegion(t, db, storagetest.RegionOptions{Budget: funding.MustMoney("100000.00")})
		activeContract(t, r)
		certs := []certificate.Certificate{r.Child(1), r.Child(2)}
		generalContracts(t, r, certs, []int{2, 1})
		ops, fed := enrollment.AsRegional("ops"), enrollment.AsFederal("fed")
		_, err := r.Service.SaveCategory(ctx, r.Key(), certificate.Category{Code: "city", Nominal: funding.MustMoney("30000.00"), MaxCount: 3}, ops)
		require.NoError(t, err)
		queuedChild(t, r, 0)
		for i := range 6 { // the sixth waits for a place of the quota of 5
			_, err := r.Service.ApplyAdult(ctx, r.Key(), adultRequest(i))
			require.NoError(t, err)
		}
		_, err = r.Service.SetParameter(ctx, r.Key(), enrollment.ParameterRequest{Name: "advance_share", From: funding.MustDate(2025, time.November, 1),
			Value: "0.7", Reason: "приказ", By: ops})
		require.NoError(t, err)
		_, err = r.Service.SaveCategory(ctx, r.Key(), certificate.Category{Code: "weekly", HoursBase: 6}, ops)
		require.NoError(t, err)
		r.At(2025, time.September, 15)

		before := dumpTables(t, db)
		fc, err := r.Service.Forecast(ctx, ops)
		require.NoError(t, err)
		require.Len(t, fc, 1)
		_, err = r.Service.Forecast(ctx, enrollment.AsMunicipality(storagetest.Municipality))
		require.NoError(t, err)
		from := funding.MustDate(2025, time.December, 1)
		values := map[string]struct {
			scope, value string
			by           enrollment.Caller
		}{
			"adult_coverage":                 {"disabled", "0.5", fed},
			"adult_quota":                    {"", "10", fed},
			"adult_stages":                   {"", "0.3,0.7", fed},
			"adults.documents_deadline_days": {"", "10", fed},
			"adults.min_age":                 {"", "16", fed},
			"adults.federal_review":          {"", "true", fed},
			"advance_share":                  {"", "0.5", ops},
			"category_hours":                 {"weekly", "8+2", ops},
			"category_nominal":               {"city", "31000.00", ops},
			"child_hour_cost":                {storagetest.Municipality, "150.00", ops},
			"children.min_age":               {storagetest.Municipality, "11", ops},
			"normative_cap":                  {"", "false", ops},
			"prolongation_silence_days":      {"", "3", ops},
			"rating_window_months":           {"", "3", ops},
			"registry_quota":                 {"general", "1", ops},
		}
		for _, def := range enrollment.Parameters {
			v, ok := values[def.Name]
			require.True(t, ok, "a what-if of %s: add it to this test", def.Name)
			at := from
			if def.AtOnceOrPeriodStart {
				at = r.Service.Today() // at once: the category saved with it
			}
			rep, err := r.Service.WhatIf(ctx, enrollment.Proposal{Parameter: &enrollment.ParameterRequest{Name: def.Name, Scope: v.scope, From: at,
				Value: v.value, Reason: "проверка"}, By: v.by})
			require.NoError(t, err, def.Name)
			require.Nil(t, rep.Refusal, def.Name)
			if def.Name == "adult_quota" {
				require.Equal(t, 1, rep.Affected, "a quota of 10 funds the one waiting")
			}
		}
		rep, err := r.Service.WhatIf(ctx, enrollment.Proposal{Parameter: &enrollment.ParameterRequest{Name: "adult_quota", From: from, Value: "1", Reason: "x"}, By: fed})
		require.NoError(t, err)
		require.NotNil(t, rep.Refusal)
		for _, nominal := range []string{"4000.00", "31000.00", "29000.00"} {
			_, err := r.Service.WhatIf(ctx, enrollment.Proposal{Category: &certificate.Category{Code: "city", Nominal: funding.MustMoney(nominal), MaxCount: 3}, By: ops})
			require.NoError(t, err)
		}
		_, err = r.Service.WhatIf(ctx, enrollment.Proposal{Category: &certificate.Category{Code: "city", Nominal: funding.MustMoney("30000.00"), MaxCount: 1}, By: ops})
		require.NoError(t, err)
		_, err = r.Service.WhatIf(ctx, enrollment.Proposal{Category: &certificate.Category{Code: "new", Nominal: funding.MustMoney("1000.00")}, By: ops})
		require.NoError(t, err)
		require.Equal(t, before, dumpTables(t, db), "a forecast or a what-if wrote to the store")

		// The dump sees a change: the change itself writes.
		_, err = r.Service.SaveCategory(ctx, r.Key(), certificate.Category{Code: "city", Nominal: funding.MustMoney("31000.00"), MaxCount: 3}, ops)
		require.NoError(t, err)
		require.NotEqual(t, before, dumpTables(t, db))
	})
}
