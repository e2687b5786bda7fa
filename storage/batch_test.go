package storage_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/edufund/edufund/catalog"
	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/enrollment/batch"
	"github.com/edufund/edufund/funding"
	"github.com/edufund/edufund/storage"
	"github.com/edufund/edufund/storage/storagetest"
)

// batchRegion is a region with a varied catalogue and varied certificates,
// built identically (up to ids) on any store.
type batchRegion struct {
	*region
	groups []catalog.Group
	certs  []certificate.Certificate
	ids    map[uuid.UUID]int // id → index of its kind, to compare regions
	names  map[string]string // id text → stable name
}

func newBatchRegion(t testing.TB, db *storage.DB, seed uint64) *batchRegion {
	t.Helper()
	ctx := context.Background()
	r := &batchRegion{region: newRegion(t, db, regionOpts{capacity: 4, budget: m("12000.00")}), names: map[string]string{}}
	name := func(id uuid.UUID, n string) { r.names[id.String()] = n }
	name(r.provider.ID, "provider")
	name(r.program.ID, "program-1")
	name(r.module.ID, "module-1")
	r.groups = append(r.groups, r.group, r.newGroup(3))
	m2, err := r.svc.SaveModule(ctx, r.key(), catalog.Module{
		ProgramID: r.program.ID, Name: "Year 2", Price: m("6000.00"), NormativePrice: m("5000.00"), Hours: 36,
	}, enrollment.AsSystem("test"))
	require.NoError(t, err)
	name(m2.ID, "module-2")
	r.module = m2
	r.groups = append(r.groups, r.newGroup(6))
	p2, err := r.svc.SaveProgram(ctx, r.key(), catalog.Program{
		ProviderID: r.provider.ID, Name: "Chess club", Scheme: certificate.Supplementary,
		Direction: catalog.Sport, Registry: catalog.Significant, MinAge: 5, MaxAge: 17,
		EnrolmentOpen: true, Municipality: mun,
	}, enrollment.AsSystem("test"))
	require.NoError(t, err)
	name(p2.ID, "program-2")
	m3, err := r.svc.SaveModule(ctx, r.key(), catalog.Module{
		ProgramID: p2.ID, Name: "Chess", Price: m("3000.00"), NormativePrice: m("3000.00"), Hours: 36,
	}, enrollment.AsSystem("test"))
	require.NoError(t, err)
	name(m3.ID, "module-3")
	r.module = m3
	r.groups = append(r.groups, r.newGroup(5))
	for i, g := range r.groups {
		name(g.ID, "group-"+strconv.Itoa(i))
	}
	_, err = r.svc.SaveCategory(ctx, r.key(), certificate.Category{Code: "small", Nominal: m("1500.00")}, enrollment.AsSystem("test"))
	require.NoError(t, err)

	rng := rand.New(rand.NewPCG(seed, 1))
	for i := range 14 {
		cat, funded, activate := "city", true, true
		switch rng.IntN(6) {
		case 0:
			cat = "small"
		case 1:
			funded = false
		case 2:
			activate = false
		}
		res, err := r.svc.Issue(ctx, r.key(), enrollment.IssueRequest{
			Holder: certificate.Holder{
				PersonID: fmt.Sprintf("batch-person-%d-%s", i, uuid.NewString()[:8]), FullName: fmt.Sprintf("Петров Иван %d", i),
				BirthDate: funding.MustDate(2014, time.May, 2), Sex: certificate.Male, Citizenship: "RU",
				Region: "reg-1", Municipality: mun, Registration: certificate.Permanent,
			},
			GuardianID: "parent-1", Category: cat, Funded: funded,
			By: enrollment.AsSystem("test"),
		})
		require.NoError(t, err)
		c := res.Certificate
		if activate {
			c, err = r.svc.ChangeStatus(ctx, r.key(), c.ID, enrollment.ActivateCertificate, enrollment.AsSystem("operator"))
			require.NoError(t, err)
		}
		name(c.ID, "cert-"+strconv.Itoa(i))
		r.certs = append(r.certs, c)
	}
	// One certificate suspended.
	c, err := r.svc.ChangeStatus(ctx, r.key(), r.certs[3].ID, enrollment.SuspendCertificate, enrollment.AsSystem("operator"))
	if err == nil {
		r.certs[3] = c
	}
	// Mid-October: the first submission of each certificate depletes part
	// of its nominal.
	r.at(2025, time.October, 15)
	return r
}

// batchOp is one application of the workload, by index.
type batchOp struct {
	key           string
	cert, group   int // -1: an unknown id
	coPay         bool
	actor         string
	unknownIDText uuid.UUID
}

