package enrollment

import (
	"errors"

	"github.com/edufund/edufund/catalog"
	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/funding"
)

// Refusals of CheckSubmission, each returned wrapped in a *funding.RuleError
// with the stable code beside it. Rule 6 reuses the catalog's sentinels
// (catalog.ErrGroupFinished, catalog.ErrEnrolmentClosed, catalog.ErrNoAgreement)
// and codes, so that the same refusal matches the same sentinel wherever it
// is found.
var (
	ErrCertificateNotFunded = errors.New("certificate not funded")           // 1
	ErrCertificateSuspended = errors.New("certificate suspended")            // 1
	ErrCertificateUnusable  = errors.New("certificate cancelled or expired") // 1
	ErrInsufficientBalance  = errors.New("insufficient balance")             // 1
	ErrGroupFull            = errors.New("group full")                       // 2
	ErrProgramLimit         = errors.New("program enrolment limit reached")  // 3
	ErrProviderLimit        = errors.New("provider enrolment limit reached") // 3
	ErrDirectionLimit       = errors.New("direction limit reached")          // 4
	ErrDuplicateModule      = errors.New("live contract on the same module") // 5
	ErrBudgetLimit          = errors.New("municipal budget limit reached")   // 7
	ErrRegistryQuota        = errors.New("registry quota reached")           // 8
)

// Stable codes of the submission refusals.
const (
	CodeCertificateNotFunded = "certificate_not_funded"
	CodeCertificateSuspended = "certificate_suspended"
	CodeCertificateUnusable  = "certificate_not_usable"
	CodeInsufficientBalance  = "insufficient_balance"
	CodeGroupFull            = "group_full"
	CodeProgramLimit         = "program_limit_reached"
	CodeProviderLimit        = "provider_limit_reached"
	CodeDirectionLimit       = "direction_limit_reached"
	CodeDuplicateModule      = "duplicate_module"
	CodeGroupFinished        = catalog.CodeGroupFinished // "group_finished"
	CodeEnrolmentClosed      = catalog.CodeEnrolmentClosed
	CodeNoAgreement          = catalog.CodeNoAgreement
	CodeBudgetLimit          = "budget_limit_reached"
	CodeRegistryQuota        = "registry_quota_reached"
)

// Snapshot is everything the submission checks look at, loaded by the caller
// in the submitting transaction. Limits of 0 mean "no limit" (as for
// catalog.Provider.EnrolmentLimit); counts are of live contracts (see
// Status.Live and CountLive), the new application not included.
type Snapshot struct {
	On          funding.Date
	Certificate certificate.Certificate
	Registry    catalog.Registry // the program's registry

	// Rule 1. Cert is what the certificate pays (and the submission
	// reserves); CoPay what the holder pays on top (funding.Price.CoPay).
	Cert, CoPay   funding.Money
	Balance       funding.Money // the certificate's balance in the contract's period
	CoPayAccepted bool          // the holder agreed to pay CoPay

	// Rule 2. A capacity of 0 is a group with no seats (always full).
	Capacity, LiveInGroup int
	// Rule 3.
	ProgramLimit, LiveInProgram   int
	ProviderLimit, LiveAtProvider int
	// Rule 4: the municipality's limit for the program's direction and its
	// live contracts in that direction.
	DirectionLimit, LiveInDirection int
	// Rule 5: the same certificate has a live contract on the same module.
	SameModuleLive bool
	// Rule 6. Zero values refuse: the caller must load them.
	GroupEnd      funding.Date
	EnrolmentOpen bool
	Agreement     bool // the provider has an agreement with the municipality covering On
	// Rule 7: the municipality's budget for the period and what its
	// certificates have reserved and spent. Checked only when Cert > 0; a
	// municipality without a limit passes funding.MaxMoney.
	BudgetLimit, BudgetUsed funding.Money
	// Rule 8: per budget-funded registry, how many services a certificate
	// may hold at once and how many it holds (live contracts). A registry
	// missing from RegistryLimit has no quota.
	RegistryLimit map[catalog.Registry]int
	RegistryHeld  map[catalog.Registry]int
}

