// Package certificate models the certificate a person holds under either
// scheme (the children's supplementary-education certificate and the adult
// personal digital certificate): its number, holder, category, kind, status
// lifecycle, eligibility decisions with reasons, category slots and the
// protection modes that guard provider-initiated applications.
//
// The package holds rules only: no storage, no clock. Dates and instants
// are arguments; the caller loads a certificate (with its row locked), runs
// a rule, and persists the result in the same transaction.
//
//   - Lifecycle: Transition and the table behind it; Certificate.Activate,
//     Suspend, Resume, Cancel, Expire, ExpireIfDue. Refusals are
//     *TransitionError matching ErrForbiddenTransition.
//   - Issue: New validates NewParams (errors are *funding.ValidationError
//     naming the field) and computes ValidUntil.
//   - Eligibility: ChildPolicy.Decide and AdultPolicy.Decide return a
//     Decision listing every failed rule as a Reason with a stable code;
//     PensionAges (the pension-age table, DefaultPensionAges by default),
//     PensionAge, Age, AdultPolicy.MustCancel for the documents deadline.
//   - Funding: Category.Slot, Certificate.Fund and ChangeCategory (the queue
//     for a slot is package enrollment's).
//   - Protection: NormalizeName, MatchName, HashPassphrase (argon2id, PHC
//     form), Protection.CheckPassphrase with a Lockout, and
//     Certificate.AuthorizeProviderApplication.
//
// Rule refusals are *funding.RuleError values with a stable Code that match
// this package's Err… sentinels through errors.Is.
package certificate

import (
	"time"

	"github.com/google/uuid"

	"github.com/edufund/edufund/funding"
)

// Scheme names the funding scheme a certificate belongs to.
type Scheme string

const (
	Supplementary Scheme = "supplementary"  // children's supplementary education (ПФДО)
	DigitalSkills Scheme = "digital_skills" // adult personal digital certificate (ПЦС)
)

// Kind says whether a children's certificate carries money.
type Kind string

const (
	Accounting Kind = "accounting" // no money; budget-funded registries only
	Funded     Kind = "funded"     // a nominal from its category
)

// Status is a certificate's place in its lifecycle; see Transition.
type Status string

const (
	Issued    Status = "issued"
	Active    Status = "active"
	Suspended Status = "suspended"
	Cancelled Status = "cancelled"
	Expired   Status = "expired"
)

// Sex of the holder; the adult scheme's pension age depends on it.
type Sex string

const (
	Male   Sex = "male"
	Female Sex = "female"
)

// Education is the holder's level of education (adult scheme).
type Education string

const (
	EducationGeneral            Education = "general"
	EducationVocational         Education = "vocational"          // secondary vocational, completed
	EducationHigher             Education = "higher"              // higher, completed
	EducationStudyingVocational Education = "studying_vocational" // studying for secondary vocational
	EducationStudyingHigher     Education = "studying_higher"     // studying for higher
)

// Registration is the kind of the holder's registration at their address.
type Registration string

const (
	Permanent Registration = "permanent"
	Temporary Registration = "temporary"
)

// Holder is the person the certificate is for: the child, or the adult learner.
type Holder struct {
	PersonID     string // a stable identity of the person (e.g. SNILS); one certificate per person per scheme (per year for adults)
	FullName     string
	BirthDate    funding.Date
	Sex          Sex
	Citizenship  string // ISO 3166-1 alpha-2, "RU"
	Education    Education
	Region       string // code of the region of registration
	Municipality string // code of the municipality of registration
	Registration Registration
}

// ProtectionMode guards a certificate against applications created by a provider.
type ProtectionMode string

const (
	Forbidden    ProtectionMode = "forbidden"     // only the holder applies
	ByName       ProtectionMode = "by_name"       // certificate number + the child's full name
	ByPassphrase ProtectionMode = "by_passphrase" // certificate number + a passphrase the holder set
)

// Protection is a certificate's protection mode and its passphrase state.
type Protection struct {
	Mode           ProtectionMode
	PassphraseHash string    // encoded slow salted hash; never the passphrase
	FailedAttempts int       // consecutive wrong passphrases
	LockedUntil    time.Time // zero when not locked out
}

// Certificate is a person's certificate under one scheme.
type Certificate struct {
	ID           uuid.UUID
	Number       Number
	Scheme       Scheme
	Holder       Holder
	GuardianID   string // the parent who manages a child's certificate; empty for adults
	Municipality string // municipality that funds it
	Category     string
	Kind         Kind
	Status       Status
	IssuedOn     funding.Date
	ValidUntil   funding.Date // 18th birthday − 1 day for children, 31 Dec of the year for adults
	Protection   Protection
	Documents    Documents // adult scheme: the provider's documents
}

// Documents records the holder's upload of the provider's documents (adult
// scheme); see AdultPolicy.MustCancel and MustCancelForDocuments.
type Documents struct {
	// DueFrom is the day the deadline counts from: the day the
	// certificate took a place of the quota, at its issue or when the
	// queue reached it. Zero means the issue date.
	DueFrom     funding.Date
	UploadedOn  funding.Date // zero until uploaded
	ValidReason string       // a recorded valid reason for the delay; empty if none
}
