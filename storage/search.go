package storage

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/edufund/edufund/catalog"
	"github.com/edufund/edufund/storage/internal/schema"
)

// The navigator's index is plain rows, search_terms (term, program,
// weight), written by the transaction that saves the program or its
// provider and read by one portable query. Both engines hold the same
// terms (analysed in Go) and compute the same integer ranks, so they
// return the same programs in the same order; no index drifts from the
// catalogue, because no index lives outside its transaction.

// indexProgram replaces program p's terms; provider is its provider's name.
func indexProgram(ctx context.Context, db bun.IDB, p catalog.Program, provider string) error {
	for _, m := range []any{(*schema.SearchTerm)(nil), (*schema.SearchTrigram)(nil)} {
		if _, err := db.NewDelete().Model(m).Where("program_id = ?", p.ID).Exec(ctx); err != nil {
			return err
		}
	}
	terms := catalog.IndexTerms(p.Name, provider, p.Annotation, p.Description, p.Goals, strings.Join(p.Tags, " "))
	if len(terms) > 0 {
		rows := make([]schema.SearchTerm, 0, len(terms))
		for t, w := range terms {
			rows = append(rows, schema.SearchTerm{Term: t, ProgramID: p.ID, Weight: w})
		}
		if _, err := db.NewInsert().Model(&rows).Exec(ctx); err != nil {
			return err
		}
	}
	tris := catalog.TitleTrigrams(p.Name)
	if len(tris) == 0 {
		return nil
	}
	rows := make([]schema.SearchTrigram, len(tris))
	for i, t := range tris {
		rows[i] = schema.SearchTrigram{Trigram: t, ProgramID: p.ID}
	}
	_, err := db.NewInsert().Model(&rows).Exec(ctx)
	return err
}

// indexProvider reindexes the programs of provider id, whose name is name.
func indexProvider(ctx context.Context, db bun.IDB, id uuid.UUID, name string) error {
	var rows []schema.Program
	if err := db.NewSelect().Model(&rows).Where("provider_id = ?", id).Scan(ctx); err != nil {
		return err
	}
	for i := range rows {
		if err := indexProgram(ctx, db, rows[i].Domain(), name); err != nil {
			return err
		}
	}
	return nil
}

// indexAllPrograms indexes every program: the Go step of migration 00019,
// for the programs saved before the index existed.
func indexAllPrograms(ctx context.Context, db bun.IDB, log *slog.Logger) error {
	var providers []schema.Provider
	if err := db.NewSelect().Model(&providers).Scan(ctx); err != nil {
		return err
	}
	for _, p := range providers {
		if err := indexProvider(ctx, db, p.ID, p.Name); err != nil {
			return err
		}
	}
	log.InfoContext(ctx, "storage: indexed the catalogue for the navigator", "providers", len(providers))
	return nil
}

// SearchCatalog finds the programs matching s, a page at a time, ranked
// as catalog.Search says, then by id. It runs outside any transaction.
func (db *DB) SearchCatalog(ctx context.Context, s catalog.Search) (catalog.Results, error) {
	if err := s.Check(); err != nil {
		return catalog.Results{}, err
	}
	var out catalog.Results
	err := db.withRetry(ctx, func() error {
		// A word forgiven a typo only when it matches no term at all: the
		// trigram branch is the costliest part of the query.
		ms := s.Matchers()
		for i := range ms {
			if len(ms[i].Trigrams) == 0 {
				continue
			}
			var hits []int
			if err := db.bun.NewRaw("SELECT 1 FROM search_terms WHERE term >= ? AND term < ? LIMIT 1",
				ms[i].Root, catalog.PrefixEnd(ms[i].Root)).Scan(ctx, &hits); err != nil {
				return err
			}
			if len(hits) > 0 {
				ms[i].Trigrams = nil
			}
		}
		from, args := searchFrom(s, ms)
		out = catalog.Results{Hits: []catalog.Hit{}, Directions: map[catalog.Direction]int{}, Registries: map[catalog.Registry]int{}}
		// The total and the facets in one statement: the matches counted by
		// direction and registry.
		var counts []struct {
			Direction string `bun:"direction"`
			Registry  string `bun:"registry"`
			N         int    `bun:"n"`
		}
		if err := db.bun.NewRaw("SELECT p.direction, p.registry, COUNT(*) AS n FROM "+from+" JOIN programs p ON p.id = r.id GROUP BY p.direction, p.registry",
			args...).Scan(ctx, &counts); err != nil {
			return err
		}
		for _, c := range counts {
			out.Total += c.N
			out.Directions[catalog.Direction(c.Direction)] += c.N
			out.Registries[catalog.Registry(c.Registry)] += c.N
		}
		q, qargs := "SELECT r.id, r.score FROM "+from, args
		if a := s.After; a != nil {
			q += " WHERE r.score < ? OR (r.score = ? AND r.id > ?)"
			qargs = append(append([]any{}, args...), a.Rank, a.Rank, a.ProgramID)
		}
		q += " ORDER BY r.score DESC, r.id LIMIT ?"
		qargs = append(qargs, s.Limit+1)
		var rows []struct {
			ID    uuid.UUID `bun:"id"`
			Score int       `bun:"score"`
		}
		if err := db.bun.NewRaw(q, qargs...).Scan(ctx, &rows); err != nil {
			return err
		}
		for _, r := range rows {
			out.Hits = append(out.Hits, catalog.Hit{ProgramID: r.ID, Rank: r.Score})
		}
		return nil
	})
	if err != nil {
		return catalog.Results{}, db.pagerErr(err, "search")
	}
	if len(out.Hits) > s.Limit {
		out.Hits = out.Hits[:s.Limit]
		last := out.Hits[len(out.Hits)-1]
		out.Next = &catalog.Cursor{Rank: last.Rank, ProgramID: last.ProgramID}
	}
	return out, nil
}

