package schema

import (
	"fmt"
	"time"

	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/enrollment/batch"
)

// Writes is a batch's writes (batch.Write) as rows of the tables.
type Writes struct {
	Contracts []*Contract
	Holds     []*Hold
	Postings  []*Posting
	Events    []*Event
	Accounts  []*Account
	Counters  []*Counter // Used is the delta
	Results   []*IdempotencyKey
	Release   []string
}

// WritesOf is w as rows; its results are stored at now.
func WritesOf(w batch.Write) (*Writes, error) {
	rs := &Writes{Release: w.Release}
	for _, c := range w.Contracts {
		r, err := FromContract(c)
		if err != nil {
			return nil, err
		}
		rs.Contracts = append(rs.Contracts, r)
	}
	for _, h := range w.Holds {
		r, err := FromHold(h.CertificateID, h.Period, h.Hold)
		if err != nil {
			return nil, err
		}
		rs.Holds = append(rs.Holds, r)
	}
	for _, p := range w.Postings {
		r, err := FromPosting(p)
		if err != nil {
			return nil, err
		}
		rs.Postings = append(rs.Postings, r)
	}
	for _, e := range w.Events {
		rs.Events = append(rs.Events, FromEvent(e))
	}
	for _, a := range w.Accounts {
		r, err := FromAccount(a)
		if err != nil {
			return nil, err
		}
		rs.Accounts = append(rs.Accounts, r)
	}
	for _, c := range w.Counters {
		r, err := CounterDelta(c)
		if err != nil {
			return nil, err
		}
		rs.Counters = append(rs.Counters, r)
	}
	if len(w.Results) > 0 {
		now := Time(time.Now())
		for _, r := range w.Results {
			res := r.Result
			if res == nil {
				res = []byte{}
			}
			rs.Results = append(rs.Results, &IdempotencyKey{Key: r.Key, Operation: r.Operation, RequestHash: r.RequestHash, Result: res, CreatedAt: now})
		}
	}
	return rs, nil
}

// CounterDelta is the row an increment proposes: it carries the delta as
// its use, which an existing row adds to its own (the CHECK used <= lim
// is the backstop).
func CounterDelta(c batch.CounterDelta) (*Counter, error) {
	if c.Add < 0 || c.Add > c.Limit {
		return nil, fmt.Errorf("storage: batch counter %q: add %d past limit %d", c.Key, c.Add, c.Limit)
	}
	return &Counter{Key: c.Key, Used: c.Add, Lim: c.Limit}, nil
}

// Claims are the rows of claimed idempotency keys, claimed at.
func Claims(recs []enrollment.IdempotencyRecord, at time.Time) []IdempotencyKey {
	out := make([]IdempotencyKey, len(recs))
	for i, r := range recs {
		out[i] = IdempotencyKey{Key: r.Key, Operation: r.Operation, RequestHash: r.RequestHash, CreatedAt: Time(at)}
	}
	return out
}
