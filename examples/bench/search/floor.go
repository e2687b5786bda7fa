package main

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/edufund/edufund/catalog"
	"github.com/edufund/edufund/storage"
)

// The floor: the cheapest raw SQL that answers a search on the same index
// rows, one statement through the same pool. It returns up to Limit
// distinct ids of programs matching every word of the query by the same
// root ranges the navigator reads (search_terms' primary key, the word
// with the longest root driving, each other word an EXISTS probe by
// program) and the same municipality, direction and age filters. It does
// what the navigator does not need to do without: no rank (the first
// matches found, in no order), no total, no facets, no misspelt words (the
// title trigrams) and no cursor.
func floorQuery(s catalog.Search) (string, []any) {
	ms := s.Matchers()
	if len(ms) == 0 {
		return "", nil
	}
	// The longest root drives: the fewest rows.
	d := 0
	for i, m := range ms {
		if utf8.RuneCountInString(m.Root) > utf8.RuneCountInString(ms[d].Root) {
			d = i
		}
	}
	var b strings.Builder
	args := []any{ms[d].Root, catalog.PrefixEnd(ms[d].Root)}
	b.WriteString("SELECT DISTINCT t.program_id FROM search_terms t")
	if s.Municipality != "" || s.Direction != "" || s.Age > 0 {
		b.WriteString(" JOIN programs p ON p.id = t.program_id")
	}
	b.WriteString(" WHERE t.term >= ? AND t.term < ?")
	for i, m := range ms {
		if i == d {
			continue
		}
		fmt.Fprintf(&b, " AND EXISTS (SELECT 1 FROM search_terms t%d WHERE t%d.program_id = t.program_id AND t%d.term >= ? AND t%d.term < ?)", i, i, i, i)
		args = append(args, m.Root, catalog.PrefixEnd(m.Root))
	}
	filters(&b, &args, s)
	b.WriteString(" LIMIT ?")
	args = append(args, s.Limit)
	return b.String(), args
}

// floor runs the floor's statement for s.
func floor(ctx context.Context, db *storage.DB, s catalog.Search) ([]uuid.UUID, error) {
	if err := s.Check(); err != nil {
		return nil, err
	}
	q, args := floorQuery(s)
	if q == "" {
		return nil, nil
	}
	var ids []uuid.UUID
	err := db.Bun().NewRaw(q, args...).Scan(ctx, &ids)
	return ids, err
}

// The engine's own full-text search on the same data, the issue's "raw
// FTS query": a side table the benchmark builds after the catalogue (not
// part of the store), and one ranked statement per search.
//
//   - PostgreSQL: bench_fts holds each program's tsvector (the russian
//     configuration: its title weighted A, its provider's name B, its
//     texts and tags C) and its filter columns, with a GIN index; a search
//     is its words' roots as prefixes (to_tsquery 'root:* & …'), the
//     filters, ORDER BY ts_rank, id, LIMIT.
//   - SQLite: bench_fts is an FTS5 table (unicode61, diacritics removed:
//     SQLite has no Russian stemmer) of the title, the provider's name and
//     the texts; a search MATCHes the words' roots as prefix queries,
//     joins programs for the filters, ORDER BY bm25 (the title weighing 8,
//     the provider 4, the texts 2), LIMIT.
//
// Like the floor it has no total, facets, typos or cursor.

