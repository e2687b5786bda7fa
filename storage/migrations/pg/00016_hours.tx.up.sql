-- The hours model (rules.md, "Hours model"; issue 26): a category's nominal
-- may be weekly hours (base, plus extra usable only in the significant
-- registry), a module takes weekly hours of a certificate in hours, a
-- contract remembers the hours it holds, and a certificate's hours account
-- per period counts what its live contracts hold.
ALTER TABLE categories ADD COLUMN hours_base integer NOT NULL DEFAULT 0;
--bun:split
ALTER TABLE categories ADD COLUMN hours_extra integer NOT NULL DEFAULT 0;
--bun:split
ALTER TABLE modules ADD COLUMN weekly_hours integer NOT NULL DEFAULT 0;
--bun:split
ALTER TABLE contracts ADD COLUMN hours_base integer NOT NULL DEFAULT 0;
--bun:split
ALTER TABLE contracts ADD COLUMN hours_extra integer NOT NULL DEFAULT 0;
--bun:split
CREATE TABLE hours_accounts (
    certificate_id uuid    NOT NULL REFERENCES certificates (id),
    period_start   date    NOT NULL,
    period_end     date    NOT NULL,
    base           integer NOT NULL CHECK (base >= 0),
    extra          integer NOT NULL CHECK (extra >= 0),
    used_base      integer NOT NULL CHECK (used_base >= 0 AND used_base <= base),
    used_extra     integer NOT NULL CHECK (used_extra >= 0 AND used_extra <= extra),
    PRIMARY KEY (certificate_id, period_start)
);
