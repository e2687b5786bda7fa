package enrollment

import (
	"cmp"
	"context"
	"slices"

	"github.com/google/uuid"

	"github.com/edufund/edufund/catalog"
	"github.com/edufund/edufund/funding"
)

// Lesson is one weekly meeting of a child's active contract: a session of
// its group with what the family needs to find it.
type Lesson struct {
	catalog.Session
	ContractID   uuid.UUID
	GroupID      uuid.UUID
	Group        string
	Program      string
	ProviderID   uuid.UUID
	Provider     string
	ContractFrom funding.Date // the contract's first day of study
	ContractTo   funding.Date // its last
}

// Week is a certificate's week (seed 002, "РАСПИСАНИЕ"): the sessions of
// every active contract's group, by day and time. Unscheduled lists the
// active contracts whose groups have no structured schedule, with their
// free-text one, so that none is silently left out.
type Week struct {
	CertificateID uuid.UUID
	Lessons       []Lesson
	Unscheduled   []Unscheduled
}

// Unscheduled is an active contract whose group has no sessions.
type Unscheduled struct {
	ContractID uuid.UUID
	Group      string
	Program    string
	Provider   string
	Schedule   string // the group's free text, "" when it has none
}

// Schedule reads a certificate's week for whoever may read its cabinet.
// A session without a place meets at its group's address, or else at its
// provider's.
func (s *Service) Schedule(ctx context.Context, by Caller, certID uuid.UUID) (Week, error) {
	if err := by.Validate(); err != nil {
		return Week{}, err
	}
	w := Week{CertificateID: certID, Lessons: []Lesson{}, Unscheduled: []Unscheduled{}}
	err := s.inTx(ctx, func(ctx context.Context, tx Tx) error {
		c, err := tx.Certificate(ctx, certID)
		if err != nil {
			return notFound(err, "certificate_id", certID)
		}
		if err := s.mayRead(ctx, tx, by, c); err != nil {
			return err
		}
		contracts, err := tx.CertificateContracts(ctx, certID)
		if err != nil {
			return err
		}
		for _, k := range contracts {
			if k.Status != Active {
				continue
			}
			o, err := tx.Offer(ctx, k.GroupID)
			if err != nil {
				return err
			}
			if len(o.Group.Sessions) == 0 {
				w.Unscheduled = append(w.Unscheduled, Unscheduled{ContractID: k.ID, Group: o.Group.Name,
					Program: o.Program.Name, Provider: o.Provider.Name, Schedule: o.Group.Schedule})
				continue
			}
			for _, ss := range o.Group.Sessions {
				ss.Place = cmp.Or(ss.Place, o.Group.Address, o.Provider.Address)
				w.Lessons = append(w.Lessons, Lesson{Session: ss, ContractID: k.ID, GroupID: o.Group.ID, Group: o.Group.Name,
					Program: o.Program.Name, ProviderID: o.Provider.ID, Provider: o.Provider.Name, ContractFrom: k.Start, ContractTo: k.End})
			}
		}
		return nil
	})
	if err != nil {
		return Week{}, err
	}
	slices.SortStableFunc(w.Lessons, func(a, b Lesson) int {
		return cmp.Or(catalog.CompareSessions(a.Session, b.Session), cmp.Compare(a.Program, b.Program))
	})
	return w, nil
}
