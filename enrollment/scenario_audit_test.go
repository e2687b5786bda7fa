package enrollment_test

import (
	"context"
	"errors"
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

// signedContract is a contract of cert in r's group, confirmed and accepted.
func signedContract(t *testing.T, r *storagetest.Region, cert certificate.Certificate) enrollment.Contract {
	t.Helper()
	ctx := context.Background()
	c, err := r.Service.Submit(ctx, r.Key(), enrollment.SubmitRequest{CertificateID: cert.ID, GroupID: r.Group.ID, By: enrollment.AsHolder("parent-1")})
	require.NoError(t, err)
	_, err = r.Service.Confirm(ctx, r.Key(), enrollment.ContractRequest{ContractID: c.ID, By: enrollment.AsProvider(r.Provider.ID)})
	require.NoError(t, err)
	c, err = r.Service.Accept(ctx, r.Key(), enrollment.ContractRequest{ContractID: c.ID, By: enrollment.AsHolder("parent-1")})
	require.NoError(t, err)
	return c
}

// refusedWith asserts that err is sentinel with the given code.
func refusedWith(t *testing.T, err error, sentinel error, code string, msgAndArgs ...any) {
	t.Helper()
	require.ErrorIs(t, err, sentinel, msgAndArgs...)
	var re *funding.RuleError
	require.True(t, errors.As(err, &re), msgAndArgs...)
	require.Equal(t, code, re.Code, msgAndArgs...)
}

// TestInvoiceStatus walks invoices through the transition table: issued by
// their close (a draft before), accepted by their payer only, paid only
// once accepted at the total paid; accepted again when the total changed.
func TestInvoiceStatus(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		r := storagetest.NewRegion(t, db, storagetest.RegionOptions{})
		certs := r.Children(2)
		k1, k2 := signedContract(t, r, certs[0]), signedContract(t, r, certs[1])
		r.At(2025, time.October, 1)
		_, err := r.Service.CloseMonth(ctx, funding.Month{Year: 2025, Month: time.October}, nil)
		require.NoError(t, err)

		mun := enrollment.AsMunicipality(storagetest.Municipality)
		oct := funding.Month{Year: 2025, Month: time.October}
		status := func(m funding.Month, kind enrollment.InvoiceKind) enrollment.Invoice {
			t.Helper()
			invs, err := r.Service.Invoices(ctx, enrollment.AsAuditor("audit"), m, uuid.Nil)
			require.NoError(t, err)
			for _, inv := range invs {
				if inv.Kind == kind {
					return inv
				}
			}
			t.Fatalf("no %s %s invoice among %+v", m, kind, invs)
			return enrollment.Invoice{}
		}
		advance := status(oct, enrollment.AdvanceInvoice)
		require.Equal(t, enrollment.InvoiceStatusIssued, advance.Status)
		req := func(inv enrollment.Invoice, by enrollment.Caller) enrollment.InvoiceRequest {
			return enrollment.InvoiceRequest{Invoice: inv.Key(), By: by}
		}

		// Paid before accepted; moved by anyone but its payer.
		_, err = r.Service.PayInvoice(ctx, r.Key(), req(advance, mun))
		refusedWith(t, err, enrollment.ErrForbiddenTransition, enrollment.CodeForbiddenTransition, "paid before accepted")
		_, err = r.Service.AcceptInvoice(ctx, r.Key(), req(advance, enrollment.AsMunicipality("mun-2")))
		refusedWith(t, err, enrollment.ErrForbidden, enrollment.CodeForeign, "a foreign municipality")
		for _, by := range []enrollment.Caller{enrollment.AsProvider(r.Provider.ID), enrollment.AsRegional("ops"), enrollment.AsAuditor("audit"),
			enrollment.AsHolder("parent-1"), enrollment.AsFederal("fed")} {
			_, err = r.Service.AcceptInvoice(ctx, r.Key(), req(advance, by))
			require.ErrorIs(t, err, enrollment.ErrForbidden, "accepted by %s", by.Role)
		}
		missing := advance.Key()
		missing.Kind = enrollment.FinalInvoice
		missing.Month = funding.Month{Year: 2026, Month: time.May}
		_, err = r.Service.AcceptInvoice(ctx, r.Key(), enrollment.InvoiceRequest{Invoice: missing, By: mun})
		refusedWith(t, err, enrollment.ErrNotFound, enrollment.CodeNotFound, "no such invoice")
		bad := advance.Key()
		bad.Kind = "bonus"
		_, err = r.Service.AcceptInvoice(ctx, r.Key(), enrollment.InvoiceRequest{Invoice: bad, By: mun})
		require.ErrorIs(t, err, funding.ErrInvalid)

		// Accepted, paid, and nothing after.
		r.Clock.T = r.Clock.T.Add(time.Hour)
		key := r.Key()
		accepted, err := r.Service.AcceptInvoice(ctx, key, req(advance, mun))
		require.NoError(t, err)
		require.Equal(t, enrollment.InvoiceStatusAccepted, accepted.Status)
		require.Equal(t, "municipality:"+storagetest.Municipality, accepted.Accepted.Actor)
		require.True(t, accepted.Accepted.Amount.Equal(advance.Amount))
		require.True(t, accepted.Accepted.At.Equal(r.Clock.T))
		again, err := r.Service.AcceptInvoice(ctx, key, req(advance, mun))
		require.NoError(t, err, "the same request replayed")
		require.Equal(t, accepted.Accepted.At, again.Accepted.At)
		_, err = r.Service.AcceptInvoice(ctx, r.Key(), req(advance, mun))
		refusedWith(t, err, enrollment.ErrForbiddenTransition, enrollment.CodeForbiddenTransition, "accepted twice, unchanged")
		paid, err := r.Service.PayInvoice(ctx, r.Key(), req(advance, mun))
		require.NoError(t, err)
		require.Equal(t, enrollment.InvoiceStatusPaid, paid.Status)
		require.NotNil(t, paid.Accepted)
		for name, move := range map[string]func(context.Context, string, enrollment.InvoiceRequest) (enrollment.Invoice, error){
			"accept": r.Service.AcceptInvoice, "pay": r.Service.PayInvoice} {
			_, err = move(ctx, r.Key(), req(advance, mun))
			refusedWith(t, err, enrollment.ErrForbiddenTransition, enrollment.CodeForbiddenTransition, "%s once paid", name)
		}
		listed := status(oct, enrollment.AdvanceInvoice)
		require.Equal(t, enrollment.InvoiceStatusPaid, listed.Status)
		require.Equal(t, paid.Paid.Actor, listed.Paid.Actor)
		require.True(t, paid.Paid.At.Equal(listed.Paid.At))
		// The provider sees its invoice's status; the municipality too.
		for _, by := range []enrollment.Caller{enrollment.AsProvider(r.Provider.ID), mun} {
			invs, err := r.Service.Invoices(ctx, by, oct, uuid.Nil)
			require.NoError(t, err)
			require.NotEmpty(t, invs)
			for _, inv := range invs {
				if inv.Kind == enrollment.AdvanceInvoice {
					require.Equal(t, enrollment.InvoiceStatusPaid, inv.Status)
				}
			}
		}

		// October's refunds are issued by November's close: a draft.
		_, err = r.Service.ReportDelivery(ctx, r.Key(), enrollment.DeliveryReport{ContractRequest: enrollment.ContractRequest{ContractID: k1.ID,
			By: enrollment.AsProvider(r.Provider.ID)}, Month: oct, Percent: 50})
		require.NoError(t, err)
		draft := status(oct, enrollment.RefundInvoice)
		require.Equal(t, enrollment.InvoiceStatusDraft, draft.Status)
		_, err = r.Service.AcceptInvoice(ctx, r.Key(), req(draft, mun))
		refusedWith(t, err, enrollment.ErrInvoiceNotIssued, enrollment.CodeInvoiceNotIssued, "a draft")

		// September's refunds were issued by October's close. Accepted with
		// one line, a second line makes it another total: not paid until
		// accepted again.
		sep := oct.Prev()
		report := func(k enrollment.Contract) {
			t.Helper()
			_, err := r.Service.ReportDelivery(ctx, r.Key(), enrollment.DeliveryReport{ContractRequest: enrollment.ContractRequest{ContractID: k.ID,
				By: enrollment.AsProvider(r.Provider.ID)}, Month: sep, Percent: 50})
			require.NoError(t, err)
		}
		report(k1)
		refund := status(sep, enrollment.RefundInvoice)
		require.Equal(t, enrollment.InvoiceStatusIssued, refund.Status)
		_, err = r.Service.AcceptInvoice(ctx, r.Key(), req(refund, mun))
		require.NoError(t, err)
		report(k2)
		_, err = r.Service.PayInvoice(ctx, r.Key(), req(refund, mun))
		refusedWith(t, err, enrollment.ErrInvoiceChanged, enrollment.CodeInvoiceChanged, "paid at a total not accepted")
		reaccepted, err := r.Service.AcceptInvoice(ctx, r.Key(), req(refund, mun))
		require.NoError(t, err)
		require.Equal(t, 2, reaccepted.Accepted.Lines)
		paid, err = r.Service.PayInvoice(ctx, r.Key(), req(refund, mun))
		require.NoError(t, err)
		require.True(t, paid.Paid.Amount.Equal(reaccepted.Amount))
	})
}

