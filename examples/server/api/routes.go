package api

import (
	"fmt"
	"net/http"
	"slices"

	"github.com/edufund/edufund/catalog"
	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/funding"
)

// An access is what a route asks of its caller before its handler runs.
type access int

const (
	public access = iota // nothing: the probes, the metrics, the document, the navigator's search and a program's page
	read                 // a bearer token
	write                // a bearer token and an Idempotency-Key
)

// A handler serves one route to a caller the route admitted.
type handler func(h *Handler, w http.ResponseWriter, r *http.Request, c call) error

// A route is one endpoint of the API.
type route struct {
	method, pattern string
	// op names the operation (the OpenAPI document's operationId): the
	// enrollment.Service method it calls, without the Batched of a faster
	// variant; the enrollment constant that tells apart the routes of one
	// method (ActivateCertificate…); the method of another reader it
	// calls (Revocations.Revoke); for a public route of the operations,
	// what it answers (Health, Ready, Metrics, OpenAPI).
	op string
	// roles may call the route at all, a pre-filter: who may act for whom
	// on a certificate or a contract the service decides, through
	// enrollment.Caller. Nil for a public route.
	roles  []Role
	access access
	handle handler
	// refusals are the problem codes the route answers beside those of
	// every route like it (invalid input, authentication, a role refused,
	// the Idempotency-Key of a write, an unknown id in the path): the
	// error table gives their statuses, and the OpenAPI document lists
	// them, every code with its status.
	refusals []string
	// served, if set, reports whether a server of that Config serves the route.
	served func(Config) bool
}

// Refusals that more than one route answers.
var (
	// statusChange is a change of a certificate's or a contract's status
	// by whoever holds it or is a party to it.
	statusChange = []string{enrollment.CodeIdempotencyConflict, enrollment.CodeForeign, enrollment.CodeForbiddenTransition}
	// limitChange is a municipality's limit set.
	limitChange = []string{enrollment.CodeIdempotencyConflict, enrollment.CodeForeign, enrollment.CodeLimitBelowUse}
	// invoiceMove is an invoice's acceptance or payment by its payer.
	invoiceMove = []string{enrollment.CodeIdempotencyConflict, enrollment.CodeNotFound, enrollment.CodeForeign,
		enrollment.CodeForbiddenTransition, enrollment.CodeInvoiceNotIssued}
	// catalogChange is a save in the catalog under a parent the body names.
	catalogChange = []string{enrollment.CodeIdempotencyConflict, enrollment.CodeUnknownReference, enrollment.CodeForeign}
	// certificationMove is a move of a program's certification.
	certificationMove = []string{enrollment.CodeIdempotencyConflict, enrollment.CodeNotFound, enrollment.CodeForeign, enrollment.CodeForbiddenTransition}
	// enrolment is an application's rules: enrollment's checks, the
	// catalog's and the certificate's protection.
	enrolment = []string{
		enrollment.CodeIdempotencyConflict, enrollment.CodeNotFound, enrollment.CodeForeign, enrollment.CodeForeignGroup,
		certificate.CodeProviderApplicationsForbidden, certificate.CodeProtectionMismatch, certificate.CodeWrongPassphrase,
		certificate.CodeLockedOut, certificate.CodeNoPassphrase, certificate.CodeUnknownProvider,
		enrollment.CodeCertificateNotFunded, enrollment.CodeCertificateSuspended, enrollment.CodeCertificateUnusable,
		enrollment.CodeCertificateUsed, enrollment.CodeInsufficientBalance,
		catalog.CodeSchemeMismatch, catalog.CodeAgeOutOfRange, catalog.CodeRegistryNotAllowed, catalog.CodeNotCertified,
		enrollment.CodeEnrolmentClosed, enrollment.CodeGroupFinished, enrollment.CodeNoAgreement, enrollment.CodeDuplicateModule,
		enrollment.CodeGroupFull, enrollment.CodeProgramLimit, enrollment.CodeProviderLimit, enrollment.CodeDirectionLimit,
		enrollment.CodeBudgetLimit, enrollment.CodeRegistryQuota,
		funding.CodeInsufficientHours, enrollment.CodeNoWeeklyHours, enrollment.CodeNoChildHourCost,
	}
)

// notAuthorised is every role but an authorised organisation's, which
// reads only the certificates it registered.
var notAuthorised = slices.DeleteFunc(slices.Clone(Roles), func(r Role) bool { return r == RoleAuthorised })

