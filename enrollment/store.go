package enrollment

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"

	"github.com/edufund/edufund/catalog"
	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/funding"
)

// Store is what the services need from a system of record. Every use case
// runs inside one InTx closure: the closure may run more than once (the
// store retries it on serialization failures, deadlocks and busy errors), so
// it must have no effect outside the transaction it is handed. The long
// runs (the monthly close, the rollover, the sweeps) list what they visit
// page by page through the store's Pager.
type Store interface {
	InTx(ctx context.Context, fn func(ctx context.Context, tx Tx) error) error
	Pager
}

// Errors a Store reports in domain terms.
var (
	ErrNotFound = errors.New("not found")
	// ErrExists is a unique rule of the store refusing a second row: a
	// second certificate for a person, a second live contract on a module.
	ErrExists = errors.New("already exists")
	// ErrCounterFull is a conditional counter refusing to pass its cap.
	ErrCounterFull = errors.New("counter at its cap")
	// ErrContention is a transaction that kept failing on conflicts with
	// others past the retry bound; the request can be sent again.
	ErrContention = errors.New("too much contention, try again")
	// ErrUnavailable is the database being out of reach.
	ErrUnavailable = errors.New("storage unavailable")
)

// Stable codes of the refusals that carry ErrNotFound and ErrExists.
const (
	CodeNotFound          = "not_found"
	CodeCertificateExists = "certificate_exists" // a second certificate of a person in a scheme (and year, for adults)
)

// Tx is one transaction's view of the store: the role interfaces below,
// composed. A store implements Tx; a function that needs only one role can
// say so by taking that role. Reads named Lock… lock the row against
// concurrent writers until the transaction ends (FOR UPDATE on PostgreSQL;
// SQLite serialises writers anyway). storage/storagetest holds the contract
// every implementation must pass.
type Tx interface {
	IdempotencyTx
	CertificateTx
	LedgerTx
	CounterTx
	CatalogTx
	ContractTx
	CloseLogTx
	ParameterTx
	EventTx
	AuditTx
	CompletionTx
	PaperTx
	AuthorisationTx
}

// IdempotencyTx remembers the requests already run, so that the same
// request sent twice has one effect. ClaimKey records key with the
// request's hash before the work is done; if the key was already claimed
// it returns the stored record and claimed=false (waiting for an in-flight
// holder to finish). Both go with the work they guard: a rolled-back
// transaction leaves the key unclaimed.
type IdempotencyTx interface {
	ClaimKey(ctx context.Context, key, operation, requestHash string) (rec IdempotencyRecord, claimed bool, err error)
	// SaveResult stores the result of the claimed key's first run.
	SaveResult(ctx context.Context, key string, result []byte) error
}

// CertificateTx stores what package certificate models: certificates, the
// guardians who act for a child, the categories that fund them and the
// queues of certificates waiting for a funded slot (a category's or the
// national adult quota).
type CertificateTx interface {
	InsertCertificate(ctx context.Context, c certificate.Certificate) error // ErrExists on a second one per person and scheme (and year for adults)
	Certificate(ctx context.Context, id uuid.UUID) (certificate.Certificate, error)
	LockCertificate(ctx context.Context, id uuid.UUID) (certificate.Certificate, error)
	CertificateByNumber(ctx context.Context, n certificate.Number) (certificate.Certificate, error)
	UpdateCertificate(ctx context.Context, c certificate.Certificate) error
	// PersonCertificates lists a person's certificates under a scheme.
	PersonCertificates(ctx context.Context, scheme certificate.Scheme, personID string) ([]certificate.Certificate, error)

	// LinkGuardian records a link, keeping the first record of one that
	// exists; IsGuardian reports whether one exists.
	LinkGuardian(ctx context.Context, l GuardianLink) error
	IsGuardian(ctx context.Context, guardianID, childID string) (bool, error)
	// InsertAdultReview records an adult application awaiting the federal
	// operator's review; AdultReview reads one (ErrNotFound), under its
	// certificate's lock; DecideAdultReview stores the decision;
	// AdultReviews lists by status ("" all) after an id, oldest first.
	InsertAdultReview(ctx context.Context, r AdultReview) error
	AdultReview(ctx context.Context, certID uuid.UUID) (AdultReview, error)
	DecideAdultReview(ctx context.Context, r AdultReview) error
	AdultReviews(ctx context.Context, status ReviewStatus, after uuid.UUID, limit int) ([]AdultReview, error)

	Category(ctx context.Context, code string) (certificate.Category, error)
	Categories(ctx context.Context) ([]certificate.Category, error) // every category, by code
	SaveCategory(ctx context.Context, c certificate.Category) error

	// Enqueue appends to a queue: queues are served in the order entries
	// arrive, whatever their EnqueuedAt. ErrExists if the certificate is in
	// that queue already.
	Enqueue(ctx context.Context, e QueueEntry) error
	// Dequeue removes and returns the first arrival of a queue; ErrNotFound when empty.
	Dequeue(ctx context.Context, queue string) (QueueEntry, error)
	QueuePosition(ctx context.Context, queue string, certificateID uuid.UUID) (int, error) // 1-based; ErrNotFound if not queued
	RemoveFromQueue(ctx context.Context, queue string, certificateID uuid.UUID) error
}

