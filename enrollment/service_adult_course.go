package enrollment

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/funding"
)

// ErrCertificateUsed is an adult certificate that already paid for a course.
var ErrCertificateUsed = errors.New("certificate already used for a course")

// CodeCertificateUsed is the stable code of ErrCertificateUsed.
const CodeCertificateUsed = "certificate_used"

// enrolAdult is a submission on an adult certificate: the course's cost
// times the holder category's coverage is granted and reserved at once, and
// paid to the provider on completion; the holder co-pays the rest.
func (s *Service) enrolAdult(ctx context.Context, tx Tx, r SubmitRequest, cert certificate.Certificate, offer Offer, start funding.Date, now time.Time) (Contract, error) {
	if cert.Kind != certificate.Funded {
		return Contract{}, funding.Refuse(ErrCertificateNotFunded, CodeCertificateNotFunded, "certificate %s is waiting for a place of the national quota", cert.Number)
	}
	if err := CheckSubmission(Snapshot{On: s.dateOf(now), Certificate: cert, Capacity: offer.Group.Capacity, GroupEnd: offer.Group.End, EnrolmentOpen: offer.Program.EnrolmentOpen, Agreement: true, BudgetLimit: funding.MaxMoney}); err != nil {
		return Contract{}, err
	}
	contracts, err := tx.CertificateContracts(ctx, cert.ID)
	if err != nil {
		return Contract{}, err
	}
	for _, k := range contracts {
		if k.Status != Refused && k.Status != Withdrawn {
			return Contract{}, funding.Refuse(ErrCertificateUsed, CodeCertificateUsed, "certificate %s already has contract %s", cert.Number, k.ID)
		}
	}
	share, ok := s.RulesOn(s.dateOf(now)).AdultCoverage[cert.Category]
	if !ok {
		share = decimal.NewFromInt(1)
	}
	cost := offer.Module.Price
	certPart, coPay, err := funding.Coverage(cost, share)
	if err != nil {
		return Contract{}, err
	}
	if coPay.IsPositive() && !r.CoPayAccepted {
		return Contract{}, funding.Refuse(ErrInsufficientBalance, CodeInsufficientBalance, "the certificate covers %s of %s; the co-payment %s is not accepted", certPart, cost, coPay)
	}
	period := funding.CalendarYear(start.Year())
	end := offer.Group.End
	if end.After(period.End) {
		end = period.End
	}
	price := funding.Price{Start: start, End: end, Days: funding.Days(start, end), Months: funding.Months(start, end),
		Total: cost, Normative: cost, Cert: certPart, CoPay: coPay}
	c, err := newContract(cert, offer, period, price, now)
	if err != nil {
		return Contract{}, err
	}
	if c.Consent, err = r.consent(now); err != nil {
		return Contract{}, err
	}
	if certPart.IsPositive() {
		acct, err := account(ctx, tx, cert.ID, period)
		if err != nil {
			return Contract{}, err
		}
		rec := PostingRecord{ContractID: c.ID, At: now, Actor: r.By.Actor(), Rule: "adult_coverage",
			Params: map[string]string{"cost": cost.String(), "share": share.String(), "category": cert.Category}}
		if err := s.post(ctx, tx, &acct, nil, funding.Posting{Kind: funding.Grant, Amount: certPart}, rec); err != nil {
			return Contract{}, err
		}
		if c.HoldID, err = uuid.NewV7(); err != nil {
			return Contract{}, err
		}
		hold := funding.Hold{ID: c.HoldID}
		rec.Rule = "reserve_on_submit"
		if err := s.post(ctx, tx, &acct, &hold, funding.Posting{Kind: funding.Reserve, Amount: certPart, HoldID: c.HoldID}, rec); err != nil {
			return Contract{}, err
		}
	}
	if err := tx.InsertContract(ctx, c); err != nil {
		if errors.Is(err, ErrExists) {
			return Contract{}, funding.Refuse(ErrDuplicateModule, CodeDuplicateModule, "certificate %s already has a live contract on module %s", cert.Number, offer.Module.ID)
		}
		return Contract{}, err
	}
	if err := takeLimits(ctx, tx, c, funding.Zero); err != nil {
		return Contract{}, err
	}
	return c, s.moved(ctx, tx, c, "", r.By.Actor())
}

// ErrNotAdultCourse is Complete called on a children's contract.
var ErrNotAdultCourse = errors.New("not an adult course")

// CodeNotAdultCourse is the stable code of ErrNotAdultCourse.
const CodeNotAdultCourse = "not_adult_course"

// Complete is the provider reporting that an adult learner completed the
// course: the reserved coverage is paid out in the configured stages, the
// month's final invoice line is added and the contract closes. The
// completion is recorded with the document the learner was given, when
// r.Document names one (cleanDocument), for the registry of education
// documents' export.
func (s *Service) Complete(ctx context.Context, key string, r ContractRequest) (Contract, error) {
	now := s.clock.Now().UTC()
	on := s.dateOf(now)
	doc, err := cleanDocument(r.Document, on)
	if err != nil {
		return Contract{}, err
	}
	r.Document = doc
	return s.change(ctx, key, "contract.complete", r, providers, func(ctx context.Context, tx Tx, c *Contract) error {
		if c.Scheme != certificate.DigitalSkills {
			return funding.Refuse(ErrNotAdultCourse, CodeNotAdultCourse, "contract %s is paid month by month", c.ID)
		}
		if err := c.Move(Closed, on); err != nil {
			return err
		}
		if c.HoldID != uuid.Nil {
			h, err := tx.Hold(ctx, c.HoldID)
			if err != nil {
				return err
			}
			stages, err := funding.Stages(h.Open(), s.RulesOn(on).AdultStages)
			if err != nil {
				return err
			}
			if err := tx.RecordCharge(ctx, c.ID, on.MonthOf(), h.Open()); err != nil {
				return err
			}
			a, err := tx.Account(ctx, c.CertificateID, c.Period)
			if err != nil {
				return err
			}
			for i, amount := range stages {
				if !amount.IsPositive() {
					continue
				}
				err := s.post(ctx, tx, &a, &h, funding.Posting{Kind: funding.Charge, Amount: amount, HoldID: h.ID}, PostingRecord{
					ContractID: c.ID, Month: on.MonthOf(), At: now, Actor: r.By.Actor(), Rule: "adult_completion",
					Params: map[string]string{"stage": strconv.Itoa(i + 1), "of": strconv.Itoa(len(stages))},
				})
				if err != nil {
					return err
				}
			}
			if err := tx.AddInvoiceLine(ctx, InvoiceLine{ContractID: c.ID, Scheme: c.Scheme, Municipality: c.Municipality, ProviderID: c.ProviderID,
				Month: on.MonthOf(), Kind: FinalInvoice, Amount: h.Charged}); err != nil {
				return err
			}
		}
		if err := recordCompletion(ctx, tx, *c, on, r.Document); err != nil {
			return err
		}
		if err := giveLimits(ctx, tx, *c, funding.Zero); err != nil {
			return err
		}
		return s.seatFreed(ctx, tx, *c)
	})
}
