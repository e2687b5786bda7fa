-- Issue 30, item 6; see the PostgreSQL migration.
CREATE TABLE waitlist (
    id             TEXT    NOT NULL PRIMARY KEY,
    group_id       TEXT    NOT NULL,
    certificate_id TEXT    NOT NULL,
    seq            INTEGER NOT NULL,
    status         TEXT    NOT NULL,
    request        TEXT    NOT NULL,
    contract_id    TEXT    NOT NULL,
    deadline       TEXT    NULL,
    reason         TEXT    NOT NULL,
    created_at     TEXT    NOT NULL,
    UNIQUE (group_id, seq)
) STRICT;
--bun:split
CREATE UNIQUE INDEX waitlist_one_per_group_idx ON waitlist (group_id, certificate_id) WHERE status IN ('waiting', 'offered');
--bun:split
CREATE INDEX waitlist_waiting_idx ON waitlist (group_id, seq) WHERE status = 'waiting';
--bun:split
CREATE INDEX waitlist_certificate_idx ON waitlist (certificate_id);
--bun:split
CREATE INDEX waitlist_offered_idx ON waitlist (deadline) WHERE status = 'offered';
