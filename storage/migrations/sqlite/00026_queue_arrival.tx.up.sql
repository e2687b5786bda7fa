-- Queues are served in the order of arrival (seq), not by enqueued_at: the
-- time comes from an application server's clock, and two servers' clocks,
-- or one clock stepped back, could put a later arrival ahead of an earlier
-- one. Rows from before 00002 share seq 0 and keep the order of their times.
DROP INDEX queue_order_idx;
--bun:split
CREATE INDEX queue_order_idx ON queue (queue, seq, enqueued_at, certificate_id);
