-- Who may act for a child's certificate: the guardians a municipal authority
-- linked to the child from the documents. The guardian recorded on each
-- existing certificate is linked to its child.
CREATE TABLE guardianships (
    child_id    text        NOT NULL,
    guardian_id text        NOT NULL,
    recorded_at timestamptz NOT NULL,
    actor       text        NOT NULL,
    PRIMARY KEY (guardian_id, child_id),
    CHECK (child_id <> guardian_id)
);
--bun:split
INSERT INTO guardianships (child_id, guardian_id, recorded_at, actor)
SELECT person_id, guardian_id, now(), 'migration:00012'
FROM certificates
WHERE scheme = 'supplementary' AND guardian_id <> '' AND guardian_id <> person_id
ON CONFLICT DO NOTHING;
