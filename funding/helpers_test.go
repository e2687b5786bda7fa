package funding

import (
	"errors"
	"testing"
)

// The module's go.sum lacks testify's own dependencies, and go.mod/go.sum are
// outside this package's ownership, so the tests use these small helpers on
// top of the standard library instead of github.com/stretchr/testify.

func eqMoney(t testing.TB, name string, got, want Money) {
	t.Helper()
	if !got.Equal(want) {
		t.Errorf("%s = %s, want %s", name, got, want)
	}
}

func eq[T comparable](t testing.TB, name string, got, want T) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %v, want %v", name, got, want)
	}
}

func noErr(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
}

// isRefusal checks that err is a *RuleError with the given sentinel and code.
func isRefusal(t testing.TB, err, sentinel error, code string) {
	t.Helper()
	if !errors.Is(err, sentinel) {
		t.Fatalf("error %v does not match %v", err, sentinel)
	}
	var re *RuleError
	if !errors.As(err, &re) {
		t.Fatalf("error %v is not a *RuleError", err)
	}
	if re.Code != code {
		t.Fatalf("code = %q, want %q", re.Code, code)
	}
}

// isInvalid checks that err is a *ValidationError naming field.
func isInvalid(t testing.TB, err error, field string) {
	t.Helper()
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("error %v is not a *ValidationError", err)
	}
	if !errors.Is(err, ErrInvalid) {
		t.Fatalf("error %v does not match ErrInvalid", err)
	}
	if ve.Field != field {
		t.Fatalf("field = %q, want %q (%v)", ve.Field, field, err)
	}
}