// feedRoles read the event feed: the systems of the providers, the
// municipalities and the operators (a holder reads notifications).
var feedRoles = []Role{RoleProvider, RoleMunicipality, RoleRegional, RoleFederal, enrollment.RoleAuditor}

// parameterRoles are the roles that may change some parameter of
// enrollment.Parameters, in the order of Roles.
func parameterRoles() []Role {
	var out []Role
	for _, r := range Roles {
		if slices.ContainsFunc(enrollment.Parameters, func(d enrollment.ParameterDef) bool { return slices.Contains(d.Roles, r) }) {
			out = append(out, r)
		}
	}
	return out
}

// routeTable is every endpoint of the API. New mounts it, and a test holds
// it against the OpenAPI document both ways.
var routeTable = []route{
	{method: "GET", pattern: "/healthz", op: "Health", access: public, handle: (*Handler).health},
	{method: "GET", pattern: "/readyz", op: "Ready", access: public, handle: (*Handler).readyz},
	{method: "GET", pattern: "/metrics", op: "Metrics", access: public, handle: (*Handler).metricsPage},
	{method: "GET", pattern: "/v1/openapi.json", op: "OpenAPI", access: public, handle: (*Handler).openAPI},

	// Certificates.
	// An authorised organisation issues on a paper application, within its
	// authorisation (the service checks it: not_authorised).
	{method: "POST", pattern: "/v1/certificates", op: "Issue", roles: []Role{RoleHolder, RoleMunicipality, RoleRegional, RoleAuthorised}, access: write, handle: (*Handler).issueCertificate,
		refusals: []string{enrollment.CodeIdempotencyConflict, enrollment.CodeForeign, enrollment.CodeNotGuardian,
			enrollment.CodeCertificateExists, certificate.CodeNotFundable, CodeIneligible, enrollment.CodeNotAuthorised}},
	{method: "GET", pattern: "/v1/certificates", op: "Certificates", roles: []Role{RoleHolder, RoleMunicipality, RoleRegional, RoleFederal, RoleAuditor}, access: read,
		handle: (*Handler).certificates},
	{method: "GET", pattern: "/v1/certificates/{id}", op: "CabinetOn", roles: Roles, access: read, handle: (*Handler).getCertificate},
	// A child's week across their active contracts, for the cabinet's readers.
	{method: "GET", pattern: "/v1/certificates/{id}/schedule", op: "Schedule", roles: Roles, access: read, handle: (*Handler).schedule},
	{method: "POST", pattern: "/v1/certificates/{id}/activate", op: "ActivateCertificate", roles: []Role{RoleMunicipality, RoleRegional, RoleFederal, RoleAuthorised}, access: write,
		handle: changeStatus(enrollment.ActivateCertificate), refusals: append(slices.Clone(statusChange), enrollment.CodeNotAuthorised)},
	{method: "POST", pattern: "/v1/certificates/{id}/suspend", op: "SuspendCertificate", roles: []Role{RoleMunicipality, RoleRegional, RoleFederal}, access: write,
		handle: changeStatus(enrollment.SuspendCertificate), refusals: statusChange},
	{method: "POST", pattern: "/v1/certificates/{id}/resume", op: "ResumeCertificate", roles: []Role{RoleMunicipality, RoleRegional, RoleFederal}, access: write,
		handle: changeStatus(enrollment.ResumeCertificate), refusals: statusChange},
	{method: "POST", pattern: "/v1/certificates/{id}/cancel", op: "CancelCertificate", roles: []Role{RoleMunicipality, RoleRegional, RoleFederal}, access: write,
		handle: changeStatus(enrollment.CancelCertificate), refusals: statusChange},
	{method: "POST", pattern: "/v1/certificates/{id}/fund", op: "RequestFunding", roles: []Role{RoleHolder, RoleMunicipality, RoleRegional}, access: write, handle: (*Handler).fundCertificate,
		refusals: []string{enrollment.CodeIdempotencyConflict, enrollment.CodeForeign, certificate.CodeNotFundable}},
	// The holder (a child's guardian, the adult) chooses how providers may
	// apply for them; the passphrase is hashed by the service.
	{method: "POST", pattern: "/v1/certificates/{id}/protection", op: "SetProtection", roles: []Role{RoleHolder}, access: write, handle: (*Handler).setProtection,
		refusals: []string{enrollment.CodeIdempotencyConflict, enrollment.CodeForeign}},
	// The guardian recorded on a child's certificate links a second one:
	// the holder's consent, so no official is asked.
	{method: "POST", pattern: "/v1/certificates/{id}/guardians", op: "AddSecondGuardian", roles: []Role{RoleHolder}, access: write, handle: (*Handler).addSecondGuardian,
		refusals: []string{enrollment.CodeIdempotencyConflict, enrollment.CodeNotGuardian}},
	{method: "POST", pattern: "/v1/guardianships", op: "LinkGuardian", roles: []Role{RoleMunicipality, RoleRegional}, access: write, handle: (*Handler).linkGuardian,
		refusals: []string{enrollment.CodeIdempotencyConflict, enrollment.CodeForeign}},

	// Catalog. The navigator's search and a program's page are what a
	// navigator shows anyone: no token.
	{method: "GET", pattern: "/v1/catalog", op: "Search", access: public, handle: (*Handler).search, refusals: []string{CodeInvalid}},
	{method: "GET", pattern: "/v1/catalog/programs/{id}", op: "ProgramPage", access: public, handle: (*Handler).programPage},
	{method: "GET", pattern: "/v1/catalog/competency-areas", op: "CompetencyAreas", access: public, handle: (*Handler).competencyAreas, refusals: []string{CodeInvalid}},
	{method: "GET", pattern: "/v1/groups/{id}", op: "Offer", roles: Roles, access: read, handle: (*Handler).group},

	// Applications and contracts.
	{method: "POST", pattern: "/v1/applications", op: "Submit", roles: []Role{RoleHolder, RoleProvider}, access: write, handle: (*Handler).submit,
		refusals: slices.Concat(enrolment, []string{enrollment.CodeWaitlisted})},
	// A full group's waitlist: positions per certificate, the holder
	// confirms a seat offered or leaves.
	{method: "GET", pattern: "/v1/certificates/{id}/waitlist", op: "Waitlist", roles: Roles, access: read, handle: (*Handler).waitlist},
	{method: "POST", pattern: "/v1/waitlist/{id}/confirm", op: "ConfirmWaitlist", roles: []Role{RoleHolder}, access: write,
		handle: confirmWaitlist, refusals: statusChange},
	{method: "POST", pattern: "/v1/waitlist/{id}/leave", op: "LeaveWaitlist", roles: []Role{RoleHolder}, access: write,
		handle: leaveWaitlist, refusals: statusChange},
	// A holder lists the contracts of one certificate they act for: another
	// family's, or none, is not found.
	// An authorised organisation is party to no contract (the service refuses it too).
	{method: "GET", pattern: "/v1/contracts", op: "Contracts", roles: notAuthorised, access: read, handle: (*Handler).contracts,
		refusals: []string{enrollment.CodeNotFound}},
	{method: "GET", pattern: "/v1/contracts/{id}", op: "Contract", roles: Roles, access: read, handle: (*Handler).getContract},
	{method: "POST", pattern: "/v1/contracts/{id}/confirm", op: "Confirm", roles: []Role{RoleProvider}, access: write,
		handle: contractAction((*enrollment.Service).Confirm), refusals: slices.Concat(statusChange, []string{enrollment.CodeCertificateNotActive})},
	{method: "POST", pattern: "/v1/contracts/{id}/refuse", op: "Refuse", roles: []Role{RoleProvider}, access: write,
		handle: (*Handler).refuse, refusals: statusChange},
	{method: "POST", pattern: "/v1/contracts/{id}/accept", op: "Accept", roles: []Role{RoleHolder}, access: write,
		handle: contractAction((*enrollment.Service).Accept), refusals: slices.Concat(statusChange, []string{enrollment.CodeCertificateNotActive})},
	// A provider holding the holder's signed paper application activates
	// an application or an offer itself, under the certificate's protection.
	{method: "POST", pattern: "/v1/contracts/{id}/activate-paper", op: "ActivateOnPaper", roles: []Role{RoleProvider}, access: write,
		handle: (*Handler).activateOnPaper, refusals: slices.Concat(statusChange, []string{enrollment.CodeNotFound, enrollment.CodeCertificateNotActive,
			certificate.CodeProviderApplicationsForbidden, certificate.CodeProtectionMismatch, certificate.CodeWrongPassphrase,
			certificate.CodeLockedOut, certificate.CodeNoPassphrase})},
	{method: "POST", pattern: "/v1/contracts/{id}/withdraw", op: "Withdraw", roles: []Role{RoleHolder}, access: write,
		handle: contractAction((*enrollment.Service).Withdraw), refusals: statusChange},
	{method: "POST", pattern: "/v1/contracts/{id}/terminate", op: "Terminate", roles: []Role{RoleHolder, RoleProvider}, access: write,
		handle: contractAction((*enrollment.Service).Terminate), refusals: statusChange},
	{method: "POST", pattern: "/v1/contracts/{id}/delivery", op: "ReportDelivery", roles: []Role{RoleProvider}, access: write, handle: (*Handler).delivery,
		refusals: []string{enrollment.CodeIdempotencyConflict, enrollment.CodeForeign, enrollment.CodeNotBilled, enrollment.CodeAlreadyReported}},
	{method: "POST", pattern: "/v1/contracts/{id}/rating", op: "Rate", roles: []Role{RoleHolder}, access: write, handle: (*Handler).rating,
		refusals: []string{enrollment.CodeIdempotencyConflict, enrollment.CodeForeign, enrollment.CodeRatingClosed}},
	{method: "POST", pattern: "/v1/contracts/{id}/prolong", op: "Prolong", roles: []Role{RoleProvider}, access: write, handle: (*Handler).prolong,
		refusals: slices.Concat(enrolment, []string{enrollment.CodeForbiddenTransition, enrollment.CodeNotProlongable, enrollment.CodeProlongationTarget})},
	{method: "POST", pattern: "/v1/contracts/{id}/complete", op: "Complete", roles: []Role{RoleProvider}, access: write,
		handle: (*Handler).complete, refusals: slices.Concat(statusChange, []string{enrollment.CodeNotAdultCourse})},

	// Billing.
	{method: "GET", pattern: "/v1/invoices", op: "Invoices", roles: []Role{RoleProvider, RoleMunicipality, RoleRegional, RoleFederal, RoleAuditor}, access: read, handle: (*Handler).invoices,
		refusals: []string{enrollment.CodeNotFound}},
	// An invoice's payer (the municipality of a children's invoice, the
	// federal operator of an adult one) accepts it, then pays it.
	{method: "POST", pattern: "/v1/invoices/accept", op: "AcceptInvoice", roles: []Role{RoleMunicipality, RoleFederal}, access: write,
		handle: moveInvoice((*enrollment.Service).AcceptInvoice), refusals: invoiceMove},
	{method: "POST", pattern: "/v1/invoices/pay", op: "PayInvoice", roles: []Role{RoleMunicipality, RoleFederal}, access: write,
		handle: moveInvoice((*enrollment.Service).PayInvoice), refusals: slices.Concat(invoiceMove, []string{enrollment.CodeInvoiceChanged})},

	// Exports (exports.go): the tables accounting and the registries take
	// in, as CSV or XLSX, within the caller's reach as the service reads
	// it; another provider's lines or completions are not found.
	{method: "GET", pattern: "/v1/exports/invoice-lines", op: "ExportInvoiceLines", roles: exportRoles, access: read,
		handle: (*Handler).exportInvoiceLines, refusals: []string{enrollment.CodeNotFound}},
	{method: "GET", pattern: "/v1/exports/contracts", op: "ExportContracts", roles: exportRoles, access: read, handle: (*Handler).exportContracts},
	{method: "GET", pattern: "/v1/exports/certificates", op: "ExportCertificates", roles: []Role{RoleMunicipality, RoleRegional, RoleFederal, RoleAuditor}, access: read,
		handle: (*Handler).exportCertificates},
	{method: "GET", pattern: "/v1/exports/completions", op: "ExportCompletions", roles: []Role{RoleProvider, RoleFederal, RoleAuditor}, access: read,
		handle: (*Handler).exportCompletions, refusals: []string{enrollment.CodeNotFound}},

	// The audit trail of the ledger: every role within its reach (a
	// holder one certificate's), the auditor all of it.
	{method: "GET", pattern: "/v1/audit/postings", op: "Ledger", roles: notAuthorised, access: read, handle: (*Handler).auditPostings,
		refusals: []string{enrollment.CodeNotFound}},

	// Adult scheme.
	{method: "POST", pattern: "/v1/adult/applications", op: "ApplyAdult", roles: []Role{RoleHolder, RoleFederal}, access: write, handle: (*Handler).applyAdult,
		refusals: []string{enrollment.CodeIdempotencyConflict, enrollment.CodeForeign, enrollment.CodeCertificateExists, CodeIneligible}},
	{method: "GET", pattern: "/v1/certificates/{id}/search", op: "SearchFor", roles: Roles, access: read, handle: (*Handler).searchFor},
	{method: "GET", pattern: "/v1/certificates/{id}/queue", op: "QueuePosition", roles: Roles, access: read, handle: (*Handler).queuePosition},
	{method: "POST", pattern: "/v1/certificates/{id}/documents", op: "RecordDocuments", roles: []Role{RoleHolder, RoleFederal}, access: write, handle: (*Handler).documents,
		refusals: []string{enrollment.CodeIdempotencyConflict, enrollment.CodeForeign}},
	{method: "POST", pattern: "/v1/certificates/{id}/cancel-overdue", op: "CancelOverdue", roles: []Role{RoleFederal}, access: write, handle: (*Handler).cancelOverdue,
		refusals: slices.Concat(statusChange, []string{enrollment.CodeNotOverdue})},
	// The federal operator's review of an adult application, where the
	// region asks for one (parameter adults.federal_review).
	{method: "POST", pattern: "/v1/certificates/{id}/review", op: "ReviewAdult", roles: []Role{RoleFederal}, access: write, handle: (*Handler).reviewAdult,
		refusals: []string{enrollment.CodeIdempotencyConflict, enrollment.CodeForeign, enrollment.CodeReviewed, enrollment.CodeForbiddenTransition}},
	{method: "GET", pattern: "/v1/adult/reviews", op: "AdultReviews", roles: []Role{RoleFederal, RoleAuditor}, access: read, handle: (*Handler).adultReviews,
		refusals: []string{CodeInvalid}},

	// Eligibility: a query with a body; it changes nothing, so it takes no
	// Idempotency-Key.
	{method: "POST", pattern: "/v1/eligibility", op: "Eligibility", roles: []Role{RoleHolder, RoleMunicipality, RoleRegional, RoleFederal}, access: read,
		handle: (*Handler).eligibility, refusals: []string{enrollment.CodeForeign, enrollment.CodeNotGuardian}},

	// Administration.
	{method: "POST", pattern: "/v1/admin/close", op: "CloseMonth", roles: []Role{RoleRegional}, access: write, handle: (*Handler).closeMonth,
		refusals: []string{enrollment.CodeMonthNotStarted, enrollment.CodeMonthSkipped}},
	{method: "POST", pattern: "/v1/admin/rollover", op: "Rollover", roles: []Role{RoleRegional}, access: write, handle: (*Handler).rollover,
		refusals: []string{enrollment.CodePeriodNotEnded}},
	{method: "POST", pattern: "/v1/admin/accept-by-silence", op: "AcceptBySilence", roles: []Role{RoleRegional}, access: write, handle: (*Handler).acceptBySilence},
	{method: "POST", pattern: "/v1/admin/expire-waitlist-offers", op: "ExpireWaitlistOffers", roles: []Role{RoleRegional}, access: write, handle: (*Handler).expireWaitlistOffers},
	{method: "POST", pattern: "/v1/admin/budgets", op: "SetBudget", roles: []Role{RoleMunicipality, RoleRegional}, access: write, handle: (*Handler).setBudget, refusals: limitChange},
	{method: "POST", pattern: "/v1/admin/direction-limits", op: "SetDirectionLimit", roles: []Role{RoleMunicipality, RoleRegional}, access: write,
		handle: (*Handler).setDirectionLimit, refusals: limitChange},
	{method: "POST", pattern: "/v1/admin/categories", op: "SaveCategory", roles: []Role{RoleRegional}, access: write, handle: (*Handler).saveCategory,
		refusals: []string{enrollment.CodeIdempotencyConflict, enrollment.CodeInsufficientBalance, enrollment.CodeLimitBelowUse, enrollment.CodeNominalCut}},
	{method: "POST", pattern: "/v1/admin/providers", op: "SaveProvider", roles: []Role{RoleRegional}, access: write, handle: (*Handler).saveProvider,
		refusals: []string{enrollment.CodeIdempotencyConflict}},
	// Reading what the routes above write (admin_reads.go): the children's
	// scheme's officials and the auditor read the categories and the
	// limits, a municipality its own; everyone signed in reads the
	// providers and their catalogue, in full where the service allows.
	{method: "GET", pattern: "/v1/admin/categories", op: "Categories", roles: limitReaders, access: read, handle: (*Handler).categories},
	{method: "GET", pattern: "/v1/admin/categories/{code}", op: "ReadCategory", roles: limitReaders, access: read, handle: (*Handler).category,
		refusals: []string{enrollment.CodeNotFound}},
	{method: "GET", pattern: "/v1/admin/budgets", op: "Budgets", roles: limitReaders, access: read, handle: (*Handler).budgets,
		refusals: []string{enrollment.CodeForeign}},
	{method: "GET", pattern: "/v1/admin/direction-limits", op: "DirectionLimits", roles: limitReaders, access: read, handle: (*Handler).directionLimits,
		refusals: []string{enrollment.CodeForeign}},
	{method: "GET", pattern: "/v1/providers", op: "Providers", roles: Roles, access: read, handle: (*Handler).providers},
	{method: "GET", pattern: "/v1/providers/{id}", op: "Provider", roles: Roles, access: read, handle: (*Handler).provider},
	{method: "GET", pattern: "/v1/providers/{id}/programs", op: "ProviderPrograms", roles: Roles, access: read, handle: (*Handler).providerPrograms},
	// A region set up in bulk (import.go).
	{method: "POST", pattern: "/v1/admin/import", op: "Import", roles: []Role{RoleRegional}, access: write, handle: (*Handler).importRegion,
		refusals: []string{CodeRefused}},
	// The region's dated parameters: every official reads them; who may
	// change which the service decides per parameter (ParameterDef.Roles),
	// so the route admits every role some parameter names.
	{method: "GET", pattern: "/v1/admin/parameters", op: "ParameterVersions", roles: []Role{RoleMunicipality, RoleRegional, RoleFederal, RoleAuditor}, access: read,
		handle: (*Handler).parameters},
	{method: "POST", pattern: "/v1/admin/parameters", op: "SetParameter", roles: parameterRoles(), access: write, handle: (*Handler).setParameter,
		refusals: []string{enrollment.CodeIdempotencyConflict, enrollment.CodeForeign, enrollment.CodeLimitBelowUse}},
	// The budget forecast and the what-if of a change: reads that write
	// nothing; the what-if is a query with a body, so it takes no
	// Idempotency-Key. Who may ask what a change would do the service
	// decides: whoever may make it.
	{method: "GET", pattern: "/v1/admin/forecast", op: "Forecast", roles: []Role{RoleMunicipality, RoleRegional, RoleFederal}, access: read,
		handle: (*Handler).forecast},
	{method: "POST", pattern: "/v1/admin/what-if", op: "WhatIf", roles: []Role{RoleMunicipality, RoleRegional, RoleFederal}, access: read,
		handle: (*Handler).whatIf, refusals: []string{enrollment.CodeForeign}},
	{method: "POST", pattern: "/v1/catalog/programs", op: "SaveProgram", roles: []Role{RoleProvider, RoleRegional}, access: write, handle: (*Handler).saveProgram,
		refusals: catalogChange},
	// Certification of programs: the provider submits and withdraws, the
	// regional operator certifies or denies with a reason.
	{method: "POST", pattern: "/v1/catalog/programs/{id}/submit", op: "SubmitProgram", roles: []Role{RoleProvider}, access: write,
		handle: (*Handler).submitProgram, refusals: certificationMove},
	{method: "POST", pattern: "/v1/catalog/programs/{id}/withdraw", op: "WithdrawProgram", roles: []Role{RoleProvider}, access: write,
		handle: (*Handler).withdrawProgram, refusals: certificationMove},
	{method: "POST", pattern: "/v1/catalog/programs/{id}/certify", op: "CertifyProgram", roles: []Role{RoleRegional}, access: write,
		handle: (*Handler).certifyProgram, refusals: certificationMove},
	{method: "POST", pattern: "/v1/catalog/programs/{id}/deny", op: "DenyProgram", roles: []Role{RoleRegional}, access: write,
		handle: (*Handler).denyProgram, refusals: certificationMove},
	{method: "POST", pattern: "/v1/catalog/modules", op: "SaveModule", roles: []Role{RoleProvider, RoleRegional}, access: write, handle: (*Handler).saveModule,
		refusals: catalogChange},
	{method: "POST", pattern: "/v1/catalog/groups", op: "SaveGroup", roles: []Role{RoleProvider, RoleRegional}, access: write, handle: (*Handler).saveGroup,
		refusals: slices.Concat(catalogChange, []string{enrollment.CodeLimitBelowUse})},
	// The outbox: the feed for the region's systems, each caller's
	// notifications, the webhook subscriptions.
	{method: "GET", pattern: "/v1/events", op: "Events", roles: feedRoles, access: read, handle: (*Handler).events},
	{method: "GET", pattern: "/v1/notifications", op: "Notifications", roles: Roles, access: read, handle: (*Handler).storedNotifications},
	// The auditor changes nothing, not even a read mark (none is theirs).
	// Nor does an authorised organisation, whose only writes are its issues and activations.
	{method: "POST", pattern: "/v1/notifications/read", op: "MarkRead", roles: slices.DeleteFunc(slices.Clone(Roles), func(r Role) bool { return r == RoleAuditor || r == RoleAuthorised }), access: write, handle: (*Handler).markRead,
		refusals: []string{enrollment.CodeIdempotencyConflict}},
	{method: "POST", pattern: "/v1/admin/subscriptions", op: "Subscribe", roles: []Role{RoleRegional, RoleFederal}, access: write, handle: (*Handler).subscribe,
		refusals: []string{enrollment.CodeIdempotencyConflict, enrollment.CodeForeign}},
	{method: "GET", pattern: "/v1/admin/subscriptions", op: "Subscriptions", roles: []Role{RoleRegional, RoleFederal, enrollment.RoleAuditor}, access: read, handle: (*Handler).subscriptions},
	{method: "POST", pattern: "/v1/admin/subscriptions/{id}/remove", op: "Unsubscribe", roles: []Role{RoleRegional, RoleFederal}, access: write, handle: (*Handler).unsubscribe,
		refusals: []string{enrollment.CodeIdempotencyConflict}},
	// Authorised organisations: granted and revoked by a municipality (its
	// own) or the regional operator.
	{method: "POST", pattern: "/v1/admin/authorisations", op: "Authorise", roles: []Role{RoleMunicipality, RoleRegional}, access: write, handle: (*Handler).authorise,
		refusals: []string{enrollment.CodeIdempotencyConflict, enrollment.CodeForeign}},
	{method: "GET", pattern: "/v1/admin/authorisations", op: "Authorisations", roles: []Role{RoleMunicipality, RoleRegional, RoleAuditor, RoleAuthorised}, access: read, handle: (*Handler).authorisations},
	{method: "POST", pattern: "/v1/admin/authorisations/{id}/revoke", op: "RevokeAuthorisation", roles: []Role{RoleMunicipality, RoleRegional}, access: write, handle: (*Handler).revokeAuthorisation,
		refusals: []string{enrollment.CodeIdempotencyConflict, enrollment.CodeNotFound}},
	{method: "POST", pattern: "/v1/admin/tokens/revoke", op: "Revoke", roles: []Role{RoleRegional}, access: write, handle: (*Handler).revokeTokens,
		served: func(c Config) bool { return c.Revocations != nil }},
}

