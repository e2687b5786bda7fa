package enrollment

import (
	"context"

	"github.com/google/uuid"

	"github.com/edufund/edufund/funding"
)

// Statement is a certificate's statement for one funding period, the
// document a holder prints: its cabinet for the period and every posting
// that moved its money in it.
type Statement struct {
	Cabinet
	// Postings are the period's postings, oldest first.
	Postings []PostingRecord
	// Offers are the groups of the certificate's contracts, by group id,
	// with their programs and providers; a group since removed is missing.
	Offers map[uuid.UUID]Offer
}

// statementReads bounds how often Statement reads again when a posting
// lands between its reads.
const statementReads = 3

// Statement reads certificate certID's statement for the period holding
// on (today or earlier), for whoever may read its cabinet (CabinetOn):
// to anyone else it does not exist.
//
// The cabinet and the postings are two reads; a posting committed between
// them would make a document whose lines do not add up to its figures, so
// Statement reads again while they differ, a few times at most.
func (s *Service) Statement(ctx context.Context, by Caller, certID uuid.UUID, on funding.Date) (Statement, error) {
	var st Statement
	for range statementReads {
		cab, err := s.CabinetOn(ctx, by, certID, on)
		if err != nil {
			return Statement{}, err
		}
		st = Statement{Cabinet: cab, Offers: map[uuid.UUID]Offer{}}
		err = s.inTx(ctx, func(ctx context.Context, tx Tx) error {
			var err error
			if st.Postings, err = tx.Postings(ctx, certID, cab.Period); err != nil {
				return err
			}
			for _, k := range cab.Contracts {
				if _, ok := st.Offers[k.GroupID]; ok {
					continue
				}
				if o, err := tx.Offer(ctx, k.GroupID); err == nil {
					st.Offers[k.GroupID] = o
				}
			}
			return nil
		})
		if err != nil {
			return Statement{}, err
		}
		if cab.Money == nil || ledgerMatches(*cab.Money, st.Postings) {
			break
		}
	}
	return st, nil
}

// ledgerMatches reports whether postings add up to m's nominal, balance,
// reserve and spending, as storage.CheckInvariants adds them.
func ledgerMatches(m CabinetMoney, postings []PostingRecord) bool {
	var nominal, balance, reserved, spent funding.Money
	for _, p := range postings {
		a := p.Posting.Amount
		switch p.Posting.Kind {
		case funding.Grant, funding.Adjust:
			nominal, balance = nominal.Add(a), balance.Add(a)
		case funding.Reserve:
			balance, reserved = balance.Sub(a), reserved.Add(a)
		case funding.Release:
			balance, reserved = balance.Add(a), reserved.Sub(a)
		case funding.Charge:
			reserved, spent = reserved.Sub(a), spent.Add(a)
		case funding.Refund:
			balance, spent = balance.Add(a), spent.Sub(a)
		case funding.Deplete, funding.Expire:
			balance = balance.Sub(a)
		}
	}
	return nominal.Equal(m.Nominal) && balance.Equal(m.Balance) && reserved.Equal(m.Reserved) && spent.Equal(m.Spent)
}