// TestLedgerAudit reads the ledger's audit trail as each role may: the
// auditor everything, the operators their scheme's, a municipality its
// certificates', a provider its contracts', a holder one certificate's
// (with its eligibility decision), a page at a time.
func TestLedgerAudit(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		r := storagetest.NewRegion(t, db, storagetest.RegionOptions{})
		cert := r.Child(0)
		other := r.Child(1)
		k := signedContract(t, r, cert)
		adult, err := r.Service.ApplyAdult(ctx, r.Key(), enrollment.AdultApplication{Holder: adultHolder(7), By: enrollment.AsSystem("test")})
		require.NoError(t, err)

		read := func(by enrollment.Caller, f enrollment.LedgerFilter) enrollment.LedgerPage {
			t.Helper()
			page, err := r.Service.Ledger(ctx, by, f)
			require.NoError(t, err, "%s %+v", by.Role, f)
			return page
		}
		all := read(enrollment.AsAuditor("audit"), enrollment.LedgerFilter{Limit: enrollment.MaxListLimit}).Postings
		require.NotEmpty(t, all)
		for i := 1; i < len(all); i++ {
			require.Greater(t, all[i-1].ID.String(), all[i].ID.String(), "newest first")
		}
		count := func(ps []enrollment.PostingRecord, keep func(enrollment.PostingRecord) bool) int {
			n := 0
			for _, p := range ps {
				if keep(p) {
					n++
				}
			}
			return n
		}
		ofCert := func(ids ...uuid.UUID) func(enrollment.PostingRecord) bool {
			return func(p enrollment.PostingRecord) bool {
				for _, id := range ids {
					if p.CertificateID == id {
						return true
					}
				}
				return false
			}
		}
		children := count(all, ofCert(cert.ID, other.ID))
		require.Equal(t, len(all)-children, count(all, ofCert(adult.Certificate.ID)))
		for _, tc := range []struct {
			by   enrollment.Caller
			f    enrollment.LedgerFilter
			want int
		}{
			{enrollment.AsSystem("ops"), enrollment.LedgerFilter{}, len(all)},
			{enrollment.AsRegional("ops"), enrollment.LedgerFilter{}, children},
			{enrollment.AsRegional("ops"), enrollment.LedgerFilter{Scheme: certificate.DigitalSkills}, 0},
			{enrollment.AsFederal("ops"), enrollment.LedgerFilter{}, len(all) - children},
			{enrollment.AsMunicipality(storagetest.Municipality), enrollment.LedgerFilter{}, children},
			{enrollment.AsMunicipality("mun-2"), enrollment.LedgerFilter{}, 0},
			{enrollment.AsMunicipality("mun-2"), enrollment.LedgerFilter{Municipality: storagetest.Municipality}, 0},
			{enrollment.AsProvider(r.Provider.ID), enrollment.LedgerFilter{}, count(all, func(p enrollment.PostingRecord) bool { return p.ContractID == k.ID })},
			{enrollment.AsProvider(uuid.Must(uuid.NewV7())), enrollment.LedgerFilter{}, 0},
			{enrollment.AsProvider(uuid.Must(uuid.NewV7())), enrollment.LedgerFilter{Provider: r.Provider.ID}, 0},
			{enrollment.AsHolder("parent-1"), enrollment.LedgerFilter{Certificate: cert.ID}, count(all, ofCert(cert.ID))},
			{enrollment.AsAuditor("audit"), enrollment.LedgerFilter{Contract: k.ID}, count(all, func(p enrollment.PostingRecord) bool { return p.ContractID == k.ID })},
		} {
			tc.f.Limit = enrollment.MaxListLimit
			require.Len(t, read(tc.by, tc.f).Postings, tc.want, "%s %+v", tc.by.Role, tc.f)
		}
		require.NotZero(t, count(all, func(p enrollment.PostingRecord) bool { return p.ContractID == k.ID }), "the contract's reserve")

		// Each posting with its why.
		for _, p := range read(enrollment.AsAuditor("audit"), enrollment.LedgerFilter{Contract: k.ID}).Postings {
			require.NotEmpty(t, p.Rule)
			require.Equal(t, "holder:parent-1", p.Actor)
			require.False(t, p.At.IsZero())
		}

		// Pages of one, in order, ending.
		var paged []enrollment.PostingRecord
		f := enrollment.LedgerFilter{Limit: 1}
		for {
			page := read(enrollment.AsAuditor("audit"), f)
			paged = append(paged, page.Postings...)
			if page.Next == uuid.Nil {
				break
			}
			f.After = page.Next
		}
		require.Equal(t, len(all), len(paged))
		for i := range all {
			require.Equal(t, all[i].ID, paged[i].ID)
		}

		// The certificate's decision comes with its first page, to whoever
		// may read the certificate, not to a provider.
		for _, by := range []enrollment.Caller{enrollment.AsAuditor("audit"), enrollment.AsHolder("parent-1"), enrollment.AsMunicipality(storagetest.Municipality)} {
			page := read(by, enrollment.LedgerFilter{Certificate: cert.ID})
			require.NotNil(t, page.Decision, by.Role)
			require.Equal(t, cert.ID, page.Decision.CertificateID)
		}
		require.Nil(t, read(enrollment.AsProvider(r.Provider.ID), enrollment.LedgerFilter{Certificate: cert.ID}).Decision)
		require.Nil(t, read(enrollment.AsMunicipality("mun-2"), enrollment.LedgerFilter{Certificate: cert.ID}).Decision)

		// Refusals: a holder without a certificate or with another's; bad
		// bounds; an unknown certificate is an empty page but to a holder.
		_, err = r.Service.Ledger(ctx, enrollment.AsHolder("parent-1"), enrollment.LedgerFilter{})
		require.ErrorIs(t, err, funding.ErrInvalid)
		_, err = r.Service.Ledger(ctx, enrollment.AsHolder("parent-2"), enrollment.LedgerFilter{Certificate: cert.ID})
		require.ErrorIs(t, err, enrollment.ErrNotFound)
		_, err = r.Service.Ledger(ctx, enrollment.AsAuditor("audit"), enrollment.LedgerFilter{Limit: enrollment.MaxListLimit + 1})
		require.ErrorIs(t, err, funding.ErrInvalid)
		at := r.Clock.T
		_, err = r.Service.Ledger(ctx, enrollment.AsAuditor("audit"), enrollment.LedgerFilter{From: at, To: at})
		require.ErrorIs(t, err, funding.ErrInvalid)
		_, err = r.Service.Ledger(ctx, enrollment.Caller{}, enrollment.LedgerFilter{})
		require.ErrorIs(t, err, enrollment.ErrNoCaller)
		require.Empty(t, read(enrollment.AsRegional("ops"), enrollment.LedgerFilter{Certificate: uuid.Must(uuid.NewV7())}).Postings)
		require.Len(t, read(enrollment.AsAuditor("audit"), enrollment.LedgerFilter{To: all[len(all)-1].At}).Postings, 0, "before the first")
	})
}