// LedgerTx stores the money of a certificate: its account for each period,
// the holds its contracts reserve, and the append-only postings that
// produced both; and, for a certificate in hours, its hours account. Account returns ErrNotFound before the first grant.
type LedgerTx interface {
	Account(ctx context.Context, certificateID uuid.UUID, period funding.Period) (AccountState, error)
	SaveAccount(ctx context.Context, a AccountState) error // insert or update
	Hold(ctx context.Context, id uuid.UUID) (funding.Hold, error)
	SaveHold(ctx context.Context, certificateID uuid.UUID, period funding.Period, h funding.Hold) error // insert or update
	AppendPosting(ctx context.Context, p PostingRecord) error                                           // ErrExists for a second posting with an id
	Postings(ctx context.Context, certificateID uuid.UUID, period funding.Period) ([]PostingRecord, error)
	// HoursAccount is the weekly hours of a certificate whose nominal is
	// in hours, for a period; ErrNotFound for any other certificate.
	HoursAccount(ctx context.Context, certificateID uuid.UUID, period funding.Period) (funding.HoursAccount, error)
	SaveHoursAccount(ctx context.Context, certificateID uuid.UUID, period funding.Period, a funding.HoursAccount) error // insert or update
}

// CounterTx holds the contended caps: seats of a group, live contracts of a
// program or provider, a municipality's direction limit, its budget, the
// national adult quota. Take adds n when used+n stays within the cap and
// returns ErrCounterFull otherwise; Give subtracts n (never below zero).
// Services call Take as late in the transaction as they can.
type CounterTx interface {
	EnsureCounter(ctx context.Context, key string, limit int64) error // creates it if absent; never lowers used (ErrCounterFull below it)
	Take(ctx context.Context, key string, n int64) error
	Give(ctx context.Context, key string, n int64) error
	Counter(ctx context.Context, key string) (Counter, error)
}

// CatalogTx stores what package catalog models: providers with their
// agreements, programs, modules and groups, read back one by one, as the
// offer an enrolment needs, or as a program's parts (its page). The
// navigator's search is Pager.SearchCatalog's.
type CatalogTx interface {
	SaveProvider(ctx context.Context, p catalog.Provider) error // insert or update, agreements included
	SaveProgram(ctx context.Context, p catalog.Program) error
	SaveModule(ctx context.Context, m catalog.Module) error
	SaveGroup(ctx context.Context, g catalog.Group) error
	Offer(ctx context.Context, groupID uuid.UUID) (Offer, error) // the group with its module, program and provider
	Provider(ctx context.Context, id uuid.UUID) (catalog.Provider, error)
	Program(ctx context.Context, id uuid.UUID) (catalog.Program, error)
	Module(ctx context.Context, id uuid.UUID) (catalog.Module, error)
	// ProgramModules lists a program's modules by id; ProgramGroups the
	// groups of its modules by start date, then id. Both are empty for an
	// unknown program.
	ProgramModules(ctx context.Context, programID uuid.UUID) ([]catalog.Module, error)
	ProgramGroups(ctx context.Context, programID uuid.UUID) ([]catalog.Group, error)
}

