-- An account keeps held (reserved + spent) in place of reserved and spent;
-- the split is derived from its holds on every read (see the PostgreSQL
-- migration for why). SQLite cannot drop a column a CHECK names, so the
-- table is rebuilt; nothing references accounts.
CREATE TABLE accounts_new (
    certificate_id TEXT    NOT NULL REFERENCES certificates (id),
    period_start   TEXT    NOT NULL,
    period_end     TEXT    NOT NULL,
    nominal        INTEGER NOT NULL,
    balance        INTEGER NOT NULL,
    depleted       INTEGER NOT NULL,
    expired        INTEGER NOT NULL,
    fixed          INTEGER NOT NULL DEFAULT 0,
    held           INTEGER NOT NULL,
    PRIMARY KEY (certificate_id, period_start),
    CONSTRAINT accounts_nonnegative CHECK (nominal >= 0 AND balance >= 0 AND held >= 0 AND depleted >= 0 AND expired >= 0),
    CONSTRAINT accounts_balanced CHECK (nominal = balance + held + depleted + expired),
    CONSTRAINT accounts_period CHECK (period_start <= period_end)
) STRICT;
--bun:split
INSERT INTO accounts_new (certificate_id, period_start, period_end, nominal, balance, depleted, expired, fixed, held)
    SELECT certificate_id, period_start, period_end, nominal, balance, depleted, expired, fixed, reserved + spent FROM accounts;
--bun:split
DROP TABLE accounts;
--bun:split
ALTER TABLE accounts_new RENAME TO accounts;
