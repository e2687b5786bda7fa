package api

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

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
	// Rows are the bad rows of a region's import (import.go).
	Rows []RowProblem `json:"rows,omitempty"`

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
	p := newProblem(http.StatusBadRequest, CodeInvalid, field+": "+rule)
	p.Field = field
	return p
}

var (
	errNotFoundProblem = func() *Problem { return newProblem(http.StatusNotFound, enrollment.CodeNotFound, "no such resource") }
	errForbidden       = func(detail string) *Problem { return newProblem(http.StatusForbidden, CodeForbidden, detail) }
)

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

// maxDepth bounds the nesting of a request body. The deepest body of the
// API nests four levels (a provider's agreements' periods); the bound keeps
// checkBody's recursion short whatever a client sends.
const maxDepth = 32

// decode reads a JSON body into dst strictly: JSON only, at most maxBody
// bytes, one object and nothing after it, no key given twice in an object
// (encoding/json would keep the last one silently), no unknown fields. An
// empty body is allowed when emptyOK (actions that carry no data).
func decode(w http.ResponseWriter, r *http.Request, dst any, emptyOK bool) error {
	body, err := readBody(w, r, maxBody)
	if err == io.EOF {
		if emptyOK {
			return nil
		}
		return invalidField("body", "must be a JSON object")
	}
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return jsonProblem(err)
	}
	return nil
}

// readBody reads a JSON body of at most max bytes and checks it with
// checkBody; io.EOF for an empty one.
func readBody(w http.ResponseWriter, r *http.Request, max int64) ([]byte, error) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return nil, newProblem(http.StatusUnsupportedMediaType, CodeUnsupportedMediaType, "the body must be application/json")
		}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, max))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, classify(err)
		}
		return nil, invalidField("body", "could not be read")
	}
	if err := checkBody(body); err != nil {
		return nil, err
	}
	return body, nil
}

// checkBody checks body before it is decoded: it must be one JSON object
// and nothing after it, nest at most maxDepth levels, and give no key twice
// in an object. Keys are compared as encoding/json matches them to fields,
// ignoring case. It returns io.EOF for an empty body and otherwise a
// problem naming the path of the offending key or value, such as
// "holder.person_id" or "agreements[1].municipality".
//
// It scans the bytes itself, after json.Valid, rather than with
// json.Decoder.Token, which allocates for every token: a body of small
// objects near maxBody took 160 ms of CPU that way on the development host
// against 9 ms, most of it json.Valid's.
func checkBody(body []byte) error {
	if !json.Valid(body) {
		return notOneValue(body)
	}
	w := walker{b: body}
	w.space()
	if w.b[w.i] != '{' {
		return invalidField("body", "must be a JSON object")
	}
	return w.container(1)
}

// notOneValue tells why body, which json.Valid refuses, is not one JSON
// value: io.EOF when it is empty.
func notOneValue(body []byte) error {
	var (
		raw json.RawMessage
		se  *json.SyntaxError
	)
	err := json.NewDecoder(bytes.NewReader(body)).Decode(&raw)
	switch {
	case err == io.EOF:
		return io.EOF
	case errors.As(err, &se):
		return invalidField("body", fmt.Sprintf("is not valid JSON (at byte %d)", se.Offset))
	case err != nil:
		return invalidField("body", "is not valid JSON (it ends early)")
	}
	return invalidField("body", "must hold exactly one JSON value")
}

// A walker reads a valid JSON document for keys given twice and nesting
// past maxDepth.
type walker struct {
	b    []byte
	i    int
	path []step // where the value being read stands
}

// A step is a key of an object or an index of an array.
type step struct {
	key   []byte
	index int // -1 for a key
}

// at is the path of the value being read, such as "agreements[1].period".
func (w *walker) at() string {
	var b strings.Builder
	for _, s := range w.path {
		switch {
		case s.index >= 0:
			fmt.Fprintf(&b, "[%d]", s.index)
		case b.Len() > 0:
			b.WriteByte('.')
			fallthrough
		default:
			b.WriteString(cmp.Or(string(s.key), `""`)) // an empty key, named
		}
	}
	return b.String()
}