// buildFTS creates the side table unless it is there.
func buildFTS(ctx context.Context, db *storage.DB) error {
	var stmts []string
	if db.Dialect() == storage.Postgres {
		var n int
		if err := db.Bun().NewRaw("SELECT COUNT(*) FROM pg_tables WHERE tablename = 'bench_fts'").Scan(ctx, &n); err != nil || n > 0 {
			return err
		}
		stmts = []string{
			`CREATE TABLE bench_fts AS SELECT p.id, p.municipality, p.direction, p.min_age, p.max_age,
				setweight(to_tsvector('russian', p.name), 'A') || setweight(to_tsvector('russian', v.name), 'B') ||
				setweight(to_tsvector('russian', p.annotation || ' ' || p.description || ' ' || p.goals || ' ' || p.tags), 'C') AS doc
			FROM programs p JOIN providers v ON v.id = p.provider_id`,
			`ALTER TABLE bench_fts ADD PRIMARY KEY (id)`,
			`CREATE INDEX bench_fts_doc ON bench_fts USING gin (doc)`,
			`VACUUM ANALYZE bench_fts`,
		}
	} else {
		var n int
		if err := db.Bun().NewRaw("SELECT COUNT(*) FROM sqlite_master WHERE name = 'bench_fts'").Scan(ctx, &n); err != nil || n > 0 {
			return err
		}
		stmts = []string{
			`CREATE VIRTUAL TABLE bench_fts USING fts5(id UNINDEXED, name, provider, body, tokenize = 'unicode61 remove_diacritics 2')`,
			`INSERT INTO bench_fts (id, name, provider, body) SELECT p.id, p.name, v.name, p.annotation || ' ' || p.description || ' ' || p.goals || ' ' || p.tags
			FROM programs p JOIN providers v ON v.id = p.provider_id`,
		}
	}
	for _, q := range stmts {
		if _, err := db.Bun().ExecContext(ctx, q); err != nil {
			return fmt.Errorf("fts: %w", err)
		}
	}
	return nil
}

// ftsQuery is the engine's full-text statement for s.
func ftsQuery(dialect string, s catalog.Search) (string, []any) {
	ms := s.Matchers()
	if len(ms) == 0 {
		return "", nil
	}
	var b strings.Builder
	var args []any
	roots := make([]string, len(ms))
	if dialect == storage.Postgres {
		for i, m := range ms {
			roots[i] = m.Root + ":*"
		}
		q := strings.Join(roots, " & ")
		b.WriteString("SELECT p.id FROM bench_fts p WHERE p.doc @@ to_tsquery('russian', ?)")
		args = append(args, q)
		filters(&b, &args, s)
		b.WriteString(" ORDER BY ts_rank(p.doc, to_tsquery('russian', ?)) DESC, p.id LIMIT ?")
		args = append(args, q, s.Limit)
		return b.String(), args
	}
	for i, m := range ms {
		roots[i] = `"` + m.Root + `"*`
	}
	b.WriteString("SELECT p.id FROM bench_fts f JOIN programs p ON p.id = f.id WHERE bench_fts MATCH ?")
	args = append(args, strings.Join(roots, " "))
	filters(&b, &args, s)
	b.WriteString(" ORDER BY bm25(bench_fts, 0, 8, 4, 2), p.id LIMIT ?")
	args = append(args, s.Limit)
	return b.String(), args
}

// filters adds the municipality, direction and age filters on p.
func filters(b *strings.Builder, args *[]any, s catalog.Search) {
	if s.Municipality != "" {
		b.WriteString(" AND p.municipality = ?")
		*args = append(*args, s.Municipality)
	}
	if s.Direction != "" {
		b.WriteString(" AND p.direction = ?")
		*args = append(*args, string(s.Direction))
	}
	if s.Age > 0 {
		b.WriteString(" AND p.min_age <= ? AND (p.max_age = 0 OR p.max_age >= ?)")
		*args = append(*args, s.Age, s.Age)
	}
}

// fts runs the engine's full-text statement for s.
func fts(ctx context.Context, db *storage.DB, s catalog.Search) ([]uuid.UUID, error) {
	if err := s.Check(); err != nil {
		return nil, err
	}
	q, args := ftsQuery(db.Dialect(), s)
	if q == "" {
		return nil, nil
	}
	var ids []uuid.UUID
	err := db.Bun().NewRaw(q, args...).Scan(ctx, &ids)
	return ids, err
}
