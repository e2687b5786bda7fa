package enrollment_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/edufund/edufund/catalog"
	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/enrollment/batch"
	"github.com/edufund/edufund/funding"
	"github.com/edufund/edufund/storage"
	"github.com/edufund/edufund/storage/storagetest"
)

// TestAdultCourse runs the adult scheme end to end: apply against the
// quota, enrol on a course (the coverage is granted and reserved), the
// provider confirms, the learner accepts, the monthly close pays nothing,
// completion pays the provider in full, and the certificate cannot buy a
// second course.
func TestAdultCourse(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		r := storagetest.NewRegion(t, db, storagetest.RegionOptions{Budget: money("100000.00")})
		prog, err := r.Service.SaveProgram(ctx, r.Key(), catalog.Program{
			ProviderID: r.Provider.ID, Name: "Data analysis in Python", Scheme: certificate.DigitalSkills,
			CompetencyArea: "big data", AcademicHours: 72, EnrolmentOpen: true, Municipality: storagetest.Municipality,
		}, enrollment.AsSystem("test"))
		require.NoError(t, err)
		mod, err := r.Service.SaveModule(ctx, r.Key(), catalog.Module{ProgramID: prog.ID, Name: "Course", Price: money("50000.00"), NormativePrice: money("50000.00"), Hours: 72}, enrollment.AsSystem("test"))
		require.NoError(t, err)
		grp, err := r.Service.SaveGroup(ctx, r.Key(), catalog.Group{ModuleID: mod.ID, Name: "Autumn", Start: funding.MustDate(2025, time.September, 15), End: funding.MustDate(2025, time.November, 30), Capacity: 20}, enrollment.AsSystem("test"))
		require.NoError(t, err)

		res, err := r.Service.ApplyAdult(ctx, r.Key(), enrollment.AdultApplication{Holder: adultHolder(1), By: enrollment.AsSystem("test")})
		require.NoError(t, err)
		require.False(t, res.Queued)
		cert := res.Certificate
		require.Equal(t, "2025-12-31", cert.ValidUntil.String())

		c, err := r.Service.Submit(ctx, r.Key(), enrollment.SubmitRequest{CertificateID: cert.ID, GroupID: grp.ID, By: enrollment.AsSystem("test")})
		require.NoError(t, err)
		require.Equal(t, "50000.00", c.Price.Cert.String())
		require.Equal(t, "0.00", c.Price.CoPay.String())
		_, err = r.Service.ChangeStatus(ctx, r.Key(), cert.ID, enrollment.ActivateCertificate, enrollment.AsSystem("operator"))
		require.NoError(t, err)
		_, err = r.Service.Confirm(ctx, r.Key(), enrollment.ContractRequest{ContractID: c.ID, By: enrollment.AsProvider(r.Provider.ID)})
		require.NoError(t, err)
		_, err = r.Service.Accept(ctx, r.Key(), enrollment.ContractRequest{ContractID: c.ID, By: enrollment.AsSystem("holder")})
		require.NoError(t, err)

		r.At(2025, time.October, 1)
		rep, err := r.Service.CloseMonth(ctx, funding.Month{Year: 2025, Month: time.October}, nil)
		require.NoError(t, err)
		require.Zero(t, rep.Charged, "an adult course is not paid by the month")
		rep, err = batch.CloseMonth(ctx, r.Service, funding.Month{Year: 2025, Month: time.October}, batch.CloseOptions{})
		require.NoError(t, err)
		require.Zero(t, rep.Charged, "the batched close does not pay an adult course by the month either")

		// Completion is the provider's; the learner cannot report it.
		_, err = r.Service.Complete(ctx, r.Key(), enrollment.ContractRequest{ContractID: c.ID, By: enrollment.AsProvider(cert.ID)})
		require.ErrorIs(t, err, enrollment.ErrForbidden)
		r.At(2025, time.December, 1)
		done, err := r.Service.Complete(ctx, r.Key(), enrollment.ContractRequest{ContractID: c.ID, By: enrollment.AsProvider(r.Provider.ID)})
		require.NoError(t, err)
		require.Equal(t, enrollment.Closed, done.Status)
		inv, err := db.Invoices(ctx, r.Provider.ID, funding.Month{Year: 2025, Month: time.December})
		require.NoError(t, err)
		require.Equal(t, map[enrollment.InvoiceKind]string{enrollment.FinalInvoice: "50000.00"}, storagetest.InvoiceAmounts(inv))

		// One course per certificate.
		winter, err := r.Service.SaveGroup(ctx, r.Key(), catalog.Group{ModuleID: mod.ID, Name: "Winter", Start: funding.MustDate(2025, time.December, 10), End: funding.MustDate(2025, time.December, 30), Capacity: 20}, enrollment.AsSystem("test"))
		require.NoError(t, err)
		_, err = r.Service.Submit(ctx, r.Key(), enrollment.SubmitRequest{CertificateID: cert.ID, GroupID: winter.ID, By: enrollment.AsSystem("test")})
		require.ErrorIs(t, err, enrollment.ErrCertificateUsed)
		storagetest.CheckInvariants(t, db)
	})
}

