-- The navigator reads a term's postings and probes a program's terms
-- (storage/search.go): the table becomes its primary key (WITHOUT ROWID),
-- and the probing index carries the weight, so that neither reads a
-- second b-tree.
CREATE TABLE search_terms_cover (
    term       TEXT    NOT NULL,
    program_id TEXT    NOT NULL REFERENCES programs (id),
    weight     INTEGER NOT NULL CHECK (weight > 0),
    PRIMARY KEY (term, program_id)
) STRICT, WITHOUT ROWID;
--bun:split
INSERT INTO search_terms_cover (term, program_id, weight) SELECT term, program_id, weight FROM search_terms;
--bun:split
DROP TABLE search_terms;
--bun:split
ALTER TABLE search_terms_cover RENAME TO search_terms;
--bun:split
CREATE INDEX search_terms_program_idx ON search_terms (program_id, term, weight);
