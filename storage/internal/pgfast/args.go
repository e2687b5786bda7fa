package pgfast

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/edufund/edufund/enrollment/batch"
	"github.com/edufund/edufund/funding"
	"github.com/edufund/edufund/storage/internal/schema"
)

// Binary array parameters for the batch statements: the rows of a table
// travel as one array per column, in the column map's order
// (schema.Table), and the statement reads them back with
// unnest($first::type[], …) (unnestOf). One encoder serves every table, the
// optimistic and the locked batch alike.

// The codecs of the tables the batches write, and then of those the
// optimistic batch reads besides.
var (
	contractCodec    = mustCodec(schema.Contracts)
	holdCodec        = mustCodec(schema.Holds)
	postingCodec     = mustCodec(schema.Postings)
	eventCodec       = mustCodec(schema.NewEvents)
	accountCodec     = mustCodec(schema.Accounts)
	counterCodec     = mustCodec(schema.Counters)
	idempotencyCodec = mustCodec(schema.Idempotency)

	certificateCodec = mustCodec(schema.Certificates)
	groupCodec       = mustCodec(schema.StudyGroups)
	moduleCodec      = mustCodec(schema.Modules)
	programCodec     = mustCodec(schema.Programs)
	providerCodec    = mustCodec(schema.Providers)
	agreementCodec   = mustCodec(schema.Agreements)
)

// mustCodec is codecOf for a table the package writes or reads: one it cannot
// encode is a mistake found at its first use.
func mustCodec(t *schema.Table) *codec {
	c, err := codecOf(t)
	if err != nil {
		panic(err)
	}
	return c
}

// args are the column arrays of rows, a slice of c's row structs or of
// pointers to them: a Go slice per column, of the types the pipelines'
// encoder (pgParams.arg) and pgx both send as arrays, NULL where the
// column stores a zero value as NULL. Each is a pointer to its slice,
// and the columns of one element type are cut from one array (columns):
// a slice put in an interface and an array made per column were two
// allocations a column, an eighth of the objects a request through the
// reference server allocated.
func (c *codec) args(rows any) []any {
	rv := reflect.ValueOf(rows)
	n := rv.Len()
	structs := make([]reflect.Value, n)
	for i := range structs {
		structs[i] = reflect.Indirect(rv.Index(i))
	}
	var (
		uuids  = newColumns[pgtype.UUID](c.count(kindUUID, kindNullUUID), n)
		texts  = newColumns[string](c.count(kindText, kindTags), n)
		int8s  = newColumns[int64](c.count(kindInt8), n)
		int4s  = newColumns[int32](c.count(kindInt4), n)
		bools  = newColumns[bool](c.count(kindBool), n)
		dates  = newColumns[pgtype.Date](c.count(kindDate), n)
		times  = newColumns[pgtype.Timestamptz](c.count(kindTime), n)
		months = newColumns[pgtype.Text](c.count(kindMonth), n)
		bytes  = newColumns[[]byte](c.count(kindBytes), n)
	)
	out := make([]any, len(c.table.Columns))
	for j, col := range c.table.Columns {
		field := func(i int) reflect.Value { return structs[i].Field(col.Index) }
		switch c.kinds[j] {
		case kindUUID:
			a := uuids.next()
			for i := range n {
				a[i] = pgUUID(*field(i).Addr().Interface().(*uuid.UUID))
			}
			out[j] = uuids.last()
		case kindNullUUID:
			a := uuids.next()
			for i := range n {
				a[i] = pgUUID(uuid.UUID(*field(i).Addr().Interface().(*schema.NullUUID)))
			}
			out[j] = uuids.last()
		case kindText:
			a := texts.next()
			for i := range n {
				a[i] = field(i).String()
			}
			out[j] = texts.last()
		case kindInt8:
			a := int8s.next()
			for i := range n {
				a[i] = field(i).Int()
			}
			out[j] = int8s.last()
		case kindInt4:
			a := int4s.next()
			for i := range n {
				a[i] = int32(field(i).Int())
			}
			out[j] = int4s.last()
		case kindBool:
			a := bools.next()
			for i := range n {
				a[i] = field(i).Bool()
			}
			out[j] = bools.last()
		case kindDate:
			a := dates.next()
			for i := range n {
				a[i] = pgDate(funding.Date(*field(i).Addr().Interface().(*schema.Date)))
			}
			out[j] = dates.last()
		case kindTime:
			a := times.next()
			for i := range n {
				t := time.Time(*field(i).Addr().Interface().(*schema.Time))
				a[i] = pgtype.Timestamptz{Time: t, Valid: !t.IsZero()}
			}
			out[j] = times.last()
		case kindMonth:
			a := months.next()
			for i := range n {
				if m := funding.Month(*field(i).Addr().Interface().(*schema.Month)); !m.IsZero() {
					a[i] = pgtype.Text{String: m.String(), Valid: true}
				}
			}
			out[j] = months.last()
		case kindBytes:
			a := bytes.next()
			for i := range n {
				a[i] = field(i).Bytes()
			}
			out[j] = bytes.last()
		case kindTags:
			a := texts.next()
			for i := range n {
				a[i] = field(i).Interface().(schema.Tags).JSON()
			}
			out[j] = texts.last()
		}
	}
	return out
}

