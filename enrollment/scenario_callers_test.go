package enrollment_test

import (
	"context"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/funding"
	"github.com/edufund/edufund/storage"
	"github.com/edufund/edufund/storage/storagetest"
)

// TestCallers: the service, not an edge, decides who may read and change a
// person's certificate and contract, so every caller of the library gets
// the same rules: a use case without a caller is refused; a certificate
// is read by whoever holds it (its guardians, its municipality, its
// scheme's operator) and does not exist for anyone else; it is changed
// only within the caller's role and reach; a second guardian linked by a
// municipal authority acts for the child.
func TestCallers(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		r := storagetest.NewRegion(t, db, storagetest.RegionOptions{})
		cert := r.Child(1) // guardian parent-1, municipality mun-1
		sub, err := r.Service.Submit(ctx, r.Key(), enrollment.SubmitRequest{CertificateID: cert.ID, GroupID: r.Group.ID, By: enrollment.AsHolder("parent-1")})
		require.NoError(t, err)
		other := enrollment.AsProvider(uuid.Must(uuid.NewV7()))

		var (
			guardian = enrollment.AsHolder("parent-1")
			stranger = enrollment.AsHolder("parent-2")
			ownMun   = enrollment.AsMunicipality(storagetest.Municipality)
			otherMun = enrollment.AsMunicipality("mun-2")
			provider = enrollment.AsProvider(r.Provider.ID)
			regional = enrollment.AsRegional("operator")
			federal  = enrollment.AsFederal("operator")
		)
		cabinet := func(by enrollment.Caller) error { _, err := r.Service.Cabinet(ctx, by, cert.ID); return err }
		contract := func(by enrollment.Caller) error { _, err := r.Service.Contract(ctx, by, sub.ID); return err }
		suspend := func(by enrollment.Caller) error {
			_, err := r.Service.ChangeStatus(ctx, r.Key(), cert.ID, enrollment.SuspendCertificate, by)
			return err
		}
		apply := func(by enrollment.Caller) error {
			g := r.NewGroup(5)
			_, err := r.Service.Submit(ctx, r.Key(), enrollment.SubmitRequest{CertificateID: cert.ID, GroupID: g.ID, By: by})
			return err
		}
		confirm := func(by enrollment.Caller) error {
			_, err := r.Service.Confirm(ctx, r.Key(), enrollment.ContractRequest{ContractID: sub.ID, By: by})
			return err
		}
		budget := func(by enrollment.Caller) error {
			_, err := r.Service.SetBudget(ctx, r.Key(), enrollment.BudgetRequest{Municipality: storagetest.Municipality, Period: storagetest.Autumn, Limit: money("1000000.00"), By: by})
			return err
		}
		for _, tc := range []struct {
			name string
			do   func(enrollment.Caller) error
			by   enrollment.Caller
			want error // nil: allowed
		}{
			{"cabinet, no caller", cabinet, enrollment.Caller{}, enrollment.ErrNoCaller},
			{"cabinet, guardian", cabinet, guardian, nil},
			{"cabinet, stranger", cabinet, stranger, enrollment.ErrNotFound},
			{"cabinet, its municipality", cabinet, ownMun, nil},
			{"cabinet, another municipality", cabinet, otherMun, enrollment.ErrNotFound},
			{"cabinet, provider", cabinet, provider, enrollment.ErrNotFound},
			{"cabinet, regional", cabinet, regional, nil},
			{"cabinet, federal", cabinet, federal, enrollment.ErrNotFound},
			{"contract, its provider", contract, provider, nil},
			{"contract, another provider", contract, other, enrollment.ErrNotFound},
			{"contract, stranger", contract, stranger, enrollment.ErrNotFound},
			{"contract, guardian", contract, guardian, nil},
			{"apply, no caller", apply, enrollment.Caller{}, enrollment.ErrNoCaller},
			{"apply, stranger", apply, stranger, enrollment.ErrForbidden},
			{"apply, municipality", apply, ownMun, enrollment.ErrForbidden},
			{"confirm, guardian", confirm, guardian, enrollment.ErrForbidden},
			{"confirm, another provider", confirm, other, enrollment.ErrForbidden},
			{"suspend, guardian", suspend, guardian, enrollment.ErrForbidden},
			{"suspend, another municipality", suspend, otherMun, enrollment.ErrForbidden},
			{"suspend, federal", suspend, federal, enrollment.ErrForbidden},
			{"budget, another municipality", budget, otherMun, enrollment.ErrForbidden},
			{"budget, provider", budget, provider, enrollment.ErrForbidden},
			{"budget, its municipality", budget, ownMun, nil},
		} {
			err := tc.do(tc.by)
			if tc.want == nil {
				require.NoError(t, err, tc.name)
			} else {
				require.ErrorIs(t, err, tc.want, tc.name)
			}
		}

		// A parent issues only for a child a municipal authority linked to
		// them; the link makes a second guardian act for the child too.
		child := certificate.Holder{PersonID: "child-linked", FullName: "Сидоров Пётр", BirthDate: funding.MustDate(2016, 5, 5),
			Citizenship: "RU", Municipality: storagetest.Municipality, Registration: certificate.Permanent}
		issue := func(by enrollment.Caller) error {
			_, err := r.Service.Issue(ctx, r.Key(), enrollment.IssueRequest{Holder: child, Category: "city", By: by})
			return err
		}
		err = issue(stranger)
		require.ErrorIs(t, err, enrollment.ErrForbidden)
		var re *funding.RuleError
		require.ErrorAs(t, err, &re)
		require.Equal(t, enrollment.CodeNotGuardian, re.Code)
		_, err = r.Service.LinkGuardian(ctx, r.Key(), enrollment.LinkRequest{GuardianID: "parent-2", ChildID: child.PersonID, By: stranger})
		require.ErrorIs(t, err, enrollment.ErrForbidden, "a parent cannot link themselves")
		_, err = r.Service.LinkGuardian(ctx, r.Key(), enrollment.LinkRequest{GuardianID: "parent-2", ChildID: child.PersonID, By: ownMun})
		require.NoError(t, err)
		require.NoError(t, issue(stranger))
		_, err = r.Service.LinkGuardian(ctx, r.Key(), enrollment.LinkRequest{GuardianID: "parent-2", ChildID: cert.Holder.PersonID, By: ownMun})
		require.NoError(t, err)
		require.NoError(t, cabinet(stranger), "a second guardian reads the child's cabinet")
		_, err = r.Service.Withdraw(ctx, r.Key(), enrollment.ContractRequest{ContractID: sub.ID, By: stranger})
		require.NoError(t, err, "withdraws its application")
		require.NoError(t, apply(stranger), "and applies again")
		storagetest.CheckInvariants(t, db)
	})
}
