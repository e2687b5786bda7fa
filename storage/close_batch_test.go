package storage_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
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

// closeScenario is a region with contracts in every state the monthly close
// meets, built by the same script on any store so that two stores can be
// compared row for row through stable names (person ids, group names).
type closeScenario struct {
	r      *region
	groups map[string]catalog.Group
	certs  []certificate.Certificate
	byName map[string]enrollment.Contract
}

// newActiveScenario is a close scenario on 1 September 2025 with n
// contracts made active, "0/long" to "n-1/long".
func newActiveScenario(t *testing.T, db *storage.DB, n int) *closeScenario {
	s := newCloseScenario(t, db)
	s.r.at(2025, time.September, 1)
	for i := range n {
		s.submit(t, i, "long", enrollment.Active)
	}
	return s
}

// closeOctober closes October 2025 (on its 1st) by pages of 100 through a
// service over store, and counts the pages that fell back to the
// per-contract path.
func (s *closeScenario) closeOctober(t *testing.T, store enrollment.Store) (enrollment.CloseReport, int32) {
	svc := enrollment.NewService(store, s.r.clock, s.r.svc.Config())
	s.r.at(2025, time.October, 1)
	var fallbacks atomic.Int32 // pages run on workers
	opts := batch.CloseOptions{PageSize: 100, OnFallback: func(uuid.UUID, error) { fallbacks.Add(1) }}
	rep, err := batch.CloseMonth(context.Background(), svc, funding.Month{Year: 2025, Month: time.October}, opts)
	require.NoError(t, err)
	return rep, fallbacks.Load()
}

func newCloseScenario(t *testing.T, db *storage.DB) *closeScenario {
	t.Helper()
	ctx := context.Background()
	r := newRegion(t, db, regionOpts{capacity: 50, budget: m("1000000.00")})
	s := &closeScenario{r: r, groups: map[string]catalog.Group{}, byName: map[string]enrollment.Contract{}}
	mod2, err := r.svc.SaveModule(ctx, r.key(), catalog.Module{
		ProgramID: r.program.ID, Name: "Year 1, part 2", Price: m("6000.00"), NormativePrice: m("6000.00"), Hours: 36,
	}, enrollment.AsSystem("test"))
	require.NoError(t, err)
	group := func(name string, mod catalog.Module, start, end funding.Date) {
		g, err := r.svc.SaveGroup(ctx, r.key(), catalog.Group{ModuleID: mod.ID, Name: name, Start: start, End: end, Capacity: 50}, enrollment.AsSystem("test"))
		require.NoError(t, err)
		s.groups[name] = g
	}
	group("long", r.module, funding.MustDate(2025, time.September, 1), funding.MustDate(2026, time.May, 31))
	group("short", mod2, funding.MustDate(2025, time.September, 1), funding.MustDate(2025, time.October, 31))
	group("late", mod2, funding.MustDate(2025, time.October, 1), funding.MustDate(2026, time.May, 31))
	for i := range 12 {
		res, err := r.svc.Issue(ctx, r.key(), enrollment.IssueRequest{
			Holder: certificate.Holder{
				PersonID: fmt.Sprintf("close-person-%02d", i), FullName: fmt.Sprintf("Петров Иван %d", i),
				BirthDate: funding.MustDate(2014, time.May, 3), Sex: certificate.Male, Citizenship: "RU",
				Region: "reg-1", Municipality: mun, Registration: certificate.Permanent,
			},
			GuardianID: "parent-1", Category: "city", Funded: true,
			By: enrollment.AsSystem("test"),
		})
		require.NoError(t, err)
		c, err := r.svc.ChangeStatus(ctx, r.key(), res.Certificate.ID, enrollment.ActivateCertificate, enrollment.AsSystem("operator"))
		require.NoError(t, err)
		s.certs = append(s.certs, c)
	}
	return s
}