// TestCancelAllOverdue: the sweep cancels the adult certificates whose
// documents are past the deadline without a valid reason, and only those;
// their quota places go to the queue's head; a dry run reports the same
// and writes nothing; a second sweep finds nothing.
func TestCancelAllOverdue(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		r := storagetest.NewRegion(t, db, storagetest.RegionOptions{}) // an adult quota of 5
		apply := func(i int) certificate.Certificate {
			res, err := r.Service.ApplyAdult(ctx, r.Key(), enrollment.AdultApplication{Holder: adultHolder(i), By: enrollment.AsFederal("operator")})
			require.NoError(t, err)
			return res.Certificate
		}
		var certs []certificate.Certificate
		for i := range 6 { // the sixth waits in the queue
			certs = append(certs, apply(i+1))
		}
		_, err := r.Service.RecordDocuments(ctx, r.Key(), enrollment.DocumentsRequest{CertificateID: certs[1].ID, Uploaded: true, By: enrollment.AsFederal("operator")})
		require.NoError(t, err)
		_, err = r.Service.RecordDocuments(ctx, r.Key(), enrollment.DocumentsRequest{CertificateID: certs[2].ID, ValidReason: "болезнь", By: enrollment.AsFederal("operator")})
		require.NoError(t, err)

		r.At(2025, time.October, 15) // past the 30 days since 1 September
		_, err = r.Service.CancelAllOverdue(ctx, enrollment.AsHolder("person-1"), nil)
		require.ErrorIs(t, err, enrollment.ErrForbidden)
		dry, err := r.Service.DryRun().CancelAllOverdue(ctx, enrollment.AsFederal("operator"), nil)
		require.NoError(t, err)
		rep, err := r.Service.CancelAllOverdue(ctx, enrollment.AsFederal("operator"), nil)
		require.NoError(t, err)
		require.Empty(t, rep.Failed)
		require.ElementsMatch(t, []certificate.Number{certs[0].Number, certs[3].Number, certs[4].Number}, rep.Cancelled)
		require.ElementsMatch(t, rep.Cancelled, dry.Cancelled, "the dry run said what the sweep did")

		queued, err := r.Service.Cabinet(ctx, enrollment.AsFederal("operator"), certs[5].ID)
		require.NoError(t, err)
		require.Equal(t, certificate.Funded, queued.Certificate.Kind, "a freed place went to the queue's head")
		rep, err = r.Service.CancelAllOverdue(ctx, enrollment.AsFederal("operator"), nil)
		require.NoError(t, err)
		require.Empty(t, rep.Cancelled, "the promoted certificate's documents are due 30 days from its promotion")
		r.At(2025, time.November, 20)
		rep, err = r.Service.CancelAllOverdue(ctx, enrollment.AsFederal("operator"), nil)
		require.NoError(t, err)
		require.Equal(t, []certificate.Number{certs[5].Number}, rep.Cancelled, "and then they are overdue")
		storagetest.CheckInvariants(t, db)
	})
}

// TestQueuedNotOverdue: a certificate waiting in the quota's queue has no
// documents deadline: the days count from the place it is given, so
// neither CancelOverdue nor the sweep cancels it however long it waits.
func TestQueuedNotOverdue(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		r := storagetest.NewRegion(t, db, storagetest.RegionOptions{}) // an adult quota of 5
		var certs []certificate.Certificate
		for i := range 6 {
			res, err := r.Service.ApplyAdult(ctx, r.Key(), enrollment.AdultApplication{Holder: adultHolder(i + 1), By: enrollment.AsFederal("operator")})
			require.NoError(t, err)
			certs = append(certs, res.Certificate)
			if i < 5 {
				_, err = r.Service.RecordDocuments(ctx, r.Key(), enrollment.DocumentsRequest{CertificateID: res.Certificate.ID, Uploaded: true, By: enrollment.AsFederal("operator")})
				require.NoError(t, err)
			}
		}
		queued := certs[5]
		require.NotEqual(t, certificate.Funded, queued.Kind)
		_, ok := r.Service.DocumentsDue(queued)
		require.False(t, ok, "a queued certificate has no deadline")
		due, ok := r.Service.DocumentsDue(certs[0])
		require.True(t, ok)
		require.True(t, due.After(certs[0].IssuedOn))

		r.At(2025, time.December, 1) // three months after the application
		_, err := r.Service.CancelOverdue(ctx, r.Key(), queued.ID, enrollment.AsFederal("operator"))
		require.ErrorIs(t, err, enrollment.ErrNotOverdue)
		rep, err := r.Service.CancelAllOverdue(ctx, enrollment.AsFederal("operator"), nil)
		require.NoError(t, err)
		require.Empty(t, rep.Cancelled)
	})
}
