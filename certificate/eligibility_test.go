package certificate

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/edufund/edufund/funding"
)

var d = funding.MustDate

func TestAge(t *testing.T) {
	tests := []struct {
		birth, on funding.Date
		want      int
	}{
		{d(2020, 9, 1), d(2025, 8, 31), 4},
		{d(2020, 9, 1), d(2025, 9, 1), 5},
		{d(2007, 9, 2), d(2025, 9, 1), 17},
		{d(2007, 9, 1), d(2025, 9, 1), 18},
		{d(2008, 2, 29), d(2026, 2, 27), 17},
		{d(2008, 2, 29), d(2026, 2, 28), 18},
		{d(2025, 9, 2), d(2025, 9, 1), 0},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, Age(tt.birth, tt.on), "%s on %s", tt.birth, tt.on)
	}
}

func TestPensionAgeTable(t *testing.T) {
	tests := []struct {
		sex   Sex
		birth funding.Date
		want  funding.Date
	}{
		// rules.md example: a man born 1960-03-10 reaches it on 2021-09-10.
		{Male, d(1960, 3, 10), d(2021, 9, 10)},
		{Male, d(1950, 6, 15), d(2010, 6, 15)},
		{Male, d(1958, 12, 31), d(2018, 12, 31)},
		{Male, d(1959, 1, 31), d(2019, 7, 31)},
		{Male, d(1959, 8, 31), d(2020, 2, 29)}, // day clamped to the month
		{Male, d(1961, 5, 1), d(2024, 5, 1)},
		{Male, d(1962, 5, 1), d(2026, 5, 1)},
		{Male, d(1963, 5, 1), d(2028, 5, 1)},
		{Male, d(1990, 5, 1), d(2055, 5, 1)},
		{Female, d(1963, 5, 1), d(2018, 5, 1)},
		{Female, d(1964, 5, 1), d(2019, 11, 1)},
		{Female, d(1965, 5, 1), d(2021, 11, 1)},
		{Female, d(1966, 5, 1), d(2024, 5, 1)},
		{Female, d(1967, 5, 1), d(2026, 5, 1)},
		{Female, d(1968, 5, 1), d(2028, 5, 1)},
		{Female, d(1990, 5, 1), d(2050, 5, 1)},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, PensionAge(tt.birth, tt.sex), "%s born %s", tt.sex, tt.birth)
	}
}

func testAdult() Holder {
	return Holder{
		PersonID:     "p1",
		FullName:     "Сидоров Иван",
		BirthDate:    d(1960, 3, 10),
		Sex:          Male,
		Citizenship:  "RU",
		Education:    EducationHigher,
		Region:       "77",
		Registration: Permanent,
	}
}

var adultPolicy = AdultPolicy{Regions: map[string]bool{"77": true, "50": true}}

func TestAdultPensionExample(t *testing.T) {
	h := testAdult()
	got := adultPolicy.Decide(h, d(2020, 10, 1), nil)
	require.True(t, got.Eligible, got.Reasons)
	require.Empty(t, got.Reasons)

	last := adultPolicy.Decide(h, d(2021, 9, 9), nil)
	require.True(t, last.Eligible, "the day before the pension age is still eligible")

	got = adultPolicy.Decide(h, d(2021, 9, 10), nil)
	require.False(t, got.Eligible)
	require.Equal(t, []Reason{{RulePensionAgeReached,
		"the general pension age 61 years 6 months (male, born 1960) is reached on 2021-09-10, on or before 2021-09-10"}}, got.Reasons)
}

