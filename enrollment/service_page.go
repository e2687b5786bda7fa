package enrollment

import (
	"context"
	"errors"

	"github.com/google/uuid"

	"github.com/edufund/edufund/catalog"
	"github.com/edufund/edufund/funding"
)

// ProgramPage is what a navigator shows of a program: the program with
// its page's texts and tags, direction, registry and age range; its
// provider with the contacts; its modules with their prices and normative
// costs, each with its groups; and its score (ProgramScore).
type ProgramPage struct {
	Program  catalog.Program
	Provider catalog.Provider
	Modules  []ModulePage // by id
	Score    Score
}

// ModulePage is a module of a program's page with its groups, by start
// date.
type ModulePage struct {
	Module catalog.Module
	Groups []GroupPage
}

// GroupPage is a group of a program's page.
type GroupPage struct {
	Group catalog.Group
	// Months are the calendar months it runs in (catalog.Group.Months).
	Months []funding.Month
	// Address is where it meets: its own address, or its provider's when
	// it names none.
	Address string
	// Taken counts the seats its live contracts hold (its seats counter);
	// Free is its capacity less those, never below zero.
	Taken, Free int
}

// ProgramPage reads program id's page; ErrNotFound (not_found) when there
// is no such program. It takes no Caller: as ProgramScore and Offer, what
// a navigator shows is public, read by families before they sign in.
func (s *Service) ProgramPage(ctx context.Context, id uuid.UUID) (ProgramPage, error) {
	var page ProgramPage
	err := s.inTx(ctx, func(ctx context.Context, tx Tx) error {
		page = ProgramPage{}
		prog, err := tx.Program(ctx, id)
		if err != nil {
			return notFound(err, "program_id", id)
		}
		prov, err := tx.Provider(ctx, prog.ProviderID)
		if err != nil {
			return err
		}
		mods, err := tx.ProgramModules(ctx, id)
		if err != nil {
			return err
		}
		groups, err := tx.ProgramGroups(ctx, id)
		if err != nil {
			return err
		}
		ratings, err := tx.ProgramRatings(ctx, id)
		if err != nil {
			return err
		}
		page.Program, page.Provider, page.Score = prog, prov, ProgramScore(ratings)
		index := make(map[uuid.UUID]int, len(mods))
		for i, m := range mods {
			index[m.ID] = i
			page.Modules = append(page.Modules, ModulePage{Module: m})
		}
		for _, g := range groups {
			i, ok := index[g.ModuleID]
			if !ok {
				continue // a module saved after the list was read
			}
			gp, err := groupPage(ctx, tx, g, prov)
			if err != nil {
				return err
			}
			page.Modules[i].Groups = append(page.Modules[i].Groups, gp)
		}
		return nil
	})
	return page, err
}

// groupPage is g as its program's page shows it, with its seats counter.
func groupPage(ctx context.Context, tx Tx, g catalog.Group, prov catalog.Provider) (GroupPage, error) {
	gp := GroupPage{Group: g, Months: g.Months(), Address: g.Address}
	if gp.Address == "" {
		gp.Address = prov.Address
	}
	c, err := tx.Counter(ctx, seatsKey(g.ID))
	if err != nil && !errors.Is(err, ErrNotFound) {
		return gp, err
	}
	gp.Taken = int(c.Used)
	gp.Free = max(0, g.Capacity-gp.Taken)
	return gp, nil
}
