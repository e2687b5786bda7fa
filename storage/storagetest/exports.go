package storagetest

import (
	"bytes"
	"context"
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/edufund/edufund/catalog"
	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/funding"
)

// testExports: a month's invoice lines read by provider, contract and
// kind, page by page, each filter keeping exactly its lines, each line
// with its certificate's number; the completions of adult courses read by
// day, then contract, with their learner, program, dates and document; a
// completion recorded twice is ErrExists.
func testExports(t *testing.T, s enrollment.Store) {
	ctx := context.Background()
	mine := SaveOffer(t, s, "Счета", catalog.Certified)
	other := SaveOffer(t, s, "Другие", catalog.Certified)
	child1, child2 := Child(t, "export-child-1"), Child(t, "export-child-2")
	child2.Municipality = "mo-2"
	adult1 := Adult(t, "export-adult-1", funding.MustDate(2025, time.March, 3))
	adult2 := Adult(t, "export-adult-2", funding.MustDate(2025, time.March, 4))
	adult2.Holder.FullName = "Петров Пётр"
	sep, oct := funding.Month{Year: 2025, Month: time.September}, funding.Month{Year: 2025, Month: time.October}
	var k1, k2, ka1, ka2 enrollment.Contract
	InTx(t, s, func(tx enrollment.Tx) error {
		for _, c := range []certificate.Certificate{child1, child2, adult1, adult2} {
			if err := tx.InsertCertificate(ctx, c); err != nil {
				return err
			}
		}
		k1 = ContractFor(t, child1, mine, time.Date(2025, 9, 10, 9, 0, 0, 0, time.UTC))
		k2 = ContractFor(t, child2, other, time.Date(2025, 9, 10, 9, 0, 1, 0, time.UTC))
		k2.Municipality = "mo-2"
		ka1 = ContractFor(t, adult1, mine, time.Date(2025, 9, 10, 9, 0, 2, 0, time.UTC))
		ka2 = ContractFor(t, adult2, mine, time.Date(2025, 9, 10, 9, 0, 3, 0, time.UTC))
		for _, k := range []*enrollment.Contract{&ka1, &ka2} {
			k.Scheme, k.Status = certificate.DigitalSkills, enrollment.Closed
		}
		for _, k := range []enrollment.Contract{k1, k2, ka1, ka2} {
			if err := tx.InsertContract(ctx, k); err != nil {
				return err
			}
		}
		return nil
	})
	line := func(k enrollment.Contract, m funding.Month, kind enrollment.InvoiceKind, amount string) enrollment.InvoiceLine {
		scheme := k.Scheme
		if scheme == "" {
			scheme = certificate.Supplementary
		}
		return enrollment.InvoiceLine{ContractID: k.ID, Scheme: scheme, Municipality: k.Municipality, ProviderID: k.ProviderID,
			Month: m, Kind: kind, Amount: funding.MustMoney(amount)}
	}
	lines := []enrollment.InvoiceLine{
		line(k1, sep, enrollment.AdvanceInvoice, "1000.10"),
		line(k1, sep, enrollment.FinalInvoice, "200.05"),
		line(k2, sep, enrollment.RefundInvoice, "15.00"),
		line(ka1, sep, enrollment.FinalInvoice, "42000.00"),
		line(k1, oct, enrollment.AdvanceInvoice, "1.00"),
	}
	InTx(t, s, func(tx enrollment.Tx) error {
		for _, l := range lines {
			if err := tx.AddInvoiceLine(ctx, l); err != nil {
				return err
			}
		}
		return nil
	})
	numbers := map[uuid.UUID]certificate.Number{k1.ID: child1.Number, k2.ID: child2.Number, ka1.ID: adult1.Number}
	// The order the lines read in: provider, contract, kind.
	want := slices.Clone(lines[:4])
	slices.SortFunc(want, func(a, b enrollment.InvoiceLine) int {
		if c := bytes.Compare(a.ProviderID[:], b.ProviderID[:]); c != 0 {
			return c
		}
		if c := bytes.Compare(a.ContractID[:], b.ContractID[:]); c != 0 {
			return c
		}
		return bytes.Compare([]byte(a.Kind), []byte(b.Kind))
	})
	read := func(f enrollment.InvoiceLineFilter) []enrollment.InvoiceLine {
		t.Helper()
		got, err := s.InvoiceLines(ctx, f)
		if err != nil {
			t.Fatalf("InvoiceLines(%+v): %v", f, err)
		}
		out := []enrollment.InvoiceLine{}
		for _, l := range got {
			if l.CertificateNumber != numbers[l.ContractID] {
				t.Errorf("line of contract %s: certificate number %q, want %q", l.ContractID, l.CertificateNumber, numbers[l.ContractID])
			}
			out = append(out, l.InvoiceLine)
		}
		return out
	}
	keep := func(ok func(enrollment.InvoiceLine) bool) []enrollment.InvoiceLine {
		out := []enrollment.InvoiceLine{}
		for _, l := range want {
			if ok(l) {
				out = append(out, l)
			}
		}
		return out
	}
	for _, tc := range []struct {
		name string
		f    enrollment.InvoiceLineFilter
		want []enrollment.InvoiceLine
	}{
		{"a month's", enrollment.InvoiceLineFilter{Month: sep, Limit: 10}, want},
		{"a provider's", enrollment.InvoiceLineFilter{Month: sep, Provider: mine.Provider.ID, Limit: 10},
			keep(func(l enrollment.InvoiceLine) bool { return l.ProviderID == mine.Provider.ID })},
		{"a municipality's", enrollment.InvoiceLineFilter{Month: sep, Municipality: "mo-2", Limit: 10}, []enrollment.InvoiceLine{lines[2]}},
		{"the adults'", enrollment.InvoiceLineFilter{Month: sep, Scheme: certificate.DigitalSkills, Limit: 10}, []enrollment.InvoiceLine{lines[3]}},
		{"another month's", enrollment.InvoiceLineFilter{Month: oct, Limit: 10}, []enrollment.InvoiceLine{lines[4]}},
		{"a page", enrollment.InvoiceLineFilter{Month: sep, Limit: 2}, want[:2]},
		{"none", enrollment.InvoiceLineFilter{Month: oct.Next(), Limit: 10}, []enrollment.InvoiceLine{}},
	} {
		if got := read(tc.f); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("InvoiceLines, %s:\n got %+v\nwant %+v", tc.name, got, tc.want)
		}
	}
	// Page by page, one line a page, after each: every line once, in order.
	var paged []enrollment.InvoiceLine
	for after := (enrollment.InvoiceLineKey{}); ; {
		got, err := s.InvoiceLines(ctx, enrollment.InvoiceLineFilter{Month: sep, After: after, Limit: 1})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) == 0 {
			break
		}
		paged = append(paged, got[0].InvoiceLine)
		after = got[0].Key()
		if len(paged) > len(want) {
			t.Fatalf("paging does not end: %+v", paged)
		}
	}
	if !reflect.DeepEqual(paged, want) {
		t.Errorf("InvoiceLines page by page:\n got %+v\nwant %+v", paged, want)
	}

	// Completions: ka2 on 10 December, ka1 on 12 December with a document.
	dec10, dec12 := funding.MustDate(2025, time.December, 10), funding.MustDate(2025, time.December, 12)
	doc := enrollment.CompletionDocument{Number: "ПК 0012345", Date: dec12}
	c1 := enrollment.Completion{ContractID: ka1.ID, ProviderID: mine.Provider.ID, On: dec12, Document: doc}
	c2 := enrollment.Completion{ContractID: ka2.ID, ProviderID: mine.Provider.ID, On: dec10}
	InTx(t, s, func(tx enrollment.Tx) error {
		for _, c := range []enrollment.Completion{c1, c2} {
			if err := tx.RecordCompletion(ctx, c); err != nil {
				return err
			}
		}
		return nil
	})
	if err := TryTx(s, func(tx enrollment.Tx) error { return tx.RecordCompletion(ctx, c1) }); !errors.Is(err, enrollment.ErrExists) {
		t.Errorf("a completion recorded twice: %v, want ErrExists", err)
	}
	record := func(c enrollment.Completion, cert certificate.Certificate, k enrollment.Contract) enrollment.CompletionRecord {
		h := cert.Holder
		return enrollment.CompletionRecord{Completion: c, CertificateNumber: cert.Number,
			Holder:  certificate.Holder{PersonID: h.PersonID, FullName: h.FullName, BirthDate: h.BirthDate, Sex: h.Sex, Citizenship: h.Citizenship},
			Program: mine.Program.Name, AcademicHours: mine.Program.AcademicHours, Start: k.Start, End: k.End,
			ProviderName: mine.Provider.Name, ProviderINN: mine.Provider.INN}
	}
	r1, r2 := record(c1, adult1, ka1), record(c2, adult2, ka2)
	for _, tc := range []struct {
		name string
		f    enrollment.CompletionFilter
		want []enrollment.CompletionRecord
	}{
		{"all, by day", enrollment.CompletionFilter{Limit: 10}, []enrollment.CompletionRecord{r2, r1}},
		{"a provider's", enrollment.CompletionFilter{Provider: mine.Provider.ID, Limit: 10}, []enrollment.CompletionRecord{r2, r1}},
		{"another provider's", enrollment.CompletionFilter{Provider: other.Provider.ID, Limit: 10}, []enrollment.CompletionRecord{}},
		{"from a day", enrollment.CompletionFilter{From: dec12, Limit: 10}, []enrollment.CompletionRecord{r1}},
		{"to a day", enrollment.CompletionFilter{To: dec10, Limit: 10}, []enrollment.CompletionRecord{r2}},
		{"between", enrollment.CompletionFilter{From: dec10.AddDays(1), To: dec12.AddDays(-1), Limit: 10}, []enrollment.CompletionRecord{}},
		{"a page", enrollment.CompletionFilter{Limit: 1}, []enrollment.CompletionRecord{r2}},
		{"after", enrollment.CompletionFilter{After: r2.Key(), Limit: 10}, []enrollment.CompletionRecord{r1}},
	} {
		got, err := s.Completions(ctx, tc.f)
		if err != nil {
			t.Fatalf("Completions, %s: %v", tc.name, err)
		}
		if got == nil {
			got = []enrollment.CompletionRecord{}
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Completions, %s:\n got %+v\nwant %+v", tc.name, got, tc.want)
		}
	}
}
