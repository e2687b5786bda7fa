package enrollment

import (
	"context"
	"errors"

	"github.com/google/uuid"

	"github.com/edufund/edufund/catalog"
)

// Found is a program the navigator found, with its provider and rank.
type Found struct {
	Program  catalog.Program
	Provider catalog.Provider
	Rank     int
}

// SearchPage is a page of the navigator: the programs, how many match in all,
// and where the next page starts (nil after the last).
type SearchPage struct {
	Programs []Found
	Total    int
	// Directions and Registries count the matching programs by each.
	Directions map[catalog.Direction]int
	Registries map[catalog.Registry]int
	Next       *catalog.Cursor
}

// Search runs a parent's search of the catalogue (catalog.Search): the
// store's index finds and ranks the programs, the same on every store;
// the page is then read in one transaction. The catalogue is public: no
// caller is needed.
func (s *Service) Search(ctx context.Context, q catalog.Search) (SearchPage, error) {
	if err := q.Check(); err != nil {
		return SearchPage{}, err
	}
	res, err := s.store.SearchCatalog(ctx, q)
	if err != nil {
		return SearchPage{}, err
	}
	page := SearchPage{Programs: make([]Found, 0, len(res.Hits)), Total: res.Total, Directions: res.Directions, Registries: res.Registries, Next: res.Next}
	err = s.store.InTx(ctx, func(ctx context.Context, tx Tx) error {
		page.Programs = page.Programs[:0]
		providers := map[uuid.UUID]catalog.Provider{}
		for _, h := range res.Hits {
			p, err := tx.Program(ctx, h.ProgramID)
			if errors.Is(err, ErrNotFound) {
				continue // gone since the index was read
			}
			if err != nil {
				return err
			}
			v, ok := providers[p.ProviderID]
			if !ok {
				if v, err = tx.Provider(ctx, p.ProviderID); err != nil {
					return err
				}
				providers[p.ProviderID] = v
			}
			page.Programs = append(page.Programs, Found{Program: p, Provider: v, Rank: h.Rank})
		}
		return nil
	})
	return page, err
}
