package funding

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/google/uuid"
)

var holdA = uuid.MustParse("0190f5c2-0000-7000-8000-00000000000a")

func mustApply(t testing.TB, a Account, h Hold, p Posting) (Account, Hold) {
	t.Helper()
	a, h, err := a.Apply(p, h)
	noErr(t, err)
	noErr(t, a.Check())
	noErr(t, h.Check())
	return a, h
}

func eqAccount(t testing.TB, step string, a Account, nominal, balance, reserved, spent string) {
	t.Helper()
	eqMoney(t, step+" nominal", a.Nominal, MustMoney(nominal))
	eqMoney(t, step+" balance", a.Balance, MustMoney(balance))
	eqMoney(t, step+" reserved", a.Reserved, MustMoney(reserved))
	eqMoney(t, step+" spent", a.Spent, MustMoney(spent))
}

// The rules.md ledger of the priced 4-month example.
func TestLedgerRulesExample(t *testing.T) {
	price, err := PriceContract(exampleTerms())
	noErr(t, err)
	var a Account
	var h Hold
	a, h = mustApply(t, a, h, Posting{Kind: Grant, Amount: MustMoney("30000.00")})
	eqAccount(t, "grant", a, "30000.00", "30000.00", "0.00", "0.00")

	a, h = mustApply(t, a, h, Posting{Kind: Reserve, Amount: price.Cert, HoldID: holdA})
	eqAccount(t, "submit", a, "30000.00", "25978.02", "4021.98", "0.00")
	eq(t, "hold id", h.ID, holdA)

	a, h = mustApply(t, a, h, Posting{Kind: Charge, Amount: price.CertFirst, HoldID: holdA})
	eqAccount(t, "September", a, "30000.00", "25978.02", "3032.94", "989.04")

	a, h = mustApply(t, a, h, Posting{Kind: Charge, Amount: price.CertOther, HoldID: holdA})
	eqAccount(t, "1 October", a, "30000.00", "25978.02", "2021.96", "2000.02")
	eqMoney(t, "open", h.Open(), MustMoney("2021.96"))

	// Termination: the whole remaining reserve returns at once.
	a, h = mustApply(t, a, h, Posting{Kind: Release, Amount: h.Open(), HoldID: holdA})
	eqAccount(t, "terminate", a, "30000.00", "27999.98", "0.00", "2000.02")
	eqMoney(t, "open after", h.Open(), Zero)

	// Nothing more can be settled on the hold.
	_, _, err = a.Apply(Posting{Kind: Charge, Amount: Kopecks(1), HoldID: holdA}, h)
	isRefusal(t, err, ErrHoldOverSettled, "hold_over_settled")

	// October delivered 90%: the shortfall returns to the balance.
	short, err := Shortfall(price.CertOther, 90)
	noErr(t, err)
	eqMoney(t, "shortfall", short, MustMoney("101.10")) // 1010.98 − round2(909.882)
	a, h = mustApply(t, a, h, Posting{Kind: Refund, Amount: short, HoldID: holdA})
	eqAccount(t, "refund", a, "30000.00", "28101.08", "0.00", "1898.92")
	_ = h
}

