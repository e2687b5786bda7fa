-- edufund schema for SQLite (STRICT tables). Money is INTEGER kopecks; ids are
-- TEXT UUIDs; dates are TEXT 'YYYY-MM-DD'; months TEXT 'YYYY-MM'; instants TEXT in UTC;
-- booleans INTEGER 0/1.

CREATE TABLE certificates (
    id                  TEXT        NOT NULL PRIMARY KEY,
    number              TEXT        NOT NULL,
    scheme              TEXT        NOT NULL,
    person_id           TEXT        NOT NULL,
    full_name           TEXT        NOT NULL,
    birth_date          TEXT        NULL,
    sex                 TEXT        NOT NULL,
    citizenship         TEXT        NOT NULL,
    education           TEXT        NOT NULL,
    region              TEXT        NOT NULL,
    holder_municipality TEXT        NOT NULL,
    registration        TEXT        NOT NULL,
    guardian_id         TEXT        NOT NULL,
    municipality        TEXT        NOT NULL,
    category            TEXT        NOT NULL,
    kind                TEXT        NOT NULL,
    status              TEXT        NOT NULL,
    issued_on           TEXT        NULL,
    valid_until         TEXT        NULL,
    protection_mode     TEXT        NOT NULL,
    passphrase_hash     TEXT        NOT NULL,
    failed_attempts     INTEGER     NOT NULL CHECK (failed_attempts >= 0),
    locked_until        TEXT        NULL,
    documents_uploaded_on   TEXT    NULL,
    documents_valid_reason  TEXT    NOT NULL,
    -- 0 for the children's scheme (one per person), the year of issue for
    -- the adult scheme (one per person and year).
    uniq_year           INTEGER     NOT NULL,
    CONSTRAINT certificates_number_key UNIQUE (number)
) STRICT;
--bun:split
-- One certificate per child per scheme, one per adult per year. A cancelled
-- child's certificate (the family moved, say) does not block a new one; a
-- cancelled adult one does, so that the year's quota cannot be taken twice.
CREATE UNIQUE INDEX certificates_person_key ON certificates (scheme, person_id, uniq_year)
    WHERE status <> 'cancelled' OR scheme = 'digital_skills';
--bun:split
CREATE INDEX certificates_funded_idx ON certificates (id) WHERE kind = 'funded' AND status NOT IN ('cancelled', 'expired');
--bun:split

CREATE TABLE categories (
    code      TEXT    NOT NULL PRIMARY KEY,
    nominal   INTEGER  NOT NULL CHECK (nominal >= 0),
    max_count INTEGER NOT NULL CHECK (max_count >= 0),
    max_sum   INTEGER  NOT NULL CHECK (max_sum >= 0)
) STRICT;
--bun:split

CREATE TABLE accounts (
    certificate_id TEXT    NOT NULL REFERENCES certificates (id),
    period_start   TEXT    NOT NULL,
    period_end     TEXT    NOT NULL,
    nominal        INTEGER  NOT NULL,
    balance        INTEGER  NOT NULL,
    reserved       INTEGER  NOT NULL,
    spent          INTEGER  NOT NULL,
    depleted       INTEGER  NOT NULL,
    expired        INTEGER  NOT NULL,
    fixed          INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (certificate_id, period_start),
    CONSTRAINT accounts_nonnegative CHECK (nominal >= 0 AND balance >= 0 AND reserved >= 0 AND spent >= 0 AND depleted >= 0 AND expired >= 0),
    CONSTRAINT accounts_balanced CHECK (nominal = balance + reserved + spent + depleted + expired),
    CONSTRAINT accounts_period CHECK (period_start <= period_end)
) STRICT;
--bun:split

CREATE TABLE holds (
    id             TEXT   NOT NULL PRIMARY KEY,
    certificate_id TEXT   NOT NULL REFERENCES certificates (id),
    period_start   TEXT   NOT NULL,
    amount         INTEGER NOT NULL,
    charged        INTEGER NOT NULL,
    released       INTEGER NOT NULL,
    refunded       INTEGER NOT NULL,
    CONSTRAINT holds_nonnegative CHECK (amount >= 0 AND charged >= 0 AND released >= 0 AND refunded >= 0),
    CONSTRAINT holds_within CHECK (charged + released <= amount AND refunded <= charged)
) STRICT;
--bun:split
CREATE INDEX holds_account_idx ON holds (certificate_id, period_start);
--bun:split

