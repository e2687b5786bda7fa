package batch

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/edufund/edufund/catalog"
	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/funding"
)

// state is a batch's prefetched rows, changed in memory by the
// applications accepted so far.
type state struct {
	certs       map[uuid.UUID]certificate.Certificate
	certLoaded  map[uuid.UUID]bool
	offers      map[uuid.UUID]enrollment.Offer
	groupLoaded map[uuid.UUID]bool
	accounts    map[acctKey]enrollment.AccountState
	contracts   map[uuid.UUID][]enrollment.Contract // by certificate, newest first
	// counters: present means the row exists (or was created by the
	// batch); counterLoaded says which keys were read, so absence is known.
	counters      map[string]enrollment.Counter
	initial       map[string]enrollment.Counter
	counterLoaded map[string]bool

	// Accumulated writes.
	newContracts []enrollment.Contract
	holds        map[uuid.UUID]Hold
	holdOrder    []uuid.UUID
	postings     []enrollment.PostingRecord
	events       []enrollment.Event
	touched      []acctKey
	touchedSet   map[acctKey]bool
	counterOrder []string
	counterSet   map[string]bool
	// guarded counters were read without a lock; sensitive is set when an
	// answer of the batch could depend on their exact value.
	guarded   map[string]bool
	sensitive bool
	// optimistic: nothing is locked (OptimisticStore); every counter
	// read is guarded.
	optimistic bool
	// exact guards hold only if the counter is unchanged: an optimistic
	// batch's counts checked against a limit kept on a catalogue row,
	// which the counter's own limit does not enforce, and the counters a
	// refusal by a count was decided on.
	exact map[string]bool
	// room is the free room a guard must leave (CounterGuard.Room).
	room map[string]int64
}

type acctKey struct {
	cert  uuid.UUID
	start funding.Date
}

func newState() *state {
	return &state{
		certs:         map[uuid.UUID]certificate.Certificate{},
		certLoaded:    map[uuid.UUID]bool{},
		offers:        map[uuid.UUID]enrollment.Offer{},
		groupLoaded:   map[uuid.UUID]bool{},
		accounts:      map[acctKey]enrollment.AccountState{},
		contracts:     map[uuid.UUID][]enrollment.Contract{},
		counters:      map[string]enrollment.Counter{},
		initial:       map[string]enrollment.Counter{},
		counterLoaded: map[string]bool{},
		holds:         map[uuid.UUID]Hold{},
		touchedSet:    map[acctKey]bool{},
		counterSet:    map[string]bool{},
		guarded:       map[string]bool{},
		exact:         map[string]bool{},
		room:          map[string]int64{},
	}
}

// refused takes in an application refused by err: which counters its
// answer depends on, and how (see CounterGuard).
func (st *state) refused(mt *memTx, err error) {
	if len(mt.read) == 0 && !mt.lateRefusal {
		return // decided before any counter was read
	}
	var re *funding.RuleError
	if mt.lateRefusal || !errors.As(err, &re) {
		// A Take or the insert refused it after its checks: every
		// counter of the batch must be as read.
		st.sensitive = true
		return
	}
	switch re.Code {
	case enrollment.CodeCertificateSuspended, enrollment.CodeCertificateUnusable, enrollment.CodeCertificateNotFunded, enrollment.CodeInsufficientBalance, enrollment.CodeNotFound, enrollment.CodeForeignGroup:
		// Decided before the counts were looked at.
	case enrollment.CodeDuplicateModule, enrollment.CodeGroupFinished, enrollment.CodeEnrolmentClosed, enrollment.CodeNoAgreement, enrollment.CodeRegistryQuota:
		// Decided after every count check passed; the budget's check
		// comes after all but the registry quota's, and a budget-funded
		// registry takes nothing from the budget.
		for _, k := range mt.read {
			if enrollment.ClassOf(k) != enrollment.BudgetCounter {
				st.room[k] = 1
			}
		}
	case enrollment.CodeGroupFull, enrollment.CodeProgramLimit, enrollment.CodeProviderLimit, enrollment.CodeDirectionLimit:
		// Decided by a count, the budget not reached yet.
		for _, k := range mt.read {
			if enrollment.ClassOf(k) != enrollment.BudgetCounter {
				st.exact[k] = true
			}
		}
	default:
		// The budget's own refusal, or one this code does not know.
		st.sensitive = true
	}
}

