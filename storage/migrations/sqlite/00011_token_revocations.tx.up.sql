-- The bearer-token revocation list; see the PostgreSQL migration. Instants
-- are whole seconds since 1970 UTC.
CREATE TABLE token_revocations (
    kind          TEXT    NOT NULL CHECK (kind IN ('token', 'subject')),
    name          TEXT    NOT NULL CHECK (name <> ''),
    issued_before INTEGER NULL,
    expires_at    INTEGER NOT NULL,
    revoked_at    INTEGER NOT NULL,
    revoked_by    TEXT    NOT NULL,
    PRIMARY KEY (kind, name),
    CONSTRAINT token_revocations_subject CHECK ((kind = 'subject') = (issued_before IS NOT NULL))
) STRICT;
--bun:split
CREATE INDEX token_revocations_expires_idx ON token_revocations (expires_at);
