-- Person identifiers are canonical: see the PostgreSQL migration of the
-- same number. SQLite cannot add a CHECK to a table without rebuilding it,
-- and accounts, holds, postings and contracts reference certificates by
-- foreign keys that cannot be switched off inside the migration's
-- transaction; so these triggers refuse, on insert and on update, what the
-- CHECK [a-z0-9][a-z0-9._:-]{0,99} refuses on PostgreSQL. A byte length
-- equal to the character length means ASCII only and no NUL, at which
-- SQLite's text functions stop.
CREATE TRIGGER certificates_ids_canonical_insert BEFORE INSERT ON certificates
WHEN NOT (
    length(CAST(NEW.person_id AS BLOB)) BETWEEN 1 AND 100 AND length(NEW.person_id) = length(CAST(NEW.person_id AS BLOB))
    AND NEW.person_id GLOB '[a-z0-9]*' AND NEW.person_id NOT GLOB '*[^a-z0-9._:-]*'
    AND (NEW.guardian_id = '' OR (
        length(CAST(NEW.guardian_id AS BLOB)) <= 100 AND length(NEW.guardian_id) = length(CAST(NEW.guardian_id AS BLOB))
        AND NEW.guardian_id GLOB '[a-z0-9]*' AND NEW.guardian_id NOT GLOB '*[^a-z0-9._:-]*')))
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: certificates person_id or guardian_id is not canonical');
END;
--bun:split
CREATE TRIGGER certificates_ids_canonical_update BEFORE UPDATE OF person_id, guardian_id ON certificates
WHEN NOT (
    length(CAST(NEW.person_id AS BLOB)) BETWEEN 1 AND 100 AND length(NEW.person_id) = length(CAST(NEW.person_id AS BLOB))
    AND NEW.person_id GLOB '[a-z0-9]*' AND NEW.person_id NOT GLOB '*[^a-z0-9._:-]*'
    AND (NEW.guardian_id = '' OR (
        length(CAST(NEW.guardian_id AS BLOB)) <= 100 AND length(NEW.guardian_id) = length(CAST(NEW.guardian_id AS BLOB))
        AND NEW.guardian_id GLOB '[a-z0-9]*' AND NEW.guardian_id NOT GLOB '*[^a-z0-9._:-]*')))
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: certificates person_id or guardian_id is not canonical');
END;
