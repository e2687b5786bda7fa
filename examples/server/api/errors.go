package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/edufund/edufund/catalog"
	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/enrollment/batch"
	"github.com/edufund/edufund/funding"
)

// The problem codes of the API's own: the edge's (authentication, the
// request's form) and those of the error table's rows for an error that
// carries no code. The domain's refusals carry the Code… constants of
// funding, certificate, catalog and enrollment.
const (
	CodeInvalid               = "invalid"                 // 400: a field, query parameter or body breaks a rule of form
	CodeIdempotencyKeyMissing = "idempotency_key_missing" // 400
	CodeIdempotencyKeyInvalid = "idempotency_key_invalid" // 400
	CodeUnauthenticated       = "unauthenticated"         // 401
	CodeForbidden             = "forbidden"               // 403: the caller's role may not do this
	CodeExists                = "exists"                  // 409: a unique rule of the store
	CodeBodyTooLarge          = "body_too_large"          // 413
	CodeUnsupportedMediaType  = "unsupported_media_type"  // 415
	CodeIneligible            = "ineligible"              // 422, with the failed rules
	CodeRefused               = "refused"                 // 422: a rule's refusal that carries no code
	CodeInternal              = "internal"                // 500
	CodeUnavailable           = "unavailable"             // 503: busy, or the database is out of reach
	CodeTimeout               = "timeout"                 // 503: cancelled or too slow
	CodeNotReady              = "not_ready"               // 503: GET /readyz
)

// An errorRow maps the errors it matches to a problem.
type errorRow struct {
	is error            // matches through errors.Is
	as func(error) bool // or, when is is nil, a type (errors.As)
	// status is the problem's status; a 5xx hides the error (it is
	// logged) and a 503 asks the client to retry.
	status int
	// codes[0] is the problem's code for an error that carries none; a
	// *funding.RuleError's own code wins, and codes lists each one that
	// the domain refuses with this error, so that every code has a status.
	codes []string
	// problem, if set, completes the problem from the error: a field, the
	// failed rules, a detail other than the error's text.
	problem func(p *Problem, err error)
}

