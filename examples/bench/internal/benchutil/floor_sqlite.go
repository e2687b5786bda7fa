package benchutil

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/edufund/edufund/funding"
	"github.com/edufund/edufund/storage"
)

// The SQLite raw-SQL floor of an enrolment (the enrol bench's, shared with
// the HTTP bench): hand-written database/sql statements doing the writes
// of one enrolment, one transaction each or many per transaction.

// RawRegion is the region the SQLite floor enrols in.
type RawRegion struct {
	Certs, Groups []uuid.UUID
	Municipality  string
	Period        funding.Period // the accounts' and the counters' period
	End           funding.Date   // the contracts' last day
	Now           time.Time      // the rows' time
}

// ErrRefused is an enrolment of the floor a condition refused (an account
// short of money, a full counter, a key or contract that exists).
var ErrRefused = errors.New("refused by a condition")

// RawSQLite returns a submit that enrols certificate c in group g of reg
// with hand-written statements: the idempotency claim, the conditional
// account update, hold, posting, contract, the four counters and the
// budget last, the stored result. batched: the applications waiting are
// written together, up to maxBatch a transaction, each under a savepoint.
// A refusal is a *funding.RuleError wrapping ErrRefused. done stops it.
func RawSQLite(ctx context.Context, db *storage.DB, reg RawRegion, batched bool, maxBatch int) (submit func(ctx context.Context, key string, c, g int) error, done func(), err error) {
	type groupInfo struct {
		ID, ModuleID, ProgramID, ProviderID uuid.UUID
		Direction, Registry                 string
		Price                               int64
	}
	var gs []groupInfo
	if err := db.Bun().NewRaw(`SELECT g.id, g.module_id, p.id AS program_id, p.provider_id, p.direction, p.registry, m.price
		FROM study_groups g JOIN modules m ON m.id = g.module_id JOIN programs p ON p.id = m.program_id ORDER BY g.id`).Scan(ctx, &gs); err != nil {
		return nil, nil, err
	}
	byID := map[uuid.UUID]groupInfo{}
	for _, g := range gs {
		byID[g.ID] = g
	}
	mun := reg.Municipality
	ps, pe, end := reg.Period.Start.String(), reg.Period.End.String(), reg.End.String()
	now := reg.Now.Format("2006-01-02 15:04:05.000000")
	sqldb := db.Bun().DB
	enrol := func(ctx context.Context, tx *sql.Tx, key string, cert uuid.UUID, g groupInfo) error {
		id, hold, post := uuid.Must(uuid.NewV7()), uuid.Must(uuid.NewV7()), uuid.Must(uuid.NewV7())
		amt := g.Price
		steps := []struct {
			q    string
			args []any
			must bool
		}{
			{`INSERT INTO idempotency (key, operation, request_hash, created_at) VALUES (?, 'contract.submit', 'h', ?)`, []any{key, now}, true},
			{`UPDATE accounts SET balance = balance - ?, held = held + ?, fixed = 1 WHERE certificate_id = ? AND period_start = ? AND balance >= ?`, []any{amt, amt, cert.String(), ps, amt}, true},
			{`INSERT INTO holds (id, certificate_id, period_start, amount, charged, released, refunded) VALUES (?, ?, ?, ?, 0, 0, 0)`, []any{hold.String(), cert.String(), ps, amt}, true},
			{`INSERT INTO postings (id, certificate_id, period_start, period_end, kind, amount, hold_id, contract_id, at, actor, rule, params)
				VALUES (?, ?, ?, ?, 'reserve', ?, ?, ?, ?, 'bench', 'reserve_on_submit', '{}')`, []any{post.String(), cert.String(), ps, pe, amt, hold.String(), id.String(), now}, true},
			{`INSERT INTO contracts (id, certificate_id, group_id, module_id, program_id, provider_id, municipality, period_start, period_end, status,
				start_on, end_on, price_start, price_end, price_days, price_months, price_total, price_normative, price_cert, price_copay,
				price_first, price_other, price_cert_first, price_cert_other, price_copay_first, price_copay_other, hold_id, created_at, registry, direction)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'requested', ?, ?, ?, ?, 273, 9, ?, ?, ?, 0, ?, 0, ?, 0, 0, 0, ?, ?, ?, ?)`,
				[]any{id.String(), cert.String(), g.ID.String(), g.ModuleID.String(), g.ProgramID.String(), g.ProviderID.String(), mun, ps, pe,
					ps, end, ps, end, amt, amt, amt, amt, amt, hold.String(), now, g.Registry, g.Direction}, true},
			// The event the service appends with the contract (the outbox).
			{`INSERT INTO events (id, type, at, actor, reason, certificate_id, contract_id, provider_id, municipality, scheme, payload)
				VALUES (?, 'contract.requested', ?, 'bench', '', ?, ?, ?, ?, 'supplementary', '{}')`,
				[]any{uuid.Must(uuid.NewV7()).String(), now, cert.String(), id.String(), g.ProviderID.String(), mun}, true},
			{`UPDATE counters SET used = used + 1 WHERE key = ? AND used + 1 <= lim`, []any{"program:" + g.ProgramID.String()}, false},
			{`UPDATE counters SET used = used + 1 WHERE key = ? AND used + 1 <= lim`, []any{"provider:" + g.ProviderID.String()}, false},
			{`UPDATE counters SET used = used + 1 WHERE key = ? AND used + 1 <= lim`, []any{"direction:" + mun + ":" + g.Direction + ":" + ps}, false},
			{`UPDATE counters SET used = used + 1 WHERE key = ? AND used + 1 <= lim`, []any{"seats:" + g.ID.String()}, true},
			{`UPDATE counters SET used = used + ? WHERE key = ? AND used + ? <= lim`, []any{amt, "budget:" + mun + ":" + ps, amt}, true},
			{`UPDATE idempotency SET result = ? WHERE key = ?`, []any{[]byte(`{"id":"` + id.String() + `"}`), key}, true},
		}
		for _, s := range steps {
			res, err := tx.ExecContext(ctx, s.q, s.args...)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 0 && s.must {
				return ErrRefused
			}
		}
		return nil
	}
	// The counters the raw path only counts start at zero, as the service
	// creates them.
	if _, err := sqldb.ExecContext(ctx, `INSERT OR IGNORE INTO counters (key, used, lim)
		SELECT 'program:' || p.id, 0, ? FROM programs p UNION ALL SELECT 'provider:' || v.id, 0, ? FROM providers v
		UNION ALL SELECT DISTINCT 'direction:' || ? || ':' || p.direction || ':' || ?, 0, ? FROM programs p`, int64(1)<<60, int64(1)<<60, mun, ps, int64(1)<<60); err != nil {
		return nil, nil, err
	}
	done = func() {}
	if batched {
		type call struct {
			key  string
			c, g int
			done chan error
		}
		in := make(chan call, 1024)
		stop := make(chan struct{})
		go func() {
			defer close(stop)
			for first := range in {
				calls := Waiting(first, in, maxBatch)
				errs := make([]error, len(calls))
				tx, err := sqldb.BeginTx(ctx, nil)
				if err == nil {
					for i, c := range calls {
						if _, err = tx.ExecContext(ctx, "SAVEPOINT item"); err != nil {
							break
						}
						errs[i] = enrol(ctx, tx, c.key, reg.Certs[c.c], byID[reg.Groups[c.g]])
						if errs[i] != nil {
							_, err = tx.ExecContext(ctx, "ROLLBACK TO item")
						} else {
							_, err = tx.ExecContext(ctx, "RELEASE item")
						}
						if err != nil {
							break
						}
					}
					if err == nil {
						err = tx.Commit()
					} else {
						_ = tx.Rollback()
					}
				}
				for i, c := range calls {
					if err != nil {
						errs[i] = err
					}
					c.done <- errs[i]
				}
			}
		}()
		submit = func(ctx context.Context, key string, c, g int) error {
			ch := make(chan error, 1)
			in <- call{key, c, g, ch}
			return <-ch
		}
		done = func() { close(in); <-stop }
	} else {
		submit = func(ctx context.Context, key string, c, g int) error {
			tx, err := sqldb.BeginTx(ctx, nil)
			if err != nil {
				return err
			}
			if err := enrol(ctx, tx, key, reg.Certs[c], byID[reg.Groups[g]]); err != nil {
				_ = tx.Rollback()
				return err
			}
			return tx.Commit()
		}
	}
	write := submit
	refusing := func(ctx context.Context, key string, c, g int) error {
		err := write(ctx, key, c, g)
		if errors.Is(err, ErrRefused) || (err != nil && strings.Contains(err.Error(), "constraint failed")) {
			return funding.Refuse(ErrRefused, "refused", "%v", err)
		}
		return err
	}
	return refusing, done, nil
}