// submit applies for person i to a group; to is how far the contract goes
// on the current day: requested, accepted or active.
func (s *closeScenario) submit(t *testing.T, i int, group string, to enrollment.Status) {
	t.Helper()
	ctx := context.Background()
	r := s.r
	c, err := r.svc.Submit(ctx, r.key(), enrollment.SubmitRequest{CertificateID: s.certs[i].ID, GroupID: s.groups[group].ID, By: enrollment.AsHolder("parent-1")})
	require.NoError(t, err)
	if to != enrollment.Requested {
		c, err = r.svc.Confirm(ctx, r.key(), enrollment.ContractRequest{ContractID: c.ID, By: enrollment.AsProvider(r.provider.ID)})
		require.NoError(t, err)
	}
	if to == enrollment.Active {
		c = s.activate(t, c)
	}
	s.byName[fmt.Sprintf("%d/%s", i, group)] = c
}

func (s *closeScenario) activate(t *testing.T, c enrollment.Contract) enrollment.Contract {
	t.Helper()
	c, err := s.r.svc.Accept(context.Background(), s.r.key(), enrollment.ContractRequest{ContractID: c.ID, By: enrollment.AsHolder("parent-1")})
	require.NoError(t, err)
	return c
}

// run plays the scenario from September 2025 to February 2026, closing
// each month with closeMonth (on its 1st) and checking the invariants after
// each close.
func (s *closeScenario) run(t *testing.T, closeMonth func(m funding.Month) enrollment.CloseReport) []enrollment.CloseReport {
	t.Helper()
	ctx := context.Background()
	r := s.r
	var reps []enrollment.CloseReport
	doClose := func(y int, mo time.Month) {
		r.at(y, mo, 1)
		reps = append(reps, closeMonth(funding.Month{Year: y, Month: mo}))
		checkInvariants(t, r.db)
	}
	r.at(2025, time.September, 1)
	for i := range 8 {
		s.submit(t, i, "long", enrollment.Active) // active, started earlier
	}
	s.submit(t, 8, "short", enrollment.Active) // ends in October
	s.submit(t, 0, "short", enrollment.Active) // a second contract of one certificate
	s.submit(t, 9, "long", enrollment.Requested)
	s.submit(t, 10, "long", enrollment.Accepted)
	s.submit(t, 11, "short", enrollment.Requested)
	r.at(2025, time.September, 20)
	s.submit(t, 11, "long", enrollment.Accepted) // activated mid-October below
	doClose(2025, time.October)

	r.at(2025, time.October, 2)
	s.submit(t, 1, "late", enrollment.Active) // started in October, activated in October
	r.at(2025, time.October, 15)
	s.activate(t, s.byName["11/long"])
	r.at(2025, time.October, 20)
	_, err := r.svc.Terminate(ctx, r.key(), enrollment.ContractRequest{ContractID: s.byName["2/long"].ID, By: enrollment.AsHolder("parent-1")})
	require.NoError(t, err)
	doClose(2025, time.November) // closes short ones and the terminated one; refuses the back-dated
	doClose(2025, time.December)
	doClose(2026, time.January) // every autumn contract ends with its period
	doClose(2026, time.February)
	return reps
}

