-- Issue 30, items 2 and 10; see the PostgreSQL migration.
ALTER TABLE study_groups ADD COLUMN sessions TEXT NOT NULL DEFAULT '[]';
--bun:split
CREATE TABLE paper_applications (
    contract_id TEXT NOT NULL PRIMARY KEY,
    provider_id TEXT NOT NULL,
    number      TEXT NOT NULL,
    signed_on   TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    actor       TEXT NOT NULL
) STRICT;
