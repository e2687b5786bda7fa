package storage

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/edufund/edufund/funding"
	"github.com/edufund/edufund/storage/internal/schema"
)

// VALUES lists for the batched close's bulk statements: the rows are
// written into the statement's text by bulkWriter, which formats ids,
// dates, numbers and months itself and quotes text with the dialect.

func chunkOf[T any](s []T, n int) [][]T {
	var out [][]T
	for len(s) > n {
		out = append(out, s[:n:n])
		s = s[n:]
	}
	if len(s) > 0 {
		out = append(out, s)
	}
	return out
}

// insertSQL is INSERT INTO t (its columns) VALUES rows (a slice of
// pointers to t's row struct), then suffix.
func (t sqliteCloseTx) insertSQL(tb *schema.Table, rows any, suffix string) (string, error) {
	w := t.rows(tb, rows)
	if w.err != nil {
		return "", w.err
	}
	return "INSERT INTO " + tb.Name + " (" + tb.List("") + ") VALUES " + string(w.values) + suffix, nil
}

// valuesCTE is WITH d (t's columns) AS (VALUES rows), rows a slice of
// pointers to t's row struct.
func (t sqliteCloseTx) valuesCTE(tb *schema.Table, rows any) (string, error) {
	w := t.rows(tb, rows)
	if w.err != nil {
		return "", w.err
	}
	return "WITH d (" + tb.List("") + ") AS (VALUES " + string(w.values) + ")", nil
}

// rows writes rows, a slice of pointers to tb's row struct, column by
// column in tb's order.
func (t sqliteCloseTx) rows(tb *schema.Table, rows any) *bulkWriter {
	rv := reflect.ValueOf(rows)
	return t.bulk(tb.Names(), rv.Len(), func(w *bulkWriter, i int) { w.row(tb, rv.Index(i).Elem()) })
}

// updateSQL is UPDATE table SET set FROM the n rows fill writes, named v
// with cols, WHERE where.
func (t sqliteCloseTx) updateSQL(table string, cols []string, n int, fill func(w *bulkWriter, i int), set, where string) (string, error) {
	w := t.bulk(cols, n, fill)
	if w.err != nil {
		return "", w.err
	}
	b := make([]byte, 0, len(w.values)+len(set)+len(where)+128)
	b = append(b, "WITH v ("...)
	b = append(b, strings.Join(cols, ", ")...)
	b = append(b, ") AS (VALUES "...)
	b = append(b, w.values...)
	b = append(b, ") UPDATE "...)
	b = append(b, table...)
	b = append(b, " SET "...)
	b = append(b, set...)
	b = append(b, " FROM v WHERE "...)
	b = append(b, where...)
	return string(b), nil
}

// bulkWriter collects rows as a VALUES list.
type bulkWriter struct {
	d      interface{ AppendString([]byte, string) []byte }
	values []byte // (…),(…)
	col    int
	err    error
}

// bulk writes n rows of cols, each by fill.
func (t sqliteCloseTx) bulk(cols []string, n int, fill func(w *bulkWriter, i int)) *bulkWriter {
	w := &bulkWriter{d: t.db.bun.Dialect(), values: make([]byte, 0, 48*n*len(cols))}
	for i := range n {
		w.col = 0
		if i > 0 {
			w.values = append(w.values, ',')
		}
		w.values = append(w.values, '(')
		fill(w, i)
		w.values = append(w.values, ')')
		if w.col != len(cols) && w.err == nil {
			w.err = fmt.Errorf("storage: bulk row %d has %d of %d columns", i, w.col, len(cols))
		}
	}
	return w
}

// next starts the next column's value.
func (w *bulkWriter) next() {
	if w.col > 0 {
		w.values = append(w.values, ',')
	}
	w.col++
}

func (w *bulkWriter) null() {
	w.next()
	w.values = append(w.values, "NULL"...)
}

// plain appends a value that needs no escaping (hex ids, digits, ISO
// dates) in single quotes.
func (w *bulkWriter) plain(s []byte) {
	w.next()
	w.values = append(w.values, '\'')
	w.values = append(w.values, s...)
	w.values = append(w.values, '\'')
}

func (w *bulkWriter) uuid(id uuid.UUID) {
	if id == uuid.Nil {
		w.null()
		return
	}
	var s [36]byte
	hexUUID(s[:], id)
	w.plain(s[:])
}

func (w *bulkWriter) date(d funding.Date) {
	if d.IsZero() {
		w.null()
		return
	}
	w.plain([]byte(d.String()))
}

func (w *bulkWriter) int(n int64) {
	w.next()
	w.values = strconv.AppendInt(w.values, n, 10)
}

func (w *bulkWriter) time(tm time.Time) {
	if tm.IsZero() {
		w.null()
		return
	}
	w.text(tm.UTC().Format("2006-01-02 15:04:05.999999-07:00"))
}

func (w *bulkWriter) text(s string) {
	if strings.IndexByte(s, 0) >= 0 && w.err == nil {
		w.err = fmt.Errorf("storage: text with a NUL byte")
	}
	w.next()
	w.values = w.d.AppendString(w.values, s)
}

// row writes the columns of tb of row, a value of its row struct.
func (w *bulkWriter) row(tb *schema.Table, row reflect.Value) {
	for _, c := range tb.Columns {
		switch v := row.Field(c.Index).Addr().Interface().(type) {
		case *uuid.UUID:
			w.uuid(*v)
		case *schema.NullUUID:
			w.uuid(uuid.UUID(*v))
		case *string:
			w.text(*v)
		case *int64:
			w.int(*v)
		case *int:
			w.int(int64(*v))
		case *bool:
			if *v {
				w.int(1)
			} else {
				w.int(0)
			}
		case *schema.Date:
			w.date(funding.Date(*v))
		case *schema.Time:
			w.time(time.Time(*v))
		case *schema.Month:
			if m := funding.Month(*v); m.IsZero() {
				w.null()
			} else {
				w.text(m.String())
			}
		default:
			if w.err == nil {
				w.err = fmt.Errorf("storage: %s.%s: no VALUES form for a %T", tb.Name, c.Name, v)
			}
			w.null()
		}
	}
}

func hexUUID(dst []byte, u uuid.UUID) {
	const hexd = "0123456789abcdef"
	j := 0
	for i, c := range u {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			dst[j] = '-'
			j++
		}
		dst[j] = hexd[c>>4]
		dst[j+1] = hexd[c&0xf]
		j += 2
	}
}
