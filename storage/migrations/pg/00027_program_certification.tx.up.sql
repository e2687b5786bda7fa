-- Certification of programs (issue 30, item 1): the regional operator's
-- review of a program (draft, submitted, certified, denied, withdrawn) and
-- the reason of the last denial. A program certified before the review had
-- statuses stays certified; every other one is a draft of its provider.
ALTER TABLE programs ADD COLUMN certification text NOT NULL DEFAULT 'draft';
--bun:split
ALTER TABLE programs ADD COLUMN certification_reason text NOT NULL DEFAULT '';
--bun:split
UPDATE programs SET certification = 'certified' WHERE certified;
