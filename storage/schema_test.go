package storage_test

import (
	"context"
	"fmt"
	"maps"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/edufund/edufund/storage"
	"github.com/edufund/edufund/storage/internal/schema"
	"github.com/edufund/edufund/storage/storagetest"
)

// TestSchemaAgreement checks that the two dialects' migrations and the
// column map every statement takes its columns from (storage/internal/
// schema) describe the same tables:
//
//   - the same tables (bun's own migration tables aside) and in each the
//     same columns;
//   - each column of the same type: on PostgreSQL the column map's type
//     exactly; on SQLite, whose STRICT tables know only TEXT, INTEGER and
//     BLOB, the class that type is stored as there;
//   - each column NULL or NOT NULL alike (a primary key's columns are
//     NOT NULL);
//   - the same columns under CHECK constraints on both engines. The
//     constraints' expressions are not compared: each engine keeps its
//     own rewriting of them (PostgreSQL's ANY (ARRAY[…]) for IN, SQLite's
//     text as written) and some cannot be spelled alike (SQLite checks
//     the canonical person ids through a generated column, ids_canonical,
//     with GLOB where PostgreSQL has a regular expression per column). What
//     is compared is which columns are checked at all, a generated
//     column's CHECK counting for the columns it is computed from. The
//     column map has no CHECKs.
//
// PostgreSQL is read from information_schema, SQLite from pragma
// table_info and the CREATE TABLE text in sqlite_master. Generated
// columns, which no statement writes, are an engine's own means (SQLite's
// ids_canonical, PostgreSQL's holds.open for a partial index) and are
// left out on both: table_info does not list them. PostgreSQL takes
// part when EDUFUND_TEST_POSTGRES is set.
func TestSchemaAgreement(t *testing.T) {
	ctx := context.Background()
	want := mapTables()
	lite := sqliteTables(ctx, t, storagetest.Open(t, storagetest.SQLiteMemory))
	var diffs []string
	diffs = append(diffs, compareTables("the column map", want, "SQLite", lite, sqliteClass)...)
	if os.Getenv(storagetest.EnvPostgres) != "" {
		pg := pgTables(ctx, t, storagetest.Open(t, storagetest.Postgres))
		diffs = append(diffs, compareTables("the column map", want, "PostgreSQL", pg, func(s string) string { return s })...)
		diffs = append(diffs, compareChecks(pg, lite)...)
	}
	if len(diffs) > 0 {
		t.Errorf("the schemas disagree:\n\t%s", strings.Join(diffs, "\n\t"))
	}
}

// dbTable is what the test compares of a table.
type dbTable struct {
	cols    map[string]dbColumn
	checked map[string]bool // the columns CHECK constraints name
}

type dbColumn struct {
	typ  string // PostgreSQL's type, or SQLite's storage class
	null bool
}

func mapTables() map[string]dbTable {
	out := map[string]dbTable{}
	for _, t := range schema.Tables {
		cols := map[string]dbColumn{}
		for _, c := range t.Columns {
			cols[c.Name] = dbColumn{typ: c.Type, null: c.Null}
		}
		out[t.Name] = dbTable{cols: cols}
	}
	return out
}

// sqliteClass is the storage class of a SQLite STRICT column holding a
// column of the given PostgreSQL type.
func sqliteClass(pgType string) string {
	switch pgType {
	case "bigint", "integer", "boolean":
		return "INTEGER"
	case "bytea":
		return "BLOB"
	}
	return "TEXT"
}

// pgTypes names information_schema's data types as the column map does.
var pgTypes = map[string]string{
	"timestamp with time zone": "timestamptz",
}

func pgTables(ctx context.Context, t *testing.T, db *storage.DB) map[string]dbTable {
	t.Helper()
	var cols []struct {
		Table    string `bun:"table_name"`
		Column   string `bun:"column_name"`
		Type     string `bun:"data_type"`
		Nullable string `bun:"is_nullable"`
	}
	require.NoError(t, db.Bun().NewRaw(`SELECT c.table_name, c.column_name, c.data_type, c.is_nullable
		FROM information_schema.columns c JOIN information_schema.tables t USING (table_schema, table_name)
		WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE' AND c.table_name NOT LIKE 'bun_%'
		AND c.is_generated = 'NEVER'`).Scan(ctx, &cols))
	out := map[string]dbTable{}
	for _, c := range cols {
		tb, ok := out[c.Table]
		if !ok {
			tb = dbTable{cols: map[string]dbColumn{}, checked: map[string]bool{}}
			out[c.Table] = tb
		}
		typ := c.Type
		if n, ok := pgTypes[typ]; ok {
			typ = n
		}
		tb.cols[c.Column] = dbColumn{typ: typ, null: c.Nullable == "YES"}
	}
	// The columns of the CHECK constraints; PostgreSQL lists its NOT NULL
	// constraints among them, as checks named …_not_null.
	var checks []struct {
		Table  string `bun:"table_name"`
		Column string `bun:"column_name"`
	}
	require.NoError(t, db.Bun().NewRaw(`SELECT u.table_name, u.column_name
		FROM information_schema.constraint_column_usage u
		JOIN information_schema.table_constraints c USING (constraint_schema, constraint_name)
		WHERE u.table_schema = current_schema() AND c.constraint_type = 'CHECK' AND c.constraint_name NOT LIKE '%_not_null'`).Scan(ctx, &checks))
	for _, c := range checks {
		if tb, ok := out[c.Table]; ok {
			tb.checked[c.Column] = true
		}
	}
	return out
}

