-- The outbox (issue 29): every status change, invoice, budget limit reached
-- and administrator's change, appended in the transaction of the change.
-- seq is the event's place in the feed, given once by the relay after the
-- event committed (NULL until then): the feed is read by seq, so a reader's
-- cursor never passes an event that commits later.
CREATE TABLE events (
    id             uuid        PRIMARY KEY,
    seq            bigint      NULL UNIQUE,
    type           text        NOT NULL,
    at             timestamptz NOT NULL,
    actor          text        NOT NULL,
    reason         text        NOT NULL,
    certificate_id uuid        NULL,
    contract_id    uuid        NULL,
    provider_id    uuid        NULL,
    municipality   text        NOT NULL,
    scheme         text        NOT NULL,
    payload        text        NOT NULL
);
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
-- Append-only, by the database: the relay may only give an unpublished
-- event its seq; anything else that would change or remove an event fails.
CREATE FUNCTION events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.seq IS NULL AND NEW.seq IS NOT NULL
       AND (NEW.id, NEW.type, NEW.at, NEW.actor, NEW.reason, NEW.certificate_id, NEW.contract_id,
            NEW.provider_id, NEW.municipality, NEW.scheme, NEW.payload)
       IS NOT DISTINCT FROM (OLD.id, OLD.type, OLD.at, OLD.actor, OLD.reason, OLD.certificate_id, OLD.contract_id,
            OLD.provider_id, OLD.municipality, OLD.scheme, OLD.payload) THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'events are append-only: % of event % refused', TG_OP, OLD.id USING ERRCODE = 'integrity_constraint_violation';
END
$$;
--bun:split
CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION events_append_only();
--bun:split
-- The notifications derived from events, one per recipient: a holder (the
-- person who acts for the certificate), a provider, a municipality.
CREATE TABLE notifications (
    id             uuid        PRIMARY KEY,
    event_id       uuid        NOT NULL REFERENCES events (id),
    recipient_role text        NOT NULL,
    recipient_id   text        NOT NULL,
    type           text        NOT NULL,
    text           text        NOT NULL,
    certificate_id uuid        NULL,
    contract_id    uuid        NULL,
    at             timestamptz NOT NULL,
    read_at        timestamptz NULL,
    UNIQUE (event_id, recipient_role, recipient_id)
);
--bun:split
CREATE INDEX notifications_recipient_idx ON notifications (recipient_role, recipient_id, id);
--bun:split
-- The region's other systems that receive events by webhook, each within a
-- tenant's reach (role and tenant: a provider's accounting sees only its
-- own), for some types or all ('').
CREATE TABLE subscriptions (
    id         uuid        PRIMARY KEY,
    url        text        NOT NULL,
    secret     text        NOT NULL,
    role       text        NOT NULL,
    tenant     text        NOT NULL,
    types      text        NOT NULL,
    created_at timestamptz NOT NULL,
    from_seq   bigint      NOT NULL,
    created_by text        NOT NULL,
    active     boolean     NOT NULL
);
--bun:split
-- One delivery of an event to a subscription, until it is acknowledged or
-- given up: next_at is when it is tried next.
CREATE TABLE deliveries (
    subscription_id uuid        NOT NULL REFERENCES subscriptions (id),
    event_id        uuid        NOT NULL REFERENCES events (id),
    seq             bigint      NOT NULL,
    attempts        integer     NOT NULL,
    next_at         timestamptz NULL,
    delivered_at    timestamptz NULL,
    last_error      text        NOT NULL,
    PRIMARY KEY (subscription_id, event_id)
);
--bun:split
CREATE INDEX deliveries_due_idx ON deliveries (next_at) WHERE next_at IS NOT NULL;
