-- An invoice is of one scheme: the children's scheme's are paid out of the
-- municipality's budget, the adult scheme's by the federal operator. Lines
-- and invoices carry their scheme, and an adult course's lines, which were
-- added to the totals of their holder's municipality, move to invoices of
-- their own.
ALTER TABLE invoice_lines ADD COLUMN scheme text NOT NULL DEFAULT 'supplementary';
--bun:split
UPDATE invoice_lines l SET scheme = c.scheme
FROM contracts c WHERE c.id = l.contract_id AND c.scheme <> 'supplementary';
--bun:split
ALTER TABLE invoices ADD COLUMN scheme text NOT NULL DEFAULT 'supplementary';
--bun:split
ALTER TABLE invoices DROP CONSTRAINT invoices_pkey;
--bun:split
ALTER TABLE invoices ADD PRIMARY KEY (scheme, municipality, provider_id, month, kind);
--bun:split
UPDATE invoices i SET amount = i.amount - a.amount, lines = i.lines - a.lines
FROM (SELECT municipality, provider_id, month, kind, sum(amount) AS amount, count(*) AS lines
      FROM invoice_lines WHERE scheme <> 'supplementary' GROUP BY 1, 2, 3, 4) a
WHERE i.scheme = 'supplementary' AND i.municipality = a.municipality AND i.provider_id = a.provider_id
  AND i.month = a.month AND i.kind = a.kind;
--bun:split
DELETE FROM invoices WHERE lines = 0;
--bun:split
INSERT INTO invoices (scheme, municipality, provider_id, month, kind, amount, lines)
SELECT scheme, municipality, provider_id, month, kind, sum(amount), count(*)
FROM invoice_lines WHERE scheme <> 'supplementary' GROUP BY 1, 2, 3, 4, 5;
