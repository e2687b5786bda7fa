-- The bearer-token revocation list: one token by its jti (kind 'token'),
-- or every token of a subject issued before an instant (kind 'subject').
-- Instants are whole seconds since 1970 UTC, the NumericDate unit the
-- tokens carry, so that iat and exp compare with them as integers in both
-- dialects. An entry lives until expires_at, when every token it names has
-- expired anyway; it is then ignored and deleted by the next revocation.
CREATE TABLE token_revocations (
    kind          text   NOT NULL CHECK (kind IN ('token', 'subject')),
    name          text   NOT NULL CHECK (name <> ''),
    issued_before bigint NULL,
    expires_at    bigint NOT NULL,
    revoked_at    bigint NOT NULL,
    revoked_by    text   NOT NULL,
    PRIMARY KEY (kind, name),
    CONSTRAINT token_revocations_subject CHECK ((kind = 'subject') = (issued_before IS NOT NULL))
);
--bun:split
CREATE INDEX token_revocations_expires_idx ON token_revocations (expires_at);
