package storage_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/funding"
	"github.com/edufund/edufund/storage"
	"github.com/edufund/edufund/storage/storagetest"
)

// TestMigrateCanonicalPersonIDs puts in the schema that migration 00010
// finds the rows the attack left (one child's certificates under "CHILD-X",
// "child-x ", "child-<U+200B>x" and "child-x", each with money) beside
// other identifiers in every state, and migrates, on every engine: nothing
// is deleted, every identifier is canonical, the earliest issued keeps the
// canonical id, later ones get dup:… ids and are logged for an operator,
// and from then on the database refuses an identifier that is not
// canonical even from a write that bypasses the domain.
func TestMigrateCanonicalPersonIDs(t *testing.T) {
	for _, kind := range storagetest.Kinds() {
		t.Run(kind, func(t *testing.T) {
			var logs bytes.Buffer
			db := storagetest.OpenEmpty(t, kind, storage.WithLogger(slog.New(slog.NewJSONHandler(&logs, nil))))
			require.NoError(t, db.MigrateBefore(ctx, "00010"))

			type row struct {
				cert             certificate.Certificate
				person, guardian string // expected after; "dup" and "invalid" stand for those forms
			}
			var rows []row
			add := func(c certificate.Certificate, issued funding.Date, status certificate.Status, guardian, wantPerson, wantGuardian string) {
				c.IssuedOn, c.Status, c.GuardianID = issued, status, guardian
				rows = append(rows, row{c, wantPerson, wantGuardian})
			}
			aug := func(day int) funding.Date { return funding.MustDate(2025, time.August, day) }
			// One child, four spellings: "CHILD-X" was issued first.
			add(child(t, "child-x"), aug(5), certificate.Active, "guardian-x", "dup", "guardian-x")
			add(child(t, "CHILD-X"), aug(1), certificate.Active, "Guardian-X", "child-x", "guardian-x")
			add(child(t, "child-x "), aug(3), certificate.Active, "guardian-x ", "dup", "guardian-x")
			add(child(t, "child-\u200bx"), aug(4), certificate.Issued, "guardian-\u200bx", "dup", "guardian-x")
			// A cancelled child's certificate does not count as a second one.
			add(child(t, "Child-X"), aug(2), certificate.Cancelled, "guardian-x", "child-x", "guardian-x")
			// Adults: one a year; the year before is another certificate.
			add(adult(t, "Person-Orlova", aug(1)), aug(1), certificate.Active, "", "person-orlova", "")
			add(adult(t, "person-orlova\ufeff", aug(9)), aug(9), certificate.Active, "", "dup", "")
			add(adult(t, "PERSON-ORLOVA", funding.MustDate(2024, time.May, 1)), funding.MustDate(2024, time.May, 1), certificate.Expired, "", "person-orlova", "")
			// A SNILS as people write it; one with a wrong check number; ids
			// that are no identifiers; canonical ones left alone.
			add(child(t, "112-233-445 95"), aug(1), certificate.Active, "Guardian-Ivanova ", "11223344595", "guardian-ivanova")
			add(child(t, "112-233-445 96"), aug(1), certificate.Active, "guardian-ivanova", "invalid", "guardian-ivanova")
			add(child(t, "Ребёнок Петров"), aug(1), certificate.Active, "Петров", "invalid", "invalid")
			add(child(t, "child-y"), aug(1), certificate.Active, "guardian-y", "child-y", "guardian-y")
			period := funding.CalendarYear(2025)
			for _, r := range rows {
				require.NoError(t, db.InsertCertificateAsOf(ctx, r.cert))
			}
			run(t, db, func(tx enrollment.Tx) error {
				nominal := funding.MustMoney("30000.00")
				for _, r := range rows {
					if err := tx.SaveAccount(ctx, enrollment.AccountState{CertificateID: r.cert.ID, Period: period,
						Account: funding.Account{Nominal: nominal, Balance: nominal}}); err != nil {
						return err
					}
				}
				return nil
			})
			before := storagetest.RowCounts(t, db)

			require.NoError(t, db.Migrate(ctx))

			require.Equal(t, before, storagetest.RowCounts(t, db), "the migration deleted or added rows")
			operator := map[string]bool{}
			run(t, db, func(tx enrollment.Tx) error {
				for _, r := range rows {
					got, err := tx.Certificate(ctx, r.cert.ID)
					require.NoError(t, err)
					require.Equal(t, r.cert.Number, got.Number)
					for _, v := range []struct{ field, got, want string }{
						{"person_id", got.Holder.PersonID, r.person},
						{"guardian_id", got.GuardianID, r.guardian},
					} {
						switch v.want {
						case "dup":
							canonical, err := certificate.ParsePersonID(r.cert.Holder.PersonID)
							require.NoError(t, err)
							require.Equal(t, "dup:"+r.cert.ID.String()+":"+canonical, v.got, "%s %q", v.field, r.cert.Holder.PersonID)
						case "invalid":
							require.Equal(t, "invalid:"+r.cert.ID.String(), v.got, "%s of %q", v.field, r.cert.Holder.PersonID)
						default:
							require.Equal(t, v.want, v.got, "%s of %q", v.field, r.cert.Holder.PersonID)
						}
						if v.want == "dup" || v.want == "invalid" {
							operator[r.cert.ID.String()] = true
						}
						if v.got != "" {
							canonical, err := certificate.ParsePersonID(v.got)
							require.NoError(t, err, "%s %q is no identifier", v.field, v.got)
							require.Equal(t, v.got, canonical)
						}
					}
					a, err := tx.Account(ctx, r.cert.ID, period)
					require.NoError(t, err)
					require.Equal(t, "30000.00", a.Account.Balance.String(), "the money of %q", r.cert.Holder.PersonID)
				}
				list, err := tx.PersonCertificates(ctx, certificate.Supplementary, "child-x")
				require.Len(t, list, 2, "the earliest and the cancelled certificate")
				return err
			})

			// Each certificate an operator must look at is logged once, at Warn.
			warned := map[string]bool{}
			for sc := bufio.NewScanner(&logs); sc.Scan(); {
				var rec struct{ Level, Certificate string }
				require.NoError(t, json.Unmarshal(sc.Bytes(), &rec))
				if rec.Level == "WARN" {
					require.False(t, warned[rec.Certificate], "logged twice: %s", rec.Certificate)
					warned[rec.Certificate] = true
				}
			}
			require.Equal(t, operator, warned)

			// Past the domain, the database refuses what is not canonical.
			for _, bad := range []struct{ person, guardian string }{
				{"Child-Z", ""}, {"child-é", ""}, {"child z", ""}, {"-child", ""}, {"", ""}, {"child\u200bz", ""},
				{"child-z", "Guardian"}, {"child-z", "guardian ivanova"}, {"child-z", "опекун"},
			} {
				c := child(t, bad.person)
				c.GuardianID = bad.guardian
				require.Error(t, try(db, func(tx enrollment.Tx) error { return tx.InsertCertificate(ctx, c) }), "insert %+v", bad)
			}
			ok := child(t, "child-z")
			ok.GuardianID = ""
			run(t, db, func(tx enrollment.Tx) error { return tx.InsertCertificate(ctx, ok) })
			ok.Holder.PersonID = "CHILD-Z"
			require.Error(t, try(db, func(tx enrollment.Tx) error { return tx.UpdateCertificate(ctx, ok) }), "update to upper case")
			ok.Holder.PersonID, ok.GuardianID = "child-z", "guardian\u00adz"
			require.Error(t, try(db, func(tx enrollment.Tx) error { return tx.UpdateCertificate(ctx, ok) }), "update the guardian to a soft hyphen")
		})
	}
}