CREATE TABLE postings (
    id             TEXT        NOT NULL PRIMARY KEY,
    certificate_id TEXT        NOT NULL REFERENCES certificates (id),
    period_start   TEXT        NOT NULL,
    period_end     TEXT        NOT NULL,
    kind           TEXT        NOT NULL,
    amount         INTEGER      NOT NULL,
    hold_id        TEXT        NULL,
    contract_id    TEXT        NULL,
    month          TEXT        NULL,
    at             TEXT        NOT NULL,
    actor          TEXT        NOT NULL,
    rule           TEXT        NOT NULL,
    params         TEXT        NOT NULL DEFAULT '{}'
) STRICT;
--bun:split
CREATE INDEX postings_account_idx ON postings (certificate_id, period_start);
--bun:split

CREATE TABLE counters (
    key  TEXT   NOT NULL PRIMARY KEY,
    used INTEGER NOT NULL DEFAULT 0,
    lim  INTEGER NOT NULL,
    CONSTRAINT counters_within CHECK (used >= 0 AND used <= lim)
) STRICT;
--bun:split

CREATE TABLE providers (
    id              TEXT    NOT NULL PRIMARY KEY,
    name            TEXT    NOT NULL,
    inn             TEXT    NOT NULL,
    municipality    TEXT    NOT NULL,
    enrolment_limit INTEGER NOT NULL CHECK (enrolment_limit >= 0)
) STRICT;
--bun:split

CREATE TABLE agreements (
    provider_id  TEXT NOT NULL REFERENCES providers (id) ON DELETE CASCADE,
    municipality TEXT NOT NULL,
    period_start TEXT NOT NULL,
    period_end   TEXT NOT NULL,
    PRIMARY KEY (provider_id, municipality, period_start)
) STRICT;
--bun:split

CREATE TABLE programs (
    id              TEXT    NOT NULL PRIMARY KEY,
    provider_id     TEXT    NOT NULL REFERENCES providers (id),
    name            TEXT    NOT NULL,
    scheme          TEXT    NOT NULL,
    direction       TEXT    NOT NULL,
    registry        TEXT    NOT NULL,
    min_age         INTEGER NOT NULL,
    max_age         INTEGER NOT NULL,
    certified       INTEGER NOT NULL,
    enrolment_open  INTEGER NOT NULL,
    municipality    TEXT    NOT NULL,
    enrolment_limit INTEGER NOT NULL CHECK (enrolment_limit >= 0),
    competency_area TEXT    NOT NULL,
    academic_hours  INTEGER NOT NULL
) STRICT;
--bun:split
CREATE INDEX programs_provider_idx ON programs (provider_id);
--bun:split

CREATE TABLE modules (
    id              TEXT    NOT NULL PRIMARY KEY,
    program_id      TEXT    NOT NULL REFERENCES programs (id),
    name            TEXT    NOT NULL,
    price           INTEGER  NOT NULL CHECK (price >= 0),
    normative_price INTEGER  NOT NULL CHECK (normative_price >= 0),
    hours           INTEGER NOT NULL,
    min_children    INTEGER NOT NULL,
    max_children    INTEGER NOT NULL
) STRICT;
--bun:split
CREATE INDEX modules_program_idx ON modules (program_id);
--bun:split

CREATE TABLE study_groups (
    id        TEXT    NOT NULL PRIMARY KEY,
    module_id TEXT    NOT NULL REFERENCES modules (id),
    name      TEXT    NOT NULL,
    start_on  TEXT    NULL,
    end_on    TEXT    NULL,
    capacity  INTEGER NOT NULL CHECK (capacity >= 0),
    schedule  TEXT    NOT NULL
) STRICT;
--bun:split
CREATE INDEX study_groups_module_idx ON study_groups (module_id);
--bun:split

