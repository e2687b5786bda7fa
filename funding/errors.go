package funding

import (
	"errors"
	"fmt"
)

// ValidationError reports input that breaks a rule of form: the field that
// was wrong, the rule it broke, and the value given. The HTTP edge turns it
// into a 400 naming the field.
type ValidationError struct {
	Field string
	Rule  string
	Value string
}

func (e *ValidationError) Error() string {
	if e.Value == "" {
		return fmt.Sprintf("%s: %s", e.Field, e.Rule)
	}
	return fmt.Sprintf("%s: %s (got %q)", e.Field, e.Rule, e.Value)
}

// Is makes every *ValidationError match ErrInvalid.
func (e *ValidationError) Is(target error) bool { return target == ErrInvalid }

// ErrInvalid matches every ValidationError through errors.Is.
var ErrInvalid = errors.New("invalid input")

// RuleError is a refusal by a domain rule: the input was well formed, but the
// rule says no. Code is a stable identifier ("budget_limit_reached") that the
// HTTP edge and metrics use; Err is the sentinel it matches with errors.Is.
type RuleError struct {
	Code   string
	Detail string
	Err    error
}

func (e *RuleError) Error() string {
	if e.Detail == "" {
		return e.Err.Error()
	}
	return e.Err.Error() + ": " + e.Detail
}

func (e *RuleError) Unwrap() error { return e.Err }

// Refuse returns a RuleError for sentinel err with a formatted detail.
func Refuse(err error, code, format string, args ...any) error {
	return &RuleError{Code: code, Detail: fmt.Sprintf(format, args...), Err: err}
}
