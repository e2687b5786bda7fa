package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/google/uuid"

	"github.com/edufund/edufund/catalog"
	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/examples/bench/internal/benchutil"
	"github.com/edufund/edufund/funding"
	"github.com/edufund/edufund/storage"
)

const benchMun = "mun-bench"

// benchClock is the region's: 1 September 2025, 09:00 UTC.
func benchClock() *funding.FixedClock {
	return &funding.FixedClock{T: time.Date(2025, time.September, 1, 9, 0, 0, 0, time.UTC)}
}

// benchGuardian applies for every certificate of the region.
const benchGuardian = "parent"

// schoolYear is the funding period: 1 September – 31 August, so that a
// submission on 1 September depletes nothing.
func schoolYear(d funding.Date) funding.Period {
	y := d.Year()
	if d.Month() < time.September {
		y--
	}
	return funding.Period{Start: funding.MustDate(y, time.September, 1), End: funding.MustDate(y+1, time.August, 31)}
}

// region is the benchmark's region: providers, programs, one module and
// group per program slot, funded certificates and one municipal budget
// shared by all.
type region struct {
	svc    *enrollment.Service
	certs  []uuid.UUID
	groups []uuid.UUID
	keys   int
}

func benchConfig() enrollment.Config {
	cfg := enrollment.DefaultConfig()
	cfg.PeriodOf = schoolYear
	cfg.Children.Municipalities = map[string]bool{benchMun: true}
	return cfg
}

func (r *region) key() string {
	r.keys++
	return fmt.Sprintf("setup-%d", r.keys)
}

// loadRegion builds the catalogue through the services and clones one
// issued, activated certificate (its account and grant posting) into
// nCerts with bulk SQL, which keeps loading at a few seconds.
func loadRegion(ctx context.Context, db *storage.DB, nCerts, nGroups int) (*region, error) {
	clock := benchClock()
	r := &region{svc: enrollment.NewService(db, clock, benchConfig())}
	svc := r.svc
	year := schoolYear(funding.DateOf(clock.T))
	if _, err := svc.SaveCategory(ctx, r.key(), certificate.Category{Code: "city", Nominal: funding.MustMoney("1000000.00")}, enrollment.AsSystem("bench")); err != nil {
		return nil, err
	}
	if _, err := svc.SetBudget(ctx, r.key(), enrollment.BudgetRequest{Municipality: benchMun, Period: year, Limit: funding.MustMoney("100000000000.00"), By: enrollment.AsSystem("bench")}); err != nil {
		return nil, err
	}
	directions := []catalog.Direction{catalog.TechnicalRobotics, catalog.TechnicalOther, catalog.NaturalScience, catalog.Sport, catalog.Arts, catalog.Tourism, catalog.SocialPedagogical}
	rng := rand.New(rand.NewPCG(1, 1))
	const groupsPerProvider = 10
	var prov catalog.Provider
	for g := range nGroups {
		if g%groupsPerProvider == 0 {
			var err error
			prov, err = svc.SaveProvider(ctx, r.key(), catalog.Provider{
				Name: fmt.Sprintf("Provider %d", g/groupsPerProvider), INN: "7707083893", Municipality: benchMun,
				Agreements: []catalog.Agreement{{Municipality: benchMun, Period: year}},
			}, enrollment.AsSystem("bench"))
			if err != nil {
				return nil, err
			}
		}
		prog, err := svc.SaveProgram(ctx, r.key(), catalog.Program{
			ProviderID: prov.ID, Name: fmt.Sprintf("Program %d", g), Scheme: certificate.Supplementary,
			Direction: directions[g%len(directions)], Registry: catalog.Certified, MinAge: 5, MaxAge: 17,
			Certified: true, EnrolmentOpen: true, Municipality: benchMun,
		}, enrollment.AsSystem("bench"))
		if err != nil {
			return nil, err
		}
		price := funding.Kopecks(int64(50000 + rng.IntN(100000))) // 500.00–1500.00
		mod, err := svc.SaveModule(ctx, r.key(), catalog.Module{
			ProgramID: prog.ID, Name: "Year 1", Price: price, NormativePrice: price, Hours: 72,
		}, enrollment.AsSystem("bench"))
		if err != nil {
			return nil, err
		}
		grp, err := svc.SaveGroup(ctx, r.key(), catalog.Group{
			ModuleID: mod.ID, Name: fmt.Sprintf("G%d", g), Start: year.Start,
			End: funding.MustDate(year.Start.Year()+1, time.May, 31), Capacity: 1_000_000,
		}, enrollment.AsSystem("bench"))
		if err != nil {
			return nil, err
		}
		r.groups = append(r.groups, grp.ID)
	}
	res, err := svc.Issue(ctx, r.key(), enrollment.IssueRequest{
		Holder: certificate.Holder{
			PersonID: "template", FullName: "Иванов Пётр", BirthDate: funding.MustDate(2015, time.March, 10),
			Sex: certificate.Male, Citizenship: "RU", Region: "reg-1", Municipality: benchMun, Registration: certificate.Permanent,
		},
		GuardianID: benchGuardian, Category: "city", Funded: true, By: enrollment.AsSystem("bench"),
	})
	if err != nil {
		return nil, err
	}
	tmpl, err := svc.ChangeStatus(ctx, r.key(), res.Certificate.ID, enrollment.ActivateCertificate, enrollment.AsSystem("bench"))
	if err != nil {
		return nil, err
	}
	if err := benchutil.CloneCertificates(ctx, db, tmpl.ID, nCerts-1, "B", ""); err != nil {
		return nil, err
	}
	if err := db.Bun().NewRaw("SELECT id FROM certificates ORDER BY id").Scan(ctx, &r.certs); err != nil {
		return nil, err
	}
	if db.Dialect() == storage.Postgres {
		// Statistics of the populated tables only: an ANALYZE of the empty
		// contracts table would plan its lookups as seq scans (perf-baseline).
		for _, t := range []string{"certificates", "accounts", "postings", "counters", "study_groups", "modules", "programs", "providers", "agreements", "idempotency"} {
			if _, err := db.Bun().ExecContext(ctx, "VACUUM ANALYZE "+t); err != nil {
				return nil, err
			}
		}
		if _, err := db.Bun().ExecContext(ctx, "CHECKPOINT"); err != nil {
			return nil, err
		}
	}
	return r, nil
}