CREATE TABLE contracts (
    id                TEXT        NOT NULL PRIMARY KEY,
    certificate_id    TEXT        NOT NULL REFERENCES certificates (id),
    group_id          TEXT        NOT NULL,
    module_id         TEXT        NOT NULL,
    program_id        TEXT        NOT NULL,
    provider_id       TEXT        NOT NULL,
    municipality      TEXT        NOT NULL,
    period_start      TEXT        NOT NULL,
    period_end        TEXT        NOT NULL,
    status            TEXT        NOT NULL,
    start_on          TEXT        NULL,
    end_on            TEXT        NULL,
    price_start       TEXT        NULL,
    price_end         TEXT        NULL,
    price_days        INTEGER     NOT NULL,
    price_months      INTEGER     NOT NULL,
    price_total       INTEGER      NOT NULL,
    price_normative   INTEGER      NOT NULL,
    price_cert        INTEGER      NOT NULL,
    price_copay       INTEGER      NOT NULL,
    price_first       INTEGER      NOT NULL,
    price_other       INTEGER      NOT NULL,
    price_cert_first  INTEGER      NOT NULL,
    price_cert_other  INTEGER      NOT NULL,
    price_copay_first INTEGER      NOT NULL,
    price_copay_other INTEGER      NOT NULL,
    hold_id           TEXT        NULL,
    created_at        TEXT        NOT NULL,
    closed_on         TEXT        NULL,
    prolonged_from    TEXT        NULL
) STRICT;
--bun:split
CREATE UNIQUE INDEX contracts_live_key ON contracts (certificate_id, module_id) WHERE status IN ('requested', 'accepted', 'active');
--bun:split
CREATE INDEX contracts_status_idx ON contracts (status, id);
--bun:split
CREATE INDEX contracts_certificate_idx ON contracts (certificate_id, created_at);
--bun:split

CREATE TABLE contract_charges (
    contract_id TEXT   NOT NULL REFERENCES contracts (id),
    month       TEXT   NOT NULL,
    amount      INTEGER NOT NULL CHECK (amount >= 0),
    PRIMARY KEY (contract_id, month)
) STRICT;
--bun:split

CREATE TABLE invoice_lines (
    contract_id  TEXT   NOT NULL,
    month        TEXT   NOT NULL,
    kind         TEXT   NOT NULL,
    municipality TEXT   NOT NULL,
    provider_id  TEXT   NOT NULL,
    amount       INTEGER NOT NULL,
    PRIMARY KEY (contract_id, month, kind)
) STRICT;
--bun:split

CREATE TABLE invoices (
    municipality TEXT    NOT NULL,
    provider_id  TEXT    NOT NULL,
    month        TEXT    NOT NULL,
    kind         TEXT    NOT NULL,
    amount       INTEGER  NOT NULL,
    lines        INTEGER NOT NULL,
    PRIMARY KEY (municipality, provider_id, month, kind)
) STRICT;
--bun:split
CREATE INDEX invoices_month_idx ON invoices (month, provider_id);
--bun:split

CREATE TABLE idempotency (
    key          TEXT        NOT NULL PRIMARY KEY,
    operation    TEXT        NOT NULL,
    request_hash TEXT        NOT NULL,
    result       BLOB        NULL,
    created_at   TEXT        NOT NULL
) STRICT;
--bun:split

CREATE TABLE queue (
    queue          TEXT        NOT NULL,
    certificate_id TEXT        NOT NULL,
    enqueued_at    TEXT        NOT NULL,
    PRIMARY KEY (queue, certificate_id)
) STRICT;
--bun:split
CREATE INDEX queue_order_idx ON queue (queue, enqueued_at, certificate_id);
--bun:split

CREATE TABLE ratings (
    contract_id  TEXT        NOT NULL PRIMARY KEY REFERENCES contracts (id),
    results      INTEGER     NOT NULL,
    staff        INTEGER     NOT NULL,
    means        INTEGER     NOT NULL,
    satisfaction INTEGER     NOT NULL,
    updated_at   TEXT        NOT NULL
) STRICT;
