package storagetest

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/edufund/edufund/catalog"
	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/funding"
)

// The fixtures below write rows straight through a Tx, past the services'
// rules, so that a contract test controls every field it reads back.

// SchoolYear is the funding period the fixtures' accounts and contracts
// belong to: 1 September 2025 to 31 August 2026.
var SchoolYear = funding.Period{Start: funding.MustDate(2025, time.September, 1), End: funding.MustDate(2026, time.August, 31)}

// InTx runs fn in one transaction of s and fails the test on an error.
func InTx(t testing.TB, s enrollment.Store, fn func(tx enrollment.Tx) error) {
	t.Helper()
	if err := TryTx(s, fn); err != nil {
		t.Fatalf("InTx: %v", err)
	}
}

// TryTx runs fn in one transaction of s and returns its error.
func TryTx(s enrollment.Store, fn func(tx enrollment.Tx) error) error {
	return s.InTx(context.Background(), func(_ context.Context, tx enrollment.Tx) error { return fn(tx) })
}

// Concurrently runs fn(i) for i in [0, n) in n goroutines released at the
// same moment, and returns when all have.
func Concurrently(n int, fn func(i int)) {
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			fn(i)
		}()
	}
	close(start)
	wg.Wait()
}

func newID(t testing.TB) uuid.UUID {
	t.Helper()
	id, err := uuid.NewV7()
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// numbers makes the fixtures' certificate numbers unique.
var numbers atomic.Int64

// Child is an active, funded children's certificate of person with every
// field set, a fresh id and a fresh number.
func Child(t testing.TB, person string) certificate.Certificate {
	return certificate.Certificate{
		ID:     newID(t),
		Number: certificate.Number(fmt.Sprintf("%010d", 1000000000+numbers.Add(1))),
		Scheme: certificate.Supplementary,
		Holder: certificate.Holder{
			PersonID:     person,
			FullName:     "Иванова Анна Петровна",
			BirthDate:    funding.MustDate(2015, time.March, 14),
			Sex:          certificate.Female,
			Citizenship:  "RU",
			Education:    certificate.EducationGeneral,
			Region:       "77",
			Municipality: "mo-1",
			Registration: certificate.Permanent,
		},
		GuardianID:   "guardian-" + person,
		Municipality: "mo-1",
		Category:     "cat-a",
		Kind:         certificate.Funded,
		Status:       certificate.Active,
		IssuedOn:     funding.MustDate(2025, time.August, 20),
		ValidUntil:   funding.MustDate(2033, time.March, 13),
		Protection: certificate.Protection{
			Mode:           certificate.ByPassphrase,
			PassphraseHash: "$argon2id$v=19$m=65536,t=1,p=4$c2FsdA$aGFzaA",
			FailedAttempts: 2,
			LockedUntil:    time.Date(2025, 9, 1, 10, 11, 12, 123456000, time.UTC),
		},
		Documents: certificate.Documents{
			DueFrom:     funding.MustDate(2025, time.August, 25),
			UploadedOn:  funding.MustDate(2025, time.September, 2),
			ValidReason: "illness",
		},
	}
}

// Adult is a digital-skills certificate of person issued on the given date.
func Adult(t testing.TB, person string, issued funding.Date) certificate.Certificate {
	c := Child(t, person)
	c.Scheme = certificate.DigitalSkills
	c.GuardianID = ""
	c.IssuedOn = issued
	c.ValidUntil = funding.MustDate(issued.Year(), time.December, 31)
	c.Protection = certificate.Protection{Mode: certificate.Forbidden}
	c.Documents = certificate.Documents{}
	return c
}

// SaveOffer saves a provider (with agreements in two municipalities), a
// certified program of the given registry, a module and a group, named
// after name, and returns them.
func SaveOffer(t testing.TB, s enrollment.Store, name string, reg catalog.Registry) enrollment.Offer {
	t.Helper()
	f := NewOffer(t, name, reg)
	InTx(t, s, func(tx enrollment.Tx) error {
		if err := tx.SaveProvider(context.Background(), f.Provider); err != nil {
			return err
		}
		if err := tx.SaveProgram(context.Background(), f.Program); err != nil {
			return err
		}
		if err := tx.SaveModule(context.Background(), f.Module); err != nil {
			return err
		}
		return tx.SaveGroup(context.Background(), f.Group)
	})
	return f
}

// NewOffer is the offer SaveOffer saves, not saved: for a test that
// stores it its own way (into an older schema, say).
func NewOffer(t testing.TB, name string, reg catalog.Registry) enrollment.Offer {
	t.Helper()
	var f enrollment.Offer
	f.Provider = catalog.Provider{
		ID: newID(t), Name: "Школа " + name, INN: "7701234567", Municipality: "mo-1", EnrolmentLimit: 100,
		Agreements: []catalog.Agreement{
			{Municipality: "mo-1", Period: SchoolYear},
			{Municipality: "mo-2", Period: SchoolYear},
		},
		Address: "г. Новоград, ул. Ленина, 1", Phone: "+7 (383) 123-45-67", Email: "school@example.ru", Site: "https://school.example.ru",
	}
	f.Program = catalog.Program{
		ID: newID(t), ProviderID: f.Provider.ID, Name: "Робототехника " + name, Scheme: certificate.Supplementary,
		Direction: catalog.TechnicalRobotics, Registry: reg, MinAge: 7, MaxAge: 14, Certified: true,
		EnrolmentOpen: true, Municipality: "mo-1", EnrolmentLimit: 30, CompetencyArea: "", AcademicHours: 0,
		Annotation:  "Собираем и программируем роботов " + name,
		Description: "Первый абзац.\n\tВторой абзац: «кавычки», \"двойные\" и \\обратная косая.",
		Goals:       "Цели:\n- научить собирать;\n- научить программировать.",
		Tags:        []string{"робототехника", "lego", `"кавычки" и <теги> & всё`, "[скобки]"},
	}
	f.Module = catalog.Module{
		ID: newID(t), ProgramID: f.Program.ID, Name: "Модуль 1", Price: funding.MustMoney("12000.50"),
		NormativePrice: funding.MustMoney("11000.00"), Hours: 72, MinChildren: 5, MaxChildren: 15,
	}
	f.Group = catalog.Group{
		ID: newID(t), ModuleID: f.Module.ID, Name: "Группа А", Start: funding.MustDate(2025, time.September, 15),
		End: funding.MustDate(2026, time.May, 31), Capacity: 15, Schedule: "Пн, Ср 16:00", Address: "ул. Садовая, 5, каб. 12",
	}
	return f
}

// ContractFor is a requested contract of certificate c in offer f's group,
// created at created, with every field set and a fresh id and hold id.
func ContractFor(t testing.TB, c certificate.Certificate, f enrollment.Offer, created time.Time) enrollment.Contract {
	return enrollment.Contract{
		ID:            newID(t),
		CertificateID: c.ID,
		GroupID:       f.Group.ID,
		ModuleID:      f.Module.ID,
		ProgramID:     f.Program.ID,
		ProviderID:    f.Provider.ID,
		Municipality:  "mo-1",
		Period:        SchoolYear,
		Status:        enrollment.Requested,
		Start:         f.Group.Start,
		End:           f.Group.End,
		Price: funding.Price{
			Start: f.Group.Start, End: f.Group.End, Days: 259, Months: 9,
			Total: funding.MustMoney("12000.50"), Normative: funding.MustMoney("11000.00"),
			Cert: funding.MustMoney("11000.00"), CoPay: funding.MustMoney("1000.50"),
			First: funding.MustMoney("1333.42"), Other: funding.MustMoney("1333.39"),
			CertFirst: funding.MustMoney("1222.24"), CertOther: funding.MustMoney("1222.22"),
			CoPayFirst: funding.MustMoney("111.18"), CoPayOther: funding.MustMoney("111.17"),
		},
		HoldID:      newID(t),
		CreatedAt:   created,
		Registry:    f.Program.Registry,
		Direction:   f.Program.Direction,
		OfferedOn:   funding.MustDate(2025, time.September, 11),
		ActivatedOn: funding.MustDate(2025, time.September, 12),
	}
}