// fingerprint is the stored result of a region in names that do not depend
// on generated ids.
func fingerprint(t *testing.T, db *storage.DB) map[string][]string {
	t.Helper()
	ctx := context.Background()
	who := `(SELECT x.person_id FROM certificates x WHERE x.id = %s)`
	grp := `(SELECT g.name FROM study_groups g WHERE g.id = k.group_id)`
	queries := map[string]string{
		"accounts": `SELECT ` + fmt.Sprintf(who, "a.certificate_id") + ` || '|' || CAST(a.period_start AS TEXT) || '|' || a.nominal || '|' || a.balance
			|| '|' || a.held || '|' || a.depleted || '|' || a.expired FROM accounts a`,
		"contracts": `SELECT ` + fmt.Sprintf(who, "k.certificate_id") + ` || '|' || ` + grp + ` || '|' || k.status || '|' || COALESCE(CAST(k.closed_on AS TEXT), '-')
			FROM contracts k`,
		"holds": `SELECT ` + fmt.Sprintf(who, "k.certificate_id") + ` || '|' || ` + grp + ` || '|' || h.amount || '|' || h.charged || '|' || h.released || '|' || h.refunded
			FROM holds h JOIN contracts k ON k.hold_id = h.id`,
		"charges": `SELECT ` + fmt.Sprintf(who, "k.certificate_id") + ` || '|' || ` + grp + ` || '|' || c.month || '|' || c.amount
			FROM contract_charges c JOIN contracts k ON k.id = c.contract_id`,
		"postings": `SELECT ` + fmt.Sprintf(who, "p.certificate_id") + ` || '|' || COALESCE(` + grp + `, '-') || '|' || p.kind || '|' || COALESCE(p.month, '-')
			|| '|' || p.amount || '|' || CAST(p.at AS TEXT) || '|' || p.actor || '|' || p.rule || '|' || p.params
			FROM postings p LEFT JOIN contracts k ON k.id = p.contract_id`,
		"lines": `SELECT ` + fmt.Sprintf(who, "k.certificate_id") + ` || '|' || ` + grp + ` || '|' || l.month || '|' || l.kind || '|' || l.amount
			FROM invoice_lines l JOIN contracts k ON k.id = l.contract_id`,
		// PostgreSQL has no foreign key from charges to contracts (00007):
		// a charge is written only under its contract's lock.
		"charges without their contract": `SELECT c.contract_id || '|' || c.month FROM contract_charges c
			WHERE NOT EXISTS (SELECT 1 FROM contracts k WHERE k.id = c.contract_id)`,
		"invoices": `SELECT i.municipality || '|' || i.month || '|' || i.kind || '|' || i.amount || '|' || i.lines FROM invoices i`,
		"budget":   `SELECT c.key || '|' || c.used FROM counters c WHERE c.key LIKE 'budget:%' OR c.key LIKE 'direction:%'`,
	}
	out := map[string][]string{}
	for name, q := range queries {
		var rows []string
		require.NoError(t, db.Bun().NewRaw(q+` ORDER BY 1`).Scan(ctx, &rows), name)
		out[name] = rows
	}
	return out
}

func sameReports(t *testing.T, want, got []enrollment.CloseReport) {
	t.Helper()
	require.Len(t, got, len(want))
	for i := range want {
		w, g := want[i], got[i]
		require.Empty(t, g.Failed, "close %s", w.Month)
		require.Equal(t, w.Month, g.Month)
		require.Equal(t, w.Contracts, g.Contracts, "contracts of %s", w.Month)
		require.Equal(t, w.Charged, g.Charged, "charged in %s", w.Month)
		require.Equal(t, w.Amount.String(), g.Amount.String(), "amount of %s", w.Month)
		require.Equal(t, w.Closed, g.Closed, "closed in %s", w.Month)
		require.Equal(t, w.Refused, g.Refused, "refused in %s", w.Month)
		require.Equal(t, w.Lines, g.Lines, "lines of %s", w.Month)
	}
}

// TestCloseBatchedEquivalence closes the same region month by month through
// the per-contract path in one store and the batched path (pages of 3, so
// that pages split and closings are deferred mid-page; two pages at once)
// in another: the
// reports, accounts, holds, postings, charges, invoice lines, invoices,
// statuses and budget use are identical; a second batched run of each month
// changes nothing; the invariants hold after every close.
func TestCloseBatchedEquivalence(t *testing.T) {
	for _, kind := range storagetest.Kinds() {
		t.Run(kind, func(t *testing.T) {
			ctx := context.Background()
			perDB := storagetest.Open(t, kind)
			per := newCloseScenario(t, perDB)
			want := per.run(t, func(mo funding.Month) enrollment.CloseReport {
				rep, err := per.r.svc.CloseMonth(ctx, mo, nil)
				require.NoError(t, err)
				return rep
			})
			require.Positive(t, want[0].Charged)
			require.Positive(t, want[1].Closed)
			require.Positive(t, want[1].Refused)

			batDB := storagetest.Open(t, kind)
			bat := newCloseScenario(t, batDB)
			got := bat.run(t, func(mo funding.Month) enrollment.CloseReport {
				var fell error
				opts := batch.CloseOptions{PageSize: 3, Workers: 2, OnFallback: func(_ uuid.UUID, err error) { fell = err }}
				rep, err := batch.CloseMonth(ctx, bat.r.svc, mo, opts)
				require.NoError(t, err)
				require.NoError(t, fell, "a page fell back to the per-contract path")
				before := fingerprint(t, batDB)
				require.Empty(t, before["charges without their contract"])
				again, err := batch.CloseMonth(ctx, bat.r.svc, mo, opts)
				require.NoError(t, err)
				require.Zero(t, again.Charged, "a second run charges nothing")
				require.Zero(t, again.Lines)
				require.Zero(t, again.Closed)
				require.Zero(t, again.Refused)
				require.Equal(t, before, fingerprint(t, batDB), "a second run changes nothing")
				return rep
			})
			sameReports(t, want, got)
			fp := fingerprint(t, batDB)
			require.Empty(t, fp["charges without their contract"])
			require.NotEmpty(t, fp["charges"])
			require.Equal(t, fingerprint(t, perDB), fp)
		})
	}
}

