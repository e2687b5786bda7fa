package enrollment_test

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/edufund/edufund/catalog"
	"github.com/edufund/edufund/certificate"
	"github.com/edufund/edufund/enrollment"
	"github.com/edufund/edufund/funding"
)

var d = funding.MustDate
var money = funding.MustMoney

// passing is a snapshot every check lets through.
func passing() enrollment.Snapshot {
	return enrollment.Snapshot{
		On: d(2025, time.August, 20),
		Certificate: certificate.Certificate{
			Number: "1234567890", Scheme: certificate.Supplementary, Municipality: "city",
			Kind: certificate.Funded, Status: certificate.Active,
		},
		Registry:        catalog.Certified,
		Cert:            money("4021.98"),
		Balance:         money("30000.00"),
		Capacity:        15,
		LiveInGroup:     3,
		ProgramLimit:    100,
		LiveInProgram:   10,
		ProviderLimit:   1000,
		LiveAtProvider:  500,
		DirectionLimit:  50,
		LiveInDirection: 49,
		GroupEnd:        d(2026, time.May, 31),
		EnrolmentOpen:   true,
		Agreement:       true,
		BudgetLimit:     money("1000000.00"),
		BudgetUsed:      money("995978.02"),
		RegistryLimit:   map[catalog.Registry]int{catalog.Significant: 1, catalog.General: 3, catalog.PreProfessional: 1},
		RegistryHeld:    map[catalog.Registry]int{catalog.Significant: 1, catalog.General: 2},
	}
}

