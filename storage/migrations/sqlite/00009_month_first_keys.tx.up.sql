-- The keys of charge records and invoice lines lead with the month, as in
-- PostgreSQL (see the pg migration): a month's close appends to them
-- instead of touching every contract's earlier entries. SQLite cannot
-- change a table's primary key, so both tables are rebuilt; nothing
-- references them.
CREATE TABLE contract_charges_new (
    contract_id TEXT   NOT NULL REFERENCES contracts (id),
    month       TEXT   NOT NULL,
    amount      INTEGER NOT NULL CHECK (amount >= 0),
    PRIMARY KEY (month, contract_id)
) STRICT;
--bun:split
INSERT INTO contract_charges_new (contract_id, month, amount) SELECT contract_id, month, amount FROM contract_charges;
--bun:split
DROP TABLE contract_charges;
--bun:split
ALTER TABLE contract_charges_new RENAME TO contract_charges;
--bun:split
CREATE TABLE invoice_lines_new (
    contract_id  TEXT   NOT NULL,
    month        TEXT   NOT NULL,
    kind         TEXT   NOT NULL,
    municipality TEXT   NOT NULL,
    provider_id  TEXT   NOT NULL,
    amount       INTEGER NOT NULL,
    PRIMARY KEY (month, contract_id, kind)
) STRICT;
--bun:split
INSERT INTO invoice_lines_new (contract_id, month, kind, municipality, provider_id, amount)
    SELECT contract_id, month, kind, municipality, provider_id, amount FROM invoice_lines;
--bun:split
DROP TABLE invoice_lines;
--bun:split
ALTER TABLE invoice_lines_new RENAME TO invoice_lines;