// TestCloseBatchedResume cancels each batched close after its first page
// and runs it again: the region ends exactly as after one clean run.
func TestCloseBatchedResume(t *testing.T) {
	for _, kind := range storagetest.Kinds() {
		t.Run(kind, func(t *testing.T) {
			ctx := context.Background()
			cleanDB := storagetest.Open(t, kind)
			clean := newCloseScenario(t, cleanDB)
			want := clean.run(t, func(mo funding.Month) enrollment.CloseReport {
				rep, err := batch.CloseMonth(ctx, clean.r.svc, mo, batch.CloseOptions{PageSize: 4})
				require.NoError(t, err)
				return rep
			})

			db := storagetest.Open(t, kind)
			s := newCloseScenario(t, db)
			got := s.run(t, func(mo funding.Month) enrollment.CloseReport {
				cctx, cancel := context.WithCancel(ctx)
				defer cancel()
				first, err := batch.CloseMonth(cctx, s.r.svc, mo, batch.CloseOptions{PageSize: 4, Progress: func(enrollment.CloseReport) { cancel() }})
				if err == nil {
					require.Zero(t, first.Contracts, "a close with pages ran to its end after the cancel")
				} else {
					require.True(t, errors.Is(err, context.Canceled), "cancelled close: %v", err)
				}
				rest, err := batch.CloseMonth(ctx, s.r.svc, mo, batch.CloseOptions{PageSize: 4})
				require.NoError(t, err)
				// The two runs together did what one clean run does.
				rest.Charged += first.Charged
				rest.Amount = rest.Amount.Add(first.Amount)
				rest.Closed += first.Closed
				rest.Refused += first.Refused
				rest.Lines += first.Lines
				rest.Contracts = -1
				return rest
			})
			for i := range got {
				got[i].Contracts = want[i].Contracts
			}
			sameReports(t, want, got)
			require.Equal(t, fingerprint(t, cleanDB), fingerprint(t, db))
		})
	}
}

// TestCloseBatchedFallback breaks one contract's hold so that its page's
// bulk transaction fails: the page is closed contract by contract, the bad
// contract alone fails, and the others are charged. With pages of 2 and two
// workers, the page that falls back is listed by its range (the pager
// bounds pages by their last id and lists none), so exactly its contracts
// are closed one by one and the other pages stay in bulk.
func TestCloseBatchedFallback(t *testing.T) {
	for _, tc := range []struct {
		name      string
		opts      batch.CloseOptions
		wantLines int // 0: not checked
	}{
		{"one page", batch.CloseOptions{PageSize: 100}, 0},
		{"mid page", batch.CloseOptions{PageSize: 2, Workers: 2}, 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			storagetest.Each(t, func(t *testing.T, db *storage.DB) {
				ctx := context.Background()
				s := newActiveScenario(t, db, 6)
				bad := s.byName["3/long"]
				// The contract points at a hold that does not exist.
				_, err := db.Bun().NewRaw(`UPDATE contracts SET hold_id = ? WHERE id = ?`, uuid.New().String(), bad.ID.String()).Exec(ctx)
				require.NoError(t, err)
				s.r.at(2025, time.October, 1)
				var fallbacks atomic.Int32
				opts := tc.opts
				opts.OnFallback = func(uuid.UUID, error) { fallbacks.Add(1) }
				rep, err := batch.CloseMonth(ctx, s.r.svc, funding.Month{Year: 2025, Month: time.October}, opts)
				require.NoError(t, err)
				require.EqualValues(t, 1, fallbacks.Load())
				require.Len(t, rep.Failed, 1)
				require.Contains(t, rep.Failed, bad.ID)
				require.Equal(t, 5, rep.Charged)
				require.Equal(t, 6, rep.Contracts)
				if tc.wantLines > 0 {
					require.Equal(t, tc.wantLines, rep.Lines, "two lines for each contract but the failed one")
				}
			})
		})
	}
}