// overlay is one application's changes until it succeeds.
type overlay struct {
	accounts  map[acctKey]enrollment.AccountState
	acctOrder []acctKey
	holds     map[uuid.UUID]Hold
	holdOrder []uuid.UUID
	postings  []enrollment.PostingRecord
	contracts []enrollment.Contract
	events    []enrollment.Event
	counters  map[string]enrollment.Counter
	ctrOrder  []string
}

func newOverlay() *overlay {
	return &overlay{accounts: map[acctKey]enrollment.AccountState{}, holds: map[uuid.UUID]Hold{}, counters: map[string]enrollment.Counter{}}
}

// merge makes a successful application's changes the batch's.
func (st *state) merge(ov *overlay) {
	for _, k := range ov.acctOrder {
		st.accounts[k] = ov.accounts[k]
		if !st.touchedSet[k] {
			st.touchedSet[k] = true
			st.touched = append(st.touched, k)
		}
	}
	for _, id := range ov.holdOrder {
		if _, ok := st.holds[id]; !ok {
			st.holdOrder = append(st.holdOrder, id)
		}
		st.holds[id] = ov.holds[id]
	}
	st.postings = append(st.postings, ov.postings...)
	st.events = append(st.events, ov.events...)
	for _, c := range ov.contracts {
		st.newContracts = append(st.newContracts, c)
		st.contracts[c.CertificateID] = append([]enrollment.Contract{c}, st.contracts[c.CertificateID]...)
	}
	for _, k := range ov.ctrOrder {
		st.counters[k] = ov.counters[k]
		if !st.counterSet[k] {
			st.counterSet[k] = true
			st.counterOrder = append(st.counterOrder, k)
		}
	}
}

// writes is the batch's effect on the store.
func (st *state) writes() Write {
	var w Write
	w.Contracts = st.newContracts
	for _, id := range st.holdOrder {
		w.Holds = append(w.Holds, st.holds[id])
	}
	w.Postings = st.postings
	w.Events = st.events
	for _, k := range st.touched {
		w.Accounts = append(w.Accounts, st.accounts[k])
	}
	keys := slices.Clone(st.counterOrder)
	enrollment.SortCounterKeys(keys)
	for _, k := range keys {
		c := st.counters[k]
		add := c.Used - st.initial[k].Used
		if add < 0 {
			// Only Takes run in a submission; a Give would need an
			// absolute write. Never reached: Give defers.
			panic("enrollment: batch: counter decreased")
		}
		if st.guarded[k] {
			if add > 0 || st.sensitive || st.exact[k] || st.room[k] > 0 {
				init := st.initial[k]
				w.Guards = append(w.Guards, CounterGuard{Key: k, Add: add, Room: st.room[k], Exact: st.sensitive || st.exact[k], Used: init.Used, Limit: init.Limit})
			}
			continue
		}
		if _, existed := st.initial[k]; existed && add == 0 {
			continue
		}
		w.Counters = append(w.Counters, CounterDelta{Key: k, Add: add, Limit: c.Limit})
	}
	// The counters no accepted application took that a refusal depends on.
	for _, k := range sortedKeys(st.guarded) {
		if !st.counterSet[k] && (st.sensitive || st.exact[k] || st.room[k] > 0) {
			init := st.initial[k]
			w.Guards = append(w.Guards, CounterGuard{Key: k, Room: st.room[k], Exact: st.sensitive || st.exact[k], Used: init.Used, Limit: init.Limit})
		}
	}
	return w
}

func sortedKeys(m map[string]bool) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// memTx is the Tx one application's Enrol runs against: the batch's
// prefetched rows plus the application's own overlay. What the batch did
// not prefetch and every other write is not served: the application is
// then run alone through Submit (errDefer). Reads of rows a submission
// does not change go to the batch's transaction.
type memTx struct {
	enrollment.Tx // the batch's transaction, for other reads
	st            *state
	ov            *overlay
	fatal         error // the batch's transaction failed under a read
	deferred      bool
	// lateRefusal is a refusal after the submission checks (a Take or the
	// insert): its answer could depend on the budget checked before it.
	lateRefusal bool
	// read lists the counters the application looked at.
	read []string
}

var _ enrollment.Tx = (*memTx)(nil)

