-- Catalogue content (issue 27): what a family reads on a program's page.
-- A provider's contacts (address, phone, e-mail, site); a program's
-- annotation, full text, goals and tasks, and tags (a JSON array of
-- strings, '[]' for none: the same text on both engines); a group's own
-- address ('' when it meets at the provider's).
ALTER TABLE providers ADD COLUMN address TEXT NOT NULL DEFAULT '';
--bun:split
ALTER TABLE providers ADD COLUMN phone TEXT NOT NULL DEFAULT '';
--bun:split
ALTER TABLE providers ADD COLUMN email TEXT NOT NULL DEFAULT '';
--bun:split
ALTER TABLE providers ADD COLUMN site TEXT NOT NULL DEFAULT '';
--bun:split
ALTER TABLE programs ADD COLUMN annotation TEXT NOT NULL DEFAULT '';
--bun:split
ALTER TABLE programs ADD COLUMN description TEXT NOT NULL DEFAULT '';
--bun:split
ALTER TABLE programs ADD COLUMN goals TEXT NOT NULL DEFAULT '';
--bun:split
ALTER TABLE programs ADD COLUMN tags TEXT NOT NULL DEFAULT '[]';
--bun:split
ALTER TABLE study_groups ADD COLUMN address TEXT NOT NULL DEFAULT '';
