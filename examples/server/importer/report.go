package importer

import (
	"errors"
	"fmt"
	"strings"

	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/funding"
)

// RowError is one bad row: where it was read, the column at fault (empty
// when the row as a whole is refused) and the rule it breaks, in the
// words of funding.ValidationError.
type RowError struct {
	Loc
	Section string
	Field   string
	Rule    string
	Value   string
}

func (e RowError) Error() string {
	var b strings.Builder
	b.WriteString(e.Loc.String())
	b.WriteString(": ")
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	} else if e.Section != "" && e.Loc.File == "" {
		b.WriteString(e.Section)
		b.WriteString(": ")
	}
	b.WriteString(e.Rule)
	if e.Value != "" {
		v := e.Value
		if len([]rune(v)) > 64 {
			v = string([]rune(v)[:64]) + "…"
		}
		fmt.Fprintf(&b, " (got %q)", v)
	}
	return b.String()
}

// Report is the error of an import with bad rows: every one of them, in
// the order of the sections and the files. Nothing was written.
type Report struct {
	Errors []RowError
}

func (r *Report) Error() string {
	if len(r.Errors) == 1 {
		return "1 bad row, nothing imported: " + r.Errors[0].Error()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d bad rows, nothing imported:", len(r.Errors))
	for _, e := range r.Errors {
		b.WriteString("\n  ")
		b.WriteString(e.Error())
	}
	return b.String()
}

// Is makes a Report match funding.ErrInvalid: the input is at fault.
func (r *Report) Is(target error) bool { return target == funding.ErrInvalid }

// ApplyError is a row the service refused while the import was writing,
// after every row had been checked: a change made meanwhile by someone
// else (seats taken, a budget used). The rows before it are written;
// running the import again, once the row is set right, writes the rest.
type ApplyError struct {
	Row     RowError
	Written int
	Err     error
}

func (e *ApplyError) Error() string {
	return fmt.Sprintf("%s: refused while writing, after %d rows were written (import again once it is set right to write the rest): %v",
		e.Row.Loc, e.Written, e.Err)
}

func (e *ApplyError) Unwrap() error { return e.Err }

// rowError turns what the service refused of a row into the row's error,
// and reports false for an error that is not the row's fault (the
// database out of reach, a cancelled context): the import stops on it.
// field names the column a refusal without a field is about.
func rowError(loc Loc, section, field string, err error) (RowError, bool) {
	out := RowError{Loc: loc, Section: section, Field: field}
	var (
		ve  *funding.ValidationError
		re  *funding.RuleError
		ie  *enrollment.IneligibleError
		ure *enrollment.UnknownReferenceError
	)
	switch {
	case errors.As(err, &ve):
		out.Field, out.Rule, out.Value = columnOf(section, ve.Field), ve.Rule, ve.Value
	case errors.As(err, &ie):
		msgs := make([]string, len(ie.Reasons))
		for i, r := range ie.Reasons {
			msgs[i] = r.Message
		}
		out.Field, out.Rule = "", "is not eligible today: "+strings.Join(msgs, "; ")
	case errors.As(err, &ure):
		out.Field, out.Rule = columnOf(section, ure.Field), fmt.Sprintf("names no %s %s", ure.What, ure.ID)
	case errors.As(err, &re):
		out.Rule = re.Error()
	case errors.Is(err, enrollment.ErrForbidden), errors.Is(err, enrollment.ErrNotFound), errors.Is(err, enrollment.ErrExists):
		out.Rule = err.Error()
	default:
		return out, false
	}
	return out, true
}

// columnOf is the column a domain error's field names: the domain speaks
// of "category.nominal", "holder.person_id" and "bank.bic" where a file
// has nominal, person_id and bic.
func columnOf(section, field string) string {
	switch field {
	case "holder.municipality":
		return "holder_municipality"
	case "bank.name":
		return "bank_name"
	}
	for _, p := range []string{"category.", "holder.", "bank."} {
		field = strings.TrimPrefix(field, p)
	}
	return field
}