// container reads the object or array at w.i, at depth (1 for the body).
func (w *walker) container(depth int) error {
	object := w.b[w.i] == '{'
	var keys keySet
	w.i++
	for n := 0; ; n++ {
		w.space()
		if c := w.b[w.i]; c == '}' || c == ']' {
			w.i++
			return nil
		}
		s := step{index: n}
		if object {
			s = step{key: w.key(), index: -1}
			w.space()
			w.i++ // :
			w.space()
		}
		w.path = append(w.path, s)
		if object && keys.add(s.key) {
			return invalidField(w.at(), "must be given once")
		}
		if err := w.value(depth); err != nil {
			return err
		}
		w.path = w.path[:len(w.path)-1]
		w.space()
		if w.b[w.i] == ',' {
			w.i++
		}
	}
}

// value reads the value at w.i, inside a container at depth.
func (w *walker) value(depth int) error {
	switch w.b[w.i] {
	case '{', '[':
		if depth == maxDepth {
			return invalidField(w.at(), fmt.Sprintf("must nest at most %d levels", maxDepth))
		}
		return w.container(depth + 1)
	case '"':
		w.str()
	default: // a number, true, false or null
		for w.i < len(w.b) && strings.IndexByte(",]} \t\r\n", w.b[w.i]) < 0 {
			w.i++
		}
	}
	return nil
}

// str reads the string at w.i and returns its raw text, without the quotes.
func (w *walker) str() []byte {
	w.i++ // "
	start := w.i
	for w.b[w.i] != '"' {
		if w.b[w.i] == '\\' {
			w.i++
		}
		w.i++
	}
	w.i++
	return w.b[start : w.i-1]
}

// key reads the key at w.i and returns its text, escapes resolved.
func (w *walker) key() []byte {
	start := w.i
	raw := w.str()
	if !slices.Contains(raw, '\\') {
		return raw
	}
	var s string
	_ = json.Unmarshal(w.b[start:w.i], &s) // valid JSON: cannot fail
	return []byte(s)
}

func (w *walker) space() {
	for w.i < len(w.b) && strings.IndexByte(" \t\r\n", w.b[w.i]) >= 0 {
		w.i++
	}
}

// smallObject is the number of keys up to which a keySet compares them one
// by one, without allocating; past it, they go in a map.
const smallObject = 16

// A keySet holds the keys of one object.
type keySet struct {
	few  [smallObject][]byte
	n    int
	many map[string]struct{} // folded; all keys once there are more than smallObject
	buf  []byte
}

// add records key and reports whether the object gave it before, in any
// case: keys are matched to fields as encoding/json does, two keys being
// the same when bytes.EqualFold holds for them.
func (s *keySet) add(key []byte) bool {
	if s.many == nil {
		for _, k := range s.few[:s.n] {
			if bytes.EqualFold(k, key) {
				return true
			}
		}
		if s.n < smallObject {
			s.few[s.n] = key
			s.n++
			return false
		}
		s.many = make(map[string]struct{}, 2*smallObject)
		for _, k := range s.few {
			s.many[string(s.fold(k))] = struct{}{}
		}
	}
	n := len(s.many)
	s.many[string(s.fold(key))] = struct{}{}
	return len(s.many) == n
}

// fold returns key with each rune replaced by the least of its case
// folding orbit, in a buffer the next call reuses: two keys fold alike
// exactly when bytes.EqualFold holds for them.
func (s *keySet) fold(key []byte) []byte {
	s.buf = s.buf[:0]
	for _, r := range string(key) {
		if r < utf8.RuneSelf {
			s.buf = append(s.buf, byte(unicode.ToUpper(r)))
			continue
		}
		least := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			least = min(least, f)
		}
		s.buf = utf8.AppendRune(s.buf, least)
	}
	return s.buf
}

func jsonProblem(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return invalidField(te.Field, "must be of JSON type "+jsonType(te.Type.Kind().String()))
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
