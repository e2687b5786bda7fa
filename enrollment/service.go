package enrollment

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/edufund/edufund/catalog"
	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/funding"
)

// ErrIdempotencyConflict is a key reused for a different request.
var ErrIdempotencyConflict = errors.New("idempotency key reused for a different request")

// CodeIdempotencyConflict is the stable code of ErrIdempotencyConflict.
const CodeIdempotencyConflict = "idempotency_conflict"

// Config holds the region's parameters the services apply.
type Config struct {
	// Location is the region's time zone. Every date a rule sees (today, the
	// 1st of a month, a birthday, a deadline) is the local date there, so a
	// region at UTC+7 closes its month at its own midnight, not at 07:00.
	// Nil is UTC.
	Location *time.Location
	// PeriodOf returns the funding period holding a date; calendar years by default.
	PeriodOf func(d funding.Date) funding.Period
	// AdvanceShare is the share of a month's payment invoiced in advance (0.8).
	AdvanceShare decimal.Decimal
	// ProlongationSilenceDays is how long a holder's silence takes to accept a prolongation (7).
	ProlongationSilenceDays int
	// RatingWindowMonths is how long after a contract ended its holder may
	// still rate it (1).
	RatingWindowMonths int
	Children           certificate.ChildPolicy
	Adults             certificate.AdultPolicy
	Lockout            certificate.Lockout
	// AdultQuota is the national number of adult certificates per year.
	AdultQuota func(year int) int64
	// RegistryQuotas is how many services of each budget-funded registry a
	// certificate may hold at once.
	RegistryQuotas map[catalog.Registry]int
	// AdultCoverage is the share of an adult course's cost the certificate
	// pays, by the holder's category; a category not listed is covered in
	// full. The holder co-pays the rest.
	AdultCoverage map[string]decimal.Decimal
	// AdultStages splits the payment of a completed adult course into
	// stages; the shares add up to 1. Default: one stage.
	AdultStages []decimal.Decimal
	// AdultReview makes an adult application wait for the federal
	// operator's decision before it takes a place of the quota (parameter
	// adults.federal_review; off by default).
	AdultReview bool
	// NoNormativeCap makes a module's normative cost inform, not cap, what
	// the certificate pays: it pays min(cost, balance) (parameter
	// normative_cap; false by default: the normative caps).
	NoNormativeCap bool
	// ChildHourCost is the normative cost of one child-hour: what a week's
	// hour of a contract of a certificate in hours is billed at (parameter
	// child_hour_cost, per municipality where ChildHourCostByMunicipality
	// says so). Zero: the region bills no hours, and a certificate in
	// hours enrols only in the budget-funded registries.
	ChildHourCost               funding.Money
	ChildHourCostByMunicipality map[string]funding.Money
	// Nominals are categories' annual nominals by code, where a version of
	// category_nominal sets one; a category not listed has its own
	// (NominalOf).
	Nominals map[string]funding.Money
	// CategoryHours are the weekly hours of categories in hours, by code,
	// where a version of category_hours sets them (CategoryOf).
	CategoryHours map[string]funding.HoursHold
	// NominalPerPeriod says a category's nominal is each period's as it
	// is, however short the period. By default it is annual, and a period
	// shorter than a year gets round(annual × days / 365) (PeriodNominal).
	NominalPerPeriod bool

	// Versions are the region's dated changes to the values above, from
	// its own file: each applies from its date on (see Parameters). The
	// versions made through the service are stored and added to them.
	Versions []Parameter
	// RulesRefresh is how long the service goes at most without reading
	// the stored versions (DefaultRulesRefresh when zero).
	RulesRefresh time.Duration
}

// Moscow is Moscow time, UTC+3 all year since 2014: the zone of
// DefaultConfig. A fixed zone rather than the tz database's Europe/Moscow, so
// that the library needs no zone files; a region elsewhere sets its own.
var Moscow = time.FixedZone("MSK", 3*60*60)

