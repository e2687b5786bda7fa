package storagetest

import (
	"context"
	"errors"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/edufund/edufund/catalog"
	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/funding"
	"github.com/edufund/edufund/storage"
)

// The audit trail's part of the contract: the ledger's facts cannot be
// changed past the Tx, the ledger reads back by every filter, decisions
// and invoice moves round-trip.

// appendOnly are the tables whose rows no one may change or remove, each
// with a column to set to itself.
var appendOnly = map[string]string{
	"postings": "amount", "contract_charges": "amount", "invoice_lines": "amount", "parameters": "value",
	"closes": "month", "eligibility_decisions": "actor", "invoice_transitions": "amount",
}

// testAppendOnly: an UPDATE, a DELETE (and on PostgreSQL a TRUNCATE) of
// a row of every append-only table, written in SQL past the Tx, fails
// and leaves the row; appending through the Tx still works after. It
// needs the SQL of a storage.DB; another store skips it.
func testAppendOnly(t *testing.T, s enrollment.Store) {
	db, ok := s.(*storage.DB)
	if !ok {
		t.Skip("not a storage.DB: no SQL to write past the Tx")
	}
	ctx := context.Background()
	f := SaveOffer(t, s, "A", catalog.Certified)
	c := Child(t, "p-append")
	k := ContractFor(t, c, f, time.Date(2025, 9, 10, 12, 0, 0, 0, time.UTC))
	sep := funding.Month{Year: 2025, Month: time.September}
	at := time.Date(2025, 10, 1, 6, 0, 0, 0, time.UTC)
	posting := func() enrollment.PostingRecord {
		return enrollment.PostingRecord{ID: newID(t), CertificateID: c.ID, Period: SchoolYear, At: at, Actor: "system:close", Rule: "grant",
			Posting: funding.Posting{Kind: funding.Grant, Amount: funding.MustMoney("100.00")}}
	}
	line := func(kind enrollment.InvoiceKind) enrollment.InvoiceLine {
		return enrollment.InvoiceLine{ContractID: k.ID, Scheme: certificate.Supplementary, Municipality: "mo-1", ProviderID: f.Provider.ID,
			Month: sep, Kind: kind, Amount: funding.MustMoney("10.00")}
	}
	InTx(t, s, func(tx enrollment.Tx) error {
		for _, step := range []func() error{
			func() error { return tx.InsertCertificate(ctx, c) },
			func() error { return tx.InsertContract(ctx, k) },
			func() error { return tx.AppendPosting(ctx, posting()) },
			func() error { return tx.RecordCharge(ctx, k.ID, sep, funding.MustMoney("10.00")) },
			func() error { return tx.AddInvoiceLine(ctx, line(enrollment.AdvanceInvoice)) },
			func() error {
				_, err := tx.AddParameter(ctx, enrollment.Parameter{Name: "advance_share", From: funding.MustDate(2026, time.March, 1),
					Value: "0.7", Actor: "regional:ops", Reason: "приказ", At: at})
				return err
			},
			func() error { return tx.RecordClose(ctx, sep, at) },
			func() error {
				return tx.SaveDecision(ctx, enrollment.EligibilityDecision{CertificateID: c.ID, Scheme: c.Scheme, DecidedOn: c.IssuedOn,
					At: at, Actor: "regional:ops", Inputs: map[string]string{"age": "10"}, Checked: []string{"age_below_minimum"}})
			},
			func() error {
				return tx.AddInvoiceTransition(ctx, enrollment.InvoiceTransition{ID: newID(t), Invoice: enrollment.InvoiceKey{
					Scheme: certificate.Supplementary, Municipality: "mo-1", ProviderID: f.Provider.ID, Month: sep, Kind: enrollment.AdvanceInvoice},
					Status: enrollment.InvoiceStatusAccepted, Amount: funding.MustMoney("10.00"), Lines: 1, At: at, Actor: "municipality:mo-1"})
			},
		} {
			if err := step(); err != nil {
				return err
			}
		}
		return nil
	})
	count := func(table string) int {
		var n int
		if err := db.Bun().NewRaw("SELECT COUNT(*) FROM "+table).Scan(ctx, &n); err != nil {
			t.Fatalf("count %s: %v", table, err)
		}
		return n
	}
	for table, col := range appendOnly {
		before := count(table)
		if before == 0 {
			t.Fatalf("%s has no row to change", table)
		}
		stmts := []string{"UPDATE " + table + " SET " + col + " = " + col, "DELETE FROM " + table}
		if db.Dialect() == storage.Postgres {
			stmts = append(stmts, "TRUNCATE "+table)
		}
		for _, q := range stmts {
			_, err := db.Bun().ExecContext(ctx, q)
			if err == nil || !strings.Contains(err.Error(), "append-only") {
				t.Errorf("%s: %v, want the append-only refusal", q, err)
			}
		}
		if n := count(table); n != before {
			t.Errorf("%s: %d rows after the refusals, want %d", table, n, before)
		}
	}
	// Appending goes on: a posting, a month's charge, a line.
	InTx(t, s, func(tx enrollment.Tx) error {
		if err := tx.AppendPosting(ctx, posting()); err != nil {
			return err
		}
		if err := tx.RecordCharge(ctx, k.ID, sep.Next(), funding.MustMoney("10.00")); err != nil {
			return err
		}
		return tx.AddInvoiceLine(ctx, line(enrollment.FinalInvoice))
	})
	for table, want := range map[string]int{"postings": 2, "contract_charges": 2, "invoice_lines": 2} {
		if n := count(table); n != want {
			t.Errorf("%s: %d rows after appending, want %d", table, n, want)
		}
	}
}

