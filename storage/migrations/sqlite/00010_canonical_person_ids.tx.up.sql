-- Person identifiers are canonical: see the PostgreSQL migration of the
-- same number. SQLite cannot add a table CHECK without rebuilding the
-- table, which the foreign keys of accounts, holds, postings and contracts
-- forbid inside the migration's transaction; it can add a column with one.
-- ids_canonical is computed, stored nowhere, and its CHECK refuses on
-- every insert and update what PostgreSQL's CHECKs refuse: an identifier
-- that is not [a-z0-9][a-z0-9._:-]{0,99} (a guardian's may be empty). A
-- byte length equal to the character length means ASCII only and no NUL,
-- at which SQLite's text functions stop.
ALTER TABLE certificates ADD COLUMN ids_canonical INTEGER GENERATED ALWAYS AS (
    length(CAST(person_id AS BLOB)) BETWEEN 1 AND 100 AND length(person_id) = length(CAST(person_id AS BLOB))
    AND person_id GLOB '[a-z0-9]*' AND person_id NOT GLOB '*[^a-z0-9._:-]*'
    AND (guardian_id = '' OR (length(CAST(guardian_id AS BLOB)) <= 100 AND length(guardian_id) = length(CAST(guardian_id AS BLOB))
        AND guardian_id GLOB '[a-z0-9]*' AND guardian_id NOT GLOB '*[^a-z0-9._:-]*'))
) VIRTUAL CHECK (ids_canonical);
