-- A provider's refusal of an application says why (seed 004), and the
-- cabinets list a provider's contracts newest first without a scan of
-- every contract. A guardian's certificates are found by the guardian
-- recorded on them (and by guardianships' primary key); a municipality's
-- by their municipality.
ALTER TABLE contracts ADD COLUMN reason text NOT NULL DEFAULT '';
--bun:split
CREATE INDEX contracts_provider_idx ON contracts (provider_id, id);
--bun:split
CREATE INDEX certificates_guardian_idx ON certificates (guardian_id);
--bun:split
CREATE INDEX certificates_municipality_idx ON certificates (municipality, id);
