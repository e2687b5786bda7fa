-- Catalogue content (issue 27): what a family reads on a program's page.
-- A provider's contacts (address, phone, e-mail, site); a program's
-- annotation, full text, goals and tasks, and tags (a JSON array of
-- strings, '[]' for none: the same text on both engines); a group's own
-- address ('' when it meets at the provider's).
ALTER TABLE providers ADD COLUMN address text NOT NULL DEFAULT '';
--bun:split
ALTER TABLE providers ADD COLUMN phone text NOT NULL DEFAULT '';
--bun:split
ALTER TABLE providers ADD COLUMN email text NOT NULL DEFAULT '';
--bun:split
ALTER TABLE providers ADD COLUMN site text NOT NULL DEFAULT '';
--bun:split
ALTER TABLE programs ADD COLUMN annotation text NOT NULL DEFAULT '';
--bun:split
ALTER TABLE programs ADD COLUMN description text NOT NULL DEFAULT '';
--bun:split
ALTER TABLE programs ADD COLUMN goals text NOT NULL DEFAULT '';
--bun:split
ALTER TABLE programs ADD COLUMN tags text NOT NULL DEFAULT '[]';
--bun:split
ALTER TABLE study_groups ADD COLUMN address text NOT NULL DEFAULT '';