// count is how many of c's columns are of the kinds ks.
func (c *codec) count(ks ...columnKind) int {
	n := 0
	for _, k := range c.kinds {
		if slices.Contains(ks, k) {
			n++
		}
	}
	return n
}

// columns cuts the column arrays of one call, of one element type, from
// one array, and keeps their slice headers in one more: a pointer to a
// header goes into an interface without an allocation of its own.
type columns[T any] struct {
	n    int
	buf  []T
	hdrs [][]T
}

// newColumns holds cols columns of n elements.
func newColumns[T any](cols, n int) columns[T] {
	if cols == 0 {
		return columns[T]{}
	}
	return columns[T]{n: n, buf: make([]T, cols*n), hdrs: make([][]T, 0, cols)}
}

// next is the next column's array, zeroed.
func (c *columns[T]) next() []T {
	k := len(c.hdrs)
	a := c.buf[k*c.n : (k+1)*c.n : (k+1)*c.n]
	c.hdrs = append(c.hdrs, a) // within the capacity newColumns made: the headers never move
	return a
}

// last is a pointer to the header of the column next returned last.
func (c *columns[T]) last() *[]T { return &c.hdrs[len(c.hdrs)-1] }

// types are the casts of c's column arrays.
func (c *codec) types() []string { return c.table.Types() }

// insert is INSERT INTO c's table (its columns) SELECT * FROM the column
// arrays from parameter $first on, then suffix; and the next parameter's
// number.
func (c *codec) insert(first int, suffix string) (string, int) {
	q := `INSERT INTO ` + c.table.Name + ` (` + c.table.List("") + `) SELECT * FROM ` + unnestOf(first, c.types()...)
	if suffix != "" {
		q += " " + suffix
	}
	return q, first + len(c.table.Columns)
}

// unnestOf is unnest($first::types[0][], $first+1::types[1][], …).
func unnestOf(first int, types ...string) string {
	var b strings.Builder
	b.WriteString("unnest(")
	for i, t := range types {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "$%d::%s[]", first+i, t)
	}
	b.WriteString(")")
	return b.String()
}

// guardArgs are the key, add, used, limit, exact and room of the guards.
func guardArgs(gs []batch.CounterGuard) []any {
	n := len(gs)
	ks, adds, used, lims, exact, room := make([]string, n), make([]int64, n), make([]int64, n), make([]int64, n), make([]bool, n), make([]int64, n)
	for i, g := range gs {
		ks[i], adds[i], used[i], lims[i], exact[i], room[i] = g.Key, g.Add, g.Used, g.Limit, g.Exact, g.Room
	}
	return []any{ks, adds, used, lims, exact, room}
}

// pgUUID and pgDate are pgx's values of an id and a date (NULL when zero).
func pgUUID(id uuid.UUID) pgtype.UUID { return pgtype.UUID{Bytes: id, Valid: id != uuid.Nil} }

func pgDate(d funding.Date) pgtype.Date { return pgtype.Date{Time: d.Time(), Valid: !d.IsZero()} }
