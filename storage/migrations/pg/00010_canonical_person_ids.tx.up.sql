-- Person identifiers are canonical (certificate.ParsePersonID): a SNILS as
-- its 11 digits or a region's own identifier, lower case. The Go step of
-- this migration (canonicalPersonIDs in storage/person_ids.go) rewrote
-- every row, in this transaction, before these statements; from here on
-- the database refuses a write that bypasses the domain with another form,
-- so one person cannot hold two certificates through two spellings.
ALTER TABLE certificates ADD CONSTRAINT certificates_person_id_canonical
    CHECK (person_id ~ '^[a-z0-9][a-z0-9._:-]{0,99}$');
--bun:split
ALTER TABLE certificates ADD CONSTRAINT certificates_guardian_id_canonical
    CHECK (guardian_id = '' OR guardian_id ~ '^[a-z0-9][a-z0-9._:-]{0,99}$');