func batchWorkload(seed uint64, n, certs, groups int) []batchOp {
	rng := rand.New(rand.NewPCG(seed, 2))
	var ops []batchOp
	for i := range n {
		op := batchOp{key: "op-" + strconv.Itoa(i), cert: rng.IntN(certs), group: rng.IntN(groups), coPay: rng.IntN(3) == 0, actor: "parent"}
		switch x := rng.IntN(20); {
		case x == 0:
			op.cert = -1
		case x == 1:
			op.group = -1
		case x < 5 && i > 0:
			// The same key again: mostly the same request (a retry),
			// sometimes another (a conflict).
			prev := ops[rng.IntN(len(ops))]
			op.key = prev.key
			if rng.IntN(3) > 0 {
				op = prev
			}
		}
		op.unknownIDText = uuid.NewSHA1(uuid.NameSpaceOID, []byte(op.key))
		ops = append(ops, op)
	}
	return ops
}

func (r *batchRegion) request(op batchOp) enrollment.SubmitRequest {
	req := enrollment.SubmitRequest{CoPayAccepted: op.coPay, By: enrollment.AsSystem(op.actor)}
	if op.cert < 0 {
		req.CertificateID = op.unknownIDText
	} else {
		req.CertificateID = r.certs[op.cert].ID
	}
	if op.group < 0 {
		req.GroupID = op.unknownIDText
	} else {
		req.GroupID = r.groups[op.group].ID
	}
	return req
}

// outcome is what a request's answer must agree on across the two paths.
func (r *batchRegion) outcome(c enrollment.Contract, err error) string {
	if err != nil {
		var re *funding.RuleError
		if errors.As(err, &re) {
			return "refused " + re.Code
		}
		return "error " + err.Error()
	}
	return fmt.Sprintf("ok %s %s %s %s cert=%s copay=%s %s..%s", r.names[c.CertificateID.String()], r.names[c.GroupID.String()],
		c.Status, c.Period, c.Price.Cert, c.Price.CoPay, c.Start, c.End)
}

// state is the region's accounts and counters with ids replaced by names.
func (r *batchRegion) state(t testing.TB) []string {
	t.Helper()
	ctx := context.Background()
	var out []string
	type acct struct {
		CertificateID                         string
		PeriodStart                           string
		Nominal, Balance, Held, Depleted, Exp int64
		Fixed                                 bool
	}
	var accts []acct
	require.NoError(t, r.db.Bun().NewRaw(`SELECT certificate_id, period_start, nominal, balance, held, depleted, expired AS exp, fixed FROM accounts`).Scan(ctx, &accts))
	for _, a := range accts {
		out = append(out, fmt.Sprintf("account %s %s %d %d %d %d %d %v", r.rename(a.CertificateID), a.PeriodStart[:10], a.Nominal, a.Balance, a.Held, a.Depleted, a.Exp, a.Fixed))
	}
	type ctr struct {
		Key       string
		Used, Lim int64
	}
	var ctrs []ctr
	require.NoError(t, r.db.Bun().NewRaw(`SELECT key, used, lim FROM counters`).Scan(ctx, &ctrs))
	for _, c := range ctrs {
		if c.Used == 0 && c.Lim == enrollment.Unlimited {
			continue // absent and unlimited-unused are the same counter
		}
		out = append(out, fmt.Sprintf("counter %s %d %d", r.rename(c.Key), c.Used, c.Lim))
	}
	var n struct{ Contracts, Postings, Holds, Keys int }
	require.NoError(t, r.db.Bun().NewRaw(`SELECT (SELECT COUNT(*) FROM contracts) AS contracts, (SELECT COUNT(*) FROM postings) AS postings,
		(SELECT COUNT(*) FROM holds) AS holds, (SELECT COUNT(*) FROM idempotency WHERE key LIKE 'op-%') AS keys`).Scan(ctx, &n))
	out = append(out, fmt.Sprintf("rows %+v", n))
	sort.Strings(out)
	return out
}

func (r *batchRegion) rename(s string) string {
	for id, n := range r.names {
		s = strings.ReplaceAll(s, id, n)
	}
	return s
}

// TestBatchEquivalence runs one seeded workload item by item through
// Service.Submit on one region and in batches through batch.Submit on an
// identical one: every answer and the final accounts and counters agree.
// lockedOnly is a store whose batches always run under locks: the path an
// optimistic batch falls back to, tested on its own.
type lockedOnly struct{ *storage.DB }

func (lockedOnly) OptimisticBatches() bool { return false }

