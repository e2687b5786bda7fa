-- PostgreSQL keys invoice_lines by (month, provider_id, contract_id, kind)
-- and drops the export's index of the same columns (see the pg migration).
-- SQLite keeps both: changing a table's key means rebuilding the table, and
-- its close is not bound by the second index. This keeps the numbering equal.
SELECT 1;