func (m *memTx) deferIt() error {
	m.deferred = true
	return errDefer
}

// through marks a failed passthrough read: anything but not-found aborts
// the batch (on PostgreSQL the transaction is unusable after it).
func (m *memTx) through(err error) error {
	if err != nil && !errors.Is(err, enrollment.ErrNotFound) && m.fatal == nil {
		m.fatal = err
	}
	return err
}

func notFoundErr(what string, key any) error {
	return fmt.Errorf("enrollment: batch: %s %v: %w", what, key, enrollment.ErrNotFound)
}

// ---- Idempotency: handled by the batch itself ----

func (m *memTx) ClaimKey(context.Context, string, string, string) (enrollment.IdempotencyRecord, bool, error) {
	return enrollment.IdempotencyRecord{}, false, m.deferIt()
}
func (m *memTx) SaveResult(context.Context, string, []byte) error { return m.deferIt() }

// ---- Certificates ----

func (m *memTx) InsertCertificate(context.Context, certificate.Certificate) error {
	return m.deferIt()
}

func (m *memTx) Certificate(ctx context.Context, id uuid.UUID) (certificate.Certificate, error) {
	if m.st.certLoaded[id] {
		return m.LockCertificate(ctx, id)
	}
	c, err := m.Tx.Certificate(ctx, id)
	return c, m.through(err)
}

func (m *memTx) LockCertificate(_ context.Context, id uuid.UUID) (certificate.Certificate, error) {
	if !m.st.certLoaded[id] {
		return certificate.Certificate{}, m.deferIt()
	}
	c, ok := m.st.certs[id]
	if !ok {
		return certificate.Certificate{}, notFoundErr("certificate", id)
	}
	if c.Scheme == certificate.DigitalSkills {
		// Adult certificates run alone (their own path in Enrol).
		return certificate.Certificate{}, m.deferIt()
	}
	return c, nil
}

func (m *memTx) CertificateByNumber(ctx context.Context, n certificate.Number) (certificate.Certificate, error) {
	c, err := m.Tx.CertificateByNumber(ctx, n)
	return c, m.through(err)
}

func (m *memTx) UpdateCertificate(context.Context, certificate.Certificate) error {
	return m.deferIt()
}

func (m *memTx) PersonCertificates(ctx context.Context, scheme certificate.Scheme, personID string) ([]certificate.Certificate, error) {
	cs, err := m.Tx.PersonCertificates(ctx, scheme, personID)
	return cs, m.through(err)
}

func (m *memTx) IsGuardian(ctx context.Context, guardianID, childID string) (bool, error) {
	ok, err := m.Tx.IsGuardian(ctx, guardianID, childID)
	return ok, m.through(err)
}

func (m *memTx) LinkGuardian(context.Context, enrollment.GuardianLink) error { return m.deferIt() }

// ---- Categories and queues ----

func (m *memTx) Category(ctx context.Context, code string) (certificate.Category, error) {
	c, err := m.Tx.Category(ctx, code)
	return c, m.through(err)
}
func (m *memTx) Enqueue(context.Context, enrollment.QueueEntry) error { return m.deferIt() }
func (m *memTx) Dequeue(context.Context, string) (enrollment.QueueEntry, error) {
	return enrollment.QueueEntry{}, m.deferIt()
}
func (m *memTx) QueuePosition(ctx context.Context, queue string, id uuid.UUID) (int, error) {
	n, err := m.Tx.QueuePosition(ctx, queue, id)
	return n, m.through(err)
}
func (m *memTx) RemoveFromQueue(context.Context, string, uuid.UUID) error { return m.deferIt() }

// ---- Accounts and the ledger ----

func (m *memTx) Account(_ context.Context, certID uuid.UUID, p funding.Period) (enrollment.AccountState, error) {
	if _, ok := m.st.certs[certID]; !ok {
		return enrollment.AccountState{}, m.deferIt()
	}
	k := acctKey{certID, p.Start}
	if a, ok := m.ov.accounts[k]; ok {
		return a, nil
	}
	if a, ok := m.st.accounts[k]; ok {
		return a, nil
	}
	return enrollment.AccountState{}, notFoundErr("account", certID.String()+"@"+p.Start.String())
}

