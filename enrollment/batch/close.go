package batch

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/google/uuid"

	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/funding"
)

// The batched monthly close. Service.CloseMonth runs some eight statements
// in a transaction of its own per contract; a region of a million contracts
// needs hours that way. CloseMonth here applies the same plans
// (enrollment.PlanContract) a page of contracts at a time: one transaction
// per page with a handful of bulk statements, through CloseStore, a
// capability a store may have. The effects are the ones Service.CloseMonth
// has, contract by contract: the same charges, postings (actor, rule,
// params), hold and account moves, invoice lines and totals; a re-run
// charges nothing twice because only the charges the store newly records
// are posted.
//
// Contracts that close or are refused this month (rare outside the end of
// the school year) are left out of the bulk statements and closed after the
// page commits through the per-contract path (Service.CloseContract). A
// page whose transaction fails with an error that retrying did not cure is
// closed contract by contract too, so one bad contract never blocks a
// region: it ends up in CloseReport.Failed.

// CloseStore is an enrollment.Store that can run a page of the monthly
// close in bulk.
type CloseStore interface {
	// InCloseTx runs fn in one transaction like Store.InTx (retried on
	// serialization failures, deadlocks and busy errors, so fn must have no
	// effect outside it).
	InCloseTx(ctx context.Context, fn func(ctx context.Context, tx CloseTx) error) error
}

// CloseTx is the bulk view of one transaction the batched close needs. Every
// method takes and returns whole pages; none keeps more than it is given.
type CloseTx interface {
	// LockContracts locks (FOR NO KEY UPDATE on PostgreSQL, in id order)
	// and returns up to limit contracts in the given statuses with an id
	// in (after, through], in id order, each with its hold. With written,
	// it also reads what the page holds of month m's close already:
	// whether each contract's charge of m is recorded, and its invoice
	// lines of m.Prev() and m (the only months a close of m issues lines
	// for), in the same statement (the contract's lock covers them:
	// charges and lines are only added under it). Without it a store may
	// leave Charged false and Lines empty; ClosePage then fails with
	// enrollment.ErrExists for a charge or line written already, and the
	// page is read again with written. A contract without a hold, or whose
	// hold is missing, comes with a zero Hold.
	LockContracts(ctx context.Context, statuses []enrollment.Status, after, through uuid.UUID, limit int, m funding.Month, written bool) ([]LockedContract, error)
	// ClosePage writes a page's close. For each charge posting (Kind
	// Charge, with its ContractID, Month, HoldID, CertificateID and
	// Period): it records the (contract, month) charge, moves the amount
	// from the hold's open to its charged (and so from its account's
	// reserve to its spent: a store derives both from the holds, or moves
	// them too), and appends the posting; it adds each invoice line and
	// adds it to its (municipality, provider, month, kind) invoice. Every
	// charge and line must be new (LockContracts read them under the
	// locks this transaction holds). ClosePage fails, and the transaction
	// must not commit, if one was recorded already (with
	// enrollment.ErrExists), if a hold's open does
	// not cover what is charged to it, or if a hold's account is not the
	// posting's.
	ClosePage(ctx context.Context, ps []enrollment.PostingRecord, ls []enrollment.InvoiceLine) error
}

// LockedContract is a contract as LockContracts reads it.
type LockedContract struct {
	enrollment.Contract
	Hold funding.Hold // zero when the contract has no hold or it is missing
	// Charged tells whether the contract's charge of the month is recorded.
	Charged bool
	// Lines are the contract's invoice lines of the previous month and
	// the month (month and kind).
	Lines []LineKey
}

// LineKey names one invoice line of a contract.
type LineKey struct {
	Month funding.Month
	Kind  enrollment.InvoiceKind
}

// CloseOptions tunes CloseMonth.
type CloseOptions struct {
	// PageSize is the number of contracts per transaction (default 5000).
	PageSize int
	// Progress, if not nil, is called after every page.
	Progress func(enrollment.CloseReport)
	// OnFallback, if not nil, is told about a page that was closed
	// contract by contract because its bulk transaction failed with err.
	OnFallback func(after uuid.UUID, err error)
	// Workers is how many pages run at once (default 1), each in a
	// transaction of its own. Pages lock their contracts in id order and
	// their invoices in key order, so they never wait on each other in a
	// cycle.
	Workers int
}