// mount registers the routes a server of h.cfg serves, and a 404 problem
// for every other request.
func (h *Handler) mount() {
	for _, rt := range routeTable {
		if rt.served == nil || rt.served(h.cfg) {
			h.mux.Handle(rt.method+" "+rt.pattern, h.serve(rt))
		}
	}
	h.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		h.problem(w, r, newProblem(http.StatusNotFound, enrollment.CodeNotFound, "no such endpoint"))
	})
}

// serve runs rt's handler for a caller rt admits.
func (h *Handler) serve(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := h.admit(r, rt)
		if err == nil {
			err = rt.handle(h, w, r, c)
		}
		if err != nil {
			h.problem(w, r, err)
		}
	})
}

// admit checks what rt asks of the caller, in this order: the bearer
// token, the Idempotency-Key of a write, and the caller's role.
func (h *Handler) admit(r *http.Request, rt route) (call, error) {
	if rt.access == public {
		return call{}, nil
	}
	p, err := h.authenticate(r)
	if err != nil {
		return call{}, err
	}
	info(r).principal, info(r).authed = p, true
	c := call{p: p}
	if rt.access == write {
		key := r.Header.Get("Idempotency-Key")
		if err := checkKey(key); err != nil {
			return call{}, err
		}
		c.key = scopedKey(p, key)
	}
	if !slices.Contains(rt.roles, p.Role) {
		return call{}, errForbidden(fmt.Sprintf("role %s may not do this", p.Role))
	}
	return c, nil
}
