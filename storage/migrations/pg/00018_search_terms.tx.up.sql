-- The navigator's index (issue 27): a program's terms, analysed in Go
-- (catalog.Analyse) so that both engines hold and match the same terms,
-- each with the weight of the field it stands in. Kept in the transaction
-- that saves the program or its provider; the "C" collation orders terms
-- by code point, so that a prefix is a range of the primary key.
CREATE TABLE search_terms (
    term       text    COLLATE "C" NOT NULL,
    program_id uuid    NOT NULL REFERENCES programs (id),
    weight     integer NOT NULL CHECK (weight > 0),
    PRIMARY KEY (term, program_id)
);
--bun:split
CREATE INDEX search_terms_program_idx ON search_terms (program_id);
--bun:split
-- The trigrams of each program's title words, for a misspelt word of a
-- query (catalog.TitleTrigrams).
CREATE TABLE search_trigrams (
    trigram    text COLLATE "C" NOT NULL,
    program_id uuid NOT NULL REFERENCES programs (id),
    PRIMARY KEY (trigram, program_id)
);
--bun:split
CREATE INDEX search_trigrams_program_idx ON search_trigrams (program_id);
