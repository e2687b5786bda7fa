-- The versions of a region's rule parameters (issue 26): each change is a
-- new row, never an update, applying from its date on. Postings record the
-- newest version they were computed with (0: the region's file only).
CREATE TABLE parameters (
    version    bigserial   PRIMARY KEY,
    name       text        NOT NULL,
    scope      text        NOT NULL,
    effective  date        NOT NULL,
    value      text        NOT NULL,
    actor      text        NOT NULL,
    reason     text        NOT NULL,
    at         timestamptz NOT NULL
);
--bun:split
ALTER TABLE postings ADD COLUMN rules bigint NOT NULL DEFAULT 0;