func TestAdultDecide(t *testing.T) {
	on := d(2020, 10, 1)
	thisYear := Certificate{Number: "0000000007", Scheme: DigitalSkills, Holder: Holder{PersonID: "p1"}, Status: Cancelled, IssuedOn: d(2020, 2, 1)}
	lastYear := Certificate{Number: "0000000006", Scheme: DigitalSkills, Holder: Holder{PersonID: "p1"}, Status: Expired, IssuedOn: d(2019, 12, 1)}
	otherPerson := Certificate{Number: "0000000005", Scheme: DigitalSkills, Holder: Holder{PersonID: "p2"}, Status: Active, IssuedOn: d(2020, 2, 1)}
	childs := Certificate{Number: "0000000004", Scheme: Supplementary, Holder: Holder{PersonID: "p1"}, Status: Active, IssuedOn: d(2020, 2, 1)}
	tests := []struct {
		name     string
		policy   AdultPolicy
		mut      func(*Holder)
		existing []Certificate
		rules    []string
	}{
		{"eligible", adultPolicy, nil, nil, nil},
		{"studying vocational", adultPolicy, func(h *Holder) { h.Education = EducationStudyingVocational }, nil, nil},
		{"temporary registration", adultPolicy, func(h *Holder) { h.Registration = Temporary }, nil, nil},
		{"last year's, another person's and a child's certificate don't count", adultPolicy, nil, []Certificate{lastYear, otherPerson, childs}, nil},
		{"this year's counts even cancelled", adultPolicy, nil, []Certificate{lastYear, thisYear}, []string{RuleAlreadyIssuedThisYear}},
		{"foreigner", adultPolicy, func(h *Holder) { h.Citizenship = "BY" }, nil, []string{RuleCitizenship}},
		{"17", adultPolicy, func(h *Holder) { h.BirthDate = d(2003, 10, 2) }, nil, []string{RuleAgeBelowMinimum}},
		{"18 today", adultPolicy, func(h *Holder) { h.BirthDate = d(2002, 10, 1) }, nil, nil},
		{"16 in the pilot", AdultPolicy{MinAge: 16, Regions: adultPolicy.Regions}, func(h *Holder) { h.BirthDate = d(2004, 10, 1) }, nil, nil},
		{"woman past pension age", adultPolicy, func(h *Holder) { h.Sex = Female; h.BirthDate = d(1964, 4, 1) }, nil, []string{RulePensionAgeReached}},
		{"woman before pension age", adultPolicy, func(h *Holder) { h.Sex = Female; h.BirthDate = d(1965, 4, 2) }, nil, nil},
		{"general education", adultPolicy, func(h *Holder) { h.Education = EducationGeneral }, nil, []string{RuleEducation}},
		{"region out", adultPolicy, func(h *Holder) { h.Region = "01" }, nil, []string{RuleRegionNotIn}},
		{"no registration", adultPolicy, func(h *Holder) { h.Registration = "" }, nil, []string{RuleRegistration}},
		{"nothing known", adultPolicy, func(h *Holder) { *h = Holder{} }, nil,
			[]string{RulePersonIDMissing, RuleCitizenship, RuleBirthDateMissing, RuleSexMissing, RuleEducation, RuleRegionNotIn, RuleRegistration}},
		{"nil regions means none", AdultPolicy{}, nil, nil, []string{RuleRegionNotIn}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := testAdult()
			h.BirthDate = d(1980, 1, 1)
			if tt.mut != nil {
				tt.mut(&h)
			}
			got := tt.policy.Decide(h, on, tt.existing)
			require.Equal(t, len(tt.rules) == 0, got.Eligible)
			require.Equal(t, tt.rules, rulesOf(got))
			for _, r := range got.Reasons {
				require.NotEmpty(t, r.Message)
				require.True(t, got.Failed(r.Rule))
			}
		})
	}
}

func rulesOf(dec Decision) []string {
	var out []string
	for _, r := range dec.Reasons {
		out = append(out, r.Rule)
	}
	return out
}

var childPolicy = ChildPolicy{
	MinAgeByMunicipality: map[string]int{"m7": 7},
	Municipalities:       map[string]bool{"m1": true, "m7": true},
}

