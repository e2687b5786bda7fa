-- Queue order by arrival: see the PostgreSQL migration of the same number.
CREATE TABLE queues (
    name TEXT    NOT NULL PRIMARY KEY,
    seq  INTEGER NOT NULL
) STRICT;
--bun:split
ALTER TABLE queue ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;
--bun:split
DROP INDEX queue_order_idx;
--bun:split
CREATE INDEX queue_order_idx ON queue (queue, enqueued_at, seq, certificate_id);
