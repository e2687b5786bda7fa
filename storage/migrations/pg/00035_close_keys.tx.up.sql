-- The close's two tables keyed by the month first (issue 31).
--
-- An invoice line is unique per (contract, month, kind), and a contract has
-- one provider, so (month, provider_id, contract_id, kind) is as unique: it
-- becomes the key, and the export's index (migration 00022), which had those
-- columns, goes. The close writes two lines a contract, and each wrote two
-- index entries: 400,000 lines took 2.0-2.2 s with both indexes and 1.0 s
-- with this one alone (psql, a region of 200,000 contracts). A close's
-- lines now go to the end of the key instead of beside every contract's
-- earlier lines, so a later month's close writes no more than the first.
--
-- A charge record is keyed (month, contract_id) for the same reason: a
-- close appends its month's records instead of dirtying every leaf of the
-- key. A contract's charge of a month is found by both columns either way.
DROP INDEX invoice_lines_month_idx;
--bun:split
ALTER TABLE invoice_lines DROP CONSTRAINT invoice_lines_pkey;
--bun:split
ALTER TABLE invoice_lines ADD CONSTRAINT invoice_lines_pkey PRIMARY KEY (month, provider_id, contract_id, kind);
--bun:split
ALTER TABLE contract_charges DROP CONSTRAINT contract_charges_pkey;
--bun:split
ALTER TABLE contract_charges ADD CONSTRAINT contract_charges_pkey PRIMARY KEY (month, contract_id);
