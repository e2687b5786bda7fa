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
	"github.com/edufund/edufund/enrollment/batch"
	"github.com/edufund/edufund/examples/bench/internal/benchutil"
	"github.com/edufund/edufund/examples/server/demo"
	"github.com/edufund/edufund/funding"
	"github.com/edufund/edufund/storage"
)

// benchCategory is the category of the bench's certificates: a nominal no
// run exhausts, so that a refusal means a rule, not an empty account.
const benchCategory = "bench"

// region is what the bench adds to the demo region: funded, active
// certificates each with a guardian of its own (a holder token per
// certificate), and groups open for enrolment in the demo's city.
type region struct {
	certs     []uuid.UUID
	guardians []string // guardians[i] holds certs[i]
	groups    []uuid.UUID
	history   []uuid.UUID // groups only the history's contracts use
	period    funding.Period
}

// addRegion builds the catalogue through the service and clones one issued,
// activated certificate into nCerts with bulk SQL, as the enrol bench does.
func addRegion(ctx context.Context, db *storage.DB, svc *enrollment.Service, nCerts, nGroups, nHistory int) (*region, error) {
	today := svc.Today()
	r := &region{period: funding.CalendarYear(today.Year())}
	n := 0
	key := func() string { n++; return fmt.Sprintf("bench-http-setup-%d", n) }
	by := enrollment.AsRegional("bench")
	if _, err := svc.SaveCategory(ctx, key(), certificate.Category{Code: benchCategory, Nominal: funding.MustMoney("100000000.00")}, by); err != nil {
		return nil, fmt.Errorf("category: %w", err)
	}
	// The demo's city budget covers a few thousand enrolments; a region's
	// load needs more.
	if _, err := svc.SetBudget(ctx, key(), enrollment.BudgetRequest{Municipality: demo.MunCity, Period: r.period, Limit: funding.MustMoney("100000000000.00"), By: by}); err != nil {
		return nil, fmt.Errorf("budget: %w", err)
	}
	// The directions the demo limits (sport, robotics) are left out: a
	// direction's limit would refuse most of the load.
	directions := []catalog.Direction{catalog.TechnicalOther, catalog.NaturalScience, catalog.Arts, catalog.Tourism, catalog.SocialPedagogical}
	rng := rand.New(rand.NewPCG(1, 1))
	const groupsPerProvider = 10
	var prov catalog.Provider
	for g := range nGroups + nHistory {
		if g%groupsPerProvider == 0 {
			var err error
			prov, err = svc.SaveProvider(ctx, key(), catalog.Provider{
				Name: fmt.Sprintf("Bench provider %d", g/groupsPerProvider), INN: "7707083893", Municipality: demo.MunCity,
				Agreements: []catalog.Agreement{{Municipality: demo.MunCity, Period: r.period}},
			}, by)
			if err != nil {
				return nil, fmt.Errorf("provider: %w", err)
			}
		}
		prog, err := svc.SaveProgram(ctx, key(), catalog.Program{
			ProviderID: prov.ID, Name: fmt.Sprintf("Bench program %d", g), Scheme: certificate.Supplementary,
			Direction: directions[g%len(directions)], Registry: catalog.Certified, MinAge: 5, MaxAge: 17,
			Certified: true, EnrolmentOpen: true, Municipality: demo.MunCity,
		}, by)
		if err != nil {
			return nil, fmt.Errorf("program: %w", err)
		}
		price := funding.Kopecks(int64(50000 + rng.IntN(100000))) // 500.00–1500.00
		mod, err := svc.SaveModule(ctx, key(), catalog.Module{
			ProgramID: prog.ID, Name: "Year 1", Price: price, NormativePrice: price, Hours: 72,
		}, by)
		if err != nil {
			return nil, fmt.Errorf("module: %w", err)
		}
		grp, err := svc.SaveGroup(ctx, key(), catalog.Group{
			ModuleID: mod.ID, Name: fmt.Sprintf("B%d", g), Start: r.period.Start, End: r.period.End, Capacity: 1_000_000,
		}, by)
		if err != nil {
			return nil, fmt.Errorf("group: %w", err)
		}
		if g < nGroups {
			r.groups = append(r.groups, grp.ID)
		} else {
			r.history = append(r.history, grp.ID)
		}
	}
	res, err := svc.Issue(ctx, key(), enrollment.IssueRequest{
		Holder: certificate.Holder{
			PersonID: "bench-0", FullName: "Иванов Пётр", BirthDate: funding.MustDate(today.Year()-10, time.March, 10),
			Sex: certificate.Male, Citizenship: "RU", Region: demo.Region, Municipality: demo.MunCity, Registration: certificate.Permanent,
		},
		GuardianID: "bench-g-0", Category: benchCategory, Funded: true, Protection: certificate.Forbidden, By: by,
	})
	if err != nil {
		return nil, fmt.Errorf("issue: %w", err)
	}
	tmpl, err := svc.ChangeStatus(ctx, key(), res.Certificate.ID, enrollment.ActivateCertificate, by)
	if err != nil {
		return nil, fmt.Errorf("activate: %w", err)
	}
	if err := cloneCertificates(ctx, db, tmpl.ID, nCerts-1); err != nil {
		return nil, err
	}
	var rows []struct {
		ID         uuid.UUID
		GuardianID string
	}
	if err := db.Bun().NewRaw("SELECT id, guardian_id FROM certificates WHERE category = ? ORDER BY id", benchCategory).Scan(ctx, &rows); err != nil {
		return nil, err
	}
	for _, c := range rows {
		r.certs = append(r.certs, c.ID)
		r.guardians = append(r.guardians, c.GuardianID)
	}
	if len(r.certs) != nCerts {
		return nil, fmt.Errorf("region: %d certificates of the bench, %d wanted", len(r.certs), nCerts)
	}
	return r, nil
}

