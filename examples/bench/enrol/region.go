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
	if err := cloneCertificates(ctx, db, tmpl.ID, nCerts-1); err != nil {
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

// cloneCertificates copies the template certificate n times with new ids,
// numbers and persons, with its account and grant posting.
func cloneCertificates(ctx context.Context, db *storage.DB, tmpl uuid.UUID, n int) error {
	var id, num, post string
	if db.Dialect() == storage.Postgres {
		id = "(lpad(to_hex(s.n), 8, '0') || '-0000-7000-8000-' || lpad(to_hex(s.n), 12, '0'))::uuid"
		post = "(lpad(to_hex(s.n), 8, '0') || '-0000-7000-9000-' || lpad(to_hex(s.n), 12, '0'))::uuid"
		num = "'B' || lpad(s.n::text, 9, '0')"
	} else {
		id = "printf('%08x-0000-7000-8000-%012x', s.n, s.n)"
		post = "printf('%08x-0000-7000-9000-%012x', s.n, s.n)"
		num = "printf('B%09d', s.n)"
	}
	series := fmt.Sprintf("WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < %d) ", n)
	if db.Dialect() == storage.Postgres {
		series = fmt.Sprintf("WITH s AS (SELECT generate_series(1, %d) AS n) ", n)
	}
	stmts := []string{
		series + `INSERT INTO certificates (id, number, scheme, person_id, full_name, birth_date, sex, citizenship, education, region,
			holder_municipality, registration, guardian_id, municipality, category, kind, status, issued_on, valid_until,
			protection_mode, passphrase_hash, failed_attempts, locked_until, documents_uploaded_on, documents_valid_reason, uniq_year)
		SELECT ` + id + `, ` + num + `, t.scheme, 'bench-' || s.n, t.full_name, t.birth_date, t.sex, t.citizenship, t.education, t.region,
			t.holder_municipality, t.registration, t.guardian_id, t.municipality, t.category, t.kind, t.status, t.issued_on, t.valid_until,
			t.protection_mode, t.passphrase_hash, t.failed_attempts, t.locked_until, t.documents_uploaded_on, t.documents_valid_reason, t.uniq_year
		FROM certificates t, s WHERE t.id = ?`,
		series + `INSERT INTO accounts (certificate_id, period_start, period_end, nominal, balance, held, depleted, expired, fixed)
		SELECT ` + id + `, t.period_start, t.period_end, t.nominal, t.balance, t.held, t.depleted, t.expired, t.fixed
		FROM accounts t, s WHERE t.certificate_id = ?`,
		series + `INSERT INTO postings (id, certificate_id, period_start, period_end, kind, amount, hold_id, contract_id, month, at, actor, rule, params)
		SELECT ` + post + `, ` + id + `, t.period_start, t.period_end, t.kind, t.amount, t.hold_id, t.contract_id, t.month, t.at, t.actor, t.rule, t.params
		FROM postings t, s WHERE t.certificate_id = ?`,
	}
	for _, q := range stmts {
		if _, err := db.Bun().ExecContext(ctx, q, tmpl); err != nil {
			return fmt.Errorf("clone certificates: %w", err)
		}
	}
	return nil
}