// testLedger: Ledger lists postings newest first by every filter alone
// and together, pages with After and Limit, and reads each posting back
// with its rule, parameters, version, actor and time.
func testLedger(t *testing.T, s enrollment.Store) {
	ctx := context.Background()
	f1, f2 := SaveOffer(t, s, "L1", catalog.Certified), SaveOffer(t, s, "L2", catalog.Certified)
	c1, c2 := Child(t, "p-ledger-1"), Child(t, "p-ledger-2")
	c2.Municipality = "mo-2"
	c3 := Adult(t, "p-ledger-3", funding.MustDate(2025, time.August, 20))
	t0 := time.Date(2025, 9, 1, 9, 0, 0, 0, time.UTC)
	k1, k2 := ContractFor(t, c1, f1, t0), ContractFor(t, c2, f2, t0)
	k2.Municipality = "mo-2"
	post := func(c certificate.Certificate, k enrollment.Contract, kind funding.PostingKind, day int) enrollment.PostingRecord {
		p := enrollment.PostingRecord{ID: newID(t), CertificateID: c.ID, Period: SchoolYear, At: t0.AddDate(0, 0, day),
			Actor: "holder:" + c.Holder.PersonID, Rule: string(kind), Params: map[string]string{"day": strconv.Itoa(day)}, Rules: int64(day),
			Posting: funding.Posting{Kind: kind, Amount: funding.MustMoney("10.00")}}
		if k.ID != uuid.Nil {
			p.ContractID, p.Posting.HoldID = k.ID, k.HoldID
		}
		return p
	}
	none := enrollment.Contract{}
	// In id order, which is the order of the days.
	ps := []enrollment.PostingRecord{
		post(c1, none, funding.Grant, 0), post(c2, none, funding.Grant, 1), post(c3, none, funding.Grant, 2),
		post(c1, k1, funding.Reserve, 3), post(c2, k2, funding.Reserve, 4), post(c1, k1, funding.Charge, 5),
	}
	InTx(t, s, func(tx enrollment.Tx) error {
		for _, c := range []certificate.Certificate{c1, c2, c3} {
			if err := tx.InsertCertificate(ctx, c); err != nil {
				return err
			}
		}
		for _, k := range []enrollment.Contract{k1, k2} {
			if err := tx.InsertContract(ctx, k); err != nil {
				return err
			}
		}
		for _, p := range ps {
			if err := tx.AppendPosting(ctx, p); err != nil {
				return err
			}
		}
		return nil
	})
	ids := func(f enrollment.LedgerFilter) []uuid.UUID {
		t.Helper()
		if f.Limit == 0 {
			f.Limit = 50
		}
		got, err := s.Ledger(ctx, f)
		if err != nil {
			t.Fatalf("Ledger(%+v): %v", f, err)
		}
		out := []uuid.UUID{}
		for _, p := range got {
			out = append(out, p.ID)
		}
		return out
	}
	want := func(idx ...int) []uuid.UUID {
		out := []uuid.UUID{}
		for _, i := range idx {
			out = append(out, ps[i].ID)
		}
		return out
	}
	for name, tc := range map[string]struct {
		f    enrollment.LedgerFilter
		want []uuid.UUID
	}{
		"all":                                 {enrollment.LedgerFilter{}, want(5, 4, 3, 2, 1, 0)},
		"certificate":                         {enrollment.LedgerFilter{Certificate: c1.ID}, want(5, 3, 0)},
		"contract":                            {enrollment.LedgerFilter{Contract: k1.ID}, want(5, 3)},
		"provider":                            {enrollment.LedgerFilter{Provider: f2.Provider.ID}, want(4)},
		"municipality":                        {enrollment.LedgerFilter{Municipality: "mo-2"}, want(4, 1)},
		"scheme":                              {enrollment.LedgerFilter{Scheme: certificate.DigitalSkills}, want(2)},
		"children's scheme of mo-1":           {enrollment.LedgerFilter{Scheme: certificate.Supplementary, Municipality: "mo-1"}, want(5, 3, 0)},
		"time":                                {enrollment.LedgerFilter{From: t0.AddDate(0, 0, 1), To: t0.AddDate(0, 0, 4)}, want(3, 2, 1)},
		"provider and time":                   {enrollment.LedgerFilter{Provider: f1.Provider.ID, From: t0.AddDate(0, 0, 4)}, want(5)},
		"after":                               {enrollment.LedgerFilter{After: ps[3].ID}, want(2, 1, 0)},
		"certificate and contract of another": {enrollment.LedgerFilter{Certificate: c2.ID, Contract: k1.ID}, want()},
		"unknown contract":                    {enrollment.LedgerFilter{Contract: newID(t)}, want()},
		"provider of another municipality":    {enrollment.LedgerFilter{Provider: f1.Provider.ID, Municipality: "mo-2"}, want()},
	} {
		if got := ids(tc.f); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: %v, want %v", name, got, tc.want)
		}
	}
	// Pages of two, newest first, and nothing past the last.
	var pages [][]uuid.UUID
	after := uuid.Nil
	for range 4 {
		page := ids(enrollment.LedgerFilter{After: after, Limit: 2})
		if len(page) == 0 {
			break
		}
		pages = append(pages, page)
		after = page[len(page)-1]
	}
	if w := [][]uuid.UUID{want(5, 4), want(3, 2), want(1, 0)}; !reflect.DeepEqual(pages, w) {
		t.Errorf("pages %v, want %v", pages, w)
	}
	got, err := s.Ledger(ctx, enrollment.LedgerFilter{Contract: k1.ID, Limit: 1})
	if err != nil || len(got) != 1 {
		t.Fatalf("Ledger(contract, 1) = %v, %v", got, err)
	}
	g, w := got[0], ps[5]
	if g.ID != w.ID || g.CertificateID != w.CertificateID || g.ContractID != w.ContractID || g.Period != w.Period ||
		g.Posting.Kind != w.Posting.Kind || !g.Posting.Amount.Equal(w.Posting.Amount) || g.Posting.HoldID != w.Posting.HoldID ||
		!g.At.Equal(w.At) || g.Actor != w.Actor || g.Rule != w.Rule || !reflect.DeepEqual(g.Params, w.Params) || g.Rules != w.Rules {
		t.Errorf("posting read back:\n got %+v\nwant %+v", g, w)
	}
}

