package schema

import (
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/edufund/edufund/funding"
)

// Date is a funding.Date at rest: DATE on PostgreSQL, TEXT 'YYYY-MM-DD'
// on SQLite; the zero date is NULL.
type Date funding.Date

func (d Date) Value() (driver.Value, error) {
	if funding.Date(d).IsZero() {
		return nil, nil
	}
	return funding.Date(d).String(), nil
}

func (d *Date) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*d = Date{}
		return nil
	case time.Time:
		nd, err := funding.NewDate(v.Year(), v.Month(), v.Day())
		*d = Date(nd)
		return err
	case string:
		return d.parse(v)
	case []byte:
		return d.parse(string(v))
	}
	return fmt.Errorf("storage: cannot scan %T into a date", src)
}

func (d *Date) parse(s string) error {
	if len(s) > 10 {
		s = s[:10]
	}
	nd, err := funding.ParseDate(s)
	*d = Date(nd)
	return err
}

// Month is a funding.Month as TEXT 'YYYY-MM'; the zero month is NULL.
type Month funding.Month

func (m Month) Value() (driver.Value, error) {
	if m == (Month{}) {
		return nil, nil
	}
	return funding.Month(m).String(), nil
}

func (m *Month) Scan(src any) error {
	var s string
	switch v := src.(type) {
	case nil:
		*m = Month{}
		return nil
	case string:
		s = v
	case []byte:
		s = string(v)
	default:
		return fmt.Errorf("storage: cannot scan %T into a month", src)
	}
	nm, err := funding.ParseMonth(s)
	*m = Month(nm)
	return err
}

// Time is an instant: timestamptz on PostgreSQL, TEXT in UTC with
// microseconds on SQLite (bun's format). The zero time is NULL.
type Time time.Time

func (t Time) Value() (driver.Value, error) {
	if time.Time(t).IsZero() {
		return nil, nil
	}
	return time.Time(t).UTC(), nil
}

var timeLayouts = []string{
	"2006-01-02 15:04:05.999999999-07:00",
	"2006-01-02 15:04:05.999999999Z07:00",
	time.RFC3339Nano,
	"2006-01-02 15:04:05.999999999",
}

func (t *Time) Scan(src any) error {
	var s string
	switch v := src.(type) {
	case nil:
		*t = Time{}
		return nil
	case time.Time:
		*t = Time(v.UTC())
		return nil
	case string:
		s = v
	case []byte:
		s = string(v)
	default:
		return fmt.Errorf("storage: cannot scan %T into a time", src)
	}
	s = strings.TrimSpace(s)
	for _, l := range timeLayouts {
		if tm, err := time.Parse(l, s); err == nil {
			*t = Time(tm.UTC())
			return nil
		}
	}
	return fmt.Errorf("storage: cannot parse time %q", s)
}

// NullUUID is a uuid.UUID where uuid.Nil is NULL.
type NullUUID uuid.UUID

func (u NullUUID) Value() (driver.Value, error) {
	if uuid.UUID(u) == uuid.Nil {
		return nil, nil
	}
	return uuid.UUID(u).String(), nil
}

func (u *NullUUID) Scan(src any) error {
	if src == nil {
		*u = NullUUID(uuid.Nil)
		return nil
	}
	var id uuid.UUID
	if err := id.Scan(src); err != nil {
		return err
	}
	*u = NullUUID(id)
	return nil
}

// Tags are a program's tags as a JSON array of strings in a text column,
// '[]' for none: the same text on both engines, and a tag may hold any
// character. No tags (nil or empty) read back as nil.
type Tags []string

func (t Tags) Value() (driver.Value, error) { return t.JSON(), nil }

// JSON is the column's text: a JSON array of the tags, "[]" for none.
func (t Tags) JSON() string {
	if len(t) == 0 {
		return "[]"
	}
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode([]string(t)) // strings always encode
	return strings.TrimSuffix(b.String(), "\n")
}

func (t *Tags) Scan(src any) error {
	var b []byte
	switch v := src.(type) {
	case string:
		b = []byte(v)
	case []byte:
		b = v
	default:
		return fmt.Errorf("storage: cannot scan %T into tags", src)
	}
	var out []string
	if err := json.Unmarshal(b, &out); err != nil {
		return fmt.Errorf("storage: tags %q are not a JSON array of strings: %w", b, err)
	}
	if len(out) == 0 {
		out = nil
	}
	*t = out
	return nil
}

// Kopecks converts money for the database, refusing an amount that
// saturated funding.Money's arithmetic (a sum past int64, which no stored
// amount can reach; the first such field is named in Err).
type Kopecks struct{ Err error }

// Of is m in kopecks; field names it in Err if it is out of range.
func (k *Kopecks) Of(field string, m funding.Money) int64 {
	n := m.Kopecks()
	if n == math.MaxInt64 || n == -math.MaxInt64 {
		if k.Err == nil {
			k.Err = fmt.Errorf("storage: %s = %s is out of range", field, m)
		}
		return 0
	}
	return n
}

func money(n int64) funding.Money { return funding.Kopecks(n) }
