-- Issue 30, item 10: a group's weekly sessions (catalog.Session) as a JSON
-- array of {weekday, start, end, place} in a text column, '[]' for none.
ALTER TABLE study_groups ADD COLUMN sessions text NOT NULL DEFAULT '[]';
--bun:split
-- Issue 30, item 2: the signed paper application a provider activated a
-- contract on (seed 004), one per contract.
CREATE TABLE paper_applications (
    contract_id uuid        PRIMARY KEY,
    provider_id uuid        NOT NULL,
    number      text        NOT NULL,
    signed_on   date        NOT NULL,
    recorded_at timestamptz NOT NULL,
    actor       text        NOT NULL
);
