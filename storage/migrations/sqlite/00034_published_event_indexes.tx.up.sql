-- The feed's indexes hold published events only; see the PostgreSQL
-- migration. The UNIQUE of seq stays a full index here: SQLite drops a
-- column constraint's index only by rebuilding the table.
DROP INDEX events_certificate_idx;
--bun:split
CREATE INDEX events_certificate_idx ON events (certificate_id, seq) WHERE seq IS NOT NULL;
--bun:split
DROP INDEX events_contract_idx;
--bun:split
CREATE INDEX events_contract_idx ON events (contract_id, seq) WHERE seq IS NOT NULL;
--bun:split
DROP INDEX events_provider_idx;
--bun:split
CREATE INDEX events_provider_idx ON events (provider_id, seq) WHERE seq IS NOT NULL;
--bun:split
DROP INDEX events_municipality_idx;
--bun:split
CREATE INDEX events_municipality_idx ON events (municipality, seq) WHERE seq IS NOT NULL;
