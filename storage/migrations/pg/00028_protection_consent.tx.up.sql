-- The consent to the processing of personal data given with an
-- application (seed 002/004): the version of the text and when. Written
-- with the contract's row, by the single path and the batches alike.
ALTER TABLE contracts ADD COLUMN consent_version text NOT NULL DEFAULT '';
--bun:split
ALTER TABLE contracts ADD COLUMN consent_at timestamptz NULL;
