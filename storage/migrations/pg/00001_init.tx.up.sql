-- edufund schema for PostgreSQL. Money is BIGINT kopecks; dates are DATE;
-- months are TEXT 'YYYY-MM'; instants are timestamptz.

CREATE TABLE certificates (
    id                  uuid        PRIMARY KEY,
    number              text        NOT NULL,
    scheme              text        NOT NULL,
    person_id           text        NOT NULL,
    full_name           text        NOT NULL,
    birth_date          date        NULL,
    sex                 text        NOT NULL,
    citizenship         text        NOT NULL,
    education           text        NOT NULL,
    region              text        NOT NULL,
    holder_municipality text        NOT NULL,
    registration        text        NOT NULL,
    guardian_id         text        NOT NULL,
    municipality        text        NOT NULL,
    category            text        NOT NULL,
    kind                text        NOT NULL,
    status              text        NOT NULL,
    issued_on           date        NULL,
    valid_until         date        NULL,
    protection_mode     text        NOT NULL,
    passphrase_hash     text        NOT NULL,
    failed_attempts     integer     NOT NULL CHECK (failed_attempts >= 0),
    locked_until        timestamptz NULL,
    documents_uploaded_on   date    NULL,
    documents_valid_reason  text    NOT NULL,
    -- 0 for the children's scheme (one per person), the year of issue for
    -- the adult scheme (one per person and year).
    uniq_year           integer     NOT NULL,
    CONSTRAINT certificates_number_key UNIQUE (number)
);
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
    code      text    PRIMARY KEY,
    nominal   bigint  NOT NULL CHECK (nominal >= 0),
    max_count integer NOT NULL CHECK (max_count >= 0),
    max_sum   bigint  NOT NULL CHECK (max_sum >= 0)
);
--bun:split

CREATE TABLE accounts (
    certificate_id uuid    NOT NULL REFERENCES certificates (id),
    period_start   date    NOT NULL,
    period_end     date    NOT NULL,
    nominal        bigint  NOT NULL,
    balance        bigint  NOT NULL,
    reserved       bigint  NOT NULL,
    spent          bigint  NOT NULL,
    depleted       bigint  NOT NULL,
    expired        bigint  NOT NULL,
    fixed          boolean NOT NULL DEFAULT false,
    PRIMARY KEY (certificate_id, period_start),
    CONSTRAINT accounts_nonnegative CHECK (nominal >= 0 AND balance >= 0 AND reserved >= 0 AND spent >= 0 AND depleted >= 0 AND expired >= 0),
    CONSTRAINT accounts_balanced CHECK (nominal = balance + reserved + spent + depleted + expired),
    CONSTRAINT accounts_period CHECK (period_start <= period_end)
);
--bun:split

CREATE TABLE holds (
    id             uuid   PRIMARY KEY,
    certificate_id uuid   NOT NULL REFERENCES certificates (id),
    period_start   date   NOT NULL,
    amount         bigint NOT NULL,
    charged        bigint NOT NULL,
    released       bigint NOT NULL,
    refunded       bigint NOT NULL,
    CONSTRAINT holds_nonnegative CHECK (amount >= 0 AND charged >= 0 AND released >= 0 AND refunded >= 0),
    CONSTRAINT holds_within CHECK (charged + released <= amount AND refunded <= charged)
);
--bun:split
CREATE INDEX holds_account_idx ON holds (certificate_id, period_start);
--bun:split

CREATE TABLE postings (
    id             uuid        PRIMARY KEY,
    certificate_id uuid        NOT NULL REFERENCES certificates (id),
    period_start   date        NOT NULL,
    period_end     date        NOT NULL,
    kind           text        NOT NULL,
    amount         bigint      NOT NULL,
    hold_id        uuid        NULL,
    contract_id    uuid        NULL,
    month          text        NULL,
    at             timestamptz NOT NULL,
    actor          text        NOT NULL,
    rule           text        NOT NULL,
    params         text        NOT NULL DEFAULT '{}'
);
--bun:split
CREATE INDEX postings_account_idx ON postings (certificate_id, period_start);
--bun:split

CREATE TABLE counters (
    key  text   PRIMARY KEY,
    used bigint NOT NULL DEFAULT 0,
    lim  bigint NOT NULL,
    CONSTRAINT counters_within CHECK (used >= 0 AND used <= lim)
);
--bun:split

CREATE TABLE providers (
    id              uuid    PRIMARY KEY,
    name            text    NOT NULL,
    inn             text    NOT NULL,
    municipality    text    NOT NULL,
    enrolment_limit integer NOT NULL CHECK (enrolment_limit >= 0)
);
--bun:split

CREATE TABLE agreements (
    provider_id  uuid NOT NULL REFERENCES providers (id) ON DELETE CASCADE,
    municipality text NOT NULL,
    period_start date NOT NULL,
    period_end   date NOT NULL,
    PRIMARY KEY (provider_id, municipality, period_start)
);
--bun:split