// TestCloseBatchedMovedHold: on PostgreSQL the page's write finds each
// hold by the tuple id the lock statement read. The contract's lock keeps
// every operation of this library off the hold meanwhile; a hold moved
// anyway, by a transaction that commits between the page's lock and its
// write, is not charged at a stale place: at the default isolation the page
// falls back to the per-contract path; in the portable profile, which finds
// holds by id and runs serializable, the page is retried; either way each
// contract is charged once.
func TestCloseBatchedMovedHold(t *testing.T) {
	for _, kind := range storagetest.Kinds() {
		if kind != storagetest.Postgres && kind != storagetest.PostgresPortable {
			continue
		}
		t.Run(kind, func(t *testing.T) {
			ctx := context.Background()
			db := storagetest.Open(t, kind)
			s := newActiveScenario(t, db, 4)
			moved := s.byName["1/long"].HoldID
			ctid := func() string {
				var v string
				require.NoError(t, db.Bun().NewRaw(`SELECT ctid::text FROM holds WHERE id = ?`, moved.String()).Scan(ctx, &v))
				return v
			}
			before := ctid()
			var once sync.Once
			store := &hookedStore{DB: db, afterLock: func() {
				once.Do(func() {
					_, err := db.Bun().NewRaw(`UPDATE holds SET refunded = refunded WHERE id = ?`, moved.String()).Exec(ctx)
					require.NoError(t, err)
				})
			}}
			rep, fallbacks := s.closeOctober(t, store)
			require.NotEqual(t, before, ctid(), "the hold did not move: the test tests nothing")
			require.Empty(t, rep.Failed)
			require.Equal(t, 4, rep.Charged)
			if kind == storagetest.Postgres {
				require.EqualValues(t, 1, fallbacks, "the page must fall back, not charge a stale tuple")
			}
			var charges int
			require.NoError(t, db.Bun().NewRaw(`SELECT count(*) FROM postings WHERE hold_id = ? AND kind = 'charge' AND month = '2025-10'`, moved.String()).Scan(ctx, &charges))
			require.Equal(t, 1, charges)
			checkInvariants(t, db)
		})
	}
}

// hookedStore runs afterLock after each page's contracts are locked and
// beforeWrite on each page's postings before they are written (either may
// be nil).
type hookedStore struct {
	*storage.DB
	afterLock   func()
	beforeWrite func([]enrollment.PostingRecord)
	onLock      func(written bool) // before each page is read
}

func (m *hookedStore) InCloseTx(ctx context.Context, fn func(ctx context.Context, tx batch.CloseTx) error) error {
	return m.DB.InCloseTx(ctx, func(ctx context.Context, tx batch.CloseTx) error {
		return fn(ctx, hookedTx{tx, m})
	})
}

type hookedTx struct {
	batch.CloseTx
	hooks *hookedStore
}

func (m hookedTx) LockContracts(ctx context.Context, statuses []enrollment.Status, after, through uuid.UUID, limit int, month funding.Month, written bool) ([]batch.LockedContract, error) {
	if m.hooks.onLock != nil {
		m.hooks.onLock(written)
	}
	cs, err := m.CloseTx.LockContracts(ctx, statuses, after, through, limit, month, written)
	if err == nil && m.hooks.afterLock != nil {
		m.hooks.afterLock()
	}
	return cs, err
}

