-- The months whose monthly close finished without a failed contract: a
-- close may not skip a month (a skipped month would never be charged).
CREATE TABLE closes (
    month     TEXT NOT NULL PRIMARY KEY,
    closed_at TEXT NOT NULL
) STRICT;