CREATE TABLE programs (
    id              uuid    PRIMARY KEY,
    provider_id     uuid    NOT NULL REFERENCES providers (id),
    name            text    NOT NULL,
    scheme          text    NOT NULL,
    direction       text    NOT NULL,
    registry        text    NOT NULL,
    min_age         integer NOT NULL,
    max_age         integer NOT NULL,
    certified       boolean NOT NULL,
    enrolment_open  boolean NOT NULL,
    municipality    text    NOT NULL,
    enrolment_limit integer NOT NULL CHECK (enrolment_limit >= 0),
    competency_area text    NOT NULL,
    academic_hours  integer NOT NULL
);
--bun:split
CREATE INDEX programs_provider_idx ON programs (provider_id);
--bun:split

CREATE TABLE modules (
    id              uuid    PRIMARY KEY,
    program_id      uuid    NOT NULL REFERENCES programs (id),
    name            text    NOT NULL,
    price           bigint  NOT NULL CHECK (price >= 0),
    normative_price bigint  NOT NULL CHECK (normative_price >= 0),
    hours           integer NOT NULL,
    min_children    integer NOT NULL,
    max_children    integer NOT NULL
);
--bun:split
CREATE INDEX modules_program_idx ON modules (program_id);
--bun:split

CREATE TABLE study_groups (
    id        uuid    PRIMARY KEY,
    module_id uuid    NOT NULL REFERENCES modules (id),
    name      text    NOT NULL,
    start_on  date    NULL,
    end_on    date    NULL,
    capacity  integer NOT NULL CHECK (capacity >= 0),
    schedule  text    NOT NULL
);
--bun:split
CREATE INDEX study_groups_module_idx ON study_groups (module_id);
--bun:split

CREATE TABLE contracts (
    id                uuid        PRIMARY KEY,
    certificate_id    uuid        NOT NULL REFERENCES certificates (id),
    group_id          uuid        NOT NULL,
    module_id         uuid        NOT NULL,
    program_id        uuid        NOT NULL,
    provider_id       uuid        NOT NULL,
    municipality      text        NOT NULL,
    period_start      date        NOT NULL,
    period_end        date        NOT NULL,
    status            text        NOT NULL,
    start_on          date        NULL,
    end_on            date        NULL,
    price_start       date        NULL,
    price_end         date        NULL,
    price_days        integer     NOT NULL,
    price_months      integer     NOT NULL,
    price_total       bigint      NOT NULL,
    price_normative   bigint      NOT NULL,
    price_cert        bigint      NOT NULL,
    price_copay       bigint      NOT NULL,
    price_first       bigint      NOT NULL,
    price_other       bigint      NOT NULL,
    price_cert_first  bigint      NOT NULL,
    price_cert_other  bigint      NOT NULL,
    price_copay_first bigint      NOT NULL,
    price_copay_other bigint      NOT NULL,
    hold_id           uuid        NULL,
    created_at        timestamptz NOT NULL,
    closed_on         date        NULL,
    prolonged_from    uuid        NULL
);
--bun:split
CREATE UNIQUE INDEX contracts_live_key ON contracts (certificate_id, module_id) WHERE status IN ('requested', 'accepted', 'active');
--bun:split
CREATE INDEX contracts_status_idx ON contracts (status, id);
--bun:split
CREATE INDEX contracts_certificate_idx ON contracts (certificate_id, created_at);
--bun:split

CREATE TABLE contract_charges (
    contract_id uuid   NOT NULL REFERENCES contracts (id),
    month       text   NOT NULL,
    amount      bigint NOT NULL CHECK (amount >= 0),
    PRIMARY KEY (contract_id, month)
);
--bun:split

CREATE TABLE invoice_lines (
    contract_id  uuid   NOT NULL,
    month        text   NOT NULL,
    kind         text   NOT NULL,
    municipality text   NOT NULL,
    provider_id  uuid   NOT NULL,
    amount       bigint NOT NULL,
    PRIMARY KEY (contract_id, month, kind)
);
--bun:split

CREATE TABLE invoices (
    municipality text    NOT NULL,
    provider_id  uuid    NOT NULL,
    month        text    NOT NULL,
    kind         text    NOT NULL,
    amount       bigint  NOT NULL,
    lines        integer NOT NULL,
    PRIMARY KEY (municipality, provider_id, month, kind)
);
--bun:split
CREATE INDEX invoices_month_idx ON invoices (month, provider_id);
--bun:split

CREATE TABLE idempotency (
    key          text        PRIMARY KEY,
    operation    text        NOT NULL,
    request_hash text        NOT NULL,
    result       bytea       NULL,
    created_at   timestamptz NOT NULL
);
--bun:split

CREATE TABLE queue (
    queue          text        NOT NULL,
    certificate_id uuid        NOT NULL,
    enqueued_at    timestamptz NOT NULL,
    PRIMARY KEY (queue, certificate_id)
);
--bun:split
CREATE INDEX queue_order_idx ON queue (queue, enqueued_at, certificate_id);
--bun:split

CREATE TABLE ratings (
    contract_id  uuid        PRIMARY KEY REFERENCES contracts (id),
    results      integer     NOT NULL,
    staff        integer     NOT NULL,
    means        integer     NOT NULL,
    satisfaction integer     NOT NULL,
    updated_at   timestamptz NOT NULL
);