// testDecisions: a certificate's eligibility decision reads back as kept;
// a second is ErrExists, one of a certificate without any ErrNotFound.
func testDecisions(t *testing.T, s enrollment.Store) {
	ctx := context.Background()
	c := Child(t, "p-decision")
	d := enrollment.EligibilityDecision{CertificateID: c.ID, Scheme: c.Scheme, DecidedOn: c.IssuedOn,
		At: time.Date(2025, 8, 20, 10, 11, 12, 123456000, time.UTC), Actor: "municipality:mo-1", Rules: 3,
		Inputs:  map[string]string{"age": "10", "min_age": "5", "funding_municipality": "mo-1", "note": `"кавычки" и \ `},
		Checked: []string{certificate.RuleAgeBelowMinimum, certificate.RuleMunicipalityNotIn},
		Reasons: []certificate.Reason{{Rule: certificate.RuleAgeBelowMinimum, Message: "возраст «4»"}}}
	InTx(t, s, func(tx enrollment.Tx) error {
		if err := tx.InsertCertificate(ctx, c); err != nil {
			return err
		}
		return tx.SaveDecision(ctx, d)
	})
	if err := TryTx(s, func(tx enrollment.Tx) error { return tx.SaveDecision(ctx, d) }); !errors.Is(err, enrollment.ErrExists) {
		t.Errorf("a second decision: %v, want ErrExists", err)
	}
	InTx(t, s, func(tx enrollment.Tx) error {
		got, err := tx.Decision(ctx, c.ID)
		if err != nil {
			return err
		}
		if !got.At.Equal(d.At) {
			t.Errorf("At = %v, want %v", got.At, d.At)
		}
		got.At = d.At
		if !reflect.DeepEqual(got, d) {
			t.Errorf("Decision:\n got %+v\nwant %+v", got, d)
		}
		if _, err := tx.Decision(ctx, newID(t)); !errors.Is(err, enrollment.ErrNotFound) {
			t.Errorf("Decision(unknown) = %v, want ErrNotFound", err)
		}
		return nil
	})
}

