package storage_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/edufund/edufund/catalog"
	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/funding"
	"github.com/edufund/edufund/storage"
)

var ctx = context.Background()

func newID(t testing.TB) uuid.UUID {
	t.Helper()
	id, err := uuid.NewV7()
	if err != nil {
		t.Fatal(err)
	}
	return id
}

var numberSeq = 0

// child is a children's certificate with every field set.
func child(t testing.TB, person string) certificate.Certificate {
	numberSeq++
	return certificate.Certificate{
		ID:     newID(t),
		Number: certificate.Number(fmt.Sprintf("%010d", 1000000000+numberSeq)),
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

// adult is a digital-skills certificate issued on the given date.
func adult(t testing.TB, person string, issued funding.Date) certificate.Certificate {
	c := child(t, person)
	c.Scheme = certificate.DigitalSkills
	c.GuardianID = ""
	c.IssuedOn = issued
	c.ValidUntil = funding.MustDate(issued.Year(), time.December, 31)
	c.Protection = certificate.Protection{Mode: certificate.Forbidden}
	c.Documents = certificate.Documents{}
	return c
}

var schoolYear = funding.Period{Start: funding.MustDate(2025, time.September, 1), End: funding.MustDate(2026, time.August, 31)}

// run runs fn in one transaction and fails the test on an error.
func run(t testing.TB, db *storage.DB, fn func(tx enrollment.Tx) error) {
	t.Helper()
	if err := db.InTx(ctx, func(_ context.Context, tx enrollment.Tx) error { return fn(tx) }); err != nil {
		t.Fatalf("InTx: %v", err)
	}
}

// try runs fn in one transaction and returns its error.
func try(db *storage.DB, fn func(tx enrollment.Tx) error) error {
	return db.InTx(ctx, func(_ context.Context, tx enrollment.Tx) error { return fn(tx) })
}

type offerFixture struct {
	Provider catalog.Provider
	Program  catalog.Program
	Module   catalog.Module
	Group    catalog.Group
}

func saveOffer(t testing.TB, db *storage.DB, name string, reg catalog.Registry) offerFixture {
	t.Helper()
	f := offerFixture{}
	f.Provider = catalog.Provider{
		ID: newID(t), Name: "Школа " + name, INN: "7701234567", Municipality: "mo-1", EnrolmentLimit: 100,
		Agreements: []catalog.Agreement{
			{Municipality: "mo-1", Period: schoolYear},
			{Municipality: "mo-2", Period: schoolYear},
		},
	}
	f.Program = catalog.Program{
		ID: newID(t), ProviderID: f.Provider.ID, Name: "Робототехника " + name, Scheme: certificate.Supplementary,
		Direction: catalog.TechnicalRobotics, Registry: reg, MinAge: 7, MaxAge: 14, Certified: true,
		EnrolmentOpen: true, Municipality: "mo-1", EnrolmentLimit: 30, CompetencyArea: "", AcademicHours: 0,
	}
	f.Module = catalog.Module{
		ID: newID(t), ProgramID: f.Program.ID, Name: "Модуль 1", Price: funding.MustMoney("12000.50"),
		NormativePrice: funding.MustMoney("11000.00"), Hours: 72, MinChildren: 5, MaxChildren: 15,
	}
	f.Group = catalog.Group{
		ID: newID(t), ModuleID: f.Module.ID, Name: "Группа А", Start: funding.MustDate(2025, time.September, 15),
		End: funding.MustDate(2026, time.May, 31), Capacity: 15, Schedule: "Пн, Ср 16:00",
	}
	run(t, db, func(tx enrollment.Tx) error {
		if err := tx.SaveProvider(ctx, f.Provider); err != nil {
			return err
		}
		if err := tx.SaveProgram(ctx, f.Program); err != nil {
			return err
		}
		if err := tx.SaveModule(ctx, f.Module); err != nil {
			return err
		}
		return tx.SaveGroup(ctx, f.Group)
	})
	return f
}

func contractFor(t testing.TB, c certificate.Certificate, f offerFixture, created time.Time) enrollment.Contract {
	return enrollment.Contract{
		ID:            newID(t),
		CertificateID: c.ID,
		GroupID:       f.Group.ID,
		ModuleID:      f.Module.ID,
		ProgramID:     f.Program.ID,
		ProviderID:    f.Provider.ID,
		Municipality:  "mo-1",
		Period:        schoolYear,
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