func TestChildDecide(t *testing.T) {
	on := d(2025, 9, 1)
	mine := Certificate{Number: "1111111111", Scheme: Supplementary, Holder: Holder{PersonID: "c1"}, Status: Suspended, IssuedOn: d(2022, 1, 10)}
	cancelled := mine
	cancelled.Status = Cancelled
	sibling := mine
	sibling.Holder.PersonID = "c2"
	tests := []struct {
		name     string
		policy   ChildPolicy
		birth    funding.Date
		muni     string
		existing []Certificate
		rules    []string
		messages []string
	}{
		{"5 today", childPolicy, d(2020, 9, 1), "m1", nil, nil, nil},
		{"4", childPolicy, d(2020, 9, 2), "m1", nil, []string{RuleAgeBelowMinimum},
			[]string{`age 4 is below the minimum 5 for municipality m1 on 2025-09-01`}},
		{"6 where the minimum is 7", childPolicy, d(2019, 1, 1), "m7", nil, []string{RuleAgeBelowMinimum},
			[]string{`age 6 is below the minimum 7 for municipality m7 on 2025-09-01`}},
		{"policy minimum 3", ChildPolicy{MinAge: 3, Municipalities: childPolicy.Municipalities}, d(2022, 1, 1), "m1", nil, nil, nil},
		{"17", childPolicy, d(2007, 9, 2), "m1", nil, nil, nil},
		{"18 today", childPolicy, d(2007, 9, 1), "m1", nil, []string{RuleAgeLimitReached},
			[]string{`age 18 is not under 18 on 2025-09-01`}},
		{"not participating", childPolicy, d(2015, 1, 1), "m9", nil, []string{RuleMunicipalityNotIn},
			[]string{`municipality of residence "m9" does not take part in the scheme`}},
		{"already has one", childPolicy, d(2015, 1, 1), "m1", []Certificate{sibling, mine}, []string{RuleAlreadyIssued},
			[]string{`the child already holds a certificate of this scheme (suspended)`}},
		{"cancelled and sibling's don't count", childPolicy, d(2015, 1, 1), "m1", []Certificate{cancelled, sibling}, nil, nil},
		{"every failure listed", childPolicy, d(2022, 1, 1), "m9", []Certificate{mine}, []string{RuleAgeBelowMinimum, RuleMunicipalityNotIn, RuleAlreadyIssued}, nil},
		{"no birth date", childPolicy, funding.Date{}, "m1", nil, []string{RuleBirthDateMissing}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := Holder{PersonID: "c1", FullName: "Иванов Иван", BirthDate: tt.birth, Municipality: tt.muni}
			got := tt.policy.Decide(h, "", on, tt.existing)
			require.Equal(t, len(tt.rules) == 0, got.Eligible)
			require.Equal(t, tt.rules, rulesOf(got))
			for i, m := range tt.messages {
				require.Equal(t, m, got.Reasons[i].Message)
			}
		})
	}
}

func TestChildDecidePersonIDMissing(t *testing.T) {
	got := childPolicy.Decide(Holder{BirthDate: d(2015, 1, 1), Municipality: "m1"}, "", d(2025, 9, 1), nil)
	require.Equal(t, []string{RulePersonIDMissing}, rulesOf(got))
}

func TestDocumentsDeadline(t *testing.T) {
	c := Certificate{Scheme: DigitalSkills, Status: Active, IssuedOn: d(2020, 10, 1)}
	p := AdultPolicy{}
	require.Equal(t, d(2020, 10, 31), p.DocumentsDue(c))
	require.Equal(t, d(2020, 10, 15), AdultPolicy{DocumentsDeadline: 14}.DocumentsDue(c))

	tests := []struct {
		name               string
		cert               Certificate
		on                 funding.Date
		uploaded, validWhy bool
		want               bool
	}{
		{"on the last day", c, d(2020, 10, 31), false, false, false},
		{"day after", c, d(2020, 11, 1), false, false, true},
		{"uploaded", c, d(2020, 11, 1), true, false, false},
		{"valid reason", c, d(2020, 11, 1), false, true, false},
		{"already cancelled", Certificate{Scheme: DigitalSkills, Status: Cancelled, IssuedOn: c.IssuedOn}, d(2020, 11, 1), false, false, false},
		{"child's certificate", Certificate{Scheme: Supplementary, Status: Active, IssuedOn: c.IssuedOn}, d(2020, 11, 1), false, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, p.MustCancel(tt.cert, tt.on, tt.uploaded, tt.validWhy))
		})
	}
}

func ExampleAdultPolicy_Decide() {
	policy := AdultPolicy{Regions: map[string]bool{"77": true}}
	applicant := Holder{
		PersonID:     "123-456-789 00",
		FullName:     "Сидоров Иван Петрович",
		BirthDate:    funding.MustDate(1960, 3, 10),
		Sex:          Male,
		Citizenship:  "RU",
		Education:    EducationGeneral,
		Region:       "50",
		Registration: Permanent,
	}
	decision := policy.Decide(applicant, funding.MustDate(2021, 9, 10), nil)
	fmt.Println("eligible:", decision.Eligible)
	for _, r := range decision.Reasons {
		fmt.Printf("%s: %s\n", r.Rule, r.Message)
	}
	// Output:
	// eligible: false
	// pension_age_reached: the general pension age 61 years 6 months (male, born 1960) is reached on 2021-09-10, on or before 2021-09-10
	// education_not_eligible: education "general" is not secondary vocational or higher, completed or studying
	// region_not_participating: region "50" does not take part in the scheme
}

