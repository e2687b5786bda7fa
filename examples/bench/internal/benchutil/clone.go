package benchutil

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"github.com/edufund/edufund/storage"
)

// CloneCertificates copies the template certificate n times with new ids,
// numbers (numberPrefix and 9 digits), persons and, when guardianPrefix is
// not empty, guardians of their own (guardianPrefix and the copy's number),
// with its account and grant posting: a region of many certificates in a
// few seconds.
func CloneCertificates(ctx context.Context, db *storage.DB, tmpl uuid.UUID, n int, numberPrefix, guardianPrefix string) error {
	if n <= 0 {
		return nil
	}
	var id, num, post, series string
	guardian := "t.guardian_id"
	if guardianPrefix != "" {
		guardian = "'" + guardianPrefix + "' || s.n"
	}
	if db.Dialect() == storage.Postgres {
		id = "(lpad(to_hex(s.n), 8, '0') || '-0000-7000-8000-' || lpad(to_hex(s.n), 12, '0'))::uuid"
		post = "(lpad(to_hex(s.n), 8, '0') || '-0000-7000-9000-' || lpad(to_hex(s.n), 12, '0'))::uuid"
		num = "'" + numberPrefix + "' || lpad(s.n::text, 9, '0')"
		series = fmt.Sprintf("WITH s AS (SELECT generate_series(1, %d) AS n) ", n)
	} else {
		id = "printf('%08x-0000-7000-8000-%012x', s.n, s.n)"
		post = "printf('%08x-0000-7000-9000-%012x', s.n, s.n)"
		num = "'" + numberPrefix + "' || printf('%09d', s.n)"
		series = fmt.Sprintf("WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < %d) ", n)
	}
	stmts := []string{
		series + `INSERT INTO certificates (id, number, scheme, person_id, full_name, birth_date, sex, citizenship, education, region,
			holder_municipality, registration, guardian_id, municipality, category, kind, status, issued_on, valid_until,
			protection_mode, passphrase_hash, failed_attempts, locked_until, documents_uploaded_on, documents_valid_reason, uniq_year)
		SELECT ` + id + `, ` + num + `, t.scheme, 'bench-' || s.n, t.full_name, t.birth_date, t.sex, t.citizenship, t.education, t.region,
			t.holder_municipality, t.registration, ` + guardian + `, t.municipality, t.category, t.kind, t.status, t.issued_on, t.valid_until,
			t.protection_mode, t.passphrase_hash, t.failed_attempts, t.locked_until, t.documents_uploaded_on, t.documents_valid_reason, t.uniq_year
		FROM certificates t, s WHERE t.id = ?`,
		series + `INSERT INTO accounts (certificate_id, period_start, period_end, nominal, balance, held, depleted, expired, fixed)
		SELECT ` + id + `, t.period_start, t.period_end, t.nominal, t.balance, t.held, t.depleted, t.expired, t.fixed
		FROM accounts t, s WHERE t.certificate_id = ?`,
		series + `INSERT INTO postings (id, certificate_id, period_start, period_end, kind, amount, hold_id, contract_id, month, at, actor, rule, params)
		SELECT ` + post + `, ` + id + `, t.period_start, t.period_end, t.kind, t.amount, t.hold_id, t.contract_id, t.month, t.at, t.actor, t.rule, t.params
		FROM postings t, s WHERE t.certificate_id = ?`,
	}
	for _, q := range stmts {
		if _, err := db.Bun().ExecContext(ctx, q, tmpl); err != nil {
			return fmt.Errorf("clone certificates: %w", err)
		}
	}
	return nil
}