// errorTable maps the errors of the domain, the store and the edge to
// problems: the first row that matches an error decides. A test holds it
// against every exported sentinel and Code… constant of the domain
// packages, so a new one needs a row.
var errorTable = []errorRow{
	{as: errorAs[*http.MaxBytesError], status: http.StatusRequestEntityTooLarge, codes: []string{CodeBodyTooLarge}, problem: bodyTooLarge},
	{is: enrollment.ErrIneligible, status: http.StatusUnprocessableEntity, codes: []string{CodeIneligible}, problem: ineligible},
	{is: enrollment.ErrIdempotencyConflict, status: http.StatusConflict, codes: []string{enrollment.CodeIdempotencyConflict}},
	{is: enrollment.ErrForbidden, status: http.StatusForbidden, codes: []string{CodeForbidden,
		enrollment.CodeForeign, enrollment.CodeNotGuardian, enrollment.CodeForeignGroup}},
	{is: enrollment.ErrNotAuthorised, status: http.StatusForbidden, codes: []string{enrollment.CodeNotAuthorised}},
	{is: enrollment.ErrNotFound, status: http.StatusNotFound, codes: []string{enrollment.CodeNotFound}},
	{is: enrollment.ErrExists, status: http.StatusConflict, codes: []string{CodeExists, enrollment.CodeCertificateExists}},
	{is: enrollment.ErrForbiddenTransition, status: http.StatusConflict, codes: []string{enrollment.CodeForbiddenTransition}},
	{is: certificate.ErrForbiddenTransition, status: http.StatusConflict, codes: []string{enrollment.CodeForbiddenTransition}},
	{is: catalog.ErrForbiddenTransition, status: http.StatusConflict, codes: []string{enrollment.CodeForbiddenTransition}},
	{is: enrollment.ErrInvoiceNotIssued, status: http.StatusConflict, codes: []string{enrollment.CodeInvoiceNotIssued}},
	{is: enrollment.ErrInvoiceChanged, status: http.StatusConflict, codes: []string{enrollment.CodeInvoiceChanged}},
	{is: enrollment.ErrUnavailable, status: http.StatusServiceUnavailable, codes: []string{CodeUnavailable}, problem: busy},
	{is: enrollment.ErrContention, status: http.StatusServiceUnavailable, codes: []string{CodeUnavailable}, problem: busy},
	{is: context.DeadlineExceeded, status: http.StatusServiceUnavailable, codes: []string{CodeTimeout}, problem: timedOut},
	{is: context.Canceled, status: http.StatusServiceUnavailable, codes: []string{CodeTimeout}, problem: timedOut},
	// Every *funding.ValidationError matches funding.ErrInvalid.
	{is: funding.ErrInvalid, status: http.StatusBadRequest, codes: []string{CodeInvalid}, problem: invalidInput},
	{is: enrollment.ErrNoCaller, status: http.StatusBadRequest, codes: []string{CodeInvalid}},
	{is: enrollment.ErrUnknownReference, status: http.StatusUnprocessableEntity, codes: []string{enrollment.CodeUnknownReference}, problem: unknownReference},

	// The rules' refusals, each a *funding.RuleError.
	{is: funding.ErrNonPositiveAmount, status: http.StatusUnprocessableEntity, codes: []string{funding.CodeNonPositiveAmount}},
	{is: funding.ErrAmountTooLarge, status: http.StatusUnprocessableEntity, codes: []string{funding.CodeAmountTooLarge}},
	{is: funding.ErrInsufficientBalance, status: http.StatusUnprocessableEntity, codes: []string{funding.CodeInsufficientBalance}},
	{is: funding.ErrInsufficientReserve, status: http.StatusUnprocessableEntity, codes: []string{funding.CodeInsufficientReserve}},
	{is: funding.ErrInsufficientSpent, status: http.StatusUnprocessableEntity, codes: []string{funding.CodeInsufficientSpent}},
	{is: funding.ErrHoldMismatch, status: http.StatusUnprocessableEntity, codes: []string{funding.CodeHoldMismatch}},
	{is: funding.ErrHoldExists, status: http.StatusUnprocessableEntity, codes: []string{funding.CodeHoldExists}},
	{is: funding.ErrHoldOverSettled, status: http.StatusUnprocessableEntity, codes: []string{funding.CodeHoldOverSettled}},
	{is: funding.ErrRefundOverCharged, status: http.StatusUnprocessableEntity, codes: []string{funding.CodeRefundOverCharged}},
	{is: funding.ErrUnknownPosting, status: http.StatusUnprocessableEntity, codes: []string{funding.CodeUnknownPosting}},
	{is: funding.ErrLedgerInvariant, status: http.StatusUnprocessableEntity, codes: []string{funding.CodeLedgerInvariant}},
	{is: funding.ErrInsufficientHours, status: http.StatusUnprocessableEntity, codes: []string{funding.CodeInsufficientHours}},
	{is: funding.ErrHoursOverFreed, status: http.StatusUnprocessableEntity, codes: []string{funding.CodeHoursOverFreed}},
	{is: certificate.ErrCommitted, status: http.StatusUnprocessableEntity, codes: []string{certificate.CodeCommitted}},
	{is: certificate.ErrNotFundable, status: http.StatusUnprocessableEntity, codes: []string{certificate.CodeNotFundable}},
	{is: certificate.ErrNoSlot, status: http.StatusUnprocessableEntity, codes: []string{certificate.CodeNoSlot}},
	{is: certificate.ErrProviderApplicationsForbidden, status: http.StatusUnprocessableEntity, codes: []string{certificate.CodeProviderApplicationsForbidden}},
	{is: certificate.ErrProtectionMismatch, status: http.StatusUnprocessableEntity, codes: []string{certificate.CodeProtectionMismatch}},
	{is: certificate.ErrWrongPassphrase, status: http.StatusUnprocessableEntity, codes: []string{certificate.CodeWrongPassphrase}},
	{is: certificate.ErrLockedOut, status: http.StatusUnprocessableEntity, codes: []string{certificate.CodeLockedOut}},
	{is: certificate.ErrNoPassphrase, status: http.StatusUnprocessableEntity, codes: []string{certificate.CodeNoPassphrase}},
	{is: certificate.ErrUnknownProvider, status: http.StatusUnprocessableEntity, codes: []string{certificate.CodeUnknownProvider}},
	{is: catalog.ErrCertificateNotUsable, status: http.StatusUnprocessableEntity, codes: []string{catalog.CodeCertificateNotUsable}},
	{is: catalog.ErrSchemeMismatch, status: http.StatusUnprocessableEntity, codes: []string{catalog.CodeSchemeMismatch}},
	{is: catalog.ErrAgeOutOfRange, status: http.StatusUnprocessableEntity, codes: []string{catalog.CodeAgeOutOfRange}},
	{is: catalog.ErrRegistryNotAllowed, status: http.StatusUnprocessableEntity, codes: []string{catalog.CodeRegistryNotAllowed}},
	{is: catalog.ErrNotCertified, status: http.StatusUnprocessableEntity, codes: []string{catalog.CodeNotCertified}},
	{is: catalog.ErrEnrolmentClosed, status: http.StatusUnprocessableEntity, codes: []string{catalog.CodeEnrolmentClosed}},
	{is: catalog.ErrGroupFinished, status: http.StatusUnprocessableEntity, codes: []string{catalog.CodeGroupFinished}},
	{is: catalog.ErrNoAgreement, status: http.StatusUnprocessableEntity, codes: []string{catalog.CodeNoAgreement}},
	{is: enrollment.ErrCertificateNotFunded, status: http.StatusUnprocessableEntity, codes: []string{enrollment.CodeCertificateNotFunded}},
	{is: enrollment.ErrCertificateSuspended, status: http.StatusUnprocessableEntity, codes: []string{enrollment.CodeCertificateSuspended}},
	{is: enrollment.ErrCertificateUnusable, status: http.StatusUnprocessableEntity, codes: []string{enrollment.CodeCertificateUnusable}},
	{is: enrollment.ErrCertificateNotActive, status: http.StatusUnprocessableEntity, codes: []string{enrollment.CodeCertificateNotActive}},
	{is: enrollment.ErrCertificateUsed, status: http.StatusUnprocessableEntity, codes: []string{enrollment.CodeCertificateUsed}},
	{is: enrollment.ErrInsufficientBalance, status: http.StatusUnprocessableEntity, codes: []string{enrollment.CodeInsufficientBalance}},
	{is: enrollment.ErrGroupFull, status: http.StatusUnprocessableEntity, codes: []string{enrollment.CodeGroupFull}},
	{is: enrollment.ErrProgramLimit, status: http.StatusUnprocessableEntity, codes: []string{enrollment.CodeProgramLimit}},
	{is: enrollment.ErrProviderLimit, status: http.StatusUnprocessableEntity, codes: []string{enrollment.CodeProviderLimit}},
	{is: enrollment.ErrDirectionLimit, status: http.StatusUnprocessableEntity, codes: []string{enrollment.CodeDirectionLimit}},
	{is: enrollment.ErrBudgetLimit, status: http.StatusUnprocessableEntity, codes: []string{enrollment.CodeBudgetLimit}},
	{is: enrollment.ErrRegistryQuota, status: http.StatusUnprocessableEntity, codes: []string{enrollment.CodeRegistryQuota}},
	{is: enrollment.ErrDuplicateModule, status: http.StatusUnprocessableEntity, codes: []string{enrollment.CodeDuplicateModule}},
	{is: enrollment.ErrWaitlisted, status: http.StatusConflict, codes: []string{enrollment.CodeWaitlisted}},
	{is: enrollment.ErrNotAdultCourse, status: http.StatusUnprocessableEntity, codes: []string{enrollment.CodeNotAdultCourse}},
	{is: enrollment.ErrNotBilled, status: http.StatusUnprocessableEntity, codes: []string{enrollment.CodeNotBilled}},
	{is: enrollment.ErrAlreadyReported, status: http.StatusUnprocessableEntity, codes: []string{enrollment.CodeAlreadyReported}},
	{is: enrollment.ErrRatingClosed, status: http.StatusUnprocessableEntity, codes: []string{enrollment.CodeRatingClosed}},
	{is: enrollment.ErrNotOverdue, status: http.StatusUnprocessableEntity, codes: []string{enrollment.CodeNotOverdue}},
	{is: enrollment.ErrReviewed, status: http.StatusConflict, codes: []string{enrollment.CodeReviewed}},
	{is: enrollment.ErrNotProlongable, status: http.StatusUnprocessableEntity, codes: []string{enrollment.CodeNotProlongable}},
	{is: enrollment.ErrProlongationTarget, status: http.StatusUnprocessableEntity, codes: []string{enrollment.CodeProlongationTarget}},
	{is: enrollment.ErrLimitBelowUse, status: http.StatusUnprocessableEntity, codes: []string{enrollment.CodeLimitBelowUse}},
	{is: enrollment.ErrNominalCut, status: http.StatusUnprocessableEntity, codes: []string{enrollment.CodeNominalCut}},
	{is: enrollment.ErrNoWeeklyHours, status: http.StatusUnprocessableEntity, codes: []string{enrollment.CodeNoWeeklyHours}},
	{is: enrollment.ErrNoChildHourCost, status: http.StatusUnprocessableEntity, codes: []string{enrollment.CodeNoChildHourCost}},
	{is: enrollment.ErrBackDated, status: http.StatusUnprocessableEntity, codes: []string{enrollment.CodeBackDated}},
	{is: enrollment.ErrMonthNotStarted, status: http.StatusUnprocessableEntity, codes: []string{enrollment.CodeMonthNotStarted}},
	{is: enrollment.ErrMonthSkipped, status: http.StatusUnprocessableEntity, codes: []string{enrollment.CodeMonthSkipped}},
	{is: enrollment.ErrPeriodNotEnded, status: http.StatusUnprocessableEntity, codes: []string{enrollment.CodePeriodNotEnded}},

	// The service's own machinery, which never hands these to its
	// callers: one reaching the edge is a fault.
	{is: enrollment.ErrCounterFull, status: http.StatusInternalServerError, codes: []string{CodeInternal}, problem: internal},
	{is: batch.ErrStale, status: http.StatusInternalServerError, codes: []string{CodeInternal}, problem: internal},
	{is: batch.ErrClosed, status: http.StatusInternalServerError, codes: []string{CodeInternal}, problem: internal},
	// A store that keeps no events is the embedder's wiring, not the caller's.
	{is: enrollment.ErrNoOutbox, status: http.StatusInternalServerError, codes: []string{CodeInternal}, problem: internal},

	// A refusal of a rule the rows above do not name.
	{as: errorAs[*funding.RuleError], status: http.StatusUnprocessableEntity, codes: []string{CodeRefused}},
}

