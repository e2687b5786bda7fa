package storage

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/edufund/edufund/storage/internal/schema"
)

// SQLite's batch statements with their values as parameters, each text
// prepared once per connection. bun writes every value into a statement's
// text, so SQLite parsed and planned each of a batch's statements anew:
// a fifth of the reference server's CPU on SQLite under load, inside the
// one writer's transaction. The texts depend only on the statement and
// its number of rows, so a few hundred cover every batch.

// liteStmts caches the prepared statements of a DB. SQLite's pool has one
// connection, which a transaction holds: a text met in a transaction runs
// unprepared there and is prepared once the transaction has ended
// (preparePending), on that connection, where the transactions after it
// find it (sql.Tx.StmtContext).
type liteStmts struct {
	mu      sync.Mutex
	m       map[string]*sql.Stmt
	pending map[string]bool
	closed  bool
}

// liteStmtsMax bounds the cache (a statement of 128 contracts is some
// hundreds of kilobytes of SQLite program; the texts a server meets are
// mostly of a few rows); a text beyond it runs unprepared.
const liteStmtsMax = 1024

// get is text's prepared statement, or false, when it is not prepared
// yet: it is then prepared by the next preparePending.
func (s *liteStmts) get(text string) (*sql.Stmt, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if st, ok := s.m[text]; ok {
		return st, true
	}
	if !s.closed && len(s.m)+len(s.pending) < liteStmtsMax {
		if s.pending == nil {
			s.pending = map[string]bool{}
		}
		s.pending[text] = true
	}
	return nil, false
}

// preparePending prepares the texts met since the last call; a failure
// leaves the text to run unprepared. It waits for the connection without
// holding s: the transaction on it may need s meanwhile.
func (s *liteStmts) preparePending(ctx context.Context, db *sql.DB) {
	s.mu.Lock()
	texts := make([]string, 0, len(s.pending))
	for text := range s.pending {
		texts = append(texts, text)
	}
	clear(s.pending)
	s.mu.Unlock()
	for _, text := range texts {
		st, err := db.PrepareContext(ctx, text)
		if err != nil {
			continue
		}
		s.mu.Lock()
		if _, dup := s.m[text]; dup || s.closed {
			st.Close()
		} else {
			if s.m == nil {
				s.m = map[string]*sql.Stmt{}
			}
			s.m[text] = st
		}
		s.mu.Unlock()
	}
}

// close closes the cached statements.
func (s *liteStmts) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, st := range s.m {
		st.Close()
	}
	s.m, s.pending, s.closed = nil, nil, true
}

// liteExec runs text with args in t's transaction, prepared once.
func (t *tx) liteExec(ctx context.Context, text string, args ...any) (sql.Result, error) {
	if st, ok := t.db.lite.get(text); ok {
		return t.tx.Tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	}
	return t.tx.Tx.ExecContext(ctx, text, args...)
}

// liteInsert is INSERT INTO tb (its columns) VALUES, n rows of
// parameters, then suffix.
func liteInsert(tb *schema.Table, n int, suffix string) string {
	row := "(" + strings.Repeat("?, ", len(tb.Columns)-1) + "?)"
	var b strings.Builder
	b.Grow(len(tb.Name) + 64 + n*(len(row)+2) + len(suffix))
	b.WriteString("INSERT INTO ")
	b.WriteString(tb.Name)
	b.WriteString(" (")
	b.WriteString(tb.List(""))
	b.WriteString(") VALUES ")
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(row)
	}
	b.WriteString(suffix)
	return b.String()
}

// liteParams is the cap on a statement's parameters (SQLite's
// SQLITE_MAX_VARIABLE_NUMBER is 32766 since 3.32).
const liteParams = 32000

// liteRowsPer is how many rows of tb one statement takes.
func liteRowsPer(tb *schema.Table) int {
	return max(1, min(batchChunk, liteParams/len(tb.Columns)))
}

// liteArgs appends the column values of rows, a slice of tb's row struct
// or of pointers to it, as bun's SQLite dialect writes them into a
// statement.
func liteArgs(tb *schema.Table, rows any, args []any) ([]any, error) {
	rv := reflect.ValueOf(rows)
	for i := range rv.Len() {
		row := rv.Index(i)
		if row.Kind() == reflect.Pointer {
			row = row.Elem()
		}
		for _, c := range tb.Columns {
			v, err := liteValue(row.Field(c.Index).Interface())
			if err != nil {
				return nil, fmt.Errorf("storage: %s.%s: %w", tb.Name, c.Name, err)
			}
			args = append(args, v)
		}
	}
	return args, nil
}

// liteValue is v as bun writes it for SQLite: a Valuer's value, times in
// UTC with bun's layout (text that sorts as the times do), booleans as
// 1 and 0, a nil byte slice as NULL.
func liteValue(v any) (any, error) {
	if vr, ok := v.(driver.Valuer); ok {
		var err error
		if v, err = vr.Value(); err != nil {
			return nil, err
		}
	}
	switch x := v.(type) {
	case time.Time:
		return x.UTC().Format("2006-01-02 15:04:05.999999-07:00"), nil
	case bool:
		if x {
			return int64(1), nil
		}
		return int64(0), nil
	case []byte:
		if x == nil {
			return nil, nil
		}
		return x, nil
	case int:
		return int64(x), nil
	case nil, string, int64:
		return x, nil
	}
	return nil, fmt.Errorf("a value of type %T", v)
}

// liteQuery runs text with args in t's transaction, prepared once, and
// scans each row with scan.
func (t *tx) liteQuery(ctx context.Context, text string, args []any, scan func(rows *sql.Rows) error) error {
	var rows *sql.Rows
	var err error
	if st, ok := t.db.lite.get(text); ok {
		rows, err = t.tx.Tx.StmtContext(ctx, st).QueryContext(ctx, args...)
	} else {
		rows, err = t.tx.Tx.QueryContext(ctx, text, args...)
	}
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// liteIn is a list of n parameters, (?, ?, …).
func liteIn(n int) string {
	return "(" + strings.Repeat("?, ", max(n, 1)-1) + "?)"
}

// liteList is vs as arguments.
func liteList[T any](vs []T) []any {
	out := make([]any, len(vs))
	for i, v := range vs {
		out[i] = v
	}
	return out
}