// DefaultClosePage is the default page of CloseMonth.
const DefaultClosePage = 5000

// CloseMonth runs the close of month m over every open contract like
// svc.CloseMonth, a page of contracts per transaction when svc's store is
// a CloseStore, and through svc.CloseMonth otherwise. The report and the
// stored result are the ones svc.CloseMonth gives; a re-run, or a run
// after a crash or a cancellation, charges nothing twice.
//
// Each page's transaction claims its page itself: under a cursor shared by
// the workers it locks the next opts.PageSize open contracts after the
// last id claimed (one statement, which also reads them), moves the cursor
// to the last of them and lets the next worker claim the following page
// while it plans and writes its own. Retries of the page's transaction
// lock the same id range. With opts.Workers > 1 that many pages are in
// flight at once, each on its own connection. A page's ids are listed by
// the pager only when it falls back to the per-contract path.
func CloseMonth(ctx context.Context, svc *enrollment.Service, m funding.Month, opts CloseOptions) (enrollment.CloseReport, error) {
	b, ok := svc.Store().(CloseStore)
	if !ok {
		return svc.CloseMonth(ctx, m, opts.Progress)
	}
	if err := svc.CheckCloseable(ctx, m); err != nil {
		return enrollment.CloseReport{Month: m, Failed: map[uuid.UUID]error{}}, err
	}
	c := &closer{svc: svc, store: b, pager: svc.Store(), m: m, size: opts.PageSize, opts: opts,
		rep: enrollment.CloseReport{Month: m, Failed: map[uuid.UUID]error{}}}
	if c.size <= 0 {
		c.size = DefaultClosePage
	}
	var wg sync.WaitGroup
	for range max(opts.Workers, 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil && c.closeNext(ctx) {
			}
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return c.rep, err
	}
	if c.cur.err != nil {
		return c.rep, c.cur.err
	}
	return c.rep, svc.RecordClose(ctx, c.rep)
}

// closer is one run of CloseMonth: what its workers share.
type closer struct {
	svc   *enrollment.Service
	store CloseStore
	pager enrollment.Pager
	m     funding.Month
	size  int // contracts per page
	opts  CloseOptions
	cur   closeCursor
	mu    sync.Mutex // guards rep and calls to opts
	rep   enrollment.CloseReport
	// written is whether pages are read with what they hold of the
	// month's close already (LockContracts' written). A first close finds
	// nothing, and reading it costs an index probe or two per contract
	// (a fifth of the close's database CPU): pages are read without it
	// until one fails on a charge or line written already (a re-run, a
	// resumed close, a line a close of the month before kept), and with it
	// from then on, until a page finds nothing written again.
	written atomic.Bool
}

// closeCursor is the last contract id a page of the close claimed, shared
// by the workers.
type closeCursor struct {
	mu    sync.Mutex
	after uuid.UUID
	done  bool  // no open contract after `after`
	err   error // the close stopped: a page could not be bounded
}

// errClosed is a page's transaction finding the close finished.
var errClosed = errors.New("close: no contracts left")

