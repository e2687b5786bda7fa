-- Queue order by arrival under a per-queue lock: enqueuers of one queue
-- serialise on its row in queues, so that concurrent applicants get distinct,
-- stable positions even when their enqueue times are equal.
CREATE TABLE queues (
    name text   PRIMARY KEY,
    seq  bigint NOT NULL
);
--bun:split
ALTER TABLE queue ADD COLUMN seq bigint NOT NULL DEFAULT 0;
--bun:split
DROP INDEX queue_order_idx;
--bun:split
CREATE INDEX queue_order_idx ON queue (queue, enqueued_at, seq, certificate_id);