func (m hookedTx) ClosePage(ctx context.Context, ps []enrollment.PostingRecord, ls []enrollment.InvoiceLine) error {
	if m.hooks.beforeWrite != nil {
		m.hooks.beforeWrite(ps)
	}
	return m.CloseTx.ClosePage(ctx, ps, ls)
}

// TestCloseBatchedReadsWrittenAfterAConflict: pages are read without what
// they hold of the month's close (a probe of the charges and lines per
// contract) until one fails on a charge written already; that page is read
// again with it, and so are the pages after it until one holds nothing.
// Contract 2 of ten, closed by the per-contract path first, is in the
// second page of two: pages 1 and 2 are read bare, page 2 again with what
// it holds, page 3 with it too (page 2 held something), and page 3 holding
// nothing, pages 4, 5 and the empty read after them bare. No page falls
// back, and every contract is charged October once.
func TestCloseBatchedReadsWrittenAfterAConflict(t *testing.T) {
	for _, kind := range storagetest.Kinds() {
		t.Run(kind, func(t *testing.T) {
			ctx := context.Background()
			db := storagetest.Open(t, kind)
			s := newActiveScenario(t, db, 10)
			s.r.at(2025, time.October, 1)
			oct := funding.Month{Year: 2025, Month: time.October}
			var one enrollment.CloseReport
			require.NoError(t, s.r.svc.CloseContract(ctx, s.byName["2/long"].ID, oct, &one))
			require.Equal(t, 1, one.Charged)

			var reads []bool
			store := &hookedStore{DB: db, onLock: func(written bool) { reads = append(reads, written) }}
			svc := enrollment.NewService(store, s.r.clock, s.r.svc.Config())
			var fallbacks []error
			rep, err := batch.CloseMonth(ctx, svc, oct, batch.CloseOptions{PageSize: 2, OnFallback: func(_ uuid.UUID, err error) { fallbacks = append(fallbacks, err) }})
			require.NoError(t, err)
			require.Empty(t, fallbacks)
			require.Equal(t, []bool{false, false, true, true, false, false, false}, reads)
			require.Equal(t, 9, rep.Charged)
			require.Empty(t, rep.Failed)
			var charges []int
			require.NoError(t, db.Bun().NewRaw(`SELECT count(*) FROM postings WHERE kind = 'charge' AND month = '2025-10' GROUP BY contract_id`).Scan(ctx, &charges))
			require.Equal(t, slices.Repeat([]int{1}, 10), charges)
			checkInvariants(t, db)
		})
	}
}

// TestPagerContractPage: ContractPage bounds the pages ContractIDs lists
// (same last id, same size) for every page size, and is empty past the end.
func TestPagerContractPage(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		s := newCloseScenario(t, db)
		s.r.at(2025, time.September, 1)
		for i := range 7 {
			to := enrollment.Active
			if i%3 == 1 {
				to = enrollment.Requested
			}
			s.submit(t, i, "long", to)
		}
		statuses := []enrollment.Status{enrollment.Active, enrollment.Accepted}
		all, err := db.ContractIDs(ctx, statuses, uuid.Nil, 100)
		require.NoError(t, err)
		require.Len(t, all, 5)
		for _, size := range []int{1, 2, 3, 5, 6, 100} {
			after, pages := uuid.Nil, 0
			for {
				ids, err := db.ContractIDs(ctx, statuses, after, size)
				require.NoError(t, err)
				last, n, err := db.ContractPage(ctx, statuses, after, size)
				require.NoError(t, err)
				require.Equal(t, len(ids), n, "page %d of %d", pages, size)
				if n == 0 {
					require.Equal(t, uuid.Nil, last)
					break
				}
				require.Equal(t, ids[len(ids)-1], last, "page %d of %d", pages, size)
				after = last
				pages++
			}
			require.Equal(t, (len(all)+size-1)/size, pages, "pages of %d", size)
		}
		last, n, err := db.ContractPage(ctx, nil, uuid.Nil, 10)
		require.NoError(t, err)
		require.Zero(t, n)
		require.Equal(t, uuid.Nil, last)
	})
}

