-- The audit trail (issue 29); see the PostgreSQL migration for what is
-- append-only and why. SQLite has no TRUNCATE (a DELETE without WHERE
-- fires the delete trigger) and no trigger functions: each table gets its
-- own pair of triggers.
CREATE TRIGGER postings_no_update BEFORE UPDATE ON postings
BEGIN
    SELECT RAISE(ABORT, 'postings is append-only: UPDATE refused');
END;
--bun:split
CREATE TRIGGER postings_no_delete BEFORE DELETE ON postings
BEGIN
    SELECT RAISE(ABORT, 'postings is append-only: DELETE refused');
END;
--bun:split
CREATE TRIGGER contract_charges_no_update BEFORE UPDATE ON contract_charges
BEGIN
    SELECT RAISE(ABORT, 'contract_charges is append-only: UPDATE refused');
END;
--bun:split
CREATE TRIGGER contract_charges_no_delete BEFORE DELETE ON contract_charges
BEGIN
    SELECT RAISE(ABORT, 'contract_charges is append-only: DELETE refused');
END;
--bun:split
CREATE TRIGGER invoice_lines_no_update BEFORE UPDATE ON invoice_lines
BEGIN
    SELECT RAISE(ABORT, 'invoice_lines is append-only: UPDATE refused');
END;
--bun:split
CREATE TRIGGER invoice_lines_no_delete BEFORE DELETE ON invoice_lines
BEGIN
    SELECT RAISE(ABORT, 'invoice_lines is append-only: DELETE refused');
END;
--bun:split
CREATE TRIGGER parameters_no_update BEFORE UPDATE ON parameters
BEGIN
    SELECT RAISE(ABORT, 'parameters is append-only: UPDATE refused');
END;
--bun:split
CREATE TRIGGER parameters_no_delete BEFORE DELETE ON parameters
BEGIN
    SELECT RAISE(ABORT, 'parameters is append-only: DELETE refused');
END;
--bun:split
CREATE TRIGGER closes_no_update BEFORE UPDATE ON closes
BEGIN
    SELECT RAISE(ABORT, 'closes is append-only: UPDATE refused');
END;
--bun:split
CREATE TRIGGER closes_no_delete BEFORE DELETE ON closes
BEGIN
    SELECT RAISE(ABORT, 'closes is append-only: DELETE refused');
END;
--bun:split
CREATE TABLE eligibility_decisions (
    certificate_id TEXT    NOT NULL PRIMARY KEY REFERENCES certificates (id),
    scheme         TEXT    NOT NULL,
    decided_on     TEXT    NOT NULL,
    at             TEXT    NOT NULL,
    actor          TEXT    NOT NULL,
    rules          INTEGER NOT NULL,
    inputs         TEXT    NOT NULL,
    checked        TEXT    NOT NULL,
    reasons        TEXT    NOT NULL
) STRICT;
--bun:split
CREATE TRIGGER eligibility_decisions_no_update BEFORE UPDATE ON eligibility_decisions
BEGIN
    SELECT RAISE(ABORT, 'eligibility_decisions is append-only: UPDATE refused');
END;
--bun:split
CREATE TRIGGER eligibility_decisions_no_delete BEFORE DELETE ON eligibility_decisions
BEGIN
    SELECT RAISE(ABORT, 'eligibility_decisions is append-only: DELETE refused');
END;
--bun:split
CREATE TABLE invoice_transitions (
    id           TEXT    NOT NULL PRIMARY KEY,
    scheme       TEXT    NOT NULL,
    municipality TEXT    NOT NULL,
    provider_id  TEXT    NOT NULL,
    month        TEXT    NOT NULL,
    kind         TEXT    NOT NULL,
    status       TEXT    NOT NULL CHECK (status IN ('accepted', 'paid')),
    amount       INTEGER NOT NULL,
    lines        INTEGER NOT NULL,
    at           TEXT    NOT NULL,
    actor        TEXT    NOT NULL
) STRICT;
--bun:split
CREATE INDEX invoice_transitions_invoice_idx ON invoice_transitions (month, provider_id, scheme, municipality, kind, id);
--bun:split
CREATE TRIGGER invoice_transitions_no_update BEFORE UPDATE ON invoice_transitions
BEGIN
    SELECT RAISE(ABORT, 'invoice_transitions is append-only: UPDATE refused');
END;
--bun:split
CREATE TRIGGER invoice_transitions_no_delete BEFORE DELETE ON invoice_transitions
BEGIN
    SELECT RAISE(ABORT, 'invoice_transitions is append-only: DELETE refused');
END;
