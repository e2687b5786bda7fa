package enrollment_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/edufund/edufund/catalog"
	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/funding"
	"github.com/edufund/edufund/storage"
	"github.com/edufund/edufund/storage/storagetest"
)

// TestCompletionDocument: the provider's completion records the learner's
// document; a bad one is refused naming its field, with nothing written;
// the completions and the month's invoice lines are read within each
// caller's reach.
func TestCompletionDocument(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		r := storagetest.NewRegion(t, db, storagetest.RegionOptions{})
		sys := enrollment.AsSystem("test")
		prog, err := r.Service.SaveProgram(ctx, r.Key(), catalog.Program{ProviderID: r.Provider.ID, Name: "Анализ данных на Python",
			Scheme: certificate.DigitalSkills, CompetencyArea: "большие данные", AcademicHours: 72, EnrolmentOpen: true, Municipality: storagetest.Municipality}, sys)
		require.NoError(t, err)
		mod, err := r.Service.SaveModule(ctx, r.Key(), catalog.Module{ProgramID: prog.ID, Name: "Курс", Price: money("50000.00"), NormativePrice: money("50000.00"), Hours: 72}, sys)
		require.NoError(t, err)
		grp, err := r.Service.SaveGroup(ctx, r.Key(), catalog.Group{ModuleID: mod.ID, Name: "Осень", Start: funding.MustDate(2025, time.September, 15),
			End: funding.MustDate(2025, time.November, 30), Capacity: 20}, sys)
		require.NoError(t, err)
		res, err := r.Service.ApplyAdult(ctx, r.Key(), enrollment.AdultApplication{Holder: adultHolder(1), By: sys})
		require.NoError(t, err)
		cert := res.Certificate
		c, err := r.Service.Submit(ctx, r.Key(), enrollment.SubmitRequest{CertificateID: cert.ID, GroupID: grp.ID, By: sys})
		require.NoError(t, err)
		_, err = r.Service.ChangeStatus(ctx, r.Key(), cert.ID, enrollment.ActivateCertificate, enrollment.AsSystem("operator"))
		require.NoError(t, err)
		provider := enrollment.AsProvider(r.Provider.ID)
		_, err = r.Service.Confirm(ctx, r.Key(), enrollment.ContractRequest{ContractID: c.ID, By: provider})
		require.NoError(t, err)
		_, err = r.Service.Accept(ctx, r.Key(), enrollment.ContractRequest{ContractID: c.ID, By: sys})
		require.NoError(t, err)

		r.At(2025, time.December, 1)
		on := funding.MustDate(2025, time.December, 1)
		for _, tc := range []struct {
			name  string
			doc   enrollment.CompletionDocument
			field string
		}{
			{"a number without a date", enrollment.CompletionDocument{Number: "ПК 1"}, "document_date"},
			{"a date without a number", enrollment.CompletionDocument{Date: on}, "document_number"},
			{"dated after the completion", enrollment.CompletionDocument{Number: "ПК 1", Date: on.AddDays(1)}, "document_date"},
			{"dated before the course", enrollment.CompletionDocument{Number: "ПК 1", Date: c.Start.AddDays(-1)}, "document_date"},
			{"a control character", enrollment.CompletionDocument{Number: "ПК\x001", Date: on}, "document_number"},
		} {
			_, err := r.Service.Complete(ctx, r.Key(), enrollment.ContractRequest{ContractID: c.ID, By: provider, Document: tc.doc})
			var ve *funding.ValidationError
			require.ErrorAs(t, err, &ve, tc.name)
			require.Equal(t, tc.field, ve.Field, tc.name)
		}
		page, err := r.Service.Completions(ctx, sys, enrollment.CompletionFilter{})
		require.NoError(t, err)
		require.Empty(t, page.Completions, "a refused completion recorded nothing")

		doc := enrollment.CompletionDocument{Number: " ПК 0012345 ", Date: on.AddDays(-1)}
		key := r.Key()
		done, err := r.Service.Complete(ctx, key, enrollment.ContractRequest{ContractID: c.ID, By: provider, Document: doc})
		require.NoError(t, err)
		again, err := r.Service.Complete(ctx, key, enrollment.ContractRequest{ContractID: c.ID, By: provider, Document: doc})
		require.NoError(t, err, "the same request again is replayed")
		require.Equal(t, done.ID, again.ID)

		want := enrollment.CompletionRecord{
			Completion: enrollment.Completion{ContractID: c.ID, ProviderID: r.Provider.ID, On: on,
				Document: enrollment.CompletionDocument{Number: "ПК 0012345", Date: on.AddDays(-1)}},
			CertificateNumber: cert.Number,
			Holder: certificate.Holder{PersonID: cert.Holder.PersonID, FullName: cert.Holder.FullName, BirthDate: cert.Holder.BirthDate,
				Sex: cert.Holder.Sex, Citizenship: cert.Holder.Citizenship},
			Program: prog.Name, AcademicHours: 72, Start: c.Start, End: c.End, ProviderName: r.Provider.Name, ProviderINN: r.Provider.INN,
		}
		for _, by := range []enrollment.Caller{provider, enrollment.AsFederal("op"), enrollment.AsAuditor("a")} {
			page, err := r.Service.Completions(ctx, by, enrollment.CompletionFilter{From: on, To: on})
			require.NoError(t, err, by.Role)
			require.Equal(t, []enrollment.CompletionRecord{want}, page.Completions, by.Role)
		}
		for _, by := range []enrollment.Caller{enrollment.AsMunicipality(storagetest.Municipality), enrollment.AsRegional("op"), enrollment.AsHolder(cert.Holder.PersonID)} {
			_, err := r.Service.Completions(ctx, by, enrollment.CompletionFilter{})
			require.ErrorIs(t, err, enrollment.ErrForbidden, by.Role)
		}
		other := enrollment.AsProvider(uuid.Must(uuid.NewV7()))
		page, err = r.Service.Completions(ctx, other, enrollment.CompletionFilter{})
		require.NoError(t, err)
		require.Empty(t, page.Completions, "another provider's")
		_, err = r.Service.Completions(ctx, other, enrollment.CompletionFilter{Provider: r.Provider.ID})
		require.ErrorIs(t, err, enrollment.ErrNotFound)
		_, err = r.Service.Completions(ctx, sys, enrollment.CompletionFilter{From: on, To: on.AddDays(-1)})
		require.Error(t, err, "to before from")

		// The final line: the adults' payer and the provider see it, a
		// municipality and the region do not.
		dec := funding.Month{Year: 2025, Month: time.December}
		for by, n := range map[enrollment.Caller]int{provider: 1, enrollment.AsFederal("op"): 1, enrollment.AsAuditor("a"): 1,
			enrollment.AsMunicipality(storagetest.Municipality): 0, enrollment.AsRegional("op"): 0, other: 0} {
			lines, err := r.Service.InvoiceLines(ctx, by, enrollment.InvoiceLineFilter{Month: dec})
			require.NoError(t, err, by.Role)
			require.Len(t, lines.Lines, n, by.Role)
			if n == 1 {
				require.Equal(t, cert.Number, lines.Lines[0].CertificateNumber)
				require.Equal(t, enrollment.FinalInvoice, lines.Lines[0].Kind)
				require.Equal(t, r.Provider.ID, lines.Providers[r.Provider.ID].ID, "the page carries its providers")
			}
		}
		_, err = r.Service.InvoiceLines(ctx, other, enrollment.InvoiceLineFilter{Month: dec, Provider: r.Provider.ID})
		require.ErrorIs(t, err, enrollment.ErrNotFound)
		_, err = r.Service.InvoiceLines(ctx, provider, enrollment.InvoiceLineFilter{})
		require.Error(t, err, "the month is required")
		_, err = r.Service.InvoiceLines(ctx, enrollment.AsHolder(cert.Holder.PersonID), enrollment.InvoiceLineFilter{Month: dec})
		require.ErrorIs(t, err, enrollment.ErrForbidden)
		storagetest.CheckInvariants(t, db)
	})
}

// TestCompletionDocumentHash: a request without a document encodes as
// before the document was added, so the keys of requests sent then still
// replay.
func TestCompletionDocumentHash(t *testing.T) {
	b, err := json.Marshal(enrollment.ContractRequest{ContractID: uuid.Nil, By: enrollment.AsSystem("x")})
	require.NoError(t, err)
	require.NotContains(t, string(b), "Document")
}
