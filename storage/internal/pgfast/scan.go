package pgfast

import (
	"fmt"
	"reflect"

	"github.com/google/uuid"

	"github.com/edufund/edufund/funding"
	"github.com/edufund/edufund/storage/internal/schema"
)

// Reading rows. The batch statements list a table's columns as the column
// map does (schema.Table.List) and scan them into its row struct
// (schema.Table.Dest): pgx decodes each value for the field's type. The
// close's lock statement, 5,000 rows of 50 columns a page, decodes its
// binary columns itself (rowDecoder).

// rowScanner is a row of a result: pgx.Rows on a pgx connection, or
// *sql.Rows through database/sql (the batch under locks, in the store's
// transaction), whose driver hands pgx's values to the fields' scanners.
type rowScanner interface {
	Scan(dest ...any) error
}

// columnKind is how a column's values are encoded: one per Go type of the
// row structs' fields.
type columnKind int

const (
	kindUUID     columnKind = iota // uuid.UUID: uuid, NULL as uuid.Nil
	kindNullUUID                   // schema.NullUUID
	kindText                       // string
	kindInt8                       // int64
	kindInt4                       // int
	kindBool                       // bool
	kindDate                       // schema.Date: date, NULL as the zero date
	kindTime                       // schema.Time: timestamptz, NULL as the zero time
	kindMonth                      // schema.Month: text 'YYYY-MM', NULL as the zero month
	kindBytes                      // []byte: bytea, NULL as nil
	kindTags                       // schema.Tags: text, a JSON array of strings
)

var kinds = map[reflect.Type]columnKind{
	reflect.TypeFor[uuid.UUID]():       kindUUID,
	reflect.TypeFor[schema.NullUUID](): kindNullUUID,
	reflect.TypeFor[string]():          kindText,
	reflect.TypeFor[int64]():           kindInt8,
	reflect.TypeFor[int]():             kindInt4,
	reflect.TypeFor[bool]():            kindBool,
	reflect.TypeFor[schema.Date]():     kindDate,
	reflect.TypeFor[schema.Time]():     kindTime,
	reflect.TypeFor[schema.Month]():    kindMonth,
	reflect.TypeFor[[]byte]():          kindBytes,
	reflect.TypeFor[schema.Tags]():     kindTags,
}

// codec is a table's columns as the fast paths encode and decode them.
type codec struct {
	table *schema.Table
	kinds []columnKind
}

// codecOf is t's codec; a column of a Go type the fast paths do not encode
// is an error.
func codecOf(t *schema.Table) (*codec, error) {
	c := &codec{table: t, kinds: make([]columnKind, len(t.Columns))}
	for i, col := range t.Columns {
		k, ok := kinds[col.GoType]
		if !ok {
			return nil, fmt.Errorf("storage: %s.%s: the fast paths cannot encode a %s", t.Name, col.Name, col.GoType)
		}
		c.kinds[i] = k
	}
	return c, nil
}

// rowDecoder decodes a table's binary columns into one row struct,
// reused row after row: the pointers to its fields are taken once.
type rowDecoder struct {
	kinds []columnKind
	ptrs  []any // pointers to the row's fields, in column order
}

// decoder decodes c's columns into *row, a pointer to c's row struct.
func (c *codec) decoder(row any) rowDecoder {
	return rowDecoder{kinds: c.kinds, ptrs: c.table.Dest(row)}
}

// decode reads the decoder's columns of r's row into its row. With outer,
// a NULL leaves a field as it is (zero, for the optional side of an outer
// join); otherwise a NULL where the field cannot hold one is an error.
func (d rowDecoder) decode(r *rowReader, outer bool) {
	for i, p := range d.ptrs {
		if outer && r.col < len(r.vals) && r.vals[r.col] == nil {
			r.col++
			continue
		}
		switch d.kinds[i] {
		case kindUUID:
			*p.(*uuid.UUID) = r.uuid()
		case kindNullUUID:
			*p.(*schema.NullUUID) = schema.NullUUID(r.uuid())
		case kindText:
			*p.(*string) = r.text()
		case kindInt8:
			*p.(*int64) = r.int8()
		case kindInt4:
			*p.(*int) = int(r.int4())
		case kindBool:
			*p.(*bool) = r.bool()
		case kindDate:
			*p.(*schema.Date) = r.date()
		case kindTime:
			*p.(*schema.Time) = schema.Time(r.timestamptz())
		case kindMonth:
			*p.(*schema.Month) = r.month()
		case kindBytes:
			*p.(*[]byte) = append([]byte(nil), r.next(-1)...)
		case kindTags:
			if err := p.(*schema.Tags).Scan(r.next(-1)); err != nil && r.err == nil {
				r.err = fmt.Errorf("storage: column %d: %w", r.col, err)
			}
		}
	}
}

// month reads a text 'YYYY-MM'; NULL is the zero month.
func (r *rowReader) month() schema.Month {
	v := r.next(-1)
	if v == nil {
		return schema.Month{}
	}
	m, err := funding.ParseMonth(string(v))
	if err != nil && r.err == nil {
		r.err = fmt.Errorf("storage: column %d: %w", r.col, err)
	}
	return schema.Month(m)
}