func (m *memTx) SaveAccount(_ context.Context, a enrollment.AccountState) error {
	if _, ok := m.st.certs[a.CertificateID]; !ok {
		return m.deferIt()
	}
	k := acctKey{a.CertificateID, a.Period.Start}
	if _, ok := m.ov.accounts[k]; !ok {
		m.ov.acctOrder = append(m.ov.acctOrder, k)
	}
	m.ov.accounts[k] = a
	return nil
}

func (m *memTx) Hold(ctx context.Context, id uuid.UUID) (funding.Hold, error) {
	if h, ok := m.ov.holds[id]; ok {
		return h.Hold, nil
	}
	if h, ok := m.st.holds[id]; ok {
		return h.Hold, nil
	}
	h, err := m.Tx.Hold(ctx, id)
	return h, m.through(err)
}

func (m *memTx) SaveHold(_ context.Context, certID uuid.UUID, p funding.Period, h funding.Hold) error {
	if _, ok := m.st.certs[certID]; !ok {
		return m.deferIt()
	}
	if _, ok := m.ov.holds[h.ID]; !ok {
		m.ov.holdOrder = append(m.ov.holdOrder, h.ID)
	}
	m.ov.holds[h.ID] = Hold{CertificateID: certID, Period: p, Hold: h}
	return nil
}

func (m *memTx) AppendPosting(_ context.Context, p enrollment.PostingRecord) error {
	if _, ok := m.st.certs[p.CertificateID]; !ok {
		return m.deferIt()
	}
	m.ov.postings = append(m.ov.postings, p)
	return nil
}

// AppendEvent keeps an application's events with its other writes: they
// are the batch's only if the application is.
func (m *memTx) AppendEvent(_ context.Context, e enrollment.Event) error {
	m.ov.events = append(m.ov.events, e)
	return nil
}

func (m *memTx) Postings(context.Context, uuid.UUID, funding.Period) ([]enrollment.PostingRecord, error) {
	return nil, m.deferIt()
}

// ---- Counters ----

func (m *memTx) counter(key string) (enrollment.Counter, bool, error) {
	if !m.st.counterLoaded[key] {
		return enrollment.Counter{}, false, m.deferIt()
	}
	m.read = append(m.read, key)
	if c, ok := m.ov.counters[key]; ok {
		return c, true, nil
	}
	c, ok := m.st.counters[key]
	return c, ok, nil
}

func (m *memTx) setCounter(c enrollment.Counter) {
	if _, ok := m.ov.counters[c.Key]; !ok {
		m.ov.ctrOrder = append(m.ov.ctrOrder, c.Key)
	}
	m.ov.counters[c.Key] = c
}

func (m *memTx) EnsureCounter(_ context.Context, key string, limit int64) error {
	if limit < 0 {
		return fmt.Errorf("enrollment: batch: counter %q: negative limit %d", key, limit)
	}
	c, ok, err := m.counter(key)
	if err != nil {
		return err
	}
	if !ok {
		m.setCounter(enrollment.Counter{Key: key, Used: 0, Limit: limit})
		return nil
	}
	if limit != c.Limit {
		// Changing a stored limit is not a submission's business.
		return m.deferIt()
	}
	return nil
}

func (m *memTx) Take(_ context.Context, key string, n int64) error {
	if n < 0 {
		return fmt.Errorf("enrollment: batch: take %d from counter %q: negative", n, key)
	}
	c, ok, err := m.counter(key)
	if err != nil {
		return err
	}
	if !ok {
		return notFoundErr("counter", key)
	}
	if c.Used+n > c.Limit {
		m.lateRefusal = true
		return fmt.Errorf("enrollment: batch: counter %q cannot take %d: %w", key, n, enrollment.ErrCounterFull)
	}
	c.Used += n
	m.setCounter(c)
	return nil
}

func (m *memTx) Give(context.Context, string, int64) error { return m.deferIt() }

func (m *memTx) Counter(_ context.Context, key string) (enrollment.Counter, error) {
	c, ok, err := m.counter(key)
	if err != nil {
		return enrollment.Counter{}, err
	}
	if !ok {
		return enrollment.Counter{}, notFoundErr("counter", key)
	}
	return c, nil
}

// ---- Catalog ----

