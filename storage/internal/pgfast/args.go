package pgfast

import (
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/enrollment/batch"
	"github.com/edufund/edufund/funding"
	"github.com/edufund/edufund/storage/internal/schema"
)

// Binary array parameters for the batch statements on PostgreSQL: the rows
// of a table travel as one array per column, in the order of the table's
// column list in scan.go, and the statement reads them back with
// unnest($first::type[], …) (unnestOf). One encoder per table serves the
// optimistic and the locked batch alike.

// contractArgs are the columns of pgContractCols.
func contractArgs(cs []enrollment.Contract, k *schema.Kopecks) ([]any, error) {
	n := len(cs)
	uuids := func() []pgtype.UUID { return make([]pgtype.UUID, n) }
	dates := func() []pgtype.Date { return make([]pgtype.Date, n) }
	texts := func() []string { return make([]string, n) }
	ints := func() []int64 { return make([]int64, n) }
	var (
		ids, certs, groups, modules, programs, providers, holds, prolonged = uuids(), uuids(), uuids(), uuids(), uuids(), uuids(), uuids(), uuids()
		muns, statuses, registries, directions, schemes                    = texts(), texts(), texts(), texts(), texts()
		pstart, pend, start, end, prStart, prEnd                           = dates(), dates(), dates(), dates(), dates(), dates()
		closed, offered, activated, terminated                             = dates(), dates(), dates(), dates()
		days, months                                                       = make([]int32, n), make([]int32, n)
		total, norm, cert, copay, first, other                             = ints(), ints(), ints(), ints(), ints(), ints()
		certFirst, certOther, copayFirst, copayOther                       = ints(), ints(), ints(), ints()
		created                                                            = make([]pgtype.Timestamptz, n)
	)
	for i, c := range cs {
		if c.CreatedAt.IsZero() {
			return nil, fmt.Errorf("storage: contract %s has no creation time", c.ID)
		}
		p := c.Price
		ids[i], certs[i], groups[i], modules[i] = pgUUID(c.ID), pgUUID(c.CertificateID), pgUUID(c.GroupID), pgUUID(c.ModuleID)
		programs[i], providers[i], holds[i], prolonged[i] = pgUUID(c.ProgramID), pgUUID(c.ProviderID), pgUUID(c.HoldID), pgUUID(c.ProlongedFrom)
		muns[i], statuses[i], registries[i], directions[i], schemes[i] = c.Municipality, string(c.Status), string(c.Registry), string(c.Direction), string(c.Scheme)
		pstart[i], pend[i], start[i], end[i] = pgDate(c.Period.Start), pgDate(c.Period.End), pgDate(c.Start), pgDate(c.End)
		prStart[i], prEnd[i], closed[i] = pgDate(p.Start), pgDate(p.End), pgDate(c.ClosedOn)
		offered[i], activated[i], terminated[i] = pgDate(c.OfferedOn), pgDate(c.ActivatedOn), pgDate(c.TerminatedOn)
		days[i], months[i] = int32(p.Days), int32(p.Months)
		total[i], norm[i], cert[i], copay[i] = k.Of("price.total", p.Total), k.Of("price.normative", p.Normative), k.Of("price.cert", p.Cert), k.Of("price.copay", p.CoPay)
		first[i], other[i] = k.Of("price.first", p.First), k.Of("price.other", p.Other)
		certFirst[i], certOther[i] = k.Of("price.cert_first", p.CertFirst), k.Of("price.cert_other", p.CertOther)
		copayFirst[i], copayOther[i] = k.Of("price.copay_first", p.CoPayFirst), k.Of("price.copay_other", p.CoPayOther)
		created[i] = pgTimestamptz(c.CreatedAt)
	}
	return []any{ids, certs, groups, modules, programs, providers, muns, pstart, pend, statuses,
		start, end, prStart, prEnd, days, months, total, norm, cert, copay, first, other, certFirst, certOther,
		copayFirst, copayOther, holds, created, closed, prolonged, registries, directions, offered, activated, terminated, schemes}, nil
}

// pgContractTypes are the column types of pgContractCols.
var pgContractTypes = []string{"uuid", "uuid", "uuid", "uuid", "uuid", "uuid", "text", "date", "date", "text",
	"date", "date", "date", "date", "int", "int", "bigint", "bigint", "bigint", "bigint", "bigint", "bigint", "bigint", "bigint",
	"bigint", "bigint", "uuid", "timestamptz", "date", "uuid", "text", "text", "date", "date", "date", "text"}

const pgHoldCols = `id, certificate_id, period_start, amount, charged, released, refunded`

var pgHoldTypes = []string{"uuid", "uuid", "date", "bigint", "bigint", "bigint", "bigint"}

// holdArgs are the columns of pgHoldCols.
func holdArgs(hs []batch.Hold, k *schema.Kopecks) []any {
	n := len(hs)
	ids, certs, starts := make([]pgtype.UUID, n), make([]pgtype.UUID, n), make([]pgtype.Date, n)
	amount, charged, released, refunded := make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n)
	for i, h := range hs {
		ids[i], certs[i], starts[i] = pgUUID(h.Hold.ID), pgUUID(h.CertificateID), pgDate(h.Period.Start)
		amount[i], charged[i] = k.Of("amount", h.Hold.Amount), k.Of("charged", h.Hold.Charged)
		released[i], refunded[i] = k.Of("released", h.Hold.Released), k.Of("refunded", h.Hold.Refunded)
	}
	return []any{ids, certs, starts, amount, charged, released, refunded}
}