func TestCheckSubmission(t *testing.T) {
	tests := []struct {
		name string
		edit func(*enrollment.Snapshot)
		err  error
		code string
	}{
		{"all pass", func(*enrollment.Snapshot) {}, nil, ""},
		{"issued certificate may apply", func(s *enrollment.Snapshot) { s.Certificate.Status = certificate.Issued }, nil, ""},
		{"balance exactly covers", func(s *enrollment.Snapshot) { s.Balance = s.Cert }, nil, ""},
		{"co-payment accepted", func(s *enrollment.Snapshot) { s.CoPay, s.CoPayAccepted = money("100.00"), true }, nil, ""},
		{"accounting certificate in a budget-funded registry", func(s *enrollment.Snapshot) {
			s.Certificate.Kind, s.Registry, s.Cert, s.Balance = certificate.Accounting, catalog.General, funding.Zero, funding.Zero
			s.BudgetLimit = funding.Zero
		}, nil, ""},
		{"adult certificate has no kind", func(s *enrollment.Snapshot) {
			s.Certificate.Scheme, s.Certificate.Kind, s.Registry = certificate.DigitalSkills, "", ""
		}, nil, ""},
		{"no limits set", func(s *enrollment.Snapshot) { s.ProgramLimit, s.ProviderLimit, s.DirectionLimit = 0, 0, 0 }, nil, ""},
		{"budget exactly reached", func(s *enrollment.Snapshot) { s.BudgetUsed = money("995978.02") }, nil, ""},
		{"registry without a quota", func(s *enrollment.Snapshot) { s.Registry = catalog.General; s.RegistryLimit = nil }, nil, ""},
		{"general below its quota", func(s *enrollment.Snapshot) { s.Registry = catalog.General }, nil, ""},

		{"suspended", func(s *enrollment.Snapshot) { s.Certificate.Status = certificate.Suspended }, enrollment.ErrCertificateSuspended, "certificate_suspended"},
		{"cancelled", func(s *enrollment.Snapshot) { s.Certificate.Status = certificate.Cancelled }, enrollment.ErrCertificateUnusable, "certificate_not_usable"},
		{"expired", func(s *enrollment.Snapshot) { s.Certificate.Status = certificate.Expired }, enrollment.ErrCertificateUnusable, "certificate_not_usable"},
		{"accounting certificate in certified registry", func(s *enrollment.Snapshot) { s.Certificate.Kind = certificate.Accounting }, enrollment.ErrCertificateNotFunded, "certificate_not_funded"},
		{"balance short by a kopeck", func(s *enrollment.Snapshot) { s.Balance = money("4021.97") }, enrollment.ErrInsufficientBalance, "insufficient_balance"},
		{"co-payment not accepted", func(s *enrollment.Snapshot) { s.CoPay = money("0.01") }, enrollment.ErrInsufficientBalance, "insufficient_balance"},
		{"group full", func(s *enrollment.Snapshot) { s.LiveInGroup = 15 }, enrollment.ErrGroupFull, "group_full"},
		{"group without seats", func(s *enrollment.Snapshot) { s.Capacity, s.LiveInGroup = 0, 0 }, enrollment.ErrGroupFull, "group_full"},
		{"program limit", func(s *enrollment.Snapshot) { s.LiveInProgram = 100 }, enrollment.ErrProgramLimit, "program_limit_reached"},
		{"provider limit", func(s *enrollment.Snapshot) { s.LiveAtProvider = 1000 }, enrollment.ErrProviderLimit, "provider_limit_reached"},
		{"direction limit", func(s *enrollment.Snapshot) { s.LiveInDirection = 50 }, enrollment.ErrDirectionLimit, "direction_limit_reached"},
		{"same module", func(s *enrollment.Snapshot) { s.SameModuleLive = true }, enrollment.ErrDuplicateModule, "duplicate_module"},
		{"group finished", func(s *enrollment.Snapshot) { s.On = d(2026, time.June, 1) }, catalog.ErrGroupFinished, "group_finished"},
		{"group end not loaded", func(s *enrollment.Snapshot) { s.GroupEnd = funding.Date{} }, catalog.ErrGroupFinished, "group_finished"},
		{"enrolment closed", func(s *enrollment.Snapshot) { s.EnrolmentOpen = false }, catalog.ErrEnrolmentClosed, "enrolment_closed"},
		{"no agreement", func(s *enrollment.Snapshot) { s.Agreement = false }, catalog.ErrNoAgreement, "no_agreement"},
		{"budget over by a kopeck", func(s *enrollment.Snapshot) { s.BudgetUsed = money("995978.03") }, enrollment.ErrBudgetLimit, "budget_limit_reached"},
		{"significant quota held", func(s *enrollment.Snapshot) { s.Registry = catalog.Significant }, enrollment.ErrRegistryQuota, "registry_quota_reached"},
		{"pre-professional quota from an empty count", func(s *enrollment.Snapshot) {
			s.Registry = catalog.PreProfessional
			s.RegistryLimit[catalog.PreProfessional] = 0
		}, enrollment.ErrRegistryQuota, "registry_quota_reached"},

		// Order: the first failing rule wins.
		{"suspended and full: rule 1 first", func(s *enrollment.Snapshot) {
			s.Certificate.Status, s.LiveInGroup = certificate.Suspended, 15
		}, enrollment.ErrCertificateSuspended, "certificate_suspended"},
		{"full and over program limit: rule 2 first", func(s *enrollment.Snapshot) {
			s.LiveInGroup, s.LiveInProgram = 15, 100
		}, enrollment.ErrGroupFull, "group_full"},
		{"program and provider limit: program first", func(s *enrollment.Snapshot) {
			s.LiveInProgram, s.LiveAtProvider = 100, 1000
		}, enrollment.ErrProgramLimit, "program_limit_reached"},
		{"provider and direction limit: rule 3 first", func(s *enrollment.Snapshot) {
			s.LiveAtProvider, s.LiveInDirection = 1000, 50
		}, enrollment.ErrProviderLimit, "provider_limit_reached"},
		{"direction and duplicate: rule 4 first", func(s *enrollment.Snapshot) {
			s.LiveInDirection, s.SameModuleLive = 50, true
		}, enrollment.ErrDirectionLimit, "direction_limit_reached"},
		{"duplicate and finished: rule 5 first", func(s *enrollment.Snapshot) {
			s.SameModuleLive, s.EnrolmentOpen = true, false
		}, enrollment.ErrDuplicateModule, "duplicate_module"},
		{"no agreement and budget: rule 6 first", func(s *enrollment.Snapshot) {
			s.Agreement, s.BudgetUsed = false, s.BudgetLimit
		}, catalog.ErrNoAgreement, "no_agreement"},
		{"budget and quota: rule 7 first", func(s *enrollment.Snapshot) {
			s.Registry, s.BudgetUsed = catalog.Significant, s.BudgetLimit
			s.Certificate.Kind = certificate.Funded
		}, enrollment.ErrBudgetLimit, "budget_limit_reached"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := passing()
			tt.edit(&s)
			err := enrollment.CheckSubmission(s)
			if tt.err == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, tt.err)
			var re *funding.RuleError
			require.True(t, errors.As(err, &re))
			require.Equal(t, tt.code, re.Code)
			require.NotEmpty(t, re.Detail)
		})
	}
}

// rules.md: capacity 15 with 14 live contracts and one terminating → accept;
// with 15 live → refuse.
func TestCapacityExample(t *testing.T) {
	statuses := make([]enrollment.Status, 0, 15)
	for range 14 {
		statuses = append(statuses, enrollment.Active)
	}
	statuses = append(statuses, enrollment.Terminating, enrollment.Closed, enrollment.Refused, enrollment.Withdrawn)

	s := passing()
	s.Capacity = 15
	s.LiveInGroup = enrollment.CountLive(statuses...)
	require.Equal(t, 14, s.LiveInGroup)
	require.NoError(t, enrollment.CheckSubmission(s))

	statuses[14] = enrollment.Requested // the 15th is live instead of terminating
	s.LiveInGroup = enrollment.CountLive(statuses...)
	require.Equal(t, 15, s.LiveInGroup)
	require.ErrorIs(t, enrollment.CheckSubmission(s), enrollment.ErrGroupFull)
}
