package enrollment_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/funding"
	"github.com/edufund/edufund/storage"
	"github.com/edufund/edufund/storage/storagetest"
)

// TestBadInputWritesNothing sends malformed and ill-placed requests to the
// services: each gets a typed error and leaves every table as it was.
func TestBadInputWritesNothing(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		r := storagetest.NewRegion(t, db, storagetest.RegionOptions{})
		cert := r.Child(1)
		c, err := r.Service.Submit(ctx, r.Key(), enrollment.SubmitRequest{CertificateID: cert.ID, GroupID: r.Group.ID, By: enrollment.AsSystem("test")})
		require.NoError(t, err)
		own := enrollment.ContractRequest{ContractID: c.ID, By: enrollment.AsSystem("holder")}
		issue := func(i int, edit func(*certificate.Holder)) func() error {
			return func() error {
				h := childHolder(i)
				edit(&h)
				_, err := r.Service.Issue(ctx, r.Key(), enrollment.IssueRequest{Holder: h, Category: "city", By: enrollment.AsSystem("test")})
				return err
			}
		}

		cases := []struct {
			name string
			call func() error
			want func(error) bool
		}{
			{"unknown certificate", func() error {
				_, err := r.Service.Submit(ctx, r.Key(), enrollment.SubmitRequest{CertificateID: uuid.New(), GroupID: r.Group.ID, By: enrollment.AsSystem("test")})
				return err
			}, is(enrollment.ErrNotFound)},
			{"unknown group", func() error {
				_, err := r.Service.Submit(ctx, r.Key(), enrollment.SubmitRequest{CertificateID: cert.ID, GroupID: uuid.New(), By: enrollment.AsSystem("test")})
				return err
			}, is(enrollment.ErrNotFound)},
			{"unknown contract", func() error {
				_, err := r.Service.Confirm(ctx, r.Key(), enrollment.ContractRequest{ContractID: uuid.New(), By: enrollment.AsSystem("test")})
				return err
			}, is(enrollment.ErrNotFound)},
			{"accept before the offer", func() error {
				_, err := r.Service.Accept(ctx, r.Key(), own)
				return err
			}, is(enrollment.ErrForbiddenTransition)},
			{"terminate an application", func() error {
				_, err := r.Service.Terminate(ctx, r.Key(), own)
				return err
			}, is(enrollment.ErrForbiddenTransition)},
			{"foreign provider confirms", func() error {
				_, err := r.Service.Confirm(ctx, r.Key(), enrollment.ContractRequest{ContractID: c.ID, By: enrollment.AsProvider(uuid.New())})
				return err
			}, is(enrollment.ErrForbidden)},
			{"delivery over 100%", func() error {
				_, err := r.Service.ReportDelivery(ctx, r.Key(), enrollment.DeliveryReport{ContractRequest: own, Month: funding.Month{Year: 2025, Month: 9}, Percent: 120})
				return err
			}, is(funding.ErrInvalid)},
			{"negative budget", func() error {
				_, err := r.Service.SetBudget(ctx, r.Key(), enrollment.BudgetRequest{Municipality: storagetest.Municipality, Period: storagetest.Autumn, Limit: money("-1.00"), By: enrollment.AsSystem("test")})
				return err
			}, is(funding.ErrInvalid)},
			{"budget below what is used", func() error {
				_, err := r.Service.SetBudget(ctx, r.Key(), enrollment.BudgetRequest{Municipality: storagetest.Municipality, Period: storagetest.Autumn, Limit: money("100.00"), By: enrollment.AsSystem("test")})
				return err
			}, is(enrollment.ErrLimitBelowUse)},
			{"no idempotency key", func() error {
				_, err := r.Service.Withdraw(ctx, "", own)
				return err
			}, is(funding.ErrInvalid)},
			{"unknown category", func() error {
				_, err := r.Service.Issue(ctx, r.Key(), enrollment.IssueRequest{Holder: childHolder(99), Category: "nope", Funded: true, By: enrollment.AsSystem("test")})
				return err
			}, is(funding.ErrInvalid)},
			{"child too young", issue(98, func(h *certificate.Holder) { h.BirthDate = funding.MustDate(2022, 1, 1) }), is(enrollment.ErrIneligible)},
			{"second certificate for the same child", func() error {
				_, err := r.Service.Issue(ctx, r.Key(), enrollment.IssueRequest{Holder: cert.Holder, Category: "city", By: enrollment.AsSystem("test")})
				return err
			}, func(err error) bool {
				return errors.Is(err, enrollment.ErrIneligible) || errors.Is(err, enrollment.ErrExists)
			}},
			{"NUL in a person id", issue(97, func(h *certificate.Holder) { h.PersonID += "\x00" }), field("holder.person_id")},
			{"escape sequence in a name", issue(96, func(h *certificate.Holder) { h.FullName = "a\u0007\u001b[31mb" }), field("holder.full_name")},
			{"SNILS with a wrong check number", issue(95, func(h *certificate.Holder) { h.PersonID = "112-233-445 96" }), field("holder.person_id")},
			{"NUL in an adult's person id", func() error {
				h := childHolder(94)
				h.PersonID += "\x00"
				_, err := r.Service.ApplyAdult(ctx, r.Key(), enrollment.AdultApplication{Holder: h, By: enrollment.AsSystem("test")})
				return err
			}, field("holder.person_id")},
			{"NUL in a valid reason", func() error {
				_, err := r.Service.RecordDocuments(ctx, r.Key(), enrollment.DocumentsRequest{CertificateID: cert.ID, ValidReason: "болезнь\x00", By: enrollment.AsSystem("test")})
				return err
			}, field("valid_reason")},
			{"NUL in a category code", func() error {
				_, err := r.Service.SaveCategory(ctx, r.Key(), certificate.Category{Code: "city\x00", Nominal: money("1.00")}, enrollment.AsSystem("test"))
				return err
			}, field("category.code")},
			{"NUL in a program name", func() error {
				p := r.Program
				p.Name += "\x00"
				_, err := r.Service.SaveProgram(ctx, r.Key(), p, enrollment.AsSystem("test"))
				return err
			}, field("name")},
			{"unknown status action", func() error {
				_, err := r.Service.ChangeStatus(ctx, r.Key(), cert.ID, "explode", enrollment.AsSystem("x"))
				return err
			}, is(funding.ErrInvalid)},
			{"activate an active certificate", func() error {
				_, err := r.Service.ChangeStatus(ctx, r.Key(), cert.ID, enrollment.ActivateCertificate, enrollment.AsSystem("x"))
				return err
			}, is(certificate.ErrForbiddenTransition)},
		}
		for _, tc := range cases {
			before := storagetest.RowCounts(t, db)
			err := tc.call()
			require.Error(t, err, tc.name)
			require.True(t, tc.want(err), "%s: unexpected error %v", tc.name, err)
			require.Equal(t, before, storagetest.RowCounts(t, db), "%s wrote something", tc.name)
		}
		storagetest.CheckInvariants(t, db)
	})
}

func is(target error) func(error) bool { return func(err error) bool { return errors.Is(err, target) } }

// field matches a *funding.ValidationError naming the field.
func field(name string) func(error) bool {
	return func(err error) bool {
		var ve *funding.ValidationError
		return errors.As(err, &ve) && ve.Field == name
	}
}

func childHolder(i int) certificate.Holder {
	return certificate.Holder{
		PersonID: fmt.Sprintf("child-%d-%s", i, uuid.NewString()[:8]), FullName: "Сидоров Иван",
		BirthDate: funding.MustDate(2015, 3, 10), Sex: certificate.Male, Citizenship: "RU",
		Region: "reg-1", Municipality: storagetest.Municipality, Registration: certificate.Permanent,
	}
}