// ContractTx stores contracts and what is recorded against them: the
// months charged, their lines on the providers' invoices, the holders'
// ratings.
type ContractTx interface {
	InsertContract(ctx context.Context, c Contract) error // ErrExists for a second live contract of a certificate on a module
	Contract(ctx context.Context, id uuid.UUID) (Contract, error)
	LockContract(ctx context.Context, id uuid.UUID) (Contract, error)
	UpdateContract(ctx context.Context, c Contract) error
	// CertificateContracts lists a certificate's contracts, newest first.
	CertificateContracts(ctx context.Context, certificateID uuid.UUID) ([]Contract, error)
	// LiveContracts lists a certificate's live contracts (Status.Live),
	// newest first: what an application is checked against. It reads
	// through an index of live contracts only, so that its cost does not
	// grow with the certificate's past contracts. Within a batch
	// (enrollment/batch) it lists only those an application's checks
	// count: on the modules the batch applies to, and in budget-funded
	// registries (whose quotas count them).
	LiveContracts(ctx context.Context, certificateID uuid.UUID) ([]Contract, error)
	// AppliedTo reports whether a certificate has a contract, in any
	// status, with a provider (the by-name protection's "applied before").
	AppliedTo(ctx context.Context, certificateID, provider uuid.UUID) (bool, error)
	// RecordCharge marks contract's month as charged; ErrExists if it already was.
	RecordCharge(ctx context.Context, contractID uuid.UUID, m funding.Month, amount funding.Money) error
	// AddInvoiceLine adds a contract's line to the (scheme, municipality,
	// provider, month, kind) invoice; ErrExists if that line was already added.
	AddInvoiceLine(ctx context.Context, l InvoiceLine) error
	// SaveRating records a contract's rating, replacing an earlier one;
	// ContractRating reads it back (ErrNotFound before the first).
	SaveRating(ctx context.Context, contractID uuid.UUID, r Rating, at time.Time) error
	ContractRating(ctx context.Context, contractID uuid.UUID) (Rating, error)
	// ProgramRatings lists the ratings of a program's contracts, each
	// with whether its contract is closed.
	ProgramRatings(ctx context.Context, programID uuid.UUID) ([]ScoredRating, error)
}

// CloseLogTx records the monthly closes that finished, so that none is
// skipped. LastClose returns ErrNotFound before the first.
type CloseLogTx interface {
	LastClose(ctx context.Context) (funding.Month, error)
	RecordClose(ctx context.Context, m funding.Month, at time.Time) error
}

// Pager lists ids in pages outside of any transaction so that long runs
// (the monthly close, the rollover) stream a region instead of loading it.
type Pager interface {
	// ContractIDs returns up to limit ids of contracts in the given
	// statuses, in id order, strictly after `after`.
	ContractIDs(ctx context.Context, statuses []Status, after uuid.UUID, limit int) ([]uuid.UUID, error)
	// ContractPage bounds the page ContractIDs would return without
	// listing it: the last id of the first up to limit contracts in the
	// given statuses after `after`, in id order, and how many there are
	// (0, with uuid.Nil, past the end). Only that travels back: the
	// batched close needs the page's range, not its ids.
	ContractPage(ctx context.Context, statuses []Status, after uuid.UUID, limit int) (last uuid.UUID, n int, err error)
	// CertificateIDs returns up to limit funded, usable certificate ids after `after`.
	CertificateIDs(ctx context.Context, after uuid.UUID, limit int) ([]uuid.UUID, error)
	// QueuedIDs returns up to limit ids of certificates waiting in a queue
	// whose name starts with prefix, each once, in id order, after `after`.
	QueuedIDs(ctx context.Context, prefix string, after uuid.UUID, limit int) ([]uuid.UUID, error)
	// SearchCatalog finds the programs a navigator's search matches, a
	// page at a time, ranked as catalog.Search says; every store returns
	// the same programs in the same order for the same catalogue.
	SearchCatalog(ctx context.Context, s catalog.Search) (catalog.Results, error)
	// Invoices lists the invoices of a provider (or all when uuid.Nil) for a month.
	Invoices(ctx context.Context, providerID uuid.UUID, m funding.Month) ([]Invoice, error)
	// Certificates and Contracts read the cabinets' lists: the rows the
	// filter matches, newest (highest id) first, strictly before After
	// when it is set, at most Limit of them. The service has already
	// narrowed the filter to the caller's reach.
	Certificates(ctx context.Context, f CertificateFilter) ([]certificate.Certificate, error)
	Contracts(ctx context.Context, f ContractFilter) ([]Contract, error)
	// QueueLength counts the certificates waiting in a queue.
	QueueLength(ctx context.Context, queue string) (int, error)
	// InvoiceLines and Completions read the exports (exports.go): a
	// month's invoice lines by provider, contract and kind, each with its
	// certificate's number; adult courses' completions by date, then
	// contract, each with its learner, program and dates. Both return
	// the rows f matches strictly after f.After when it is set, at most
	// f.Limit of them; the service has already narrowed f to the
	// caller's reach.
	InvoiceLines(ctx context.Context, f InvoiceLineFilter) ([]InvoiceLineRecord, error)
	Completions(ctx context.Context, f CompletionFilter) ([]CompletionRecord, error)
	// Counters, Providers, Programs and InvoiceTotals read the officials'
	// lists (service_admin_reads.go): counters by key prefix in key order,
	// providers (agreements included) and a provider's programs newest
	// first, and a municipality's invoices summed by month and kind.
	Counters(ctx context.Context, f CounterFilter) ([]Counter, error)
	Providers(ctx context.Context, f ProviderFilter) ([]catalog.Provider, error)
	Programs(ctx context.Context, f ProgramFilter) ([]catalog.Program, error)
	InvoiceTotals(ctx context.Context, f InvoiceTotalsFilter) ([]Invoice, error)
	AuditPager
}