const pgPostingCols = `id, certificate_id, period_start, period_end, kind, amount, hold_id, contract_id, month, at, actor, rule, params`

var pgPostingTypes = []string{"uuid", "uuid", "date", "date", "text", "bigint", "uuid", "uuid", "text", "timestamptz", "text", "text", "text"}

// postingArgs are the columns of pgPostingCols.
func postingArgs(ps []enrollment.PostingRecord, k *schema.Kopecks) ([]any, error) {
	n := len(ps)
	ids, certs, holds, contracts := make([]pgtype.UUID, n), make([]pgtype.UUID, n), make([]pgtype.UUID, n), make([]pgtype.UUID, n)
	starts, ends := make([]pgtype.Date, n), make([]pgtype.Date, n)
	kinds, months, actors, rules, params := make([]string, n), make([]pgtype.Text, n), make([]string, n), make([]string, n), make([]string, n)
	amounts, ats := make([]int64, n), make([]pgtype.Timestamptz, n)
	for i, p := range ps {
		if p.At.IsZero() {
			return nil, fmt.Errorf("storage: posting %s has no time", p.ID)
		}
		j, err := schema.ParamsJSON(p.Params)
		if err != nil {
			return nil, err
		}
		ids[i], certs[i], holds[i], contracts[i] = pgUUID(p.ID), pgUUID(p.CertificateID), pgUUID(p.Posting.HoldID), pgUUID(p.ContractID)
		starts[i], ends[i] = pgDate(p.Period.Start), pgDate(p.Period.End)
		kinds[i], actors[i], rules[i], params[i] = string(p.Posting.Kind), p.Actor, p.Rule, j
		if !p.Month.IsZero() {
			months[i] = pgtype.Text{String: p.Month.String(), Valid: true}
		}
		amounts[i], ats[i] = k.Of("amount", p.Posting.Amount), pgTimestamptz(p.At)
	}
	return []any{ids, certs, starts, ends, kinds, amounts, holds, contracts, months, ats, actors, rules, params}, nil
}

var pgAccountTypes = []string{"uuid", "date", "date", "bigint", "bigint", "bigint", "bigint", "bigint", "boolean"}

// accountArgs are the columns of pgAccountCols.
func accountArgs(as []enrollment.AccountState, k *schema.Kopecks) []any {
	n := len(as)
	certs, starts, ends, fixed := make([]pgtype.UUID, n), make([]pgtype.Date, n), make([]pgtype.Date, n), make([]bool, n)
	var money [5][]int64
	for j := range money {
		money[j] = make([]int64, n)
	}
	for i, a := range as {
		certs[i], starts[i], ends[i], fixed[i] = pgUUID(a.CertificateID), pgDate(a.Period.Start), pgDate(a.Period.End), a.Fixed
		money[0][i], money[1][i], money[2][i] = k.Of("nominal", a.Account.Nominal), k.Of("balance", a.Account.Balance), k.Of("held", a.Account.Reserved.Add(a.Account.Spent))
		money[3][i], money[4][i] = k.Of("depleted", a.Account.Depleted), k.Of("expired", a.Account.Expired)
	}
	return []any{certs, starts, ends, money[0], money[1], money[2], money[3], money[4], fixed}
}

// resultArgs are the key, operation, request hash and result of the
// idempotency records, and the time they are stored at.
func resultArgs(rs []enrollment.IdempotencyRecord) []any {
	n := len(rs)
	ks, ops, hs, res := make([]string, n), make([]string, n), make([]string, n), make([][]byte, n)
	for i, r := range rs {
		ks[i], ops[i], hs[i], res[i] = r.Key, r.Operation, r.RequestHash, r.Result
		if res[i] == nil {
			res[i] = []byte{}
		}
	}
	return []any{ks, ops, hs, res, time.Time(timeNow())}
}

// guardArgs are the key, add, used, limit, exact and room of the guards.
func guardArgs(gs []batch.CounterGuard) []any {
	n := len(gs)
	ks, adds, used, lims, exact, room := make([]string, n), make([]int64, n), make([]int64, n), make([]int64, n), make([]bool, n), make([]int64, n)
	for i, g := range gs {
		ks[i], adds[i], used[i], lims[i], exact[i], room[i] = g.Key, g.Add, g.Used, g.Limit, g.Exact, g.Room
	}
	return []any{ks, adds, used, lims, exact, room}
}

// pgUUID and pgDate are pgx's values of an id and a date (NULL when zero);
// the batch enrolment uses them too.
func pgUUID(id uuid.UUID) pgtype.UUID { return pgtype.UUID{Bytes: id, Valid: id != uuid.Nil} }

func pgDate(d funding.Date) pgtype.Date { return pgtype.Date{Time: d.Time(), Valid: !d.IsZero()} }
