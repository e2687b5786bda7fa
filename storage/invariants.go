package storage

import (
	"context"
	"fmt"
	"strings"
)

// CheckInvariants checks the design's invariants over the whole store, as
// the tests' checkInvariants does: every account balances, its held equals
// what its holds took and have not given back, its reserve and spent
// (derived from its holds) and the rest equal the sums of its postings,
// every hold has its account, every counter is within its cap, seats equal
// live contracts, and each municipal budget's use equals what its
// children's certificates hold (adult courses are paid outside municipal
// budgets). It returns an error naming the rows that break them.
func CheckInvariants(ctx context.Context, db *DB) error {
	var failed []string
	for _, c := range invariantChecks {
		var bad []string
		if err := db.bun.NewRaw(c.sql).Scan(ctx, &bad); err != nil {
			return fmt.Errorf("storage: invariant %q: %w", c.name, err)
		}
		if len(bad) > 0 {
			if len(bad) > 5 {
				bad = append(bad[:5], fmt.Sprintf("… %d in all", len(bad)))
			}
			failed = append(failed, c.name+": "+strings.Join(bad, ", "))
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("storage: invariants broken: %s", strings.Join(failed, "; "))
	}
	return nil
}

var invariantChecks = []struct{ name, sql string }{
	{"accounts that do not balance", `
		SELECT a.certificate_id || ' ' || a.period_start FROM accounts a
		WHERE a.nominal <> a.balance + a.held + a.depleted + a.expired
		   OR a.balance < 0 OR a.held < 0 OR a.depleted < 0 OR a.expired < 0`},
	{"accounts whose held differs from their holds", `
		SELECT a.certificate_id || ' ' || a.period_start FROM accounts a
		LEFT JOIN (SELECT certificate_id, period_start, SUM(amount - released - refunded) AS held
			FROM holds GROUP BY certificate_id, period_start) h
		ON h.certificate_id = a.certificate_id AND h.period_start = a.period_start
		WHERE COALESCE(h.held, 0) <> a.held`},
	{"holds without their account", `
		SELECT h.id FROM holds h LEFT JOIN accounts a ON a.certificate_id = h.certificate_id AND a.period_start = h.period_start
		WHERE a.certificate_id IS NULL`},
	{"accounts that differ from the sum of their postings", `
		SELECT a.certificate_id || ' ' || a.period_start FROM accounts a
		LEFT JOIN (
			SELECT certificate_id, period_start, SUM(amount - charged - released) AS reserved, SUM(charged - refunded) AS spent
			FROM holds GROUP BY certificate_id, period_start
		) h ON h.certificate_id = a.certificate_id AND h.period_start = a.period_start
		LEFT JOIN (
			SELECT certificate_id, period_start,
				SUM(CASE WHEN kind IN ('grant','adjust') THEN amount ELSE 0 END) AS nominal,
				SUM(CASE kind WHEN 'grant' THEN amount WHEN 'adjust' THEN amount WHEN 'reserve' THEN -amount
					WHEN 'release' THEN amount WHEN 'deplete' THEN -amount WHEN 'expire' THEN -amount
					WHEN 'refund' THEN amount ELSE 0 END) AS balance,
				SUM(CASE kind WHEN 'reserve' THEN amount WHEN 'charge' THEN -amount WHEN 'release' THEN -amount ELSE 0 END) AS reserved,
				SUM(CASE kind WHEN 'charge' THEN amount WHEN 'refund' THEN -amount ELSE 0 END) AS spent,
				SUM(CASE kind WHEN 'deplete' THEN amount ELSE 0 END) AS depleted,
				SUM(CASE kind WHEN 'expire' THEN amount ELSE 0 END) AS expired
			FROM postings GROUP BY certificate_id, period_start
		) p ON p.certificate_id = a.certificate_id AND p.period_start = a.period_start
		WHERE COALESCE(p.nominal, 0) <> a.nominal OR COALESCE(p.balance, 0) <> a.balance
		   OR COALESCE(p.reserved, 0) <> COALESCE(h.reserved, 0) OR COALESCE(p.spent, 0) <> COALESCE(h.spent, 0)
		   OR COALESCE(p.reserved, 0) + COALESCE(p.spent, 0) <> a.held
		   OR COALESCE(p.depleted, 0) <> a.depleted OR COALESCE(p.expired, 0) <> a.expired`},
	{"counters past their caps", `SELECT key FROM counters WHERE used < 0 OR used > lim`},
	{"invoice totals that differ from their lines", `
		SELECT i.municipality || ' ' || i.month || ' ' || i.kind FROM invoices i
		LEFT JOIN (SELECT municipality, provider_id, month, kind, SUM(amount) AS amount, COUNT(*) AS lines
			FROM invoice_lines GROUP BY municipality, provider_id, month, kind) l
		ON l.municipality = i.municipality AND l.provider_id = i.provider_id AND l.month = i.month AND l.kind = i.kind
		WHERE l.amount IS NULL OR l.amount <> i.amount OR l.lines <> i.lines`},
	{"seat counters that differ from live contracts", `
		SELECT c.key FROM counters c
		WHERE c.key LIKE 'seats:%' AND c.used <> (SELECT COUNT(*) FROM contracts k
			WHERE 'seats:' || k.group_id = c.key AND k.status IN ('requested','accepted','active'))`},
	{"budget counters that differ from the money held", `
		SELECT c.key FROM counters c
		WHERE c.key LIKE 'budget:%' AND c.used <> (
			SELECT COALESCE(SUM(h.amount - h.released - h.refunded), 0) FROM holds h
			JOIN certificates x ON x.id = h.certificate_id
			WHERE x.scheme = 'supplementary' AND 'budget:' || x.municipality || ':' || h.period_start = c.key)`},
}
