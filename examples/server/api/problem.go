package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/google/uuid"

	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/funding"
)

// Problem is an RFC 9457 problem detail with edufund's extensions: the
// stable rule code, the invalid field, and an ineligible applicant's reasons.
type Problem struct {
	Type    string   `json:"type"`
	Title   string   `json:"title"`
	Status  int      `json:"status"`
	Detail  string   `json:"detail,omitempty"`
	Code    string   `json:"code"`
	Field   string   `json:"field,omitempty"`
	Reasons []Reason `json:"reasons,omitempty"`

	retryAfter string
	err        error // the cause, logged for 500s
}

// Reason is one failed eligibility rule.
type Reason struct {
	Rule    string `json:"rule"`
	Message string `json:"message"`
}

func (p *Problem) Error() string { return p.Code + ": " + p.Detail }

func newProblem(status int, code, detail string) *Problem {
	return &Problem{Type: "urn:edufund:problem:" + code, Title: http.StatusText(status), Status: status, Code: code, Detail: detail}
}

func invalidField(field, rule string) *Problem {
	p := newProblem(http.StatusBadRequest, "invalid", field+": "+rule)
	p.Field = field
	return p
}

var (
	errNotFoundProblem = func() *Problem { return newProblem(http.StatusNotFound, "not_found", "no such resource") }
	errForbidden       = func(detail string) *Problem { return newProblem(http.StatusForbidden, "forbidden", detail) }
)

// classify turns an error of the domain, the store or the edge into the
// problem the client sees.
func classify(err error) *Problem {
	var p *Problem
	if errors.As(err, &p) {
		return p
	}
	var (
		ve  *funding.ValidationError
		re  *funding.RuleError
		ie  *enrollment.IneligibleError
		mbe *http.MaxBytesError
	)
	code := func(def string) string {
		if re != nil && re.Code != "" {
			return re.Code
		}
		return def
	}
	errors.As(err, &re)
	switch {
	case errors.As(err, &mbe):
		return newProblem(http.StatusRequestEntityTooLarge, "body_too_large", fmt.Sprintf("the body is limited to %d bytes", mbe.Limit))
	case errors.As(err, &ie):
		p := newProblem(http.StatusUnprocessableEntity, "ineligible", ie.Error())
		for _, r := range ie.Reasons {
			p.Reasons = append(p.Reasons, Reason{Rule: r.Rule, Message: r.Message})
		}
		return p
	case errors.Is(err, enrollment.ErrIdempotencyConflict):
		return newProblem(http.StatusConflict, code("idempotency_conflict"), err.Error())
	case errors.Is(err, enrollment.ErrForbidden):
		return newProblem(http.StatusForbidden, code("forbidden"), err.Error())
	case errors.Is(err, enrollment.ErrNotFound):
		return newProblem(http.StatusNotFound, "not_found", err.Error())
	case errors.Is(err, enrollment.ErrExists):
		return newProblem(http.StatusConflict, code("exists"), err.Error())
	case errors.Is(err, enrollment.ErrForbiddenTransition), errors.Is(err, certificate.ErrForbiddenTransition):
		return newProblem(http.StatusConflict, code("forbidden_transition"), err.Error())
	case errors.Is(err, enrollment.ErrUnavailable), errors.Is(err, enrollment.ErrContention):
		p := newProblem(http.StatusServiceUnavailable, "unavailable", "the service is busy or its database is out of reach; try again")
		p.retryAfter = "1"
		p.err = err
		return p
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		p := newProblem(http.StatusServiceUnavailable, "timeout", "the request was cancelled or took too long; try again")
		p.retryAfter = "1"
		p.err = err
		return p
	case errors.As(err, &ve):
		return invalidField(ve.Field, validationDetail(ve))
	case re != nil:
		return newProblem(http.StatusUnprocessableEntity, code("refused"), err.Error())
	}
	p = newProblem(http.StatusInternalServerError, "internal", "an internal error occurred; it has been logged")
	p.err = err
	return p
}

func validationDetail(ve *funding.ValidationError) string {
	if ve.Value == "" {
		return ve.Rule
	}
	v := ve.Value
	if len(v) > 64 {
		v = v[:64] + "…"
	}
	return fmt.Sprintf("%s (got %q)", ve.Rule, v)
}

// maxBody bounds every request body.
const maxBody = 1 << 20

// decode reads a JSON body into dst strictly: JSON only, at most maxBody
// bytes, no unknown fields, one value and nothing after it. An empty body
// is allowed when emptyOK (actions that carry no data).
func decode(w http.ResponseWriter, r *http.Request, dst any, emptyOK bool) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return newProblem(http.StatusUnsupportedMediaType, "unsupported_media_type", "the body must be application/json")
		}
	}
	body := http.MaxBytesReader(w, r.Body, maxBody)
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		if errors.Is(err, io.EOF) && emptyOK {
			return nil
		}
		return jsonProblem(err)
	}
	if err := dec.Decode(&struct{}{}); !errors.Is(err, io.EOF) {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return classify(err)
		}
		return invalidField("body", "must hold exactly one JSON value")
	}
	return nil
}

