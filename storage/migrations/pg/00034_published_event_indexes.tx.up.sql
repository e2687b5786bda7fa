-- An event is read by its subjects and its place in the feed only once the
-- relay has numbered it (the feed reads seq > cursor), so the feed's
-- indexes hold published events only. An application appends its event
-- with two index entries (the key and events_unpublished_idx) instead of
-- seven; numbering writes the new version's entries, as it did before
-- (issue 31: the enrolment's write set).
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
--bun:split
ALTER TABLE events DROP CONSTRAINT events_seq_key;
--bun:split
CREATE UNIQUE INDEX events_seq_key ON events (seq) WHERE seq IS NOT NULL;
