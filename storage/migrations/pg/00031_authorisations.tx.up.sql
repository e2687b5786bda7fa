-- Issue 30, item 3: a municipality's authorisations of organisations (a
-- school, a kindergarten, an МФЦ) to take paper applications for children's
-- certificates, and the certificates they issued on them.
CREATE TABLE authorisations (
    id              uuid        PRIMARY KEY,
    organisation_id uuid        NOT NULL,
    name            text        NOT NULL,
    municipality    text        NOT NULL,
    may_activate    boolean     NOT NULL,
    from_on         date        NOT NULL,
    to_on           date,
    granted_by      text        NOT NULL,
    granted_at      timestamptz NOT NULL,
    revoked_by      text        NOT NULL,
    revoked_at      timestamptz
);
--bun:split
CREATE INDEX authorisations_organisation ON authorisations (organisation_id, municipality);
--bun:split
CREATE INDEX authorisations_municipality ON authorisations (municipality, id);
--bun:split
CREATE TABLE registrations (
    certificate_id   uuid PRIMARY KEY,
    organisation_id  uuid NOT NULL,
    authorisation_id uuid NOT NULL,
    received_on      date NOT NULL
);
