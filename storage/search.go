package storage

import (
	"context"
	"database/sql"
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
	if p.Registry == catalog.Certified && !p.Certified {
		// Only certified programs are in the certified registry: a draft,
		// one under review, denied or withdrawn is not in the navigator
		// until the regional operator certifies it.
		return nil
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
	// Only what the index reads, which migration 00019 (indexAllPrograms)
	// already has: the model grows with the migrations after it (00027's
	// certification).
	var rows []schema.Program
	if err := db.NewSelect().Model(&rows).Column("id", "name", "registry", "certified", "annotation", "description", "goals", "tags").
		Where("provider_id = ?", id).Scan(ctx); err != nil {
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
	// Only the columns migration 00019 knows: the model grows with the
	// migrations after it (00022's accounting details).
	var providers []schema.Provider
	if err := db.NewSelect().Model(&providers).Column("id", "name").Scan(ctx); err != nil {
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
//
// Two statements at most: the first sizes each word's postings (up to
// DB.sizeCap) and finds the words to forgive a typo, those matching no
// term; the second returns the page, the total and both facets at once,
// the rarest word driving and the others probed program by program.
func (db *DB) SearchCatalog(ctx context.Context, s catalog.Search) (catalog.Results, error) {
	if err := s.Check(); err != nil {
		return catalog.Results{}, err
	}
	var out catalog.Results
	err := db.withRetry(ctx, func() error {
		ms := s.Matchers()
		words := make([]searchWord, len(ms))
		for i, m := range ms {
			words[i] = searchWord{Matcher: m, size: db.sizeCap}
		}
		if len(ms) > 1 || (len(ms) == 1 && len(ms[0].Trigrams) > 0) {
			if err := db.sizeWords(ctx, words); err != nil {
				return err
			}
		}
		q, args := searchQuery(s, words, db.sizeCap)
		var rows []struct {
			ID        uuid.NullUUID  `bun:"id"`
			Score     int            `bun:"score"`
			Direction sql.NullString `bun:"direction"`
			Registry  sql.NullString `bun:"registry"`
			N         int            `bun:"n"`
		}
		if err := db.bun.NewRaw(q, args...).Scan(ctx, &rows); err != nil {
			return err
		}
		out = catalog.Results{Hits: []catalog.Hit{}, Directions: map[catalog.Direction]int{}, Registries: map[catalog.Registry]int{}}
		for _, r := range rows {
			if r.ID.Valid {
				out.Hits = append(out.Hits, catalog.Hit{ProgramID: r.ID.UUID, Rank: r.Score})
				continue
			}
			out.Total += r.N
			out.Directions[catalog.Direction(r.Direction.String)] += r.N
			out.Registries[catalog.Registry(r.Registry.String)] += r.N
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

// A word's postings are counted up to DB.sizeCap (by default
// defaultSizeCap): enough to find a rare word to drive a search without
// reading all of a common one's postings.
const defaultSizeCap = 1000

// searchWord is one word of a query with its postings (up to
// DB.sizeCap); a word of no postings is matched by its trigrams only (a
// typo).
type searchWord struct {
	catalog.Matcher
	size int
}

func (w searchWord) typo() bool { return w.size == 0 && len(w.Trigrams) > 0 }

// sizeWords counts each word's postings, up to db.sizeCap, in one
// statement; a word without postings and without trigrams can match
// nothing, and is left at zero.
func (db *DB) sizeWords(ctx context.Context, words []searchWord) error {
	var b strings.Builder
	var args []any
	for i, w := range words {
		if i > 0 {
			b.WriteString(" UNION ALL ")
		}
		fmt.Fprintf(&b, "SELECT %d AS i, COUNT(*) AS n FROM (SELECT 1 AS x FROM search_terms WHERE term >= ? AND term < ? LIMIT %d) e%d", i, db.sizeCap, i)
		args = append(args, w.Root, catalog.PrefixEnd(w.Root))
	}
	var sizes []struct {
		I int `bun:"i"`
		N int `bun:"n"`
	}
	if err := db.bun.NewRaw(b.String(), args...).Scan(ctx, &sizes); err != nil {
		return err
	}
	for _, s := range sizes {
		words[s.I].size = s.N
	}
	return nil
}

// searchQuery is the one statement answering s for its words: rows with
// an id are the page (one more than the limit, to tell whether a next
// page exists), rows without one count the matches of a direction and a
// registry.
func searchQuery(s catalog.Search, words []searchWord, sizeCap int) (string, []any) {
	var b strings.Builder
	var args []any
	drive := -1
	for i, w := range words {
		// The rarest word drives; a misspelt one only when all are.
		if drive < 0 || w.cost(sizeCap) < words[drive].cost(sizeCap) {
			drive = i
		}
	}
	b.WriteString("WITH r AS MATERIALIZED (SELECT p.id AS id, p.direction AS direction, p.registry AS registry")
	if drive < 0 {
		b.WriteString(", 0 AS w0 FROM programs p WHERE 1 = 1")
	} else {
		// The rarest word drives; the others are probed in each of its
		// programs. (Reading every word's postings and adding them up
		// instead was slower under load when all words are common: its
		// aggregate spills to disk.)
		b.WriteString(", d.w AS w0")
		n := 1
		for i, w := range words {
			if i == drive {
				continue
			}
			b.WriteString(", ")
			args = w.probe(&b, args)
			fmt.Fprintf(&b, " AS w%d", n)
			n++
		}
		b.WriteString(" FROM (")
		args = words[drive].postings(&b, args)
		b.WriteString(") d JOIN programs p ON p.id = d.program_id WHERE 1 = 1")
	}
	args = searchFilters(&b, s, args)
	b.WriteString("), m AS MATERIALIZED (SELECT id, direction, registry, w0")
	for i := 1; i < len(words); i++ {
		fmt.Fprintf(&b, " + w%d", i)
	}
	b.WriteString(" AS score FROM r WHERE 1 = 1")
	for i := 1; i < len(words); i++ {
		fmt.Fprintf(&b, " AND w%d IS NOT NULL", i)
	}
	b.WriteString(") SELECT h.id AS id, h.score AS score, NULL AS direction, NULL AS registry, 0 AS n FROM (SELECT id, score FROM m")
	if a := s.After; a != nil {
		b.WriteString(" WHERE score < ? OR (score = ? AND id > ?)")
		args = append(args, a.Rank, a.Rank, a.ProgramID)
	}
	b.WriteString(" ORDER BY score DESC, id LIMIT ?) h UNION ALL SELECT NULL, 0, direction, registry, COUNT(*) FROM m GROUP BY direction, registry")
	args = append(args, s.Limit+1)
	return b.String(), args
}

// cost orders the words for driving: a typo's trigram rows cost the most.
func (w searchWord) cost(sizeCap int) int {
	if w.typo() {
		return sizeCap + 1
	}
	return w.size
}

// termWeight is a term's weight for the word: whole for its exact term,
// a third (catalog.RootDivisor) for another term of its root.
var termWeight = fmt.Sprintf("CASE WHEN t.term = ? THEN t.weight ELSE t.weight / %d END", catalog.RootDivisor)

// postings writes the programs the word matches with its best weight
// in each, as (program_id, w).
func (w searchWord) postings(b *strings.Builder, args []any) []any {
	if w.typo() {
		fmt.Fprintf(b, "SELECT t.program_id AS program_id, %d AS w FROM search_trigrams t WHERE t.trigram IN (?) GROUP BY t.program_id HAVING COUNT(*) * 10 >= %d",
			catalog.WeightTypo, len(w.Trigrams)*catalog.TypoShare)
		return append(args, bun.In(w.Trigrams))
	}
	b.WriteString("SELECT t.program_id AS program_id, MAX(" + termWeight + ") AS w FROM search_terms t WHERE t.term >= ? AND t.term < ? GROUP BY t.program_id")
	return append(args, w.Exact, w.Root, catalog.PrefixEnd(w.Root))
}

// probe writes the word's best weight in program d.program_id, NULL when
// the word does not match it.
func (w searchWord) probe(b *strings.Builder, args []any) []any {
	if w.typo() {
		fmt.Fprintf(b, "(SELECT CASE WHEN COUNT(*) * 10 >= %d THEN %d END FROM search_trigrams t WHERE t.program_id = d.program_id AND t.trigram IN (?))",
			len(w.Trigrams)*catalog.TypoShare, catalog.WeightTypo)
		return append(args, bun.In(w.Trigrams))
	}
	b.WriteString("(SELECT MAX(" + termWeight + ") FROM search_terms t WHERE t.program_id = d.program_id AND t.term >= ? AND t.term < ?)")
	return append(args, w.Exact, w.Root, catalog.PrefixEnd(w.Root))
}

// searchFilters writes the filters of s on programs p.
func searchFilters(b *strings.Builder, s catalog.Search, args []any) []any {
	// Only certified programs are in the certified registry, listed or
	// found by a word (a word finds them by the index, which holds no
	// others; a list without one reads programs).
	b.WriteString(" AND (p.registry <> 'certified' OR p.certified)")
	if s.Municipality != "" {
		// A program that names no municipality runs in its provider's.
		b.WriteString(" AND (p.municipality = ? OR (p.municipality = '' AND p.provider_id IN (SELECT pr.id FROM providers pr WHERE pr.municipality = ?)))")
		args = append(args, s.Municipality, s.Municipality)
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
	return args
}