func TestBatchEquivalence(t *testing.T) {
	for _, kind := range storagetest.Kinds() {
		t.Run(kind, func(t *testing.T) {
			for _, c := range []struct {
				seed   uint64
				locked bool
			}{{1, false}, {2, false}, {3, true}} {
				seed := c.seed
				name := "seed-" + strconv.FormatUint(seed, 10)
				if c.locked {
					name += "-locked"
				}
				t.Run(name, func(t *testing.T) {
					ctx := context.Background()
					one := newBatchRegion(t, storagetest.Open(t, kind), seed)
					bat := newBatchRegion(t, storagetest.Open(t, kind), seed)
					if c.locked {
						bat.svc = enrollment.NewService(lockedOnly{bat.db}, bat.clock, bat.svc.Config())
					}
					ops := batchWorkload(seed, 160, len(one.certs), len(one.groups))
					var want []string
					for _, op := range ops {
						want = append(want, one.outcome(one.svc.Submit(ctx, op.key, one.request(op))))
					}
					rng := rand.New(rand.NewPCG(seed, 3))
					var got []string
					for rest := ops; len(rest) > 0; {
						n := min(len(rest), 1+rng.IntN(40))
						items := make([]batch.Item, n)
						for i, op := range rest[:n] {
							items[i] = batch.Item{Key: op.key, Request: bat.request(op)}
						}
						for _, res := range batch.Submit(ctx, bat.svc, items) {
							require.False(t, res.Alone, "every application runs in the batch")
							got = append(got, bat.outcome(res.Contract, res.Err))
						}
						rest = rest[n:]
					}
					for i := range ops {
						require.Equal(t, want[i], got[i], "op %d %+v", i, ops[i])
					}
					var accepted int
					for _, w := range want {
						if strings.HasPrefix(w, "ok") {
							accepted++
						}
					}
					require.Greater(t, accepted, 5, "the workload exercises acceptance")
					if testing.Verbose() {
						seen := map[string]int{}
						for _, w := range want {
							seen[strings.Join(strings.Fields(w)[:2], " ")]++
						}
						t.Logf("outcomes: %v", seen)
					}
					require.Equal(t, one.state(t), bat.state(t))
					checkInvariants(t, one.db)
					checkInvariants(t, bat.db)
					require.NoError(t, storage.CheckInvariants(ctx, bat.db))
				})
			}
		})
	}
}

// TestBatcherSeatsRace sends 200 concurrent submissions through a Batcher
// to a 15-seat group under a budget for 12 of them: exactly 12 live
// contracts result, the budget is not exceeded by a kopeck.
func TestBatcherSeatsRace(t *testing.T) {
	ctx := context.Background()
	// 4021.98 each on 1 September (rules.md's example).
	for _, tc := range []struct {
		name   string
		budget funding.Money
		want   int
		full   error
	}{
		{"seats", funding.Zero, 15, enrollment.ErrGroupFull},
		{"budget", m("48263.76"), 12, enrollment.ErrBudgetLimit},
	} {
		// A subtest of its own per case: a repeated subtest name gets a
		// "#01" suffix, and storagetest's file DSN would cut the path there.
		t.Run(tc.name, func(t *testing.T) {
			storagetest.Each(t, func(t *testing.T, db *storage.DB) {
				r := newRegion(t, db, regionOpts{capacity: 15, budget: tc.budget})
				const n = 200
				certs := make([]certificate.Certificate, n)
				for i := range certs {
					certs[i] = r.child(i)
				}
				b := batch.NewBatcher(r.svc, batch.BatcherOptions{MaxBatch: 64, Flushers: 3})
				var ok, full atomic.Int32
				var other sync.Map
				start := make(chan struct{})
				var wg sync.WaitGroup
				for i := range n {
					wg.Go(func() {
						<-start
						_, err := b.Submit(ctx, tc.name+"-seat-"+strconv.Itoa(i), enrollment.SubmitRequest{CertificateID: certs[i].ID, GroupID: r.group.ID, By: enrollment.AsSystem("test")})
						switch {
						case err == nil:
							ok.Add(1)
						case errors.Is(err, tc.full):
							full.Add(1)
						default:
							other.Store(i, err)
						}
					})
				}
				close(start)
				wg.Wait()
				b.Close()
				other.Range(func(k, v any) bool { t.Errorf("%s: submission %v: %v", tc.name, k, v); return true })
				require.EqualValues(t, tc.want, ok.Load(), tc.name)
				require.EqualValues(t, n-tc.want, full.Load(), tc.name)
				var live int
				require.NoError(t, db.Bun().NewRaw(`SELECT COUNT(*) FROM contracts WHERE group_id = ? AND status = 'requested'`, r.group.ID).Scan(ctx, &live))
				require.Equal(t, tc.want, live, tc.name)
				_, err := b.Submit(ctx, "late", enrollment.SubmitRequest{CertificateID: certs[0].ID, GroupID: r.group.ID, By: enrollment.AsSystem("test")})
				require.ErrorIs(t, err, batch.ErrClosed)
				checkInvariants(t, db)
			})
		})
	}
}