var (
	sqlComment   = regexp.MustCompile(`--[^\n]*`)
	sqlString    = regexp.MustCompile(`'(?:[^']|'')*'`)
	sqlIdent     = regexp.MustCompile(`[A-Za-z_][A-Za-z0-9_]*`)
	sqlCheck     = regexp.MustCompile(`(?i)\bCHECK\s*\(`)
	sqlGenerated = regexp.MustCompile(`(?i)\b([a-z_][a-z0-9_]*)\s+\w+\s+GENERATED\s+ALWAYS\s+AS\s*\(`)
)

func sqliteTables(ctx context.Context, t *testing.T, db *storage.DB) map[string]dbTable {
	t.Helper()
	var tables []struct {
		Name string `bun:"name"`
		SQL  string `bun:"sql"`
	}
	require.NoError(t, db.Bun().NewRaw(`SELECT name, sql FROM sqlite_master
		WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'bun_%'`).Scan(ctx, &tables))
	out := map[string]dbTable{}
	for _, tb := range tables {
		var cols []struct {
			Name    string `bun:"name"`
			Type    string `bun:"type"`
			NotNull bool   `bun:"not_null"`
			PK      int    `bun:"pk"`
		}
		require.NoError(t, db.Bun().NewRaw(`SELECT name, type, "notnull" AS not_null, pk FROM pragma_table_info(?)`, tb.Name).Scan(ctx, &cols))
		d := dbTable{cols: map[string]dbColumn{}, checked: map[string]bool{}}
		for _, c := range cols {
			d.cols[c.Name] = dbColumn{typ: strings.ToUpper(c.Type), null: !c.NotNull && c.PK == 0}
		}
		// The CHECK expressions' identifiers that are columns; a generated
		// column stands for the columns of its expression.
		text := sqlString.ReplaceAllString(sqlComment.ReplaceAllString(tb.SQL, ""), "''")
		generated := map[string][]string{}
		for _, m := range sqlGenerated.FindAllStringSubmatchIndex(text, -1) {
			generated[text[m[2]:m[3]]] = sqlIdent.FindAllString(parenthesised(text, m[1]-1), -1)
		}
		for _, m := range sqlCheck.FindAllStringIndex(text, -1) {
			for _, id := range sqlIdent.FindAllString(parenthesised(text, m[1]-1), -1) {
				for _, col := range append(generated[id], id) {
					if _, ok := d.cols[col]; ok {
						d.checked[col] = true
					}
				}
			}
		}
		out[tb.Name] = d
	}
	return out
}

// parenthesised is the text between the parenthesis at open and the one
// that closes it.
func parenthesised(s string, open int) string {
	depth := 0
	for i := open; i < len(s); i++ {
		switch s[i] {
		case '(':
			depth++
		case ')':
			if depth--; depth == 0 {
				return s[open+1 : i]
			}
		}
	}
	return s[open+1:]
}

// compareTables lists how b's tables and columns differ from a's; class
// turns a's column types into b's.
func compareTables(aName string, a map[string]dbTable, bName string, b map[string]dbTable, class func(string) string) []string {
	var out []string
	for _, name := range slices.Sorted(maps.Keys(a)) {
		bt, ok := b[name]
		if !ok {
			out = append(out, fmt.Sprintf("table %s: in %s, not in %s", name, aName, bName))
			continue
		}
		at := a[name]
		for _, col := range slices.Sorted(maps.Keys(at.cols)) {
			ac := at.cols[col]
			bc, ok := bt.cols[col]
			switch {
			case !ok:
				out = append(out, fmt.Sprintf("column %s.%s: in %s, not in %s", name, col, aName, bName))
			case class(ac.typ) != bc.typ:
				out = append(out, fmt.Sprintf("column %s.%s: %s in %s, %s in %s", name, col, ac.typ, aName, bc.typ, bName))
			case ac.null != bc.null:
				out = append(out, fmt.Sprintf("column %s.%s: %s in %s, %s in %s", name, col, nullity(ac.null), aName, nullity(bc.null), bName))
			}
		}
		for _, col := range slices.Sorted(maps.Keys(bt.cols)) {
			if _, ok := at.cols[col]; !ok {
				out = append(out, fmt.Sprintf("column %s.%s: in %s, not in %s", name, col, bName, aName))
			}
		}
	}
	for _, name := range slices.Sorted(maps.Keys(b)) {
		if _, ok := a[name]; !ok {
			out = append(out, fmt.Sprintf("table %s: in %s, not in %s", name, bName, aName))
		}
	}
	return out
}

func nullity(null bool) string {
	if null {
		return "NULL"
	}
	return "NOT NULL"
}

// compareChecks lists the columns a CHECK names on one engine only.
func compareChecks(pg, lite map[string]dbTable) []string {
	var out []string
	for _, name := range slices.Sorted(maps.Keys(pg)) {
		l, ok := lite[name]
		if !ok {
			continue // compareTables reports it
		}
		for _, col := range slices.Sorted(maps.Keys(pg[name].checked)) {
			if !l.checked[col] {
				out = append(out, fmt.Sprintf("CHECK on %s.%s: in PostgreSQL, not in SQLite", name, col))
			}
		}
		for _, col := range slices.Sorted(maps.Keys(l.checked)) {
			if !pg[name].checked[col] {
				out = append(out, fmt.Sprintf("CHECK on %s.%s: in SQLite, not in PostgreSQL", name, col))
			}
		}
	}
	return out
}