// TestEligibilityDecisionKept: the decision a certificate was issued on is
// kept with it (inputs, the parameter version, the rules checked) and
// shown in its cabinet; a refused application keeps nothing.
func TestEligibilityDecisionKept(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		r := storagetest.NewRegion(t, db, storagetest.RegionOptions{})
		p, err := r.Service.SetParameter(ctx, r.Key(), enrollment.ParameterRequest{Name: "children.min_age", Scope: storagetest.Municipality,
			From: r.Service.Today(), Value: "6", Reason: "решение", By: enrollment.AsSystem("test")})
		require.NoError(t, err)
		cert := r.Child(0)
		cab, err := r.Service.Cabinet(ctx, enrollment.AsAuditor("audit"), cert.ID)
		require.NoError(t, err)
		d := cab.Decision
		require.NotNil(t, d)
		require.True(t, d.Eligible())
		require.Equal(t, p.Version, d.Rules, "the parameter version in force")
		require.Equal(t, r.Service.Today(), d.DecidedOn)
		require.Equal(t, "system:test", d.Actor)
		require.Equal(t, map[string]string{
			"birth_date": "2015-03-10", "age": "10", "residence_municipality": storagetest.Municipality, "funding_municipality": storagetest.Municipality,
			"residence_participates": "true", "funding_participates": "true", "min_age": "6", "age_limit": "18", "certificates_held": "0", "category": "city",
		}, d.Inputs)
		require.Equal(t, []string{certificate.RulePersonIDMissing, certificate.RuleBirthDateMissing, certificate.RuleAgeBelowMinimum,
			certificate.RuleAgeLimitReached, certificate.RuleMunicipalityNotIn, certificate.RuleAlreadyIssued}, d.Checked)

		res, err := r.Service.ApplyAdult(ctx, r.Key(), enrollment.AdultApplication{Holder: adultHolder(3), By: enrollment.AsSystem("test")})
		require.NoError(t, err)
		cab, err = r.Service.Cabinet(ctx, enrollment.AsSystem("test"), res.Certificate.ID)
		require.NoError(t, err)
		require.NotNil(t, cab.Decision)
		require.Equal(t, certificate.DigitalSkills, cab.Decision.Scheme)
		for _, k := range []string{"age", "min_age", "citizenship", "citizenship_required", "sex", "pension_date", "education", "region",
			"region_participates", "registration", "certificates_this_year"} {
			require.NotEmpty(t, cab.Decision.Inputs[k], k)
		}
		require.Equal(t, "true", cab.Decision.Inputs["region_participates"])
		require.Len(t, cab.Decision.Checked, 10)

		// Refused: no certificate, nothing kept.
		h := adultHolder(4)
		h.Citizenship = "KZ"
		_, err = r.Service.ApplyAdult(ctx, r.Key(), enrollment.AdultApplication{Holder: h, By: enrollment.AsSystem("test")})
		require.ErrorIs(t, err, enrollment.ErrIneligible)
		page, err := r.Service.Certificates(ctx, enrollment.AsAuditor("audit"), enrollment.CertificateFilter{Scheme: certificate.DigitalSkills})
		require.NoError(t, err)
		require.Len(t, page.Certificates, 1)
		var n int
		require.NoError(t, db.Bun().NewRaw("SELECT COUNT(*) FROM eligibility_decisions").Scan(ctx, &n))
		require.Equal(t, 2, n)
	})
}

