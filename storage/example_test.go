package storage_test

import (
	"context"
	"fmt"
	"time"

	"github.com/edufund/edufund/catalog"
	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/enrollment/batch"
	"github.com/edufund/edufund/funding"
	"github.com/edufund/edufund/storage"
)

// Embedding edufund: open a store, configure the region, and run one
// enrolment through the services' Batcher.
func Example() {
	ctx := context.Background()
	db, err := storage.Open(ctx, "sqlite::memory:") // or "sqlite:edufund.db", or "postgres://…"
	if err != nil {
		panic(err)
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		panic(err)
	}

	cfg := enrollment.DefaultConfig()
	cfg.Children.Municipalities = map[string]bool{"novograd": true}
	clock := &funding.FixedClock{T: time.Date(2025, time.January, 10, 9, 0, 0, 0, time.UTC)}
	svc := enrollment.NewService(db, clock, cfg)

	must := func(_ any, err error) {
		if err != nil {
			panic(err)
		}
	}
	must(svc.SaveCategory(ctx, "cat", certificate.Category{Code: "city", Nominal: funding.MustMoney("12000.00")}, enrollment.AsSystem("test")))
	prov, err := svc.SaveProvider(ctx, "prov", catalog.Provider{Name: "Robo Center", INN: "7707083893", Municipality: "novograd",
		Agreements: []catalog.Agreement{{Municipality: "novograd", Period: funding.CalendarYear(2025)}}}, enrollment.AsSystem("test"))
	must(prov, err)
	prog, err := svc.SaveProgram(ctx, "prog", catalog.Program{ProviderID: prov.ID, Name: "Robotics", Scheme: certificate.Supplementary,
		Direction: catalog.TechnicalRobotics, Registry: catalog.Certified, MinAge: 5, MaxAge: 17, Certified: true, EnrolmentOpen: true, Municipality: "novograd"}, enrollment.AsSystem("test"))
	must(prog, err)
	mod, err := svc.SaveModule(ctx, "mod", catalog.Module{ProgramID: prog.ID, Name: "Year 1", Price: funding.MustMoney("6000.00"), NormativePrice: funding.MustMoney("6000.00"), Hours: 72}, enrollment.AsSystem("test"))
	must(mod, err)
	grp, err := svc.SaveGroup(ctx, "grp", catalog.Group{ModuleID: mod.ID, Name: "Mon/Wed", Start: funding.MustDate(2025, time.February, 1), End: funding.MustDate(2025, time.May, 31), Capacity: 12}, enrollment.AsSystem("test"))
	must(grp, err)

	res, err := svc.Issue(ctx, "issue-kolya", enrollment.IssueRequest{
		Holder: certificate.Holder{PersonID: "kolya", FullName: "Иванов Николай", BirthDate: funding.MustDate(2016, time.March, 3),
			Citizenship: "RU", Municipality: "novograd", Registration: certificate.Permanent},
		GuardianID: "ivanova", Category: "city", Funded: true,
		By: enrollment.AsMunicipality("novograd"), // links the guardian to the child too
	})
	must(res, err)
	// Applications go through a Batcher: those that arrive together share
	// a commit, each answered alone after it (svc.Submit runs one alone).
	batcher := batch.NewBatcher(svc, batch.BatcherOptions{})
	defer batcher.Close()
	parent := enrollment.AsHolder("ivanova")
	c, err := batcher.Submit(ctx, "apply-robotics", enrollment.SubmitRequest{CertificateID: res.Certificate.ID, GroupID: grp.ID, By: parent})
	must(c, err)
	fmt.Println("price:", c.Price.Cert, "first month:", c.Price.CertFirst, "then:", c.Price.CertOther)

	cab, err := svc.Cabinet(ctx, parent, res.Certificate.ID)
	must(cab, err)
	fmt.Println("nominal:", cab.Money.Nominal, "balance:", cab.Money.Balance, "reserved:", cab.Money.Reserved)
	// Output:
	// price: 6000.00 first month: 1400.01 then: 1533.33
	// nominal: 12000.00 balance: 6000.00 reserved: 6000.00
}
