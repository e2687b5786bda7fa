// Package enrollment runs the life of an application and its contract: the
// submission checks, the state machine from request to closing, prolongation,
// termination, ratings, the monthly close, and the use-case services that
// carry them out atomically through the storage interfaces declared here.
package enrollment

import (
	"time"

	"github.com/google/uuid"

	"github.com/edufund/edufund/catalog"
	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/funding"
)

// Status is a contract's place in its lifecycle; see Transition.
type Status string

const (
	Requested   Status = "requested"   // the application is submitted; money is reserved
	Accepted    Status = "accepted"    // the provider confirmed: the offer is issued
	Active      Status = "active"      // the holder's signed application is recorded
	Terminating Status = "terminating" // terminated; closes at the next monthly close
	Closed      Status = "closed"      // completed or terminated
	Refused     Status = "refused"     // the provider refused
	Withdrawn   Status = "withdrawn"   // the holder withdrew
)

// Contract is an application and, once accepted, the contract it becomes.
type Contract struct {
	ID            uuid.UUID
	CertificateID uuid.UUID
	GroupID       uuid.UUID
	ModuleID      uuid.UUID
	ProgramID     uuid.UUID
	ProviderID    uuid.UUID
	Municipality  string
	Period        funding.Period
	Status        Status
	Start, End    funding.Date
	Price         funding.Price // the priced schedule fixed at submission
	HoldID        uuid.UUID     // the reserve on the certificate's account
	CreatedAt     time.Time
	ClosedOn      funding.Date // zero until closed
	ProlongedFrom uuid.UUID    // the contract this one prolongs; uuid.Nil if none

	// Scheme is the certificate's scheme. Adult (DigitalSkills) contracts
	// are paid on completion (Complete), never by the monthly close.
	Scheme    certificate.Scheme
	Registry  catalog.Registry  // the program's registry at submission
	Direction catalog.Direction // the program's direction at submission

	// OfferedOn is the day the provider confirmed (Requested → Accepted) and
	// the offer was issued; for a prolongation, the day it was offered.
	OfferedOn funding.Date
	// ActivatedOn is the day the holder's signed application was recorded
	// (Accepted → Active). It splits the charging of each month between the
	// activation and the monthly closes; see PlanContract.
	ActivatedOn funding.Date
	// TerminatedOn is the day the contract was terminated (Active →
	// Terminating); zero for a contract that ended naturally.
	TerminatedOn funding.Date
	// Hours is what the contract holds of a certificate whose nominal is
	// in hours (zero otherwise): freed exactly when the contract ends.
	Hours funding.HoursHold
	// Reason is why the provider refused the application or the offer;
	// empty for any other contract.
	Reason string
	// Consent is the consent to the processing of personal data given
	// with the application; zero if none was given.
	Consent Consent
}