// unknownError is the row of an error no row of errorTable matches.
var unknownError = errorRow{status: http.StatusInternalServerError, codes: []string{CodeInternal}, problem: internal}

// errorAs reports whether err's tree holds a T.
func errorAs[T error](err error) bool {
	var t T
	return errors.As(err, &t)
}

// rowOf returns the row of errorTable that decides err.
func rowOf(err error) errorRow {
	for _, row := range errorTable {
		if row.is != nil && errors.Is(err, row.is) || row.is == nil && row.as(err) {
			return row
		}
	}
	return unknownError
}

// classify turns an error of the domain, the store or the edge into the
// problem the client sees.
func classify(err error) *Problem {
	var p *Problem
	if errors.As(err, &p) {
		return p
	}
	row := rowOf(err)
	code := row.codes[0]
	var re *funding.RuleError
	if errors.As(err, &re) && re.Code != "" {
		code = re.Code
	}
	p = newProblem(row.status, code, err.Error())
	if row.problem != nil {
		row.problem(p, err)
	}
	if row.status >= http.StatusInternalServerError {
		p.err = err
	}
	if row.status == http.StatusServiceUnavailable {
		p.retryAfter = "1"
	}
	return p
}

func bodyTooLarge(p *Problem, err error) {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		p.Detail = fmt.Sprintf("the body is limited to %d bytes", mbe.Limit)
	}
}

func ineligible(p *Problem, err error) {
	var ie *enrollment.IneligibleError
	if !errors.As(err, &ie) {
		return
	}
	p.Detail = ie.Error()
	for _, r := range ie.Reasons {
		p.Reasons = append(p.Reasons, Reason{Rule: r.Rule, Message: r.Message})
	}
}

func invalidInput(p *Problem, err error) {
	var ve *funding.ValidationError
	if errors.As(err, &ve) {
		p.Field, p.Detail = ve.Field, ve.Field+": "+validationDetail(ve)
	}
}

func unknownReference(p *Problem, err error) {
	var ue *enrollment.UnknownReferenceError
	if errors.As(err, &ue) {
		p.Field, p.Detail = ue.Field, fmt.Sprintf("%s: no such %s", ue.Field, ue.What)
	}
}

func busy(p *Problem, _ error) {
	p.Detail = "the service is busy or its database is out of reach; try again"
}

func timedOut(p *Problem, _ error) {
	p.Detail = "the request was cancelled or took too long; try again"
}

// internalDetail is the detail of every 500: the cause is logged, never shown.
const internalDetail = "an internal error occurred; it has been logged"

func internal(p *Problem, _ error) { p.Detail = internalDetail }
