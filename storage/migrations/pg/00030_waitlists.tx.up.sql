-- Issue 30, item 6: the waitlists of full groups (enrollment.WaitlistEntry).
-- seq orders a group's list; a certificate waits at most once per group.
CREATE TABLE waitlist (
    id             uuid        PRIMARY KEY,
    group_id       uuid        NOT NULL,
    certificate_id uuid        NOT NULL,
    seq            bigint      NOT NULL,
    status         text        NOT NULL,
    request        text        NOT NULL,
    contract_id    uuid        NOT NULL,
    deadline       date        NULL,
    reason         text        NOT NULL,
    created_at     timestamptz NOT NULL,
    UNIQUE (group_id, seq)
);
--bun:split
CREATE UNIQUE INDEX waitlist_one_per_group_idx ON waitlist (group_id, certificate_id) WHERE status IN ('waiting', 'offered');
--bun:split
CREATE INDEX waitlist_waiting_idx ON waitlist (group_id, seq) WHERE status = 'waiting';
--bun:split
CREATE INDEX waitlist_certificate_idx ON waitlist (certificate_id);
--bun:split
CREATE INDEX waitlist_offered_idx ON waitlist (deadline) WHERE status = 'offered';
