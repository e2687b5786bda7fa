package certificate

import "errors"

// Sentinels of the certificate's rules. Refusals are returned as
// *funding.RuleError (with a stable Code) or *TransitionError, both of which
// match these sentinels through errors.Is.
var (
	// ErrForbiddenTransition: the status table does not allow the move.
	ErrForbiddenTransition = errors.New("certificate: forbidden status transition")
	// ErrCommitted: the category or kind cannot change while money is reserved or spent.
	ErrCommitted = errors.New("certificate: money is committed")
	// ErrNotFundable: the certificate cannot be switched to funded (scheme, kind or status).
	ErrNotFundable = errors.New("certificate: cannot be funded")
	// ErrNoSlot: the category has no free slot; the certificate joins the queue.
	ErrNoSlot = errors.New("certificate: no free slot in the category")
	// ErrProviderApplicationsForbidden: the holder forbade provider-initiated applications.
	ErrProviderApplicationsForbidden = errors.New("certificate: provider applications are forbidden")
	// ErrProtectionMismatch: the certificate number or the holder's name does not match.
	ErrProtectionMismatch = errors.New("certificate: number or name does not match")
	// ErrWrongPassphrase: the passphrase does not match the stored hash.
	ErrWrongPassphrase = errors.New("certificate: wrong passphrase")
	// ErrLockedOut: too many wrong passphrases; try again after the lockout.
	ErrLockedOut = errors.New("certificate: locked out after repeated wrong passphrases")
	// ErrNoPassphrase: the mode is ByPassphrase but no passphrase has been set.
	ErrNoPassphrase = errors.New("certificate: no passphrase set")
	// ErrUnknownProvider: by name, a provider the child has never applied to.
	ErrUnknownProvider = errors.New("certificate: the child has not applied to this provider before")
)

// Stable codes carried by the *funding.RuleError values of this package.
const (
	CodeCommitted                     = "certificate_money_committed"
	CodeNotFundable                   = "certificate_not_fundable"
	CodeNoSlot                        = "category_no_free_slot"
	CodeProviderApplicationsForbidden = "provider_applications_forbidden"
	CodeProtectionMismatch            = "protection_mismatch"
	CodeWrongPassphrase               = "wrong_passphrase"
	CodeLockedOut                     = "locked_out"
	CodeNoPassphrase                  = "no_passphrase_set"
	CodeUnknownProvider               = "provider_not_known"
)
