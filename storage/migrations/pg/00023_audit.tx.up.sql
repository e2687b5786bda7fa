-- The audit trail (issue 29): the ledger's facts are append-only by the
-- database, eligibility decisions are kept with the certificate they
-- issued, and an invoice's acceptance and payment are recorded.
--
-- Append-only: postings (the ledger), contract_charges (a month charged,
-- once), invoice_lines (a contract's line, once; its existence is what
-- refuses a second delivery report), parameters (a new version is a new
-- row), closes (the months whose close finished; a close may not skip
-- one) and the two tables below are facts: nothing in the code updates or
-- deletes them, and one changed by hand would make the accounts disagree
-- with their history. accounts, holds, counters and invoices are running
-- totals the services update, and are not covered. A later migration that
-- must rewrite a covered table drops the trigger and creates it again.
CREATE FUNCTION refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP USING ERRCODE = 'integrity_constraint_violation';
END
$$;
--bun:split
CREATE TRIGGER postings_append_only BEFORE UPDATE OR DELETE ON postings
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
--bun:split
CREATE TRIGGER postings_no_truncate BEFORE TRUNCATE ON postings
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();
--bun:split
CREATE TRIGGER contract_charges_append_only BEFORE UPDATE OR DELETE ON contract_charges
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
--bun:split
CREATE TRIGGER contract_charges_no_truncate BEFORE TRUNCATE ON contract_charges
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();
--bun:split
CREATE TRIGGER invoice_lines_append_only BEFORE UPDATE OR DELETE ON invoice_lines
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
--bun:split
CREATE TRIGGER invoice_lines_no_truncate BEFORE TRUNCATE ON invoice_lines
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();
--bun:split
CREATE TRIGGER parameters_append_only BEFORE UPDATE OR DELETE ON parameters
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
--bun:split
CREATE TRIGGER parameters_no_truncate BEFORE TRUNCATE ON parameters
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();
--bun:split
CREATE TRIGGER closes_append_only BEFORE UPDATE OR DELETE ON closes
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
--bun:split
CREATE TRIGGER closes_no_truncate BEFORE TRUNCATE ON closes
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();
--bun:split
-- The eligibility decision a certificate was issued on: what the rules
-- were given (inputs, a JSON object), the parameter version in force
-- (0: the region's file only), the rules checked and the failed ones'
-- reasons (JSON arrays), who asked and when.
CREATE TABLE eligibility_decisions (
    certificate_id uuid        PRIMARY KEY REFERENCES certificates (id),
    scheme         text        NOT NULL,
    decided_on     date        NOT NULL,
    at             timestamptz NOT NULL,
    actor          text        NOT NULL,
    rules          bigint      NOT NULL,
    inputs         text        NOT NULL,
    checked        text        NOT NULL,
    reasons        text        NOT NULL
);
--bun:split
CREATE TRIGGER eligibility_decisions_append_only BEFORE UPDATE OR DELETE ON eligibility_decisions
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
--bun:split
CREATE TRIGGER eligibility_decisions_no_truncate BEFORE TRUNCATE ON eligibility_decisions
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();
--bun:split
-- An invoice's moves past issued: accepted by its payer, paid; each with
-- the amount and lines it had then, who and when. An invoice without one
-- is issued (or, before the close that issues it finished, a draft): the
-- monthly close writes nothing here.
CREATE TABLE invoice_transitions (
    id           uuid        PRIMARY KEY,
    scheme       text        NOT NULL,
    municipality text        NOT NULL,
    provider_id  uuid        NOT NULL,
    month        text        NOT NULL,
    kind         text        NOT NULL,
    status       text        NOT NULL CHECK (status IN ('accepted', 'paid')),
    amount       bigint      NOT NULL,
    lines        integer     NOT NULL,
    at           timestamptz NOT NULL,
    actor        text        NOT NULL
);
--bun:split
CREATE INDEX invoice_transitions_invoice_idx ON invoice_transitions (month, provider_id, scheme, municipality, kind, id);
--bun:split
CREATE TRIGGER invoice_transitions_append_only BEFORE UPDATE OR DELETE ON invoice_transitions
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
--bun:split
CREATE TRIGGER invoice_transitions_no_truncate BEFORE TRUNCATE ON invoice_transitions
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();
