package storagetest

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/edufund/edufund/catalog"
	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/funding"
)

// testAdminLists: the officials' lists of the Pager. Counters by a key
// prefix in key order, after a key, the prefix's wildcards taken as they
// are; providers newest first with their agreements, by municipality and
// before an id; a provider's programs newest first; a municipality's
// invoices summed by month and kind over its providers.
func testAdminLists(t *testing.T, s enrollment.Store) {
	ctx := context.Background()
	keys := []string{"budget:mo-1:2025-09-01", "budget:mo-1:2026-09-01", "budget:mo-2:2025-09-01",
		"direction:mo-1:sport:2025-09-01", "direction:mo_1:sport:2025-09-01", "seats:x"}
	InTx(t, s, func(tx enrollment.Tx) error {
		for i, k := range keys {
			if err := tx.EnsureCounter(ctx, k, int64(100+i)); err != nil {
				return err
			}
			if err := tx.Take(ctx, k, int64(i)); err != nil {
				return err
			}
		}
		return nil
	})
	counterKeys := func(f enrollment.CounterFilter) []string {
		t.Helper()
		cs, err := s.Counters(ctx, f)
		if err != nil {
			t.Fatalf("Counters(%+v): %v", f, err)
		}
		out := []string{}
		for _, c := range cs {
			out = append(out, c.Key)
		}
		return out
	}
	for _, tc := range []struct {
		name string
		f    enrollment.CounterFilter
		want []string
	}{
		{"a class, in key order", enrollment.CounterFilter{Prefix: "budget:", Limit: 10}, keys[:3]},
		{"a page", enrollment.CounterFilter{Prefix: "budget:", Limit: 2}, keys[:2]},
		{"after a key", enrollment.CounterFilter{Prefix: "budget:", After: keys[1], Limit: 10}, keys[2:3]},
		{"a municipality's", enrollment.CounterFilter{Prefix: "budget:mo-1:", Limit: 10}, keys[:2]},
		{"a _ is no wildcard", enrollment.CounterFilter{Prefix: "direction:mo_1:", Limit: 10}, keys[4:5]},
		{"none", enrollment.CounterFilter{Prefix: "budget:mo-3:", Limit: 10}, []string{}},
	} {
		if got := counterKeys(tc.f); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Counters, %s = %v, want %v", tc.name, got, tc.want)
		}
	}
	cs, err := s.Counters(ctx, enrollment.CounterFilter{Prefix: "budget:mo-2:", Limit: 1})
	if err != nil || len(cs) != 1 || cs[0] != (enrollment.Counter{Key: keys[2], Used: 2, Limit: 102}) {
		t.Errorf("Counters, one = %+v, %v; want its use and limit", cs, err)
	}

	a := SaveOffer(t, s, "A", catalog.Certified)
	b := SaveOffer(t, s, "B", catalog.Certified)
	b.Provider.Municipality = "mo-2"
	second := b.Program
	second.ID, second.Name = newID(t), "Шахматы"
	InTx(t, s, func(tx enrollment.Tx) error {
		if err := tx.SaveProvider(ctx, b.Provider); err != nil {
			return err
		}
		return tx.SaveProgram(ctx, second)
	})
	provs := func(f enrollment.ProviderFilter) []uuid.UUID {
		t.Helper()
		ps, err := s.Providers(ctx, f)
		if err != nil {
			t.Fatalf("Providers(%+v): %v", f, err)
		}
		out := []uuid.UUID{}
		for _, p := range ps {
			out = append(out, p.ID)
		}
		return out
	}
	for _, tc := range []struct {
		name string
		f    enrollment.ProviderFilter
		want []uuid.UUID
	}{
		{"newest first", enrollment.ProviderFilter{Limit: 10}, []uuid.UUID{b.Provider.ID, a.Provider.ID}},
		{"a page", enrollment.ProviderFilter{Limit: 1}, []uuid.UUID{b.Provider.ID}},
		{"before an id", enrollment.ProviderFilter{After: b.Provider.ID, Limit: 10}, []uuid.UUID{a.Provider.ID}},
		{"a municipality's", enrollment.ProviderFilter{Municipality: "mo-2", Limit: 10}, []uuid.UUID{b.Provider.ID}},
	} {
		if got := provs(tc.f); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Providers, %s = %v, want %v", tc.name, got, tc.want)
		}
	}
	ps, err := s.Providers(ctx, enrollment.ProviderFilter{Municipality: "mo-1", Limit: 1})
	if err != nil || len(ps) != 1 || !reflect.DeepEqual(ps[0], a.Provider) {
		t.Errorf("Providers = %+v, %v; want %+v with its agreements", ps, err, a.Provider)
	}

	progs, err := s.Programs(ctx, enrollment.ProgramFilter{Provider: b.Provider.ID, Limit: 10})
	if err != nil || len(progs) != 2 || progs[0].ID != second.ID || !reflect.DeepEqual(progs[1], b.Program) {
		t.Errorf("Programs = %+v, %v; want Шахматы, then %+v", progs, err, b.Program)
	}
	progs, err = s.Programs(ctx, enrollment.ProgramFilter{Provider: b.Provider.ID, After: second.ID, Limit: 10})
	if err != nil || len(progs) != 1 || progs[0].ID != b.Program.ID {
		t.Errorf("Programs after Шахматы = %+v, %v; want the robotics", progs, err)
	}

	// Invoice lines of two providers in two months, of two municipalities
	// and both schemes: the sums are mo-1's of the children's scheme.
	mar, apr := funding.Month{Year: 2026, Month: time.March}, funding.Month{Year: 2026, Month: time.April}
	c := Child(t, "admin-lists-child")
	InTx(t, s, func(tx enrollment.Tx) error {
		if err := tx.InsertCertificate(ctx, c); err != nil {
			return err
		}
		for i, l := range []struct {
			scheme certificate.Scheme
			mun    string
			prov   uuid.UUID
			month  funding.Month
			kind   enrollment.InvoiceKind
			amount string
		}{
			{certificate.Supplementary, "mo-1", a.Provider.ID, mar, enrollment.AdvanceInvoice, "100.00"},
			{certificate.Supplementary, "mo-1", b.Provider.ID, mar, enrollment.AdvanceInvoice, "50.00"},
			{certificate.Supplementary, "mo-1", a.Provider.ID, mar, enrollment.FinalInvoice, "25.00"},
			{certificate.Supplementary, "mo-1", a.Provider.ID, apr, enrollment.RefundInvoice, "5.00"},
			{certificate.Supplementary, "mo-2", a.Provider.ID, mar, enrollment.AdvanceInvoice, "1000.00"},
			{certificate.DigitalSkills, "mo-1", a.Provider.ID, mar, enrollment.AdvanceInvoice, "2000.00"},
		} {
			k := ContractFor(t, c, a, time.Date(2026, 3, 1, 9, 0, i, 0, time.UTC))
			k.Status = enrollment.Closed
			if err := tx.InsertContract(ctx, k); err != nil {
				return err
			}
			if err := tx.AddInvoiceLine(ctx, enrollment.InvoiceLine{ContractID: k.ID, Scheme: l.scheme, Municipality: l.mun,
				ProviderID: l.prov, Month: l.month, Kind: l.kind, Amount: funding.MustMoney(l.amount)}); err != nil {
				return err
			}
		}
		return nil
	})
	type sum struct {
		Month  funding.Month
		Kind   enrollment.InvoiceKind
		Amount string
		Lines  int
	}
	invs, err := s.InvoiceTotals(ctx, enrollment.InvoiceTotalsFilter{Scheme: certificate.Supplementary, Municipality: "mo-1", From: mar, To: apr})
	got := []sum{}
	for _, inv := range invs {
		if inv.ProviderID != uuid.Nil || inv.Municipality != "mo-1" || inv.Scheme != certificate.Supplementary {
			t.Errorf("InvoiceTotals: %+v is not a sum of mo-1's children's invoices", inv)
		}
		got = append(got, sum{inv.Month, inv.Kind, inv.Amount.String(), inv.Lines})
	}
	want := []sum{{mar, enrollment.AdvanceInvoice, "150.00", 2}, {mar, enrollment.FinalInvoice, "25.00", 1}, {apr, enrollment.RefundInvoice, "5.00", 1}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("InvoiceTotals = %+v, %v; want %+v", got, err, want)
	}
	invs, err = s.InvoiceTotals(ctx, enrollment.InvoiceTotalsFilter{Scheme: certificate.Supplementary, Municipality: "mo-1", From: apr, To: apr})
	if err != nil || len(invs) != 1 || invs[0].Kind != enrollment.RefundInvoice {
		t.Errorf("InvoiceTotals of April = %+v, %v; want the refund", invs, err)
	}
}
