-- PostgreSQL's fillfactor for invoices (HOT updates of the totals by the
-- monthly close) has no SQLite counterpart; this keeps the numbering equal.
SELECT 1;