// TestAuditorReadsOnly: the auditor reads every kind of record of both
// schemes and every write refuses it, whatever else would refuse first.
func TestAuditorReadsOnly(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		r := storagetest.NewRegion(t, db, storagetest.RegionOptions{})
		cert := r.Child(0)
		k := signedContract(t, r, cert)
		adult, err := r.Service.ApplyAdult(ctx, r.Key(), enrollment.AdultApplication{Holder: adultHolder(5), By: enrollment.AsSystem("test")})
		require.NoError(t, err)
		a := enrollment.AsAuditor("audit")
		require.NoError(t, a.Validate())
		require.ErrorIs(t, enrollment.Caller{Role: enrollment.RoleAuditor}.Validate(), enrollment.ErrNoCaller, "an auditor needs a name")

		certs, err := r.Service.Certificates(ctx, a, enrollment.CertificateFilter{})
		require.NoError(t, err)
		require.Len(t, certs.Certificates, 2, "both schemes")
		contracts, err := r.Service.Contracts(ctx, a, enrollment.ContractFilter{})
		require.NoError(t, err)
		require.Len(t, contracts.Contracts, 1)
		_, err = r.Service.Contract(ctx, a, k.ID)
		require.NoError(t, err)
		for _, id := range []uuid.UUID{cert.ID, adult.Certificate.ID} {
			_, err = r.Service.Cabinet(ctx, a, id)
			require.NoError(t, err)
			_, err = r.Service.QueuePosition(ctx, a, id)
			require.NoError(t, err)
		}
		_, err = r.Service.ParameterVersions(ctx, a)
		require.NoError(t, err)
		_, err = r.Service.Invoices(ctx, a, funding.Month{Year: 2025, Month: time.September}, uuid.Nil)
		require.NoError(t, err)

		key := r.Key()
		holder := certificate.Holder{PersonID: "child-x", FullName: "Х", BirthDate: funding.MustDate(2016, time.May, 1), Municipality: storagetest.Municipality}
		cr := enrollment.ContractRequest{ContractID: k.ID, By: a}
		writes := map[string]func() error{
			"Issue": func() error {
				_, err := r.Service.Issue(ctx, key, enrollment.IssueRequest{Holder: holder, Category: "city", By: a})
				return err
			},
			"RequestFunding": func() error { _, err := r.Service.RequestFunding(ctx, key, cert.ID, a); return err },
			"ChangeStatus": func() error {
				_, err := r.Service.ChangeStatus(ctx, key, cert.ID, enrollment.SuspendCertificate, a)
				return err
			},
			"LinkGuardian": func() error {
				_, err := r.Service.LinkGuardian(ctx, key, enrollment.LinkRequest{GuardianID: "parent-9", ChildID: "child-x", By: a})
				return err
			},
			"Submit": func() error {
				_, err := r.Service.Submit(ctx, key, enrollment.SubmitRequest{CertificateID: cert.ID, GroupID: r.Group.ID, By: a})
				return err
			},
			"Confirm":   func() error { _, err := r.Service.Confirm(ctx, key, cr); return err },
			"Refuse":    func() error { _, err := r.Service.Refuse(ctx, key, cr); return err },
			"Accept":    func() error { _, err := r.Service.Accept(ctx, key, cr); return err },
			"Withdraw":  func() error { _, err := r.Service.Withdraw(ctx, key, cr); return err },
			"Terminate": func() error { _, err := r.Service.Terminate(ctx, key, cr); return err },
			"Complete":  func() error { _, err := r.Service.Complete(ctx, key, cr); return err },
			"ReportDelivery": func() error {
				_, err := r.Service.ReportDelivery(ctx, key, enrollment.DeliveryReport{ContractRequest: cr, Month: funding.Month{Year: 2025, Month: time.September}, Percent: 10})
				return err
			},
			"Prolong": func() error {
				_, err := r.Service.Prolong(ctx, key, enrollment.ProlongRequest{ContractRequest: cr, GroupID: r.Group.ID})
				return err
			},
			"ApplyAdult": func() error {
				_, err := r.Service.ApplyAdult(ctx, key, enrollment.AdultApplication{Holder: adultHolder(6), By: a})
				return err
			},
			"RecordDocuments": func() error {
				_, err := r.Service.RecordDocuments(ctx, key, enrollment.DocumentsRequest{CertificateID: adult.Certificate.ID, Uploaded: true, By: a})
				return err
			},
			"CancelOverdue": func() error { _, err := r.Service.CancelOverdue(ctx, key, adult.Certificate.ID, a); return err },
			"SetBudget": func() error {
				_, err := r.Service.SetBudget(ctx, key, enrollment.BudgetRequest{Municipality: storagetest.Municipality, Period: storagetest.Autumn, Limit: funding.MustMoney("1.00"), By: a})
				return err
			},
			"SetDirectionLimit": func() error {
				_, err := r.Service.SetDirectionLimit(ctx, key, enrollment.DirectionLimitRequest{Municipality: storagetest.Municipality, Direction: catalog.TechnicalRobotics, Period: storagetest.Autumn, Limit: 1, By: a})
				return err
			},
			"SaveCategory": func() error {
				_, err := r.Service.SaveCategory(ctx, key, certificate.Category{Code: "city", Nominal: funding.MustMoney("1.00")}, a)
				return err
			},
			"SaveProvider": func() error { _, err := r.Service.SaveProvider(ctx, key, r.Provider, a); return err },
			"SaveProgram":  func() error { _, err := r.Service.SaveProgram(ctx, key, r.Program, a); return err },
			"SaveModule":   func() error { _, err := r.Service.SaveModule(ctx, key, r.Module, a); return err },
			"SaveGroup":    func() error { _, err := r.Service.SaveGroup(ctx, key, r.Group, a); return err },
			"SetParameter": func() error {
				_, err := r.Service.SetParameter(ctx, key, enrollment.ParameterRequest{Name: "advance_share", From: funding.MustDate(2026, time.March, 1), Value: "0.5", Reason: "x", By: a})
				return err
			},
			"AcceptInvoice": func() error {
				_, err := r.Service.AcceptInvoice(ctx, key, enrollment.InvoiceRequest{Invoice: enrollment.InvoiceKey{Scheme: certificate.Supplementary,
					Municipality: storagetest.Municipality, ProviderID: r.Provider.ID, Month: funding.Month{Year: 2025, Month: time.September}, Kind: enrollment.AdvanceInvoice}, By: a})
				return err
			},
			"PayInvoice": func() error {
				_, err := r.Service.PayInvoice(ctx, key, enrollment.InvoiceRequest{Invoice: enrollment.InvoiceKey{Scheme: certificate.Supplementary,
					Municipality: storagetest.Municipality, ProviderID: r.Provider.ID, Month: funding.Month{Year: 2025, Month: time.September}, Kind: enrollment.AdvanceInvoice}, By: a})
				return err
			},
		}
		for name, write := range writes {
			require.ErrorIs(t, write(), enrollment.ErrForbidden, name)
		}
		// Nothing changed.
		c, err := r.Service.Contract(ctx, a, k.ID)
		require.NoError(t, err)
		require.Equal(t, k.Status, c.Status)
		cab, err := r.Service.Cabinet(ctx, a, cert.ID)
		require.NoError(t, err)
		require.Equal(t, cert.Status, cab.Certificate.Status)
	})
}
