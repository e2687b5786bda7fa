-- A person's certificates of a scheme (PersonCertificates: every issue,
-- every adult application, every certificate a region imports) are found
-- through an index: the one-per-person key is partial (a cancelled
-- child's certificate does not count), and a query that does not repeat
-- its condition cannot use it, so each issue scanned every certificate.
CREATE INDEX certificates_person_idx ON certificates (scheme, person_id);