// DefaultConfig is rules.md's defaults: Moscow time, calendar-year periods,
// an 80% advance, 7 days of silence, the default eligibility policies and a
// 33 000 adult quota.
func DefaultConfig() Config {
	return Config{
		Location:                Moscow,
		PeriodOf:                func(d funding.Date) funding.Period { return funding.CalendarYear(d.Year()) },
		AdvanceShare:            decimal.RequireFromString("0.8"),
		ProlongationSilenceDays: 7,
		RatingWindowMonths:      1,
		Children:                certificate.DefaultChildPolicy(),
		Adults:                  certificate.DefaultAdultPolicy(),
		Lockout:                 certificate.DefaultLockout(),
		AdultQuota:              func(int) int64 { return 33000 },
		RegistryQuotas:          map[catalog.Registry]int{catalog.Significant: 1, catalog.General: 3, catalog.PreProfessional: 1},
		AdultStages:             []decimal.Decimal{decimal.NewFromInt(1)},
	}
}

// Service runs the use cases of both schemes through a Store. Every mutating
// method takes an idempotency key: the same key with the same request returns
// the first result; with a different request it is ErrIdempotencyConflict.
// A request refused by a rule leaves nothing behind, its key included, so it
// can be sent again once the rule would pass.
type Service struct {
	store Store
	clock funding.Clock
	cfg   Config
	rules *ruleCache
	kinds *hourKinds
	relay *relayMark
}

// NewService returns a Service over store. clock is the only source of "now".
func NewService(store Store, clock funding.Clock, cfg Config) *Service {
	return &Service{store: store, clock: clock, cfg: cfg, rules: newRuleCache(cfg), kinds: &hourKinds{}, relay: &relayMark{}}
}

// Config returns the parameters the service was made with; RulesOn adds
// the dated changes in force on a date.
func (s *Service) Config() Config { return s.cfg }

// Today is the region's local date now: the date the rules see.
func (s *Service) Today() funding.Date { return s.dateOf(s.clock.Now()) }

// dateOf is the region's local date at instant t.
func (s *Service) dateOf(t time.Time) funding.Date {
	if s.cfg.Location == nil {
		return funding.DateOf(t.UTC())
	}
	return funding.DateOf(t.In(s.cfg.Location))
}

// idempotent runs fn once per key inside one transaction, replaying the
// stored result for a repeated key. Keys are the caller's own, per
// operation (StoredKey): two callers, or two operations, never share one.
func idempotent[T any](ctx context.Context, s *Service, key, op string, by Caller, req any, fn func(ctx context.Context, tx Tx) (T, error)) (T, error) {
	var out T
	hash, err := requestHash(key, op, req)
	if err != nil {
		return out, err
	}
	key = StoredKey(op, by, key)
	err = s.inTx(ctx, func(ctx context.Context, tx Tx) error {
		var zero T
		out = zero
		rec, claimed, err := tx.ClaimKey(ctx, key, op, hash)
		if err != nil {
			return err
		}
		if !claimed {
			out, err = replayed[T](key, rec, op, hash)
			return err
		}
		if out, err = fn(ctx, tx); err != nil {
			return err
		}
		result, err := json.Marshal(out)
		if err != nil {
			return fmt.Errorf("%s: encode result: %w", op, err)
		}
		return tx.SaveResult(ctx, key, result)
	})
	if err != nil {
		var zero T
		return zero, err
	}
	return out, nil
}

// StoredKey is the key under which a request of operation op sent by the
// caller with idempotency key key is remembered: the caller's keys are their
// own, per operation, so that two callers (two regions set up by the same
// script, say) or two operations sending the same key never collide.
func StoredKey(op string, by Caller, key string) string {
	sum := sha256.Sum256([]byte(op + "\x00" + by.Actor() + "\x00" + by.ID))
	return hex.EncodeToString(sum[:8]) + ":" + key
}

// requestHash validates an idempotency key and hashes the request of
// operation op it is sent with: the hash its record keeps.
func requestHash(key, op string, req any) (string, error) {
	if key == "" {
		return "", &funding.ValidationError{Field: "idempotency_key", Rule: "must be set on every change"}
	}
	if len(key) > 200 {
		return "", &funding.ValidationError{Field: "idempotency_key", Rule: "must be at most 200 characters"}
	}
	body, err := json.Marshal(req)
	if err != nil {
		return "", fmt.Errorf("%s: encode request: %w", op, err)
	}
	sum := sha256.Sum256(append([]byte(op+"\x00"), body...))
	return hex.EncodeToString(sum[:]), nil
}