// IdempotencyRecord is what a claimed key remembers.
type IdempotencyRecord struct {
	Key         string
	Operation   string
	RequestHash string
	Result      []byte // nil while the first run is in flight
}

// AccountState is a certificate's account for one period as stored.
type AccountState struct {
	CertificateID uuid.UUID
	Period        funding.Period
	Account       funding.Account
	// Fixed is set by the first submission of the period: the depletion of
	// the unused nominal is posted then and never again.
	Fixed bool
	// Version is the store's version of the row when an optimistic batch
	// read it (OptimisticBatchStore); zero otherwise.
	Version int64
}

// PostingRecord is one append-only line of a certificate's ledger with the
// why: who asked, the rule that produced it and the parameter values used.
type PostingRecord struct {
	ID            uuid.UUID
	CertificateID uuid.UUID
	Period        funding.Period
	Posting       funding.Posting
	ContractID    uuid.UUID     // uuid.Nil when not about a contract
	Month         funding.Month // the billed month for charges and refunds
	At            time.Time
	Actor         string
	Rule          string
	Params        map[string]string
	// Rules is the newest parameter version the posting was computed with
	// (Service.RulesVersion; 0: the region's own parameters only).
	Rules int64
}

// Counter is a contended cap and its use.
type Counter struct {
	Key   string
	Used  int64
	Limit int64
}

// QueueEntry is one certificate waiting for a slot: a category's funded slot
// or the national adult quota.
type QueueEntry struct {
	Queue         string
	CertificateID uuid.UUID
	EnqueuedAt    time.Time
}

// Offer is a group with everything an enrolment in it needs to know.
type Offer struct {
	Group    catalog.Group
	Module   catalog.Module
	Program  catalog.Program
	Provider catalog.Provider
}

// InvoiceKind is the advance or the final invoice of a month.
type InvoiceKind string

const (
	AdvanceInvoice InvoiceKind = "advance"
	FinalInvoice   InvoiceKind = "final"
	// RefundInvoice lines are under-delivery shortfalls returned to the
	// certificates: they reduce what the provider is paid for the month.
	RefundInvoice InvoiceKind = "refund"
)

// InvoiceLine is one contract's part of an invoice.
type InvoiceLine struct {
	ContractID uuid.UUID
	// Scheme is the contract's: it decides who pays the invoice (the
	// municipality's budget for the children's scheme, the federal
	// operator for the adult one).
	Scheme       certificate.Scheme
	Municipality string
	ProviderID   uuid.UUID
	Month        funding.Month
	Kind         InvoiceKind
	Amount       funding.Money
}

// Invoice is the sum of its lines for one (scheme, municipality, provider,
// month, kind).
type Invoice struct {
	Scheme       certificate.Scheme
	Municipality string
	ProviderID   uuid.UUID
	Month        funding.Month
	Kind         InvoiceKind
	Amount       funding.Money
	Lines        int
	// Status is where the invoice is on its way to being paid; Accepted
	// and Paid are its latest acceptance and its payment (nil until
	// then). The store's Invoices leaves them zero: Service.Invoices
	// fills them.
	Status   InvoiceStatus
	Accepted *InvoiceTransition
	Paid     *InvoiceTransition
}
