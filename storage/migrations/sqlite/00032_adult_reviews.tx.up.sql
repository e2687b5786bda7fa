-- Issue 30, item 9; see the PostgreSQL migration.
CREATE TABLE adult_reviews (
    certificate_id TEXT NOT NULL PRIMARY KEY REFERENCES certificates (id),
    status         TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected')),
    reasons        TEXT NOT NULL,
    requested_at   TEXT NOT NULL,
    decided_at     TEXT,
    decided_by     TEXT NOT NULL
) STRICT;
--bun:split
CREATE INDEX adult_reviews_status ON adult_reviews (status, certificate_id);
