-- PostgreSQL keys invoice_lines by (month, provider_id, contract_id, kind),
-- dropping the export's index of the same columns, and contract_charges by
-- (month, contract_id) (see the pg migration). SQLite keeps its keys:
-- changing a table's key means rebuilding the table, and its close is not
-- bound by them. This keeps the numbering equal.
SELECT 1;