func BenchmarkAdultDecide(b *testing.B) {
	h := testAdult()
	existing := []Certificate{{Scheme: DigitalSkills, Holder: Holder{PersonID: "p1"}, IssuedOn: d(2019, 3, 1)}}
	on := d(2020, 10, 1)
	for b.Loop() {
		if !adultPolicy.Decide(h, on, existing).Eligible {
			b.Fatal("must be eligible")
		}
	}
}

func BenchmarkAdultDecideIneligible(b *testing.B) {
	h := testAdult()
	h.Education = EducationGeneral
	on := d(2021, 9, 10)
	for b.Loop() {
		if adultPolicy.Decide(h, on, nil).Eligible {
			b.Fatal("must not be eligible")
		}
	}
}

func BenchmarkChildDecide(b *testing.B) {
	h := Holder{PersonID: "c1", BirthDate: d(2015, 1, 1), Municipality: "m7"}
	existing := []Certificate{{Scheme: Supplementary, Holder: Holder{PersonID: "c1"}, Status: Cancelled}}
	on := d(2025, 9, 1)
	for b.Loop() {
		if !childPolicy.Decide(h, "", on, existing).Eligible {
			b.Fatal("must be eligible")
		}
	}
}

func TestChildFundingMunicipality(t *testing.T) {
	on := d(2025, 9, 1)
	h := Holder{PersonID: "c1", BirthDate: d(2019, 1, 1), Municipality: "m1"} // age 6
	tests := []struct {
		name, municipality string
		rules              []string
		messages           []string
	}{
		{"residence", "", nil, nil},
		{"same as residence", "m1", nil, nil},
		{"funded by m7 where the minimum is 7", "m7", []string{RuleAgeBelowMinimum},
			[]string{"age 6 is below the minimum 7 for municipality m7 on 2025-09-01"}},
		{"funded by a non-participant", "m9", []string{RuleMunicipalityNotIn},
			[]string{`funding municipality "m9" does not take part in the scheme`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := childPolicy.Decide(h, tt.municipality, on, nil)
			require.Equal(t, tt.rules, rulesOf(got))
			for i, msg := range tt.messages {
				require.Equal(t, msg, got.Reasons[i].Message)
			}
		})
	}
}

func TestMustCancelForDocuments(t *testing.T) {
	deadline := d(2020, 10, 31)
	require.False(t, MustCancelForDocuments(deadline, deadline, false, false))
	require.True(t, MustCancelForDocuments(deadline, deadline.AddDays(1), false, false))
	require.False(t, MustCancelForDocuments(deadline, deadline.AddDays(1), true, false))
	require.False(t, MustCancelForDocuments(deadline, deadline.AddDays(1), false, true))
}

func TestDefaults(t *testing.T) {
	cp := DefaultChildPolicy()
	require.Equal(t, 5, cp.MinAgeFor("any"))
	require.Equal(t, []string{RuleMunicipalityNotIn}, rulesOf(cp.Decide(Holder{PersonID: "c", BirthDate: d(2015, 1, 1), Municipality: "m1"}, "", d(2025, 9, 1), nil)))
	cp.Municipalities["m1"] = true
	require.True(t, cp.Decide(Holder{PersonID: "c", BirthDate: d(2015, 1, 1), Municipality: "m1"}, "", d(2025, 9, 1), nil).Eligible)

	ap := DefaultAdultPolicy()
	ap.Regions["77"] = true
	h := testAdult()
	require.True(t, ap.Decide(h, d(2020, 10, 1), nil).Eligible)
	h.BirthDate = d(2003, 10, 2)
	require.Equal(t, []string{RuleAgeBelowMinimum}, rulesOf(ap.Decide(h, d(2020, 10, 1), nil)))
	require.Equal(t, d(2020, 10, 31), ap.DocumentsDue(Certificate{IssuedOn: d(2020, 10, 1)}))

	require.Equal(t, Lockout{MaxAttempts: 5, Window: 15 * time.Minute}, DefaultLockout())
}
