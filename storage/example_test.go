package storage_test

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"

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
	certID, grp := novograd(ctx, svc)

	// Applications go through a Batcher: those that arrive together share
	// a commit, each answered alone after it (svc.Submit runs one alone).
	batcher := batch.NewBatcher(svc, batch.BatcherOptions{})
	defer batcher.Close()
	parent := enrollment.AsHolder("ivanova")
	c, err := batcher.Submit(ctx, "apply-robotics", enrollment.SubmitRequest{CertificateID: certID, GroupID: grp.ID, By: parent})
	must(c, err)
	fmt.Println("price:", c.Price.Cert, "first month:", c.Price.CertFirst, "then:", c.Price.CertOther)

	cab, err := svc.Cabinet(ctx, parent, certID)
	must(cab, err)
	fmt.Println("nominal:", cab.Money.Nominal, "balance:", cab.Money.Balance, "reserved:", cab.Money.Reserved)
	// Output:
	// price: 6000.00 first month: 1400.01 then: 1533.33
	// nominal: 12000.00 balance: 6000.00 reserved: 6000.00
}

// A month's close pays each provider out of its contracts' reserves; the
// invoices say what it paid, the municipality's budget what it committed. Each read is a
// Service method that applies the same visibility rules as the API.
func Example_closeMonth() {
	ctx := context.Background()
	db, err := storage.Open(ctx, "sqlite::memory:")
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
	certID, grp := novograd(ctx, svc)
	must(svc.SetBudget(ctx, "budget-2025", enrollment.BudgetRequest{Municipality: "novograd", Period: funding.CalendarYear(2025),
		Limit: funding.MustMoney("1000000.00"), By: enrollment.AsMunicipality("novograd")}))

	// The municipality activates the certificate once the family shows
	// its documents; the parent applies, the provider confirms, the
	// parent signs.
	must(svc.ChangeStatus(ctx, "activate", certID, enrollment.ActivateCertificate, enrollment.AsMunicipality("novograd")))
	c, err := svc.Submit(ctx, "apply", enrollment.SubmitRequest{CertificateID: certID, GroupID: grp.ID, By: enrollment.AsHolder("ivanova")})
	must(c, err)
	provider := enrollment.AsProvider(c.ProviderID)
	must(svc.Confirm(ctx, "confirm", enrollment.ContractRequest{ContractID: c.ID, By: provider}))
	must(svc.Accept(ctx, "sign", enrollment.ContractRequest{ContractID: c.ID, By: enrollment.AsHolder("ivanova")}))

	// A month is closed at its start: the close charges the month's
	// payment to the reserve and invoices its advance (80%); the next
	// month's close invoices the final.
	feb := funding.Month{Year: 2025, Month: time.February}
	for _, m := range []funding.Month{feb, feb.Next()} {
		clock.T = time.Date(m.Year, m.Month, 3, 9, 0, 0, 0, time.UTC)
		rep, err := svc.CloseMonth(ctx, m, nil)
		must(rep, err)
		fmt.Println(m, "charged:", rep.Amount)
	}

	invoices, err := svc.Invoices(ctx, provider, feb, c.ProviderID)
	must(invoices, err)
	for _, inv := range invoices {
		fmt.Println("invoice:", inv.Month, inv.Kind, inv.Amount, "lines:", inv.Lines)
	}
	budget, err := svc.Budget(ctx, "novograd", funding.CalendarYear(2025))
	must(budget, err)
	fmt.Println("budget used:", funding.Kopecks(budget.Used), "of", funding.Kopecks(budget.Limit))
	// Output:
	// 2025-02 charged: 1400.01
	// 2025-03 charged: 1533.33
	// invoice: 2025-02 advance 1120.01 lines: 1
	// invoice: 2025-02 final 280.00 lines: 1
	// budget used: 6000.00 of 1000000.00
}

// novograd is a region of one municipality with one robotics group from
// February to May 2025 and one child's certificate of 12,000.00.
func novograd(ctx context.Context, svc *enrollment.Service) (certID uuid.UUID, grp catalog.Group) {
	sys := enrollment.AsSystem("example")
	must(svc.SaveCategory(ctx, "cat", certificate.Category{Code: "city", Nominal: funding.MustMoney("12000.00")}, sys))
	prov, err := svc.SaveProvider(ctx, "prov", catalog.Provider{Name: "Robo Center", INN: "7707083893", Municipality: "novograd",
		Agreements: []catalog.Agreement{{Municipality: "novograd", Period: funding.CalendarYear(2025)}}}, sys)
	must(prov, err)
	prog, err := svc.SaveProgram(ctx, "prog", catalog.Program{ProviderID: prov.ID, Name: "Robotics", Scheme: certificate.Supplementary,
		Direction: catalog.TechnicalRobotics, Registry: catalog.Certified, MinAge: 5, MaxAge: 17, Certified: true, EnrolmentOpen: true, Municipality: "novograd"}, sys)
	must(prog, err)
	mod, err := svc.SaveModule(ctx, "mod", catalog.Module{ProgramID: prog.ID, Name: "Year 1", Price: funding.MustMoney("6000.00"), NormativePrice: funding.MustMoney("6000.00"), Hours: 72}, sys)
	must(mod, err)
	grp, err = svc.SaveGroup(ctx, "grp", catalog.Group{ModuleID: mod.ID, Name: "Mon/Wed", Start: funding.MustDate(2025, time.February, 1), End: funding.MustDate(2025, time.May, 31), Capacity: 12}, sys)
	must(grp, err)
	res, err := svc.Issue(ctx, "issue-kolya", enrollment.IssueRequest{
		Holder: certificate.Holder{PersonID: "kolya", FullName: "Иванов Николай", BirthDate: funding.MustDate(2016, time.March, 3),
			Citizenship: "RU", Municipality: "novograd", Registration: certificate.Permanent},
		GuardianID: "ivanova", Category: "city", Funded: true,
		By: enrollment.AsMunicipality("novograd"), // links the guardian to the child too
	})
	must(res, err)
	return res.Certificate.ID, grp
}

func must(_ any, err error) {
	if err != nil {
		panic(err)
	}
}