// closeNext claims and closes the next page: in bulk, or contract by
// contract when the bulk transaction fails. It reports whether there may
// be more pages.
func (cl *closer) closeNext(ctx context.Context) bool {
	cur, m := &cl.cur, cl.m
	var (
		page           closePage
		after, through uuid.UUID
		claimed        bool
	)
	written := cl.written.Load()
	again := func(ctx context.Context, tx CloseTx) error {
		// The range the first attempt claimed.
		page = closePage{}
		cs, err := tx.LockContracts(ctx, enrollment.CloseStatuses(), after, through, maxPage, m, written)
		if err != nil {
			return err
		}
		return cl.closeBatch(ctx, tx, cs, &page)
	}
	err := cl.store.InCloseTx(ctx, func(ctx context.Context, tx CloseTx) error {
		page = closePage{} // a retry starts over
		if claimed {
			return again(ctx, tx)
		}
		cur.mu.Lock()
		if cur.done || cur.err != nil {
			cur.mu.Unlock()
			return errClosed
		}
		after = cur.after
		cs, err := tx.LockContracts(ctx, enrollment.CloseStatuses(), after, uuid.Max, cl.size, m, written)
		if err != nil {
			cur.mu.Unlock()
			return err
		}
		if len(cs) == 0 {
			cur.done = true
			cur.mu.Unlock()
			return errClosed
		}
		through, claimed = cs[len(cs)-1].ID, true
		cur.after = through
		cur.mu.Unlock()
		return cl.closeBatch(ctx, tx, cs, &page)
	})
	if errors.Is(err, errClosed) {
		return false
	}
	if err != nil && claimed && !written && errors.Is(err, enrollment.ErrExists) && ctx.Err() == nil {
		// The page holds some of the month's close already: read it again
		// with what it holds.
		written = true
		cl.written.Store(true)
		err = cl.store.InCloseTx(ctx, again)
	}
	if err == nil && written && page.found == 0 {
		cl.written.Store(false)
	}
	if err != nil && ctx.Err() != nil {
		return false
	}
	n := cl.size
	if err != nil && !claimed {
		// The page could not even be locked and read: bound it with the
		// pager (unless another worker claimed it meanwhile) and close it
		// contract by contract.
		cur.mu.Lock()
		if cur.done || cur.err != nil || cur.after != after {
			cur.mu.Unlock()
			return true
		}
		last, k, perr := cl.pager.ContractPage(ctx, enrollment.CloseStatuses(), after, cl.size)
		switch {
		case perr != nil:
			cur.err = fmt.Errorf("close %s: list contracts: %w (bulk: %w)", m, perr, err)
			cur.mu.Unlock()
			return false
		case k == 0:
			cur.done = true
			cur.mu.Unlock()
			return false
		}
		through, n = last, k
		cur.after = through
		cur.mu.Unlock()
	}
	cl.finishPage(ctx, after, through, n, page, err)
	return true
}

// maxPage bounds the contracts a retry of a page locks in its claimed
// range (the range is bounded; this only keeps the limit finite).
const maxPage = 1 << 30

// finishPage reports a page the bulk transaction closed (and closes the
// contracts it deferred), or, when the bulk transaction failed with bulkErr,
// closes the open contracts with ids in (after, through] one by one.
func (cl *closer) finishPage(ctx context.Context, after, through uuid.UUID, n int, page closePage, bulkErr error) {
	m, opts := cl.m, cl.opts
	local := enrollment.CloseReport{Failed: map[uuid.UUID]error{}}
	one := func(id uuid.UUID) bool {
		if ctx.Err() != nil {
			return false
		}
		if err := cl.svc.CloseContract(ctx, id, m, &local); err != nil {
			local.Failed[id] = err
		}
		return true
	}
	if bulkErr != nil {
		// Close this page contract by contract: a bad contract fails alone
		// and the rest of the region goes on.
		cl.mu.Lock()
		if opts.OnFallback != nil {
			opts.OnFallback(after, bulkErr)
		}
		cl.mu.Unlock()
		ids, lerr := pageIDs(ctx, cl.pager, after, through, n)
		if lerr != nil {
			// The range could not be listed: its contracts are left for a
			// re-run, and the close is not recorded as finished.
			local.Failed[through] = fmt.Errorf("close %s: list the page after %s for the per-contract path: %w (bulk: %w)", m, after, lerr, bulkErr)
		}
		for _, id := range ids {
			if !one(id) {
				break
			}
			local.Contracts++
		}
	} else {
		local.Contracts = page.contracts
		local.Charged = page.charged
		local.Amount = page.amount
		local.Lines = page.lines
		for _, id := range page.deferred {
			if !one(id) {
				break
			}
		}
	}
	cl.mu.Lock()
	defer cl.mu.Unlock()
	rep := &cl.rep
	rep.Contracts += local.Contracts
	rep.Charged += local.Charged
	rep.Amount = rep.Amount.Add(local.Amount)
	rep.Closed += local.Closed
	rep.Refused += local.Refused
	rep.Lines += local.Lines
	for id, err := range local.Failed {
		rep.Failed[id] = err
	}
	if opts.Progress != nil {
		opts.Progress(*rep)
	}
}

// pageIDs lists the open contracts with ids in (after, through], the page
// the pager bounded, for the per-contract path.
func pageIDs(ctx context.Context, pager enrollment.Pager, after, through uuid.UUID, n int) ([]uuid.UUID, error) {
	var out []uuid.UUID
	for {
		ids, err := pager.ContractIDs(ctx, enrollment.CloseStatuses(), after, max(n, 1))
		if err != nil {
			return out, err
		}
		for _, id := range ids {
			if bytes.Compare(id[:], through[:]) > 0 {
				return out, nil
			}
			out = append(out, id)
		}
		if len(ids) == 0 {
			return out, nil
		}
		after = ids[len(ids)-1]
	}
}