func (m *memTx) SaveProvider(context.Context, catalog.Provider) error     { return m.deferIt() }
func (m *memTx) SaveProgram(context.Context, catalog.Program) error       { return m.deferIt() }
func (m *memTx) SaveModule(context.Context, catalog.Module) error         { return m.deferIt() }
func (m *memTx) SaveGroup(context.Context, catalog.Group) error           { return m.deferIt() }
func (m *memTx) SaveCategory(context.Context, certificate.Category) error { return m.deferIt() }
func (m *memTx) RecordCharge(context.Context, uuid.UUID, funding.Month, funding.Money) error {
	return m.deferIt()
}
func (m *memTx) AddInvoiceLine(context.Context, enrollment.InvoiceLine) error { return m.deferIt() }

func (m *memTx) Offer(_ context.Context, groupID uuid.UUID) (enrollment.Offer, error) {
	if !m.st.groupLoaded[groupID] {
		return enrollment.Offer{}, m.deferIt()
	}
	o, ok := m.st.offers[groupID]
	if !ok {
		return enrollment.Offer{}, notFoundErr("group", groupID)
	}
	return o, nil
}

// ---- Contracts ----

func (m *memTx) InsertContract(_ context.Context, c enrollment.Contract) error {
	if _, ok := m.st.certs[c.CertificateID]; !ok {
		return m.deferIt()
	}
	if c.Status.Live() {
		for _, k := range m.ov.contracts {
			if k.CertificateID == c.CertificateID && k.ModuleID == c.ModuleID && k.Status.Live() {
				m.lateRefusal = true
				return fmt.Errorf("enrollment: batch: insert contract: %w", enrollment.ErrExists)
			}
		}
		for _, k := range m.st.contracts[c.CertificateID] {
			if k.ModuleID == c.ModuleID && k.Status.Live() {
				m.lateRefusal = true
				return fmt.Errorf("enrollment: batch: insert contract: %w", enrollment.ErrExists)
			}
		}
	}
	m.ov.contracts = append(m.ov.contracts, c)
	return nil
}

func (m *memTx) Contract(ctx context.Context, id uuid.UUID) (enrollment.Contract, error) {
	return enrollment.Contract{}, m.deferIt()
}

func (m *memTx) LockContract(context.Context, uuid.UUID) (enrollment.Contract, error) {
	return enrollment.Contract{}, m.deferIt()
}

func (m *memTx) UpdateContract(context.Context, enrollment.Contract) error { return m.deferIt() }

// CertificateContracts is deferred: a batch reads only the live contracts
// of its certificates (Rows.Contracts), so that an application's cost does
// not grow with its certificate's history.
func (m *memTx) CertificateContracts(context.Context, uuid.UUID) ([]enrollment.Contract, error) {
	return nil, m.deferIt()
}

// LiveContracts lists the live contracts the batch read (Rows.Contracts:
// on its modules and in budget-funded registries) and its own.
func (m *memTx) LiveContracts(_ context.Context, certID uuid.UUID) ([]enrollment.Contract, error) {
	if _, ok := m.st.certs[certID]; !ok {
		return nil, m.deferIt()
	}
	var out []enrollment.Contract
	for i := len(m.ov.contracts) - 1; i >= 0; i-- {
		if k := m.ov.contracts[i]; k.CertificateID == certID && k.Status.Live() {
			out = append(out, k)
		}
	}
	for _, k := range m.st.contracts[certID] {
		if k.Status.Live() {
			out = append(out, k)
		}
	}
	return out, nil
}

// AppliedTo answers from the live contracts read; a provider's application
// by name to one the certificate holds no live contract with goes through
// Submit, which reads the past ones.
func (m *memTx) AppliedTo(ctx context.Context, certID, provider uuid.UUID) (bool, error) {
	live, err := m.LiveContracts(ctx, certID)
	if err != nil {
		return false, err
	}
	for _, k := range live {
		if k.ProviderID == provider {
			return true, nil
		}
	}
	return false, m.deferIt()
}

func (m *memTx) SaveRating(context.Context, uuid.UUID, enrollment.Rating, time.Time) error {
	return m.deferIt()
}

// ---- Hours: certificates in hours run alone ----

func (m *memTx) HoursAccount(context.Context, uuid.UUID, funding.Period) (funding.HoursAccount, error) {
	return funding.HoursAccount{}, m.deferIt()
}

func (m *memTx) SaveHoursAccount(context.Context, uuid.UUID, funding.Period, funding.HoursAccount) error {
	return m.deferIt()
}
