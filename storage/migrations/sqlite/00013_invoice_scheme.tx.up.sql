-- An invoice is of one scheme: the children's scheme's are paid out of the
-- municipality's budget, the adult scheme's by the federal operator. Lines
-- and invoices carry their scheme, and an adult course's lines, which were
-- added to the totals of their holder's municipality, move to invoices of
-- their own. SQLite cannot change a primary key: invoices are rebuilt.
ALTER TABLE invoice_lines ADD COLUMN scheme TEXT NOT NULL DEFAULT 'supplementary';
--bun:split
UPDATE invoice_lines SET scheme = (SELECT c.scheme FROM contracts c WHERE c.id = invoice_lines.contract_id)
WHERE EXISTS (SELECT 1 FROM contracts c WHERE c.id = invoice_lines.contract_id AND c.scheme <> 'supplementary');
--bun:split
CREATE TABLE invoices_by_scheme (
    scheme       TEXT    NOT NULL,
    municipality TEXT    NOT NULL,
    provider_id  TEXT    NOT NULL,
    month        TEXT    NOT NULL,
    kind         TEXT    NOT NULL,
    amount       INTEGER NOT NULL,
    lines        INTEGER NOT NULL,
    PRIMARY KEY (scheme, municipality, provider_id, month, kind)
) STRICT;
--bun:split
INSERT INTO invoices_by_scheme (scheme, municipality, provider_id, month, kind, amount, lines)
SELECT 'supplementary', municipality, provider_id, month, kind, amount, lines FROM invoices;
--bun:split
DROP TABLE invoices;
--bun:split
ALTER TABLE invoices_by_scheme RENAME TO invoices;
--bun:split
CREATE INDEX invoices_month_idx ON invoices (month, provider_id);
--bun:split
UPDATE invoices SET
    amount = amount - (SELECT sum(l.amount) FROM invoice_lines l WHERE l.scheme <> 'supplementary' AND l.municipality = invoices.municipality
        AND l.provider_id = invoices.provider_id AND l.month = invoices.month AND l.kind = invoices.kind),
    lines = lines - (SELECT count(*) FROM invoice_lines l WHERE l.scheme <> 'supplementary' AND l.municipality = invoices.municipality
        AND l.provider_id = invoices.provider_id AND l.month = invoices.month AND l.kind = invoices.kind)
WHERE EXISTS (SELECT 1 FROM invoice_lines l WHERE l.scheme <> 'supplementary' AND l.municipality = invoices.municipality
        AND l.provider_id = invoices.provider_id AND l.month = invoices.month AND l.kind = invoices.kind);
--bun:split
DELETE FROM invoices WHERE lines = 0;
--bun:split
INSERT INTO invoices (scheme, municipality, provider_id, month, kind, amount, lines)
SELECT scheme, municipality, provider_id, month, kind, sum(amount), count(*)
FROM invoice_lines WHERE scheme <> 'supplementary' GROUP BY 1, 2, 3, 4, 5;