// replayed is the answer to a request of operation op with the given hash
// whose key was claimed before, with record rec: the first run's result, or
// ErrIdempotencyConflict when the key was first used for another operation
// or request.
func replayed[T any](key string, rec IdempotencyRecord, op, hash string) (T, error) {
	var out T
	if rec.Operation != op || rec.RequestHash != hash {
		return out, funding.Refuse(ErrIdempotencyConflict, CodeIdempotencyConflict, "key %q was first used for %s with another request", key, rec.Operation)
	}
	if err := json.Unmarshal(rec.Result, &out); err != nil {
		var zero T
		return zero, err
	}
	return out, nil
}

// post applies p to the account and the hold through the ledger's rules,
// stores the new state and appends the posting with its explanation.
func (s *Service) post(ctx context.Context, tx Tx, a *AccountState, h *funding.Hold, p funding.Posting, rec PostingRecord) error {
	var hold funding.Hold
	if h != nil {
		hold = *h
	}
	acct, hold, err := a.Account.Apply(p, hold)
	if err != nil {
		return err
	}
	a.Account = acct
	if err := tx.SaveAccount(ctx, *a); err != nil {
		return err
	}
	if p.HoldID != uuid.Nil {
		if err := tx.SaveHold(ctx, a.CertificateID, a.Period, hold); err != nil {
			return err
		}
		if h != nil {
			*h = hold
		}
	}
	id, err := uuid.NewV7()
	if err != nil {
		return err
	}
	rec.ID = id
	rec.CertificateID = a.CertificateID
	rec.Period = a.Period
	rec.Posting = p
	rec.Rules = s.RulesVersion()
	return tx.AppendPosting(ctx, rec)
}

// account loads a certificate's account for a period, or a zero one.
func account(ctx context.Context, tx Tx, certID uuid.UUID, p funding.Period) (AccountState, error) {
	a, err := tx.Account(ctx, certID, p)
	if errors.Is(err, ErrNotFound) {
		return AccountState{CertificateID: certID, Period: p}, nil
	}
	return a, err
}

// Counter keys. One general mechanism, a capped counter, guards every
// contended limit; the key names what it counts.
func seatsKey(group uuid.UUID) string       { return idKey("seats:", group) }
func programKey(program uuid.UUID) string   { return idKey("program:", program) }
func providerKey(provider uuid.UUID) string { return idKey("provider:", provider) }

// idKey is prefix and id in uuid's text form, made as one string.
func idKey(prefix string, id uuid.UUID) string {
	b := make([]byte, 0, 64)
	b = append(b, prefix...)
	b = hex.AppendEncode(b, id[0:4])
	b = append(b, '-')
	b = hex.AppendEncode(b, id[4:6])
	b = append(b, '-')
	b = hex.AppendEncode(b, id[6:8])
	b = append(b, '-')
	b = hex.AppendEncode(b, id[8:10])
	b = append(b, '-')
	b = hex.AppendEncode(b, id[10:16])
	return string(b)
}
func directionKey(mun, dir string, p funding.Period) string {
	return periodKey(p, "direction:", mun, ":", dir, ":")
}
func budgetKey(mun string, p funding.Period) string { return periodKey(p, "budget:", mun, ":") }

// periodKey is parts and the period's first day, made as one string: an
// application names its period's keys several times.
func periodKey(p funding.Period, parts ...string) string {
	b := make([]byte, 0, 64)
	for _, s := range parts {
		b = append(b, s...)
	}
	b, _ = p.Start.AppendText(b)
	return string(b)
}
func categoryCountKey(code string) string { return "category:" + code }
func adultQuotaKey(year int) string       { return "adult_quota:" + strconv.Itoa(year) }
func categoryQueue(code string) string    { return "category:" + code }
func adultQueue(year int) string          { return "adult:" + strconv.Itoa(year) }

// Unlimited is the cap of a counter that only counts.
const Unlimited = int64(1) << 60

func limitOrUnlimited(n int) int64 {
	if n <= 0 {
		return Unlimited
	}
	return int64(n)
}
