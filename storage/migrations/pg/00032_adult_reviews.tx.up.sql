-- Issue 30, item 9: the federal operator's review of adult applications
-- where the region asks for one (parameter adults.federal_review).
CREATE TABLE adult_reviews (
    certificate_id uuid        PRIMARY KEY REFERENCES certificates (id),
    status         text        NOT NULL CHECK (status IN ('pending', 'approved', 'rejected')),
    reasons        text        NOT NULL,
    requested_at   timestamptz NOT NULL,
    decided_at     timestamptz,
    decided_by     text        NOT NULL
);
--bun:split
CREATE INDEX adult_reviews_status ON adult_reviews (status, certificate_id);
