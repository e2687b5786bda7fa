package storage

import (
	"database/sql/driver"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/edufund/edufund/funding"
)

// dbDate is a funding.Date at rest: DATE on PostgreSQL, TEXT 'YYYY-MM-DD'
// on SQLite; the zero date is NULL.
type dbDate funding.Date

func (d dbDate) Value() (driver.Value, error) {
	if funding.Date(d).IsZero() {
		return nil, nil
	}
	return funding.Date(d).String(), nil
}

func (d *dbDate) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*d = dbDate{}
		return nil
	case time.Time:
		nd, err := funding.NewDate(v.Year(), v.Month(), v.Day())
		*d = dbDate(nd)
		return err
	case string:
		return d.parse(v)
	case []byte:
		return d.parse(string(v))
	}
	return fmt.Errorf("storage: cannot scan %T into a date", src)
}

func (d *dbDate) parse(s string) error {
	if len(s) > 10 {
		s = s[:10]
	}
	nd, err := funding.ParseDate(s)
	*d = dbDate(nd)
	return err
}

// dbMonth is a funding.Month as TEXT 'YYYY-MM'; the zero month is NULL.
type dbMonth funding.Month

func (m dbMonth) Value() (driver.Value, error) {
	if m == (dbMonth{}) {
		return nil, nil
	}
	return funding.Month(m).String(), nil
}

func (m *dbMonth) Scan(src any) error {
	var s string
	switch v := src.(type) {
	case nil:
		*m = dbMonth{}
		return nil
	case string:
		s = v
	case []byte:
		s = string(v)
	default:
		return fmt.Errorf("storage: cannot scan %T into a month", src)
	}
	nm, err := funding.ParseMonth(s)
	*m = dbMonth(nm)
	return err
}

// dbTime is an instant: timestamptz on PostgreSQL, TEXT in UTC with
// microseconds on SQLite (bun's format). The zero time is NULL.
type dbTime time.Time

func (t dbTime) Value() (driver.Value, error) {
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

func (t *dbTime) Scan(src any) error {
	var s string
	switch v := src.(type) {
	case nil:
		*t = dbTime{}
		return nil
	case time.Time:
		*t = dbTime(v.UTC())
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
			*t = dbTime(tm.UTC())
			return nil
		}
	}
	return fmt.Errorf("storage: cannot parse time %q", s)
}

// nullUUID is a uuid.UUID where uuid.Nil is NULL.
type nullUUID uuid.UUID

func (u nullUUID) Value() (driver.Value, error) {
	if uuid.UUID(u) == uuid.Nil {
		return nil, nil
	}
	return uuid.UUID(u).String(), nil
}

func (u *nullUUID) Scan(src any) error {
	if src == nil {
		*u = nullUUID(uuid.Nil)
		return nil
	}
	var id uuid.UUID
	if err := id.Scan(src); err != nil {
		return err
	}
	*u = nullUUID(id)
	return nil
}

// kopecks converts money for the database, refusing an amount that
// saturated funding.Money's arithmetic (a sum past int64, which no stored
// amount can reach; the first such field is named in err).
type kopecks struct{ err error }

func (k *kopecks) of(field string, m funding.Money) int64 {
	n := m.Kopecks()
	if n == math.MaxInt64 || n == -math.MaxInt64 {
		if k.err == nil {
			k.err = fmt.Errorf("storage: %s = %s is out of range", field, m)
		}
		return 0
	}
	return n
}

func money(n int64) funding.Money { return funding.Kopecks(n) }