// CheckSubmission runs the eight submission checks of rules.md in order and
// returns the first refusal, or nil:
//
//  1. the certificate is usable (not suspended: certificate_suspended; not
//     cancelled or expired: certificate_not_usable) and, outside the
//     budget-funded registries, funded (certificate_not_funded; an adult
//     certificate has no kinds and is not asked); Cert is
//     covered by the balance and any CoPay is accepted by the holder
//     (insufficient_balance). An Issued certificate passes: the application
//     may be submitted, the provider then cannot confirm it (CanAccept);
//  2. live contracts in the group < capacity (group_full);
//  3. program and provider enrolment limits (program_limit_reached,
//     provider_limit_reached);
//  4. the municipality's direction limit (direction_limit_reached);
//  5. no live contract of the certificate on the same module (duplicate_module);
//  6. the group not finished, enrolment open, an agreement (group_finished,
//     enrolment_closed, no_agreement);
//  7. budget used + Cert ≤ budget limit (budget_limit_reached);
//  8. for a budget-funded registry, held < quota (registry_quota_reached).
func CheckSubmission(s Snapshot) error {
	c := s.Certificate
	switch c.Status {
	case certificate.Suspended:
		return funding.Refuse(ErrCertificateSuspended, CodeCertificateSuspended, "certificate %s is suspended", c.Number)
	case certificate.Cancelled, certificate.Expired:
		return funding.Refuse(ErrCertificateUnusable, CodeCertificateUnusable, "certificate %s is %s", c.Number, c.Status)
	}
	if c.Scheme != certificate.DigitalSkills && c.Kind != certificate.Funded && !s.Registry.BudgetFunded() {
		return funding.Refuse(ErrCertificateNotFunded, CodeCertificateNotFunded,
			"certificate %s is %s; the %s registry needs a funded certificate", c.Number, c.Kind, s.Registry)
	}
	if s.Balance.LessThan(s.Cert) {
		return funding.Refuse(ErrInsufficientBalance, CodeInsufficientBalance,
			"balance %s does not cover %s", s.Balance, s.Cert)
	}
	if s.CoPay.IsPositive() && !s.CoPayAccepted {
		return funding.Refuse(ErrInsufficientBalance, CodeInsufficientBalance,
			"balance covers %s; the co-payment %s is not accepted", s.Cert, s.CoPay)
	}

	if s.LiveInGroup >= s.Capacity {
		return funding.Refuse(ErrGroupFull, CodeGroupFull, "%d live contracts for %d seats", s.LiveInGroup, s.Capacity)
	}

	if s.ProgramLimit > 0 && s.LiveInProgram >= s.ProgramLimit {
		return funding.Refuse(ErrProgramLimit, CodeProgramLimit, "%d live contracts, the program's limit is %d", s.LiveInProgram, s.ProgramLimit)
	}
	if s.ProviderLimit > 0 && s.LiveAtProvider >= s.ProviderLimit {
		return funding.Refuse(ErrProviderLimit, CodeProviderLimit, "%d live contracts, the provider's limit is %d", s.LiveAtProvider, s.ProviderLimit)
	}

	if s.DirectionLimit > 0 && s.LiveInDirection >= s.DirectionLimit {
		return funding.Refuse(ErrDirectionLimit, CodeDirectionLimit, "%d live contracts in the direction, the municipality's limit is %d", s.LiveInDirection, s.DirectionLimit)
	}

	if s.SameModuleLive {
		return funding.Refuse(ErrDuplicateModule, CodeDuplicateModule, "certificate %s already has a live contract on the module", c.Number)
	}

	if s.GroupEnd.IsZero() || s.On.After(s.GroupEnd) {
		return funding.Refuse(catalog.ErrGroupFinished, CodeGroupFinished, "the group ended on %s, before %s", s.GroupEnd, s.On)
	}
	if !s.EnrolmentOpen {
		return funding.Refuse(catalog.ErrEnrolmentClosed, CodeEnrolmentClosed, "enrolment on the program is closed")
	}
	if !s.Agreement {
		return funding.Refuse(catalog.ErrNoAgreement, CodeNoAgreement, "the provider has no agreement with municipality %q covering %s", c.Municipality, s.On)
	}

	if s.Cert.IsPositive() && s.BudgetLimit.LessThan(s.BudgetUsed.Add(s.Cert)) {
		return funding.Refuse(ErrBudgetLimit, CodeBudgetLimit, "used %s + %s exceeds the limit %s", s.BudgetUsed, s.Cert, s.BudgetLimit)
	}

	if s.Registry.BudgetFunded() {
		if limit, ok := s.RegistryLimit[s.Registry]; ok && s.RegistryHeld[s.Registry] >= limit {
			return funding.Refuse(ErrRegistryQuota, CodeRegistryQuota, "certificate %s holds %d of %d %s services", c.Number, s.RegistryHeld[s.Registry], limit, s.Registry)
		}
	}
	return nil
}
