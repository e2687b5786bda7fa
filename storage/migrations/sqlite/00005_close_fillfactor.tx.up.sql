-- PostgreSQL's fillfactor for holds and accounts (HOT updates by the
-- monthly close) has no SQLite counterpart; this keeps the numbering equal.
SELECT 1;
