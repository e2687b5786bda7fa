-- The versions of a region's rule parameters (issue 26): each change is a
-- new row, never an update, applying from its date on. Postings record the
-- newest version they were computed with (0: the region's file only).
CREATE TABLE parameters (
    version   INTEGER PRIMARY KEY AUTOINCREMENT,
    name      TEXT NOT NULL,
    scope     TEXT NOT NULL,
    effective TEXT NOT NULL,
    value     TEXT NOT NULL,
    actor     TEXT NOT NULL,
    reason    TEXT NOT NULL,
    at        TEXT NOT NULL
) STRICT;
--bun:split
ALTER TABLE postings ADD COLUMN rules INTEGER NOT NULL DEFAULT 0;