// testInvoiceMoves: an invoice is read and locked by its key; its moves
// read back oldest first, through the Tx and the Pager, each invoice its
// own.
func testInvoiceMoves(t *testing.T, s enrollment.Store) {
	ctx := context.Background()
	f := SaveOffer(t, s, "I", catalog.Certified)
	c := Child(t, "p-invoice")
	k := ContractFor(t, c, f, time.Date(2025, 9, 10, 12, 0, 0, 0, time.UTC))
	sep := funding.Month{Year: 2025, Month: time.September}
	key := enrollment.InvoiceKey{Scheme: certificate.Supplementary, Municipality: "mo-1", ProviderID: f.Provider.ID, Month: sep, Kind: enrollment.AdvanceInvoice}
	final := key
	final.Kind = enrollment.FinalInvoice
	at := time.Date(2025, 10, 2, 9, 0, 0, 500000000, time.UTC)
	move := func(k enrollment.InvoiceKey, st enrollment.InvoiceStatus, amount string, minutes int) enrollment.InvoiceTransition {
		return enrollment.InvoiceTransition{ID: newID(t), Invoice: k, Status: st, Amount: funding.MustMoney(amount), Lines: 1,
			At: at.Add(time.Duration(minutes) * time.Minute), Actor: "municipality:mo-1"}
	}
	moves := []enrollment.InvoiceTransition{move(key, enrollment.InvoiceStatusAccepted, "1000.10", 0),
		move(final, enrollment.InvoiceStatusAccepted, "5.00", 1), move(key, enrollment.InvoiceStatusPaid, "1000.10", 2)}
	InTx(t, s, func(tx enrollment.Tx) error {
		if err := tx.InsertCertificate(ctx, c); err != nil {
			return err
		}
		if err := tx.InsertContract(ctx, k); err != nil {
			return err
		}
		if err := tx.AddInvoiceLine(ctx, enrollment.InvoiceLine{ContractID: k.ID, Scheme: key.Scheme, Municipality: key.Municipality,
			ProviderID: key.ProviderID, Month: sep, Kind: key.Kind, Amount: funding.MustMoney("1000.10")}); err != nil {
			return err
		}
		inv, err := tx.LockInvoice(ctx, key)
		if err != nil {
			return err
		}
		if inv.Key() != key || !inv.Amount.Equal(funding.MustMoney("1000.10")) || inv.Lines != 1 {
			t.Errorf("LockInvoice = %+v", inv)
		}
		if _, err := tx.LockInvoice(ctx, final); !errors.Is(err, enrollment.ErrNotFound) {
			t.Errorf("LockInvoice(no line) = %v, want ErrNotFound", err)
		}
		for _, m := range moves {
			if err := tx.AddInvoiceTransition(ctx, m); err != nil {
				return err
			}
		}
		return nil
	})
	same := func(what string, got, want []enrollment.InvoiceTransition) {
		t.Helper()
		if len(got) != len(want) {
			t.Fatalf("%s: %d moves, want %d: %+v", what, len(got), len(want), got)
		}
		for i := range want {
			g, w := got[i], want[i]
			if g.ID != w.ID || g.Invoice != w.Invoice || g.Status != w.Status || !g.Amount.Equal(w.Amount) || g.Lines != w.Lines ||
				!g.At.Equal(w.At) || g.Actor != w.Actor {
				t.Errorf("%s %d:\n got %+v\nwant %+v", what, i, g, w)
			}
		}
	}
	InTx(t, s, func(tx enrollment.Tx) error {
		got, err := tx.InvoiceTransitions(ctx, key)
		same("InvoiceTransitions", got, []enrollment.InvoiceTransition{moves[0], moves[2]})
		return err
	})
	all, err := s.InvoiceMoves(ctx, uuid.Nil, sep)
	if err != nil {
		t.Fatal(err)
	}
	same("InvoiceMoves", all, moves)
	if other, err := s.InvoiceMoves(ctx, newID(t), sep); err != nil || len(other) != 0 {
		t.Errorf("InvoiceMoves of another provider = %v, %v", other, err)
	}
	if next, err := s.InvoiceMoves(ctx, f.Provider.ID, sep.Next()); err != nil || len(next) != 0 {
		t.Errorf("InvoiceMoves of the next month = %v, %v", next, err)
	}
}