// TestCloseBatchedPostingAccount: a page's hold moves only for a posting
// of the hold's own account (the close no longer touches accounts, so the
// hold's update is what ties a charge posting to its account). A posting
// that names another certificate fails the page, which is then closed
// contract by contract, correctly.
func TestCloseBatchedPostingAccount(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		s := newActiveScenario(t, db, 4)
		var once sync.Once
		tampered := false
		store := &hookedStore{DB: db, beforeWrite: func(ps []enrollment.PostingRecord) {
			once.Do(func() {
				if len(ps) > 1 && ps[0].CertificateID != ps[1].CertificateID {
					ps[0].CertificateID = ps[1].CertificateID
					tampered = true
				}
			})
		}}
		rep, fallbacks := s.closeOctober(t, store)
		require.True(t, tampered, "no posting was redirected: the test tests nothing")
		require.EqualValues(t, 1, fallbacks, "a posting of another account must fail the page")
		require.Empty(t, rep.Failed)
		require.Equal(t, 4, rep.Charged)
		checkInvariants(t, db)
	})
}

// TestDecemberClosedInsideDecember: a contract activated on 10 December is
// charged for December at its activation, and the close of December run
// after it (on the 10th here) invoices that month in full inside the
// budget year; the January close adds nothing. Both close paths, every
// engine.
func TestDecemberClosedInsideDecember(t *testing.T) {
	for _, batched := range []bool{false, true} {
		t.Run(fmt.Sprintf("batched=%v", batched), func(t *testing.T) {
			storagetest.Each(t, func(t *testing.T, db *storage.DB) {
				ctx := context.Background()
				r := newRegion(t, db, regionOpts{})
				cert := r.child(1)
				r.at(2025, time.December, 10)
				c, err := r.svc.Submit(ctx, r.key(), enrollment.SubmitRequest{CertificateID: cert.ID, GroupID: r.group.ID, By: enrollment.AsSystem("test")})
				require.NoError(t, err)
				_, err = r.svc.Confirm(ctx, r.key(), enrollment.ContractRequest{ContractID: c.ID, By: enrollment.AsProvider(r.provider.ID)})
				require.NoError(t, err)
				_, err = r.svc.Accept(ctx, r.key(), enrollment.ContractRequest{ContractID: c.ID, By: enrollment.AsSystem("holder")})
				require.NoError(t, err)
				require.Equal(t, c.Price.Cert.String(), r.money(cert.ID).Spent.String(), "December charged at the activation")

				closeMonth := func(mo funding.Month) enrollment.CloseReport {
					var rep enrollment.CloseReport
					var err error
					if batched {
						rep, err = batch.CloseMonth(ctx, r.svc, mo, batch.CloseOptions{})
					} else {
						rep, err = r.svc.CloseMonth(ctx, mo, nil)
					}
					require.NoError(t, err)
					require.Empty(t, rep.Failed)
					return rep
				}
				dec := funding.Month{Year: 2025, Month: time.December}
				rep := closeMonth(dec)
				require.Equal(t, 1, rep.Lines)
				inv, err := db.Invoices(ctx, r.provider.ID, dec)
				require.NoError(t, err)
				require.Equal(t, map[enrollment.InvoiceKind]string{enrollment.FinalInvoice: c.Price.Cert.String()}, invoiceAmounts(inv))

				r.at(2026, time.January, 1)
				rep = closeMonth(funding.Month{Year: 2026, Month: time.January})
				require.Equal(t, 0, rep.Lines, "the January close finds December invoiced")
				inv, err = db.Invoices(ctx, r.provider.ID, dec)
				require.NoError(t, err)
				require.Equal(t, map[enrollment.InvoiceKind]string{enrollment.FinalInvoice: c.Price.Cert.String()}, invoiceAmounts(inv))
				checkInvariants(t, db)
			})
		})
	}
}

