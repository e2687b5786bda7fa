-- Who may act for a child's certificate: the guardians a municipal authority
-- linked to the child from the documents. The guardian recorded on each
-- existing certificate is linked to its child.
CREATE TABLE guardianships (
    child_id    TEXT NOT NULL,
    guardian_id TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    actor       TEXT NOT NULL,
    PRIMARY KEY (guardian_id, child_id),
    CHECK (child_id <> guardian_id)
) STRICT;
--bun:split
INSERT INTO guardianships (child_id, guardian_id, recorded_at, actor)
SELECT person_id, guardian_id, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), 'migration:00012'
FROM certificates
WHERE scheme = 'supplementary' AND guardian_id <> '' AND guardian_id <> person_id
ON CONFLICT DO NOTHING;
