package schema

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/enrollment/batch"
	"github.com/edufund/edufund/funding"
)

// What the batched close of both dialects writes and reads alike.

// ErrUncovered fails a page whose holds do not cover its charges (a broken
// invariant or a concurrent change): the page's transaction rolls back and
// the page is closed contract by contract.
var ErrUncovered = errors.New("storage: charges not covered by their holds")

// ParamsJSON is json.Marshal of a posting's params, written directly when
// every key and value is made of characters JSON does not escape (ids,
// months, amounts): sorted keys, as json.Marshal writes a map.
func ParamsJSON(params map[string]string) (string, error) {
	if len(params) == 0 {
		return "{}", nil
	}
	plain := func(s string) bool {
		for i := 0; i < len(s); i++ {
			c := s[i]
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '.' || c == '-' || c == '_' || c == ':' || c == ' ') {
				return false
			}
		}
		return true
	}
	keys := make([]string, 0, len(params))
	fast := true
	for k, v := range params {
		keys = append(keys, k)
		fast = fast && plain(k) && plain(v)
	}
	if !fast {
		j, err := json.Marshal(params)
		if err != nil {
			return "", fmt.Errorf("storage: posting params: %w", err)
		}
		return string(j), nil
	}
	slices.Sort(keys)
	b := make([]byte, 0, 64)
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '"')
		b = append(b, k...)
		b = append(b, `":"`...)
		b = append(b, params[k]...)
		b = append(b, '"')
	}
	b = append(b, '}')
	return string(b), nil
}

// ParseLineKey reads an invoice line's "YYYY-MM kind", as the close's lock
// statements return a contract's lines.
func ParseLineKey(s string) (batch.LineKey, error) {
	ms, kind, ok := strings.Cut(s, " ")
	m, err := funding.ParseMonth(ms)
	if !ok || err != nil {
		return batch.LineKey{}, fmt.Errorf("storage: invoice line key %q", s)
	}
	return batch.LineKey{Month: m, Kind: enrollment.InvoiceKind(kind)}, nil
}

// InvoiceKey names an invoice: the primary key of invoices.
type InvoiceKey struct {
	Scheme       string
	Municipality string
	Provider     uuid.UUID
	Month        string
	Kind         string
}

// CompareInvoiceKeys orders invoices as a page of the close takes their
// locks: every page in the same order, so that two never wait on each
// other in a cycle.
func CompareInvoiceKeys(a, b InvoiceKey) int {
	if c := strings.Compare(a.Scheme, b.Scheme); c != 0 {
		return c
	}
	if c := strings.Compare(a.Municipality, b.Municipality); c != 0 {
		return c
	}
	if c := slices.Compare(a.Provider[:], b.Provider[:]); c != 0 {
		return c
	}
	if c := strings.Compare(a.Month, b.Month); c != 0 {
		return c
	}
	return strings.Compare(a.Kind, b.Kind)
}
