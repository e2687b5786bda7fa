-- Exports (issue 29): what a municipality's accounting and the registry of
-- education documents read.
-- A provider's accounting details: KPP and bank details ('' when not given).
ALTER TABLE providers ADD COLUMN kpp text NOT NULL DEFAULT '';
--bun:split
ALTER TABLE providers ADD COLUMN bank_name text NOT NULL DEFAULT '';
--bun:split
ALTER TABLE providers ADD COLUMN bic text NOT NULL DEFAULT '';
--bun:split
ALTER TABLE providers ADD COLUMN settlement_account text NOT NULL DEFAULT '';
--bun:split
ALTER TABLE providers ADD COLUMN correspondent_account text NOT NULL DEFAULT '';
--bun:split
-- An adult course's completion, with the document the learner was given
-- ('' and NULL when the provider named none). The adult contracts closed
-- before it were completed (the monthly close closes only a terminated
-- one): they are recorded without a document.
CREATE TABLE completions (
    contract_id     uuid PRIMARY KEY,
    provider_id     uuid NOT NULL,
    completed_on    date NOT NULL,
    document_number text NOT NULL,
    document_date   date NULL
);
--bun:split
INSERT INTO completions (contract_id, provider_id, completed_on, document_number, document_date)
SELECT id, provider_id, closed_on, '', NULL
FROM contracts
WHERE scheme = 'digital_skills' AND status = 'closed' AND closed_on IS NOT NULL AND terminated_on IS NULL;
--bun:split
-- The exports page by keyset: completions by day (of a provider, or of
-- all), a month's invoice lines by provider, contract and kind, a
-- municipality's contracts newest first.
CREATE INDEX completions_on_idx ON completions (completed_on, contract_id);
--bun:split
CREATE INDEX completions_provider_idx ON completions (provider_id, completed_on, contract_id);
--bun:split
CREATE INDEX invoice_lines_month_idx ON invoice_lines (month, provider_id, contract_id, kind);
--bun:split
CREATE INDEX contracts_municipality_idx ON contracts (municipality, id);
