-- The navigator reads a term's postings and probes a program's terms
-- (storage/search.go): both indexes carry the weight, so that neither
-- reads the table.
ALTER TABLE search_terms DROP CONSTRAINT search_terms_pkey;
--bun:split
ALTER TABLE search_terms ADD PRIMARY KEY (term, program_id) INCLUDE (weight);
--bun:split
DROP INDEX search_terms_program_idx;
--bun:split
CREATE INDEX search_terms_program_idx ON search_terms (program_id, term) INCLUDE (weight);