// TestInvoicesKeepSchemesApart: a child's and an adult's lines of the same
// provider, municipality, month and kind make two invoices, one per payer.
func TestInvoicesKeepSchemesApart(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		provider, month := uuid.Must(uuid.NewV7()), funding.Month{Year: 2026, Month: time.March}
		line := func(scheme certificate.Scheme, amount string) enrollment.InvoiceLine {
			return enrollment.InvoiceLine{ContractID: uuid.Must(uuid.NewV7()), Scheme: scheme, Municipality: mun, ProviderID: provider,
				Month: month, Kind: enrollment.FinalInvoice, Amount: m(amount)}
		}
		require.NoError(t, db.InTx(ctx, func(ctx context.Context, tx enrollment.Tx) error {
			for _, l := range []enrollment.InvoiceLine{line(certificate.Supplementary, "100.00"), line(certificate.DigitalSkills, "35000.00"), line(certificate.Supplementary, "50.00")} {
				if err := tx.AddInvoiceLine(ctx, l); err != nil {
					return err
				}
			}
			return nil
		}))
		inv, err := db.Invoices(ctx, provider, month)
		require.NoError(t, err)
		got := map[certificate.Scheme]string{}
		for _, i := range inv {
			got[i.Scheme] = fmt.Sprintf("%s/%d", i.Amount, i.Lines)
		}
		require.Equal(t, map[certificate.Scheme]string{certificate.Supplementary: "150.00/2", certificate.DigitalSkills: "35000.00/1"}, got)
	})
}

// TestMigrateInvoiceSchemes: migration 00013 moves the lines of adult
// courses, which the children's invoice of their municipality had summed,
// into invoices of their own scheme, and leaves the children's totals as
// the sums of the children's lines.
func TestMigrateInvoiceSchemes(t *testing.T) {
	for _, kind := range storagetest.Kinds() {
		t.Run(kind, func(t *testing.T) {
			db := storagetest.OpenEmpty(t, kind)
			require.NoError(t, db.MigrateBefore(ctx, "00013"))
			// The offer as the schema before 00013 holds it: without the
			// columns added since.
			f := storagetest.NewOffer(t, "схемы", catalog.Certified)
			require.NoError(t, db.InsertOfferAsOf(ctx, f))
			kid, grown := child(t, "child-scheme"), adult(t, "person-scheme", funding.MustDate(2026, time.January, 10))
			kidContract := contractFor(t, kid, f, time.Now())
			adultContract := contractFor(t, grown, f, time.Now())
			adultContract.Scheme = certificate.DigitalSkills
			kidContract.Scheme = certificate.Supplementary
			for _, c := range []certificate.Certificate{kid, grown} {
				require.NoError(t, db.InsertCertificateAsOf(ctx, c))
			}
			for _, k := range []enrollment.Contract{kidContract, adultContract} {
				require.NoError(t, db.InsertContractAsOf(ctx, k))
			}
			// As the close and Complete wrote them before: one invoice for both.
			for _, q := range []struct {
				sql  string
				args []any
			}{
				{"INSERT INTO invoice_lines (contract_id, month, kind, municipality, provider_id, amount) VALUES (?, '2026-03', 'final', 'mo-1', ?, 10000), (?, '2026-03', 'final', 'mo-1', ?, 3500000)",
					[]any{kidContract.ID, f.Provider.ID, adultContract.ID, f.Provider.ID}},
				{"INSERT INTO invoices (municipality, provider_id, month, kind, amount, lines) VALUES ('mo-1', ?, '2026-03', 'final', 3510000, 2)",
					[]any{f.Provider.ID}},
			} {
				_, err := db.Bun().ExecContext(ctx, q.sql, q.args...)
				require.NoError(t, err)
			}

			require.NoError(t, db.Migrate(ctx))

			inv, err := db.Invoices(ctx, f.Provider.ID, funding.Month{Year: 2026, Month: time.March})
			require.NoError(t, err)
			got := map[certificate.Scheme]string{}
			for _, i := range inv {
				got[i.Scheme] = fmt.Sprintf("%s %s/%d", i.Municipality, i.Amount, i.Lines)
			}
			require.Equal(t, map[certificate.Scheme]string{certificate.Supplementary: "mo-1 100.00/1", certificate.DigitalSkills: "mo-1 35000.00/1"}, got)
		})
	}
}