// closePage is what one page's transaction did.
type closePage struct {
	contracts int
	charged   int
	amount    funding.Money
	lines     int
	deferred  []uuid.UUID // closings and refusals, for the per-contract path
	found     int         // charges and lines the page held already
}

// closeBatch applies the close of m to the page's locked open contracts.
//
// The charges follow chargeOnce's rules without reading the accounts: the
// outcome of a charge is decided by its hold alone. A hold with less open
// than the payment is skipped (a terminated or under-reserved contract has
// nothing left to charge); otherwise Account.Apply's rule for a charge is
// met on the hold, and on the account because its reserve is the sum of
// its holds' open amounts (the invariant), at least the sum of the charges
// against them. The store applies each charge as a delta guarded by the
// hold's rule and fails the page if one does not hold, so the page falls
// back to the per-contract path, which applies Account.Apply to the rows
// it reads; the CHECK constraints are the backstop.
func (cl *closer) closeBatch(ctx context.Context, tx CloseTx, cs []LockedContract, page *closePage) error {
	m := cl.m
	page.amount = funding.Zero
	if len(cs) == 0 {
		return nil
	}
	page.contracts = len(cs)

	at := cl.svc.Now().UTC()
	share, rules := cl.svc.AdvanceShares(), cl.svc.RulesVersion()
	ms := m.String()
	actor := "monthly_close:" + ms
	since := m.Prev() // LockContracts read the lines of since and m
	var (
		lines    = make([]enrollment.InvoiceLine, 0, 2*len(cs))
		postings = make([]enrollment.PostingRecord, 0, len(cs))
	)
	for i := range cs {
		lc := &cs[i]
		c := &lc.Contract
		if c.Scheme == certificate.DigitalSkills && c.Status != enrollment.Terminating {
			continue // paid on completion, never by the month (Service.CloseContract)
		}
		p := enrollment.PlanContract(*c, m, share)
		if p.Refusal != nil || p.Closing != nil {
			page.deferred = append(page.deferred, c.ID)
			continue
		}
		// chargeOnce, in its order: the hold is read, a hold with less open
		// than the payment is skipped, then a recorded charge is.
		if p.Charge != nil && c.HoldID != uuid.Nil && p.Charge.Amount.IsPositive() {
			h := lc.Hold
			if h.ID != c.HoldID {
				return fmt.Errorf("close %s: contract %s: hold %s: %w", m, c.ID, c.HoldID, enrollment.ErrNotFound)
			}
			if lc.Charged {
				page.found++
			}
			if !h.Open().LessThan(p.Charge.Amount) && !lc.Charged {
				id, err := uuid.NewV7()
				if err != nil {
					return err
				}
				postings = append(postings, enrollment.PostingRecord{
					ID: id, CertificateID: c.CertificateID, Period: c.Period,
					Posting:    funding.Posting{Kind: funding.Charge, Amount: p.Charge.Amount, HoldID: h.ID},
					ContractID: c.ID, Month: m, At: at, Actor: actor, Rule: "monthly_charge", Rules: rules,
					Params: map[string]string{"month": ms, "first": c.Price.CertFirst.String(), "other": c.Price.CertOther.String()},
				})
				page.charged++
				page.amount = page.amount.Add(p.Charge.Amount)
			}
		}
		// AddInvoiceLine's rule: a line added already is skipped.
	plan:
		for _, l := range p.Lines {
			if l.Month.Before(since) || l.Month.After(m) {
				return fmt.Errorf("close %s: contract %s: a %s line of %s, outside the months of the lines the page read", m, c.ID, l.Kind, l.Month)
			}
			for _, k := range lc.Lines {
				if k.Month == l.Month && k.Kind == l.Kind {
					page.found++
					continue plan
				}
			}
			lines = append(lines, l)
		}
	}
	if len(postings) == 0 && len(lines) == 0 {
		return nil
	}
	if err := tx.ClosePage(ctx, postings, lines); err != nil {
		return fmt.Errorf("close %s: %w", m, err)
	}
	page.lines = len(lines)
	return nil
}
