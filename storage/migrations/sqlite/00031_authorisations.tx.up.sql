-- Issue 30, item 3; see the PostgreSQL migration.
CREATE TABLE authorisations (
    id              TEXT    NOT NULL PRIMARY KEY,
    organisation_id TEXT    NOT NULL,
    name            TEXT    NOT NULL,
    municipality    TEXT    NOT NULL,
    may_activate    INTEGER NOT NULL,
    from_on         TEXT    NOT NULL,
    to_on           TEXT,
    granted_by      TEXT    NOT NULL,
    granted_at      TEXT    NOT NULL,
    revoked_by      TEXT    NOT NULL,
    revoked_at      TEXT
) STRICT;
--bun:split
CREATE INDEX authorisations_organisation ON authorisations (organisation_id, municipality);
--bun:split
CREATE INDEX authorisations_municipality ON authorisations (municipality, id);
--bun:split
CREATE TABLE registrations (
    certificate_id   TEXT NOT NULL PRIMARY KEY,
    organisation_id  TEXT NOT NULL,
    authorisation_id TEXT NOT NULL,
    received_on      TEXT NOT NULL
) STRICT;
