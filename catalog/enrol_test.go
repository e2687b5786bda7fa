package catalog_test

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/edufund/edufund/catalog"
	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/funding"
)

func childCert() certificate.Certificate {
	return certificate.Certificate{
		Number: "1234567890", Scheme: certificate.Supplementary,
		Holder:       certificate.Holder{BirthDate: d(2018, time.March, 10)},
		Municipality: "city", Kind: certificate.Funded, Status: certificate.Active,
		ValidUntil: d(2036, time.March, 9),
	}
}

func TestCanEnrol(t *testing.T) {
	on := d(2025, time.August, 20)
	type fixture struct {
		c    certificate.Certificate
		prov catalog.Provider
		prog catalog.Program
		g    catalog.Group
		on   funding.Date
	}
	tests := []struct {
		name   string
		edit   func(*fixture)
		err    error
		code   string
		detail string
	}{
		{"all good", func(*fixture) {}, nil, "", ""},
		{"issued certificate may apply", func(f *fixture) { f.c.Status = certificate.Issued }, nil, "", ""},
		{"accounting certificate in general registry", func(f *fixture) {
			f.c.Kind = certificate.Accounting
			f.prog.Registry = catalog.General
		}, nil, "", ""},
		{"accounting certificate in significant registry", func(f *fixture) {
			f.c.Kind = certificate.Accounting
			f.prog.Registry = catalog.Significant
		}, nil, "", ""},
		{"accounting certificate in pre-professional registry", func(f *fixture) {
			f.c.Kind = certificate.Accounting
			f.prog.Registry = catalog.PreProfessional
		}, nil, "", ""},
		{"funded certificate in general registry", func(f *fixture) { f.prog.Registry = catalog.General }, nil, "", ""},
		{"enrol on the group's last day", func(f *fixture) {
			f.on = f.g.End
			f.prov.Agreements = append(f.prov.Agreements, catalog.Agreement{Municipality: "city", Period: funding.CalendarYear(2026)})
		}, nil, "", ""},
		{"age exactly the minimum", func(f *fixture) { f.c.Holder.BirthDate = d(2020, time.September, 1) }, nil, "", ""},
		{"age exactly the maximum", func(f *fixture) { f.c.Holder.BirthDate = d(2012, time.September, 2) }, nil, "", ""},

		{"cancelled", func(f *fixture) { f.c.Status = certificate.Cancelled }, catalog.ErrCertificateNotUsable, "certificate_not_usable", "certificate 1234567890 is cancelled"},
		{"expired", func(f *fixture) { f.c.Status = certificate.Expired }, catalog.ErrCertificateNotUsable, "certificate_not_usable", "certificate 1234567890 is expired"},
		{"suspended", func(f *fixture) { f.c.Status = certificate.Suspended }, catalog.ErrCertificateNotUsable, "certificate_not_usable", "certificate 1234567890 is suspended"},
		{"past valid until", func(f *fixture) { f.c.ValidUntil = f.on.AddDays(-1) }, catalog.ErrCertificateNotUsable, "certificate_not_usable", "certificate 1234567890 is valid until 2025-08-19, not on 2025-08-20"},
		{"scheme mismatch", func(f *fixture) { f.prog.Scheme = certificate.DigitalSkills }, catalog.ErrSchemeMismatch, "scheme_mismatch", "program scheme digital_skills, certificate scheme supplementary"},
		{"too young", func(f *fixture) { f.c.Holder.BirthDate = d(2020, time.September, 2) }, catalog.ErrAgeOutOfRange, "age_out_of_range", "age 4 at 2025-09-01 is below the program's minimum 5"},
		{"too old", func(f *fixture) { f.c.Holder.BirthDate = d(2012, time.September, 1) }, catalog.ErrAgeOutOfRange, "age_out_of_range", "age 13 at 2025-09-01 is above the program's maximum 12"},
		{"accounting certificate in certified registry", func(f *fixture) { f.c.Kind = certificate.Accounting }, catalog.ErrRegistryNotAllowed, "registry_not_allowed", "certificate of kind accounting cannot enrol in the certified registry"},
		{"accounting certificate in paid registry", func(f *fixture) {
			f.c.Kind = certificate.Accounting
			f.prog.Registry = catalog.Paid
		}, catalog.ErrRegistryNotAllowed, "registry_not_allowed", "certificate of kind accounting cannot enrol in the paid registry"},
		{"not certified", func(f *fixture) { f.prog.Certified = false }, catalog.ErrNotCertified, "not_certified", `program "Робототехника" is in the certified registry but not certified`},
		{"enrolment closed", func(f *fixture) { f.prog.EnrolmentOpen = false }, catalog.ErrEnrolmentClosed, "enrolment_closed", `enrolment on program "Робототехника" is closed`},
		{"group finished", func(f *fixture) { f.on = f.g.End.AddDays(1) }, catalog.ErrGroupFinished, "group_finished", `group "Группа 1" ended on 2026-05-31, before 2026-06-01`},
		{"no agreement with the municipality", func(f *fixture) { f.c.Municipality = "village" }, catalog.ErrNoAgreement, "no_agreement", `provider "Дом творчества" has no agreement with municipality "village" covering 2025-08-20`},
		{"agreement expired", func(f *fixture) { f.on = d(2026, time.January, 10) }, catalog.ErrNoAgreement, "no_agreement", `provider "Дом творчества" has no agreement with municipality "city" covering 2026-01-10`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := fixture{c: childCert(), prov: validProvider(), prog: validProgram(), g: validGroup(), on: on}
			tt.edit(&f)
			err := catalog.CanEnrol(f.c, f.prov, f.prog, f.g, f.on)
			if tt.err == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, tt.err)
			var re *funding.RuleError
			require.True(t, errors.As(err, &re))
			require.Equal(t, tt.code, re.Code)
			require.Equal(t, tt.detail, re.Detail)
		})
	}
}

func TestCanEnrolAdult(t *testing.T) {
	c := certificate.Certificate{
		Scheme: certificate.DigitalSkills, Holder: certificate.Holder{BirthDate: d(1980, time.May, 5)},
		Kind: certificate.Funded, Status: certificate.Active,
	}
	prog := validAdultProgram()
	g := validGroup()
	// No agreement needed: the federal operator pays.
	require.NoError(t, catalog.CanEnrol(c, catalog.Provider{Name: "Online school"}, prog, g, d(2025, time.August, 1)))
	prog.MinAge = 50
	require.ErrorIs(t, catalog.CanEnrol(c, catalog.Provider{}, prog, g, d(2025, time.August, 1)), catalog.ErrAgeOutOfRange)
}
