-- The outbox (issue 29); see the PostgreSQL migration.
CREATE TABLE events (
    id             TEXT    NOT NULL PRIMARY KEY,
    seq            INTEGER NULL UNIQUE,
    type           TEXT    NOT NULL,
    at             TEXT    NOT NULL,
    actor          TEXT    NOT NULL,
    reason         TEXT    NOT NULL,
    certificate_id TEXT    NULL,
    contract_id    TEXT    NULL,
    provider_id    TEXT    NULL,
    municipality   TEXT    NOT NULL,
    scheme         TEXT    NOT NULL,
    payload        TEXT    NOT NULL
) STRICT;
--bun:split
CREATE INDEX events_unpublished_idx ON events (id) WHERE seq IS NULL;
--bun:split
CREATE INDEX events_certificate_idx ON events (certificate_id, seq);
--bun:split
CREATE INDEX events_contract_idx ON events (contract_id, seq);
--bun:split
CREATE INDEX events_provider_idx ON events (provider_id, seq);
--bun:split
CREATE INDEX events_municipality_idx ON events (municipality, seq);
--bun:split
CREATE TRIGGER events_no_delete BEFORE DELETE ON events
BEGIN
    SELECT RAISE(ABORT, 'events are append-only: DELETE refused');
END;
--bun:split
CREATE TRIGGER events_no_update BEFORE UPDATE ON events
WHEN OLD.seq IS NOT NULL OR NEW.seq IS NULL
  OR NEW.id IS NOT OLD.id OR NEW.type IS NOT OLD.type OR NEW.at IS NOT OLD.at OR NEW.actor IS NOT OLD.actor
  OR NEW.reason IS NOT OLD.reason OR NEW.certificate_id IS NOT OLD.certificate_id
  OR NEW.contract_id IS NOT OLD.contract_id OR NEW.provider_id IS NOT OLD.provider_id
  OR NEW.municipality IS NOT OLD.municipality OR NEW.scheme IS NOT OLD.scheme OR NEW.payload IS NOT OLD.payload
BEGIN
    SELECT RAISE(ABORT, 'events are append-only: UPDATE refused');
END;
--bun:split
CREATE TABLE notifications (
    id             TEXT NOT NULL PRIMARY KEY,
    event_id       TEXT NOT NULL REFERENCES events (id),
    recipient_role TEXT NOT NULL,
    recipient_id   TEXT NOT NULL,
    type           TEXT NOT NULL,
    text           TEXT NOT NULL,
    certificate_id TEXT NULL,
    contract_id    TEXT NULL,
    at             TEXT NOT NULL,
    read_at        TEXT NULL,
    UNIQUE (event_id, recipient_role, recipient_id)
) STRICT;
--bun:split
CREATE INDEX notifications_recipient_idx ON notifications (recipient_role, recipient_id, id);
--bun:split
CREATE TABLE subscriptions (
    id         TEXT    NOT NULL PRIMARY KEY,
    url        TEXT    NOT NULL,
    secret     TEXT    NOT NULL,
    role       TEXT    NOT NULL,
    tenant     TEXT    NOT NULL,
    types      TEXT    NOT NULL,
    created_at TEXT    NOT NULL,
    from_seq   INTEGER NOT NULL,
    created_by TEXT    NOT NULL,
    active     INTEGER NOT NULL
) STRICT;
--bun:split
CREATE TABLE deliveries (
    subscription_id TEXT    NOT NULL REFERENCES subscriptions (id),
    event_id        TEXT    NOT NULL REFERENCES events (id),
    seq             INTEGER NOT NULL,
    attempts        INTEGER NOT NULL,
    next_at         TEXT    NULL,
    delivered_at    TEXT    NULL,
    last_error      TEXT    NOT NULL,
    PRIMARY KEY (subscription_id, event_id)
) STRICT;
--bun:split
CREATE INDEX deliveries_due_idx ON deliveries (next_at) WHERE next_at IS NOT NULL;