// cloneCertificates copies the template certificate n times, each with a
// guardian of its own (bench-g-N), and analyses the tables on PostgreSQL.
func cloneCertificates(ctx context.Context, db *storage.DB, tmpl uuid.UUID, n int) error {
	if err := benchutil.CloneCertificates(ctx, db, tmpl, n, "H", "bench-g-"); err != nil {
		return err
	}
	if db.Dialect() == storage.Postgres {
		for _, t := range []string{"certificates", "accounts", "postings", "counters", "study_groups", "modules", "programs", "providers", "agreements", "idempotency"} {
			if _, err := db.Bun().ExecContext(ctx, "VACUUM ANALYZE "+t); err != nil {
				return err
			}
		}
	}
	return nil
}

// addHistory gives every certificate perCert contracts, one in each of
// the history's groups, through the library's Batcher: real contracts,
// postings and events, as a region's certificates hold after a while.
func addHistory(ctx context.Context, svc *enrollment.Service, r *region, perCert, workers int) error {
	if perCert == 0 {
		return nil
	}
	if perCert > len(r.history) {
		return fmt.Errorf("history: %d contracts a certificate, %d groups for them", perCert, len(r.history))
	}
	b := batch.NewBatcher(svc, batch.BatcherOptions{})
	defer b.Close()
	jobs := make(chan int)
	errc := make(chan error, workers)
	for range workers {
		go func() {
			var first error
			for j := range jobs {
				c, g := j/perCert, j%perCert
				_, err := b.Submit(ctx, fmt.Sprintf("bench-http-history-%d-%d", c, g), enrollment.SubmitRequest{
					CertificateID: r.certs[c], GroupID: r.history[g], By: enrollment.AsHolder(r.guardians[c]),
				})
				if err != nil && first == nil {
					first = fmt.Errorf("history contract %d of certificate %s: %w", g, r.certs[c], err)
				}
			}
			errc <- first
		}()
	}
	for j := range len(r.certs) * perCert {
		jobs <- j
	}
	close(jobs)
	var first error
	for range workers {
		if err := <-errc; err != nil && first == nil {
			first = err
		}
	}
	return first
}