func TestLedgerRefusals(t *testing.T) {
	base := Account{Nominal: MustMoney("100.00"), Balance: MustMoney("60.00"), Reserved: MustMoney("30.00"), Spent: MustMoney("10.00")}
	held := Hold{ID: holdA, Amount: MustMoney("40.00"), Charged: MustMoney("10.00")}
	other := uuid.MustParse("0190f5c2-0000-7000-8000-00000000000b")
	tests := []struct {
		name     string
		p        Posting
		h        Hold
		sentinel error
		code     string
	}{
		{"zero grant", Posting{Kind: Grant}, Hold{}, ErrNonPositiveAmount, "non_positive_amount"},
		{"negative charge", Posting{Kind: Charge, Amount: MustMoney("-1"), HoldID: holdA}, held, ErrNonPositiveAmount, "non_positive_amount"},
		{"zero adjust", Posting{Kind: Adjust}, Hold{}, ErrNonPositiveAmount, "non_positive_amount"},
		{"huge grant", Posting{Kind: Grant, Amount: MustMoney("999999999999.99")}, Hold{}, ErrAmountTooLarge, "amount_too_large"},
		{"adjust below balance", Posting{Kind: Adjust, Amount: MustMoney("-60.01")}, Hold{}, ErrInsufficientBalance, "insufficient_balance"},
		{"reserve over balance", Posting{Kind: Reserve, Amount: MustMoney("60.01"), HoldID: other}, Hold{}, ErrInsufficientBalance, "insufficient_balance"},
		{"reserve used hold", Posting{Kind: Reserve, Amount: MustMoney("1"), HoldID: holdA}, held, ErrHoldExists, "hold_exists"},
		{"reserve other hold", Posting{Kind: Reserve, Amount: MustMoney("1"), HoldID: other}, Hold{ID: holdA}, ErrHoldMismatch, "hold_mismatch"},
		{"reserve without id", Posting{Kind: Reserve, Amount: MustMoney("1")}, Hold{}, ErrHoldMismatch, "hold_mismatch"},
		{"grant with id", Posting{Kind: Grant, Amount: MustMoney("1"), HoldID: holdA}, Hold{}, ErrHoldMismatch, "hold_mismatch"},
		{"charge wrong hold", Posting{Kind: Charge, Amount: MustMoney("1"), HoldID: other}, held, ErrHoldMismatch, "hold_mismatch"},
		{"charge over hold", Posting{Kind: Charge, Amount: MustMoney("30.01"), HoldID: holdA}, held, ErrHoldOverSettled, "hold_over_settled"},
		{"release over hold", Posting{Kind: Release, Amount: MustMoney("30.01"), HoldID: holdA}, held, ErrHoldOverSettled, "hold_over_settled"},
		{"charge over reserve", Posting{Kind: Charge, Amount: MustMoney("30.01"), HoldID: holdA}, Hold{ID: holdA, Amount: MustMoney("50.00")}, ErrInsufficientReserve, "insufficient_reserve"},
		{"deplete over balance", Posting{Kind: Deplete, Amount: MustMoney("60.01")}, Hold{}, ErrInsufficientBalance, "insufficient_balance"},
		{"expire over balance", Posting{Kind: Expire, Amount: MustMoney("60.01")}, Hold{}, ErrInsufficientBalance, "insufficient_balance"},
		{"refund over charged", Posting{Kind: Refund, Amount: MustMoney("10.01"), HoldID: holdA}, held, ErrRefundOverCharged, "refund_over_charged"},
		{"refund over spent", Posting{Kind: Refund, Amount: MustMoney("10.01"), HoldID: holdA}, Hold{ID: holdA, Amount: MustMoney("40"), Charged: MustMoney("20")}, ErrInsufficientSpent, "insufficient_spent"},
		{"unknown", Posting{Kind: "bonus", Amount: MustMoney("1")}, Hold{}, ErrUnknownPosting, "unknown_posting"},
		{"broken hold", Posting{Kind: Release, Amount: MustMoney("1"), HoldID: holdA}, Hold{ID: holdA, Amount: MustMoney("1"), Charged: MustMoney("2")}, ErrHoldOverSettled, "hold_over_settled"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, h, err := base.Apply(tc.p, tc.h)
			isRefusal(t, err, tc.sentinel, tc.code)
			if a != base || h != tc.h {
				t.Fatalf("refusal changed its inputs: %+v %+v", a, h)
			}
		})
	}
	// A broken account is refused whatever the posting.
	broken := Account{Nominal: MustMoney("1"), Balance: MustMoney("2")}
	_, _, err := broken.Apply(Posting{Kind: Grant, Amount: MustMoney("1")}, Hold{})
	isRefusal(t, err, ErrLedgerInvariant, "ledger_invariant")
}

func TestLedgerRefusalMessageSaysTheAmounts(t *testing.T) {
	a := Account{Nominal: MustMoney("100"), Balance: MustMoney("100")}
	_, _, err := a.Apply(Posting{Kind: Reserve, Amount: MustMoney("4021.98"), HoldID: holdA}, Hold{})
	eq(t, "message", err.Error(), "insufficient balance: reserve 4021.98 exceeds balance 100.00")
}

func TestLedgerAdjust(t *testing.T) {
	a := Account{Nominal: MustMoney("30000"), Balance: MustMoney("25978.02"), Reserved: MustMoney("4021.98")}
	a, _ = mustApply(t, a, Hold{}, Posting{Kind: Adjust, Amount: MustMoney("-5000.00")})
	eqAccount(t, "cut", a, "25000.00", "20978.02", "4021.98", "0.00")
	a, _ = mustApply(t, a, Hold{}, Posting{Kind: Adjust, Amount: MustMoney("1000.00")})
	eqAccount(t, "raise", a, "26000.00", "21978.02", "4021.98", "0.00")
	a, _ = mustApply(t, a, Hold{}, Posting{Kind: Deplete, Amount: MustMoney("1978.02")})
	a, _ = mustApply(t, a, Hold{}, Posting{Kind: Expire, Amount: MustMoney("20000.00")})
	eqMoney(t, "depleted", a.Depleted, MustMoney("1978.02"))
	eqMoney(t, "expired", a.Expired, MustMoney("20000.00"))
	eqMoney(t, "balance", a.Balance, Zero)
}

