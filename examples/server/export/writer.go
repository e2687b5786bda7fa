package export

import (
	"fmt"
	"io"
	"iter"
	"strconv"
	"strings"

	"github.com/edufund/edufund/funding"
)

// Writer writes a table's rows in one encoding; the header is written
// when it is made.
type Writer interface {
	// Write adds a row: each field's value of r, written as its kind says.
	Write(r Record) error
	// Close finishes the file: the rest of a CSV, the whole archive of an
	// XLSX (which reaches the output only then).
	Close() error
	// Abort gives up: nothing more is written and the temporary files
	// are removed; what reached the output is not a whole file.
	Abort()
}

// NewWriter starts a table of template t in format f on w.
func NewWriter(w io.Writer, f Format, t Template) (Writer, error) {
	switch f {
	case CSV:
		return newCSV(w, t.Fields)
	case XLSX:
		return newXLSX(w, t.Sheet, t.Fields)
	}
	return nil, &funding.ValidationError{Field: "format", Rule: "must be csv or xlsx", Value: string(f)}
}

// ProgressEvery is how many rows Write counts between two calls of its
// progress function.
const ProgressEvery = 10000

// Write writes the table of template t in format f on w, its rows from
// rows, and calls progress (when not nil) every ProgressEvery rows and once
// at the end with the rows written so far. It returns how many rows it
// wrote; on an error the output is not a whole file.
func Write(w io.Writer, f Format, t Template, rows iter.Seq2[Record, error], progress func(rows int)) (int, error) {
	tw, err := NewWriter(w, f, t)
	if err != nil {
		return 0, err
	}
	n := 0
	for r, err := range rows {
		if err == nil {
			err = tw.Write(r)
		}
		if err != nil {
			tw.Abort()
			return n, err
		}
		n++
		if progress != nil && n%ProgressEvery == 0 {
			progress(n)
		}
	}
	if err := tw.Close(); err != nil {
		return n, err
	}
	if progress != nil {
		progress(n)
	}
	return n, nil
}

// Peek reads the first row of rows, so that an edge can answer a refusal
// (a caller out of reach, a bad filter) before it starts a file. It
// returns rows again, the first one included, or the first error. The
// returned sequence must be ranged over once.
func Peek(rows iter.Seq2[Record, error]) (iter.Seq2[Record, error], error) {
	next, stop := iter.Pull2(rows)
	first, err, ok := next()
	if err != nil {
		stop()
		return nil, err
	}
	return func(yield func(Record, error) bool) {
		defer stop()
		if !ok {
			return
		}
		if !yield(first, nil) {
			return
		}
		for {
			r, err, ok := next()
			if !ok || !yield(r, err) || err != nil {
				return
			}
		}
	}, nil
}

// text is a value as a text cell shows it, in the forms used in Russia:
// 1234,56 for money, 02.01.2006 for a date.
func text(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case int:
		return strconv.Itoa(v)
	case int64:
		return strconv.FormatInt(v, 10)
	case funding.Money:
		return strings.Replace(v.String(), ".", ",", 1)
	case funding.Date:
		if v.IsZero() {
			return ""
		}
		return v.Time().Format("02.01.2006")
	}
	return fmt.Sprint(v)
}