func jsonProblem(err error) error {
	var (
		se  *json.SyntaxError
		te  *json.UnmarshalTypeError
		mbe *http.MaxBytesError
	)
	switch {
	case errors.As(err, &mbe):
		return classify(err)
	case errors.As(err, &te):
		field := te.Field
		if field == "" {
			field = "body"
		}
		return invalidField(field, "must be of JSON type "+jsonType(te.Type.Kind().String()))
	case errors.As(err, &se):
		return invalidField("body", fmt.Sprintf("is not valid JSON (at byte %d)", se.Offset))
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return invalidField("body", "must be a JSON object")
	}
	if msg := err.Error(); strings.HasPrefix(msg, "json: unknown field ") {
		return invalidField(strings.Trim(strings.TrimPrefix(msg, "json: unknown field "), `"`), "is not a known field")
	}
	var ve *funding.ValidationError
	if errors.As(err, &ve) {
		return classify(err)
	}
	return invalidField("body", "is not a valid request")
}

func jsonType(kind string) string {
	switch kind {
	case "string":
		return "string"
	case "bool":
		return "boolean"
	case "struct", "map":
		return "object"
	case "slice", "array":
		return "array"
	}
	return "number (integer)"
}

// Strict parsers of the text forms, each naming the field it reads.

func parseUUID(s string) (uuid.UUID, error) {
	// Only the canonical 8-4-4-4-12 form: uuid.Parse also takes URNs,
	// braces and hyphenless forms, which a strict API refuses.
	if len(s) != 36 {
		return uuid.Nil, errors.New("not a canonical UUID")
	}
	return uuid.Parse(s)
}

type parser struct{ err error }

func (p *parser) fail(field, rule string) {
	if p.err == nil {
		p.err = invalidField(field, rule)
	}
}

func (p *parser) uuid(field, s string, required bool) uuid.UUID {
	if s == "" {
		if required {
			p.fail(field, "is required")
		}
		return uuid.Nil
	}
	id, err := parseUUID(s)
	if err != nil || id == uuid.Nil {
		p.fail(field, "must be a UUID such as 0190f0c4-7a4e-7b8e-9c1d-2f3a4b5c6d7e")
	}
	return id
}

func (p *parser) date(field, s string, required bool) funding.Date {
	if s == "" {
		if required {
			p.fail(field, "is required")
		}
		return funding.Date{}
	}
	d, err := funding.ParseDate(s)
	if err != nil {
		p.fail(field, "must be a date YYYY-MM-DD between 1900 and 2999")
	}
	return d
}

func (p *parser) month(field, s string, required bool) funding.Month {
	if s == "" {
		if required {
			p.fail(field, "is required")
		}
		return funding.Month{}
	}
	m, err := funding.ParseMonth(s)
	if err != nil {
		p.fail(field, "must be a month YYYY-MM")
	}
	return m
}

func (p *parser) money(field, s string) funding.Money {
	if s == "" {
		p.fail(field, "is required")
		return funding.Zero
	}
	m, err := funding.ParseMoney(s)
	if err != nil {
		p.fail(field, "must be an amount such as 1234.56, at most two decimals")
	}
	return m
}

// text cleans a one-line text by the domain's rule (funding.Text), so that
// a query parameter meets the same rule as a field a constructor checks.
func (p *parser) text(field, s string, max int, required bool) string {
	s, err := funding.Text(field, s, max)
	return p.check(field, s, err, required)
}

// multiline is text for a text of several lines (funding.MultilineText).
func (p *parser) multiline(field, s string, max int) string {
	s, err := funding.MultilineText(field, s, max)
	return p.check(field, s, err, false)
}

// personID canonicalises a person identifier (certificate.ParsePersonID),
// so that the caller's identity is compared with the canonical form.
func (p *parser) personID(field, s string, required bool) string {
	if s == "" && !required {
		return ""
	}
	s, err := certificate.ParsePersonID(s)
	return p.check(field, s, err, required)
}

// check records the domain's verdict on a text s cleaned for field.
func (p *parser) check(field, s string, err error, required bool) string {
	var ve *funding.ValidationError
	switch {
	case errors.As(err, &ve):
		p.fail(field, ve.Rule)
	case err != nil:
		p.fail(field, err.Error())
	case required && s == "":
		p.fail(field, "is required")
	}
	return s
}

// secret checks a passphrase by the same rule as text but keeps it as
// given: it is hashed, never stored or compared as text, and cleaning it
// (trimming, NFC) would change it.
func (p *parser) secret(field, s string, max int) string {
	_, err := funding.Text(field, s, max)
	p.check(field, s, err, false)
	return s
}