// searchFrom is the derived table "(…) r" of the programs s matches by
// ms (its Matchers), with their ranks, and its arguments.
func searchFrom(s catalog.Search, ms []catalog.Matcher) (string, []any) {
	var b strings.Builder
	var args []any
	if len(ms) == 0 {
		b.WriteString("(SELECT p.id AS id, 0 AS score FROM programs p WHERE 1 = 1")
	} else {
		// Each word gives each program it matches the best weight it
		// matched with; a program must match every word.
		b.WriteString("(SELECT p.id AS id, m.score AS score FROM programs p JOIN (SELECT program_id, SUM(w) AS score, COUNT(*) AS n FROM (")
		for i, m := range ms {
			if i > 0 {
				b.WriteString(" UNION ALL ")
			}
			fmt.Fprintf(&b, "SELECT program_id, MAX(w) AS w FROM (SELECT program_id, CASE WHEN term = ? THEN weight ELSE weight / %d END AS w FROM search_terms WHERE term >= ? AND term < ?", catalog.RootDivisor)
			args = append(args, m.Exact, m.Root, catalog.PrefixEnd(m.Root))
			if len(m.Trigrams) > 0 {
				// A misspelt title word: enough of the word's trigrams.
				fmt.Fprintf(&b, " UNION ALL SELECT program_id, %d AS w FROM search_trigrams WHERE trigram IN (?) GROUP BY program_id HAVING COUNT(*) * 10 >= %d",
					catalog.WeightTypo, len(m.Trigrams)*catalog.TypoShare)
				args = append(args, bun.In(m.Trigrams))
			}
			b.WriteString(") y GROUP BY program_id")
		}
		fmt.Fprintf(&b, ") x GROUP BY program_id) m ON m.program_id = p.id AND m.n = %d WHERE 1 = 1", len(ms))
	}
	if s.Municipality != "" {
		b.WriteString(" AND p.municipality = ?")
		args = append(args, s.Municipality)
	}
	if s.Direction != "" {
		b.WriteString(" AND p.direction = ?")
		args = append(args, string(s.Direction))
	}
	if s.Registry != "" {
		b.WriteString(" AND p.registry = ?")
		args = append(args, string(s.Registry))
	}
	if s.ProviderID != uuid.Nil {
		b.WriteString(" AND p.provider_id = ?")
		args = append(args, s.ProviderID)
	}
	if s.Age > 0 {
		b.WriteString(" AND p.min_age <= ? AND (p.max_age = 0 OR p.max_age >= ?)")
		args = append(args, s.Age, s.Age)
	}
	if !s.Month.IsZero() || s.FreeSeats || s.MaxPrice.IsPositive() {
		// One group must answer all of them.
		b.WriteString(" AND EXISTS (SELECT 1 FROM modules mo JOIN study_groups g ON g.module_id = mo.id WHERE mo.program_id = p.id")
		if !s.Month.IsZero() {
			b.WriteString(" AND g.start_on <= ? AND g.end_on >= ?")
			args = append(args, schema.Date(s.Month.Last()), schema.Date(s.Month.First()))
		}
		if s.FreeSeats {
			b.WriteString(" AND g.capacity > COALESCE((SELECT c.used FROM counters c WHERE c.key = 'seats:' || g.id), 0)")
		}
		if s.MaxPrice.IsPositive() {
			b.WriteString(" AND mo.price <= ?")
			args = append(args, s.MaxPrice.Kopecks())
		}
		b.WriteString(")")
	}
	b.WriteString(") r")
	return b.String(), args
}