// TestLedgerRandom drives thousands of random postings, valid and not, over
// an account with several holds. After each the invariant holds, a refused
// posting changed nothing, and the holds still add up to the account's
// reserve and spent.
func TestLedgerRandom(t *testing.T) {
	kinds := []PostingKind{Grant, Adjust, Reserve, Charge, Release, Deplete, Expire, Refund, "bogus"}
	applied := map[PostingKind]int{}
	for seed := uint64(1); seed <= 20; seed++ {
		rng := rand.New(rand.NewPCG(seed, 42))
		var a Account
		holds := make([]Hold, 6)
		ids := make([]uuid.UUID, len(holds))
		for i := range ids {
			ids[i] = uuid.NewSHA1(uuid.NameSpaceOID, fmt.Appendf(nil, "%d-%d", seed, i))
		}
		refused := 0
		var retired Money // net charged of holds whose slot was reused
		for step := 0; step < 2000; step++ {
			p := Posting{Kind: kinds[rng.IntN(len(kinds))], Amount: Kopecks(rng.Int64N(500_000) - 20_000)}
			if p.Kind == Adjust && rng.IntN(2) == 0 {
				p.Amount = p.Amount.Neg()
			}
			i := rng.IntN(len(holds))
			if p.Kind.needsHold() || rng.IntN(20) == 0 {
				p.HoldID = ids[i]
			}
			if rng.IntN(30) == 0 {
				p.HoldID = ids[(i+1)%len(ids)] // a posting for another hold
			}
			if rng.IntN(4) == 0 && holds[i].Open().IsPositive() && (p.Kind == Charge || p.Kind == Release) {
				p.Amount = Kopecks(rng.Int64N(holds[i].Open().Kopecks()) + 1) // mostly valid
			}
			na, nh, err := a.Apply(p, holds[i])
			if err != nil {
				refused++
				var re *RuleError
				if !errors.As(err, &re) || re.Code == "" {
					t.Fatalf("seed %d step %d: untyped refusal %v", seed, step, err)
				}
				if na != a || nh != holds[i] {
					t.Fatalf("seed %d step %d: refusal changed inputs", seed, step)
				}
				continue
			}
			if err := na.Check(); err != nil {
				t.Fatalf("seed %d step %d: %v after %+v", seed, step, err, p)
			}
			if err := nh.Check(); err != nil {
				t.Fatalf("seed %d step %d: hold %v after %+v", seed, step, err, p)
			}
			a, holds[i] = na, nh
			applied[p.Kind]++
			open, net := Zero, retired
			for _, h := range holds {
				open, net = open.Add(h.Open()), net.Add(h.Charged.Sub(h.Refunded))
			}
			if !open.Equal(a.Reserved) || !net.Equal(a.Spent) {
				t.Fatalf("seed %d step %d: holds open %s, net charged %s; account reserved %s, spent %s", seed, step, open, net, a.Reserved, a.Spent)
			}
			if rng.IntN(50) == 0 && holds[i].Open().IsZero() {
				retired = retired.Add(holds[i].Charged.Sub(holds[i].Refunded))
				holds[i] = Hold{} // the application is done; its slot takes a new one
				ids[i] = uuid.NewSHA1(uuid.NameSpaceOID, fmt.Appendf(nil, "%d-%d-%d", seed, i, step))
			}
		}
		if refused == 0 || refused == 2000 {
			t.Fatalf("seed %d: %d refusals: the generator does not exercise both paths", seed, refused)
		}
	}
	for _, k := range kinds[:8] {
		if applied[k] < 50 {
			t.Errorf("only %d %s postings applied: the generator is too weak", applied[k], k)
		}
	}
	t.Logf("applied: %v", applied)
}

func ExampleAccount_Apply() {
	price, _ := PriceContract(Terms{
		GroupStart: MustDate(2025, 9, 1), GroupEnd: MustDate(2026, 5, 31),
		Start: MustDate(2025, 9, 1), Period: CalendarYear(2025),
		ModulePrice: MustMoney("9000.00"), NormativePrice: MustMoney("9000.00"), Balance: MustMoney("30000.00"),
	})
	hold := uuid.MustParse("0190f5c2-0000-7000-8000-000000000001")
	steps := []struct {
		name string
		p    Posting
	}{
		{"grant", Posting{Kind: Grant, Amount: MustMoney("30000.00")}},
		{"submit", Posting{Kind: Reserve, Amount: price.Cert, HoldID: hold}},
		{"September", Posting{Kind: Charge, Amount: price.CertFirst, HoldID: hold}},
		{"1 October", Posting{Kind: Charge, Amount: price.CertOther, HoldID: hold}},
	}
	var a Account
	var h Hold
	for _, s := range steps {
		var err error
		if a, h, err = a.Apply(s.p, h); err != nil {
			panic(err)
		}
		fmt.Printf("%-9s balance %8s reserve %7s spent %7s (check: %v)\n", s.name, a.Balance, a.Reserved, a.Spent, a.Check())
	}
	// Output:
	// grant     balance 30000.00 reserve    0.00 spent    0.00 (check: <nil>)
	// submit    balance 25978.02 reserve 4021.98 spent    0.00 (check: <nil>)
	// September balance 25978.02 reserve 3032.94 spent  989.04 (check: <nil>)
	// 1 October balance 25978.02 reserve 2021.96 spent 2000.02 (check: <nil>)
}
