-- The facts of a contract the services decide on later: the program's
-- registry and direction fixed at submission (registry quotas, direction
-- limits) and the dates of its moves (which step charges which month).
ALTER TABLE contracts ADD COLUMN registry TEXT NOT NULL DEFAULT '';
--bun:split
ALTER TABLE contracts ADD COLUMN direction TEXT NOT NULL DEFAULT '';
--bun:split
ALTER TABLE contracts ADD COLUMN offered_on DATE NULL;
--bun:split
ALTER TABLE contracts ADD COLUMN activated_on DATE NULL;
--bun:split
ALTER TABLE contracts ADD COLUMN terminated_on DATE NULL;
