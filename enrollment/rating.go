package enrollment

import (
	"context"
	"errors"
	"strconv"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/edufund/edufund/funding"
)

// Rating is a holder's rating of a contract's program on the four parameters
// of rules.md, each 0–100 in steps of 10.
type Rating struct {
	Results      int // results achieved
	Staff        int // teaching staff
	Means        int // learning means
	Satisfaction int // overall satisfaction
}

// NewRating returns the rating or a *funding.ValidationError naming the
// first parameter that is not one of 0, 10, …, 100.
func NewRating(results, staff, means, satisfaction int) (Rating, error) {
	r := Rating{Results: results, Staff: staff, Means: means, Satisfaction: satisfaction}
	return r, r.Validate()
}

// Validate checks every parameter is one of 0, 10, …, 100.
func (r Rating) Validate() error {
	for _, p := range []struct {
		field string
		v     int
	}{{"results", r.Results}, {"staff", r.Staff}, {"means", r.Means}, {"satisfaction", r.Satisfaction}} {
		if p.v < 0 || p.v > 100 || p.v%10 != 0 {
			return &funding.ValidationError{Field: p.field, Rule: "must be 0 to 100 in steps of 10", Value: strconv.Itoa(p.v)}
		}
	}
	return nil
}

// ErrRatingClosed is a rating outside the window: before the contract is
// active or more than one month after it ended.
var ErrRatingClosed = errors.New("rating not allowed")

// CodeRatingClosed is the stable code of ErrRatingClosed.
const CodeRatingClosed = "rating_not_allowed"

// CanRateStatus says whether a contract in status s that ended on ended may
// be rated (or its rating edited) on date on: always while Active; while
// Terminating or Closed until months calendar months after ended
// (on ≤ ended.AddMonths(months); rules.md: one month, the parameter
// rating_window_months); never in any other status.
func CanRateStatus(s Status, ended, on funding.Date, months int) error {
	switch s {
	case Active:
		return nil
	case Terminating, Closed:
		if deadline := ended.AddMonths(months); on.After(deadline) {
			return funding.Refuse(ErrRatingClosed, CodeRatingClosed, "the contract ended on %s; ratings closed on %s", ended, deadline)
		}
		return nil
	}
	return funding.Refuse(ErrRatingClosed, CodeRatingClosed, "a %s contract cannot be rated", s)
}

// CanRate is CanRateStatus for contract c. Its end is ClosedOn once closed;
// for a terminating contract, the end date it will close with (the last day
// of the month of TerminatedOn); failing those, c.End.
func CanRate(c Contract, on funding.Date, months int) error {
	ended := c.End
	switch {
	case !c.ClosedOn.IsZero():
		ended = c.ClosedOn
	case c.Status == Terminating && !c.TerminatedOn.IsZero():
		ended = c.TerminatedOn.MonthOf().Last()
	}
	return CanRateStatus(c.Status, ended, on, months)
}

// ScoredRating is one contract's rating and whether that contract is
// closed (closed contracts weigh double in a program's score).
type ScoredRating struct {
	Rating Rating
	Closed bool
}

// Score is a program's score per parameter, and how many ratings of active
// and of closed contracts it is made of.
type Score struct {
	Results, Staff, Means, Satisfaction decimal.Decimal
	Active, Closed                      int
}

// ProgramScore scores a program per parameter as
// (Σactive + 2·Σclosed) / (n_active + 2·n_closed), computed exactly on the
// integer sums and rounded once, half away from zero, to 2 decimal places
// (0.625 → 0.63). A program without ratings scores 0 with both counts 0.
func ProgramScore(ratings []ScoredRating) Score {
	var sum [4]int64
	var s Score
	for _, r := range ratings {
		w := int64(1)
		if r.Closed {
			w = 2
			s.Closed++
		} else {
			s.Active++
		}
		sum[0] += w * int64(r.Rating.Results)
		sum[1] += w * int64(r.Rating.Staff)
		sum[2] += w * int64(r.Rating.Means)
		sum[3] += w * int64(r.Rating.Satisfaction)
	}
	weight := int64(s.Active + 2*s.Closed)
	avg := func(total int64) decimal.Decimal {
		if weight == 0 {
			return decimal.Zero
		}
		return decimal.NewFromInt(total).DivRound(decimal.NewFromInt(weight), 2)
	}
	s.Results, s.Staff, s.Means, s.Satisfaction = avg(sum[0]), avg(sum[1]), avg(sum[2]), avg(sum[3])
	return s
}

// ContractRating is the rating the holder gave contract id, for whoever
// may read the contract (Contract); ok is false before the first.
func (s *Service) ContractRating(ctx context.Context, by Caller, id uuid.UUID) (r Rating, ok bool, err error) {
	if _, err := s.Contract(ctx, by, id); err != nil {
		return Rating{}, false, err
	}
	err = s.inTx(ctx, func(ctx context.Context, tx Tx) error {
		r, err = tx.ContractRating(ctx, id)
		return err
	})
	if errors.Is(err, ErrNotFound) {
		return Rating{}, false, nil
	}
	return r, err == nil, err
}
