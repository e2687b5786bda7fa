package enrollment_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/funding"
	"github.com/edufund/edufund/storage"
	"github.com/edufund/edufund/storage/storagetest"
)

// TestPersonIDVariants: once a child holds a certificate, the same id
// written with a trailing space, a zero-width space or in upper case is the
// same person on every engine. The service refuses it as it refuses the
// exact id (already issued); and a certificate made for it past the
// eligibility check (a request racing the first) is refused by the store's
// unique index, which the API answers as certificate_exists. The same holds
// for an adult's certificate of the year.
func TestPersonIDVariants(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		r := storagetest.NewRegion(t, db, storagetest.RegionOptions{})
		tests := []struct {
			scheme    certificate.Scheme
			holder    certificate.Holder
			issue     func(certificate.Holder) error
			rule      string // the eligibility rule that refuses a second certificate
			canonical string
			variants  []string
		}{
			{certificate.Supplementary, certificate.Holder{PersonID: "child-ivanov-misha", FullName: "Иванов Михаил",
				BirthDate: funding.MustDate(2015, time.March, 10), Sex: certificate.Male, Citizenship: "RU", Region: "reg-1", Municipality: storagetest.Municipality,
				Registration: certificate.Permanent}, func(h certificate.Holder) error {
				_, err := r.Service.Issue(ctx, r.Key(), enrollment.IssueRequest{Holder: h, GuardianID: "guardian-ivanova", Category: "city", By: enrollment.AsSystem("test")})
				return err
			}, certificate.RuleAlreadyIssued, "child-ivanov-misha", []string{"child-ivanov-misha", "child-ivanov-misha ", "child-ivanov-\u200bmisha", "CHILD-IVANOV-MISHA"}},
			{certificate.DigitalSkills, certificate.Holder{PersonID: "112-233-445 95", FullName: "Орлова Наталья",
				BirthDate: funding.MustDate(1990, time.June, 2), Sex: certificate.Female, Citizenship: "RU", Education: certificate.EducationHigher,
				Region: "reg-1", Municipality: storagetest.Municipality, Registration: certificate.Permanent}, func(h certificate.Holder) error {
				_, err := r.Service.ApplyAdult(ctx, r.Key(), enrollment.AdultApplication{Holder: h, By: enrollment.AsSystem("test")})
				return err
			}, certificate.RuleAlreadyIssuedThisYear, "11223344595", []string{"112-233-445 95", "112-233-445 95 ", "112-233\u200b-445 95", "11223344595", "112 233 445 95"}},
		}
		number := 0
		for _, tt := range tests {
			require.NoError(t, tt.issue(tt.holder))
			for _, id := range tt.variants {
				h := tt.holder
				h.PersonID = id
				var ie *enrollment.IneligibleError
				require.ErrorAs(t, tt.issue(h), &ie, "%s %q", tt.scheme, id)
				require.Len(t, ie.Reasons, 1, "%q", id)
				require.Equal(t, tt.rule, ie.Reasons[0].Rule, "%q", id)

				// A fresh number, so that only the person can make the insert a second one.
				number++
				c, err := certificate.New(certificate.NewParams{Number: certificate.Number(fmt.Sprintf("99%08d", number)),
					Scheme: tt.scheme, Holder: h, IssuedOn: funding.DateOf(r.Clock.T), Category: "city"})
				require.NoError(t, err, "%q", id)
				require.Equal(t, tt.canonical, c.Holder.PersonID)
				require.ErrorIs(t, storagetest.TryTx(db, func(tx enrollment.Tx) error { return tx.InsertCertificate(ctx, c) }), enrollment.ErrExists, "%q", id)
			}
			storagetest.InTx(t, db, func(tx enrollment.Tx) error {
				list, err := tx.PersonCertificates(ctx, tt.scheme, tt.canonical)
				require.Len(t, list, 1)
				return err
			})
		}
	})
}
