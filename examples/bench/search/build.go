package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/edufund/edufund/catalog"
	"github.com/edufund/edufund/catalog/catalogtest"
	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/funding"
	"github.com/edufund/edufund/storage"
)

// The enrolling clients' world: the clock stands on the first day of the
// school year 2025/26, the funding period is the school year, and every
// provider has an agreement with its municipality for it.
var (
	now    = time.Date(2025, time.September, 1, 9, 0, 0, 0, time.UTC)
	period = funding.Period{Start: funding.MustDate(2025, time.September, 1), End: funding.MustDate(2026, time.August, 31)}
	groups = funding.Period{Start: funding.MustDate(2025, time.September, 1), End: funding.MustDate(2026, time.May, 31)}
)

func schoolYear(d funding.Date) funding.Period {
	y := d.Year()
	if d.Month() < time.September {
		y--
	}
	return funding.Period{Start: funding.MustDate(y, time.September, 1), End: funding.MustDate(y+1, time.August, 31)}
}

func serviceConfig(muns []string) enrollment.Config {
	cfg := enrollment.DefaultConfig()
	cfg.PeriodOf = schoolYear
	cfg.Children.Municipalities = map[string]bool{}
	for _, m := range muns {
		cfg.Children.Municipalities[m] = true
	}
	return cfg
}

// catalogue generates the benchmark's catalogue: every provider with an
// agreement with its municipality, and the groups the enrolling clients
// use (certified programs for a ten-year-old in the first municipality)
// with room for every enrolment of the run.
func catalogue(seed int64, n, enrolGroups int) (catalogtest.Catalogue, []uuid.UUID) {
	c := catalogtest.New(catalogtest.Options{Seed: seed, Programs: n, Period: groups})
	for i := range c.Providers {
		c.Providers[i].Agreements = []catalog.Agreement{{Municipality: c.Providers[i].Municipality, Period: period}}
	}
	var chosen []uuid.UUID
	mun := catalogtest.DefaultMunicipalities[0]
	for i := range c.Programs {
		p := &c.Programs[i]
		if len(chosen) == enrolGroups {
			break
		}
		if p.Municipality != mun || p.Registry != catalog.Certified || !p.EnrolmentOpen || !p.AcceptsAge(10) {
			continue
		}
		p.Module.MaxChildren = 0
		p.Groups[0].Capacity = 1_000_000
		chosen = append(chosen, p.Groups[0].ID)
	}
	return c, chosen
}

// build saves the catalogue through the store's transaction, batch
// programs to a transaction, as the service does each (the provider's,
// program's and seats' counters included): the index is written by the
// same SaveProvider and SaveProgram.
func build(ctx context.Context, db *storage.DB, c catalogtest.Catalogue, batch int) error {
	t0 := time.Now()
	byProvider := map[uuid.UUID][]catalogtest.Program{}
	for _, p := range c.Programs {
		byProvider[p.ProviderID] = append(byProvider[p.ProviderID], p)
	}
	const unlimited = enrollment.Unlimited
	done := 0
	for start := 0; start < len(c.Providers); {
		// Whole providers, about batch programs.
		end, n := start, 0
		for end < len(c.Providers) && (n == 0 || n+len(byProvider[c.Providers[end].ID]) <= batch) {
			n += len(byProvider[c.Providers[end].ID])
			end++
		}
		err := db.InTx(ctx, func(ctx context.Context, tx enrollment.Tx) error {
			for _, prov := range c.Providers[start:end] {
				if err := tx.SaveProvider(ctx, prov); err != nil {
					return err
				}
				if err := tx.EnsureCounter(ctx, "provider:"+prov.ID.String(), unlimited); err != nil {
					return err
				}
				for _, p := range byProvider[prov.ID] {
					if err := tx.SaveProgram(ctx, p.Program); err != nil {
						return err
					}
					if err := tx.EnsureCounter(ctx, "program:"+p.ID.String(), unlimited); err != nil {
						return err
					}
					if err := tx.SaveModule(ctx, p.Module); err != nil {
						return err
					}
					for _, g := range p.Groups {
						if err := tx.SaveGroup(ctx, g); err != nil {
							return err
						}
						if err := tx.EnsureCounter(ctx, "seats:"+g.ID.String(), int64(g.Capacity)); err != nil {
							return err
						}
					}
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("build: %w", err)
		}
		done += n
		start = end
		if el := time.Since(t0); done == len(c.Programs) || done%(20*batch) < n {
			fmt.Fprintf(os.Stderr, "  built %d of %d programs in %.0fs\n", done, len(c.Programs), el.Seconds())
		}
	}
	return nil
}

// writers is the enrolling clients' side: funded, active certificates of
// ten-year-olds in the first municipality and the groups they enrol in.
type writers struct {
	svc    *enrollment.Service
	certs  []uuid.UUID
	groups []uuid.UUID
}

// setupWriters issues and activates n certificates through the service,
// with the category and the municipal budget they need. Its keys are
// fixed, so that a reused database replays them.
func setupWriters(ctx context.Context, svc *enrollment.Service, n int, groups []uuid.UUID) (*writers, error) {
	mun := catalogtest.DefaultMunicipalities[0]
	sys := enrollment.AsSystem("bench")
	if _, err := svc.SaveCategory(ctx, "bench:category", certificate.Category{Code: "city", Nominal: funding.MustMoney("1000000.00")}, sys); err != nil {
		return nil, err
	}
	if _, err := svc.SetBudget(ctx, "bench:budget", enrollment.BudgetRequest{Municipality: mun, Period: period, Limit: funding.MustMoney("100000000000.00"), By: sys}); err != nil {
		return nil, err
	}
	w := &writers{svc: svc, groups: groups}
	for i := range n {
		res, err := svc.Issue(ctx, "bench:issue:"+strconv.Itoa(i), enrollment.IssueRequest{
			Holder: certificate.Holder{
				PersonID: "bench-" + strconv.Itoa(i), FullName: "Иванов Пётр", BirthDate: funding.MustDate(2015, time.March, 10),
				Sex: certificate.Male, Citizenship: "RU", Region: "reg-1", Municipality: mun, Registration: certificate.Permanent,
			},
			GuardianID: "parent", Category: "city", Funded: true, By: sys,
		})
		if err != nil {
			return nil, fmt.Errorf("issue: %w", err)
		}
		if _, err := svc.ChangeStatus(ctx, "bench:activate:"+strconv.Itoa(i), res.Certificate.ID, enrollment.ActivateCertificate, sys); err != nil {
			return nil, fmt.Errorf("activate: %w", err)
		}
		w.certs = append(w.certs, res.Certificate.ID)
	}
	return w, nil
}
