-- An invoice line is unique per (contract, month, kind), and a contract has
-- one provider, so (month, provider_id, contract_id, kind) is as unique: it
-- becomes the key, and the export's index (migration 00022), which had those
-- columns, goes. The close writes two lines a contract, and each wrote two
-- index entries: 400,000 lines took 2.0-2.2 s with both indexes and 1.0 s
-- with this one alone (psql, a region of 200,000 contracts), the largest
-- share of the close's server CPU after the postings (issue 31). The close
-- reads a contract's lines of the previous month and the month closed by
-- this key, a probe per month.
DROP INDEX invoice_lines_month_idx;
--bun:split
ALTER TABLE invoice_lines DROP CONSTRAINT invoice_lines_pkey;
--bun:split
ALTER TABLE invoice_lines ADD CONSTRAINT invoice_lines_pkey PRIMARY KEY (month, provider_id, contract_id, kind);
